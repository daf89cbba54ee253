// Progress: a progress bar for long training runs.
//
//     xgan::Progress bar(total_steps);                        // draws on std::cerr
//     for (std::uint64_t step = 1; step <= total_steps; ++step) {
//         const xgan::StepStats s = trainer.step(batch);
//         bar.update(step, "D acc " + std::to_string(s.d_accuracy));
//     }
//     bar.finish();
//
// On a terminal the bar is redrawn in place ('\r') at most every redraw_interval
// seconds:
//     [########............]  40%  2000/5000  812.4 steps/s  ETA 0:00:03  D acc 0.51
// and fits the terminal's width (the COLUMNS variable, else the terminal's own size,
// else 80 columns): a line that would not fit gets a shorter bar (down to 10
// characters), then loses the end of its extra text, so it never wraps onto a new line.
// Anywhere else (a CI log, a file, a pipe) it prints one plain line each time another
// log_every_percent of the run is done (and, if log_every_seconds is set, when that
// long has passed without a line), so a log holds a dozen lines, not thousands:
//     step 2000/5000 (40%)  812.4 steps/s  ETA 0:00:03  D acc 0.51
//
// steps/s is an exponential moving average over about `smoothing` seconds of wall
// time (not of updates), so it neither jumps with every step nor lags a change of
// speed for long. The clock is injectable (ProgressOptions::clock, seconds) so that
// tests can drive time without sleeping.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <locale>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#if __has_include(<sys/ioctl.h>)
#include <sys/ioctl.h>
// glibc's <sys/ioctl.h> also defines NCC (the old struct termio's array size), a name
// LAPACK's C++ interfaces (xtensor-blas's cxxlapack) use as a parameter: taking the
// macro back keeps every include order compiling.
#ifdef NCC
#undef NCC
#endif
#endif
#if __has_include(<unistd.h>)
#include <unistd.h>
#define XGAN_DETAIL_ISATTY(fd) ::isatty(fd)
#elif __has_include(<io.h>)
#include <io.h>
#define XGAN_DETAIL_ISATTY(fd) ::_isatty(fd)
#else
#define XGAN_DETAIL_ISATTY(fd) 0
#endif

#include <xgan/config.hpp>

namespace xgan {

// Every member has an initializer, so that designated initializers may leave any out
// (g++ 12 warns about a class-type member left out that has none).
struct ProgressOptions {
    std::function<double()> clock = {};    // seconds on any fixed origin; empty: std::chrono::steady_clock
    std::optional<bool> terminal = {};     // empty: ask isatty when the stream is std::cerr/clog/cout
    std::uint64_t start_step = 0;          // steps already done (a resumed run) when the bar starts
    double redraw_interval = 0.2;          // terminal: seconds between redraws, at most
    unsigned log_every_percent = 10;       // elsewhere: a line each time this much more is done,
    double log_every_seconds = 0;          // and when this long has passed without one (0: never)
    double smoothing = 10.0;               // seconds over which steps/s is averaged
    std::size_t bar_width = 24;            // characters between the brackets, at most
    std::string label = {};                // printed before the bar; empty: none
    std::size_t columns = 0;               // terminal: the width a line fits in; 0: terminal_columns()
};

class Progress {
public:
    explicit Progress(std::uint64_t total_steps, std::ostream& out = std::cerr, ProgressOptions options = {})
        : out_(out), options_(std::move(options)), total_(total_steps) {
        if (total_steps == 0) XGAN_THROW(std::invalid_argument, "xgan::Progress: total_steps must be at least 1");
        if (options_.start_step > total_steps)
            XGAN_THROW(std::invalid_argument, "xgan::Progress: start_step ", options_.start_step,
                       " is past total_steps ", total_steps);
        if (options_.log_every_percent == 0 || options_.log_every_percent > 100)
            XGAN_THROW(std::invalid_argument, "xgan::Progress: log_every_percent must be in 1..100, got ",
                       options_.log_every_percent);
        if (!(options_.smoothing > 0))
            XGAN_THROW(std::invalid_argument, "xgan::Progress: smoothing must be positive, got ", options_.smoothing);
        if (!options_.clock)
            options_.clock = [] {
                return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
            };
        terminal_ = options_.terminal ? *options_.terminal : is_terminal(out);
        start_time_ = sample_time_ = last_draw_ = options_.clock();
        step_ = sample_step_ = options_.start_step;
        next_log_percent_ = percent_of(step_) / options_.log_every_percent * options_.log_every_percent +
                            options_.log_every_percent;
    }

    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Records that `step` steps are done (counting from 0, not from start_step) and
    // redraws or logs when it is time to; `extra` follows the numbers.
    void update(std::uint64_t step, std::string_view extra = {}) {
        const double now = options_.clock();
        step_ = std::min(step, total_);
        if (terminal_) last_extra_.assign(extra);
        sample(now);
        if (terminal_) {
            if (drawn_ && now - last_draw_ < options_.redraw_interval && step_ < total_) return;
            last_draw_ = now;
            draw(extra);
        } else if (percent_of(step_) >= next_log_percent_ ||
                   (options_.log_every_seconds > 0 && now - last_draw_ >= options_.log_every_seconds)) {
            const std::uint64_t p = percent_of(step_);
            next_log_percent_ = p / options_.log_every_percent * options_.log_every_percent + options_.log_every_percent;
            last_draw_ = now;
            out_ << line(extra) << '\n' << std::flush;
        }
    }

