// Winograd's minimal filtering for the convolution layers (layers/conv2d.hpp,
// layers/conv_transpose2d.hpp): fewer multiplications than im2col's product where a
// convolution's kernel is a whole number of strides, e.g. DCGAN's k4 s2 p1 and the 3 x 3
// "same" convolutions.
//
// The idea, one axis at a time. A convolution of stride S whose kernel K is R strides long
// (K = R S) is the sum over its S phases p of a stride-1 convolution with R taps:
//     y[i] = sum_p sum_a w[S a + p] x[S (i + a) + p - P],
// the phase plane x_p[v] = x[S v + p - P] read by taps w_p[a] = w[S a + p]. With the
// phases of both axes as extra input channels (C S_h S_w of them), a stride-2 k4
// convolution is a stride-1 2 x 2 one, and a stride-1 convolution is itself.
//
// Winograd's F(m, R) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016) computes m outputs of an R-tap stride-1 correlation from alpha = m + R - 1 inputs
// with alpha multiplications instead of m R:
//     y = A^T [(G g) . (B^T d)],
// the matrices those of Toom-Cook interpolation at the points 0, 1, -1, 2, -2, 1/2, -1/2
// and infinity (toom_cook below, computed at compile time). In two dimensions the output
// is cut into m x m tiles, and for each of the alpha x alpha transformed positions xi the
// sum over input channels is one matrix product:
//     M[xi] {tiles, OutC} = V[xi] {tiles, C'} U[xi]^T {C', OutC},
// V the transformed input tiles, U the transformed kernels. For DCGAN's 64 -> 128
// convolution (7 x 7 outputs, two 4 x 4 tiles per axis, alpha = 5) the products need
// 25 x 4 = 100 multiplications per output channel, input channel and output 7 x 7 plane
// where im2col needs 196: they take half the time.
//
// The three passes are products at the same 25 positions: the input gradient is the
// transposed product between the adjoint transforms, the weight gradient the product of the
// output gradient's and the input's transforms, then the kernel transform's adjoint. Each
// is the exact gradient of the forward computation, and equals the convolution's up to
// rounding (tests/layers/test_winograd.cpp compares each with its definition).
//
// The transforms work on images in channels-last order (H x W x C per sample), so that each
// combination of tile values is a loop over contiguous channels; the layers' NCHW rows are
// transposed on the way in and out.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgan/detail/blas.hpp>
#include <xgan/detail/conv_groups.hpp>
#include <xgan/detail/cpu_dispatch.hpp>
#include <xgan/detail/im2col.hpp>

namespace xgan::detail {

template <std::size_t Rows, std::size_t Cols>
using dmatrix = std::array<std::array<double, Cols>, Rows>;

// The interpolation points, in the order they are taken (alpha - 1 of them, then infinity).
inline constexpr std::array<double, 7> winograd_points{0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5};
inline constexpr std::size_t winograd_max_alpha = winograd_points.size() + 1;

// The matrices of F(M, R): at (A^T, M x alpha), g (G, alpha x R), bt (B^T, alpha x alpha),
// with the factors 1 / prod(p_j - p_l) in G; and their transposes, for the adjoints.
template <std::size_t M, std::size_t R>
struct toom_cook {
    static constexpr std::size_t alpha = M + R - 1;
    static constexpr std::size_t finite = alpha - 1;
    static_assert(M >= 1 && R >= 1 && alpha <= winograd_max_alpha, "xgan::detail::toom_cook: too few points");

    static constexpr double power(double p, std::size_t k) {
        double v = 1;
        for (std::size_t i = 0; i < k; ++i) v *= p;
        return v;
    }

    // The coefficients of prod (x - p_l) over the finite points but `skip` (none for skip = finite).
    static constexpr std::array<double, alpha> product(std::size_t skip) {
        std::array<double, alpha> c{};
        c[0] = 1;
        std::size_t degree = 0;
        for (std::size_t l = 0; l < finite; ++l) {
            if (l == skip) continue;
            const double p = winograd_points[l];
            for (std::size_t k = degree + 1; k > 0; --k) c[k] = c[k - 1] - p * c[k];
            c[0] = -p * c[0];
            ++degree;
        }
        return c;
    }

    static constexpr dmatrix<M, alpha> at = [] {
        dmatrix<M, alpha> a{};
        for (std::size_t i = 0; i < M; ++i) {
            for (std::size_t j = 0; j < finite; ++j) a[i][j] = power(winograd_points[j], i);
            a[i][finite] = i == M - 1 ? 1 : 0;
        }
        return a;
    }();

    static constexpr dmatrix<alpha, R> g = [] {
        dmatrix<alpha, R> a{};
        for (std::size_t j = 0; j < finite; ++j) {
            double f = 1;
            for (std::size_t l = 0; l < finite; ++l)
                if (l != j) f *= winograd_points[j] - winograd_points[l];
            for (std::size_t k = 0; k < R; ++k) a[j][k] = power(winograd_points[j], k) / f;
        }
        for (std::size_t k = 0; k < R; ++k) a[finite][k] = k == R - 1 ? 1 : 0;
        return a;
    }();

