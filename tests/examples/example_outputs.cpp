// example_outputs: writes the examples' test input and checks the files they write, for
// run_example.sh. Each command exits 0 when the check holds, and otherwise 1 with a line
// on stderr naming the file and what is wrong with it.
//
//   example_outputs idx PATH COUNT [ROWS COLS]
//                                           writes a raw IDX file of COUNT images of 28x28
//                                           (or ROWS x COLS)
//   example_outputs png PATH...             each is a whole PNG: signature, chunks with
//                                           their CRCs, IHDR first, IDAT, IEND last
//   example_outputs svg PATH TEXT           an SVG document, complete, that holds TEXT
//   example_outputs log PATH FIRST LAST     a training log whose rows are the steps
//                                           FIRST..LAST, each once, in order
//   example_outputs checkpoint PATH STEP    an xgan checkpoint of a trainer at step STEP
//   example_outputs same-checkpoint A B     the same entries in A and B, bit for bit
//   example_outputs fcd PATH EVERY          a log whose column fcd is a number >= 0 on the
//                                           rows of steps divisible by EVERY, nan elsewhere
//   example_outputs fcd-falls PATH EARLY LATE RATIO
//                                           the log's fcd at step LATE is below RATIO times
//                                           its fcd at step EARLY
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zlib.h>

#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/npz.hpp>

namespace {

struct check_failed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw check_failed(path + ": " + what); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "missing or unreadable");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t number(const char* text) {
    std::size_t used = 0;
    const std::uint64_t value = std::stoull(text, &used);
    if (text[used] != '\0') throw std::invalid_argument(std::string("not a number: ") + text);
    return value;
}

std::uint32_t big_endian(std::string_view bytes, std::size_t at) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
    return value;
}

// Images whose pixels vary (a gradient shifted per image), so the data is not constant.
void write_idx(const std::string& path, std::size_t count, std::uint32_t rows = 28, std::uint32_t cols = 28) {
    std::string bytes = {0, 0, 8, 3};
    for (const std::uint32_t size : {static_cast<std::uint32_t>(count), rows, cols})
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(size >> shift & 0xFF));
    const std::size_t pixels = std::size_t{rows} * cols;
    for (std::size_t i = 0; i < count * pixels; ++i)
        bytes.push_back(static_cast<char>((i * 7 + i / pixels * 13) % 256));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) fail(path, "cannot write");
}

void check_png(const std::string& path) {
    const std::string bytes = read_file(path);
    if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) fail(path, "no PNG signature");
    std::vector<std::string> chunks;
    for (std::size_t at = 8; at < bytes.size();) {
        if (bytes.size() - at < 12) fail(path, "chunk at byte " + std::to_string(at) + " is cut short");
        const std::uint32_t length = big_endian(bytes, at);
        if (bytes.size() - at - 12 < length) fail(path, "chunk at byte " + std::to_string(at) + " runs past the end");
        const std::string_view type_and_data = std::string_view(bytes).substr(at + 4, 4 + std::size_t{length});
        const auto crc = crc32(0, reinterpret_cast<const Bytef*>(type_and_data.data()),
                               static_cast<uInt>(type_and_data.size()));
        chunks.emplace_back(type_and_data.substr(0, 4));
        if (crc != big_endian(bytes, at + 8 + length)) fail(path, "chunk " + chunks.back() + " has a wrong CRC");
        at += 12 + std::size_t{length};
    }
    if (chunks.empty() || chunks.front() != "IHDR") fail(path, "the first chunk is not IHDR");
    if (chunks.back() != "IEND") fail(path, "the last chunk is not IEND (the file is cut short)");
    if (std::find(chunks.begin(), chunks.end(), "IDAT") == chunks.end()) fail(path, "no image data (IDAT)");
}

void check_svg(const std::string& path, const std::string& text) {
    const std::string svg = read_file(path);
    if (svg.find("<svg") == std::string::npos) fail(path, "no <svg> element");
    if (svg.rfind("</svg>") == std::string::npos || svg.find_last_not_of(" \n") + 1 != svg.rfind("</svg>") + 6)
        fail(path, "does not end with </svg> (cut short)");
    if (svg.find(text) == std::string::npos) fail(path, "does not hold '" + text + "'");
}

void check_log(const std::string& path, std::uint64_t first, std::uint64_t last) {
    if (read_file(path).back() != '\n') fail(path, "the last row is unfinished");
    const xgan::TrainingLog log = xgan::read_csv_log(path);
    std::uint64_t expected = first;
    for (const xgan::LogRow& row : log.rows) {
        if (row.stats.step != expected)
            fail(path, "row " + std::to_string(expected - first + 1) + " is step " + std::to_string(row.stats.step) +
                           ", expected " + std::to_string(expected) + " (steps " + std::to_string(first) + ".." +
                           std::to_string(last) + ", each once)");
        ++expected;
    }
    if (expected != last + 1)
        fail(path, "holds " + std::to_string(log.rows.size()) + " rows, expected steps " + std::to_string(first) +
                       ".." + std::to_string(last));
}

