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
};
}  // namespace detail

struct ReLU : activation_spec<detail::relu_op> {};

}  // namespace xgan
