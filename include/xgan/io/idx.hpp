// IDX files, the format of MNIST and Fashion-MNIST: read from disk or parsed from
// memory, raw or gzip-compressed, with every field of the header checked against the data.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <zlib.h>

#include <xgan/config.hpp>

namespace xgan {

// A data file is missing, unreadable or malformed, or does not fit what it is used for.
// The message names the file and the fault.
class dataset_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The element type codes of the IDX format (third byte of the magic number).
// xgan reads unsigned bytes, the type of every MNIST-style file.
enum class idx_type : std::uint8_t {
    unsigned_byte = 0x08,
    signed_byte = 0x09,
    int16 = 0x0B,
    int32 = 0x0C,
    float32 = 0x0D,
    float64 = 0x0E,
};

// The most dimensions read_idx accepts (MNIST images have 3, labels 1).
inline constexpr std::size_t idx_max_rank = 4;

// An IDX file's contents: the elements in row-major order, data.size() == size().
struct idx_array {
    std::string source;              // the file's path, or parse_idx's name: error messages use it
    idx_type type = idx_type::unsigned_byte;
    std::vector<std::size_t> shape;  // 1 to idx_max_rank dimensions, each at least 1
    std::vector<std::uint8_t> data;

    std::size_t rank() const { return shape.size(); }
    std::size_t size() const {
        std::size_t n = 1;
        for (const std::size_t d : shape) n *= d;
        return n;
    }

    friend bool operator==(const idx_array&, const idx_array&) = default;
};

namespace detail::idx {

// Who reports (xgan::read_idx or xgan::parse_idx) about which file.
struct origin {
    std::string_view entity;
    std::string_view name;
};

template <class... Parts>
[[noreturn]] void fail(const origin& at, const Parts&... parts) {
    XGAN_THROW(dataset_error, at.entity, ": ", at.name, ": ", parts...);
}

inline std::string hex(unsigned byte) {
    constexpr char digits[] = "0123456789ABCDEF";
    return {'0', 'x', digits[(byte >> 4) & 0xF], digits[byte & 0xF]};
}

inline std::string_view type_name(unsigned code) {
    switch (code) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "16-bit integer";
        case 0x0C: return "32-bit integer";
        case 0x0D: return "32-bit float";
        case 0x0E: return "64-bit float";
        default: return {};
    }
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text;
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? " x " : "") + std::to_string(shape[i]);
    return text;
}

