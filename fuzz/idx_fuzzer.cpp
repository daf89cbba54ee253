// libFuzzer target for xgan::parse_idx, the file reader behind xgan::read_idx, and
// xgan::ImageDataset.
//
// Any byte string must be either read or rejected with xgan::dataset_error: a rejection is
// a correct answer; a crash, a sanitizer report, a leak, a hang, running out of memory
// (fuzz/idx.flags bounds it tighter than the other targets) or an exception of another
// type is a bug. On top of that, what the parser accepts is checked for consistency; every
// input is also read as a file (through fmemopen, in 64 KiB chunks) and must give the same
// answer; and every input that is not itself gzip-compressed is also parsed gzip-compressed
// (as one and as two gzip members): the answer must be the same, so mutations of the IDX
// bytes reach the gzip path too (a mutated .gz seed almost always fails its CRC check instead).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zlib.h>

#include <xgan/io/idx.hpp>
#include <xgan/io/image_dataset.hpp>

namespace {

[[noreturn]] void bug(const std::string& what) {
    std::fprintf(stderr, "idx_fuzzer: %s\n", what.c_str());
    std::abort();
}

// The result of parsing: the array, or the message of the dataset_error.
struct outcome {
    std::optional<xgan::idx_array> array;
    std::string error;
};

outcome parse(std::span<const std::uint8_t> bytes) {
    try {
        return {xgan::parse_idx(bytes, "fuzz"), {}};
    } catch (const xgan::dataset_error& error) {
        return {std::nullopt, error.what()};
    }
}

// The same bytes read as read_idx reads a file: from a FILE, in chunks, with its size known.
outcome parse_as_file(std::span<const std::uint8_t> bytes) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
        fmemopen(const_cast<std::uint8_t*>(bytes.data()), bytes.size(), "rb"), &std::fclose);
    if (!file) bug("fmemopen failed");
    const xgan::detail::idx::origin at{"xgan::parse_idx", "fuzz"};
    try {
        xgan::detail::idx::source from(file.get(), bytes.size(), at);
        return {xgan::detail::idx::parse(from, at, xgan::idx_max_data_bytes), {}};
    } catch (const xgan::dataset_error& error) {
        return {std::nullopt, error.what()};
    }
}

// The same message, whether the file was compressed or not.
std::string normalised(std::string message) {
    for (const std::string_view noise : {"decompressed ", " (and it is not gzip-compressed either)"})
        for (std::size_t at; (at = message.find(noise)) != std::string::npos;) message.erase(at, noise.size());
    return message;
}

// A gzip file whose header claims more than 1032 times its length is refused without
// inflating it, and one longer than its claim is read only 64 KiB further: then the
// messages agree on the fault and the claim ("truncated: the header promises ... unsigned
// bytes)"), not on what the file holds.
bool refused_unread(const std::string& message) {
    return message.find("more than a gzip file of") != std::string::npos ||
           message.find("too many; not read further") != std::string::npos;
}
std::string up_to_claim(const std::string& message) {
    const std::size_t end = message.find("unsigned bytes)");
    return end == std::string::npos ? message : message.substr(0, end);
}

// A gzip member holding `raw`, made with little memory and effort: speed matters here.
void append_gzip(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> raw) {
    z_stream stream{};
    if (deflateInit2(&stream, 1, Z_DEFLATED, 9 + 16, 1, Z_DEFAULT_STRATEGY) != Z_OK) bug("deflateInit2 failed");
    const std::size_t start = out.size();
    out.resize(start + deflateBound(&stream, static_cast<uLong>(raw.size())));
    stream.next_in = const_cast<Bytef*>(raw.data());
    stream.avail_in = static_cast<uInt>(raw.size());
    stream.next_out = out.data() + start;
    stream.avail_out = static_cast<uInt>(out.size() - start);
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) bug("deflate did not finish");
    out.resize(start + stream.total_out);
    deflateEnd(&stream);
}

void check_accepted(const xgan::idx_array& array) {
    if (array.rank() < 1 || array.rank() > xgan::idx_max_rank) bug("accepted a rank outside 1..4");
    for (const std::size_t d : array.shape)
        if (d == 0) bug("accepted a zero dimension");
    if (array.size() != array.data.size()) bug("data size differs from the shape's product");
    if (array.type != xgan::idx_type::unsigned_byte) bug("accepted a type other than unsigned byte");
    if (array.source != "fuzz") bug("lost the source name");
}

// Images of any accepted shape must load and serve batches of values in [-1, 1].
void serve(const xgan::idx_array& array, std::size_t seed) {
    if (array.rank() != 3) return;
    try {
        xgan::ImageDataset data(array);
        const std::size_t rows = std::min<std::size_t>(data.size(), 3);
        xgan::matrix<float> batch({rows, data.sample_size()});
        xgan::Rng rng(seed);
        for (int b = 0; b < 3; ++b) {
            data.next_batch(batch, rng);
            for (const float value : batch)
                if (!(value >= -1.0f && value <= 1.0f)) bug("a scaled pixel outside [-1, 1]");
        }
        if (data.step() != 3) bug("step counter");
        std::vector<std::size_t> order(data.order().begin(), data.order().end());
        std::sort(order.begin(), order.end());
        for (std::size_t i = 0; i < order.size(); ++i)
            if (order[i] != i) bug("the epoch's order is not a permutation");
    } catch (const xgan::dataset_error& error) {
        bug(std::string("ImageDataset rejected what parse_idx accepted: ") + error.what());
    }
}

void compare(const outcome& raw, const outcome& compressed, const char* how) {
    if (raw.array.has_value() != compressed.array.has_value())
        bug(std::string("raw and ") + how + " disagree: '" + raw.error + "' vs '" + compressed.error + "'");
    if (raw.array) {
        if (*raw.array != *compressed.array)
            bug(std::string("raw and ") + how + " read different arrays");
    } else {
        std::string a = normalised(raw.error), b = normalised(compressed.error);
        if (refused_unread(compressed.error)) a = up_to_claim(a), b = up_to_claim(b);
        if (a != b)
            bug(std::string("raw and ") + how + " give different messages: '" + raw.error + "' vs '" + compressed.error +
                "'");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const outcome direct = parse(input);
    if (direct.array) {
        check_accepted(*direct.array);
        serve(*direct.array, size);
    } else if (direct.error.rfind("xgan::parse_idx: fuzz: ", 0) != 0) {
        bug("a message that does not start with the entity and the name: " + direct.error);
    }

    // Read as a file, the answer is the same, message for message.
    if (size > 0) {
        const outcome file = parse_as_file(input);
        if (file.array.has_value() != direct.array.has_value() || file.error != direct.error ||
            (file.array && *file.array != *direct.array))
            bug("read as a file, a different answer: '" + direct.error + "' vs '" + file.error + "'");
    }

    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;  // already gzip
    std::vector<std::uint8_t> one;
    append_gzip(one, input);
    compare(direct, parse(one), "gzip");
    std::vector<std::uint8_t> two;
    append_gzip(two, input.first(size / 3));
    append_gzip(two, input.subspan(size / 3));
    compare(direct, parse(two), "two gzip members");
    return 0;
}
