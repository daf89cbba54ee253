// ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: a transposed 2-D
// convolution (PyTorch's nn.ConvTranspose2d), the adjoint of Conv2D<OutC, InC, Kernel,
// Stride, Padding>: it spreads each input pixel over a Kernel x Kernel patch of the output.
// Output height (H - 1) Stride - 2 Padding + Kernel + OutputPadding, width likewise;
// weight {InC, OutC, Kernel, Kernel}, bias {OutC}.
//
// How it computes: its forward pass is the input gradient of Conv2D<OutC, InC, Kernel,
// Stride, Padding> and its input gradient that convolution's forward pass, in the form
// that convolution takes (layers/conv2d.hpp): the Winograd form (detail/winograd.hpp)
// where it applies, e.g. DCGAN's ConvTranspose2D<128, 64, 4, 2, 1>; otherwise a product
// with the transposed weight then col2im (detail/im2col.hpp), and im2col then a product,
// over groups of 8 samples side by side.
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
// A transposed convolution's output extent along one axis, (n - 1) stride - 2 pad + k +
// output_pad; 1 where that is not positive (the specification's check reports it).
constexpr std::size_t conv_transpose_extent(std::size_t n, std::size_t k, std::size_t stride, std::size_t pad,
                                            std::size_t output_pad) {
    const std::size_t full = (n > 0 ? n - 1 : 0) * stride + k + output_pad;
    return full > 2 * pad ? full - 2 * pad : 1;
}

template <class In, std::size_t InC, std::size_t K, std::size_t S, std::size_t P, std::size_t OP>
constexpr bool conv_transpose2d_accepts() {
    return ImageShape<In> && In::channels == InC && OP < S && (In::height - 1) * S + K + OP > 2 * P &&
           (In::width - 1) * S + K + OP > 2 * P;
}
}  // namespace detail

// The concrete layer that ConvTranspose2D becomes after an image H x W (InC channels).
template <std::size_t InC, std::size_t OutC, std::size_t K, std::size_t S, std::size_t P, std::size_t OP,
          std::size_t H, std::size_t W, class T>
