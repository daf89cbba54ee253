// CsvLog and read_csv_log: the training statistics of a long run, one CSV row per
// logged step, that survive a crash and a resume and plot afterwards.
//
//     xgan::CsvLog log("run/log.csv", {"lr"});   // creates it with a header, or resumes it
//     log.append(stats, {learning_rate});        // one row, flushed at once
//     ...
//     const xgan::TrainingLog back = xgan::read_csv_log("run/log.csv");
//
// The file:
//     step,d_accuracy,d_score,d_loss,g_loss,d_fake,lr
//     100,0.5123,-1.3801,1.3801,0.7034,0.4977,0.0002
// Numbers are written in the shortest form that reads back to the same double
// (std::to_chars), so a round trip is exact; NaN and infinities are written as
// nan, inf, -inf and read back as such.
//
// Crash safety: each row is written with one write and flushed, so a crash loses at
// most the row being written. A last line without its newline is that row: resuming
// cuts it off the file, and read_csv_log leaves it out. Resuming from a checkpoint,
// truncate_after(checkpoint's step) removes the rows logged after it.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <ios>
#include <iterator>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/train/step_stats.hpp>

namespace xgan {

// The columns every log starts with, in order; extra columns follow them.
inline constexpr std::array<std::string_view, 6> csv_log_columns{"step",   "d_accuracy", "d_score",
                                                                 "d_loss", "g_loss",     "d_fake"};

// One row: the step's statistics and the extra columns' values, in header order.
struct LogRow {
    StepStats stats;
    std::vector<double> extra;
};

// A whole log as read back.
struct TrainingLog {
    std::vector<std::string> extra_columns;
    std::vector<LogRow> rows;
};

namespace detail::csv {

inline std::string csv_header(const std::vector<std::string>& extra_columns) {
    std::string header;
    for (const std::string_view column : csv_log_columns) header.append(column).push_back(',');
    for (const std::string& column : extra_columns) header.append(column).push_back(',');
    header.pop_back();
    return header;
}

inline std::vector<std::string_view> split_csv(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        const std::size_t comma = line.find(',');
        fields.push_back(line.substr(0, comma));
        if (comma == std::string_view::npos) return fields;
        line.remove_prefix(comma + 1);
    }
}

template <class Number>
bool parse_number(std::string_view text, Number& value) {
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    return !text.empty() && error == std::errc() && stop == end;
}

inline void append_number(std::string& out, double value) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

// Parses a log's text. The final line is left out unless it ends in '\n' (a crash may
// have cut it); `complete_size` receives the length of the text up to that line.
inline TrainingLog parse_csv_log(std::string_view text, const std::filesystem::path& path, const char* who,
                                 std::size_t* complete_size = nullptr) {
    const std::string where = std::string(who) + ": '" + path.string() + "'";
    const std::size_t complete = text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1;
    if (complete_size) *complete_size = complete;
    text = text.substr(0, complete);

    TrainingLog log;
    std::size_t columns = 0, line_number = 0;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const std::vector<std::string_view> fields = split_csv(line);

        if (line_number == 1) {
            bool standard = fields.size() >= csv_log_columns.size();
            for (std::size_t i = 0; standard && i < csv_log_columns.size(); ++i)
                standard = fields[i] == csv_log_columns[i];
            if (!standard)
                XGAN_THROW(std::runtime_error, where, " line 1: the header is '", line,
                           "', but a training log's header starts with '", csv_header({}), "'");
            for (std::size_t i = csv_log_columns.size(); i < fields.size(); ++i)
                log.extra_columns.emplace_back(fields[i]);
            columns = fields.size();
            continue;
        }
        if (line.empty()) continue;
        if (fields.size() != columns)
            XGAN_THROW(std::runtime_error, where, " line ", line_number, ": ", fields.size(),
                       " fields, but the header has ", columns, " (the line is '", line, "')");
        LogRow row;
        row.extra.resize(columns - csv_log_columns.size());
        double* const numbers[] = {&row.stats.d_accuracy, &row.stats.d_score, &row.stats.d_loss, &row.stats.g_loss,
                                   &row.stats.d_fake};
        for (std::size_t i = 0; i < columns; ++i) {
            const bool ok = i == 0   ? parse_number(fields[0], row.stats.step)
                            : i <= 5 ? parse_number(fields[i], *numbers[i - 1])
                                     : parse_number(fields[i], row.extra[i - 6]);
            if (!ok)
                XGAN_THROW(std::runtime_error, where, " line ", line_number, ": field ", i + 1, " (",
                           i < 6 ? std::string(csv_log_columns[i]) : log.extra_columns[i - 6], ") is '", fields[i],
                           "', not ", i == 0 ? "a step number" : "a number");
        }
        log.rows.push_back(std::move(row));
    }
    if (line_number == 0)
        XGAN_THROW(std::runtime_error, where, " holds no complete line: a training log starts with its header line");
    return log;
}

