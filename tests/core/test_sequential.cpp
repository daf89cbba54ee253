// Sequential: compile-time shapes, parameter layout, run-time input checks, seeding.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>

#if __has_include(<xtensor-blas/xlinalg.hpp>)
#include <xtensor-blas/xlinalg.hpp>
#endif

using namespace xgan;

using Generator = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
using Discriminator = Sequential<Dense<15, 128>, ReLU, Dense<128, 1>, Sigmoid>;

TEST_CASE("Sequential infers sizes and parameter counts at compile time", "[sequential]") {
    STATIC_REQUIRE(Generator::input_size == 5);
    STATIC_REQUIRE(Generator::output_size == 15);
    STATIC_REQUIRE(Generator::parameter_count == 5 * 128 + 128 + 128 * 15 + 15);
    STATIC_REQUIRE(Discriminator::parameter_count == 15 * 128 + 128 + 128 + 1);
    STATIC_REQUIRE(Generator::layer_count == 3);
    STATIC_REQUIRE(std::is_same_v<Generator::layer_type<1>, Activation<detail::relu_op, 128, float>>);
    STATIC_REQUIRE(std::is_same_v<Generator::value_type, float>);
    STATIC_REQUIRE(std::is_same_v<rebind_scalar_t<Generator, double>::value_type, double>);
    STATIC_REQUIRE(Generator::widths == std::array<std::size_t, 4>{5, 128, 128, 15});
}

TEST_CASE("composable tells valid stacks from invalid ones without a failing build", "[sequential]") {
    STATIC_REQUIRE(composable<Dense<5, 128>, ReLU, Dense<128, 15>>);
    STATIC_REQUIRE(composable<Dense<784, 256>, LeakyReLU, Dense<256, 1>, Sigmoid>);
    STATIC_REQUIRE_FALSE(composable<Dense<5, 128>, ReLU, Dense<64, 15>>);
    STATIC_REQUIRE_FALSE(composable<ReLU, Dense<5, 5>>);
    STATIC_REQUIRE_FALSE(composable<>);
    STATIC_REQUIRE_FALSE(composable<Dense<5, 5>, int>);
}

TEST_CASE("named_parameters follows PyTorch's nn.Sequential state_dict", "[sequential]") {
    Generator g;
    const auto named = g.named_parameters();
    REQUIRE(named.size() == 4);
    CHECK(named[0].name == "0.weight");
    CHECK(named[0].shape == std::vector<std::size_t>{128, 5});
    CHECK(named[1].name == "0.bias");
    CHECK(named[1].shape == std::vector<std::size_t>{128});
    CHECK(named[2].name == "2.weight");
    CHECK(named[2].shape == std::vector<std::size_t>{15, 128});
    CHECK(named[3].name == "2.bias");
    // The blocks tile the flat parameter vector in order.
    CHECK(named[0].values.data() == g.parameters().data());
    CHECK(named[3].values.data() + named[3].values.size() == g.parameters().data() + Generator::parameter_count);
}

TEST_CASE("forward computes x W^T + b through each layer", "[sequential]") {
    Generator g(3);
    Rng rng(4);
    matrix<float> x({6, 5});
    rng.fill_normal(std::span<float>(x.data(), x.size()));

    // Reference with xtensor-blas's dot, independent of xgan's kernels.
    auto view = [](const named_parameter<float>& p) {
        return xt::adapt(p.values.data(), p.values.size(), xt::no_ownership(), p.shape);
    };
    const auto named = g.named_parameters();
    xt::xarray<float> w0 = view(named[0]), b0 = view(named[1]), w2 = view(named[2]), b2 = view(named[3]);
    xt::xarray<float> h = xt::linalg::dot(x, xt::transpose(w0)) + b0;
    h = xt::maximum(h, 0.0f);
    xt::xarray<float> expected = xt::linalg::dot(h, xt::transpose(w2)) + b2;

    const matrix<float> y = g.forward(x);
    REQUIRE(y.shape() == std::array<std::size_t, 2>{6, 15});
    CHECK(xt::allclose(y, expected, 1e-5, 1e-6));

    // The workspace path gives the same numbers and keeps its buffers for the same batch size.
    Generator::Workspace ws;
    const auto& y2 = g.forward(ws, x);
    CHECK(y2 == y);
    const float* buffer = ws.values[1].data();
    g.forward(ws, x);
    CHECK(ws.values[1].data() == buffer);
}

TEST_CASE("a batch of the wrong shape is a clear run-time error", "[sequential][errors]") {
    Generator g;
    const matrix<float> wrong_width = xt::zeros<float>({4, 6});
    CHECK_THROWS_WITH(g.forward(wrong_width),
                      "xgan::Sequential::forward: the input has 6 columns but the network's input size is 5");
    const matrix<float> empty = xt::zeros<float>({0, 5});
    CHECK_THROWS_WITH(g.forward(empty), "xgan::Sequential::forward: the batch is empty (0 rows)");
    const xt::xarray<float> flat = xt::zeros<float>({5});
    CHECK_THROWS_WITH(g.forward(flat), Catch::Contains("must be a 2-D batch"));
}

TEST_CASE("initialisation is a function of the seed alone", "[sequential][random]") {
    CHECK(Generator() == Generator());
    CHECK(Generator(7) == Generator(7));
    CHECK_FALSE(Generator(7) == Generator(8));
    Rng a(11), b(11);
    CHECK(Generator(a) == Generator(b));
    CHECK(a == b);  // both consumed the same draws
}