class ConvTranspose2DLayer {
public:
    using value_type = T;
    static constexpr std::size_t out_height = detail::conv_transpose_extent(H, K, S, P, OP);
    static constexpr std::size_t out_width = detail::conv_transpose_extent(W, K, S, P, OP);
    using input_shape = shape<InC, H, W>;
    using output_shape = shape<OutC, out_height, out_width>;
    static constexpr std::size_t input_size = input_shape::size;
    static constexpr std::size_t output_size = output_shape::size;
    static constexpr std::size_t weight_count = InC * OutC * K * K;
    static constexpr std::size_t parameter_count = weight_count + OutC;
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        {"weight", 4, {InC, OutC, K, K}, 0},
        {"bias", 1, {OutC, 0, 0, 0}, weight_count},
    }};
    // The convolution this layer is the adjoint of: from the output (OutC x out_height x
    // out_width) to the input's grid (H x W).
    static constexpr detail::conv_geometry geometry{OutC, out_height, out_width, K, K, S, S, P, P, H, W};
    // Whether the passes run in Winograd form (detail/winograd.hpp) rather than through im2col:
    // that of the convolution above, whose output channels are InC.
    static constexpr bool uses_winograd = detail::winograd_applies<geometry, InC>();

    // "ConvTranspose2D(128, 64, k4, s2, p1, op0)"
    static std::string name() {
        return "ConvTranspose2D(" + std::to_string(InC) + ", " + std::to_string(OutC) + ", k" + std::to_string(K) +
               ", s" + std::to_string(S) + ", p" + std::to_string(P) + ", op" + std::to_string(OP) + ")";
    }

    // Scratch memory for one group of samples (detail::default_conv_group) per thread
    // (xgan::set_threads), sized by the first pass at a batch size and reused after.
    struct cache_type {
        // per thread: {OutC K K, group H W}, W^T x or im2col(dy); {InC, group H W}, the
        // input or its gradient by channel
        mutable detail::conv_scratch<T> scratch;
        std::size_t group = detail::default_conv_group;
        // the Winograd form's transforms and products (empty where it does not apply)
        mutable typename detail::winograd_scratch_for<uses_winograd, geometry, InC, T>::type winograd;
    };

    // PyTorch's nn.ConvTranspose2d: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where
    // PyTorch takes fan_in from the weight's second dimension: OutC K K.
    void initialize(std::span<T> params, Rng& rng) const {
        init::TorchLinear::initialize(params.first(weight_count), params.subspan(weight_count, OutC), OutC * K * K,
                                      InC, rng);
    }

    // y = convT(x) + b; in im2col form col2im(W^T x) + b over Group samples per product, the
    // backward passes the same (the Winograd form ignores Group, having its own).
    template <std::size_t Group = detail::default_conv_group>
    void forward(std::span<const T> params, std::span<const T> /*buffers*/, const matrix<T>& x, matrix<T>& y,
                 cache_type& cache, const ForwardContext& /*context*/) const {
        cache.group = Group;
        weight_product(params.data(), params.data() + weight_count, x, y, cache);
    }

    // Its inference code for xgan::export_header: as forward, each row of W^T x (a sum over
    // the input channels in order) computed for all input positions, then added to the
    // output pixels in the order col2im adds them, then the bias.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> /*buffers*/) const {
        const std::string weight = out.constant("weight", params.first(weight_count));
        const std::string bias = out.constant("bias", params.subspan(weight_count, OutC));
        out.code(R"(std::array<scalar, $HW> column;
for (std::size_t i = 0; i < $size; ++i) y[i] = 0;
for (std::size_t o = 0; o < $OutC; ++o)
    for (std::size_t ki = 0; ki < $K; ++ki)
        for (std::size_t kj = 0; kj < $K; ++kj) {
            for (std::size_t p = 0; p < $HW; ++p) column[p] = 0;
            for (std::size_t c = 0; c < $InC; ++c) {
                const scalar w = $weight[((c * $OutC + o) * $K + ki) * $K + kj];
                const scalar* plane = x + c * $HW;
                for (std::size_t p = 0; p < $HW; ++p) column[p] += w * plane[p];
            }
            for (std::size_t ih = 0; ih < $H; ++ih) {
                const std::ptrdiff_t oh = static_cast<std::ptrdiff_t>(ih * $S + ki) - $P;
                if (oh < 0 || oh >= $OH) continue;
                for (std::size_t iw = 0; iw < $W; ++iw) {
                    const std::ptrdiff_t ow = static_cast<std::ptrdiff_t>(iw * $S + kj) - $P;
                    if (ow < 0 || ow >= $OW) continue;
                    y[(o * $OH + static_cast<std::size_t>(oh)) * $OW + static_cast<std::size_t>(ow)] += column[ih * $W + iw];
                }
            }
        }
for (std::size_t o = 0; o < $OutC; ++o)
    for (std::size_t i = o * $plane; i < (o + 1) * $plane; ++i) y[i] += $bias[o];)",
                 {{"InC", InC}, {"OutC", OutC}, {"H", H}, {"W", W}, {"HW", H * W}, {"K", K}, {"S", S}, {"P", P},
                  {"OH", out_height}, {"OW", out_width}, {"size", output_size}, {"plane", out_height * out_width},
                  {"weight", weight}, {"bias", bias}});
    }

    // dx = W im2col(dy), each thread taking whole groups
    void backward_input(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& /*y*/,
                        const matrix<T>& dy, matrix<T>& dx, const cache_type& cache) const {
        constexpr detail::conv_geometry g = geometry;
        constexpr std::size_t rows = g.rows(), positions = g.positions();
        const std::size_t batch = dy.shape()[0];
        if constexpr (uses_winograd) {  // the convolution's forward pass, without a bias
            winograd_form::forward(params.data(), static_cast<const T*>(nullptr), dy.data(), dx.data(), batch,
                                   cache.winograd);
            return;
        }
        const std::size_t shares = detail::group_shares(cache.group, batch);
        reserve(cache, shares, batch);
        const T* weight = params.data();
        detail::for_each_group(cache.group, batch, shares, [&](std::size_t share, std::size_t start, std::size_t n) {
            const std::size_t ld = n * positions;
            const T* columns = gradient_columns(dy, start, n, cache.scratch.columns[share].data(), 0, rows);
            T* out = dx.data() + start * input_size;
            if (n == 1) {  // {InC, H W} is the sample's NCHW row
                detail::gemm<T>(false, false, InC, ld, rows, T(1), weight, rows, columns, ld, T(0), out, ld);
            } else {
                T* product = cache.scratch.by_channel[share].data();
                detail::gemm<T>(false, false, InC, ld, rows, T(1), weight, rows, columns, ld, T(0), product, ld);
                detail::channels_to_samples<positions>(n, InC, product, out);
            }
        });
    }

    // dW += x im2col(dy)^T, db += dy summed over samples and positions
    void accumulate_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& /*y*/,
                             const matrix<T>& dy, std::span<T> grad, const cache_type& cache) const {
        weight_gradient(x, dy, grad.data(), cache);
        detail::add_channel_sums<out_height * out_width>(dy.shape()[0], OutC, dy.data(), grad.data() + weight_count);
    }

    // The second-order pass (docs/design/layer-concept.md): the layer is linear in x, so
    // e_out = col2im(W^T e) (forward without the bias), dW += e im2col(dy)^T, and nothing
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
    using winograd_form = detail::winograd_conv<geometry, InC>;

    // Every thread's scratch for groups of cache.group samples of a batch.
    static void reserve(const cache_type& cache, std::size_t shares, std::size_t batch) {
        const std::size_t stride = detail::group_stride(cache.group, batch);
        cache.scratch.reserve(shares, geometry.rows() * stride * geometry.positions(),
                              InC * stride * geometry.positions());
    }

    // y = col2im(W^T x) + bias (none for nullptr), in groups of cache.group samples, each
    // thread taking whole groups.
    void weight_product(const T* weight, const T* bias, const matrix<T>& x, matrix<T>& y,
                        const cache_type& cache) const {
        constexpr detail::conv_geometry g = geometry;
        constexpr std::size_t rows = g.rows(), positions = g.positions();
        const std::size_t batch = x.shape()[0];
        if constexpr (uses_winograd) {  // the convolution's input gradient
            winograd_form::backward_input(weight, bias, x.data(), y.data(), batch, cache.winograd);
            return;
        }
        const std::size_t shares = detail::group_shares(cache.group, batch);
        reserve(cache, shares, batch);
        detail::for_each_group(cache.group, batch, shares, [&](std::size_t share, std::size_t start, std::size_t n) {
            const std::size_t ld = n * positions;
            T* columns = cache.scratch.columns[share].data();
            const T* input = by_channel(x, start, n, cache.scratch.by_channel[share]);
            detail::gemm<T>(true, false, rows, ld, InC, T(1), weight, rows, input, ld, T(0), columns, ld);
            T* out = y.data() + start * output_size;
            for (std::size_t b = 0; b < n; ++b)  // the bias added on the way
                detail::col2im<g>(columns + b * positions, ld, out + b * output_size, bias);
        });
    }

    // dW += x im2col(dy)^T in chunks of dW's columns (the rows of the im2col matrix), each
    // summed over every group in order, each thread taking whole chunks.
    void weight_gradient(const matrix<T>& x, const matrix<T>& dy, T* grad, const cache_type& cache) const {
        constexpr std::size_t rows = geometry.rows(), positions = geometry.positions();
        const std::size_t batch = dy.shape()[0];
        if constexpr (uses_winograd) {  // the convolution's, whose input is dy and output gradient x
            winograd_form::weight_gradient(dy.data(), x.data(), grad, batch, cache.winograd);
            return;
        }
        const std::size_t stride = detail::group_stride(cache.group, batch);
        const std::size_t chunks = detail::chunk_count(rows), shares = detail::share_count(chunks);
        reserve(cache, shares, batch);
        detail::for_each_share(chunks, shares, [&](std::size_t share, std::size_t first, std::size_t last) {
            for (std::size_t start = 0; start < batch; start += stride) {
                const std::size_t n = detail::group_size(cache.group, batch, start), ld = n * positions;
                const T* input = by_channel(x, start, n, cache.scratch.by_channel[share]);
                for (std::size_t chunk = first; chunk < last; ++chunk) {
                    const detail::row_range r = detail::chunk_rows(chunk, rows);
                    const T* columns =
                        gradient_columns(dy, start, n, cache.scratch.columns[share].data(), r.first, r.last);
                    detail::gemm<T>(false, true, InC, r.last - r.first, ld, T(1), input, ld, columns, ld, T(1),
                                    grad + r.first, rows);
                }
            }
        });
    }

    // Samples [start, start + n) of x as {InC, n positions}: the sample itself for n = 1.
    static const T* by_channel(const matrix<T>& x, std::size_t start, std::size_t n, std::vector<T>& scratch) {
        return detail::group_by_channel<geometry.positions()>(x.data(), start, n, InC, scratch);
    }

    // Rows [first_row, last_row) of the im2col of samples [start, start + n) of dy, side by
    // side: {last_row - first_row, n H W} in `columns`.
    static const T* gradient_columns(const matrix<T>& dy, std::size_t start, std::size_t n, T* columns,
                                     std::size_t first_row, std::size_t last_row) {
        const std::size_t ld = n * geometry.positions();
        for (std::size_t b = 0; b < n; ++b)
            detail::im2col_rows<geometry>(dy.data() + (start + b) * output_size, columns + b * geometry.positions(),
                                          ld, first_row, last_row);
        return columns;
    }
};

// ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>, as written in a stack
// (nn.ConvTranspose2d(InC, OutC, Kernel, Stride, Padding, OutputPadding)).
template <std::size_t InC, std::size_t OutC, std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0,
          std::size_t OutputPadding = 0>
struct ConvTranspose2D {
    static_assert(InC > 0 && OutC > 0, "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: "
                                       "InC and OutC must be positive");
    static_assert(Kernel > 0,
                  "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: Kernel must be positive");
    static_assert(Stride > 0,
                  "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: Stride must be positive");

    template <Shape In>
    static constexpr bool accepts = detail::conv_transpose2d_accepts<In, InC, Kernel, Stride, Padding, OutputPadding>();

    template <Shape In, class T>
    using bind_to =
        ConvTranspose2DLayer<InC, OutC, Kernel, Stride, Padding, OutputPadding, In::height, In::width, T>;

    template <class Position, Shape In>
    struct check_input {
        static_assert(ImageShape<In>,
                      "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: the input must be an "
                      "image C x H x W, not a vector (after a vector layer such as Dense, put "
                      "xgan::Unflatten<C, H, W> before it)");
        static_assert(!ImageShape<In> || In::channels == InC,
                      "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: the input's channels "
                      "must equal InC (change InC, or the channels of the layer before)");
        static_assert(!ImageShape<In> || In::channels != InC || OutputPadding < Stride,
                      "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: OutputPadding must "
                      "be smaller than Stride (as in PyTorch; it only picks among the output sizes a stride allows)");
        static_assert(!ImageShape<In> || In::channels != InC || OutputPadding >= Stride ||
                          ((In::height - 1) * Stride + Kernel + OutputPadding > 2 * Padding &&
                           (In::width - 1) * Stride + Kernel + OutputPadding > 2 * Padding),
                      "xgan::ConvTranspose2D<InC, OutC, Kernel, Stride, Padding, OutputPadding>: the output would be "
                      "empty ((H - 1) Stride - 2 Padding + Kernel + OutputPadding must be positive); use less padding "
                      "or a larger kernel");
    };
};

}  // namespace xgan
