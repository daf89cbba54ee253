// Golden-value tests: xgan against numbers PyTorch 1.13 computed offline
// (tests/golden/generate.py wrote tests/golden/data/*.txt; torch is not needed here).
//
// Tolerances, element by element:
//   float64  1e-12 relative. Both sides evaluate the same formulas in double; what remains is
//            the order of rounding (BLAS summation, FMA, libm vs SLEEF tanh): observed <= 4e-14.
//   float32  1e-6 (about 8 float ulps), optimizers only.
//   Optimizer errors are measured against each parameter's largest magnitude so far rather
//   than its current value (see check_optimizer_run): PyTorch fuses p + (-lr) * d into one FMA,
//   xgan rounds twice, and where an update cancels that one rounding is many ulps of the result.
// Losses are checked twice: against PyTorch's float64 values (leaving out the few elements
// where PyTorch itself is inexact: its BCE-with-logits evaluates log(1 + exp(-30)) with log)
// and against the exact values, correctly rounded, that generate.py also wrote.
// A missing or malformed data file throws from golden::data_file::load, failing the test
// with the file's name.
// Set XGAN_GOLDEN_REPORT=1 to print the worst error of every comparison.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iomanip>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>

#include "golden_data.hpp"

namespace {

constexpr double rtol_f64 = 1e-12;
constexpr double rtol_f32 = 1e-6;

double relative_error(double expected, double got) {
    if (expected == got) return 0;  // also both zero
    if (expected == 0 || !std::isfinite(got)) return std::numeric_limits<double>::infinity();
    return std::abs(got - expected) / std::abs(expected);
}

// What to leave out of a comparison, and what to measure errors against.
struct compare_options {
    // Elements for which skip(i) is true are left out (and counted).
    std::function<bool(std::size_t)> skip = [](std::size_t) { return false; };
    // When not empty, the error of element i is |got - expected| / scale[i] instead of
    // relative to |expected[i]|.
    std::span<const double> scale = {};
};

// CHECKs that every element of `got` is within rtol of `expected` (relative, element by
// element). A failure names the comparison, the worst element and up to eight offending
// elements with their expected and obtained values.
template <class T>
void check_close(const std::string& what, std::span<const double> expected, std::span<const T> got, double rtol,
                 const compare_options& options = {}) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    REQUIRE((options.scale.empty() || options.scale.size() == expected.size()));
    double worst = -1;
    std::size_t worst_index = 0, skipped = 0, offenders = 0;
    std::ostringstream listing;
    listing << std::setprecision(17);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (options.skip(i)) {
            ++skipped;
            continue;
        }
        const double g = static_cast<double>(got[i]);
        double e = options.scale.empty() ? relative_error(expected[i], g)
                   : expected[i] == g   ? 0.0
                                        : std::abs(g - expected[i]) / options.scale[i];
        if (std::isnan(e)) e = std::numeric_limits<double>::infinity();
        if (e > worst) {
            worst = e;
            worst_index = i;
        }
        if (e > rtol && offenders++ < 8)
            listing << "\n  [" << i << "] expected " << expected[i] << ", got " << g << " (error " << e << ")";
    }
    worst = std::max(worst, 0.0);  // all elements skipped
    if (std::getenv("XGAN_GOLDEN_REPORT") != nullptr)
        std::printf("%-62s worst error %.3g (index %zu)%s\n", what.c_str(), worst, worst_index,
                    skipped ? (" [" + std::to_string(skipped) + " skipped]").c_str() : "");
    std::ostringstream message;
    message << std::setprecision(17) << what << ": worst " << (options.scale.empty() ? "relative " : "scaled ")
            << "error " << worst << " at index " << worst_index << " (expected " << expected[worst_index] << ", got "
            << static_cast<double>(got[worst_index]) << "), tolerance " << rtol << "; " << offenders << " of "
            << expected.size() - skipped << " elements beyond it" << listing.str();
    INFO(message.str());
    CHECK(worst <= rtol);
}

template <class T>
std::vector<T> to_vector(std::span<const double> values) {
    std::vector<T> out(values.size());
    std::transform(values.begin(), values.end(), out.begin(), [](double v) { return static_cast<T>(v); });
    return out;
}

xgan::matrix<double> to_matrix(const golden::block& b) {
    xgan::matrix<double> m({b.rows, b.cols});
    std::copy(b.values.begin(), b.values.end(), m.begin());
    return m;
}

xgan::matrix<double> to_column(const golden::block& b) {
    xgan::matrix<double> m({b.values.size(), 1});
    std::copy(b.values.begin(), b.values.end(), m.begin());
    return m;
}

template <class T>
std::span<const T> elements(const xgan::matrix<T>& m) {
    return std::span<const T>(m.data(), m.size());
}

// --- Optimizers ---------------------------------------------------------------------------

