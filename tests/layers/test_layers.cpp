// Every layer: forward values, finite-difference gradients (double), initialisers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/detail/kernels.hpp>
#include <xgan/xgan.hpp>

#include <support/gradient_assertions.hpp>

using namespace xgan;

namespace {

// Applies a width-preserving layer to one row of values.
template <class Spec>
std::vector<double> apply(std::vector<double> values) {
    using L = bind_layer_t<Spec, 1, double>;
    L layer;
    matrix<double> x({values.size(), 1}), y({values.size(), 1});
    std::copy(values.begin(), values.end(), x.begin());
    layer.forward({}, x, y);
    return {y.begin(), y.end()};
}

using tests::require_passes;

// A user-defined layer with parameters: y = x * scale + shift, per column.
template <std::size_t Width, class T>
struct ScaleShift {
    using value_type = T;
    static constexpr std::size_t input_size = Width, output_size = Width, parameter_count = 2 * Width;
    static constexpr std::array<parameter_block, 2> parameter_blocks{{{"scale", 1, {Width, 0}, 0},
                                                                     {"shift", 1, {Width, 0}, Width}}};
    void initialize(std::span<T> p, Rng& rng) const { rng.fill_uniform(p, 0.5, 1.5); }
    void forward(std::span<const T> p, const matrix<T>& x, matrix<T>& y) const {
        for (std::size_t r = 0; r < x.shape()[0]; ++r)
            for (std::size_t c = 0; c < Width; ++c) y(r, c) = x(r, c) * p[c] + p[Width + c];
    }
    void backward_input(std::span<const T> p, const matrix<T>&, const matrix<T>&, const matrix<T>& dy,
                        matrix<T>& dx) const {
        for (std::size_t r = 0; r < dy.shape()[0]; ++r)
            for (std::size_t c = 0; c < Width; ++c) dx(r, c) = dy(r, c) * p[c];
    }
    void accumulate_gradient(std::span<const T>, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                             std::span<T> g) const {
        for (std::size_t r = 0; r < dy.shape()[0]; ++r)
            for (std::size_t c = 0; c < Width; ++c) {
                g[c] += dy(r, c) * x(r, c);
                g[Width + c] += (Broken ? 2 : 1) * dy(r, c);
            }
    }
    static inline bool Broken = false;
};

}  // namespace

TEST_CASE("activations compute their functions", "[layers]") {
    CHECK(apply<ReLU>({-2, 0, 3}) == std::vector<double>{0, 0, 3});
    const auto leaky = apply<LeakyReLU>({-2, 3});
    CHECK(leaky[0] == Approx(-0.4));
    CHECK(leaky[1] == 3);
    CHECK(apply<LeakyReLUWithSlope<1, 100>>({-2})[0] == Approx(-0.02));
    const auto s = apply<Sigmoid>({0, 2, -1000, 1000});
    CHECK(s[0] == 0.5);
    CHECK(s[1] == Approx(1 / (1 + std::exp(-2.0))));
    CHECK(s[2] == 0.0);  // saturates to exact limits, never NaN
    CHECK(s[3] == 1.0);
    CHECK(apply<Tanh>({0.5})[0] == Approx(std::tanh(0.5)));
}

namespace {
// Difference in units in the last place of b (0 when equal, 1 for neighbours).
double ulps(float a, float b) {
    if (a == b) return 0;
    const float step = std::nextafter(std::fabs(b), std::numeric_limits<float>::infinity()) - std::fabs(b);
    return std::fabs(static_cast<double>(a) - static_cast<double>(b)) / static_cast<double>(step);
}

// Inputs for the float activation loops: a sweep over [-12, 12], values spread over every
// exponent, and the special values; long enough to run both the vector body and the tail.
std::vector<float> float_probe() {
    std::vector<float> x;
    for (float v = -12.0f; v < 12.0f; v += 1.0f / 1024) x.push_back(v);
    for (int e = -140; e < 128; ++e)
        for (const float m : {1.0f, 1.337f, 1.999f}) {
            x.push_back(std::ldexp(m, e));
            x.push_back(-std::ldexp(m, e));
        }
    for (const float v : {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 9.1f, -9.2f, 0x1p-10f, -0x1p-10f})
        x.push_back(v);
    x.push_back(0.5f);  // an odd length: the last values go through the tail
    return x;
}
}  // namespace

TEST_CASE("float Tanh is within one ulp of the exact tanh, with exact limits and signs", "[layers]") {
    const std::vector<float> x = float_probe();
    std::vector<float> y(x.size());
    detail::kernels::activation_forward<detail::tanh_op, float>(x.size(), x.data(), y.data());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (std::isnan(x[i])) {
            CHECK(std::isnan(y[i]));
            continue;
        }
        const double exact = std::tanh(static_cast<double>(x[i]));
        INFO("x = " << x[i] << ", tanh = " << y[i] << ", exact " << exact);
        REQUIRE(std::signbit(y[i]) == std::signbit(x[i]));  // also -0 -> -0
        worst = std::max(worst, ulps(y[i], static_cast<float>(exact)));
        if (std::fabs(x[i]) >= 9.1f) CHECK(std::fabs(y[i]) == 1.0f);
    }
    CHECK(worst <= 1.0);
}

