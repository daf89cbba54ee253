// LeakyReLU: x for x > 0, slope * x otherwise. The slope is part of the type so a
// stack stays a type: LeakyReLU has slope 0.2 (the tutorials'), LeakyReLUWithSlope<1, 100>
// has PyTorch's default 0.01.
#pragma once

#include <cstdint>
#include <string>

#include <xgan/layers/activation.hpp>

namespace xgan {
namespace detail {
template <std::intmax_t Numerator, std::intmax_t Denominator>
struct leaky_relu_op {
    static_assert(Denominator > 0, "xgan::LeakyReLUWithSlope<Num, Den>: Den must be positive");
    template <class T> static constexpr T slope() { return T(Numerator) / T(Denominator); }
    static std::string name() {
        return "LeakyReLU(" + std::to_string(Numerator) + "/" + std::to_string(Denominator) + ")";
    }
    template <class T> static T value(T x) { return x > T(0) ? x : slope<T>() * x; }
    template <class T> static T gradient(T x, T, T dy) { return x > T(0) ? dy : slope<T>() * dy; }
    static std::string export_expression() {
        return "v > scalar(0) ? v : scalar(" + std::to_string(Numerator) + ") / scalar(" + std::to_string(Denominator) +
               ") * v";
    }
    template <class T> static T second_derivative(T, T) { return T(0); }
    static constexpr bool piecewise_linear = true;

    // With a slope >= 0, y > 0 exactly where x > 0: the kernels fuse it into a Dense
    // layer's products and run it in vector lanes (detail/kernels.hpp, output_gated_v),
    // with this lane form on V = T or a vector of T, bit for bit value and gradient.
    static constexpr bool gated_by_output = Numerator >= 0;
    template <class T, class V>
    [[gnu::always_inline]] static void value_lanes(V& x) {
        x = x > V{} ? x : slope<T>() * x;
    }
    template <class T, class V>
    [[gnu::always_inline]] static void gradient_from_output_lanes(const V& y, V& dy) {
        dy = y > V{} ? dy : slope<T>() * dy;
    }
};
}  // namespace detail

// LeakyReLU with slope Numerator / Denominator for negative inputs.
template <std::intmax_t Numerator, std::intmax_t Denominator>
struct LeakyReLUWithSlope : activation_spec<detail::leaky_relu_op<Numerator, Denominator>> {
    static_assert(Denominator > 0, "xgan::LeakyReLUWithSlope<Num, Den>: Den must be positive");
};

// LeakyReLU with slope 0.2.
struct LeakyReLU : LeakyReLUWithSlope<1, 5> {};

}  // namespace xgan
