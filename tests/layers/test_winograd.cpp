// The Winograd form of the convolutions (detail/winograd.hpp): its Toom-Cook matrices
// compute a correlation exactly; its three passes equal the definitions of a convolution,
// its input gradient and its weight gradient, in double to rounding and in float within
// the tolerance the golden tests allow; its AVX2 code gives the values of its plain code,
// and two threads those of one, bit for bit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/detail/winograd.hpp>

using xgan::detail::conv_geometry;
using xgan::detail::toom_cook;
using xgan::detail::winograd_conv;

namespace {

std::vector<double> normal_values(std::size_t count, std::uint64_t seed) {
    xgan::Rng rng(seed);
    std::vector<double> v(count);
    rng.fill_normal(std::span<double>(v), 0.0, 1.0);
    return v;
}

// F(M, R) on random taps and inputs: A^T [(G g) . (B^T d)] against sum_k g[k] d[i + k].
template <std::size_t M, std::size_t R>
void check_toom_cook(std::uint64_t seed) {
    using F = toom_cook<M, R>;
    constexpr std::size_t alpha = F::alpha;
    const auto g = normal_values(R, seed), d = normal_values(alpha, seed + 1);
    std::vector<double> product(alpha);
    for (std::size_t j = 0; j < alpha; ++j) {
        double gg = 0, bd = 0;
        for (std::size_t k = 0; k < R; ++k) gg += F::g[j][k] * g[k];
        for (std::size_t l = 0; l < alpha; ++l) bd += F::bt[j][l] * d[l];
        product[j] = gg * bd;
    }
    INFO("F(" << M << ", " << R << ")");
    for (std::size_t i = 0; i < M; ++i) {
        double expected = 0, got = 0;
        for (std::size_t k = 0; k < R; ++k) expected += g[k] * d[i + k];
        for (std::size_t j = 0; j < alpha; ++j) got += F::at[i][j] * product[j];
        CHECK(got == Approx(expected).margin(1e-12));
    }
}

// A convolution of geometry G (OutC output channels) by its definitions, in double: the
// output with a bias, the input gradient and the weight gradient for an output gradient dy.
struct reference {
    std::vector<double> y, dx, dw;
};
template <conv_geometry G, std::size_t OutC>
reference direct(std::size_t batch, const std::vector<double>& x, const std::vector<double>& w,
                 const std::vector<double>& bias, const std::vector<double>& dy) {
    constexpr std::size_t C = G.channels;
    reference r{std::vector<double>(batch * OutC * G.out_h * G.out_w), std::vector<double>(x.size(), 0.0),
                std::vector<double>(w.size(), 0.0)};
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t o = 0; o < OutC; ++o)
            for (std::size_t i = 0; i < G.out_h; ++i)
                for (std::size_t j = 0; j < G.out_w; ++j) {
                    const std::size_t out = ((b * OutC + o) * G.out_h + i) * G.out_w + j;
                    double sum = bias[o];
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t a = 0; a < G.kernel_h; ++a)
                            for (std::size_t e = 0; e < G.kernel_w; ++e) {
                                const long h = long(i * G.stride_h + a) - long(G.pad_h);
                                const long v = long(j * G.stride_w + e) - long(G.pad_w);
                                if (h < 0 || v < 0 || h >= long(G.height) || v >= long(G.width)) continue;
                                const std::size_t in =
                                    ((b * C + c) * G.height + std::size_t(h)) * G.width + std::size_t(v);
                                const std::size_t k = ((o * C + c) * G.kernel_h + a) * G.kernel_w + e;
                                sum += w[k] * x[in];
                                r.dx[in] += w[k] * dy[out];
                                r.dw[k] += dy[out] * x[in];
                            }
                    r.y[out] = sum;
                }
    return r;
}

// The largest |got - expected| relative to the root mean square of expected.
template <class T>
double relative_error(const std::vector<T>& got, const std::vector<double>& expected) {
    double worst = 0, squares = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - expected[i]));
        squares += expected[i] * expected[i];
    }
    return worst / std::sqrt(squares / static_cast<double>(expected.size()));
}

template <class T>
struct passes {
    std::vector<T> y, dx, dw;
};

