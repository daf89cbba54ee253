// Sigmoid: 1 / (1 + exp(-x)). A discriminator ending in Sigmoid has its losses
// computed from the logits before it (see losses/), so saturation cannot give NaN.
#pragma once

#include <cmath>

#include <string>

#include <xgan/layers/activation.hpp>

namespace xgan {
namespace detail {
struct sigmoid_op {
    static std::string name() { return "Sigmoid"; }
    // Written so that exp never overflows.
    template <class T> static T value(T x) {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T> static T gradient(T, T y, T dy) { return dy * y * (T(1) - y); }
    static std::string export_expression() {
        return "v >= scalar(0) ? scalar(1) / (scalar(1) + std::exp(-v)) : std::exp(v) / (scalar(1) + std::exp(v))";
    }
    // f'' = f' (1 - 2 y) = y (1 - y) (1 - 2 y)
    template <class T> static T second_derivative(T, T y) { return y * (T(1) - y) * (T(1) - T(2) * y); }
};
}  // namespace detail

struct Sigmoid : activation_spec<detail::sigmoid_op> {};

// True for the concrete layer a Sigmoid becomes.
template <class L>
inline constexpr bool is_sigmoid_v = false;
template <std::size_t Width, class T>
inline constexpr bool is_sigmoid_v<Activation<detail::sigmoid_op, Width, T>> = true;

}  // namespace xgan
