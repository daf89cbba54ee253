// Upsample2D<Factor>: nearest-neighbour upsampling of each channel by an integer factor
// (PyTorch's nn.Upsample(scale_factor=Factor, mode="nearest")): an H x W image becomes
// H Factor x W Factor, output (i, j) repeating input (i / Factor, j / Factor).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>

#include <xgan/core/layer.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// The concrete layer of Upsample2D. Backward sums the gradients of the Factor x Factor
// copies of each input value.
template <std::size_t Factor, Shape In, class T>
class Upsample2DLayer {
public:
    static_assert(Factor > 0, "xgan::Upsample2DLayer<Factor, In, T>: the factor must be positive");
    using value_type = T;
    using input_shape = In;
    using output_shape = shape<In::channels, In::height * Factor, In::width * Factor>;
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = output_shape::size;
    static constexpr std::size_t parameter_count = 0;

    static std::string name() { return "Upsample2D(x" + std::to_string(Factor) + ", nearest)"; }

    void forward(std::span<const T>, const matrix<T>& x, matrix<T>& y) const {
        constexpr std::size_t H = In::height, W = In::width, OW = W * Factor;
        const std::size_t batch = x.shape()[0];
        for (std::size_t r = 0; r < batch; ++r) {
            const T* in = x.data() + r * input_size;
            T* out = y.data() + r * output_size;
            for (std::size_t c = 0; c < In::channels; ++c)
                for (std::size_t h = 0; h < H; ++h) {
                    const T* source = in + (c * H + h) * W;
                    T* first = out + (c * H + h) * Factor * OW;  // the first of this row's Factor copies
                    for (std::size_t w = 0; w < W; ++w) std::fill_n(first + w * Factor, Factor, source[w]);
                    for (std::size_t copy = 1; copy < Factor; ++copy) std::copy_n(first, OW, first + copy * OW);
                }
        }
    }

    // Its inference code for xgan::export_header: output (c, i, j) is input (c, i / Factor, j / Factor).
    template <class Writer>
    void export_code(Writer& out, std::span<const T>, std::span<const T>) const {
        out.code(R"(for (std::size_t c = 0; c < $C; ++c)
    for (std::size_t i = 0; i < $OH; ++i)
        for (std::size_t j = 0; j < $OW; ++j)
            y[(c * $OH + i) * $OW + j] = x[(c * $H + i / $F) * $W + j / $F];)",
                 {{"C", In::channels}, {"H", In::height}, {"W", In::width}, {"F", Factor},
                  {"OH", In::height * Factor}, {"OW", In::width * Factor}});
    }

    void backward_input(std::span<const T>, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                        matrix<T>& dx) const {
        constexpr std::size_t H = In::height, W = In::width, OW = W * Factor;
        const std::size_t batch = x.shape()[0];
        for (std::size_t r = 0; r < batch; ++r) {
            const T* g = dy.data() + r * output_size;
            T* d = dx.data() + r * input_size;
            for (std::size_t c = 0; c < In::channels; ++c)
                for (std::size_t h = 0; h < H; ++h)
                    for (std::size_t w = 0; w < W; ++w) {
                        T sum = 0;
                        for (std::size_t fh = 0; fh < Factor; ++fh)
                            for (std::size_t fw = 0; fw < Factor; ++fw)
                                sum += g[((c * H + h) * Factor + fh) * OW + w * Factor + fw];
                        d[(c * H + h) * W + w] = sum;
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

// Upsample2D<Factor>: each pixel repeated Factor x Factor times, e.g. before a
// convolution in a generator that avoids transposed convolutions.
template <std::size_t Factor>
struct Upsample2D {
    // (a factor of 0 becomes 1 here, so that the type exists; check_input reports it)
    template <Shape In, class T>
    using bind_to = Upsample2DLayer<std::max<std::size_t>(Factor, 1), In, T>;

    template <Shape In>
    static constexpr bool accepts = Factor > 0 && ImageShape<In>;

    template <class Position, Shape In>
    struct check_input {
        static_assert(Factor > 0, "xgan::Upsample2D<Factor>: the factor must be positive");
        static_assert(Factor == 0 || ImageShape<In>,
                      "xgan::Upsample2D<Factor>: the input must be an image shape<C, H, W>, not a vector (put "
                      "xgan::Unflatten<C, H, W> before it, or start the stack with xgan::Input<C, H, W>)");
    };
};

}  // namespace xgan
