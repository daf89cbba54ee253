// Library-wide settings: the default scalar and the error helpers.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace xgan {

// Parameters and activations are float unless a network says otherwise
// (BasicSequential<double, ...>).
using default_scalar = float;

namespace detail {

// Builds an error message from pieces: message("expected ", 15, " columns").
template <class... Parts>
std::string message(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

}  // namespace detail
}  // namespace xgan

// Marks a pointer as the only way to reach its data, so element-wise loops vectorise.
#define XGAN_RESTRICT __restrict

// Throws Exception with a message assembled from the remaining arguments.
#define XGAN_THROW(Exception, ...) throw Exception(::xgan::detail::message(__VA_ARGS__))
