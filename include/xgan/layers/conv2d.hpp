// Conv2D<InC, OutC, Kernel, Stride, Padding>: a 2-D convolution (cross-correlation, as
// PyTorch's nn.Conv2d) of an image C x H x W. Output height (H + 2 Padding - Kernel) /
// Stride + 1 (rounded down), width likewise; weight {OutC, InC, KH, KW}, bias {OutC}.
// Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW> is the same with a kernel, stride and
// padding of their own along each axis.
//
// How it computes, in one of two forms chosen from the geometry at compile time
// (uses_winograd; docs/reference/layers-conv.md, "How it computes"):
// - Winograd form (detail/winograd.hpp), where the kernel is two to five strides long on
//   each axis and the layer has channels enough (InC SH SW >= 16, OutC >= 16): DCGAN's
//   k4 s2 layers and 3 x 3 "same" convolutions. Each pass is (m + R - 1)^2 products over
//   transformed tiles, about half the multiply-adds of im2col's product on DCGAN's layers.
// - im2col form otherwise: im2col (detail/im2col.hpp) lays the input's patches out as
//   columns {InC KH KW, OH OW}, and a matrix product with the weight gives the output; the
//   input gradient is the transposed product followed by col2im, the weight gradient the
//   product of the output gradient with the columns. The products run over groups of 8
//   samples (detail::default_conv_group): the group's columns side by side, one product,
//   then a transpose to NCHW. One sample's product is too narrow for BLAS's blocking
//   (49 columns for a 7 x 7 output), a whole batch's columns fall out of cache; the table
//   in docs/reference/layers-conv.md ("Cost") times group sizes 1 to 64 (bench/conv_timing.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/detail/blas.hpp>
#include <xgan/detail/conv_groups.hpp>
#include <xgan/detail/winograd.hpp>
#include <xgan/init/initializers.hpp>

