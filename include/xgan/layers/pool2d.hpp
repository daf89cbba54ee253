// MaxPool2D<Kernel, Stride> and AvgPool2D<Kernel, Stride>: the maximum or the mean of
// each Kernel x Kernel window of each channel, windows Stride apart (PyTorch's
// nn.MaxPool2d and nn.AvgPool2d with their defaults: stride = kernel, no padding, floor
// mode), so an H x W image becomes (H - Kernel) / Stride + 1 rows by
// (W - Kernel) / Stride + 1 columns; rows and columns past the last whole window are
// dropped.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xgan/core/layer.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

namespace detail {
// The output shape of a Kernel x Kernel pooling, windows Stride apart, of an image In;
// at least 1 x 1, so that the type exists where the kernel does not fit (the
// specification's check_input reports that).
template <std::size_t Kernel, std::size_t Stride, Shape In>
using pooled_shape_t = shape<In::channels, (In::height >= Kernel ? (In::height - Kernel) / Stride + 1 : 1),
                             (In::width >= Kernel ? (In::width - Kernel) / Stride + 1 : 1)>;
}  // namespace detail

// The concrete layer of MaxPool2D. Each output takes the first maximum of its window in
// row-major order (a NaN wins, as in PyTorch), and backward sends the output's gradient
// to that element only: the position is kept in the cache by forward.
template <std::size_t Kernel, std::size_t Stride, Shape In, class T>
class MaxPool2DLayer {
public:
    static_assert(Kernel > 0 && Stride > 0, "xgan::MaxPool2DLayer<Kernel, Stride, In, T>: the kernel and the stride must be positive");
    using value_type = T;
    using input_shape = In;
    using output_shape = detail::pooled_shape_t<Kernel, Stride, In>;
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = output_shape::size;
    static constexpr std::size_t parameter_count = 0;

    static std::string name() {
        return "MaxPool2D(k" + std::to_string(Kernel) + ", s" + std::to_string(Stride) + ")";
    }

    struct cache_type {
        // For each output of the last forward, the index within its sample's row of the
        // input element it took. Sized on the first forward at a batch size, reused after.
        mutable std::vector<std::size_t> argmax;
    };

    void forward(std::span<const T>, std::span<const T>, const matrix<T>& x, matrix<T>& y, cache_type& cache,
                 const ForwardContext&) const {
        constexpr std::size_t H = In::height, W = In::width, OH = output_shape::height, OW = output_shape::width;
        const std::size_t batch = x.shape()[0];
        cache.argmax.resize(batch * output_size);
        for (std::size_t r = 0; r < batch; ++r) {
            const T* in = x.data() + r * input_size;
            T* out = y.data() + r * output_size;
            std::size_t* taken = cache.argmax.data() + r * output_size;
            for (std::size_t c = 0; c < In::channels; ++c)
                for (std::size_t oh = 0; oh < OH; ++oh)
                    for (std::size_t ow = 0; ow < OW; ++ow) {
                        std::size_t best = c * H * W + oh * Stride * W + ow * Stride;
                        T value = in[best];
                        for (std::size_t kh = 0; kh < Kernel; ++kh)
                            for (std::size_t kw = 0; kw < Kernel; ++kw) {
                                const std::size_t at = c * H * W + (oh * Stride + kh) * W + ow * Stride + kw;
                                if (in[at] > value || std::isnan(in[at])) {
                                    value = in[at];
                                    best = at;
                                }
                            }
                        const std::size_t o = (c * OH + oh) * OW + ow;
                        out[o] = value;
                        taken[o] = best;
                    }
        }
    }

