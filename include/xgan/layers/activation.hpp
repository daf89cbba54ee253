// The shared machinery of element-wise activations. Each activation header
// (relu.hpp, sigmoid.hpp, ...) defines a small Op and a specification that binds it here.
#pragma once

#include <cstddef>
#include <span>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// An Op provides
//   static T value(T x)                      f(x)
//   static T gradient(T x, T y, T dy)        dy * f'(x), given y = f(x)
// Both should be branch-free (selects, not ifs) so the loops below vectorise.
template <class Op, std::size_t Width, class T>
class Activation {
public:
    static_assert(Width > 0, "xgan::Activation: width must be positive");
    using value_type = T;
    using op = Op;
    static constexpr std::size_t input_size = Width;
    static constexpr std::size_t output_size = Width;
    static constexpr std::size_t parameter_count = 0;

    void forward(std::span<const T>, const matrix<T>& x, matrix<T>& y) const {
        const std::size_t n = x.size();
        const T* XGAN_RESTRICT in = x.data();
        T* XGAN_RESTRICT out = y.data();
        for (std::size_t i = 0; i < n; ++i) out[i] = Op::value(in[i]);
    }

    void backward_input(std::span<const T>, const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy,
                        matrix<T>& dx) const {
        const std::size_t n = x.size();
        const T* XGAN_RESTRICT in = x.data();
        const T* XGAN_RESTRICT out = y.data();
        const T* XGAN_RESTRICT d = dy.data();
        T* XGAN_RESTRICT result = dx.data();
        for (std::size_t i = 0; i < n; ++i) result[i] = Op::gradient(in[i], out[i], d[i]);
    }
};

// The specification of an activation in a stack: takes the previous layer's width.
template <class Op>
struct activation_spec {
    template <std::size_t Width, class T>
    using bind = Activation<Op, Width, T>;
};

}  // namespace xgan