    static constexpr dmatrix<alpha, alpha> bt = [] {
        dmatrix<alpha, alpha> a{};
        for (std::size_t j = 0; j < alpha; ++j) a[j] = product(j);
        return a;
    }();

    template <std::size_t Rows, std::size_t Cols>
    static constexpr dmatrix<Cols, Rows> transpose(const dmatrix<Rows, Cols>& m) {
        dmatrix<Cols, Rows> t{};
        for (std::size_t i = 0; i < Rows; ++i)
            for (std::size_t j = 0; j < Cols; ++j) t[j][i] = m[i][j];
        return t;
    }
    static constexpr dmatrix<alpha, M> a = transpose(at);
    static constexpr dmatrix<R, alpha> gt = transpose(g);
    static constexpr dmatrix<alpha, alpha> b = transpose(bt);
};

#if defined(__GNUC__) || defined(__clang__)
#define XGAN_WINOGRAD_INLINE __attribute__((always_inline)) inline
#else
#define XGAN_WINOGRAD_INLINE inline
#endif

// Mat[Row][L] src[L][c], its ones and minus ones not multiplied.
template <const auto& Mat, std::size_t Row, std::size_t L, class T>
XGAN_WINOGRAD_INLINE T winograd_term(const T* const* src, std::size_t c) {
    constexpr double k = Mat[Row][L];
    if constexpr (k == 1)
        return src[L][c];
    else if constexpr (k == -1)
        return -src[L][c];
    else
        return static_cast<T>(k) * src[L][c];
}

// sum += the terms First + 1 + L that are not zero, in order.
template <const auto& Mat, std::size_t Row, std::size_t First, class T, std::size_t... L>
XGAN_WINOGRAD_INLINE void winograd_add_terms(T& sum, [[maybe_unused]] const T* const* src,
                                             [[maybe_unused]] std::size_t c, std::index_sequence<L...>) {
    ((Mat[Row][First + 1 + L] != 0 ? static_cast<void>(sum += winograd_term<Mat, Row, First + 1 + L>(src, c))
                                   : static_cast<void>(0)),
     ...);
}

// dst[c] (+)= sum_l Mat[Row][l] src[l][c] for c in [0, Lanes): the row's zeros skipped and
// its ones and minus ones not multiplied, at compile time; the terms added in order of l.
template <const auto& Mat, std::size_t Row, std::size_t Lanes, bool Accumulate, class T>
XGAN_WINOGRAD_INLINE void combine(const T* const* src, T* __restrict dst) {
    constexpr std::size_t count = Mat[Row].size();
    constexpr std::size_t first = [] {
        std::size_t l = 0;
        while (l < count && Mat[Row][l] == 0) ++l;
        return l;
    }();
    for (std::size_t c = 0; c < Lanes; ++c) {
        T sum = T(0);
        if constexpr (first < count) {
            sum = winograd_term<Mat, Row, first>(src, c);
            winograd_add_terms<Mat, Row, first>(sum, src, c, std::make_index_sequence<count - first - 1>{});
        }
        if constexpr (Accumulate)
            dst[c] += sum;
        else
            dst[c] = sum;
    }
}

template <const auto& Mat, std::size_t Lanes, bool Accumulate, class T, std::size_t... Row>
XGAN_WINOGRAD_INLINE void combine_each_row(const T* const* src, T* const* dst, std::index_sequence<Row...>) {
    (combine<Mat, Row, Lanes, Accumulate>(src, dst[Row]), ...);
}

// dst[r] (+)= sum_l Mat[r][l] src[l] for every row r of Mat, each a vector of Lanes values.
template <const auto& Mat, std::size_t Lanes, bool Accumulate = false, class T>
XGAN_WINOGRAD_INLINE void combine_rows(const T* const* src, T* const* dst) {
    combine_each_row<Mat, Lanes, Accumulate>(src, dst, std::make_index_sequence<Mat.size()>{});
}

// body() compiled for AVX2 where xgan's kernels use it (detail/cpu_dispatch.hpp), else as
// the rest of the program. Without FMA: the values are the same either way, only more of
// them are computed per instruction. body's call operator must be always-inline
// (XGAN_WINOGRAD_INLINE_LAMBDA), for its loops to be compiled in the caller's instruction set.
#if XGAN_KERNELS_X86
#define XGAN_WINOGRAD_INLINE_LAMBDA __attribute__((always_inline))
template <class Body>
__attribute__((target("avx2"))) void call_avx2(const Body& body) {
    body();
}
#else
#define XGAN_WINOGRAD_INLINE_LAMBDA
#endif
// (allowed = false: as compiled, whatever the CPU.)
template <class Body>
void call_vectorized(bool allowed, const Body& body) {
#if XGAN_KERNELS_X86
    if (allowed && kernels::avx2_active()) {
        call_avx2(body);
        return;
    }
#endif
    body();
}

// The tile m with the fewest transformed positions per output, tiles() alpha, among those
// with alpha <= MaxAlpha (ties to the smaller alpha, whose rounding is smaller).
constexpr std::size_t winograd_tile(std::size_t out, std::size_t taps, std::size_t max_alpha) {
    std::size_t best = 1, best_cost = static_cast<std::size_t>(-1);
    for (std::size_t m = 2; m + taps - 1 <= max_alpha; ++m) {
        const std::size_t cost = (out + m - 1) / m * (m + taps - 1);
        if (cost < best_cost) {
            best = m;
            best_cost = cost;
        }
    }
    return best;
}

// One axis of a convolution in Winograd form: R = K / S taps per phase, tiles of m outputs.
struct winograd_axis {
    std::size_t extent, kernel, stride, pad, out;
    std::size_t taps, tile;