    // Its inference code for xgan::export_header: the first maximum of each window, a NaN winning.
    template <class Writer>
    void export_code(Writer& out, std::span<const T>, std::span<const T>) const {
        out.code(R"(for (std::size_t c = 0; c < $C; ++c)
    for (std::size_t oh = 0; oh < $OH; ++oh)
        for (std::size_t ow = 0; ow < $OW; ++ow) {
            const scalar* window = x + (c * $H + oh * $S) * $W + ow * $S;
            scalar best = window[0];
            for (std::size_t i = 0; i < $K; ++i)
                for (std::size_t j = 0; j < $K; ++j) {
                    const scalar v = window[i * $W + j];
                    if (v > best || std::isnan(v)) best = v;
                }
            y[(c * $OH + oh) * $OW + ow] = best;
        })",
                 {{"C", In::channels}, {"H", In::height}, {"W", In::width}, {"K", Kernel}, {"S", Stride},
                  {"OH", output_shape::height}, {"OW", output_shape::width}});
    }

    void backward_input(std::span<const T>, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy, matrix<T>& dx,
                        const cache_type& cache) const {
        const std::size_t batch = x.shape()[0];
        std::fill(dx.begin(), dx.end(), T(0));
        for (std::size_t r = 0; r < batch; ++r) {
            const T* g = dy.data() + r * output_size;
            T* d = dx.data() + r * input_size;
            const std::size_t* taken = cache.argmax.data() + r * output_size;
            for (std::size_t o = 0; o < output_size; ++o) d[taken[o]] += g[o];
        }
    }

    // The second-order pass: linear in x given the maxima forward chose, e_out = e at them.
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T>, const matrix<T>&, const matrix<T>&, const matrix<T>&,
                               const matrix<T>& e, matrix<T>& e_out, matrix<T>&, std::span<T>,
                               const cache_type& cache) const {
        const std::size_t batch = e.shape()[0];
        for (std::size_t r = 0; r < batch; ++r) {
            const T* t = e.data() + r * input_size;
            T* pushed = e_out.data() + r * output_size;
            const std::size_t* taken = cache.argmax.data() + r * output_size;
            for (std::size_t o = 0; o < output_size; ++o) pushed[o] = t[taken[o]];
        }
    }

    void update_buffers(std::span<T>, const cache_type&) const {}
};

// The concrete layer of AvgPool2D: each output is the mean of its Kernel x Kernel
// window, and backward spreads its gradient evenly over the window.
template <std::size_t Kernel, std::size_t Stride, Shape In, class T>
class AvgPool2DLayer {
public:
    static_assert(Kernel > 0 && Stride > 0, "xgan::AvgPool2DLayer<Kernel, Stride, In, T>: the kernel and the stride must be positive");
    using value_type = T;
    using input_shape = In;
    using output_shape = detail::pooled_shape_t<Kernel, Stride, In>;
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = output_shape::size;
    static constexpr std::size_t parameter_count = 0;

    static std::string name() {
        return "AvgPool2D(k" + std::to_string(Kernel) + ", s" + std::to_string(Stride) + ")";
    }

    void forward(std::span<const T>, const matrix<T>& x, matrix<T>& y) const {
        constexpr std::size_t H = In::height, W = In::width, OH = output_shape::height, OW = output_shape::width;
        const std::size_t batch = x.shape()[0];
        for (std::size_t r = 0; r < batch; ++r) {
            const T* in = x.data() + r * input_size;
            T* out = y.data() + r * output_size;
            for (std::size_t c = 0; c < In::channels; ++c)
                for (std::size_t oh = 0; oh < OH; ++oh)
                    for (std::size_t ow = 0; ow < OW; ++ow) {
                        T sum = 0;
                        for (std::size_t kh = 0; kh < Kernel; ++kh)
                            for (std::size_t kw = 0; kw < Kernel; ++kw)
                                sum += in[c * H * W + (oh * Stride + kh) * W + ow * Stride + kw];
                        out[(c * OH + oh) * OW + ow] = sum / T(Kernel * Kernel);
                    }
        }
    }

