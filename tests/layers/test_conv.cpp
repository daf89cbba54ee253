// Conv2D, Conv2DRect and ConvTranspose2D: shapes, parameter layout, the values of a
// direct (loop) evaluation of PyTorch's definitions, the adjoint relation between the two
// layers, exact gradients, and the shape rules.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <xgan/xgan.hpp>

#include <support/gradient_assertions.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>

using namespace xgan;

namespace {
using tests::require_passes;

matrix<double> random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
    Rng rng(seed);
    matrix<double> x({rows, cols});
    rng.fill_normal(std::span<double>(x.data(), x.size()), 0.0, 1.0);
    return x;
}

// nn.Conv2d by its definition: y[b, o, i, j] = bias[o] + sum over c, a, e of
// w[o, c, a, e] x[b, c, i SH - PH + a, j SW - PW + e] (0 outside the image).
template <class L>
matrix<double> direct_conv(std::span<const double> params, const matrix<double>& x) {
    constexpr auto g = L::geometry;
    const std::size_t batch = x.shape()[0];
    const std::size_t out_c = L::output_shape::channels;
    matrix<double> y({batch, L::output_size});
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t o = 0; o < out_c; ++o)
            for (std::size_t i = 0; i < g.out_h; ++i)
                for (std::size_t j = 0; j < g.out_w; ++j) {
                    double sum = params[L::weight_count + o];
                    for (std::size_t c = 0; c < g.channels; ++c)
                        for (std::size_t a = 0; a < g.kernel_h; ++a)
                            for (std::size_t e = 0; e < g.kernel_w; ++e) {
                                const long r = long(i * g.stride_h + a) - long(g.pad_h);
                                const long s = long(j * g.stride_w + e) - long(g.pad_w);
                                if (r < 0 || s < 0 || r >= long(g.height) || s >= long(g.width)) continue;
                                sum += params[((o * g.channels + c) * g.kernel_h + a) * g.kernel_w + e] *
                                       x(b, (c * g.height + std::size_t(r)) * g.width + std::size_t(s));
                            }
                    y(b, (o * g.out_h + i) * g.out_w + j) = sum;
                }
    return y;
}

// nn.ConvTranspose2d by its definition: every x[b, c, i, j] adds w[c, o, a, e] x[b, c, i, j]
// to y[b, o, i S - P + a, j S - P + e] (dropped outside the output), then the bias.
template <class L>
matrix<double> direct_conv_transpose(std::span<const double> params, const matrix<double>& x) {
    using in = typename L::input_shape;
    using out = typename L::output_shape;
    constexpr auto g = L::geometry;  // the adjoint convolution: kernel, stride, padding
    const std::size_t batch = x.shape()[0];
    matrix<double> y({batch, L::output_size});
    for (std::size_t b = 0; b < batch; ++b) {
        for (std::size_t o = 0; o < out::channels; ++o)
            for (std::size_t p = 0; p < out::height * out::width; ++p)
                y(b, o * out::height * out::width + p) = params[L::weight_count + o];
        for (std::size_t c = 0; c < in::channels; ++c)
            for (std::size_t i = 0; i < in::height; ++i)
                for (std::size_t j = 0; j < in::width; ++j)
                    for (std::size_t o = 0; o < out::channels; ++o)
                        for (std::size_t a = 0; a < g.kernel_h; ++a)
                            for (std::size_t e = 0; e < g.kernel_w; ++e) {
                                const long r = long(i * g.stride_h + a) - long(g.pad_h);
                                const long s = long(j * g.stride_w + e) - long(g.pad_w);
                                if (r < 0 || s < 0 || r >= long(out::height) || s >= long(out::width)) continue;
                                y(b, (o * out::height + std::size_t(r)) * out::width + std::size_t(s)) +=
                                    params[((c * out::channels + o) * g.kernel_h + a) * g.kernel_w + e] *
                                    x(b, (c * in::height + i) * in::width + j);
                            }
    }
    return y;
}

