// IDX files, the format of MNIST and Fashion-MNIST: read from disk or parsed from
// memory, raw or gzip-compressed, with every field of the header checked against the data.
// Memory is bounded by what the header claims, and the claim is checked against what the
// file can hold before anything is allocated.
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

// The most data bytes read_idx and parse_idx accept unless told otherwise: 4 GiB, 8 times
// the largest IDX file in common use (EMNIST ByClass, 697932 x 28 x 28 = 547 MB). A header
// claiming more is refused before anything is allocated; pass a larger max_data_bytes to
// read such a file.
inline constexpr std::size_t idx_max_data_bytes = std::size_t{1} << 32;

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

// Deflate's largest expansion: a length code and a distance code of one bit each give 258
// bytes from 2 bits, so n bytes of gzip decompress to at most 1032 n bytes.
inline constexpr std::uint64_t deflate_max_ratio = 1032;

// How far past the header's claim the data is read before "trailing bytes" is reported
// without counting the rest: enough for an exact count of small excesses.
inline constexpr std::size_t trailing_window = std::size_t{1} << 16;

// Where an IDX file's bytes come from: a buffer, or an open regular file read in chunks of
// 64 KiB, so that nothing past the header is read before the header has been checked.
// size() is known before reading: the buffer's length, or the file's from the filesystem.
class source {
public:
    source(std::span<const std::uint8_t> bytes, const origin& at) : memory_(bytes), size_(bytes.size()), at_(at) {}
    source(std::FILE* file, std::uint64_t size, const origin& at)
        : file_(file), size_(size), at_(at), buffer_(std::size_t{1} << 16) {}

    std::uint64_t size() const { return size_; }
    std::uint64_t position() const { return position_; }
    // Bytes left by size(); a file that grew or shrank meanwhile is caught by reading.
    std::uint64_t left() const { return size_ > position_ ? size_ - position_ : 0; }

    // The next bytes, not consumed: at least min(n, what is left) of them, n <= 64 KiB.
    std::span<const std::uint8_t> peek(std::size_t n) {
        if (!file_) return memory_.subspan(static_cast<std::size_t>(position_));
        if (end_ - begin_ < n && !eof_) refill();
        return {buffer_.data() + begin_, end_ - begin_};
    }
    // Skips n bytes of what peek returned.
    void consume(std::size_t n) {
        if (file_) begin_ += n;
        position_ += n;
    }
    // Copies up to n bytes into out; fewer only where the data ends.
    std::size_t read(std::uint8_t* out, std::size_t n) {
        std::size_t got = 0;
        if (!file_) {
            got = std::min<std::size_t>(n, memory_.size() - static_cast<std::size_t>(position_));
            if (got > 0) std::memcpy(out, memory_.data() + position_, got);
        } else {
            got = std::min(n, end_ - begin_);
            if (got > 0) std::memcpy(out, buffer_.data() + begin_, got);
            begin_ += got;
            if (got < n && !eof_) got += fread_all(out + got, n - got);  // large reads bypass the buffer
        }
        position_ += got;
        return got;
    }

private:
    void refill() {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        end_ += fread_all(buffer_.data() + end_, buffer_.size() - end_);
    }
    std::size_t fread_all(std::uint8_t* out, std::size_t n) {
        errno = 0;
        const std::size_t got = std::fread(out, 1, n, file_);
        if (got < n) {
            if (std::ferror(file_)) fail(at_, "read error: ", errno ? std::strerror(errno) : "fread failed");
            eof_ = true;
        }
        return got;
    }

    std::span<const std::uint8_t> memory_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_;
    origin at_;
    std::vector<std::uint8_t> buffer_;  // files only: buffer_[begin_, end_) is read but not consumed
    std::size_t begin_ = 0, end_ = 0;
    bool eof_ = false;
    std::uint64_t position_ = 0;  // bytes consumed
};