namespace xgan {

namespace detail {
// A convolution's output extent along one axis, (n + 2 pad - k) / stride + 1; 1 where
// that is empty or undefined (the specification's check reports those).
constexpr std::size_t conv_extent(std::size_t n, std::size_t k, std::size_t stride, std::size_t pad) {
    return stride > 0 && n + 2 * pad >= k ? (n + 2 * pad - k) / stride + 1 : 1;
}

// Whether a convolution of InC channels, kernel KH x KW and padding PH, PW takes In.
template <class In, std::size_t InC, std::size_t KH, std::size_t KW, std::size_t PH, std::size_t PW>
constexpr bool conv2d_accepts() {
    return ImageShape<In> && In::channels == InC && In::height + 2 * PH >= KH && In::width + 2 * PW >= KW;
}
}  // namespace detail

// The concrete layer that Conv2D and Conv2DRect become after an image H x W (InC channels).
template <std::size_t InC, std::size_t OutC, std::size_t KH, std::size_t KW, std::size_t SH, std::size_t SW,
          std::size_t PH, std::size_t PW, std::size_t H, std::size_t W, class T>
class Conv2DLayer {
public:
    using value_type = T;
    static constexpr std::size_t out_height = detail::conv_extent(H, KH, SH, PH);
    static constexpr std::size_t out_width = detail::conv_extent(W, KW, SW, PW);
    using input_shape = shape<InC, H, W>;
    using output_shape = shape<OutC, out_height, out_width>;
    static constexpr std::size_t input_size = input_shape::size;
    static constexpr std::size_t output_size = output_shape::size;
    static constexpr std::size_t weight_count = OutC * InC * KH * KW;
    static constexpr std::size_t parameter_count = weight_count + OutC;
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        {"weight", 4, {OutC, InC, KH, KW}, 0},
        {"bias", 1, {OutC, 0, 0, 0}, weight_count},
    }};
    static constexpr detail::conv_geometry geometry{InC, H, W, KH, KW, SH, SW, PH, PW, out_height, out_width};
    // Whether the passes run in Winograd form (detail/winograd.hpp) rather than through im2col.
    static constexpr bool uses_winograd = detail::winograd_applies<geometry, OutC>();

    // "Conv2D(1, 64, k4, s2, p1)"; a non-square form names both axes: "Conv2D(1, 64, k3x5, s1x2, p0x1)".
    static std::string name() {
        const auto pair = [](std::size_t a, std::size_t b) {
            return a == b ? std::to_string(a) : std::to_string(a) + "x" + std::to_string(b);
        };
        return "Conv2D(" + std::to_string(InC) + ", " + std::to_string(OutC) + ", k" + pair(KH, KW) + ", s" +
               pair(SH, SW) + ", p" + pair(PH, PW) + ")";
    }

    // Scratch memory for one group of samples (detail::default_conv_group) per thread
    // (xgan::set_threads), sized by the first pass at a batch size and reused after.
    struct cache_type {
        // per thread: {InC KH KW, group OH OW}, im2col or its gradient; {OutC, group OH OW},
        // the output or its gradient by channel
        mutable detail::conv_scratch<T> scratch;
        std::size_t group = detail::default_conv_group;
        // the Winograd form's transforms and products (empty where it does not apply)
        mutable typename detail::winograd_scratch_for<uses_winograd, geometry, OutC, T>::type winograd;
    };

    // PyTorch's nn.Conv2d: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = InC KH KW.
    void initialize(std::span<T> params, Rng& rng) const {
        init::TorchLinear::initialize(params.first(weight_count), params.subspan(weight_count, OutC),
                                      InC * KH * KW, OutC, rng);
    }

    // y = conv(x) + b; in im2col form Group samples per product (detail::all_samples: the whole
    // batch), the backward passes the same (the Winograd form ignores Group, having its own).
    template <std::size_t Group = detail::default_conv_group>
    void forward(std::span<const T> params, std::span<const T> /*buffers*/, const matrix<T>& x, matrix<T>& y,
                 cache_type& cache, const ForwardContext& /*context*/) const {
        cache.group = Group;
        weight_product(params.data(), params.data() + weight_count, x, y, cache);
    }

    // Its inference code for xgan::export_header: each output the sum over (channel, kernel
    // row, kernel column) in order, as the rows of the product, then its bias added.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> /*buffers*/) const {
        const std::string weight = out.constant("weight", params.first(weight_count));
        const std::string bias = out.constant("bias", params.subspan(weight_count, OutC));
        out.code(R"(for (std::size_t o = 0; o < $OutC; ++o) {
    scalar* plane = y + o * $OH * $OW;
    for (std::size_t p = 0; p < $OH * $OW; ++p) plane[p] = 0;
    for (std::size_t c = 0; c < $InC; ++c)
        for (std::size_t i = 0; i < $KH; ++i)
            for (std::size_t j = 0; j < $KW; ++j) {
                const scalar w = $weight[((o * $InC + c) * $KH + i) * $KW + j];
                // input column ow * $SW + shift for output column ow: those inside the image
                const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(j) - $PW;
                std::ptrdiff_t first = 0, last = $OW;
                while (first < last && first * $SW + shift < 0) ++first;
                while (last > first && (last - 1) * $SW + shift >= $W) --last;
                for (std::size_t oh = 0; oh < $OH; ++oh) {
                    const std::ptrdiff_t h = static_cast<std::ptrdiff_t>(oh * $SH + i) - $PH;
                    if (h < 0 || h >= $H) continue;
                    const scalar* row = x + (c * $H + static_cast<std::size_t>(h)) * $W;
                    scalar* sums = plane + oh * $OW;
                    for (std::ptrdiff_t ow = first; ow < last; ++ow) sums[ow] += w * row[ow * $SW + shift];
                }
            }
    for (std::size_t p = 0; p < $OH * $OW; ++p) plane[p] += $bias[o];
})",
                 {{"InC", InC}, {"OutC", OutC}, {"H", H}, {"W", W}, {"KH", KH}, {"KW", KW}, {"SH", SH}, {"SW", SW},
                  {"PH", PH}, {"PW", PW}, {"OH", out_height}, {"OW", out_width}, {"weight", weight}, {"bias", bias}});
    }

    // dx = col2im(W^T dy), each thread taking whole groups
    void backward_input(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& /*y*/,
                        const matrix<T>& dy, matrix<T>& dx, const cache_type& cache) const {
        constexpr detail::conv_geometry g = geometry;
        constexpr std::size_t rows = g.rows(), positions = g.positions();
        const std::size_t batch = dy.shape()[0];
        if constexpr (uses_winograd) {
            winograd_form::backward_input(params.data(), static_cast<const T*>(nullptr), dy.data(), dx.data(), batch,
                                          cache.winograd);
            return;
        }
        const std::size_t shares = detail::group_shares(cache.group, batch);
        reserve(cache, shares, batch);
        const T* weight = params.data();
        detail::for_each_group(cache.group, batch, shares, [&](std::size_t share, std::size_t start, std::size_t n) {
            const std::size_t ld = n * positions;
            T* columns = cache.scratch.columns[share].data();
            const T* gradient = by_channel(dy, start, n, cache.scratch.by_channel[share]);
            detail::gemm<T>(true, false, rows, ld, OutC, T(1), weight, rows, gradient, ld, T(0), columns, ld);
            for (std::size_t b = 0; b < n; ++b)
                detail::col2im<g>(columns + b * positions, ld, dx.data() + (start + b) * input_size);
        });
    }

    // dW += dy im2col(x)^T, db += dy summed over samples and positions
    void accumulate_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& /*y*/,
                             const matrix<T>& dy, std::span<T> grad, const cache_type& cache) const {
        weight_gradient(x, dy, grad.data(), cache);
        detail::add_channel_sums<geometry.positions()>(dy.shape()[0], OutC, dy.data(), grad.data() + weight_count);
    }

    // The second-order pass (docs/design/layer-concept.md): the layer is linear in x, so
    // e_out = W im2col(e) (forward without the bias), dW += dy im2col(e)^T, and nothing
    // for the bias or x_adjoint.
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& /*y*/,
                               const matrix<T>& dy, const matrix<T>& e, matrix<T>& e_out, matrix<T>& /*x_adjoint*/,
                               std::span<T> grad, const cache_type& cache) const {
        weight_product(params.data(), nullptr, e, e_out, cache);
        weight_gradient(e, dy, grad.data(), cache);
    }

    void update_buffers(std::span<T> /*buffers*/, const cache_type& /*cache*/) const {}

