// training_plot: the standard picture of a GAN run, drawn from its statistics (a
// CsvLog read back, or StepStats kept in memory) as a PngPlot.
//
//     xgan::save_training_plot("run/training.png", xgan::read_csv_log("run/log.csv"));
//
// Four curves over the steps: D accuracy (mean D(real)), D(G(z)) as G saw it, D score
// (-D loss) and G loss, with dashed grey lines at their equilibrium values 0.5 and
// 2 ln 0.5 = -1.386. Long runs are noisy: past 200 rows each curve is drawn faintly as
// logged and boldly as a centred moving average (non-finite values left out of it; see
// moving_average for the ends).
// The legend stands right of the curves, so that it hides none.
//
// column_plot draws one extra column of a log, such as the Frechet classifier distance
// the image examples log every N steps (nan between):
//
//     xgan::save_column_plot("run/fcd.png", xgan::read_csv_log("run/log.csv"), "fcd");
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/png_plot.hpp>
#include <xgan/train/step_stats.hpp>

namespace xgan {

struct TrainingPlotOptions {
    std::string title = "GAN training";
    std::size_t smoothing = 0;  // moving-average window in rows; 0: automatic, 1: none
    int width = 960, height = 540;
};

namespace detail {

// A centred moving average over `window` values (of the finite ones; NaN where there
// are none). Where the window would run past an end, the values are read off a least-
// squares line through the first (last) `window` values instead, so that a curve keeps
// its trend up to its ends rather than bending or ending in noise.
inline std::vector<double> moving_average(const std::vector<double>& v, std::size_t window) {
    const std::size_t n = v.size();
    const std::size_t half = std::min(window, n) / 2, span = 2 * half + 1;
    if (n == 0 || half == 0) return v;
    std::vector<double> sum(n + 1, 0.0), count(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const bool finite = std::isfinite(v[i]);
        sum[i + 1] = sum[i] + (finite ? v[i] : 0.0);
        count[i + 1] = count[i] + (finite ? 1.0 : 0.0);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> out(n, nan);
    for (std::size_t i = half; i + half < n; ++i) {
        const double k = count[i + half + 1] - count[i - half];
        if (k > 0) out[i] = (sum[i + half + 1] - sum[i - half]) / k;
    }
    // The ends: a line through the finite values of [first, first + span), centred there.
    auto fit_line = [&](std::size_t first, std::size_t from, std::size_t to) {
        const double centre = static_cast<double>(first) + static_cast<double>(half);
        double k = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (std::size_t j = first; j < first + span; ++j)
            if (std::isfinite(v[j])) {
                const double x = static_cast<double>(j) - centre;
                k += 1, sx += x, sy += v[j], sxx += x * x, sxy += x * v[j];
            }
        const double det = k * sxx - sx * sx;
        for (std::size_t i = from; i < to; ++i) {
            const double x = static_cast<double>(i) - centre;
            out[i] = k == 0 ? nan : det <= 0 ? sy / k : (sy * sxx - sx * sxy + x * (k * sxy - sx * sy)) / det;
        }
    };
    fit_line(0, 0, half);
    fit_line(n - span, n - half, n);
    return out;
}

}  // namespace detail

inline PngPlot training_plot(std::span<const StepStats> rows, const TrainingPlotOptions& options = {}) {
    PngPlot plot(options.width, options.height);
    plot.title(options.title).x_label("step");
    std::vector<double> steps;
    for (const StepStats& s : rows) steps.push_back(static_cast<double>(s.step));

    struct Series {
        const char* label;
        double StepStats::*member;
        std::size_t colour;
    };
    const std::array<Series, 4> series{{{"D accuracy", &StepStats::d_accuracy, 0},
                                        {"D(G(z))", &StepStats::d_fake, 3},
                                        {"D score", &StepStats::d_score, 1},
                                        {"G loss", &StepStats::g_loss, 2}}};
    const std::size_t window =
        options.smoothing > 0 ? options.smoothing : rows.size() > 200 ? std::max<std::size_t>(rows.size() / 50, 3) : 1;

    for (const Series& s : series) {
        std::vector<double> values;
        for (const StepStats& row : rows) values.push_back(row.*(s.member));
        const std::string colour = SvgPlot::palette(s.colour);
        if (window > 1) {
            plot.add_line(steps, values, {.colour = colour, .width = 1, .label = "", .opacity = 0.22});
            values = detail::moving_average(values, window);
        }
        plot.add_line(steps, values, {.colour = colour, .width = 2, .label = s.label});
    }

    if (!rows.empty()) {
        const double first = steps.front(), last = steps.back();
        const std::vector<double> ends{first, last};
        plot.add_line(ends, std::vector<double>{0.5, 0.5}, {.colour = "#888888", .width = 1.5, .dashed = true,
                                                            .label = "equilibrium"});
        const double score = -2 * std::numbers::ln2;
        plot.add_line(ends, std::vector<double>{score, score},
                      {.colour = "#888888", .width = 1.5, .dashed = true, .label = ""});
    }
    plot.legend_outside();
    return plot;
}

inline PngPlot training_plot(const TrainingLog& log, const TrainingPlotOptions& options = {}) {
    std::vector<StepStats> rows;
    rows.reserve(log.rows.size());
    for (const LogRow& row : log.rows) rows.push_back(row.stats);
    return training_plot(rows, options);
}

// Writes training_plot(...) as a PNG (atomically; see write_png).
inline void save_training_plot(const std::filesystem::path& path, std::span<const StepStats> rows,
                               const TrainingPlotOptions& options = {}) {
    training_plot(rows, options).save(path);
}
inline void save_training_plot(const std::filesystem::path& path, const TrainingLog& log,
                               const TrainingPlotOptions& options = {}) {
    training_plot(log, options).save(path);
}

struct ColumnPlotOptions {
    std::string title;    // empty: the column's name
    std::string y_label;  // empty: the column's name
    int width = 960, height = 540;
};

// The extra column `column` of `log` over the steps: its finite values only (a column
// logged every N steps holds nan between), joined by a line with a dot at each. Throws
// std::invalid_argument naming the column and the log's extra columns if it has no such
// column.
inline PngPlot column_plot(const TrainingLog& log, std::string_view column, const ColumnPlotOptions& options = {}) {
    const auto found = std::find(log.extra_columns.begin(), log.extra_columns.end(), column);
    if (found == log.extra_columns.end()) {
        std::string names;
        for (const std::string& name : log.extra_columns) names += (names.empty() ? "" : ", ") + name;
        XGAN_THROW(std::invalid_argument, "xgan::column_plot: the log has no column '", column,
                   "'; its extra columns are: ", names.empty() ? std::string("none") : names);
    }
    const std::size_t index = static_cast<std::size_t>(found - log.extra_columns.begin());
    std::vector<double> steps, values;
    for (const LogRow& row : log.rows)
        if (std::isfinite(row.extra[index]))
            steps.push_back(static_cast<double>(row.stats.step)), values.push_back(row.extra[index]);
    PngPlot plot(options.width, options.height);
    plot.title(options.title.empty() ? std::string(column) : options.title)
        .x_label("step")
        .y_label(options.y_label.empty() ? std::string(column) : options.y_label);
    plot.add_line(steps, values, {.colour = SvgPlot::palette(0), .width = 2, .marker_radius = 3});
    return plot;
}

// Writes column_plot(...) as a PNG (atomically; see write_png).
inline void save_column_plot(const std::filesystem::path& path, const TrainingLog& log, std::string_view column,
                             const ColumnPlotOptions& options = {}) {
    column_plot(log, column, options).save(path);
}

}  // namespace xgan