    // The axis of an input `extent` long, with the tile that needs the fewest positions.
    static constexpr winograd_axis of(std::size_t extent, std::size_t kernel, std::size_t stride, std::size_t pad,
                                      std::size_t out, std::size_t max_alpha) {
        const std::size_t taps = kernel / stride;
        return {extent, kernel, stride, pad, out, taps, winograd_tile(out, taps, max_alpha)};
    }

    constexpr std::size_t alpha() const { return tile + taps - 1; }
    constexpr std::size_t tiles() const { return (out + tile - 1) / tile; }
    // The phase-plane positions the convolution reads: out + taps - 1.
    constexpr std::size_t used() const { return out + taps - 1; }
    // Plane position v of phase p reads input index S v + p - P: -1 where that lies outside
    // the input or v outside the positions used.
    constexpr std::ptrdiff_t input_index(std::size_t v, std::size_t p) const {
        const std::ptrdiff_t i = static_cast<std::ptrdiff_t>(stride * v + p) - static_cast<std::ptrdiff_t>(pad);
        return v < used() && i >= 0 && i < static_cast<std::ptrdiff_t>(extent) ? i : -1;
    }
};

// The largest alpha the layers use: 6, i.e. F(4, 2) and F(4, 3). Larger tiles need fewer
// multiplications (F(7, 2) covers DCGAN's 7 x 7 planes in one tile, 64 positions instead of
// 100) but their transforms amplify rounding: tests/layers/test_winograd.cpp measures both.
inline constexpr std::size_t winograd_default_alpha = 6;

// Whether a convolution of geometry G with OutC output channels is computed in Winograd
// form: a kernel of two to five whole strides along each axis, and enough channels that
// the products, not the transforms, dominate. Defining XGAN_CONV_NO_WINOGRAD turns it off
// (the im2col form everywhere; bench/conv_timing.cpp compares the two).
template <conv_geometry G, std::size_t OutC>
constexpr bool winograd_applies() {
#ifdef XGAN_CONV_NO_WINOGRAD
    return false;
#else
    constexpr auto taps_fit = [](std::size_t kernel, std::size_t stride) {
        return kernel % stride == 0 && kernel / stride >= 2 && kernel / stride + 1 <= winograd_default_alpha;
    };
    return taps_fit(G.kernel_h, G.stride_h) && taps_fit(G.kernel_w, G.stride_w) &&
           G.channels * G.stride_h * G.stride_w >= 16 && OutC >= 16;
#endif
}

// A convolution of geometry G (C = G.channels input channels) with OutC output channels in
// Winograd form, with tiles of at most MaxAlpha transformed values per axis.
template <conv_geometry G, std::size_t OutC, std::size_t MaxAlpha = winograd_default_alpha>
struct winograd_conv {
    static constexpr std::size_t C = G.channels, O = OutC;
    static constexpr winograd_axis rows =
        winograd_axis::of(G.height, G.kernel_h, G.stride_h, G.pad_h, G.out_h, MaxAlpha);
    static constexpr winograd_axis cols =
        winograd_axis::of(G.width, G.kernel_w, G.stride_w, G.pad_w, G.out_w, MaxAlpha);
    using along_h = toom_cook<rows.tile, rows.taps>;
    using along_w = toom_cook<cols.tile, cols.taps>;
    static constexpr std::size_t ah = rows.alpha(), aw = cols.alpha();
    static constexpr std::size_t positions = ah * aw;  // the products' count
    static constexpr std::size_t phases = G.stride_h * G.stride_w;
    static constexpr std::size_t inputs = C * phases;                  // C', the products' inner size
    static constexpr std::size_t tiles = rows.tiles() * cols.tiles();  // per sample
    static constexpr std::size_t in_pixels = G.height * G.width, out_pixels = G.out_h * G.out_w;

    // How many samples one round of transforms and products takes: enough for products of
    // about 64 columns (tiles), which run near the speed of the whole batch's, few enough that
    // the round's transformed tiles stay in cache between the transforms and the products
    // (1.6 MB for DCGAN's 64 -> 128 convolution; the whole batch's, 6.5 MB, did not).
    static constexpr std::size_t group = std::max<std::size_t>(1, 64 / tiles);