// Runs one layer's forward and both backward passes with Group samples per product.
template <std::size_t Group, class L>
void run_passes(const L& layer, std::span<const double> params, const matrix<double>& x, const matrix<double>& dy,
                matrix<double>& y, matrix<double>& dx, std::vector<double>& grad) {
    typename L::cache_type cache;
    y = matrix<double>({x.shape()[0], L::output_size});
    dx = matrix<double>({x.shape()[0], L::input_size});
    grad.assign(L::parameter_count, 0.0);
    layer.template forward<Group>(params, {}, x, y, cache, ForwardContext{});
    layer.accumulate_gradient(params, x, y, dy, grad, cache);
    layer.backward_input(params, x, y, dy, dx, cache);
}

// Forward equals the direct definition, and the per-sample and whole-batch products agree.
template <class Spec, class In, bool Transposed>
void check_values(std::uint64_t seed) {
    using L = bind_layer_to_t<Spec, In, double>;
    INFO(L::name() << " on " << In::text());
    BasicSequential<double, Input<In::channels, In::height, In::width>, Spec> net(seed);
    const auto params = net.parameters();
    const std::size_t batch = 3;
    const matrix<double> x = random_matrix(batch, L::input_size, seed + 1);
    const matrix<double> dy = random_matrix(batch, L::output_size, seed + 2);
    const matrix<double> expected = Transposed ? direct_conv_transpose<L>(params, x) : direct_conv<L>(params, x);
    const matrix<double> y = net.forward(x);
    REQUIRE(y.shape()[1] == expected.shape()[1]);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y.data()[i] == Approx(expected.data()[i]).margin(1e-12));

    // One product per sample, groups of 2 (3 rows: a group of 2, then 1), the whole batch.
    matrix<double> y1, dx1, y2, dx2;
    std::vector<double> g1, g2;
    const L layer;
    run_passes<1>(layer, params, x, dy, y1, dx1, g1);
    for (std::size_t i = 0; i < y1.size(); ++i) REQUIRE(y1.data()[i] == Approx(y.data()[i]).margin(1e-12));
    const auto same = [&] {
        for (std::size_t i = 0; i < y1.size(); ++i) REQUIRE(y1.data()[i] == Approx(y2.data()[i]).margin(1e-12));
        for (std::size_t i = 0; i < dx1.size(); ++i) REQUIRE(dx1.data()[i] == Approx(dx2.data()[i]).margin(1e-12));
        for (std::size_t i = 0; i < g1.size(); ++i) REQUIRE(g1[i] == Approx(g2[i]).margin(1e-12));
    };
    run_passes<2>(layer, params, x, dy, y2, dx2, g2);
    same();
    run_passes<detail::all_samples>(layer, params, x, dy, y2, dx2, g2);
    same();
}

double dot(const matrix<double>& a, const matrix<double>& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += a.data()[i] * b.data()[i];
    return sum;
}

// <conv(x), y> = <x, convT(y)> with the same weights and no bias: ConvTranspose2D is the
// adjoint of Conv2D, so its forward pass is Conv2D's input gradient.
template <class Conv, class ConvT, class In>
void check_adjoint(std::uint64_t seed) {
    using C = BasicSequential<double, Input<In::channels, In::height, In::width>, Conv>;
    using Out = typename C::output_shape;
    using CT = BasicSequential<double, Input<Out::channels, Out::height, Out::width>, ConvT>;
    STATIC_REQUIRE(std::is_same_v<typename CT::output_shape, In>);
    C conv(seed);
    CT convt(seed + 1);
    using L = typename C::template layer_type<0>;
    using LT = typename CT::template layer_type<0>;
    STATIC_REQUIRE(L::weight_count == LT::weight_count);
    auto p = conv.parameters();
    auto q = convt.parameters();
    std::copy(p.begin(), p.begin() + L::weight_count, q.begin());
    std::fill(p.begin() + L::weight_count, p.end(), 0.0);
    std::fill(q.begin() + LT::weight_count, q.end(), 0.0);
    const matrix<double> x = random_matrix(2, In::size, seed + 2);
    const matrix<double> y = random_matrix(2, Out::size, seed + 3);
    const double left = dot(conv.forward(x), y);
    const double right = dot(x, convt.forward(y));
    INFO(L::name());
    CHECK(left == Approx(right).epsilon(1e-12));
    CHECK(left != 0.0);
}
}  // namespace

