// io/idx.hpp and io/image_dataset.hpp: IDX files written at test time (raw and gzipped),
// read back; every kind of bad file rejected with a message naming the file and the fault;
// scaling, shuffling and epochs of the image dataset; Fashion-MNIST when installed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <zlib.h>

#include <support/memory_limit.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/io/idx.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/sigmoid.hpp>

using namespace xgan;
namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;

namespace {

// A fresh directory per test case (ctest runs the cases in parallel), removed afterwards.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device entropy;
        path = fs::temp_directory_path() / ("xgan_test_idx_" + std::to_string(entropy()) + std::to_string(entropy()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    fs::path operator/(const std::string& name) const { return path / name; }
};

void put_u32(bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// An IDX file: the magic number (type code, rank), the sizes, then `payload`.
bytes idx(std::uint8_t type, std::initializer_list<std::uint32_t> shape, const bytes& payload) {
    bytes out{0, 0, type, static_cast<std::uint8_t>(shape.size())};
    for (const auto d : shape) put_u32(out, d);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

// n bytes: byte i holds i % 256.
bytes counting(std::size_t n) {
    bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i % 256);
    return out;
}

// n bytes that deflate cannot shrink.
bytes noise(std::size_t n) {
    std::mt19937 generator(2024);
    bytes out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(generator() >> 24);
    return out;
}

// The gzip file (one member) zlib writes for `raw`.
bytes gzip(const bytes& raw) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    bytes out(deflateBound(&stream, static_cast<uLong>(raw.size())));
    stream.next_in = const_cast<Bytef*>(raw.data());
    stream.avail_in = static_cast<uInt>(raw.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

fs::path write(const fs::path& path, const bytes& content) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
    return path;
}

// read_idx(path) throws a dataset_error whose message names the file and holds each fragment.
void require_rejected(const fs::path& path, std::initializer_list<std::string> fragments) {
    INFO("file " << path.filename().string());
    try {
        (void)read_idx(path);
        FAIL("read_idx accepted a bad file");
    } catch (const dataset_error& error) {
        const std::string what = error.what();
        INFO("message: " << what);
        CHECK_THAT(what, Catch::StartsWith("xgan::read_idx: "));
        CHECK_THAT(what, Catch::Contains(path.string()));
        for (const auto& fragment : fragments) CHECK_THAT(what, Catch::Contains(fragment));
    }
}

// Images whose first pixel is their index (n <= 256) and whose other pixels are 7.
bytes indexed_images(std::size_t n, std::size_t rows, std::size_t cols) {
    bytes pixels(n * rows * cols, 7);
    for (std::size_t i = 0; i < n; ++i) pixels[i * rows * cols] = static_cast<std::uint8_t>(i);
    return pixels;
}

ImageDataset indexed_dataset(std::size_t n, std::size_t rows = 2, std::size_t cols = 3) {
    auto images = parse_idx(idx(0x08, {std::uint32_t(n), std::uint32_t(rows), std::uint32_t(cols)},
                                indexed_images(n, rows, cols)),
                            "images");
    auto labels = parse_idx(idx(0x08, {std::uint32_t(n)}, counting(n)), "labels");
    return ImageDataset(std::move(images), std::move(labels));
}

// The image index in each row of a batch of indexed_dataset (its first pixel, unscaled).
std::vector<std::size_t> indices_of(const matrix<float>& batch) {
    std::vector<std::size_t> out;
    for (std::size_t r = 0; r < batch.shape()[0]; ++r)
        out.push_back(static_cast<std::size_t>(std::lround((batch(r, 0) + 1.0f) * 127.5f)));
    return out;
}

}  // namespace

TEST_CASE("read_idx reads raw and gzipped files, told apart by content", "[io][idx]") {
    TempDir dir;
    const bytes raw = idx(0x08, {3, 4, 5}, counting(60));
    for (const auto& [name, content] : {std::pair{std::string("images.idx"), raw}, std::pair{std::string("images.gz"), gzip(raw)},
                                        // the name does not matter, only the first two bytes
                                        std::pair{std::string("gzipped-but-named.idx"), gzip(raw)},
                                        std::pair{std::string("raw-but-named.gz"), raw}}) {
        INFO(name);
        const fs::path path = write(dir / name, content);
        const idx_array a = read_idx(path);
        CHECK(a.source == path.string());
        CHECK(a.type == idx_type::unsigned_byte);
        CHECK(a.shape == std::vector<std::size_t>{3, 4, 5});
        CHECK(a.rank() == 3);
        CHECK(a.size() == 60);
        CHECK(a.data == counting(60));
    }
}

TEST_CASE("parse_idx reads every rank from 1 to 4, from memory", "[io][idx]") {
    CHECK(parse_idx(idx(0x08, {7}, counting(7))).shape == std::vector<std::size_t>{7});
    CHECK(parse_idx(idx(0x08, {2, 3}, counting(6))).shape == std::vector<std::size_t>{2, 3});
    const idx_array a = parse_idx(gzip(idx(0x08, {2, 1, 3, 2}, counting(12))), "four.gz");
    CHECK(a.shape == std::vector<std::size_t>{2, 1, 3, 2});
    CHECK(a.data == counting(12));
    CHECK(a.source == "four.gz");
    CHECK(parse_idx(idx(0x08, {1}, {0})).source == "<memory>");
    const bytes raw = idx(0x08, {4, 2}, counting(8));
    CHECK(parse_idx(raw, "x") == parse_idx(gzip(raw), "x"));
    CHECK_FALSE(parse_idx(raw, "x") == parse_idx(raw, "y"));
}

TEST_CASE("read_idx reads a gzip file of several members and a large file", "[io][idx]") {
    TempDir dir;
    const bytes raw = idx(0x08, {300, 28, 28}, counting(300 * 28 * 28));
    // `cat a.gz b.gz` is a valid gzip file holding a then b.
    bytes two = gzip(bytes(raw.begin(), raw.begin() + 1000));
    const bytes second = gzip(bytes(raw.begin() + 1000, raw.end()));
    two.insert(two.end(), second.begin(), second.end());
    CHECK(read_idx(write(dir / "two-members.gz", two)).data == counting(300 * 28 * 28));
    // Past the first 64 KiB buffer, so the buffer grows while inflating.
    const bytes big = idx(0x08, {2000, 28, 28}, counting(2000 * 28 * 28));
    CHECK(read_idx(write(dir / "big.gz", gzip(big))).size() == 2000 * 28 * 28);
}

TEST_CASE("read_idx rejects bad headers, naming the file and the fault", "[io][idx][errors]") {
    TempDir dir;
    require_rejected(write(dir / "empty.idx", {}), {"the file is empty"});
    require_rejected(write(dir / "empty.gz", gzip({})), {"the decompressed file is empty"});
    require_rejected(write(dir / "short-magic.idx", {0, 0, 8}), {"truncated", "4-byte magic number", "holds 3 bytes"});
    require_rejected(write(dir / "zip.idx", {'P', 'K', 3, 4, 0, 0, 0, 0}),
                     {"bad magic number", "0x00 0x00", "0x50 0x4B", "not gzip-compressed"});
    require_rejected(write(dir / "float.idx", idx(0x0D, {2}, bytes(8))),
                     {"unsupported element type 0x0D (32-bit float)", "only 0x08 (unsigned byte)"});
    require_rejected(write(dir / "int32.idx.gz", gzip(idx(0x0C, {2}, bytes(8)))), {"unsupported element type 0x0C"});
    require_rejected(write(dir / "type42.idx", idx(0x42, {2}, bytes(2))), {"unknown element type 0x42"});
    require_rejected(write(dir / "rank0.idx", {0, 0, 8, 0}), {"bad number of dimensions", "gives 0", "1 to 4"});
    require_rejected(write(dir / "rank5.idx", idx(0x08, {1, 1, 1, 1, 1}, {9})), {"bad number of dimensions", "gives 5"});
    require_rejected(write(dir / "rank255.idx", {0, 0, 8, 255}), {"bad number of dimensions", "gives 255"});
    require_rejected(write(dir / "short-sizes.idx", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0}),
                     {"truncated header", "3 dimensions need 12 bytes", "holds 6"});
    require_rejected(write(dir / "zero-dim.idx", idx(0x08, {3, 0, 5}, {})),
                     {"zero dimension: the header's sizes are 3 x 0 x 5, each must be at least 1"});
    require_rejected(write(dir / "zero-count.gz", gzip(idx(0x08, {0}, {}))), {"zero dimension: the header's sizes are 0,"});
}

TEST_CASE("read_idx checks the payload length exactly", "[io][idx][errors]") {
    TempDir dir;
    const bytes good = idx(0x08, {3, 4, 5}, counting(60));
    bytes truncated = good;
    truncated.pop_back();
    require_rejected(write(dir / "truncated.idx", truncated),
                     {"truncated: the header promises 60 bytes of data (3 x 4 x 5 unsigned bytes), the file holds 59 after "
                      "its 16-byte header"});
    require_rejected(write(dir / "truncated.gz", gzip(truncated)),
                     {"truncated: the header promises 60 bytes", "the decompressed file holds 59"});
    bytes trailing = good;
    trailing.push_back(1), trailing.push_back(2);
    require_rejected(write(dir / "trailing.idx", trailing),
                     {"trailing bytes: the header promises 60 bytes", "the file holds 62", "(2 too many)"});
    require_rejected(write(dir / "trailing.gz", gzip(trailing)),
                     {"trailing bytes", "the decompressed file holds 62", "(2 too many)"});
    // Just the header: a file of the right kind with its pixels missing.
    const bytes cut_short = idx(0x08, {60000, 28, 28}, counting(1200));
    require_rejected(write(dir / "train-images-idx3-ubyte", cut_short),
                     {"truncated: the header promises 47040000 bytes of data (60000 x 28 x 28 unsigned bytes)",
                      "the file holds 1200 after its 16-byte header"});
    // Gzipped, it is refused from its length alone: deflate expands at most 1032-fold.
    const bytes cut_short_gz = gzip(cut_short);
    require_rejected(write(dir / "train-images-idx3-ubyte.gz", cut_short_gz),
                     {"truncated: the header promises 47040000 bytes of data (60000 x 28 x 28 unsigned bytes), more than a "
                      "gzip file of " +
                      std::to_string(cut_short_gz.size()) + " bytes can hold (deflate expands at most 1032-fold, to " +
                      std::to_string(1032 * cut_short_gz.size()) + " bytes)"});
}

TEST_CASE("read_idx does not allocate what a header merely claims", "[io][idx][errors]") {
    TempDir dir;
    // 2^60 bytes: allocating them would throw bad_alloc (or abort under AddressSanitizer).
    const bytes huge = idx(0x08, {1u << 30, 1u << 30}, counting(100));
    require_rejected(write(dir / "huge.idx", huge), {"truncated", "1152921504606846976 bytes", "holds 100"});
    require_rejected(write(dir / "huge.gz", gzip(huge)), {"truncated", "1152921504606846976 bytes", "more than a gzip file"});
    // 2^32 - 1 to the fourth overflows 64 bits.
    const std::uint32_t m = 0xFFFFFFFFu;
    require_rejected(write(dir / "overflow.idx", idx(0x08, {m, m, m, m}, {})),
                     {"impossible size", "4294967295 x 4294967295 x 4294967295 x 4294967295"});
    // A gzip stream far smaller than its claim: refused from its length, or once inflated.
    const bytes zeros = idx(0x08, {4096, 4096}, bytes(1 << 20, 0));
    require_rejected(write(dir / "zeros.gz", gzip(zeros)), {"truncated", "16777216 bytes", "more than a gzip file"});
    const bytes noisy = idx(0x08, {4096, 4096}, noise(1 << 20));
    require_rejected(write(dir / "noise.gz", gzip(noisy)), {"truncated", "16777216 bytes", "holds 1048576"});
}

// Memory: what a header claims is checked against what the file can hold before anything is
// allocated, and a stream is read no further than its claim. Each case runs in a child
// process bounded to 64 MiB more memory (tests/support/memory_limit.hpp), where reading what
// the file holds or claims would fail with bad_alloc, and must grow by less than 16 MiB.
namespace {

constexpr std::size_t MiB = std::size_t{1} << 20;
constexpr std::size_t memory_limit = 64 * MiB;
constexpr std::size_t peak_allowed = 16 * MiB;

// A gzip file of several members: `head`, then `members` members of 1 MiB of zeros each
// (about 1 KiB compressed apiece), so a small file inflates to `members` MiB more.
bytes gzip_with_zeros(const bytes& head, std::size_t members) {
    bytes out = gzip(head);
    const bytes zeros = gzip(bytes(MiB, 0));
    for (std::size_t i = 0; i < members; ++i) out.insert(out.end(), zeros.begin(), zeros.end());
    return out;
}

// `read` throws dataset_error with each fragment, in a child that stays well inside the
// bound; returns the message.
template <class Read>
std::string require_refused_in_bounded_memory(Read&& read, std::initializer_list<std::string> fragments) {
    const tests::limited_run run = tests::run_with_memory_limit(memory_limit, [&] {
        try {
            read();
        } catch (const dataset_error& error) {
            throw std::runtime_error(std::string("dataset_error: ") + error.what());
        }
    });
    INFO("peak growth " << run.peak_growth_bytes / 1024 << " KiB, message: " << run.exception_message);
    REQUIRE(run.exited);
    REQUIRE_FALSE(run.bad_alloc);  // what the old reader did: allocate what the file held or claimed
    REQUIRE(run.threw);
    CHECK_THAT(run.exception_message, Catch::StartsWith("dataset_error: xgan::"));
    for (const auto& fragment : fragments) CHECK_THAT(run.exception_message, Catch::Contains(fragment));
    CHECK(run.peak_growth_bytes < peak_allowed);
    return run.exception_message;
}

// A file of `size` bytes starting with `head`, the rest a hole: no disk space is used.
fs::path write_sparse(const fs::path& path, const bytes& head, std::uintmax_t size) {
    write(path, head);
    fs::resize_file(path, size);
    return path;
}

}  // namespace

TEST_CASE("read_idx refuses a small gzip file whose header claims 65535^3 bytes without inflating it",
          "[io][idx][errors][memory]") {
    TempDir dir;
    // 256 KiB that inflate to 256 MiB: the old reader inflated it all before refusing it.
    const bytes file = gzip_with_zeros(idx(0x08, {65535, 65535, 65535}, bytes(MiB, 0)), 255);
    const fs::path path = write(dir / "huge-claim-idx3-ubyte.gz", file);
    const std::string claim = "truncated: the header promises " + std::to_string(65535ull * 65535 * 65535) +
                              " bytes of data (65535 x 65535 x 65535 unsigned bytes), more than a gzip file of " +
                              std::to_string(file.size()) + " bytes can hold";
    require_refused_in_bounded_memory([&] { (void)read_idx(path); }, {path.string(), claim});
    require_refused_in_bounded_memory([&] { (void)parse_idx(file, "huge.gz"); }, {"xgan::parse_idx: huge.gz: " + claim});
    require_refused_in_bounded_memory([&] { ImageDataset data(path); }, {"xgan::read_idx: " + path.string(), claim});
}

TEST_CASE("read_idx refuses a raw file longer or shorter than its header claims without reading it",
          "[io][idx][errors][memory]") {
    TempDir dir;
    constexpr std::uintmax_t GiB = std::uintmax_t{1} << 30;
    // 1 GiB for a 10-byte file's claim: the old reader read all of it first.
    const fs::path long_file = write_sparse(dir / "long-idx1", idx(0x08, {1}, {42}), GiB);
    require_refused_in_bounded_memory([&] { (void)read_idx(long_file); },
                                      {long_file.string(), "trailing bytes: the header promises 1 byte of data",
                                       "the file holds " + std::to_string(GiB - 8) + " after its 8-byte header (" +
                                           std::to_string(GiB - 9) + " too many)"});
    // A header claiming 65535^3 bytes in a 1 GiB file.
    const fs::path short_file = write_sparse(dir / "short-idx3", idx(0x08, {65535, 65535, 65535}, {}), GiB);
    require_refused_in_bounded_memory(
        [&] { (void)read_idx(short_file); },
        {short_file.string(), "truncated: the header promises " + std::to_string(65535ull * 65535 * 65535) + " bytes",
         "the file holds " + std::to_string(GiB - 16) + " after its 16-byte header"});
}

TEST_CASE("read_idx refuses devices and pipes at once", "[io][idx][errors][memory]") {
    // The old reader read /dev/zero until the allocator failed.
    require_refused_in_bounded_memory([] { (void)read_idx("/dev/zero"); },
                                      {"xgan::read_idx: /dev/zero: is a character device, not a regular file"});
    // A pipe's length is unknown, and opening one without a writer blocks: refused unopened.
    TempDir dir;
    const fs::path fifo = dir / "fifo-idx3";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    require_refused_in_bounded_memory([&] { (void)read_idx(fifo); }, {fifo.string() + ": is a pipe, not a regular file"});
}

TEST_CASE("read_idx stops inflating a gzip stream soon after it exceeds its claim", "[io][idx][errors][memory]") {
    TempDir dir;
    // A 1 KiB claim, 128 KiB more data, then a corrupt deflate block. Reading to the end
    // (as the old reader did to count the excess) reports the corrupt block; stopping soon
    // after the claim never reaches it.
    bytes raw = idx(0x08, {1024}, counting(1024));
    raw.resize(raw.size() + 128 * 1024, 0);
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    bytes file(deflateBound(&stream, static_cast<uLong>(raw.size())) + 16);
    stream.next_in = raw.data();
    stream.avail_in = static_cast<uInt>(raw.size());
    stream.next_out = file.data();
    stream.avail_out = static_cast<uInt>(file.size());
    REQUIRE(deflate(&stream, Z_FULL_FLUSH) == Z_OK);  // byte-aligned, the member not ended
    file.resize(stream.total_out);
    deflateEnd(&stream);
    file.insert(file.end(), {0xFF, 0xFF, 0xFF, 0xFF});  // a final block of the reserved type 3
    // The corrupt block is there, 128 KiB past the claim.
    const fs::path path = write(dir / "long-idx1.gz", file);
    const std::string message = require_refused_in_bounded_memory(
        [&] { (void)read_idx(path); },
        {path.string(), "trailing bytes: the header promises 1024 bytes of data (1024 unsigned bytes), the decompressed "
                        "file holds at least ",
         " too many; not read further)"});
    CHECK_THAT(message, !Catch::Contains("corrupt"));
}

TEST_CASE("read_idx and parse_idx refuse a claim above max_data_bytes before reading the data",
          "[io][idx][errors][memory]") {
    TempDir dir;
    const bytes hundred = idx(0x08, {10, 10}, counting(100));
    const std::string too_large =
        "too large: the header promises 100 bytes of data (10 x 10 unsigned bytes), more than the limit of 99 bytes";
    CHECK_THROWS_WITH(parse_idx(hundred, "m", 99),
                      "xgan::parse_idx: m: " + too_large + " (pass a larger max_data_bytes to read it)");
    CHECK(parse_idx(hundred, "m", 100).data == counting(100));
    const fs::path raw = write(dir / "hundred-idx2", hundred);
    CHECK_THROWS_WITH(read_idx(raw, 99), Catch::Contains(too_large));
    CHECK(read_idx(raw, 100).data == counting(100));
    CHECK_THROWS_WITH(read_idx(write(dir / "hundred-idx2.gz", gzip(hundred)), 99), Catch::Contains(too_large));

    // By default, 4 GiB: a 4 MB gzip file may honestly hold 4295032832 bytes (deflate
    // expands up to 1032-fold), but a header claiming that much is refused unread.
    const std::uint64_t claim = std::uint64_t{65537} * 65536;
    REQUIRE(claim > idx_max_data_bytes);
    bytes file = gzip(idx(0x08, {65537, 65536}, {}));
    const bytes zeros = gzip(bytes(MiB, 0));
    while (1032 * file.size() < claim + 12) file.insert(file.end(), zeros.begin(), zeros.end());
    const fs::path path = write(dir / "4-gib-idx2.gz", file);
    const std::string message = "too large: the header promises " + std::to_string(claim) +
                                " bytes of data (65537 x 65536 unsigned bytes), more than the limit of " +
                                std::to_string(idx_max_data_bytes) + " bytes";
    require_refused_in_bounded_memory([&] { (void)read_idx(path); }, {path.string(), message});
    require_refused_in_bounded_memory([&] { (void)parse_idx(file); }, {message});
}

TEST_CASE("read_idx rejects corrupt gzip streams", "[io][idx][errors]") {
    TempDir dir;
    const bytes raw = idx(0x08, {10, 28, 28}, counting(7840));
    const bytes good = gzip(raw);
    REQUIRE(read_idx(write(dir / "good.gz", good)).size() == 7840);

    bytes cut = good;
    cut.resize(cut.size() - 12);
    require_rejected(write(dir / "cut.gz", cut), {"truncated gzip stream"});
    bytes no_trailer = good;
    no_trailer.resize(no_trailer.size() - 4);
    require_rejected(write(dir / "no-trailer.gz", no_trailer), {"truncated gzip stream"});
    require_rejected(write(dir / "magic-only.gz", {0x1f, 0x8b}), {"truncated gzip stream"});

    bytes flipped = good;
    flipped[flipped.size() / 2] ^= 0x55;
    require_rejected(write(dir / "flipped.gz", flipped), {"corrupt gzip stream"});
    bytes bad_crc = good;
    bad_crc[bad_crc.size() - 6] ^= 1;  // in the CRC-32 of the trailer
    require_rejected(write(dir / "bad-crc.gz", bad_crc), {"corrupt gzip stream", "incorrect data check"});
    bytes bad_method = good;
    bad_method[2] = 7;  // compression method: only 8 (deflate) exists
    require_rejected(write(dir / "bad-method.gz", bad_method), {"corrupt gzip stream", "unknown compression method"});
    bytes garbage = good;
    garbage.insert(garbage.end(), {'j', 'u', 'n', 'k'});
    require_rejected(write(dir / "garbage.gz", garbage),
                     {"corrupt gzip stream", "4 bytes follow the end of the compressed data"});
}

TEST_CASE("read_idx names a missing file or a directory", "[io][idx][errors]") {
    TempDir dir;
    require_rejected(dir / "no-such-file-idx3-ubyte.gz", {"no such file"});
    require_rejected(dir.path, {"is a directory"});
}

TEST_CASE("parse_idx reports errors under the name it is given", "[io][idx][errors]") {
    CHECK_THROWS_WITH(parse_idx(bytes{1, 2, 3, 4}, "buffer.bin"),
                      Catch::StartsWith("xgan::parse_idx: buffer.bin: bad magic number"));
    CHECK_THROWS_AS(parse_idx(bytes{}), std::runtime_error);  // dataset_error is a runtime_error
}

TEST_CASE("ImageDataset loads images and labels and checks they belong together", "[io][dataset]") {
    TempDir dir;
    const auto images = write(dir / "images-idx3.gz", gzip(idx(0x08, {5, 2, 3}, indexed_images(5, 2, 3))));
    const auto labels = write(dir / "labels-idx1", idx(0x08, {5}, {3, 1, 4, 200, 9}));  // any byte is a label
    ImageDataset data(images, labels);
    CHECK(data.size() == 5);
    CHECK(data.rows() == 2);
    CHECK(data.cols() == 3);
    CHECK(data.sample_size() == 6);
    CHECK(data.has_labels());
    CHECK(std::vector<std::uint8_t>(data.labels().begin(), data.labels().end()) == bytes{3, 1, 4, 200, 9});
    CHECK(data.image(4)[0] == 4);
    CHECK(data.image(4)[1] == 7);
    CHECK_THROWS_AS(data.image(5), std::out_of_range);
    CHECK(data.images_source() == images.string());
    CHECK_FALSE(ImageDataset(images).has_labels());

    const auto four_labels = write(dir / "four-labels-idx1", idx(0x08, {4}, {0, 1, 2, 3}));
    CHECK_THROWS_WITH(ImageDataset(images, four_labels),
                      "xgan::ImageDataset: " + four_labels.string() + " holds 4 labels but " + images.string() +
                          " holds 5 images");
    CHECK_THROWS_AS(ImageDataset(images, four_labels), dataset_error);
    // The two files swapped.
    CHECK_THROWS_WITH(ImageDataset(labels, images),
                      Catch::Contains(labels.string()) && Catch::Contains("expected images (3 dimensions") &&
                          Catch::Contains("is it a labels file?"));
    CHECK_THROWS_WITH(ImageDataset(images, images),
                      Catch::Contains(images.string()) && Catch::Contains("expected labels (1 dimension") &&
                          Catch::Contains("5 x 2 x 3"));
    // A bad file fails with read_idx's message.
    CHECK_THROWS_WITH(ImageDataset(images, dir / "missing-labels"),
                      Catch::StartsWith("xgan::read_idx: ") && Catch::Contains("missing-labels: no such file"));
}

TEST_CASE("ImageDataset checks the network's input width against the image size", "[io][dataset]") {
    using Discriminator = Sequential<Dense<784, 64>, LeakyReLU, Dense<64, 1>, Sigmoid>;
    TempDir dir;
    const auto mnist_like = write(dir / "28x28-idx3.gz", gzip(idx(0x08, {2, 28, 28}, counting(2 * 784))));
    CHECK_NOTHROW(ImageDataset(mnist_like).check_input_size<Discriminator>());
    const auto cifar_like = write(dir / "32x32-idx3", idx(0x08, {2, 32, 32}, counting(2 * 1024)));
    const ImageDataset data(cifar_like);
    CHECK_THROWS_WITH(data.check_input_size<Discriminator>(),
                      "xgan::ImageDataset: the network reads 784 values per sample but " + cifar_like.string() +
                          " holds 32x32 = 1024-pixel images");
    CHECK_THROWS_AS(data.check_input_size(784), dataset_error);
    CHECK_NOTHROW(data.check_input_size(1024));
}

TEST_CASE("ImageDataset scales pixels to [-1, 1]", "[io][dataset]") {
    CHECK(ImageDataset::scale(0) == -1.0f);
    CHECK(ImageDataset::scale(255) == 1.0f);
    CHECK(ImageDataset::scale<double>(255) == 1.0);
    CHECK(ImageDataset::scale<double>(51) == Approx(51 / 127.5 - 1));

    bytes pixels(256);
    for (unsigned v = 0; v < 256; ++v) pixels[v] = static_cast<std::uint8_t>(v);
    ImageDataset data(parse_idx(idx(0x08, {1, 16, 16}, pixels), "ramp"));
    matrix<float> batch({1, 256});
    Rng rng(1);
    data.next_batch(batch, rng);
    CHECK(batch(0, 0) == -1.0f);
    CHECK(batch(0, 255) == 1.0f);
    for (unsigned v = 0; v < 256; ++v) CHECK(batch(0, v) == Approx(v / 127.5 - 1).margin(1e-6));
    matrix<double> batch64({1, 256});
    data.next_batch(batch64, rng);
    CHECK(batch64(0, 0) == -1.0);
    CHECK(batch64(0, 128) == Approx(128 / 127.5 - 1).epsilon(1e-15));
}

TEST_CASE("ImageDataset serves each image at most once per epoch, in a shuffled order", "[io][dataset]") {
    ImageDataset data = indexed_dataset(10);
    CHECK(data.batches_per_epoch(3) == 3);
    CHECK(data.batches_per_epoch(10) == 1);
    CHECK(data.batches_per_epoch(11) == 0);
    matrix<float> batch({3, 6});
    const float* storage = batch.data();
    std::array<std::uint8_t, 3> labels{};
    Rng rng(2024);
    std::set<std::size_t> seen_ever;
    for (std::size_t epoch = 0; epoch < 20; ++epoch) {
        std::set<std::size_t> seen;
        for (std::size_t b = 0; b < 3; ++b) {
            CHECK(data.epoch() == epoch);
            data.next_batch(batch, labels, rng);
            const auto indices = indices_of(batch);
            for (std::size_t r = 0; r < 3; ++r) {
                // Row r is image order()[position - 3 + r], with its label.
                CHECK(indices[r] == data.order()[3 * b + r]);
                CHECK(labels[r] == indices[r]);
                CHECK(seen.insert(indices[r]).second);  // not seen before in this epoch
                for (std::size_t k = 1; k < 6; ++k) CHECK(batch(r, k) == ImageDataset::scale(7));
            }
        }
        // The 10th image of the epoch's order is dropped: the epoch ended after 3 batches.
        CHECK(seen.size() == 9);
        CHECK(data.epoch() == epoch + 1);
        std::vector<std::size_t> order(data.order().begin(), data.order().end());
        std::sort(order.begin(), order.end());
        CHECK(order == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // a permutation
        seen_ever.insert(seen.begin(), seen.end());
    }
    CHECK(data.step() == 60);
    CHECK(seen_ever.size() == 10);  // a fresh order each epoch: the dropped image varies
    CHECK(batch.data() == storage);  // filled in place
}

TEST_CASE("ImageDataset's shuffle is a fixed function of the seed", "[io][dataset]") {
    const auto orders = [](std::uint64_t seed) {
        ImageDataset data = indexed_dataset(50);
        matrix<float> batch({16, 6});
        Rng rng(seed);
        std::vector<std::size_t> served;
        for (int b = 0; b < 12; ++b) {
            data.next_batch(batch, rng);
            const auto indices = indices_of(batch);
            served.insert(served.end(), indices.begin(), indices.end());
        }
        CHECK(data.epoch() == 4);
        return served;
    };
    const auto a = orders(7);
    CHECK(orders(7) == a);
    CHECK(orders(8) != a);
    std::vector<std::size_t> first_epoch(a.begin(), a.begin() + 48);
    std::vector<std::size_t> identity(48);
    std::iota(identity.begin(), identity.end(), std::size_t{0});
    CHECK(first_epoch != identity);

    // The same Rng state gives the same order, whatever happened before.
    ImageDataset data = indexed_dataset(50);
    matrix<float> batch({16, 6});
    Rng rng(7);
    data.next_batch(batch, rng);
    data.rewind();
    CHECK(data.epoch() == 0);
    CHECK(data.step() == 0);
    CHECK(data.position() == 0);
    Rng again(7);
    matrix<float> other({16, 6});
    data.next_batch(other, again);
    const bool same = other == batch;
    CHECK(same);
}

TEST_CASE("ImageDataset's shuffle draws every permutation evenly", "[io][dataset]") {
    // 3 images, batches of 3: one batch per epoch, 6 orders equally likely.
    ImageDataset data = indexed_dataset(3, 1, 1);
    matrix<float> batch({3, 1});
    Rng rng(99);
    std::map<std::vector<std::size_t>, int> counts;
    const int epochs = 6000;
    for (int e = 0; e < epochs; ++e) {
        data.next_batch(batch, rng);
        ++counts[indices_of(batch)];
    }
    REQUIRE(counts.size() == 6);
    for (const auto& [order, count] : counts) CHECK(count == Approx(1000).margin(120));  // > 4 sigma
}

TEST_CASE("ImageDataset ends an epoch after the batch that leaves too few images", "[io][dataset]") {
    ImageDataset data = indexed_dataset(10);
    Rng rng(5);
    matrix<float> small({2, 6}), large({5, 6});
    for (int b = 0; b < 3; ++b) data.next_batch(small, rng);
    CHECK(data.epoch() == 0);
    CHECK(data.position() == 6);  // 4 left: enough for another batch of 2
    data.next_batch(large, rng);  // but not for 5: a new epoch begins first
    CHECK(data.epoch() == 1);
    CHECK(data.position() == 5);
    data.next_batch(large, rng);  // 10 of 10: the epoch is complete
    CHECK(data.epoch() == 2);
    CHECK(data.position() == 0);
    CHECK(data.step() == 5);
}

TEST_CASE("ImageDataset rejects batches that cannot be filled", "[io][dataset][errors]") {
    ImageDataset data = indexed_dataset(10);
    Rng rng(1);
    matrix<float> wide({2, 7});
    CHECK_THROWS_WITH(data.next_batch(wide, rng),
                      "xgan::ImageDataset::next_batch: the batch has 7 columns but images holds 2x3 = 6-pixel images");
    matrix<float> empty({0, 6});
    CHECK_THROWS_WITH(data.next_batch(empty, rng), Catch::Contains("the batch is empty"));
    matrix<float> too_many({11, 6});
    CHECK_THROWS_WITH(data.next_batch(too_many, rng),
                      "xgan::ImageDataset::next_batch: a batch of 11 rows needs at least 11 images, images holds 10");
    matrix<float> batch({2, 6});
    std::array<std::uint8_t, 3> labels{};
    CHECK_THROWS_AS(data.next_batch(batch, labels, rng), std::invalid_argument);
    ImageDataset unlabelled(parse_idx(idx(0x08, {2, 2, 3}, counting(12)), "unlabelled"));
    std::array<std::uint8_t, 2> two{};
    CHECK_THROWS_WITH(unlabelled.next_batch(batch, two, rng), Catch::Contains("unlabelled was loaded without labels"));
    CHECK(data.step() == 0);  // nothing was served
}

TEST_CASE("Fashion-MNIST (Debian's dataset-fashion-mnist) loads as 60000 28x28 images with labels",
          "[io][dataset][fashion-mnist]") {
    if (!fs::exists(fashion_mnist::train_images) || !fs::exists(fashion_mnist::train_labels)) {
        // CI installs the data (scripts/install-deps), so there a missing file is a failure.
        const char* ci = std::getenv("CI");
        if (ci && *ci && std::string_view(ci) != "false" && std::string_view(ci) != "0")
            FAIL(fashion_mnist::train_images << " is not installed, and CI=" << ci
                                             << " requires it: apt-get install dataset-fashion-mnist "
                                                "(scripts/install-deps installs it)");
        WARN("skipped: " << fashion_mnist::train_images << " is not installed (apt-get install dataset-fashion-mnist)");
        return;
    }
    ImageDataset data(fashion_mnist::train_images, fashion_mnist::train_labels);
    CHECK(data.size() == 60000);
    CHECK(data.rows() == 28);
    CHECK(data.cols() == 28);
    REQUIRE(data.has_labels());
    std::array<int, 10> per_class{};
    for (const auto label : data.labels()) {
        REQUIRE(label < 10);
        ++per_class[label];
    }
    for (const int count : per_class) CHECK(count == 6000);  // the training set is balanced
    CHECK_NOTHROW(data.check_input_size<Sequential<Dense<784, 1>>>());

    matrix<float> batch({64, 784});
    Rng rng(0);
    data.next_batch(batch, rng);
    const float lowest = *std::min_element(batch.begin(), batch.end());
    const float highest = *std::max_element(batch.begin(), batch.end());
    CHECK(lowest == -1.0f);
    CHECK(highest <= 1.0f);
    CHECK(data.batches_per_epoch(64) == 937);  // 60000 = 937 * 64 + 32, the last 32 dropped

    ImageDataset test(fashion_mnist::test_images, fashion_mnist::test_labels);
    CHECK(test.size() == 10000);
}