inline bool starts_gzip(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// The bytes of an IDX file: the buffer itself, or the decompressed contents of the gzip
// stream it holds (one or more gzip members, nothing after them).
class input {
public:
    input(std::span<const std::uint8_t> bytes, const origin& at) : bytes_(bytes), at_(at), gzip_(starts_gzip(bytes)) {
        if (!gzip_) return;
        const int status = inflateInit2(&stream_, 15 + 16);  // 15-bit window, gzip wrapper only
        if (status == Z_MEM_ERROR) throw std::bad_alloc();
        if (status != Z_OK) fail(at_, "zlib cannot start decompressing (inflateInit2 returned ", status, ")");
        inflating_ = true;
    }
    ~input() {
        if (inflating_) inflateEnd(&stream_);
    }
    input(const input&) = delete;
    input& operator=(const input&) = delete;

    bool gzip() const { return gzip_; }
    // Bytes not yet read (raw files only: a gzip stream's length is known once inflated).
    std::size_t raw_remaining() const { return bytes_.size() - position_; }

    // Reads up to n bytes into out; fewer only where the data ends.
    std::size_t read(std::uint8_t* out, std::size_t n) {
        if (!gzip_) {
            const std::size_t k = std::min(n, raw_remaining());
            if (k > 0) std::memcpy(out, bytes_.data() + position_, k);
            position_ += k;
            return k;
        }
        std::size_t got = 0;
        while (got < n && !finished_) {
            if (member_ended_) {
                const std::size_t left = bytes_.size() - position_;
                if (left == 0) {
                    finished_ = true;
                    break;
                }
                if (!starts_gzip(bytes_.subspan(position_)))
                    fail(at_, "corrupt gzip stream: ", left, left == 1 ? " byte follows" : " bytes follow",
                         " the end of the compressed data and do not start another gzip member");
                inflateReset(&stream_);
                member_ended_ = false;
            }
            constexpr std::size_t max_chunk = std::numeric_limits<uInt>::max();
            const auto in_size = static_cast<uInt>(std::min(bytes_.size() - position_, max_chunk));
            const auto out_size = static_cast<uInt>(std::min(n - got, max_chunk));
            // zlib does not write through next_in; its type is const only with ZLIB_CONST.
            stream_.next_in = const_cast<Bytef*>(bytes_.data() + position_);
            stream_.avail_in = in_size;
            stream_.next_out = out + got;
            stream_.avail_out = out_size;
            const int status = inflate(&stream_, Z_NO_FLUSH);
            position_ += in_size - stream_.avail_in;
            got += out_size - stream_.avail_out;
            decompressed_ += out_size - stream_.avail_out;
            if (status == Z_STREAM_END) {
                member_ended_ = true;
            } else if (status == Z_BUF_ERROR && position_ == bytes_.size()) {
                fail(at_, "truncated gzip stream: the compressed data ends before the end of the stream (",
                     decompressed_, " bytes decompressed)");
            } else if (status == Z_MEM_ERROR) {
                throw std::bad_alloc();
            } else if (status != Z_OK) {
                const std::string reason = stream_.msg ? stream_.msg : message("zlib error ", status);
                fail(at_, "corrupt gzip stream: ", reason, " (after ", decompressed_, " bytes decompressed)");
            }
        }
        return got;
    }

private:
    std::span<const std::uint8_t> bytes_;
    origin at_;
    bool gzip_;
    z_stream stream_{};
    bool inflating_ = false;
    bool member_ended_ = false;
    bool finished_ = false;
    std::size_t position_ = 0;     // into bytes_
    std::size_t decompressed_ = 0;
};

inline idx_array parse(std::span<const std::uint8_t> bytes, const origin& at) {
    input in(bytes, at);
    const char* const decompressed = in.gzip() ? "decompressed " : "";

    std::uint8_t magic[4];
    const std::size_t magic_bytes = in.read(magic, 4);
    if (magic_bytes == 0) fail(at, "the ", decompressed, "file is empty");
    if (magic_bytes < 4)
        fail(at, "truncated: an IDX file starts with a 4-byte magic number, the ", decompressed, "file holds ",
             magic_bytes, magic_bytes == 1 ? " byte" : " bytes");
    if (magic[0] != 0 || magic[1] != 0)
        fail(at, "bad magic number: an IDX file starts with 0x00 0x00, this ", decompressed, "file with ", hex(magic[0]), " ",
             hex(magic[1]), in.gzip() ? "" : " (and it is not gzip-compressed either)");
    const unsigned code = magic[2];
    if (code != 0x08) {
        if (!type_name(code).empty())
            fail(at, "unsupported element type ", hex(code), " (", type_name(code), "): xgan reads only ", hex(0x08),
                 " (unsigned byte)");
        fail(at, "unknown element type ", hex(code),
             " in the magic number (IDX defines 0x08, 0x09, 0x0B, 0x0C, 0x0D and 0x0E; xgan reads 0x08, unsigned byte)");
    }
    const std::size_t rank = magic[3];
    if (rank == 0 || rank > idx_max_rank)
        fail(at, "bad number of dimensions: the magic number gives ", rank, ", xgan reads 1 to ", idx_max_rank);

    std::uint8_t sizes[4 * idx_max_rank];
    const std::size_t size_bytes = in.read(sizes, 4 * rank);
    if (size_bytes < 4 * rank)
        fail(at, "truncated header: ", rank, " dimensions need ", 4 * rank, " bytes of sizes after the magic number, the ",
             decompressed, "file holds ", size_bytes);
    std::vector<std::size_t> shape(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::uint8_t* b = sizes + 4 * i;  // big-endian
        shape[i] = static_cast<std::size_t>((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]});
    }
    std::size_t payload = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        if (shape[i] == 0)
            fail(at, "zero dimension: the header's sizes are ", shape_text(shape), ", each must be at least 1");
        if (payload > std::numeric_limits<std::size_t>::max() / shape[i])
            fail(at, "impossible size: the dimensions ", shape_text(shape), " multiply to more than ",
                 std::numeric_limits<std::size_t>::max(), " bytes");
        payload *= shape[i];
    }
    const std::size_t header = 4 + 4 * rank;
    const std::string promise = message("the header promises ", payload, payload == 1 ? " byte" : " bytes", " of data (",
                                        shape_text(shape), " unsigned bytes), the ", decompressed, "file holds ");

    idx_array result{std::string(at.name), idx_type::unsigned_byte, std::move(shape), {}};
    std::vector<std::uint8_t>& data = result.data;
    if (!in.gzip()) {
        // The allocation is bounded by the buffer: sizes are compared before anything is allocated.
        const std::size_t held = in.raw_remaining();
        if (held < payload) fail(at, "truncated: ", promise, held, " after its ", header, "-byte header");
        if (held > payload)
            fail(at, "trailing bytes: ", promise, held, " after its ", header, "-byte header (", held - payload,
                 " too many)");
        data.resize(payload);
        in.read(data.data(), payload);
        return result;
    }

    // A gzip stream's decompressed size is known only by inflating it, so the buffer grows
    // with the data actually decompressed (at most doubling), never to the header's claim alone.
    const std::size_t first = std::max<std::size_t>(std::size_t{1} << 16, std::min(bytes.size(), payload / 4) * 4);
    std::size_t filled = 0;
    while (filled < payload) {
        const std::size_t target = std::min(payload, std::max(first, filled > payload / 2 ? payload : 2 * filled));
        data.resize(target);
        const std::size_t got = in.read(data.data() + filled, target - filled);
        filled += got;
        if (filled < target) break;  // the stream ended
    }
    if (filled < payload) fail(at, "truncated: ", promise, filled, " after its ", header, "-byte header");
    // Inflating to the end also checks the stream's CRC and length trailer.
    std::size_t extra = 0;
    std::uint8_t scratch[4096];
    while (const std::size_t got = in.read(scratch, sizeof scratch)) extra += got;
    if (extra > 0)
        fail(at, "trailing bytes: ", promise, payload + extra, " after its ", header, "-byte header (", extra, " too many)");
    return result;
}