// The three passes of winograd_conv<G, OutC, MaxAlpha> in T on the reference's inputs; dw
// starts at `start` (the weight gradient adds to it).
template <conv_geometry G, std::size_t OutC, std::size_t MaxAlpha, class T>
passes<T> run(std::size_t batch, const std::vector<double>& x, const std::vector<double>& w,
              const std::vector<double>& bias, const std::vector<double>& dy, double start, bool vectorize = true) {
    using W = winograd_conv<G, OutC, MaxAlpha>;
    const std::vector<T> xt(x.begin(), x.end()), wt(w.begin(), w.end()), bt(bias.begin(), bias.end()),
        dyt(dy.begin(), dy.end());
    passes<T> p{std::vector<T>(dy.size(), T(-9)), std::vector<T>(x.size(), T(-9)), std::vector<T>(w.size(), T(start))};
    typename W::template scratch_type<T> scratch;
    scratch.vectorize = vectorize;
    W::forward(wt.data(), bt.data(), xt.data(), p.y.data(), batch, scratch);
    W::backward_input(wt.data(), static_cast<const T*>(nullptr), dyt.data(), p.dx.data(), batch, scratch);
    W::weight_gradient(xt.data(), dyt.data(), p.dw.data(), batch, scratch);
    return p;
}

template <conv_geometry G, std::size_t OutC, std::size_t MaxAlpha = xgan::detail::winograd_default_alpha>
void check_double(std::uint64_t seed, std::size_t batch = 3) {
    using W = winograd_conv<G, OutC, MaxAlpha>;
    CAPTURE(G.channels, OutC, G.height, G.width, G.kernel_h, G.kernel_w, G.stride_h, G.stride_w, G.pad_h, G.pad_w,
            W::rows.tile, W::cols.tile, batch, W::group);
    const auto x = normal_values(batch * G.image_size(), seed), w = normal_values(OutC * G.rows(), seed + 1);
    const auto bias = normal_values(OutC, seed + 2), dy = normal_values(batch * OutC * G.positions(), seed + 3);
    const reference r = direct<G, OutC>(batch, x, w, bias, dy);
    const passes<double> p = run<G, OutC, MaxAlpha, double>(batch, x, w, bias, dy, 0.5);
    std::vector<double> dw = r.dw;
    for (double& v : dw) v += 0.5;
    CHECK(relative_error(p.y, r.y) < 1e-12);
    CHECK(relative_error(p.dx, r.dx) < 1e-12);
    CHECK(relative_error(p.dw, dw) < 1e-12);
}

}  // namespace

TEST_CASE("Winograd's Toom-Cook matrices compute a correlation", "[layers][conv][winograd]") {
    check_toom_cook<2, 2>(1);
    check_toom_cook<4, 2>(2);
    check_toom_cook<7, 2>(3);
    check_toom_cook<2, 3>(4);
    check_toom_cook<4, 3>(5);
    check_toom_cook<6, 3>(6);
    check_toom_cook<3, 4>(7);
    check_toom_cook<1, 5>(8);
}

TEST_CASE("The Winograd form's passes equal a convolution's definitions", "[layers][conv][winograd]") {
    check_double<conv_geometry{4, 9, 9, 4, 4, 2, 2, 1, 1, 4, 4}, 16>(1);      // DCGAN's k4 s2 p1, odd size
    check_double<conv_geometry{4, 9, 9, 4, 4, 2, 2, 1, 1, 4, 4}, 16, 8>(2);   // the same in F(7, 2)
    check_double<conv_geometry{16, 6, 5, 3, 3, 1, 1, 1, 1, 6, 5}, 17>(3);     // stride 1, "same"
    check_double<conv_geometry{8, 7, 6, 4, 2, 2, 1, 1, 0, 3, 5}, 16>(4);      // kernel, stride, padding per axis
    check_double<conv_geometry{4, 9, 9, 4, 4, 2, 2, 0, 0, 3, 3}, 16>(5);      // the last row and column unread
    check_double<conv_geometry{4, 6, 7, 4, 4, 2, 2, 3, 3, 5, 5}, 16>(6);      // padding beyond a stride
    check_double<conv_geometry{4, 10, 10, 6, 6, 2, 2, 2, 2, 5, 5}, 16>(7);    // three taps per phase
    check_double<conv_geometry{16, 7, 7, 4, 4, 1, 1, 2, 2, 8, 8}, 16>(8);     // an even kernel, stride 1
    check_double<conv_geometry{5, 15, 15, 4, 4, 2, 2, 1, 1, 7, 7}, 19>(9);    // a transposed convolution's
    // several groups of samples (winograd_conv::group, 16 here), the last one short
    static_assert(winograd_conv<conv_geometry{4, 13, 13, 4, 4, 2, 2, 1, 1, 6, 6}, 16>::group == 16);
    check_double<conv_geometry{4, 13, 13, 4, 4, 2, 2, 1, 1, 6, 6}, 16>(10, 37);
}