TEST_CASE("Convolution layers have PyTorch's output sizes and parameter layout", "[layers][conv]") {
    using D = bind_layer_to_t<Conv2D<64, 128, 4, 2, 1>, shape<64, 14, 14>, float>;
    STATIC_REQUIRE(std::is_same_v<D::output_shape, shape<128, 7, 7>>);
    STATIC_REQUIRE(D::parameter_count == 128 * 64 * 4 * 4 + 128);
    using G = bind_layer_to_t<ConvTranspose2D<128, 64, 4, 2, 1>, shape<128, 7, 7>, float>;
    STATIC_REQUIRE(std::is_same_v<G::output_shape, shape<64, 14, 14>>);
    STATIC_REQUIRE(G::parameter_count == 128 * 64 * 4 * 4 + 64);
    // Floor division: (6 - 3) / 2 + 1 = 2; output padding adds a row and a column.
    STATIC_REQUIRE(std::is_same_v<bind_layer_to_t<Conv2D<1, 1, 3, 2>, shape<1, 6, 6>, float>::output_shape,
                                  shape<1, 2, 2>>);
    using OP = bind_layer_to_t<ConvTranspose2D<2, 3, 3, 2, 1, 1>, shape<2, 3, 3>, float>;
    STATIC_REQUIRE(std::is_same_v<OP::output_shape, shape<3, 6, 6>>);
    // (7 - 3) / 1 + 1 = 5 rows, (9 + 2 - 5) / 2 + 1 = 4 columns.
    using R = bind_layer_to_t<Conv2DRect<2, 3, 3, 5, 1, 2, 0, 1>, shape<2, 7, 9>, float>;
    STATIC_REQUIRE(std::is_same_v<R::output_shape, shape<3, 5, 4>>);
    STATIC_REQUIRE(R::parameter_count == 3 * 2 * 3 * 5 + 3);

    CHECK(D::name() == "Conv2D(64, 128, k4, s2, p1)");
    CHECK(R::name() == "Conv2D(2, 3, k3x5, s1x2, p0x1)");
    CHECK(G::name() == "ConvTranspose2D(128, 64, k4, s2, p1, op0)");

    Sequential<Input<3, 8, 8>, Conv2D<3, 4, 3, 1, 1>, ConvTranspose2D<4, 2, 4, 2, 1>> net;
    const auto named = net.named_parameters();
    REQUIRE(named.size() == 4);
    CHECK(named[0].name == "0.weight");
    CHECK(named[0].shape == std::vector<std::size_t>{4, 3, 3, 3});
    CHECK(named[1].name == "0.bias");
    CHECK(named[1].shape == std::vector<std::size_t>{4});
    CHECK(named[2].name == "1.weight");
    CHECK(named[2].shape == std::vector<std::size_t>{4, 2, 4, 4});
    CHECK(named[3].shape == std::vector<std::size_t>{2});
    STATIC_REQUIRE(std::is_same_v<decltype(net)::output_shape, shape<2, 16, 16>>);
}

TEST_CASE("Conv2D of a 4 x 4 ramp with a 3 x 3 kernel of ones, by hand", "[layers][conv]") {
    BasicSequential<double, Input<1, 4, 4>, Conv2D<1, 1, 3>> net;
    auto p = net.parameters();
    std::fill(p.begin(), p.end() - 1, 1.0);
    p.back() = 0.5;
    matrix<double> x({1, 16});
    for (std::size_t i = 0; i < 16; ++i) x(0, i) = double(i);
    const matrix<double> y = net.forward(x);
    REQUIRE(y.shape()[1] == 4);
    // Top left: 0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10; each step right adds 3, down 12.
    CHECK(y(0, 0) == 45.5);
    CHECK(y(0, 1) == 54.5);
    CHECK(y(0, 2) == 81.5);
    CHECK(y(0, 3) == 90.5);
}