// Runs `Opt` on the file's params0 / grads in precision T and compares the parameters after
// every step with <config>.<tag>.params.
//
// The error of parameter i after step k is measured against the largest |value| it has had so
// far (params0 included), not against its current value: an update p - lr * d rounds at the
// size of its operands, and when it cancels (p = -0.11168 -> -0.00142 in the SGD data) a
// one-rounding difference is ~100 ulps of the small result. PyTorch computes p + (-lr) * d as
// one fused multiply-add and xgan as two roundings; emulating both in NumPy reproduces
// PyTorch's float32 SGD values bit for bit with FMA and xgan's without, and their largest
// element-wise relative difference is 1.3e-5 (at that cancelling element). Measured against the
// parameter's scale the difference is about 1e-7, so the tolerances stay 1e-6 / 1e-12.
template <class T, class Opt>
void check_optimizer_run(const golden::data_file& data, const std::string& label, const std::string& config,
                         const Opt& settings) {
    const golden::block& params0 = data.get("params0");
    const golden::block& grads = data.get("grads");
    REQUIRE(params0.rows == 1);
    REQUIRE(grads.cols == params0.cols);
    const std::string tag = std::is_same_v<T, float> ? "f32" : "f64";
    const golden::block& expected = data.get(config + "." + tag + ".params", grads.rows, params0.cols);
    const double rtol = std::is_same_v<T, float> ? rtol_f32 : rtol_f64;

    std::vector<T> params = to_vector<T>(params0.all());
    std::vector<double> scale(params.size());
    std::transform(params0.values.begin(), params0.values.end(), scale.begin(), [](double v) { return std::abs(v); });
    typename Opt::template state<T> state(params.size());
    for (std::size_t step = 0; step < grads.rows; ++step) {
        const std::vector<T> g = to_vector<T>(grads.row(step));
        state.step(settings, std::span<T>(params), std::span<const T>(g));
        const std::span<const double> want = expected.row(step);
        for (std::size_t i = 0; i < scale.size(); ++i) scale[i] = std::max(scale[i], std::abs(want[i]));
        check_close(label + " " + config + " " + tag + " step " + std::to_string(step + 1), want,
                    std::span<const T>(params), rtol, compare_options{.scale = scale});
    }
}

// --- Networks -------------------------------------------------------------------------------

template <class Net>
void check_network(const golden::data_file& data, const std::string& name) {
    Net net;
    // Parameters: xgan's named_parameters() must list exactly the state_dict's tensors, in order.
    std::size_t copied = 0;
    for (auto& p : net.named_parameters()) {
        const std::size_t rows = p.shape.size() == 2 ? p.shape[0] : 1;
        const std::size_t cols = p.shape.back();
        const golden::block& b = data.get(name + ".param." + p.name, rows, cols);
        REQUIRE(b.values.size() == p.values.size());
        std::copy(b.values.begin(), b.values.end(), p.values.begin());
        copied += p.values.size();
    }
    REQUIRE(copied == Net::parameter_count);

    const golden::block& x = data.get(name + ".x");
    REQUIRE(x.cols == Net::input_size);
    const std::size_t batch = x.rows;
    const golden::block& y = data.get(name + ".y", batch, Net::output_size);
    const golden::block& dy = data.get(name + ".dy", batch, Net::output_size);
    const golden::block& dx = data.get(name + ".dx", batch, Net::input_size);

    // The allocating forward and the workspace forward.
    const xgan::matrix<double> out = net.forward(to_matrix(x));
    check_close(name + " net: forward(x)", y.all(), elements(out), rtol_f64);

    typename Net::Workspace ws;
    net.forward(ws, to_matrix(x));
    check_close(name + " net: forward(ws, x)", y.all(), elements(ws.output()), rtol_f64);

    ws.gradients[Net::layer_count] = to_matrix(dy);
    std::vector<double> grad(Net::parameter_count, 0.0);
    net.backward(ws, std::span<double>(grad), /*input_gradient=*/true);
    check_close(name + " net: dx", dx.all(), elements(ws.gradients[0]), rtol_f64);

    for (const auto& p : net.named_parameters()) {
        const auto offset = static_cast<std::size_t>(p.values.data() - net.parameters().data());
        const golden::block& expected = data.get(name + ".grad." + p.name);
        check_close(name + " net: grad " + p.name, expected.all(),
                    std::span<const double>(grad).subspan(offset, p.values.size()), rtol_f64);
    }

    // backward_input alone gives the same input gradient.
    typename Net::Workspace ws2;
    net.forward(ws2, to_matrix(x));
    ws2.gradients[Net::layer_count] = to_matrix(dy);
    check_close(name + " net: backward_input", dx.all(), elements(net.backward_input(ws2)), rtol_f64);
}

