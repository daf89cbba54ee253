// ReLU: max(x, 0).
#pragma once

#include <xgan/layers/activation.hpp>

namespace xgan {
namespace detail {
struct relu_op {
    template <class T> static T value(T x) { return x > T(0) ? x : T(0); }
    template <class T> static T derivative(T x, T) { return x > T(0) ? T(1) : T(0); }
};
}  // namespace detail

struct ReLU : activation_spec<detail::relu_op> {};

}  // namespace xgan