TEST_CASE("Convolutions equal a direct evaluation of PyTorch's definitions", "[layers][conv]") {
    check_values<Conv2D<3, 4, 3, 2, 1>, shape<3, 7, 6>, false>(1);
    check_values<Conv2D<2, 5, 3>, shape<2, 5, 7>, false>(2);
    check_values<Conv2D<1, 2, 4, 2, 1>, shape<1, 8, 8>, false>(3);
    check_values<Conv2D<2, 3, 5, 3, 2>, shape<2, 9, 11>, false>(4);
    check_values<Conv2DRect<2, 3, 3, 2, 2, 1, 1, 0>, shape<2, 7, 5>, false>(5);
    check_values<ConvTranspose2D<3, 2, 4, 2, 1>, shape<3, 4, 5>, true>(6);
    check_values<ConvTranspose2D<2, 3, 3, 2, 1, 1>, shape<2, 3, 3>, true>(7);
    check_values<ConvTranspose2D<2, 2, 3>, shape<2, 4, 3>, true>(8);
    check_values<ConvTranspose2D<2, 3, 5, 3, 2, 2>, shape<2, 3, 4>, true>(9);
    // in Winograd form (detail/winograd.hpp): kernels of whole strides, enough channels
    STATIC_REQUIRE(bind_layer_to_t<Conv2D<4, 16, 4, 2, 1>, shape<4, 9, 7>, double>::uses_winograd);
    STATIC_REQUIRE(bind_layer_to_t<ConvTranspose2D<16, 4, 4, 2, 1, 1>, shape<16, 4, 3>, double>::uses_winograd);
    STATIC_REQUIRE(!bind_layer_to_t<Conv2D<3, 4, 3, 2, 1>, shape<3, 7, 6>, double>::uses_winograd);
    check_values<Conv2D<4, 16, 4, 2, 1>, shape<4, 9, 7>, false>(10);
    check_values<Conv2D<16, 16, 3, 1, 1>, shape<16, 5, 6>, false>(11);
    check_values<Conv2DRect<8, 16, 4, 2, 2, 1, 1, 0>, shape<8, 7, 6>, false>(12);
    check_values<ConvTranspose2D<16, 4, 4, 2, 1>, shape<16, 4, 5>, true>(13);
    check_values<ConvTranspose2D<16, 4, 4, 2, 1, 1>, shape<16, 4, 3>, true>(14);
}

// im2col (whole and in a range of rows) and col2im (with and without a bias) against
// their definitions, exactly: the phase-plane and column-phase forms (detail/im2col.hpp)
// must give the element-by-element values, and col2im add each pixel's entries in row order.
template <detail::conv_geometry G>
void check_im2col(std::uint64_t seed) {
    CAPTURE(G.channels, G.height, G.width, G.kernel_h, G.kernel_w, G.stride_h, G.stride_w, G.pad_h, G.pad_w);
    const std::size_t rows = G.rows(), positions = G.positions(), ld = 2 * positions + 3;
    const matrix<double> image = random_matrix(1, G.image_size(), seed);
    std::vector<double> columns(rows * ld, -7.0);
    detail::im2col<G>(image.data(), columns.data() + 1, ld);
    const auto pixel = [&](std::size_t c, std::size_t ki, std::size_t kj, std::size_t oh, std::size_t ow) {
        const long h = long(oh * G.stride_h + ki) - long(G.pad_h), w = long(ow * G.stride_w + kj) - long(G.pad_w);
        const bool inside = h >= 0 && w >= 0 && h < long(G.height) && w < long(G.width);
        return std::pair{inside, inside ? (c * G.height + std::size_t(h)) * G.width + std::size_t(w) : 0};
    };
    const std::size_t first = rows / 3 + 1, last = 2 * rows / 3 + 1;  // not on a channel's edge
    std::vector<double> part((last - first) * ld);
    detail::im2col_rows<G>(image.data(), part.data(), ld, first, last);
    std::size_t wrong = 0;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t p = 0; p < positions; ++p) {
            const auto [inside, at] = pixel(r / (G.kernel_h * G.kernel_w), r / G.kernel_w % G.kernel_h,
                                            r % G.kernel_w, p / G.out_w, p % G.out_w);
            const double expected = inside ? image.data()[at] : 0.0;
            wrong += columns[r * ld + 1 + p] != expected;
            if (r >= first && r < last) wrong += part[(r - first) * ld + p] != expected;
        }
    CHECK(wrong == 0);

    matrix<double> entries = random_matrix(rows, ld, seed + 1);  // col2im may zero the padding's entries
    const matrix<double> bias = random_matrix(1, G.channels, seed + 2);
    std::vector<double> expected(G.image_size(), 0.0), plain(G.image_size()), biased(G.image_size());
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t p = 0; p < positions; ++p) {
            const auto [inside, at] = pixel(r / (G.kernel_h * G.kernel_w), r / G.kernel_w % G.kernel_h,
                                            r % G.kernel_w, p / G.out_w, p % G.out_w);
            if (inside) expected[at] += entries.data()[r * ld + p];
        }
    detail::col2im<G>(entries.data(), ld, plain.data());
    detail::col2im<G>(entries.data(), ld, biased.data(), bias.data());
    wrong = 0;
    for (std::size_t i = 0; i < G.image_size(); ++i) {
        wrong += plain[i] != expected[i];
        wrong += biased[i] != expected[i] + bias.data()[i / (G.height * G.width)];
    }
    CHECK(wrong == 0);
}