inline std::string read_whole_file(const std::filesystem::path& path, const char* who) {
    std::ifstream in(path, std::ios::binary);
    if (!in) XGAN_THROW(std::runtime_error, who, ": cannot open '", path.string(), "' for reading");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) XGAN_THROW(std::runtime_error, who, ": cannot read '", path.string(), "'");
    return text;
}

}  // namespace detail::csv

// Reads a log written by CsvLog. Throws std::runtime_error naming the path and the
// line when a line is malformed (wrong number of fields, a field that is not a number)
// or the header is not a training log's.
inline TrainingLog read_csv_log(const std::filesystem::path& path) {
    return detail::csv::parse_csv_log(detail::csv::read_whole_file(path, "xgan::read_csv_log"), path, "xgan::read_csv_log");
}

class CsvLog {
public:
    // Opens `path` for appending. A missing or empty file gets the header; an existing
    // log is resumed: its rows stay, its header must name the same columns (else
    // std::runtime_error), and an unfinished last line is cut off.
    explicit CsvLog(std::filesystem::path path, std::vector<std::string> extra_columns = {})
        : path_(std::move(path)), extra_columns_(std::move(extra_columns)) {
        for (const std::string& column : extra_columns_) {
            if (column.empty() || column.find_first_of(",\r\n\"") != std::string::npos)
                XGAN_THROW(std::invalid_argument, "xgan::CsvLog: extra column name '", column,
                           "' must be non-empty and hold no comma, quote or line break");
            for (const std::string_view standard : csv_log_columns)
                if (column == standard)
                    XGAN_THROW(std::invalid_argument, "xgan::CsvLog: extra column '", column,
                               "' is already one of the standard columns");
        }
        const std::string header = detail::csv::csv_header(extra_columns_);

        std::error_code error;
        const bool resume = std::filesystem::exists(path_, error) && std::filesystem::file_size(path_, error) > 0;
        if (resume) {
            const std::string text = detail::csv::read_whole_file(path_, "xgan::CsvLog");
            const std::string_view first_line = std::string_view(text).substr(0, text.find_first_of("\r\n"));
            if (first_line != header)
                XGAN_THROW(std::runtime_error, "xgan::CsvLog: cannot resume '", path_.string(),
                           "': its header is '", first_line, "' but this log writes '", header,
                           "'; use the same extra columns, or a new file");
            std::size_t complete = 0;
            if (text.find('\n') == std::string::npos) {  // only the header, cut short: write it again
                resume_with_header_ = true;
            } else {
                const TrainingLog existing = detail::csv::parse_csv_log(text, path_, "xgan::CsvLog", &complete);
                rows_ = existing.rows.size();
                if (!existing.rows.empty()) last_step_ = existing.rows.back().stats.step;
            }
            if (complete > 0 && complete < text.size()) {
                std::filesystem::resize_file(path_, complete, error);
                if (error)
                    XGAN_THROW(std::runtime_error, "xgan::CsvLog: cannot cut the unfinished last line off '",
                               path_.string(), "': ", error.message());
            }
        }
        out_.open(path_, resume && !resume_with_header_ ? std::ios::binary | std::ios::app
                                                        : std::ios::binary | std::ios::trunc);
        if (!out_) XGAN_THROW(std::runtime_error, "xgan::CsvLog: cannot open '", path_.string(), "' for writing");
        if (!resume || resume_with_header_) write_line(header);
    }