// --- Losses ---------------------------------------------------------------------------------

const char* const loss_cases[] = {"ordinary", "ordinary_smooth", "batch6", "extreme",
                                  "extreme_smooth", "d_wins", "d_wins_smooth", "g_wins"};

struct loss_results {
    double d_loss_minimax = 0, d_loss_ns = 0, g_minimax_loss = 0, g_ns_loss = 0;
    xgan::matrix<double> d_grad_real_minimax, d_grad_fake_minimax, d_grad_real_ns, d_grad_fake_ns;
    xgan::matrix<double> g_minimax_grad, g_ns_grad;
};

loss_results run_losses(const golden::data_file& data, const std::string& name) {
    const xgan::matrix<double> real = to_column(data.get(name + ".real_logits"));
    const xgan::matrix<double> fake = to_column(data.get(name + ".fake_logits"));
    const double label = data.scalar(name + ".real_label");
    loss_results r;
    for (auto* m : {&r.d_grad_real_minimax, &r.d_grad_real_ns}) *m = xgan::matrix<double>(real.shape());
    for (auto* m : {&r.d_grad_fake_minimax, &r.d_grad_fake_ns, &r.g_minimax_grad, &r.g_ns_grad})
        *m = xgan::matrix<double>(fake.shape());
    const xgan::MinimaxLoss minimax{.real_label = label};
    const xgan::NonSaturatingLoss ns{.real_label = label};
    r.d_loss_minimax = minimax.discriminator(real, fake, r.d_grad_real_minimax, r.d_grad_fake_minimax);
    r.d_loss_ns = ns.discriminator(real, fake, r.d_grad_real_ns, r.d_grad_fake_ns);
    r.g_minimax_loss = minimax.generator(fake, r.g_minimax_grad);
    r.g_ns_loss = ns.generator(fake, r.g_ns_grad);
    return r;
}

// Compares every loss quantity of every case with the `source` block ("torch" or "exact").
// With skip_where_torch_is_inexact, elements where PyTorch's own value is more than rtol off
// the exact value are left out (PyTorch is no oracle there; the exact comparison covers them).
void check_losses(const golden::data_file& data, const std::string& source, bool skip_where_torch_is_inexact) {
    for (const std::string name : loss_cases) {
        const loss_results r = run_losses(data, name);
        const auto check = [&](const std::string& quantity, const std::string& xgan_form, auto got) {
            const golden::block& expected = data.get(name + "." + source + "." + quantity);
            const golden::block& torch = data.get(name + ".torch." + quantity);
            const golden::block& exact = data.get(name + ".exact." + quantity);
            REQUIRE(torch.values.size() == exact.values.size());
            const auto torch_inexact = [&](std::size_t i) {
                return skip_where_torch_is_inexact && relative_error(exact.values[i], torch.values[i]) > rtol_f64;
            };
            check_close("losses " + name + " " + quantity + xgan_form + " vs " + source, expected.all(), got,
                        rtol_f64, compare_options{.skip = torch_inexact});
        };
        const auto scalar = [](const double& v) { return std::span<const double>(&v, 1); };
        check("d_loss", " (Minimax)", scalar(r.d_loss_minimax));
        check("d_loss", " (NonSaturating)", scalar(r.d_loss_ns));
        check("d_grad_real", " (Minimax)", elements(r.d_grad_real_minimax));
        check("d_grad_real", " (NonSaturating)", elements(r.d_grad_real_ns));
        check("d_grad_fake", " (Minimax)", elements(r.d_grad_fake_minimax));
        check("d_grad_fake", " (NonSaturating)", elements(r.d_grad_fake_ns));
        check("g_minimax_loss", "", scalar(r.g_minimax_loss));
        check("g_minimax_grad", "", elements(r.g_minimax_grad));
        check("g_ns_loss", "", scalar(r.g_ns_loss));
        check("g_ns_grad", "", elements(r.g_ns_grad));
    }
}

}  // namespace

TEST_CASE("Adam matches torch.optim.Adam step by step", "[golden][optim]") {
    const auto data = golden::data_file::load(golden::data_path("adam.txt"));
    for (const std::string config : {"default", "custom"}) {
        const xgan::Adam adam{.lr = data.scalar(config + ".lr"),
                              .beta1 = data.scalar(config + ".beta1"),
                              .beta2 = data.scalar(config + ".beta2"),
                              .eps = data.scalar(config + ".eps")};
        check_optimizer_run<float>(data, "Adam", config, adam);
        check_optimizer_run<double>(data, "Adam", config, adam);
    }
    // The default configuration in the file is xgan's default too.
    const xgan::Adam defaults{};
    CHECK(defaults.lr == data.scalar("default.lr"));
    CHECK(defaults.beta1 == data.scalar("default.beta1"));
    CHECK(defaults.beta2 == data.scalar("default.beta2"));
    CHECK(defaults.eps == data.scalar("default.eps"));
}