TEST_CASE("the vectorised ReLU and LeakyReLU loops give the scalar results bit for bit", "[layers]") {
    const std::vector<float> x = float_probe();
    std::vector<float> dy(x.size()), y(x.size()), dx(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) dy[i] = static_cast<float>(i % 7) - 3.5f;
    auto same_bits = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
    auto check = [&]<class Op>(Op) {
        detail::kernels::activation_forward<Op, float>(x.size(), x.data(), y.data());
        detail::kernels::activation_backward<Op, float>(x.size(), x.data(), y.data(), dy.data(), dx.data());
        for (std::size_t i = 0; i < x.size(); ++i) {
            INFO("x = " << x[i]);
            REQUIRE(same_bits(y[i], Op::value(x[i])));
            REQUIRE(same_bits(dx[i], Op::gradient(x[i], y[i], dy[i])));
        }
    };
    check(detail::relu_op{});
    check(detail::leaky_relu_op<1, 5>{});
}

TEST_CASE("every layer passes the finite-difference gradient check", "[layers][gradients]") {
    require_passes(check_layer_gradients<Dense<4, 3>>());
    require_passes(check_layer_gradients<Dense<7, 1, init::XavierUniform>>());
    require_passes(check_layer_gradients<ReLU, 8>());
    require_passes(check_layer_gradients<LeakyReLU, 8>());
    require_passes(check_layer_gradients<LeakyReLUWithSlope<1, 100>, 8>());
    require_passes(check_layer_gradients<Sigmoid, 8>());
    require_passes(check_layer_gradients<Tanh, 8>());
}

TEST_CASE("composed networks pass the gradient check", "[layers][gradients]") {
    using G = Sequential<Dense<5, 16>, ReLU, Dense<16, 15>>;
    using D = Sequential<Dense<15, 16>, LeakyReLU, Dense<16, 8>, Tanh, Dense<8, 1>, Sigmoid>;
    require_passes(check_gradients<G>());
    require_passes(check_gradients<D>({.batch = 5, .seed = 9}));
}

TEST_CASE("a user's own layer is checked, and a wrong gradient is caught", "[layers][gradients]") {
    using L = ScaleShift<6, double>;
    STATIC_REQUIRE(Layer<L>);
    L::Broken = false;
    require_passes(check_layer_gradients<L>());
    // The same layer with a bias gradient twice too large must fail the checker.
    L::Broken = true;
    const auto broken = check_layer_gradients<L>();
    L::Broken = false;
    CHECK_FALSE(broken.passed);
    CHECK_THAT(broken.worst, Catch::Contains("0.shift"));
    // And a user layer fits in a stack between xgan's own.
    STATIC_REQUIRE(composable<Dense<3, 6>, ScaleShift<6, float>, ReLU, Dense<6, 1>>);
}

TEST_CASE("Dense initialisers draw from their documented ranges", "[layers][init]") {
    SECTION("TorchLinear: weight and bias U(-1/sqrt(in), 1/sqrt(in)), as nn.Linear") {
        BasicSequential<double, Dense<64, 200>> net(3);
        const double bound = 1.0 / 8.0;
        const auto named = net.named_parameters();
        for (const auto& p : named) {
            const auto [lo, hi] = std::minmax_element(p.values.begin(), p.values.end());
            CHECK(*lo >= -bound);
            CHECK(*hi < bound);
            CHECK(*lo < -0.9 * bound);  // spread over the whole interval
            CHECK(*hi > 0.9 * bound);
        }
    }
    SECTION("XavierUniform: U(-a, a) with a = sqrt(6 / (in + out)); zero bias") {
        BasicSequential<double, Dense<100, 50, init::XavierUniform>> net(3);
        const double bound = std::sqrt(6.0 / 150.0);
        const auto named = net.named_parameters();
        const auto [lo, hi] = std::minmax_element(named[0].values.begin(), named[0].values.end());
        CHECK(*lo >= -bound);
        CHECK(*hi < bound);
        CHECK(*hi > 0.9 * bound);
        CHECK(std::all_of(named[1].values.begin(), named[1].values.end(), [](double b) { return b == 0; }));
    }
    SECTION("KaimingNormal: N(0, 2 / in)") {
        BasicSequential<double, Dense<50, 400, init::KaimingNormal>> net(3);
        const auto w = net.named_parameters()[0].values;
        double sum_sq = 0;
        for (double v : w) sum_sq += v * v;
        CHECK(sum_sq / static_cast<double>(w.size()) == Approx(2.0 / 50.0).epsilon(0.05));
    }
}