    // Appends one row and flushes it. `extra` holds one value per extra column.
    void append(const StepStats& stats, std::span<const double> extra = {}) {
        if (extra.size() != extra_columns_.size())
            XGAN_THROW(std::invalid_argument, "xgan::CsvLog::append: ", extra.size(), " extra value(s) for ",
                       extra_columns_.size(), " extra column(s) in '", path_.string(), "'");
        std::string line = std::to_string(stats.step);
        for (const double value : {stats.d_accuracy, stats.d_score, stats.d_loss, stats.g_loss, stats.d_fake})
            line.push_back(','), detail::csv::append_number(line, value);
        for (const double value : extra) line.push_back(','), detail::csv::append_number(line, value);
        write_line(line);
        ++rows_;
        last_step_ = stats.step;
    }
    void append(const StepStats& stats, std::initializer_list<double> extra) {
        append(stats, std::span<const double>(extra.begin(), extra.size()));
    }

    // Removes every row from the first one whose step is after `step` to the end, and
    // returns how many it removed. Resuming from a checkpoint of step `step`, this puts
    // the log back as it was when that checkpoint was saved: the rows a killed run
    // logged after its last checkpoint would otherwise appear twice, once from the run
    // that was killed and once from the resumed one.
    //
    // The cut is one truncation of the file at the start of that row (one ftruncate),
    // so a crash leaves either the whole log or the cut one, each a valid log.
    std::size_t truncate_after(std::uint64_t step) {
        const std::string text = detail::csv::read_whole_file(path_, "xgan::CsvLog::truncate_after");
        // Rows follow the header line, each ending in '\n': the constructor cut an
        // unfinished one off, and append writes whole lines.
        std::size_t cut = text.size(), kept = 0, removed = 0;
        std::optional<std::uint64_t> kept_last;
        std::size_t line_number = 1;
        for (std::size_t start = text.find('\n'); start != std::string::npos && start + 1 < text.size();) {
            ++start, ++line_number;
            const std::size_t end = std::min(text.find('\n', start), text.size());
            const std::string_view line(text.data() + start, end - start);
            start = end;
            if (line.empty()) continue;
            const std::string_view field = line.substr(0, line.find(','));
            std::uint64_t row_step = 0;
            if (!detail::csv::parse_number(field, row_step))
                XGAN_THROW(std::runtime_error, "xgan::CsvLog::truncate_after: '", path_.string(), "' line ",
                           line_number, ": field 1 (step) is '", field, "', not a step number");
            if (cut == text.size() && row_step > step) cut = static_cast<std::size_t>(line.data() - text.data());
            if (cut == text.size()) ++kept, kept_last = row_step;
            else ++removed;
        }
        if (removed == 0) return 0;

        out_.close();
        std::error_code error;
        std::filesystem::resize_file(path_, cut, error);
        out_.open(path_, std::ios::binary | std::ios::app);  // after a failed cut too: the log stays usable
        if (error)
            XGAN_THROW(std::runtime_error, "xgan::CsvLog::truncate_after: cannot cut '", path_.string(),
                       "' after step ", step, ": ", error.message());
        if (!out_) XGAN_THROW(std::runtime_error, "xgan::CsvLog: cannot open '", path_.string(), "' for writing");
        rows_ = kept;
        last_step_ = kept_last;
        return removed;
    }

    const std::filesystem::path& path() const { return path_; }
    const std::vector<std::string>& extra_columns() const { return extra_columns_; }
    // Rows in the file, those found when resuming included.
    std::size_t rows() const { return rows_; }
    // The step of the last row; empty while there is none. On resume, compare it with
    // the checkpoint's step to see whether rows after the checkpoint are in the log.
    std::optional<std::uint64_t> last_step() const { return last_step_; }

private:
    void write_line(std::string line) {
        line.push_back('\n');
        out_.write(line.data(), static_cast<std::streamsize>(line.size()));
        out_.flush();
        if (!out_) XGAN_THROW(std::runtime_error, "xgan::CsvLog: cannot write to '", path_.string(), "'");
    }

    std::filesystem::path path_;
    std::vector<std::string> extra_columns_;
    std::ofstream out_;
    std::size_t rows_ = 0;
    std::optional<std::uint64_t> last_step_;
    bool resume_with_header_ = false;
};

}  // namespace xgan