// The whole file, read in chunks: the buffer never outgrows what the file holds.
inline std::vector<std::uint8_t> read_file(const std::filesystem::path& path, const origin& at) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (status.type() == std::filesystem::file_type::not_found) fail(at, "no such file");
    if (error) fail(at, "cannot open: ", error.message());
    if (std::filesystem::is_directory(status)) fail(at, "is a directory, not an IDX file");

    errno = 0;
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.string().c_str(), "rb"), &std::fclose);
    if (!file) fail(at, "cannot open: ", errno ? std::strerror(errno) : "fopen failed");
    std::size_t hint = 0;
    if (std::filesystem::is_regular_file(status)) {
        const auto size = std::filesystem::file_size(path, error);
        if (!error && size < std::numeric_limits<std::size_t>::max()) hint = static_cast<std::size_t>(size);
    }
    std::vector<std::uint8_t> bytes;
    std::size_t filled = 0;
    for (std::size_t chunk = std::max<std::size_t>(hint + 1, 1 << 16);; chunk = std::max(chunk, filled)) {
        bytes.resize(filled + chunk);
        const std::size_t got = std::fread(bytes.data() + filled, 1, chunk, file.get());
        filled += got;
        if (got < chunk) {
            if (std::ferror(file.get())) fail(at, "read error: ", errno ? std::strerror(errno) : "fread failed");
            break;
        }
    }
    bytes.resize(filled);
    return bytes;
}

}  // namespace detail::idx

// Parses an IDX file held in memory. A buffer starting with the gzip magic 0x1f 0x8b is
// decompressed first. `name` stands for the file in error messages.
// Throws dataset_error naming `name` and the fault; nothing else for any input.
inline idx_array parse_idx(std::span<const std::uint8_t> bytes, std::string_view name = "<memory>") {
    return detail::idx::parse(bytes, {"xgan::parse_idx", name});
}

// Reads an IDX file, raw or gzip-compressed (told apart by its first bytes, not its name).
// Throws dataset_error naming the path and the fault.
inline idx_array read_idx(const std::filesystem::path& path) {
    const std::string name = path.string();
    const detail::idx::origin at{"xgan::read_idx", name};
    const std::vector<std::uint8_t> bytes = detail::idx::read_file(path, at);
    return detail::idx::parse(bytes, at);
}

}  // namespace xgan
