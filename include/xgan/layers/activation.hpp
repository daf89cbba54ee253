// The shared machinery of element-wise activations. Each activation header
// (relu.hpp, sigmoid.hpp, ...) defines a small Op and a specification that binds it here.
#pragma once

#include <cstddef>
#include <concepts>
#include <span>
#include <string>

#include <xgan/config.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/detail/kernels.hpp>

namespace xgan {

// An Op provides
//   static T value(T x)                      f(x)
//   static T gradient(T x, T y, T dy)        dy * f'(x), given y = f(x)
// Both should be branch-free (selects, not ifs) so the loops vectorise. The loops live in
// detail/kernels.hpp, which runs them with AVX2 on CPUs that have it. Large matrices are
// split over xgan::set_threads threads (element by element, so any split gives the same
// values).
//
// An Op also names itself for architecture records and summaries:
//   static std::string name()                "ReLU", "LeakyReLU(1/5)"
// For the second-order pass (gradient penalties, docs/design/layer-concept.md) an Op
// also provides
//   static T second_derivative(T x, T y)     f''(x), given y = f(x)
// and, when f'' is zero wherever it exists (ReLU, LeakyReLU), may say so with
//   static constexpr bool piecewise_linear = true
// An Activation whose Op lacks second_derivative has no second-order pass.
//
// Activation works on any shape (values element by element); Shape is the shape of
// one sample, shape<Width> for a vector.
template <class Op, std::size_t Width, class T, class Shape = shape<Width>>
class Activation {
public:
    static_assert(Width > 0, "xgan::Activation: width must be positive");
    static_assert(Shape::size == Width, "xgan::Activation: Shape must hold Width values");
    using value_type = T;
    using op = Op;
    using input_shape = Shape;
    using output_shape = Shape;
    static constexpr std::size_t input_size = Width;
    static constexpr std::size_t output_size = Width;
    static constexpr std::size_t parameter_count = 0;

    static std::string name() {
        constexpr bool named = requires {
            { Op::name() } -> std::convertible_to<std::string>;
        };
        static_assert(named, "xgan::Activation: give the Op a name: static std::string name() (architecture records "
                             "tell activations apart by it)");
        if constexpr (named)
            return std::string(Op::name());
        else
            return {};
    }

    void forward(std::span<const T>, const matrix<T>& x, matrix<T>& y) const {
        const T* in = x.data();
        T* out = y.data();
        detail::parallel_for(x.size(), [in, out](std::size_t begin, std::size_t end) {
            detail::kernels::activation_forward<Op, T>(end - begin, in + begin, out + begin);
        });
    }

    // Its inference code for xgan::export_header: y = f(x) value by value, f as the Op
    // spells it in C++ (static std::string export_expression(), in terms of a scalar v).
    template <class Writer>
    void export_code(Writer& out, std::span<const T>, std::span<const T>) const {
        constexpr bool spelled = requires {
            { Op::export_expression() } -> std::convertible_to<std::string>;
        };
        static_assert(spelled, "xgan::Activation: to export it (xgan::export_header), give the Op its formula in C++: "
                               "static std::string export_expression(), in terms of a value v of type scalar (e.g. "
                               "\"v < scalar(0) ? scalar(0) : v\")");
        if constexpr (spelled)
            out.code("for (std::size_t i = 0; i < $n; ++i) {\n    const scalar v = x[i];\n    y[i] = $f;\n}",
                     {{"n", Width}, {"f", std::string(Op::export_expression())}});
    }

    void backward_input(std::span<const T>, const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy,
                        matrix<T>& dx) const {
        const T *in = x.data(), *out = y.data(), *g = dy.data();
        T* d = dx.data();
        detail::parallel_for(x.size(), [in, out, g, d](std::size_t begin, std::size_t end) {
            detail::kernels::activation_backward<Op, T>(end - begin, in + begin, out + begin, g + begin, d + begin);
        });
    }

    // The second-order pass: dx = f'(x) dy, so e_out = f'(x) e and x_adjoint += f''(x) dy e.
    static constexpr bool second_order_curvature = !requires { requires Op::piecewise_linear; };
    void backward_second_order(std::span<const T>, const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy,
                               const matrix<T>& e, matrix<T>& e_out, matrix<T>& x_adjoint, std::span<T>) const
        requires requires(T v) {
            { Op::second_derivative(v, v) } -> std::convertible_to<T>;
        }
    {
        const T *in = x.data(), *out = y.data(), *g = dy.data(), *t = e.data();
        T *pushed = e_out.data(), *adjoint = x_adjoint.data();
        const std::size_t n = x.size();
        for (std::size_t i = 0; i < n; ++i) pushed[i] = Op::gradient(in[i], out[i], t[i]);
        if constexpr (second_order_curvature)
            for (std::size_t i = 0; i < n; ++i) adjoint[i] += Op::second_derivative(in[i], out[i]) * g[i] * t[i];
    }
};

// The specification of an activation in a stack: takes the previous layer's shape.
template <class Op>
struct activation_spec {
    template <Shape In, class T>
    using bind_to = Activation<Op, In::size, T, In>;
    template <std::size_t Width, class T>
    using bind = Activation<Op, Width, T>;
};

}  // namespace xgan