TEST_CASE("SGD with momentum matches torch.optim.SGD step by step", "[golden][optim]") {
    const auto data = golden::data_file::load(golden::data_path("sgd.txt"));
    for (const std::string config : {"momentum", "nesterov", "dampening"}) {
        const xgan::SGD sgd{.lr = data.scalar(config + ".lr"),
                            .momentum = data.scalar(config + ".momentum"),
                            .dampening = data.scalar(config + ".dampening"),
                            .nesterov = data.scalar(config + ".nesterov") != 0.0};
        check_optimizer_run<float>(data, "SGD", config, sgd);
        check_optimizer_run<double>(data, "SGD", config, sgd);
    }
}

TEST_CASE("GAN losses and their logit gradients match PyTorch", "[golden][losses]") {
    const auto data = golden::data_file::load(golden::data_path("losses.txt"));
    check_losses(data, "torch", /*skip_where_torch_is_inexact=*/true);
}

TEST_CASE("GAN losses and their logit gradients match the exact values", "[golden][losses]") {
    const auto data = golden::data_file::load(golden::data_path("losses.txt"));
    check_losses(data, "exact", /*skip_where_torch_is_inexact=*/false);
}

TEST_CASE("Dense/ReLU/Tanh network matches PyTorch: output, input and parameter gradients", "[golden][network]") {
    const auto data = golden::data_file::load(golden::data_path("network.txt"));
    using Net = xgan::BasicSequential<double, xgan::Dense<4, 6>, xgan::ReLU, xgan::Dense<6, 3>, xgan::Tanh>;
    check_network<Net>(data, "tanh");
}

TEST_CASE("Dense/LeakyReLU/Sigmoid network matches PyTorch: output, input and parameter gradients",
          "[golden][network]") {
    const auto data = golden::data_file::load(golden::data_path("network.txt"));
    using Net = xgan::BasicSequential<double, xgan::Dense<4, 6>, xgan::LeakyReLU, xgan::Dense<6, 3>, xgan::Sigmoid>;
    check_network<Net>(data, "sigmoid");
}

// --- The loader itself: a broken data file must fail, naming the file ----------------------

namespace {
std::string write_temp(const std::string& filename, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / ("xgan_golden_" + filename);
    std::ofstream(path) << text;
    return path.string();
}
}  // namespace

TEST_CASE("golden data loader fails loudly, naming the file", "[golden][loader]") {
    using Catch::Matchers::Contains;
    const std::string missing = golden::data_path("no_such_file.txt");
    CHECK_THROWS_WITH(golden::data_file::load(missing), Contains(missing) && Contains("cannot be opened"));

    const std::string good = write_temp("good.txt", "## comment\n# a 2 3\n1 2 3\n4 5 6.5\n# b 1 1\n-1e-300\n");
    const auto data = golden::data_file::load(good);
    CHECK(data.get("a", 2, 3).values == std::vector<double>{1, 2, 3, 4, 5, 6.5});
    CHECK(data.scalar("b") == -1e-300);
    CHECK_THROWS_WITH(data.get("c"), Contains(good) && Contains("no block 'c'"));
    CHECK_THROWS_WITH(data.get("a", 3, 2), Contains(good) && Contains("expected 3x2"));

    struct bad_case {
        const char* file;
        const char* text;
        const char* complaint;
    };
    const bad_case bad[] = {
        {"empty.txt", "## nothing here\n", "holds no blocks"},
        {"short_row.txt", "# a 1 3\n1 2\n", "has 2 numbers, expected 3"},
        {"missing_row.txt", "# a 2 1\n1\n# b 1 1\n2\n", "declares 2 rows but has 1"},
        {"truncated.txt", "# a 2 1\n1\n", "declares 2 rows but has 1"},
        {"extra_row.txt", "# a 1 1\n1\n2\n", "more than its 1 rows"},
        {"not_a_number.txt", "# a 1 2\n1 0x1p3\n", "'0x1p3' in block 'a' is not a number"},
        {"trailing_junk.txt", "# a 1 1\n1.5abc\n", "is not a number"},
        {"bad_header.txt", "# a 1\n1\n", "a header must read"},
        {"zero_size.txt", "# a 0 1\n", "not a positive size"},
        {"duplicate.txt", "# a 1 1\n1\n# a 1 1\n2\n", "appears twice"},
        {"headless.txt", "1 2 3\n", "before the first"},
    };
    for (const bad_case& b : bad) {
        const std::string path = write_temp(b.file, b.text);
        INFO(path);
        CHECK_THROWS_WITH(golden::data_file::load(path), Contains(path) && Contains(b.complaint));
        std::filesystem::remove(path);
    }
    std::filesystem::remove(good);
}