    // The distance between two positions' matrices in u, v and m: their sizes, plus a
    // skew of 64 values, as their sizes are often multiples of 4 KiB whose rows would all
    // fall into the same cache sets when a transform writes one tile to every position.
    static constexpr std::size_t skew = 64;
    static constexpr std::size_t u_stride = O * inputs + skew;
    static constexpr std::size_t v_stride(std::size_t n) { return n * inputs + skew; }
    static constexpr std::size_t m_stride(std::size_t n) { return n * O + skew; }

    static constexpr std::size_t work_size() { return 2 * ah * aw * std::max(C, O) * phases; }

    // Scratch, grown on the calling thread before the threads' shares (reserve).
    template <class T>
    struct scratch_type {
        std::vector<T> u, du;  // {positions, O, C'} (+ skew): the transformed kernels, their gradient
        // the weights u holds the transform of, when u_current: the passes of one step (the
        // forward passes and input gradients with the same weights) transform them once
        std::vector<T> u_weights;
        bool u_current = false;
        struct share_scratch {
            std::vector<T> v, m;           // a group's {positions, columns, C'} and {positions, columns, O}
            std::vector<T> input, output;  // a sample channels last: {H, W, C}, {OH, OW, O}
            std::vector<T> work;           // a tile's intermediate values
        };
        std::vector<share_scratch> shares;  // per thread
        std::vector<T> zeros;
        // whether the transforms may run their AVX2 code where the kernels use AVX2 (the
        // values are the same; tests/layers/test_winograd.cpp compares the two)
        bool vectorize = true;

        void reserve(std::size_t count) {
            grow_to(u, positions * u_stride);
            grow_to(du, positions * u_stride);
            grow_to(u_weights, O * G.rows());
            if (shares.size() < count) shares.resize(count);
            for (share_scratch& t : shares) {
                grow_to(t.v, positions * v_stride(group * tiles));
                grow_to(t.m, positions * m_stride(group * tiles));
                grow_to(t.input, in_pixels * C);
                grow_to(t.output, out_pixels * O);
                grow_to(t.work, work_size());
            }
            grow_to(zeros, std::max(C, O) * phases);
        }
    };

    // y = conv(x) + bias (none for nullptr), NCHW rows of `batch` samples.
    template <class T>
    static void forward(const T* weight, const T* bias, const T* x, T* y, std::size_t batch, scratch_type<T>& s) {
        by_groups(
            weight, batch, s,
            [&](auto& t, std::size_t sample, std::size_t index, std::size_t n) XGAN_WINOGRAD_INLINE_LAMBDA {
                to_channels_last<C, in_pixels>(x + sample * in_pixels * C, t.input.data());
                input_transform(t.input.data(), index, n, t.v.data(), s.zeros.data(), t.work.data());
            },
            [&](auto& t, std::size_t n, std::size_t xi) {
                gemm<T>(false, true, n, O, inputs, T(1), t.v.data() + xi * v_stride(n), inputs,
                        s.u.data() + xi * u_stride, inputs, T(0), t.m.data() + xi * m_stride(n), O);
            },
            [&](auto& t, std::size_t sample, std::size_t index, std::size_t n) XGAN_WINOGRAD_INLINE_LAMBDA {
                output_transform(t.m.data(), index, n, t.output.data(), t.work.data());
                from_channels_last<O, out_pixels>(t.output.data(), y + sample * out_pixels * O, bias);
            });
    }

    // dx = conv^T(dy) + bias (none for nullptr): the input gradient, or a transposed
    // convolution's forward pass.
    template <class T>
    static void backward_input(const T* weight, const T* bias, const T* dy, T* dx, std::size_t batch,
                               scratch_type<T>& s) {
        by_groups(
            weight, batch, s,
            [&](auto& t, std::size_t sample, std::size_t index, std::size_t n) XGAN_WINOGRAD_INLINE_LAMBDA {
                output_adjoint(dy + sample * out_pixels * O, index, n, t.m.data(), t.output.data(), s.zeros.data(),
                               t.work.data());
            },
            [&](auto& t, std::size_t n, std::size_t xi) {
                gemm<T>(false, false, n, inputs, O, T(1), t.m.data() + xi * m_stride(n), O,
                        s.u.data() + xi * u_stride, inputs, T(0), t.v.data() + xi * v_stride(n), inputs);
            },
            [&](auto& t, std::size_t sample, std::size_t index, std::size_t n) XGAN_WINOGRAD_INLINE_LAMBDA {
                input_adjoint(t.v.data(), index, n, t.input.data(), t.work.data());
                from_channels_last<C, in_pixels>(t.input.data(), dx + sample * in_pixels * C, bias);
            });
    }