// The bytes of an IDX file: the source's bytes, or the decompressed contents of the gzip
// stream it holds (one or more gzip members, nothing after them), inflated only as far as read.
class input {
public:
    input(source& from, const origin& at) : from_(from), at_(at), gzip_(starts_gzip(from.peek(2))) {
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

    // Reads up to n bytes into out; fewer only where the data ends (for gzip, after every
    // member's CRC-32 and length have been checked).
    std::size_t read(std::uint8_t* out, std::size_t n) {
        if (!gzip_) return from_.read(out, n);
        std::size_t got = 0;
        while (got < n && !finished_) {
            if (member_ended_) {
                const std::span<const std::uint8_t> next = from_.peek(2);
                if (next.empty()) {
                    finished_ = true;
                    break;
                }
                if (!starts_gzip(next)) {
                    const std::uint64_t left = std::max<std::uint64_t>(from_.left(), next.size());
                    fail(at_, "corrupt gzip stream: ", left, left == 1 ? " byte follows" : " bytes follow",
                         " the end of the compressed data and do not start another gzip member");
                }
                inflateReset(&stream_);
                member_ended_ = false;
            }
            constexpr std::size_t max_chunk = std::numeric_limits<uInt>::max();
            const std::span<const std::uint8_t> in = from_.peek(1);
            const auto in_size = static_cast<uInt>(std::min(in.size(), max_chunk));
            const auto out_size = static_cast<uInt>(std::min(n - got, max_chunk));
            // zlib does not write through next_in; its type is const only with ZLIB_CONST.
            stream_.next_in = const_cast<Bytef*>(in.data());
            stream_.avail_in = in_size;
            stream_.next_out = out + got;
            stream_.avail_out = out_size;
            const int status = inflate(&stream_, Z_NO_FLUSH);
            from_.consume(in_size - stream_.avail_in);
            got += out_size - stream_.avail_out;
            decompressed_ += out_size - stream_.avail_out;
            if (status == Z_STREAM_END) {
                member_ended_ = true;
            } else if (status == Z_BUF_ERROR && from_.peek(1).empty()) {
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
    source& from_;
    origin at_;
    bool gzip_;
    z_stream stream_{};
    bool inflating_ = false;
    bool member_ended_ = false;
    bool finished_ = false;
    std::uint64_t decompressed_ = 0;
};

// Reads and checks an IDX file. Memory: the header's claim is checked against what the source
// can hold (a raw file exactly its length, a gzip file 1032 times its length) and against
// max_data_bytes before anything is allocated, and the data is read only up to the claim
// (plus at most trailing_window bytes to report an excess).
inline idx_array parse(source& from, const origin& at, std::size_t max_data_bytes) {
    input in(from, at);
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
    const std::string claim = message("the header promises ", payload, payload == 1 ? " byte" : " bytes", " of data (",
                                      shape_text(shape), " unsigned bytes)");
    const std::string promise = message(claim, ", the ", decompressed, "file holds ");

    // The claim against what the source can hold, before anything is allocated.
    if (!in.gzip()) {
        const std::uint64_t held = from.left();
        if (held < payload) fail(at, "truncated: ", promise, held, " after its ", header, "-byte header");
        if (held > payload)
            fail(at, "trailing bytes: ", promise, held, " after its ", header, "-byte header (", held - payload,
                 " too many)");
    } else {
        const std::uint64_t most = from.size() > std::numeric_limits<std::uint64_t>::max() / deflate_max_ratio
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : from.size() * deflate_max_ratio;
        if (most < header || payload > most - header)
            fail(at, "truncated: ", claim, ", more than a gzip file of ", from.size(),
                 " bytes can hold (deflate expands at most ", deflate_max_ratio, "-fold, to ", most, " bytes)");
    }
    if (payload > max_data_bytes)
        fail(at, "too large: ", claim, ", more than the limit of ", max_data_bytes,
             " bytes (pass a larger max_data_bytes to read it)");

    idx_array result{std::string(at.name), idx_type::unsigned_byte, std::move(shape), {}};
    std::vector<std::uint8_t>& data = result.data;
    std::size_t filled = 0;
    if (!in.gzip()) {
        data.resize(payload);
        filled = in.read(data.data(), payload);
    } else {
        // A gzip stream's decompressed size is known only by inflating it, so the buffer grows
        // with the data actually decompressed (at most doubling, up to the claim).
        const std::size_t guess = static_cast<std::size_t>(std::min<std::uint64_t>(from.size(), payload / 4)) * 4;
        const std::size_t first = std::max<std::size_t>(std::size_t{1} << 16, guess);
        while (filled < payload) {
            const std::size_t target = std::min(payload, std::max(first, filled > payload / 2 ? payload : 2 * filled));
            data.reserve(target);  // exactly: resize alone may reserve up to twice the target
            data.resize(target);
            const std::size_t got = in.read(data.data() + filled, target - filled);
            filled += got;
            if (filled < target) break;  // the stream ended
        }
    }
    // A file that shrank since its size was taken, or a gzip stream that ends short.
    if (filled < payload) fail(at, "truncated: ", promise, filled, " after its ", header, "-byte header");

    // Nothing may follow the claim. Reading to the end also checks a gzip stream's CRC and
    // length trailer, but stops trailing_window bytes past the claim.
    std::size_t extra = 0;
    bool ended = false;
    std::uint8_t scratch[4096];
    while (!ended && extra <= trailing_window) {
        const std::size_t got = in.read(scratch, sizeof scratch);
        ended = got < sizeof scratch;
        extra += got;
    }
    if (extra > 0 && ended)
        fail(at, "trailing bytes: ", promise, payload + extra, " after its ", header, "-byte header (", extra, " too many)");
    if (extra > 0)
        fail(at, "trailing bytes: ", promise, "at least ", payload + extra, " after its ", header, "-byte header (at least ",
             extra, " too many; not read further)");
    return result;
}

// Opens a regular file for reading. Anything else is refused before it is opened: the length
// of a device such as /dev/zero or of a pipe is not known in advance, so a header's claim
// could not be checked against it (and opening a pipe can block forever).
inline std::unique_ptr<std::FILE, int (*)(std::FILE*)> open_file(const std::filesystem::path& path, std::uint64_t& size,
                                                                  const origin& at) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (status.type() == std::filesystem::file_type::not_found) fail(at, "no such file");
    if (error) fail(at, "cannot open: ", error.message());
    using std::filesystem::file_type;
    if (status.type() == file_type::directory) fail(at, "is a directory, not an IDX file");
    if (status.type() != file_type::regular) {
        const std::string_view kind = status.type() == file_type::character ? "a character device"
                                      : status.type() == file_type::block   ? "a block device"
                                      : status.type() == file_type::fifo    ? "a pipe"
                                      : status.type() == file_type::socket  ? "a socket"
                                                                            : "a special file";
        fail(at, "is ", kind, ", not a regular file (read_idx reads regular files only, whose size bounds what a header ",
             "may claim)");
    }
    const std::uintmax_t bytes = std::filesystem::file_size(path, error);
    if (error) fail(at, "cannot open: ", error.message());
    size = bytes;

    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.string().c_str(), "rb"), &std::fclose);
    if (!file) fail(at, "cannot open: ", errno ? std::strerror(errno) : "fopen failed");
    return file;
}

}  // namespace detail::idx