TEST_CASE("Rng draws are portable functions of the seed", "[random]") {
    // std::mt19937_64's 10000th output is fixed by the C++ standard.
    Rng rng(5489u);
    std::uint64_t value = 0;
    for (int i = 0; i < 10000; ++i) value = rng.engine()();
    CHECK(value == 9981545732273789042ull);

    Rng u(1);
    double lo = 1, hi = 0, sum = 0, sum_sq = 0;
    constexpr int n = 100000;
    for (int i = 0; i < n; ++i) {
        const double v = u.uniform();
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
    }
    CHECK(lo >= 0.0);
    CHECK(hi < 1.0);
    CHECK(sum / n == Approx(0.5).margin(0.01));

    std::vector<double> normals(n);
    Rng g(2);
    g.fill_normal(std::span<double>(normals));
    sum = 0;
    for (double v : normals) sum += v, sum_sq += v * v;
    CHECK(sum / n == Approx(0.0).margin(0.02));
    CHECK(sum_sq / n == Approx(1.0).margin(0.02));
}

TEST_CASE("Rng::fill_bernoulli hits with probability threshold / 2^32, two values per engine draw", "[random]") {
    // ceil(n 2^32 / d), computed exactly (2^32 * 3/10 = 1288490188.8).
    STATIC_REQUIRE(Rng::bernoulli_threshold(3, 10) == 1288490189ull);
    STATIC_REQUIRE(Rng::bernoulli_threshold(1, 2) == 0x80000000ull);
    STATIC_REQUIRE(Rng::bernoulli_threshold(0, 7) == 0);
    STATIC_REQUIRE(Rng::bernoulli_threshold(7, 7) == 0x100000000ull);
    CHECK_THROWS_WITH(Rng::bernoulli_threshold(3, 2), Catch::Contains("numerator <= denominator"));

    // Each engine draw decides two values: its low half the first, its high half the second.
    Rng rng(3), copy(3);
    std::vector<float> out(5);
    rng.fill_bernoulli(std::span<float>(out), Rng::bernoulli_threshold(1, 2), 1.0f, 0.0f);
    for (std::size_t i = 0; i < 4; i += 2) {
        const std::uint64_t draw = copy.engine()();
        CHECK(out[i] == ((draw & 0xFFFFFFFFu) < 0x80000000u ? 1.0f : 0.0f));
        CHECK(out[i + 1] == ((draw >> 32) < 0x80000000u ? 1.0f : 0.0f));
    }
    CHECK(out[4] == ((copy.engine()() & 0xFFFFFFFFu) < 0x80000000u ? 1.0f : 0.0f));
    CHECK(rng == copy);  // 3 draws for 5 values

    constexpr std::size_t n = 1'000'000;
    std::vector<double> hits(n);
    Rng r(4);
    r.fill_bernoulli(std::span<double>(hits), Rng::bernoulli_threshold(3, 10), 1.0, 0.0);
    const double rate = std::accumulate(hits.begin(), hits.end(), 0.0) / n;
    CHECK(rate == Approx(0.3).margin(5 * std::sqrt(0.3 * 0.7 / n)));  // 5 standard deviations
}

TEST_CASE("backward with GradientMode::overwrite stores what accumulating into zeros gives", "[sequential]") {
    // Dense layers (small kernels and BLAS) assign their gradient; BatchNorm accumulates
    // into a slice Sequential zeroes first.
    using Net = Sequential<Dense<6, 20>, BatchNorm, ReLU, Dense<20, 1000>, LeakyReLU, Dense<1000, 2>>;
    STATIC_REQUIRE(detail::kernels::small_dense_v<float, 6, 20>);
    STATIC_REQUIRE_FALSE(detail::kernels::small_dense_v<float, 20, 1000>);  // BLAS
    const Net net(4);
    Rng rng(9);
    matrix<float> x({17, 6}), dy({17, 2});
    rng.fill_normal(std::span<float>(x.data(), x.size()));
    rng.fill_normal(std::span<float>(dy.data(), dy.size()));

    Net::Workspace ws;
    net.forward(ws, x);
    ws.gradients[Net::layer_count] = dy;
    std::vector<float> accumulated(Net::parameter_count, 0.0f);
    net.backward(ws, std::span<float>(accumulated));

    std::vector<float> overwritten(Net::parameter_count, std::numeric_limits<float>::quiet_NaN());
    net.backward(ws, std::span<float>(overwritten), false, GradientMode::overwrite);
    CHECK(overwritten == accumulated);

    // A second pass accumulates on top of it as on top of the first accumulated pass.
    net.backward(ws, std::span<float>(accumulated));
    net.backward(ws, std::span<float>(overwritten));
    CHECK(overwritten == accumulated);

    // A pass stopped early zeroes the gradient of the layers it did not reach.
    std::vector<float> stopped(Net::parameter_count, 1.0f);
    ws.gradients[4] = xt::ones<float>({17, 1000});
    net.backward<4>(ws, std::span<float>(stopped), false, GradientMode::overwrite);
    CHECK(std::all_of(stopped.begin() + Net::offsets[4], stopped.end(), [](float g) { return g == 0.0f; }));
    CHECK(std::any_of(stopped.begin(), stopped.begin() + Net::offsets[4], [](float g) { return g != 0.0f; }));
}