    // Ends the bar: a final redraw on a terminal (with the last update's extra text
    // unless given another), then a summary line. Calling it twice prints once.
    void finish(std::string_view extra = {}) {
        if (finished_) return;
        finished_ = true;
        const double elapsed = options_.clock() - start_time_;
        const double done = static_cast<double>(step_ - options_.start_step);
        std::ostringstream summary;
        summary.imbue(std::locale::classic());
        summary << prefix() << "done " << step_ << '/' << total_ << " steps in " << format_duration(elapsed);
        if (elapsed > 0 && done > 0) summary << " (" << format_rate(done / elapsed) << " steps/s)";
        if (!extra.empty()) summary << "  " << extra;
        if (terminal_) {
            draw(extra.empty() ? std::string_view(last_extra_) : extra);
            out_ << '\n';
        }
        out_ << summary.str() << '\n' << std::flush;
    }

    // Without finish() (an exception left the loop), only ends the bar's line, so that
    // what is printed next does not overwrite it.
    ~Progress() {
        if (finished_ || !drawn_) return;
        try {
            out_ << '\n' << std::flush;
        } catch (...) {  // a destructor must not throw
        }
    }

    std::uint64_t step() const { return step_; }
    std::uint64_t total() const { return total_; }
    bool terminal() const { return terminal_; }
    // The smoothed rate; 0 until some time has passed.
    double steps_per_second() const { return rate_; }
    // Seconds left at the smoothed rate; infinity while it is unknown.
    double eta_seconds() const {
        if (step_ >= total_) return 0;
        return rate_ > 0 ? static_cast<double>(total_ - step_) / rate_ : std::numeric_limits<double>::infinity();
    }