TEST_CASE("The Winograd form in float stays within the golden tolerance of the exact values",
          "[layers][conv][winograd]") {
    // DCGAN's 64 -> 128 convolution; im2col's float products err by about 5e-6 of the rms
    // here, F(4, 2) by about 2e-5, F(7, 2) by about 1e-4: why the layers stop at alpha 6.
    constexpr conv_geometry g{64, 14, 14, 4, 4, 2, 2, 1, 1, 7, 7};
    constexpr std::size_t out_c = 128, batch = 4;
    const auto x = normal_values(batch * g.image_size(), 11), w = normal_values(out_c * g.rows(), 12);
    const auto bias = normal_values(out_c, 13), dy = normal_values(batch * out_c * g.positions(), 14);
    const reference r = direct<g, out_c>(batch, x, w, bias, dy);
    const passes<float> p = run<g, out_c, xgan::detail::winograd_default_alpha, float>(batch, x, w, bias, dy, 0.0);
    const double ey = relative_error(p.y, r.y), edx = relative_error(p.dx, r.dx), edw = relative_error(p.dw, r.dw);
    INFO("relative errors: y " << ey << ", dx " << edx << ", dw " << edw);
    CHECK(ey < 5e-5);
    CHECK(edx < 5e-5);
    CHECK(edw < 5e-5);
}

TEST_CASE("The Winograd form gives the same bits with AVX2 or without, on one thread or two",
          "[layers][conv][winograd]") {
    constexpr conv_geometry g{8, 14, 13, 4, 4, 2, 2, 1, 1, 7, 6};
    constexpr std::size_t out_c = 24, batch = 37;  // groups of 16, 16 and 5 samples
    static_assert(winograd_conv<g, out_c>::group == 16);
    const auto x = normal_values(batch * g.image_size(), 21), w = normal_values(out_c * g.rows(), 22);
    const auto bias = normal_values(out_c, 23), dy = normal_values(batch * out_c * g.positions(), 24);
    constexpr std::size_t alpha = xgan::detail::winograd_default_alpha;
    const auto same = [](const passes<float>& a, const passes<float>& b) {
        const auto bits = [](const std::vector<float>& u, const std::vector<float>& v) {
            return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) == 0;
        };
        CHECK(bits(a.y, b.y));
        CHECK(bits(a.dx, b.dx));
        CHECK(bits(a.dw, b.dw));
    };
    const passes<float> plain = run<g, out_c, alpha, float>(batch, x, w, bias, dy, 0.25, false);
    same(run<g, out_c, alpha, float>(batch, x, w, bias, dy, 0.25, true), plain);
    xgan::set_threads(2);
    const passes<float> two = run<g, out_c, alpha, float>(batch, x, w, bias, dy, 0.25, true);
    xgan::set_threads(1);
    same(two, plain);
}

TEST_CASE("The Winograd form transforms the weights again when they change, and after a weight gradient",
          "[layers][conv][winograd]") {
    constexpr conv_geometry g{4, 9, 9, 4, 4, 2, 2, 1, 1, 4, 4};
    constexpr std::size_t out_c = 16, batch = 2;
    using W = winograd_conv<g, out_c>;
    const auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    const auto x = to_float(normal_values(batch * g.image_size(), 31));
    const auto dy = to_float(normal_values(batch * out_c * g.positions(), 32));
    const auto w1 = to_float(normal_values(out_c * g.rows(), 33));
    auto w2 = w1;
    w2[5] += 0.5f;  // one weight changed in place
    const auto forward = [&](W::scratch_type<float>& s, const std::vector<float>& w) {
        std::vector<float> y(batch * out_c * g.positions());
        W::forward(w.data(), static_cast<const float*>(nullptr), x.data(), y.data(), batch, s);
        return y;
    };
    W::scratch_type<float> fresh1, fresh2, reused;
    const auto y1 = forward(fresh1, w1), y2 = forward(fresh2, w2);
    REQUIRE(y1 != y2);
    CHECK(forward(reused, w1) == y1);
    CHECK(forward(reused, w2) == y2);  // same scratch, changed weights
    std::vector<float> grad(w2.size(), 0.0f);
    W::weight_gradient(x.data(), dy.data(), grad.data(), batch, reused);
    CHECK(forward(reused, w2) == y2);  // a weight gradient in between leaves the transformed kernels
}
