// Golden-value tests of RMSprop, LayerNorm and SpectralNorm against PyTorch 1.13
// (tests/golden/generate_norms.py wrote data/rmsprop.txt, layer_norm.txt and
// spectral_norm.txt; torch is not needed here).
//
// Tolerances, element by element: float64 1e-12 relative (1e-10 for the spectral norm,
// whose sigma and gradients go through more sums), float32 RMSprop 1e-6 against each
// parameter's largest magnitude so far (as test_golden.cpp's Adam and SGD: PyTorch fuses
// some multiply-adds that xgan rounds twice).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iomanip>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <xgan/layers/layer_norm.hpp>
#include <xgan/layers/spectral_norm.hpp>
#include <xgan/optim/rmsprop.hpp>
#include <xgan/optim/sgd.hpp>
#include <xgan/xgan.hpp>

#include "golden_data.hpp"

namespace {

// CHECKs that every |got - expected| <= rtol * scale, scale = |expected| or, when given,
// scale[i]; a failure names the worst element.
template <class T>
void check_close(const std::string& what, std::span<const double> expected, std::span<const T> got, double rtol,
                 std::span<const double> scale = {}) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    double worst = 0;
    std::size_t worst_index = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double g = static_cast<double>(got[i]);
        const double s = scale.empty() ? std::abs(expected[i]) : scale[i];
        double e = g == expected[i] ? 0.0 : std::abs(g - expected[i]) / s;
        if (std::isnan(e)) e = std::numeric_limits<double>::infinity();
        if (e > worst) {
            worst = e;
            worst_index = i;
        }
    }
    std::ostringstream message;
    message << std::setprecision(17) << what << ": worst error " << worst << " at index " << worst_index
            << " (expected " << expected[worst_index] << ", got " << static_cast<double>(got[worst_index]) << ")";
    INFO(message.str());
    CHECK(worst <= rtol);
}

template <class T>
std::span<const T> elements(const xgan::matrix<T>& m) {
    return std::span<const T>(m.data(), m.size());
}

xgan::matrix<double> to_matrix(const golden::block& b) {
    xgan::matrix<double> m({b.rows, b.cols});
    std::copy(b.values.begin(), b.values.end(), m.begin());
    return m;
}

// Copies the blocks named prefix + p.name into every named tensor of `named`.
template <class Named>
void load(const golden::data_file& data, const std::string& prefix, Named&& named) {
    for (auto& p : named) {
        const golden::block& b = data.get(prefix + p.name);
        REQUIRE(b.values.size() == p.values.size());
        std::copy(b.values.begin(), b.values.end(), p.values.begin());
    }
}

}  // namespace

TEMPLATE_TEST_CASE("RMSprop matches torch.optim.RMSprop step by step", "[golden][optim]", float, double) {
    using T = TestType;
    const auto data = golden::data_file::load(golden::data_path("rmsprop.txt"));
    const golden::block& params0 = data.get("params0");
    const golden::block& grads = data.get("grads");
    const std::string tag = std::is_same_v<T, float> ? "f32" : "f64";
    const double rtol = std::is_same_v<T, float> ? 1e-6 : 1e-12;
    for (const std::string config : {"default", "momentum", "centered"}) {
        const xgan::RMSprop settings{.lr = data.scalar(config + ".lr"),
                                     .alpha = data.scalar(config + ".alpha"),
                                     .eps = data.scalar(config + ".eps"),
                                     .weight_decay = data.scalar(config + ".weight_decay"),
                                     .momentum = data.scalar(config + ".momentum"),
                                     .centered = data.scalar(config + ".centered") != 0.0};
        const golden::block& expected = data.get(config + "." + tag + ".params", grads.rows, params0.cols);
        std::vector<T> params(params0.values.begin(), params0.values.end());
        std::vector<double> scale(params.size());
        std::transform(params0.values.begin(), params0.values.end(), scale.begin(),
                       [](double v) { return std::abs(v); });
        xgan::RMSprop::state<T> state(params.size());
        for (std::size_t step = 0; step < grads.rows; ++step) {
            const std::vector<T> g(grads.row(step).begin(), grads.row(step).end());
            state.step(settings, std::span<T>(params), std::span<const T>(g));
            const auto want = expected.row(step);
            for (std::size_t i = 0; i < scale.size(); ++i) scale[i] = std::max(scale[i], std::abs(want[i]));
            check_close("RMSprop " + config + " " + tag + " step " + std::to_string(step + 1), want,
                        std::span<const T>(params), rtol, scale);
        }
    }
    // The default configuration in the file is xgan's default too.
    const xgan::RMSprop defaults{};
    CHECK(defaults.lr == data.scalar("default.lr"));
    CHECK(defaults.alpha == data.scalar("default.alpha"));
    CHECK(defaults.eps == data.scalar("default.eps"));
    CHECK(defaults.weight_decay == data.scalar("default.weight_decay"));
    CHECK(defaults.momentum == data.scalar("default.momentum"));
    CHECK_FALSE(defaults.centered);
}