private:
    using winograd_form = detail::winograd_conv<geometry, OutC>;

    // Every thread's scratch for groups of cache.group samples of a batch.
    static void reserve(const cache_type& cache, std::size_t shares, std::size_t batch) {
        const std::size_t stride = detail::group_stride(cache.group, batch);
        cache.scratch.reserve(shares, geometry.rows() * stride * geometry.positions(),
                              OutC * stride * geometry.positions());
    }

    // y = W im2col(x) + bias (none for nullptr), in groups of cache.group samples, each
    // thread taking whole groups.
    void weight_product(const T* weight, const T* bias, const matrix<T>& x, matrix<T>& y,
                        const cache_type& cache) const {
        constexpr detail::conv_geometry g = geometry;
        constexpr std::size_t rows = g.rows(), positions = g.positions();
        const std::size_t batch = x.shape()[0];
        if constexpr (uses_winograd) {
            winograd_form::forward(weight, bias, x.data(), y.data(), batch, cache.winograd);
            return;
        }
        const std::size_t shares = detail::group_shares(cache.group, batch);
        reserve(cache, shares, batch);
        detail::for_each_group(cache.group, batch, shares, [&](std::size_t share, std::size_t start, std::size_t n) {
            const std::size_t ld = n * positions;
            T* columns = cache.scratch.columns[share].data();
            for (std::size_t b = 0; b < n; ++b)
                detail::im2col<g>(x.data() + (start + b) * input_size, columns + b * positions, ld);
            T* out = y.data() + start * output_size;
            if (n == 1) {  // {OutC, positions} is the sample's NCHW row
                detail::gemm<T>(false, false, OutC, ld, rows, T(1), weight, rows, columns, ld, T(0), out, ld);
                if (bias != nullptr) detail::add_channel_bias<positions>(1, OutC, bias, out);
            } else {  // back to NCHW, the bias added on the way
                T* product = cache.scratch.by_channel[share].data();
                detail::gemm<T>(false, false, OutC, ld, rows, T(1), weight, rows, columns, ld, T(0), product, ld);
                detail::channels_to_samples<positions>(n, OutC, product, out, bias);
            }
        });
    }

    // dW += dy im2col(x)^T in chunks of dW's columns (the rows of the im2col matrix), each
    // summed over every group in order, each thread taking whole chunks.
    void weight_gradient(const matrix<T>& x, const matrix<T>& dy, T* grad, const cache_type& cache) const {
        constexpr detail::conv_geometry g = geometry;
        constexpr std::size_t rows = g.rows(), positions = g.positions();
        const std::size_t batch = dy.shape()[0];
        if constexpr (uses_winograd) {
            winograd_form::weight_gradient(x.data(), dy.data(), grad, batch, cache.winograd);
            return;
        }
        const std::size_t stride = detail::group_stride(cache.group, batch);
        const std::size_t chunks = detail::chunk_count(rows), shares = detail::share_count(chunks);
        reserve(cache, shares, batch);
        detail::for_each_share(chunks, shares, [&](std::size_t share, std::size_t first, std::size_t last) {
            T* columns = cache.scratch.columns[share].data();
            for (std::size_t start = 0; start < batch; start += stride) {
                const std::size_t n = detail::group_size(cache.group, batch, start), ld = n * positions;
                const T* gradient = by_channel(dy, start, n, cache.scratch.by_channel[share]);
                for (std::size_t chunk = first; chunk < last; ++chunk) {
                    const detail::row_range r = detail::chunk_rows(chunk, rows);
                    for (std::size_t b = 0; b < n; ++b)
                        detail::im2col_rows<g>(x.data() + (start + b) * input_size, columns + b * positions, ld,
                                               r.first, r.last);
                    detail::gemm<T>(false, true, OutC, r.last - r.first, ld, T(1), gradient, ld, columns, ld, T(1),
                                    grad + r.first, rows);
                }
            }
        });
    }

    // Samples [start, start + n) of dy as {OutC, n positions}: the sample itself for n = 1.
    static const T* by_channel(const matrix<T>& dy, std::size_t start, std::size_t n, std::vector<T>& scratch) {
        return detail::group_by_channel<geometry.positions()>(dy.data(), start, n, OutC, scratch);
    }
};

// Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: a convolution whose kernel, stride and
// padding differ between the axes (PyTorch's nn.Conv2d(InC, OutC, (KH, KW), (SH, SW), (PH, PW))).
template <std::size_t InC, std::size_t OutC, std::size_t KH, std::size_t KW, std::size_t SH = 1, std::size_t SW = 1,
          std::size_t PH = 0, std::size_t PW = 0>
struct Conv2DRect {
    static_assert(InC > 0 && OutC > 0,
                  "xgan::Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: InC and OutC must be positive");
    static_assert(KH > 0 && KW > 0, "xgan::Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: KH and KW must be positive");
    static_assert(SH > 0 && SW > 0, "xgan::Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: SH and SW must be positive");

    template <Shape In>
    static constexpr bool accepts = detail::conv2d_accepts<In, InC, KH, KW, PH, PW>();

    template <Shape In, class T>
    using bind_to = Conv2DLayer<InC, OutC, KH, KW, SH, SW, PH, PW, In::height, In::width, T>;

    template <class Position, Shape In>
    struct check_input {
        static_assert(ImageShape<In>,
                      "xgan::Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: the input must be an image C x H x W, "
                      "not a vector (after a vector layer such as Dense, put xgan::Unflatten<C, H, W> before it)");
        static_assert(!ImageShape<In> || In::channels == InC,
                      "xgan::Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: the input's channels must equal InC "
                      "(change InC, or the channels of the layer before)");
        static_assert(!ImageShape<In> || In::channels != InC ||
                          (In::height + 2 * PH >= KH && In::width + 2 * PW >= KW),
                      "xgan::Conv2DRect<InC, OutC, KH, KW, SH, SW, PH, PW>: the kernel must fit in the padded input "
                      "(H + 2 PH >= KH and W + 2 PW >= KW), else the output would be empty; use a smaller kernel, "
                      "more padding or a larger input");
    };
};

// Conv2D<InC, OutC, Kernel, Stride, Padding>: a convolution with a square kernel, the same
// stride and padding along both axes (nn.Conv2d(InC, OutC, Kernel, Stride, Padding)).
template <std::size_t InC, std::size_t OutC, std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0>
struct Conv2D {
    static_assert(InC > 0 && OutC > 0,
                  "xgan::Conv2D<InC, OutC, Kernel, Stride, Padding>: InC and OutC must be positive");
    static_assert(Kernel > 0, "xgan::Conv2D<InC, OutC, Kernel, Stride, Padding>: Kernel must be positive");
    static_assert(Stride > 0, "xgan::Conv2D<InC, OutC, Kernel, Stride, Padding>: Stride must be positive");

    template <Shape In>
    static constexpr bool accepts = detail::conv2d_accepts<In, InC, Kernel, Kernel, Padding, Padding>();

    template <Shape In, class T>
    using bind_to = Conv2DLayer<InC, OutC, Kernel, Kernel, Stride, Stride, Padding, Padding, In::height, In::width, T>;

    template <class Position, Shape In>
    struct check_input {
        static_assert(ImageShape<In>,
                      "xgan::Conv2D<InC, OutC, Kernel, Stride, Padding>: the input must be an image C x H x W, not a "
                      "vector (after a vector layer such as Dense, put xgan::Unflatten<C, H, W> before it)");
        static_assert(!ImageShape<In> || In::channels == InC,
                      "xgan::Conv2D<InC, OutC, Kernel, Stride, Padding>: the input's channels must equal InC "
                      "(change InC, or the channels of the layer before)");
        static_assert(!ImageShape<In> || In::channels != InC ||
                          (In::height + 2 * Padding >= Kernel && In::width + 2 * Padding >= Kernel),
                      "xgan::Conv2D<InC, OutC, Kernel, Stride, Padding>: the kernel must fit in the padded input "
                      "(H + 2 Padding >= Kernel and W + 2 Padding >= Kernel), else the output would be empty; use a "
                      "smaller kernel, more padding or a larger input");
    };
};

}  // namespace xgan
