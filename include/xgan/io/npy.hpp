// NumPy's .npy format (version 1.0 written; 1.0, 2.0 and 3.0 read): one array per
// file, a small text header, then the raw little-endian data. numpy.load reads what
// encode() writes; decode() validates every field of what it is given.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xgan/config.hpp>

namespace xgan {

// A checkpoint or .npy file that cannot be read: the message names the file, the entry
// and what is wrong.
class checkpoint_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace npy {

static_assert(std::endian::native == std::endian::little,
              "xgan::npy: xgan writes and reads little-endian arrays and assumes a little-endian machine");

// The dtype strings xgan reads and writes.
template <class T> constexpr std::string_view dtype_of();
template <> constexpr std::string_view dtype_of<float>() { return "<f4"; }
template <> constexpr std::string_view dtype_of<double>() { return "<f8"; }
template <> constexpr std::string_view dtype_of<std::uint64_t>() { return "<u8"; }

struct array {
    std::string dtype;                // "<f4", "<f8", "<u8", "|S12", ...
    std::vector<std::size_t> shape;   // empty for a scalar
    std::string data;                 // raw bytes, C order

    std::size_t item_size() const;
    std::size_t count() const;
};

namespace detail {

inline std::size_t item_size(std::string_view dtype, std::string_view where) {
    if (dtype == "<f4") return 4;
    if (dtype == "<f8" || dtype == "<u8" || dtype == "<i8") return 8;
    if (dtype == "|u1" || dtype == "|i1" || dtype == "|b1") return 1;
    if (dtype.size() > 2 && dtype.substr(0, 2) == "|S") {
        std::size_t n = 0;
        for (char c : dtype.substr(2)) {
            if (c < '0' || c > '9' || n > 1'000'000)
                XGAN_THROW(checkpoint_error, where, ": unsupported dtype '", dtype, "'");
            n = n * 10 + static_cast<std::size_t>(c - '0');
        }
        if (n == 0) XGAN_THROW(checkpoint_error, where, ": unsupported dtype '", dtype, "'");
        return n;
    }
    XGAN_THROW(checkpoint_error, where, ": unsupported dtype '", dtype, "' (xgan reads <f4, <f8, <u8, |S<n>)");
}

// Product of the dimensions, refusing overflow.
inline std::size_t element_count(const std::vector<std::size_t>& shape, std::string_view where) {
    std::size_t n = 1;
    for (std::size_t d : shape) {
        if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d)
            XGAN_THROW(checkpoint_error, where, ": shape overflows");
        n *= d;
    }
    return n;
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + (shape.size() == 1 ? ",)" : ")");
}

// Value of 'key' in the header dictionary, up to the next top-level comma or brace.
inline std::string_view header_value(std::string_view header, std::string_view key, std::string_view where) {
    std::string quoted;  // "'" + key + "'", written so that g++ 12 -O3 sees no -Wrestrict overlap in it
    quoted.reserve(key.size() + 2);
    quoted.append(1, '\'').append(key).append(1, '\'');
    const auto at = header.find(quoted);
    if (at == std::string_view::npos) XGAN_THROW(checkpoint_error, where, ": .npy header lacks ", quoted);
    auto pos = header.find(':', at + quoted.size());
    if (pos == std::string_view::npos) XGAN_THROW(checkpoint_error, where, ": malformed .npy header");
    ++pos;
    while (pos < header.size() && header[pos] == ' ') ++pos;
    std::size_t end = pos;
    if (end < header.size() && header[end] == '(') {
        end = header.find(')', end);
        if (end == std::string_view::npos) XGAN_THROW(checkpoint_error, where, ": malformed shape in .npy header");
        ++end;
    } else if (end < header.size() && header[end] == '\'') {
        end = header.find('\'', end + 1);
        if (end == std::string_view::npos) XGAN_THROW(checkpoint_error, where, ": malformed .npy header");
        ++end;
    } else {
        while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
    }
    return header.substr(pos, end - pos);
}

inline std::vector<std::size_t> parse_shape(std::string_view text, std::string_view where) {
    if (text.size() < 2 || text.front() != '(' || text.back() != ')')
        XGAN_THROW(checkpoint_error, where, ": malformed shape '", text, "'");
    std::vector<std::size_t> shape;
    std::size_t i = 1;
    while (i + 1 < text.size()) {
        while (i + 1 < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
        if (i + 1 >= text.size()) break;
        std::size_t value = 0;
        std::size_t digits = 0;
        while (i + 1 < text.size() && text[i] >= '0' && text[i] <= '9') {
            if (value > (std::numeric_limits<std::size_t>::max() - 9) / 10)
                XGAN_THROW(checkpoint_error, where, ": dimension too large in shape '", text, "'");
            value = value * 10 + static_cast<std::size_t>(text[i] - '0');
            ++i, ++digits;
        }
        if (digits == 0) XGAN_THROW(checkpoint_error, where, ": malformed shape '", text, "'");
        shape.push_back(value);
        if (shape.size() > 32) XGAN_THROW(checkpoint_error, where, ": too many dimensions in shape '", text, "'");
    }
    return shape;
}

}  // namespace detail

inline std::size_t array::item_size() const { return detail::item_size(dtype, "npy array"); }
inline std::size_t array::count() const { return detail::element_count(shape, "npy array"); }

// The bytes of a .npy file holding `bytes` of data of the given dtype and shape.
inline std::string encode(std::string_view dtype, const std::vector<std::size_t>& shape, const void* data,
                          std::size_t bytes) {
    std::string header = "{'descr': '" + std::string(dtype) + "', 'fortran_order': False, 'shape': " +
                         detail::shape_text(shape) + ", }";
    // Pad so that magic (6) + version (2) + length (2) + header is a multiple of 64.
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>((header.size() >> 8) & 0xff);
    out += header;
    out.append(static_cast<const char*>(data), bytes);
    return out;
}

// What a .npy header says, and how many bytes it takes.
struct header {
    std::string dtype;
    std::vector<std::size_t> shape;
    std::size_t size = 0;        // bytes before the data: magic, version, length field and header text
    std::size_t data_bytes = 0;  // bytes of data the header promises: item size x element count
};

// How many bytes the header of the .npy file starting with `start` takes (magic, version
// and length field included), read off its first 10 bytes (12 for versions 2.0 and 3.0),
// so a reader can bound what it reads before it reads the header itself.
inline std::size_t header_size(std::string_view start, std::string_view where) {
    if (start.size() < 10 || start.substr(0, 6) != std::string_view("\x93NUMPY", 6))
        XGAN_THROW(checkpoint_error, where, ": not a .npy array (bad magic)");
    const auto major = static_cast<unsigned char>(start[6]);
    if (major == 1)
        return 10 + (static_cast<unsigned char>(start[8]) |
                     (static_cast<std::size_t>(static_cast<unsigned char>(start[9])) << 8));
    if (major != 2 && major != 3) XGAN_THROW(checkpoint_error, where, ": unsupported .npy version ", static_cast<int>(major));
    if (start.size() < 12) XGAN_THROW(checkpoint_error, where, ": truncated .npy header");
    std::size_t length = 0;
    for (int i = 3; i >= 0; --i)
        length = (length << 8) | static_cast<unsigned char>(start[8 + static_cast<std::size_t>(i)]);
    return 12 + length;
}

// Parses and validates the header at the start of `bytes`, which holds at least
// header_size() bytes (the data need not follow).
inline header decode_header(std::string_view bytes, std::string_view where) {
    const std::size_t size = header_size(bytes, where);
    if (size > bytes.size()) XGAN_THROW(checkpoint_error, where, ": truncated .npy header");
    const std::size_t offset = static_cast<unsigned char>(bytes[6]) == 1 ? 10 : 12;
    const std::string_view text = bytes.substr(offset, size - offset);

    header result;
    result.size = size;
    const auto descr = detail::header_value(text, "descr", where);
    if (descr.size() < 2 || descr.front() != '\'' || descr.back() != '\'')
        XGAN_THROW(checkpoint_error, where, ": malformed descr in .npy header");
    result.dtype = std::string(descr.substr(1, descr.size() - 2));
    if (detail::header_value(text, "fortran_order", where) != "False")
        XGAN_THROW(checkpoint_error, where, ": Fortran-order arrays are not supported");
    result.shape = detail::parse_shape(detail::header_value(text, "shape", where), where);

    const std::size_t item = detail::item_size(result.dtype, where);
    const std::size_t count = detail::element_count(result.shape, where);
    if (count != 0 && item > std::numeric_limits<std::size_t>::max() / count)
        XGAN_THROW(checkpoint_error, where, ": shape overflows");
    result.data_bytes = count * item;
    return result;
}

// Parses and validates a whole .npy file; `where` names it in errors.
inline array decode(std::string_view bytes, std::string_view where) {
    header h = decode_header(bytes, where);
    const std::size_t payload = bytes.size() - h.size;
    if (payload != h.data_bytes)
        XGAN_THROW(checkpoint_error, where, ": holds ", payload, " bytes of data but its header promises ",
                   h.data_bytes, " (", h.dtype, " ", detail::shape_text(h.shape), ")");
    return {std::move(h.dtype), std::move(h.shape), std::string(bytes.substr(h.size))};
}

}  // namespace npy
}  // namespace xgan