namespace {

template <class Net>
void check_layer_norm(const golden::data_file& data, const std::string& name) {
    Net net;
    load(data, name + ".param.", net.named_parameters());
    const xgan::matrix<double> x = to_matrix(data.get(name + ".x"));
    const xgan::matrix<double> dy = to_matrix(data.get(name + ".dy"));
    typename Net::Workspace ws;
    check_close(name + ": y", data.get(name + ".y").all(), elements(net.forward(ws, x)), 1e-12);
    ws.gradients[Net::layer_count] = dy;
    std::vector<double> grad(Net::parameter_count, 0.0);
    net.backward(ws, std::span<double>(grad), /*input_gradient=*/true);
    check_close(name + ": dx", data.get(name + ".dx").all(), elements(ws.gradients[0]), 1e-12);
    const std::size_t n = Net::parameter_count / 2;
    check_close(name + ": grad weight", data.get(name + ".grad.0.weight").all(),
                std::span<const double>(grad).first(n), 1e-12);
    check_close(name + ": grad bias", data.get(name + ".grad.0.bias").all(),
                std::span<const double>(grad).subspan(n), 1e-12);

    // The double backward of P = sum(dx * e), against autograd's.
    const auto& layer = net.template layer<0>();
    const xgan::matrix<double> e = to_matrix(data.get(name + ".e"));
    xgan::matrix<double> e_out(e.shape()), x_adjoint(e.shape());
    std::fill(x_adjoint.begin(), x_adjoint.end(), 0.0);
    std::vector<double> second(Net::parameter_count, 0.0);
    layer.backward_second_order(net.template parameters_of<0>(), x, ws.output(), dy, e, e_out, x_adjoint,
                                std::span<double>(second));
    check_close(name + ": e_out", data.get(name + ".second.e_out").all(), elements(e_out), 1e-11);
    check_close(name + ": x_adjoint", data.get(name + ".second.x_adjoint").all(), elements(x_adjoint), 1e-10);
    check_close(name + ": second-order grad weight", data.get(name + ".second.grad.0.weight").all(),
                std::span<const double>(second).first(n), 1e-11);
    CHECK(std::all_of(second.begin() + static_cast<std::ptrdiff_t>(n), second.end(),
                      [](double v) { return v == 0.0; }));
}

}  // namespace

TEST_CASE("LayerNorm matches nn.LayerNorm: forward, backward and double backward", "[golden][layers]") {
    const auto data = golden::data_file::load(golden::data_path("layer_norm.txt"));
    check_layer_norm<xgan::BasicSequential<double, xgan::Input<6>, xgan::LayerNorm>>(data, "vector");
    check_layer_norm<xgan::BasicSequential<double, xgan::Input<2, 3, 3>, xgan::LayerNorm>>(data, "image");
}

