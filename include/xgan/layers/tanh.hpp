// Tanh: the generator's output activation for data scaled to [-1, 1].
#pragma once

#include <cmath>

#include <string>

#include <xgan/layers/activation.hpp>

namespace xgan {
namespace detail {
// value is the scalar reference; a Tanh layer of floats runs kernels::tanh_forward
// (detail/kernels_impl.hpp; float_tanh_kernel below asks for it), which is correctly
// rounded where std::tanh(float) may be off by one ulp, so the two can differ in the last bit.
struct tanh_op {
    static constexpr bool float_tanh_kernel = true;
    static std::string name() { return "Tanh"; }
    template <class T> static T value(T x) { return std::tanh(x); }
    template <class T> static T gradient(T, T y, T dy) { return dy * (T(1) - y * y); }
    // In double, then rounded: a float so matches the correctly rounded kernel but for
    // the rare value that double rounding moves.
    static std::string export_expression() { return "static_cast<scalar>(std::tanh(static_cast<double>(v)))"; }
    // f'' = -2 y (1 - y^2)
    template <class T> static T second_derivative(T, T y) { return T(-2) * y * (T(1) - y * y); }
};
}  // namespace detail

struct Tanh : activation_spec<detail::tanh_op> {};

}  // namespace xgan
