// A reader for the golden data files that tests/golden/generate.py writes:
//
//     ## a comment line
//     # name rows cols
//     rows lines of cols whitespace-separated numbers
//
// Anything wrong with a file (missing, unreadable, malformed, a block absent or of the
// wrong shape) throws std::runtime_error naming the file, so a test using it fails
// rather than skips.
#pragma once

#include <charconv>
#include <cstddef>
#include <fstream>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace golden {

// One named matrix of numbers, row-major. A 1-D tensor is one row.
struct block {
    std::string name;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<double> values;

    std::span<const double> all() const { return values; }
    std::span<const double> row(std::size_t r) const {
        return std::span<const double>(values).subspan(r * cols, cols);
    }
};

class data_file {
public:
    // Reads and checks the whole file; throws std::runtime_error naming `path` on any problem.
    static data_file load(const std::string& path) {
        data_file file;
        file.path_ = path;
        std::ifstream in(path);
        if (!in)
            throw std::runtime_error("golden data file '" + path +
                                     "' cannot be opened (regenerate with: /usr/bin/python3 tests/golden/generate.py)");
        std::string line;
        std::size_t line_number = 0;
        block* current = nullptr;
        std::size_t rows_read = 0;
        const auto fail = [&](const std::string& what) -> std::runtime_error {
            return std::runtime_error("golden data file '" + path + "', line " + std::to_string(line_number) + ": " + what);
        };
        const auto finish_block = [&]() {
            if (current != nullptr && rows_read != current->rows)
                throw fail("block '" + current->name + "' declares " + std::to_string(current->rows) +
                           " rows but has " + std::to_string(rows_read));
        };
        while (std::getline(in, line)) {
            ++line_number;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const std::vector<std::string_view> tokens = split(line);
            if (tokens.empty() || line.starts_with("##")) continue;
            if (tokens.front() == "#") {
                finish_block();
                if (tokens.size() != 4) throw fail("a header must read '# name rows cols'");
                block b;
                b.name = std::string(tokens[1]);
                b.rows = parse_size(tokens[2], fail);
                b.cols = parse_size(tokens[3], fail);
                b.values.reserve(b.rows * b.cols);
                auto [it, inserted] = file.blocks_.emplace(b.name, std::move(b));
                if (!inserted) throw fail("block '" + it->first + "' appears twice");
                current = &it->second;
                rows_read = 0;
                continue;
            }
            if (current == nullptr) throw fail("numbers before the first '# name rows cols' header");
            if (rows_read == current->rows)
                throw fail("block '" + current->name + "' has more than its " + std::to_string(current->rows) +
                           " rows");
            if (tokens.size() != current->cols)
                throw fail("block '" + current->name + "' row " + std::to_string(rows_read) + " has " +
                           std::to_string(tokens.size()) + " numbers, expected " + std::to_string(current->cols));
            for (std::string_view token : tokens) {
                double value = 0;
                const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
                if (error != std::errc{} || end != token.data() + token.size())
                    throw fail("'" + std::string(token) + "' in block '" + current->name + "' is not a number");
                current->values.push_back(value);
            }
            ++rows_read;
        }
        if (in.bad()) throw std::runtime_error("golden data file '" + path + "': read error");
        finish_block();
        if (file.blocks_.empty()) throw std::runtime_error("golden data file '" + path + "' holds no blocks");
        return file;
    }

    const std::string& path() const { return path_; }

    // The block `name`; throws naming the file if it is absent.
    const block& get(const std::string& name) const {
        const auto it = blocks_.find(name);
        if (it == blocks_.end())
            throw std::runtime_error("golden data file '" + path_ + "' has no block '" + name + "'");
        return it->second;
    }

    // The block `name`, which must be rows x cols.
    const block& get(const std::string& name, std::size_t rows, std::size_t cols) const {
        const block& b = get(name);
        if (b.rows != rows || b.cols != cols)
            throw std::runtime_error("golden data file '" + path_ + "': block '" + name + "' is " +
                                     std::to_string(b.rows) + "x" + std::to_string(b.cols) + ", expected " +
                                     std::to_string(rows) + "x" + std::to_string(cols));
        return b;
    }

    // A 1 x 1 block's value.
    double scalar(const std::string& name) const { return get(name, 1, 1).values.front(); }

    bool contains(const std::string& name) const { return blocks_.find(name) != blocks_.end(); }

private:
    static std::vector<std::string_view> split(std::string_view line) {
        std::vector<std::string_view> tokens;
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            const std::size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
            if (i > start) tokens.push_back(line.substr(start, i - start));
        }
        return tokens;
    }

    template <class Fail>
    static std::size_t parse_size(std::string_view token, const Fail& fail) {
        std::size_t value = 0;
        const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
        if (error != std::errc{} || end != token.data() + token.size() || value == 0)
            throw fail("'" + std::string(token) + "' is not a positive size");
        return value;
    }

    std::string path_;
    std::map<std::string, block> blocks_;
};

// The path of a committed data file: <tests/golden>/data/<filename>.
inline std::string data_path(std::string_view filename) {
#ifndef XGAN_TEST_DATA_DIR
#error "golden_data.hpp needs XGAN_TEST_DATA_DIR (set by xgan_add_test in tests/CMakeLists.txt)"
#endif
    return std::string(XGAN_TEST_DATA_DIR) + "/data/" + std::string(filename);
}

}  // namespace golden