    // Its inference code for xgan::export_header: each window summed in order from 0, then divided.
    template <class Writer>
    void export_code(Writer& out, std::span<const T>, std::span<const T>) const {
        out.code(R"(for (std::size_t c = 0; c < $C; ++c)
    for (std::size_t oh = 0; oh < $OH; ++oh)
        for (std::size_t ow = 0; ow < $OW; ++ow) {
            const scalar* window = x + (c * $H + oh * $S) * $W + ow * $S;
            scalar sum = 0;
            for (std::size_t i = 0; i < $K; ++i)
                for (std::size_t j = 0; j < $K; ++j) sum += window[i * $W + j];
            y[(c * $OH + oh) * $OW + ow] = sum / scalar($KK);
        })",
                 {{"C", In::channels}, {"H", In::height}, {"W", In::width}, {"K", Kernel}, {"S", Stride},
                  {"KK", Kernel * Kernel}, {"OH", output_shape::height}, {"OW", output_shape::width}});
    }

    void backward_input(std::span<const T>, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                        matrix<T>& dx) const {
        constexpr std::size_t H = In::height, W = In::width, OH = output_shape::height, OW = output_shape::width;
        const std::size_t batch = x.shape()[0];
        std::fill(dx.begin(), dx.end(), T(0));
        for (std::size_t r = 0; r < batch; ++r) {
            const T* g = dy.data() + r * output_size;
            T* d = dx.data() + r * input_size;
            for (std::size_t c = 0; c < In::channels; ++c)
                for (std::size_t oh = 0; oh < OH; ++oh)
                    for (std::size_t ow = 0; ow < OW; ++ow) {
                        const T share = g[(c * OH + oh) * OW + ow] / T(Kernel * Kernel);
                        for (std::size_t kh = 0; kh < Kernel; ++kh)
                            for (std::size_t kw = 0; kw < Kernel; ++kw)
                                d[c * H * W + (oh * Stride + kh) * W + ow * Stride + kw] += share;
                    }
        }
    }

    // The second-order pass: linear in x, e_out = forward(e).
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T> params, const matrix<T>&, const matrix<T>&, const matrix<T>&,
                               const matrix<T>& e, matrix<T>& e_out, matrix<T>&, std::span<T>) const {
        forward(params, e, e_out);
    }
};

// MaxPool2D<Kernel, Stride = Kernel>: the largest value of each window (nn.MaxPool2d).
template <std::size_t Kernel, std::size_t Stride = Kernel>
struct MaxPool2D {
    // (sizes of 0 become 1 here, so that the type exists; check_input reports them)
    template <Shape In, class T>
    using bind_to = MaxPool2DLayer<std::max<std::size_t>(Kernel, 1), std::max<std::size_t>(Stride, 1), In, T>;

    template <Shape In>
    static constexpr bool accepts =
        Kernel > 0 && Stride > 0 && ImageShape<In> && Kernel <= In::height && Kernel <= In::width;

    template <class Position, Shape In>
    struct check_input {
        static_assert(Kernel > 0 && Stride > 0,
                      "xgan::MaxPool2D<Kernel, Stride>: the kernel and the stride must be positive");
        static_assert(Kernel == 0 || Stride == 0 || ImageShape<In>,
                      "xgan::MaxPool2D<Kernel, Stride>: the input must be an image shape<C, H, W>, not a vector "
                      "(put xgan::Unflatten<C, H, W> before it, or start the stack with xgan::Input<C, H, W>)");
        static_assert(Kernel == 0 || Stride == 0 || !ImageShape<In> || (Kernel <= In::height && Kernel <= In::width),
                      "xgan::MaxPool2D<Kernel, Stride>: the kernel must fit in the input image, Kernel <= H and "
                      "Kernel <= W (pooling adds no padding: use a smaller kernel, or pool a larger image)");
    };
};

// AvgPool2D<Kernel, Stride = Kernel>: the mean of each window (nn.AvgPool2d).
template <std::size_t Kernel, std::size_t Stride = Kernel>
struct AvgPool2D {
    // (sizes of 0 become 1 here, so that the type exists; check_input reports them)
    template <Shape In, class T>
    using bind_to = AvgPool2DLayer<std::max<std::size_t>(Kernel, 1), std::max<std::size_t>(Stride, 1), In, T>;

    template <Shape In>
    static constexpr bool accepts =
        Kernel > 0 && Stride > 0 && ImageShape<In> && Kernel <= In::height && Kernel <= In::width;

    template <class Position, Shape In>
    struct check_input {
        static_assert(Kernel > 0 && Stride > 0,
                      "xgan::AvgPool2D<Kernel, Stride>: the kernel and the stride must be positive");
        static_assert(Kernel == 0 || Stride == 0 || ImageShape<In>,
                      "xgan::AvgPool2D<Kernel, Stride>: the input must be an image shape<C, H, W>, not a vector "
                      "(put xgan::Unflatten<C, H, W> before it, or start the stack with xgan::Input<C, H, W>)");
        static_assert(Kernel == 0 || Stride == 0 || !ImageShape<In> || (Kernel <= In::height && Kernel <= In::width),
                      "xgan::AvgPool2D<Kernel, Stride>: the kernel must fit in the input image, Kernel <= H and "
                      "Kernel <= W (pooling adds no padding: use a smaller kernel, or pool a larger image)");
    };
};

}  // namespace xgan