namespace {

template <class Net>
void check_spectral_norm(const golden::data_file& data, const std::string& name) {
    Net net;
    // xgan names and orders the tensors as the state_dict does.
    std::vector<std::string> names;
    for (const auto& p : net.named_parameters()) names.push_back(p.name);
    for (const auto& p : net.named_buffers()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"0.bias", "0.weight_orig", "0.weight_u", "0.weight_v"});
    load(data, name + ".start.", net.named_parameters());
    load(data, name + ".start.", net.named_buffers());
    const xgan::SGD sgd{.lr = 0.1};
    xgan::SGD::state<double> state(Net::parameter_count);
    const auto block = [&](const std::string& what) -> std::span<const double> { return data.get(what).all(); };
    const auto named = [&](auto&& list, const std::string& key) {
        for (auto& p : list)
            if (p.name == key) return std::span<const double>(p.values.data(), p.values.size());
        FAIL("no tensor " << key);
        return std::span<const double>();
    };
    for (int step = 0; step < 3; ++step) {
        const std::string prefix = name + ".step" + std::to_string(step) + ".";
        typename Net::Workspace ws;
        const auto& y = net.forward(ws, to_matrix(data.get(prefix + "x")));
        check_close(prefix + "y", block(prefix + "y"), elements(y), 1e-12);
        net.update_buffers(ws);
        check_close(prefix + "weight_u", block(prefix + "weight_u"), named(net.named_buffers(), "0.weight_u"), 1e-12);
        check_close(prefix + "weight_v", block(prefix + "weight_v"), named(net.named_buffers(), "0.weight_v"), 1e-12);
        ws.gradients[Net::layer_count] = to_matrix(data.get(prefix + "dy"));
        std::vector<double> grad(Net::parameter_count, 0.0);
        net.backward(ws, std::span<double>(grad), /*input_gradient=*/true);
        check_close(prefix + "dx", block(prefix + "dx"), elements(ws.gradients[0]), 1e-12);
        const auto offset = [&](const std::string& key) {
            return static_cast<std::size_t>(named(net.named_parameters(), key).data() - net.parameters().data());
        };
        const std::size_t w = offset("0.weight_orig"), b = offset("0.bias");
        const std::span<const double> g(grad);
        check_close(prefix + "grad weight_orig", block(prefix + "grad.0.weight_orig"),
                    g.subspan(w, block(prefix + "grad.0.weight_orig").size()), 1e-10);
        check_close(prefix + "grad bias", block(prefix + "grad.0.bias"),
                    g.subspan(b, block(prefix + "grad.0.bias").size()), 1e-12);
        state.step(sgd, net.parameters(), std::span<const double>(grad));
        check_close(prefix + "weight_orig after SGD", block(prefix + "after.0.weight_orig"),
                    named(net.named_parameters(), "0.weight_orig"), 1e-12);
    }
    // Inference: the stored u and v, not iterated, and left as they are.
    net.set_mode(xgan::Mode::inference);
    const std::vector<double> buffers(net.buffers().begin(), net.buffers().end());
    typename Net::Workspace ws;
    check_close(name + ".eval y", block(name + ".eval.y"), elements(net.forward(ws, to_matrix(data.get(name + ".eval.x")))),
                1e-12);
    net.update_buffers(ws);
    CHECK(std::vector<double>(net.buffers().begin(), net.buffers().end()) == buffers);
}

}  // namespace

TEST_CASE("SpectralNorm matches torch.nn.utils.spectral_norm over three SGD steps", "[golden][layers]") {
    const auto data = golden::data_file::load(golden::data_path("spectral_norm.txt"));
    check_spectral_norm<xgan::BasicSequential<double, xgan::Input<5>, xgan::SpectralNorm<xgan::Dense<5, 4>>>>(
        data, "dense");
    check_spectral_norm<xgan::BasicSequential<double, xgan::Input<2, 4, 4>,
                                              xgan::SpectralNorm<xgan::Conv2D<2, 3, 3, 1, 1>>>>(data, "conv");
}