    // grad += dL/dW for dy = conv(x): {O, C, KH, KW}. The groups in order, each one's
    // transforms shared among the threads by sample and its products by position, each
    // product adding the group's share to the position's sum: the same sums on any number
    // of threads.
    template <class T>
    static void weight_gradient(const T* x, const T* dy, T* grad, std::size_t batch, scratch_type<T>& s) {
        s.reserve(std::max({share_count(std::min(group, batch)), share_count(O), share_count(positions)}));
        auto& shared = s.shares[0];  // the group's transformed tiles, written by every thread
        for (std::size_t start = 0; start < batch; start += group) {
            const std::size_t count = std::min(group, batch - start), n = count * tiles;
            for_each_share(count, share_count(count), [&](std::size_t share, std::size_t first, std::size_t last) {
                auto& t = s.shares[share];
                call_vectorized(s.vectorize, [&]() XGAN_WINOGRAD_INLINE_LAMBDA {
                    for (std::size_t b = first; b < last; ++b) {
                        to_channels_last<C, in_pixels>(x + (start + b) * in_pixels * C, t.input.data());
                        input_transform(t.input.data(), b, n, shared.v.data(), s.zeros.data(), t.work.data());
                        output_adjoint(dy + (start + b) * out_pixels * O, b, n, shared.m.data(), t.output.data(),
                                       s.zeros.data(), t.work.data());
                    }
                });
            });
            const T beta = start == 0 ? T(0) : T(1);
            for_each_share(positions, share_count(positions), [&](std::size_t, std::size_t first, std::size_t last) {
                for (std::size_t xi = first; xi < last; ++xi)
                    gemm<T>(true, false, O, inputs, n, T(1), shared.m.data() + xi * m_stride(n), O,
                            shared.v.data() + xi * v_stride(n), inputs, beta, s.du.data() + xi * u_stride, inputs);
            });
        }
        if (batch > 0) kernel_adjoint(grad, s);
    }

private:
    // The forward and input-gradient passes: the kernels transformed, then each group of
    // samples, the threads taking whole groups: in(share's scratch, sample, its index in the
    // group, the group's columns) for each of its samples, product(scratch, columns, xi) for
    // each position, out(...) for each sample; in and out compiled for AVX2 where the
    // kernels use it (call_vectorized).
    template <class T, class In, class Product, class Out>
    static void by_groups(const T* weight, std::size_t batch, scratch_type<T>& s, const In& in,
                          const Product& product, const Out& out) {
        const std::size_t groups = (batch + group - 1) / group, shares = share_count(groups);
        s.reserve(std::max(shares, share_count(O)));
        kernel_transform(weight, s);
        for_each_share(groups, shares, [&](std::size_t share, std::size_t first, std::size_t last) {
            auto& t = s.shares[share];
            for (std::size_t g = first; g < last; ++g) {
                const std::size_t start = g * group, count = std::min(group, batch - start), n = count * tiles;
                call_vectorized(s.vectorize, [&]() XGAN_WINOGRAD_INLINE_LAMBDA {
                    for (std::size_t b = 0; b < count; ++b) in(t, start + b, b, n);
                });
                for (std::size_t xi = 0; xi < positions; ++xi) product(t, n, xi);
                call_vectorized(s.vectorize, [&]() XGAN_WINOGRAD_INLINE_LAMBDA {
                    for (std::size_t b = 0; b < count; ++b) out(t, start + b, b, n);
                });
            }
        });
    }