void check_checkpoint(const std::string& path, std::uint64_t step) {
    const xgan::npz::archive entries = xgan::npz::read(path);
    const auto format = entries.find("xgan.format");
    if (format == entries.end() || format->second.data != xgan::checkpoint_format) fail(path, "not an xgan checkpoint");
    const auto steps = entries.find("trainer.steps");
    if (steps == entries.end() || steps->second.dtype != "<u8" || steps->second.data.size() != 8)
        fail(path, "no entry trainer.steps of one uint64");
    std::uint64_t saved = 0;
    std::memcpy(&saved, steps->second.data.data(), 8);
    if (saved != step) fail(path, "saved at step " + std::to_string(saved) + ", expected " + std::to_string(step));
}

// The zip container holds each entry's modification time, so two equal checkpoints need
// not be equal files: compare what they hold.
void check_same_checkpoint(const std::string& a, const std::string& b) {
    const xgan::npz::archive left = xgan::npz::read(a), right = xgan::npz::read(b);
    for (const auto& [name, array] : left) {
        const auto other = right.find(name);
        if (other == right.end()) fail(b, "has no entry '" + name + "' (" + a + " has)");
        if (other->second.dtype != array.dtype || other->second.shape != array.shape)
            fail(b, "entry '" + name + "' has another type or shape than in " + a);
        if (other->second.data != array.data) fail(b, "entry '" + name + "' differs from " + a + "'s");
    }
    for (const auto& [name, array] : right)
        if (!left.contains(name)) fail(a, "has no entry '" + name + "' (" + b + " has)");
}

// The log's fcd column, by step.
std::vector<std::pair<std::uint64_t, double>> fcd_column(const std::string& path) {
    const xgan::TrainingLog log = xgan::read_csv_log(path);
    const auto column = std::find(log.extra_columns.begin(), log.extra_columns.end(), "fcd");
    if (column == log.extra_columns.end()) fail(path, "has no column fcd");
    const auto index = static_cast<std::size_t>(column - log.extra_columns.begin());
    std::vector<std::pair<std::uint64_t, double>> values;
    for (const xgan::LogRow& row : log.rows) values.emplace_back(row.stats.step, row.extra[index]);
    return values;
}

void check_fcd(const std::string& path, std::uint64_t every) {
    for (const auto& [step, value] : fcd_column(path)) {
        if (step % every == 0 && !(std::isfinite(value) && value >= 0))
            fail(path, "fcd at step " + std::to_string(step) + " is " + std::to_string(value) + ", not a distance");
        if (step % every != 0 && !std::isnan(value))
            fail(path, "fcd at step " + std::to_string(step) + " is " + std::to_string(value) + ", expected nan");
    }
}

void check_fcd_falls(const std::string& path, std::uint64_t early, std::uint64_t late, double ratio) {
    double at_early = NAN, at_late = NAN;
    for (const auto& [step, value] : fcd_column(path)) {
        if (step == early) at_early = value;
        if (step == late) at_late = value;
    }
    if (!std::isfinite(at_early) || !std::isfinite(at_late))
        fail(path, "no fcd at step " + std::to_string(early) + " or " + std::to_string(late));
    std::printf("example_outputs: fcd %.2f at step %llu, %.2f at step %llu\n", at_early,
                static_cast<unsigned long long>(early), at_late, static_cast<unsigned long long>(late));
    if (!(at_late < ratio * at_early))
        fail(path, "fcd " + std::to_string(at_late) + " at step " + std::to_string(late) + " is not below " +
                       std::to_string(ratio) + " x " + std::to_string(at_early) + " at step " + std::to_string(early));
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const auto command = [&](std::string_view name, std::size_t arguments) {
        return !args.empty() && args[0] == name && args.size() == arguments + 1;
    };
    try {
        if (command("idx", 2)) write_idx(args[1], number(argv[3]));
        else if (command("idx", 4))
            write_idx(args[1], number(argv[3]), static_cast<std::uint32_t>(number(argv[4])),
                      static_cast<std::uint32_t>(number(argv[5])));
        else if (!args.empty() && args[0] == "png" && args.size() > 1)
            for (std::size_t i = 1; i < args.size(); ++i) check_png(args[i]);
        else if (command("svg", 2)) check_svg(args[1], args[2]);
        else if (command("log", 3)) check_log(args[1], number(argv[3]), number(argv[4]));
        else if (command("checkpoint", 2)) check_checkpoint(args[1], number(argv[3]));
        else if (command("same-checkpoint", 2)) check_same_checkpoint(args[1], args[2]);
        else if (command("fcd", 2)) check_fcd(args[1], number(argv[3]));
        else if (command("fcd-falls", 4))
            check_fcd_falls(args[1], number(argv[3]), number(argv[4]), std::stod(args[4]));
        else {
            std::fprintf(stderr, "example_outputs: unknown command or wrong arguments (see the source's header)\n");
            return 2;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "example_outputs: %s\n", e.what());
        return 1;
    }
    return 0;
}