// Which form im2col_rows and col2im take for a geometry of doubles.
template <detail::conv_geometry G>
constexpr bool through_planes = detail::phase_planes<G>::template fits<double>;
template <detail::conv_geometry G>
constexpr bool through_phases = !through_planes<G> && detail::column_phases<G>::template fits<double>;

TEST_CASE("im2col and col2im equal their definitions exactly, through phase planes, column phases and element "
          "by element",
          "[layers][conv]") {
    using detail::conv_geometry;
    constexpr conv_geometry dcgan{64, 14, 14, 4, 4, 2, 2, 1, 1, 7, 7};  // DCGAN's 64 -> 128 convolution
    constexpr conv_geometry same{3, 9, 8, 3, 3, 1, 1, 1, 1, 9, 8};      // stride 1, "same" padding
    constexpr conv_geometry wide{2, 10, 13, 3, 3, 3, 3, 2, 2, 4, 5};
    constexpr conv_geometry uneven{2, 5, 7, 2, 3, 2, 3, 0, 2, 2, 3};
    constexpr conv_geometry one{2, 6, 6, 1, 1, 1, 1, 0, 0, 6, 6};
    constexpr conv_geometry rect{3, 9, 11, 3, 5, 1, 2, 0, 1, 7, 5};
    constexpr conv_geometry output_padding{3, 15, 15, 4, 4, 2, 2, 1, 1, 7, 7};  // a transposed convolution's
    constexpr conv_geometry valid{2, 8, 9, 3, 3, 1, 1, 0, 0, 6, 7};
    constexpr conv_geometry large{1, 100, 100, 3, 3, 2, 2, 1, 1, 50, 50};
    static_assert(through_planes<dcgan> && through_planes<same> && through_planes<wide> && through_planes<uneven> &&
                  through_planes<one>);
    static_assert(through_phases<rect> && through_phases<output_padding> && through_phases<valid>);
    static_assert(!through_planes<large> && !through_phases<large>);
    check_im2col<dcgan>(1);
    check_im2col<same>(2);
    check_im2col<wide>(3);
    check_im2col<uneven>(4);
    check_im2col<one>(5);
    check_im2col<rect>(6);
    check_im2col<output_padding>(7);
    check_im2col<valid>(8);
    check_im2col<large>(9);  // too large for either: element by element
}

TEST_CASE("ConvTranspose2D is the adjoint of Conv2D", "[layers][conv]") {
    check_adjoint<Conv2D<3, 4, 3>, ConvTranspose2D<4, 3, 3>, shape<3, 7, 6>>(1);
    check_adjoint<Conv2D<2, 3, 4, 2, 1>, ConvTranspose2D<3, 2, 4, 2, 1>, shape<2, 8, 8>>(2);
    // (8 + 2 - 3) / 2 + 1 = 4 drops a row; output padding 1 gives it back.
    check_adjoint<Conv2D<2, 3, 3, 2, 1>, ConvTranspose2D<3, 2, 3, 2, 1, 1>, shape<2, 8, 8>>(3);
    check_adjoint<Conv2D<4, 16, 4, 2, 1>, ConvTranspose2D<16, 4, 4, 2, 1>, shape<4, 8, 10>>(4);  // Winograd form
}