    // The width of the terminal that file descriptor `fd` writes to: the COLUMNS variable
    // when it holds a positive number, else the terminal's own (ioctl TIOCGWINSZ), else 80.
    static std::size_t terminal_columns(int fd) {
        if (const char* env = std::getenv("COLUMNS")) {
            std::size_t value = 0;
            const char* end = env + std::char_traits<char>::length(env);
            const auto [last, error] = std::from_chars(env, end, value);
            if (error == std::errc() && last == end && value > 0) return value;
        }
#if defined(TIOCGWINSZ)
        winsize size{};
        if (fd >= 0 && ::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
#else
        (void)fd;
#endif
        return 80;
    }

    // h:mm:ss ("0:03:07", "27:46:40"); "-:--:--" when unknown (not finite or negative).
    static std::string format_duration(double seconds) {
        if (!std::isfinite(seconds) || seconds < 0 || seconds > 3.6e9) return "-:--:--";
        const auto s = static_cast<std::uint64_t>(std::llround(seconds));
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << s / 3600 << ':' << std::setfill('0') << std::setw(2) << s / 60 % 60 << ':' << std::setw(2) << s % 60;
        return out.str();
    }

private:
    // The descriptor behind a standard stream, -1 for any other.
    static int descriptor_of(const std::ostream& out) {
        if (&out == &std::cerr || &out == &std::clog) return 2;
        if (&out == &std::cout) return 1;
        return -1;
    }

    // The width a redrawn line must stay within: one column short of the terminal's, as
    // writing the last column makes some terminals wrap.
    std::size_t line_limit() const {
        const std::size_t columns = options_.columns ? options_.columns : terminal_columns(descriptor_of(out_));
        return columns > 1 ? columns - 1 : 1;
    }

    static bool is_terminal(const std::ostream& out) {
        if (&out == &std::cerr || &out == &std::clog) return XGAN_DETAIL_ISATTY(2) != 0;
        if (&out == &std::cout) return XGAN_DETAIL_ISATTY(1) != 0;
        return false;
    }

    std::uint64_t percent_of(std::uint64_t step) const { return step * 100 / total_; }

    // Folds the steps since the last sample into the moving average. Samples closer
    // than 50 ms wait for the next update, so a burst of fast steps is not one noisy rate.
    void sample(double now) {
        const double dt = now - sample_time_;
        if (dt < 0.05 || step_ < sample_step_) {
            if (step_ < sample_step_) sample_step_ = step_, sample_time_ = now;  // the caller went back
            return;
        }
        const double instant = static_cast<double>(step_ - sample_step_) / dt;
        const double weight = rate_known_ ? 1 - std::exp(-dt / options_.smoothing) : 1.0;
        rate_ += weight * (instant - rate_);
        rate_known_ = true;
        sample_time_ = now;
        sample_step_ = step_;
    }

    static std::string format_rate(double rate) {
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << std::fixed << std::setprecision(rate >= 99.95 ? 0 : rate >= 9.995 ? 1 : 2) << rate;  // 3 digits
        return out.str();
    }

    std::string prefix() const { return options_.label.empty() ? std::string() : options_.label + "  "; }

    // The line with a bar of bar_width characters (a terminal's), or the plain log line.
    std::string line(std::string_view extra, std::size_t bar_width = 0) const {
        std::ostringstream out;
        out.imbue(std::locale::classic());
        const std::uint64_t percent = percent_of(step_);
        out << prefix();
        if (terminal_) {
            const auto filled = static_cast<std::size_t>(static_cast<double>(bar_width) *
                                                         static_cast<double>(step_) / static_cast<double>(total_));
            out << '[' << std::string(filled, '#') << std::string(bar_width - filled, '.') << "] "
                << std::setw(3) << percent << "%  " << step_ << '/' << total_;
        } else {
            out << "step " << step_ << '/' << total_ << " (" << percent << "%)";
        }
        out << "  " << (rate_known_ ? format_rate(rate_) : std::string("?")) << " steps/s  ETA "
            << format_duration(eta_seconds());
        if (!extra.empty()) out << "  " << extra;
        return out.str();
    }

    // The terminal's line within `limit` columns: the bar as wide as bar_width allows,
    // at least 10 (or bar_width, if smaller), then the end cut off.
    std::string fitted_line(std::string_view extra, std::size_t limit) const {
        const std::size_t without_bar = line(extra, 0).size();
        const std::size_t least = std::min<std::size_t>(options_.bar_width, 10);
        const std::size_t room = limit > without_bar ? limit - without_bar : 0;
        std::string text = line(extra, std::clamp(room, least, options_.bar_width));
        if (text.size() > limit) text.resize(limit);
        return text;
    }

    // Redraws in place; spaces cover what is left of a longer previous line.
    void draw(std::string_view extra) {
        const std::size_t limit = line_limit();
        std::string text = fitted_line(extra, limit);
        const std::size_t length = text.size();
        if (length < drawn_length_) text.append(std::min(drawn_length_, limit) - length, ' ');
        drawn_length_ = length;
        drawn_ = true;
        out_ << '\r' << text << std::flush;
    }

    std::ostream& out_;
    ProgressOptions options_;
    std::uint64_t total_;
    bool terminal_ = false;
    double start_time_ = 0, sample_time_ = 0, last_draw_ = 0;
    std::uint64_t step_ = 0, sample_step_ = 0, next_log_percent_ = 0;
    double rate_ = 0;
    bool rate_known_ = false;
    bool drawn_ = false, finished_ = false;
    std::size_t drawn_length_ = 0;
    std::string last_extra_;  // what the last update showed, for finish() to redraw
};

}  // namespace xgan

#undef XGAN_DETAIL_ISATTY