// Parses an IDX file held in memory. A buffer starting with the gzip magic 0x1f 0x8b is
// decompressed first. `name` stands for the file in error messages. A header claiming more
// than max_data_bytes of data is refused before anything is allocated.
// Throws dataset_error naming `name` and the fault; nothing else for any input.
inline idx_array parse_idx(std::span<const std::uint8_t> bytes, std::string_view name = "<memory>",
                           std::size_t max_data_bytes = idx_max_data_bytes) {
    const detail::idx::origin at{"xgan::parse_idx", name};
    detail::idx::source from(bytes, at);
    return detail::idx::parse(from, at, max_data_bytes);
}

// Reads an IDX file, raw or gzip-compressed (told apart by its first bytes, not its name),
// from a regular file. The header is read first and its claim checked against the file's
// size and max_data_bytes before anything else is read or allocated.
// Throws dataset_error naming the path and the fault.
inline idx_array read_idx(const std::filesystem::path& path, std::size_t max_data_bytes = idx_max_data_bytes) {
    const std::string name = path.string();
    const detail::idx::origin at{"xgan::read_idx", name};
    std::uint64_t size = 0;
    const auto file = detail::idx::open_file(path, size, at);
    detail::idx::source from(file.get(), size, at);
    return detail::idx::parse(from, at, max_data_bytes);
}

}  // namespace xgan
