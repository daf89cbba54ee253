// Flatten and Unflatten<C, H, W>: change how a sample's values are seen, never the values.
// A batch is stored as rows in NCHW order whatever the shape (core/shape.hpp), so both
// copy each row unchanged: Flatten turns any shape into the vector shape<size> (PyTorch's
// nn.Flatten()), Unflatten<C, H, W> a vector of C * H * W values into the image
// shape<C, H, W> (PyTorch's nn.Unflatten(1, (C, H, W))).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>

#include <xgan/core/layer.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// The concrete layer of Flatten and Unflatten: copies a sample of shape In into one of
// shape Out (In::size values; Out::size equals it in every stack that compiles).
template <Shape In, Shape Out, class T>
class ReshapeLayer {
public:
    static_assert(Out::size > 0, "xgan::ReshapeLayer<In, Out>: Out must hold at least one value");
    using value_type = T;
    using input_shape = In;
    using output_shape = Out;
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = Out::size;
    static constexpr std::size_t parameter_count = 0;

    static std::string name() {
        if constexpr (Out::rank == 1)
            return "Flatten(" + In::text() + ")";
        else
            return "Unflatten(" + Out::text() + ")";
    }

    void forward(std::span<const T>, const matrix<T>& x, matrix<T>& y) const { copy(x, y); }

    // Its inference code for xgan::export_header: a copy.
    template <class Writer>
    void export_code(Writer& out, std::span<const T>, std::span<const T>) const {
        out.code("for (std::size_t i = 0; i < $n; ++i) y[i] = x[i];", {{"n", input_size}});
    }

    void backward_input(std::span<const T>, const matrix<T>&, const matrix<T>&, const matrix<T>& dy,
                        matrix<T>& dx) const {
        copy(dy, dx);
    }

    // The second-order pass: a copy, linear in x: e_out = e.
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T>, const matrix<T>&, const matrix<T>&, const matrix<T>&,
                               const matrix<T>& e, matrix<T>& e_out, matrix<T>&, std::span<T>) const {
        copy(e, e_out);
    }

private:
    static void copy(const matrix<T>& from, matrix<T>& to) {
        std::copy_n(from.data(), std::min(from.size(), to.size()), to.data());
    }
};

// Flatten: any shape to the vector of its values (C x H x W to C * H * W), e.g. between
// the last convolution of a discriminator and its Dense layer.
struct Flatten {
    template <Shape In, class T>
    using bind_to = ReshapeLayer<In, shape<In::size>, T>;
};

// Unflatten<C, H, W>: a vector of C * H * W values to the image shape<C, H, W>, e.g.
// after a generator's first Dense layer.
template <std::size_t C, std::size_t H, std::size_t W>
struct Unflatten {
    // (dimensions of 0 become 1 here, so that the type exists; check_input reports them)
    template <Shape In, class T>
    using bind_to =
        ReshapeLayer<In, shape<std::max<std::size_t>(C, 1), std::max<std::size_t>(H, 1), std::max<std::size_t>(W, 1)>, T>;

    template <Shape In>
    static constexpr bool accepts = C > 0 && H > 0 && W > 0 && VectorShape<In> && In::size == C * H * W;

    template <class Position, Shape In>
    struct check_input {
        static_assert(C > 0 && H > 0 && W > 0, "xgan::Unflatten<C, H, W>: every dimension must be positive");
        static_assert(C * H * W == 0 || accepts<In>,
                      "xgan::Unflatten<C, H, W>: the input must be a vector of exactly C * H * W values (the "
                      "previous layer's output shape is shown after the layer_index; make its output size "
                      "C * H * W, or Flatten an image first)");
    };
};

}  // namespace xgan
