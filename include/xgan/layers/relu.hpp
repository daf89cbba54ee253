// ReLU: max(x, 0).
#pragma once

#include <algorithm>

#include <string>

#include <xgan/layers/activation.hpp>

namespace xgan {
namespace detail {
struct relu_op {
    static std::string name() { return "ReLU"; }
    template <class T> static T value(T x) { return std::max(x, T(0)); }
    template <class T> static T gradient(T x, T, T dy) { return x > T(0) ? dy : T(0); }
    static std::string export_expression() { return "v < scalar(0) ? scalar(0) : v"; }  // as std::max(v, 0)
    template <class T> static T second_derivative(T, T) { return T(0); }
    static constexpr bool piecewise_linear = true;

    // The kernels fuse ReLU into a Dense layer's products and run it in vector lanes
    // (detail/kernels.hpp, output_gated_v): its gradient reads off its output, and its
    // lane form on V = T or a vector of T gives value and gradient bit for bit.
    static constexpr bool gated_by_output = true;
    // std::max(x, 0): 0 where x < 0, x otherwise (so -0 and NaN stay as they are).
    template <class T, class V>
    [[gnu::always_inline]] static void value_lanes(V& x) {
        const V zero{};
        x = x < zero ? zero : x;
    }
    // gradient: dy where x > 0, that is where y > 0, else 0.
    template <class T, class V>
    [[gnu::always_inline]] static void gradient_from_output_lanes(const V& y, V& dy) {
        dy = y > V{} ? dy : V{};
    }
};
}  // namespace detail

struct ReLU : activation_spec<detail::relu_op> {};

}  // namespace xgan