    // dst[j * dst_ld + i] = src[i * src_ld + j] for i, j < 4: in four 16-byte vectors for
    // float, element by element otherwise.
    template <class T>
    XGAN_WINOGRAD_INLINE static void transpose_4x4(const T* src, std::size_t src_ld, T* dst, std::size_t dst_ld) {
#if defined(__GNUC__) || defined(__clang__)
        if constexpr (std::is_same_v<T, float>) {
            typedef float v4 __attribute__((vector_size(16)));
            v4 r[4];
            for (std::size_t i = 0; i < 4; ++i) std::memcpy(&r[i], src + i * src_ld, sizeof(v4));
            const v4 t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5);
            const v4 t1 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
            const v4 t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
            const v4 t3 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
            const v4 o[4] = {__builtin_shufflevector(t0, t2, 0, 1, 4, 5), __builtin_shufflevector(t0, t2, 2, 3, 6, 7),
                             __builtin_shufflevector(t1, t3, 0, 1, 4, 5), __builtin_shufflevector(t1, t3, 2, 3, 6, 7)};
            for (std::size_t i = 0; i < 4; ++i) std::memcpy(dst + i * dst_ld, &o[i], sizeof(v4));
            return;
        }
#endif
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < 4; ++j) dst[j * dst_ld + i] = src[i * src_ld + j];
    }

    // {Rows, Cols} -> {Cols, Rows}, in 4 x 4 blocks, then the edges.
    template <std::size_t Rows, std::size_t Cols, class T>
    XGAN_WINOGRAD_INLINE static void transpose(const T* __restrict src, T* __restrict dst) {
        constexpr std::size_t rows4 = Rows / 4 * 4, cols4 = Cols / 4 * 4;
        for (std::size_t r = 0; r < rows4; r += 4) {
            for (std::size_t c = 0; c < cols4; c += 4)
                transpose_4x4(src + r * Cols + c, Cols, dst + c * Rows + r, Rows);
            for (std::size_t c = cols4; c < Cols; ++c)
                for (std::size_t i = r; i < r + 4; ++i) dst[c * Rows + i] = src[i * Cols + c];
        }
        for (std::size_t r = rows4; r < Rows; ++r)
            for (std::size_t c = 0; c < Cols; ++c) dst[c * Rows + r] = src[r * Cols + c];
    }

    // {Channels, Pixels} -> {Pixels, Channels} for one sample.
    template <std::size_t Channels, std::size_t Pixels, class T>
    XGAN_WINOGRAD_INLINE static void to_channels_last(const T* __restrict src, T* __restrict dst) {
        transpose<Channels, Pixels>(src, dst);
    }

    // {Pixels, Channels} -> {Channels, Pixels}, bias[c] added (none for nullptr).
    template <std::size_t Channels, std::size_t Pixels, class T>
    XGAN_WINOGRAD_INLINE static void from_channels_last(const T* __restrict src, T* __restrict dst, const T* bias) {
        transpose<Pixels, Channels>(src, dst);
        if (bias != nullptr)
            for (std::size_t c = 0; c < Channels; ++c)
                for (std::size_t p = 0; p < Pixels; ++p) dst[c * Pixels + p] += bias[c];
    }

    // u[xi][o][c'] = (G g G^T)[xi] for the taps g of input channel c' = (phase, c) and output o.
    template <class T>
    static void kernel_transform(const T* weight, scratch_type<T>& s) {
        constexpr std::size_t count = O * G.rows();
        if (s.u_current && std::memcmp(s.u_weights.data(), weight, count * sizeof(T)) == 0) return;
        const std::size_t shares = share_count(O);
        for_each_share(O, shares, [&](std::size_t share, std::size_t first, std::size_t last) {
            call_vectorized(s.vectorize, [&]() XGAN_WINOGRAD_INLINE_LAMBDA {
                T* work = s.shares[share].work.data();
                T* taps = work;                                   // {taps_h, taps_w, C'}
                T* half = work + rows.taps * cols.taps * inputs;  // {ah, taps_w, C'}
                for (std::size_t o = first; o < last; ++o) {
                    for (std::size_t a = 0; a < rows.taps; ++a)
                        for (std::size_t bb = 0; bb < cols.taps; ++bb)
                            for (std::size_t ph = 0; ph < G.stride_h; ++ph)
                                for (std::size_t pw = 0; pw < G.stride_w; ++pw) {
                                    T* out = taps + (a * cols.taps + bb) * inputs + (ph * G.stride_w + pw) * C;
                                    const std::size_t ki = G.stride_h * a + ph, kj = G.stride_w * bb + pw;
                                    for (std::size_t c = 0; c < C; ++c)
                                        out[c] = weight[((o * C + c) * G.kernel_h + ki) * G.kernel_w + kj];
                                }
                    for (std::size_t bb = 0; bb < cols.taps; ++bb) {
                        std::array<const T*, rows.taps> src{};
                        std::array<T*, ah> dst{};
                        for (std::size_t a = 0; a < rows.taps; ++a) src[a] = taps + (a * cols.taps + bb) * inputs;
                        for (std::size_t i = 0; i < ah; ++i) dst[i] = half + (i * cols.taps + bb) * inputs;
                        combine_rows<along_h::g, inputs>(src.data(), dst.data());
                    }
                    for (std::size_t i = 0; i < ah; ++i) {
                        std::array<const T*, cols.taps> src{};
                        std::array<T*, aw> dst{};
                        for (std::size_t bb = 0; bb < cols.taps; ++bb) src[bb] = half + (i * cols.taps + bb) * inputs;
                        for (std::size_t j = 0; j < aw; ++j) dst[j] = s.u.data() + (i * aw + j) * u_stride + o * inputs;
                        combine_rows<along_w::g, inputs>(src.data(), dst.data());
                    }
                }
            });
        });
        std::copy(weight, weight + count, s.u_weights.data());
        s.u_current = true;
    }

    // grad[o][c][S a + ph][S b + pw] += (G^T du G)[a][b] for each output o and input c' = (phase, c).
    template <class T>
    static void kernel_adjoint(T* grad, scratch_type<T>& s) {
        const std::size_t shares = share_count(O);
        for_each_share(O, shares, [&](std::size_t share, std::size_t first, std::size_t last) {
            call_vectorized(s.vectorize, [&]() XGAN_WINOGRAD_INLINE_LAMBDA {
                T* work = s.shares[share].work.data();
                T* half = work;                            // {taps_h, aw, C'}
                T* taps = work + rows.taps * aw * inputs;  // {taps_h, taps_w, C'}
                for (std::size_t o = first; o < last; ++o) {
                    for (std::size_t j = 0; j < aw; ++j) {
                        std::array<const T*, ah> src{};
                        std::array<T*, rows.taps> dst{};
                        for (std::size_t i = 0; i < ah; ++i)
                            src[i] = s.du.data() + (i * aw + j) * u_stride + o * inputs;
                        for (std::size_t a = 0; a < rows.taps; ++a) dst[a] = half + (a * aw + j) * inputs;
                        combine_rows<along_h::gt, inputs>(src.data(), dst.data());
                    }
                    for (std::size_t a = 0; a < rows.taps; ++a) {
                        std::array<const T*, aw> src{};
                        std::array<T*, cols.taps> dst{};
                        for (std::size_t j = 0; j < aw; ++j) src[j] = half + (a * aw + j) * inputs;
                        for (std::size_t bb = 0; bb < cols.taps; ++bb) dst[bb] = taps + (a * cols.taps + bb) * inputs;
                        combine_rows<along_w::gt, inputs>(src.data(), dst.data());
                    }
                    for (std::size_t a = 0; a < rows.taps; ++a)
                        for (std::size_t bb = 0; bb < cols.taps; ++bb)
                            for (std::size_t ph = 0; ph < G.stride_h; ++ph)
                                for (std::size_t pw = 0; pw < G.stride_w; ++pw) {
                                    const T* in = taps + (a * cols.taps + bb) * inputs + (ph * G.stride_w + pw) * C;
                                    const std::size_t ki = G.stride_h * a + ph, kj = G.stride_w * bb + pw;
                                    for (std::size_t c = 0; c < C; ++c)
                                        grad[((o * C + c) * G.kernel_h + ki) * G.kernel_w + kj] += in[c];
                                }
                }
            });
        });
    }

    // v[xi][sample's tile][c'] = (B^T d B)[xi] for each tile d of each phase plane of one
    // sample's channels-last image.
    template <class T>
    XGAN_WINOGRAD_INLINE static void input_transform(const T* image, std::size_t sample, std::size_t n, T* v,
                                                     const T* zeros, T* work) {
        for (std::size_t th = 0; th < rows.tiles(); ++th)
            for (std::size_t tw = 0; tw < cols.tiles(); ++tw) {
                const std::size_t column = sample * tiles + th * cols.tiles() + tw;
                for (std::size_t ph = 0; ph < G.stride_h; ++ph)
                    for (std::size_t pw = 0; pw < G.stride_w; ++pw) {
                        // the tile's ah x aw pixels, each C values (or zeros)
                        std::array<std::array<const T*, aw>, ah> d{};
                        for (std::size_t i = 0; i < ah; ++i) {
                            const std::ptrdiff_t h = rows.input_index(th * rows.tile + i, ph);
                            for (std::size_t j = 0; j < aw; ++j) {
                                const std::ptrdiff_t w = cols.input_index(tw * cols.tile + j, pw);
                                d[i][j] =
                                    h < 0 || w < 0
                                        ? zeros
                                        : image +
                                              (static_cast<std::size_t>(h) * G.width + static_cast<std::size_t>(w)) * C;
                            }
                        }
                        T* half = work;  // {ah (transformed), aw, C}
                        for (std::size_t j = 0; j < aw; ++j) {
                            std::array<const T*, ah> src{};
                            std::array<T*, ah> dst{};
                            for (std::size_t i = 0; i < ah; ++i) {
                                src[i] = d[i][j];
                                dst[i] = half + (i * aw + j) * C;
                            }
                            combine_rows<along_h::bt, C>(src.data(), dst.data());
                        }
                        const std::size_t offset = column * inputs + (ph * G.stride_w + pw) * C;
                        for (std::size_t i = 0; i < ah; ++i) {
                            std::array<const T*, aw> src{};
                            std::array<T*, aw> dst{};
                            for (std::size_t j = 0; j < aw; ++j) {
                                src[j] = half + (i * aw + j) * C;
                                dst[j] = v + (i * aw + j) * v_stride(n) + offset;
                            }
                            combine_rows<along_w::bt, C>(src.data(), dst.data());
                        }
                    }
            }
    }

    // One sample's channels-last input gradient from dv[xi][tile][c']: each tile's B dv B^T
    // added to the pixels its phase plane positions read (the pixels none reads stay 0;
    // the positions that read no pixel are added to scratch and dropped).
    template <class T>
    XGAN_WINOGRAD_INLINE static void input_adjoint(const T* dv, std::size_t sample, std::size_t n, T* image, T* work) {
        std::fill(image, image + in_pixels * C, T(0));
        T* half = work;                   // {ah, aw (back), C}
        T* dropped = work + ah * aw * C;  // {ah, aw, C}
        for (std::size_t ph = 0; ph < G.stride_h; ++ph)
            for (std::size_t pw = 0; pw < G.stride_w; ++pw)
                for (std::size_t th = 0; th < rows.tiles(); ++th)
                    for (std::size_t tw = 0; tw < cols.tiles(); ++tw) {
                        const std::size_t column = sample * tiles + th * cols.tiles() + tw;
                        const std::size_t offset = column * inputs + (ph * G.stride_w + pw) * C;
                        for (std::size_t i = 0; i < ah; ++i) {
                            std::array<const T*, aw> src{};
                            std::array<T*, aw> dst{};
                            for (std::size_t j = 0; j < aw; ++j) {
                                src[j] = dv + (i * aw + j) * v_stride(n) + offset;
                                dst[j] = half + (i * aw + j) * C;
                            }
                            combine_rows<along_w::b, C>(src.data(), dst.data());
                        }
                        for (std::size_t j = 0; j < aw; ++j) {
                            const std::ptrdiff_t w = cols.input_index(tw * cols.tile + j, pw);
                            std::array<const T*, ah> src{};
                            std::array<T*, ah> dst{};
                            for (std::size_t i = 0; i < ah; ++i) {
                                const std::ptrdiff_t h = rows.input_index(th * rows.tile + i, ph);
                                src[i] = half + (i * aw + j) * C;
                                dst[i] =
                                    h < 0 || w < 0
                                        ? dropped + (i * aw + j) * C
                                        : image +
                                              (static_cast<std::size_t>(h) * G.width + static_cast<std::size_t>(w)) * C;
                            }
                            combine_rows<along_h::b, C, true>(src.data(), dst.data());
                        }
                    }
    }

    // One sample's channels-last output from m[xi][tile][o]: each tile's A^T m A, cropped.
    template <class T>
    XGAN_WINOGRAD_INLINE static void output_transform(const T* m, std::size_t sample, std::size_t n, T* image,
                                                      T* work) {
        T* half = work;  // {rows.tile, aw, O}
        T* tile = work + rows.tile * aw * O;
        for (std::size_t th = 0; th < rows.tiles(); ++th)
            for (std::size_t tw = 0; tw < cols.tiles(); ++tw) {
                const std::size_t column = sample * tiles + th * cols.tiles() + tw;
                for (std::size_t j = 0; j < aw; ++j) {
                    std::array<const T*, ah> src{};
                    std::array<T*, rows.tile> dst{};
                    for (std::size_t i = 0; i < ah; ++i) src[i] = m + (i * aw + j) * m_stride(n) + column * O;
                    for (std::size_t i = 0; i < rows.tile; ++i) dst[i] = half + (i * aw + j) * O;
                    combine_rows<along_h::at, O>(src.data(), dst.data());
                }
                for (std::size_t i = 0; i < rows.tile; ++i) {
                    std::array<const T*, aw> src{};
                    std::array<T*, cols.tile> dst{};
                    for (std::size_t j = 0; j < aw; ++j) src[j] = half + (i * aw + j) * O;
                    for (std::size_t j = 0; j < cols.tile; ++j) {
                        const std::size_t oh = th * rows.tile + i, ow = tw * cols.tile + j;
                        // pixels past the output land in the tile buffer and are dropped
                        dst[j] = oh < G.out_h && ow < G.out_w ? image + (oh * G.out_w + ow) * O
                                                              : tile + (i * cols.tile + j) * O;
                    }
                    combine_rows<along_w::at, O>(src.data(), dst.data());
                }
            }
    }

    // m[xi][tile][o] = (A dy A^T)[xi] for each tile of one sample's output gradient (NCHW;
    // 0 past the output), `image` its channels-last copy.
    template <class T>
    XGAN_WINOGRAD_INLINE static void output_adjoint(const T* dy, std::size_t sample, std::size_t n, T* m, T* image,
                                                    const T* zeros, T* work) {
        T* half = work;  // {ah, cols.tile, O}
        to_channels_last<O, out_pixels>(dy, image);
        for (std::size_t th = 0; th < rows.tiles(); ++th)
            for (std::size_t tw = 0; tw < cols.tiles(); ++tw) {
                const std::size_t column = sample * tiles + th * cols.tiles() + tw;
                for (std::size_t j = 0; j < cols.tile; ++j) {
                    std::array<const T*, rows.tile> src{};
                    std::array<T*, ah> dst{};
                    for (std::size_t i = 0; i < rows.tile; ++i) {
                        const std::size_t oh = th * rows.tile + i, ow = tw * cols.tile + j;
                        src[i] = oh < G.out_h && ow < G.out_w ? image + (oh * G.out_w + ow) * O : zeros;
                    }
                    for (std::size_t i = 0; i < ah; ++i) dst[i] = half + (i * cols.tile + j) * O;
                    combine_rows<along_h::a, O>(src.data(), dst.data());
                }
                for (std::size_t i = 0; i < ah; ++i) {
                    std::array<const T*, cols.tile> src{};
                    std::array<T*, aw> dst{};
                    for (std::size_t j = 0; j < cols.tile; ++j) src[j] = half + (i * cols.tile + j) * O;
                    for (std::size_t j = 0; j < aw; ++j) dst[j] = m + (i * aw + j) * m_stride(n) + column * O;
                    combine_rows<along_w::a, O>(src.data(), dst.data());
                }
            }
    }
};

// A layer's Winograd scratch: winograd_conv's, or nothing where it does not apply.
struct no_winograd_scratch {};
template <bool Applies, conv_geometry G, std::size_t OutC, class T>
struct winograd_scratch_for {
    using type = no_winograd_scratch;
};
template <conv_geometry G, std::size_t OutC, class T>
struct winograd_scratch_for<true, G, OutC, T> {
    using type = typename winograd_conv<G, OutC>::template scratch_type<T>;
};

}  // namespace xgan::detail
