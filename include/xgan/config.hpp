// Library-wide settings: the default scalar and the error helpers.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// Marks a function that runs rarely (once per file written, or on an error): the
// compiler optimises it for size and keeps it out of the hot code, which also makes
// it cheaper to compile in every translation unit that uses it.
#if defined(__GNUC__) || defined(__clang__)
#define XGAN_COLD [[gnu::cold]]
#else
#define XGAN_COLD
#endif

namespace xgan {

// Parameters and activations are float unless a network says otherwise
// (BasicSequential<double, ...>).
using default_scalar = float;

namespace detail {

// The pieces of an error message, each appended as `std::ostream <<` writes it. Text,
// integers and floating-point numbers go through the plain functions below, compiled
// once per translation unit instead of a stream per message; anything else (paths,
// bools, characters, user types) through a stream of its own.
XGAN_COLD inline void append_signed(std::string& s, long long v) { s += std::to_string(v); }
XGAN_COLD inline void append_unsigned(std::string& s, unsigned long long v) { s += std::to_string(v); }
XGAN_COLD inline void append_double(std::string& s, double v) {
    std::ostringstream out;
    out << v;
    s += out.str();
}
template <class Part>
XGAN_COLD void append_streamed(std::string& s, const Part& part) {
    std::ostringstream out;
    out << part;
    s += out.str();
}
template <class Part>
void append_part(std::string& s, const Part& part) {
    using P = std::remove_cv_t<Part>;
    constexpr bool character = std::is_same_v<P, bool> || std::is_same_v<P, char> || std::is_same_v<P, signed char> ||
                               std::is_same_v<P, unsigned char> || std::is_same_v<P, wchar_t> ||
                               std::is_same_v<P, char8_t> || std::is_same_v<P, char16_t> ||
                               std::is_same_v<P, char32_t>;
    if constexpr (std::is_convertible_v<const Part&, std::string_view>) s += std::string_view(part);
    else if constexpr (std::is_integral_v<P> && !character && std::is_signed_v<P>) append_signed(s, part);
    else if constexpr (std::is_integral_v<P> && !character) append_unsigned(s, part);
    else if constexpr (std::is_same_v<P, float> || std::is_same_v<P, double>) append_double(s, part);
    else append_streamed(s, part);
}

// Builds an error message from pieces: message("expected ", 15, " columns").
template <class... Parts>
XGAN_COLD std::string message(const Parts&... parts) {
    std::string s;
    (append_part(s, parts), ...);
    return s;
}

}  // namespace detail
}  // namespace xgan

// Marks a pointer as the only way to reach its data, so element-wise loops vectorise.
#define XGAN_RESTRICT __restrict

// Throws Exception with a message assembled from the remaining arguments.
#define XGAN_THROW(Exception, ...) throw Exception(::xgan::detail::message(__VA_ARGS__))