TEST_CASE("Convolution layers pass the gradient check", "[layers][conv][gradients]") {
    const GradientCheckOptions options{.batch = 3};
    require_passes(check_layer_gradients<Conv2D<3, 4, 3, 2, 1>, shape<3, 7, 6>>(options));
    require_passes(check_layer_gradients<Conv2D<2, 3, 2>, shape<2, 5, 4>>(options));
    require_passes(check_layer_gradients<Conv2DRect<2, 3, 3, 2, 2, 1, 1, 0>, shape<2, 7, 5>>(options));
    require_passes(check_layer_gradients<ConvTranspose2D<3, 2, 4, 2, 1>, shape<3, 4, 5>>(options));
    require_passes(check_layer_gradients<ConvTranspose2D<2, 3, 3, 2, 1, 1>, shape<2, 3, 3>>(options));
    // in Winograd form
    require_passes(check_layer_gradients<Conv2D<4, 16, 4, 2, 1>, shape<4, 5, 7>>(options));
    require_passes(check_layer_gradients<ConvTranspose2D<16, 4, 4, 2, 1>, shape<16, 3, 2>>(options));
    using Net = BasicSequential<double, Input<2, 9, 7>, Conv2D<2, 4, 3, 2, 1>, LeakyReLU,
                                ConvTranspose2D<4, 3, 3, 2, 1>, Tanh, Conv2D<3, 2, 3>, Sigmoid>;
    require_passes(check_gradients<Net>(options));
}

TEST_CASE("Convolution layers state their shape rules", "[layers][conv][composable]") {
    STATIC_REQUIRE(composable<Input<3, 8, 8>, Conv2D<3, 4, 3>>);
    STATIC_REQUIRE_FALSE(composable<Input<16>, Conv2D<1, 4, 3>>);              // a vector
    STATIC_REQUIRE_FALSE(composable<Input<3, 8, 8>, Conv2D<2, 4, 3>>);         // channels
    STATIC_REQUIRE_FALSE(composable<Input<1, 2, 3>, Conv2D<1, 1, 5>>);         // kernel > padded input
    STATIC_REQUIRE_FALSE(composable<Input<1, 2, 3>, Conv2D<1, 1, 5, 1, 1>>);   // rows: 2 + 2 < 5
    STATIC_REQUIRE(composable<Input<1, 3, 3>, Conv2D<1, 1, 5, 1, 1>>);         // 3 + 2 >= 5 both ways
    STATIC_REQUIRE_FALSE(composable<Input<1, 8, 2>, Conv2DRect<1, 1, 3, 5>>);  // 2 < 5 columns
    STATIC_REQUIRE(composable<Input<1, 8, 2>, Conv2DRect<1, 1, 3, 5, 1, 1, 0, 2>>);
    STATIC_REQUIRE(composable<Input<4, 3, 3>, ConvTranspose2D<4, 2, 3, 2, 1, 1>>);
    STATIC_REQUIRE_FALSE(composable<Input<16>, ConvTranspose2D<1, 2, 3>>);           // a vector
    STATIC_REQUIRE_FALSE(composable<Input<4, 3, 3>, ConvTranspose2D<3, 2, 3>>);      // channels
    STATIC_REQUIRE_FALSE(composable<Input<4, 3, 3>, ConvTranspose2D<4, 2, 3, 2, 1, 2>>);  // op >= stride
    STATIC_REQUIRE_FALSE(composable<Input<4, 3, 3>, ConvTranspose2D<4, 2, 3, 1, 0, 1>>);  // op >= stride 1
    STATIC_REQUIRE_FALSE(composable<Input<1, 1, 1>, ConvTranspose2D<1, 1, 1, 1, 1>>);     // 0 + 1 - 2 <= 0
    STATIC_REQUIRE(composable<Input<1, 2, 2>, ConvTranspose2D<1, 1, 1, 2, 1>>);           // 2 + 1 - 2 = 1
    // After a layer: a Dense output is a vector until Unflatten makes it an image.
    STATIC_REQUIRE_FALSE(composable<Dense<4, 27>, Conv2D<3, 2, 3>>);
}
