// SvgPlot: a small line-plot writer with no dependencies. SVG is plain text, so
// a plot of a few curves (a generator's samples against the data they imitate) is
// a page of XML that any browser, image viewer or `rsvg-convert` shows.
//
//     xgan::SvgPlot plot;
//     plot.title("Generated paintings").x_label("x").y_label("y");
//     plot.add_line(xs, lower, {.colour = "#555555", .dashed = true, .label = "x^2"});
//     plot.add_line(xs, curve, {.colour = xgan::SvgPlot::palette(0), .label = "G(z)"});
//     plot.save("painting.svg");    // writes painting.svg.tmp, then renames it
//
// Lines are drawn in data coordinates; the ranges are either fixed (x_range,
// y_range) or fitted to the data with a 5% margin. Non-finite points break a
// line in two. Everything is clipped to the plot area.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ios>
#include <limits>
#include <locale>
#include <optional>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <xgan/config.hpp>

namespace xgan {

// How one line is drawn. Lines without a label stay out of the legend.
struct LineStyle {
    std::string colour = "#1f77b4";
    double width = 2.0;          // stroke width in pixels
    bool dashed = false;
    std::string label = {};      // legend entry; empty: none
    double opacity = 1.0;        // 0..1
    double marker_radius = 0.0;  // > 0 draws a dot at every point
};

// How a text annotation is drawn.
struct TextStyle {
    std::string colour = "#222222";
    double size = 13.0;           // font size in pixels
    std::string anchor = "start";  // "start", "middle" or "end" (SVG text-anchor)
    bool bold = false;
};

enum class LegendPosition { none, top_left, top_center, top_right, bottom_left, bottom_center, bottom_right };

class SvgPlot {
public:
    // A canvas of width x height pixels.
    explicit SvgPlot(double width = 760, double height = 500) : width_(width), height_(height) {
        if (!(width >= 200 && height >= 150))
            XGAN_THROW(std::invalid_argument, "xgan::SvgPlot: the canvas must be at least 200 x 150 pixels, got ", width,
                       " x ", height);
    }

    // A colour from a fixed, colour-blind-friendly cycle (matplotlib's "tab10").
    static std::string palette(std::size_t i) {
        static constexpr std::array<std::string_view, 10> colours{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                                  "#bcbd22", "#17becf"};
        return std::string(colours[i % colours.size()]);
    }

    SvgPlot& title(std::string text) { title_ = std::move(text); return *this; }
    // Smaller text under the title; '\n' starts another line.
    SvgPlot& subtitle(std::string text) { subtitle_ = std::move(text); return *this; }
    SvgPlot& x_label(std::string text) { x_label_ = std::move(text); return *this; }
    SvgPlot& y_label(std::string text) { y_label_ = std::move(text); return *this; }

    // Fixes an axis range; without it the axis fits the data.
    SvgPlot& x_range(double low, double high) { x_fixed_ = checked_range("x_range", low, high); return *this; }
    SvgPlot& y_range(double low, double high) { y_fixed_ = checked_range("y_range", low, high); return *this; }
    SvgPlot& auto_x_range() { x_fixed_.reset(); return *this; }
    SvgPlot& auto_y_range() { y_fixed_.reset(); return *this; }

    SvgPlot& legend(LegendPosition position) { legend_ = position; return *this; }
    SvgPlot& grid(bool on) { grid_ = on; return *this; }

    // A line through (xs[i], ys[i]); xs and ys are ranges of numbers of equal length.
    template <std::ranges::input_range Xs, std::ranges::input_range Ys>
        requires std::convertible_to<std::ranges::range_value_t<Xs>, double> &&
                 std::convertible_to<std::ranges::range_value_t<Ys>, double>
    SvgPlot& add_line(const Xs& xs, const Ys& ys, LineStyle style = {}) {
        Line line{{}, std::move(style)};
        auto y = std::ranges::begin(ys);
        const auto y_end = std::ranges::end(ys);
        for (auto x = std::ranges::begin(xs); x != std::ranges::end(xs); ++x, ++y) {
            if (y == y_end) XGAN_THROW(std::invalid_argument, "xgan::SvgPlot::add_line: more xs than ys");
            line.points.push_back({static_cast<double>(*x), static_cast<double>(*y)});
        }
        if (y != y_end) XGAN_THROW(std::invalid_argument, "xgan::SvgPlot::add_line: more ys than xs");
        lines_.push_back(std::move(line));
        return *this;
    }

    // Text at data coordinates (x, y).
    SvgPlot& annotate(double x, double y, std::string text, TextStyle style = {}) {
        annotations_.push_back({x, y, std::move(text), std::move(style)});
        return *this;
    }

    std::size_t line_count() const { return lines_.size(); }

    // The whole document.
    XGAN_COLD std::string render() const {
        const Axis xa = make_axis(x_fixed_, true);
        const Axis ya = make_axis(y_fixed_, false);
        const Frame f = frame();

        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width_) << "\" height=\"" << num(height_)
            << "\" viewBox=\"0 0 " << num(width_) << ' ' << num(height_)
            << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
            << "<defs><clipPath id=\"plot-area\"><rect x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\""
            << num(f.right - f.left) << "\" height=\"" << num(f.bottom - f.top) << "\"/></clipPath></defs>\n";

        // Titles.
        if (!title_.empty())
            out << "<text xml:space=\"preserve\" x=\"" << num(width_ / 2) << "\" y=\"26\" text-anchor=\"middle\" font-size=\"18\" "
                << "font-weight=\"bold\" fill=\"#222222\">" << escape(title_) << "</text>\n";
        const std::vector<std::string> subtitle_lines = lines_of(subtitle_);
        for (std::size_t i = 0; i < subtitle_lines.size(); ++i)
            out << "<text xml:space=\"preserve\" x=\"" << num(width_ / 2) << "\" y=\"" << num(subtitle_baseline(i))
                << "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#444444\">" << escape(subtitle_lines[i])
                << "</text>\n";

        // Plot area, grid and ticks.
        out << "<rect x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\"" << num(f.right - f.left)
            << "\" height=\"" << num(f.bottom - f.top) << "\" fill=\"#fcfcfc\" stroke=\"none\"/>\n";
        out << "<g font-size=\"12\" fill=\"#333333\">\n";
        for (const double t : xa.ticks) {
            const double px = to_px(t, xa, f.left, f.right);
            if (grid_)
                out << "<line x1=\"" << num(px) << "\" y1=\"" << num(f.top) << "\" x2=\"" << num(px) << "\" y2=\""
                    << num(f.bottom) << "\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>\n";
            out << "<line x1=\"" << num(px) << "\" y1=\"" << num(f.bottom) << "\" x2=\"" << num(px) << "\" y2=\""
                << num(f.bottom + 5) << "\" stroke=\"#333333\" stroke-width=\"1\"/>\n"
                << "<text xml:space=\"preserve\" x=\"" << num(px) << "\" y=\"" << num(f.bottom + 19) << "\" text-anchor=\"middle\">"
                << tick_label(t, xa.step) << "</text>\n";
        }
        for (const double t : ya.ticks) {
            const double py = to_px(t, ya, f.bottom, f.top);
            if (grid_)
                out << "<line x1=\"" << num(f.left) << "\" y1=\"" << num(py) << "\" x2=\"" << num(f.right) << "\" y2=\""
                    << num(py) << "\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>\n";
            out << "<line x1=\"" << num(f.left - 5) << "\" y1=\"" << num(py) << "\" x2=\"" << num(f.left) << "\" y2=\""
                << num(py) << "\" stroke=\"#333333\" stroke-width=\"1\"/>\n"
                << "<text xml:space=\"preserve\" x=\"" << num(f.left - 8) << "\" y=\"" << num(py + 4) << "\" text-anchor=\"end\">"
                << tick_label(t, ya.step) << "</text>\n";
        }
        out << "</g>\n";

        // Lines, clipped to the plot area.
        out << "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n";
        for (const Line& line : lines_) {
            const std::string stroke = stroke_attributes(line.style);
            std::string points;
            auto flush = [&] {
                if (!points.empty())
                    out << "<polyline points=\"" << points << "\" " << stroke << "/>\n";
                points.clear();
            };
            for (const auto& [x, y] : line.points) {
                if (!std::isfinite(x) || !std::isfinite(y)) {
                    flush();
                    continue;
                }
                if (!points.empty()) points += ' ';
                points += num(to_px(x, xa, f.left, f.right)) + ',' + num(to_px(y, ya, f.bottom, f.top));
            }
            flush();
            if (line.style.marker_radius > 0)
                for (const auto& [x, y] : line.points)
                    if (std::isfinite(x) && std::isfinite(y))
                        out << "<circle cx=\"" << num(to_px(x, xa, f.left, f.right)) << "\" cy=\""
                            << num(to_px(y, ya, f.bottom, f.top)) << "\" r=\"" << num(line.style.marker_radius)
                            << "\" fill=\"" << escape(line.style.colour) << "\" fill-opacity=\""
                            << num(line.style.opacity) << "\" stroke=\"none\"/>\n";
        }
        out << "</g>\n";

        // Annotations (clipped too: text outside the ranges is not drawn).
        if (!annotations_.empty()) {
            out << "<g clip-path=\"url(#plot-area)\">\n";
            for (const Annotation& a : annotations_)
                out << "<text xml:space=\"preserve\" x=\"" << num(to_px(a.x, xa, f.left, f.right)) << "\" y=\""
                    << num(to_px(a.y, ya, f.bottom, f.top)) << "\" text-anchor=\"" << escape(a.style.anchor)
                    << "\" font-size=\"" << num(a.style.size) << "\" fill=\"" << escape(a.style.colour) << '"'
                    << (a.style.bold ? " font-weight=\"bold\"" : "") << '>' << escape(a.text) << "</text>\n";
            out << "</g>\n";
        }

        // Axes frame and labels.
        out << "<rect x=\"" << num(f.left) << "\" y=\"" << num(f.top) << "\" width=\"" << num(f.right - f.left)
            << "\" height=\"" << num(f.bottom - f.top) << "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
        if (!x_label_.empty())
            out << "<text xml:space=\"preserve\" x=\"" << num((f.left + f.right) / 2) << "\" y=\"" << num(height_ - 12)
                << "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#222222\">" << escape(x_label_) << "</text>\n";
        if (!y_label_.empty()) {
            const double cx = 20, cy = (f.top + f.bottom) / 2;
            out << "<text xml:space=\"preserve\" x=\"" << num(cx) << "\" y=\"" << num(cy) << "\" transform=\"rotate(-90 " << num(cx) << ' '
                << num(cy) << ")\" text-anchor=\"middle\" font-size=\"14\" fill=\"#222222\">" << escape(y_label_)
                << "</text>\n";
        }

        render_legend(out, f);
        out << "</svg>\n";
        return out.str();
    }

    // Writes the document to `path` atomically: first `path`.tmp, then a rename over
    // `path`, so a reader never sees half a file. Throws std::runtime_error naming the
    // path when either step fails (the temporary file is removed).
    XGAN_COLD void save(const std::filesystem::path& path) const {
        const std::string document = render();
        std::filesystem::path temporary = path;
        temporary += ".tmp";
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            if (!out)
                XGAN_THROW(std::runtime_error, "xgan::SvgPlot::save: cannot write '", path.string(), "' (opening '",
                           temporary.string(), "' failed)");
            out.write(document.data(), static_cast<std::streamsize>(document.size()));
            out.close();
            if (!out) {
                std::error_code ignored;
                std::filesystem::remove(temporary, ignored);
                XGAN_THROW(std::runtime_error, "xgan::SvgPlot::save: cannot write '", path.string(), "' (writing '",
                           temporary.string(), "' failed)");
            }
        }
        std::error_code error;
        std::filesystem::rename(temporary, path, error);
        if (error) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            XGAN_THROW(std::runtime_error, "xgan::SvgPlot::save: cannot write '", path.string(), "' (renaming '",
                       temporary.string(), "' failed: ", error.message(), ")");
        }
    }

private:
    struct Point {
        double x, y;
    };
    struct Line {
        std::vector<Point> points;
        LineStyle style;
    };
    struct Annotation {
        double x, y;
        std::string text;
        TextStyle style;
    };
    struct Range {
        double low, high;
    };
    struct Axis {
        double low, high, step;
        std::vector<double> ticks;
    };
    struct Frame {
        double left, right, top, bottom;
    };

    double subtitle_baseline(std::size_t line) const {
        return (title_.empty() ? 26.0 : 47.0) + 19.0 * static_cast<double>(line);
    }

    XGAN_COLD static std::vector<std::string> lines_of(const std::string& text) {
        std::vector<std::string> lines;
        if (text.empty()) return lines;
        std::size_t begin = 0;
        for (;;) {
            const std::size_t end = text.find('\n', begin);
            lines.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
            if (end == std::string::npos) return lines;
            begin = end + 1;
        }
    }

    static Range checked_range(const char* what, double low, double high) {
        if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
            XGAN_THROW(std::invalid_argument, "xgan::SvgPlot::", what, ": need finite low < high, got [", low, ", ",
                       high, "]");
        return {low, high};
    }

    Frame frame() const {
        const std::size_t lines = lines_of(subtitle_).size();
        const double top = lines > 0 ? subtitle_baseline(lines - 1) + 17 : title_.empty() ? 20 : 44;
        const double bottom = height_ - (x_label_.empty() ? 36 : 56);
        const double left = y_label_.empty() ? 58 : 74;
        return {left, width_ - 22, top, bottom};
    }

    // 1, 2, 2.5 or 5 times a power of ten, near span / target.
    static double nice_step(double span, double target) {
        const double raw = span / target;
        const double power = std::pow(10.0, std::floor(std::log10(raw)));
        const double m = raw / power;
        const double nice = m < 1.5 ? 1 : m < 2.25 ? 2 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10;
        return nice * power;
    }

    XGAN_COLD Axis make_axis(const std::optional<Range>& fixed, bool is_x) const {
        double low = 0, high = 1;
        if (fixed) {
            low = fixed->low;
            high = fixed->high;
        } else {
            double lo = std::numeric_limits<double>::infinity(), hi = -lo;
            for (const Line& line : lines_)
                for (const auto& [x, y] : line.points)
                    if (std::isfinite(x) && std::isfinite(y)) {
                        const double v = is_x ? x : y;
                        lo = std::min(lo, v);
                        hi = std::max(hi, v);
                    }
            if (lo <= hi) {
                if (lo == hi) {
                    const double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
                    lo -= pad;
                    hi += pad;
                } else if (!is_x) {
                    // y gets a margin; x spans the data exactly, as curves usually do.
                    const double pad = 0.05 * (hi - lo);
                    lo -= pad;
                    hi += pad;
                }
                low = lo;
                high = hi;
            }
        }
        Axis axis{low, high, nice_step(high - low, is_x ? 8.0 : 6.0), {}};
        const double first = std::ceil(low / axis.step - 1e-9);
        for (double k = first;; k += 1) {
            double t = k * axis.step;
            if (t > high + 1e-9 * axis.step) break;
            if (std::abs(t) < 1e-9 * axis.step) t = 0;
            axis.ticks.push_back(t);
            if (axis.ticks.size() > 100) break;
        }
        return axis;
    }

    static double to_px(double v, const Axis& axis, double at_low, double at_high) {
        return at_low + (v - axis.low) / (axis.high - axis.low) * (at_high - at_low);
    }

    XGAN_COLD static std::string tick_label(double v, double step) {
        int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
        const double scaled = step * std::pow(10.0, decimals);
        if (std::abs(scaled - std::round(scaled)) > 1e-6) ++decimals;  // 2.5, 0.25, ...
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << std::fixed << std::setprecision(decimals) << v;
        std::string s = out.str();
        if (s.size() > 1 && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
        if (s[0] == '-') s.replace(0, 1, "\u2212");  // a typographic minus
        return s;
    }

    XGAN_COLD static std::string num(double v) {
        if (!std::isfinite(v)) return "0";
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << std::fixed << std::setprecision(2) << v;
        std::string s = out.str();
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
        if (s == "-0") s = "0";
        return s;
    }

    XGAN_COLD static std::string escape(std::string_view text) {
        std::string out;
        out.reserve(text.size());
        for (const char c : text) {
            switch (c) {
                case '&': out += "&amp;"; break;
                case '<': out += "&lt;"; break;
                case '>': out += "&gt;"; break;
                case '"': out += "&quot;"; break;
                case '\'': out += "&apos;"; break;
                default: out += c;
            }
        }
        return out;
    }

    XGAN_COLD static std::string stroke_attributes(const LineStyle& s) {
        std::string a = "stroke=\"" + escape(s.colour) + "\" stroke-width=\"" + num(s.width) + '"';
        if (s.opacity < 1) a += " stroke-opacity=\"" + num(std::max(0.0, s.opacity)) + '"';
        if (s.dashed) a += " stroke-dasharray=\"" + num(3 * s.width + 3) + ' ' + num(2 * s.width + 3) + '"';
        return a;
    }

    // Rough width of text in the legend's 13 px font: UTF-8 continuation bytes don't count.
    static double text_width(std::string_view text, double size) {
        std::size_t glyphs = 0;
        for (const char c : text)
            if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++glyphs;
        return 0.6 * size * static_cast<double>(glyphs);
    }

    XGAN_COLD void render_legend(std::ostringstream& out, const Frame& f) const {
        if (legend_ == LegendPosition::none) return;
        std::vector<const Line*> entries;
        for (const Line& line : lines_)
            if (!line.style.label.empty()) entries.push_back(&line);
        if (entries.empty()) return;

        const double font = 13, row = 20, sample = 30, pad = 10;
        double text = 0;
        for (const Line* line : entries) text = std::max(text, text_width(line->style.label, font));
        const double w = pad + sample + 8 + text + pad;
        const double h = pad + row * static_cast<double>(entries.size()) - (row - font) + pad;
        const bool left = legend_ == LegendPosition::top_left || legend_ == LegendPosition::bottom_left;
        const bool center = legend_ == LegendPosition::top_center || legend_ == LegendPosition::bottom_center;
        const bool top = legend_ == LegendPosition::top_left || legend_ == LegendPosition::top_center ||
                         legend_ == LegendPosition::top_right;
        const double x = left ? f.left + 10 : center ? (f.left + f.right - w) / 2 : f.right - 10 - w;
        const double y = top ? f.top + 10 : f.bottom - 10 - h;

        out << "<g font-size=\"" << num(font) << "\">\n<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\""
            << num(w) << "\" height=\"" << num(h)
            << "\" rx=\"4\" fill=\"#ffffff\" fill-opacity=\"0.88\" stroke=\"#bbbbbb\" stroke-width=\"1\"/>\n";
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const LineStyle& s = entries[i]->style;
            const double cy = y + pad + font / 2 + row * static_cast<double>(i);
            LineStyle shown = s;
            // Thin faint lines are drawn darker in the legend so that they show; wide ones as they are.
            if (s.width < 4) shown.opacity = std::max(s.opacity, 0.8);
            shown.width = std::min(s.width, 10.0);
            out << "<line x1=\"" << num(x + pad) << "\" y1=\"" << num(cy) << "\" x2=\"" << num(x + pad + sample)
                << "\" y2=\"" << num(cy) << "\" " << stroke_attributes(shown) << "/>\n";
            if (s.marker_radius > 0)
                out << "<circle cx=\"" << num(x + pad + sample / 2) << "\" cy=\"" << num(cy) << "\" r=\""
                    << num(s.marker_radius) << "\" fill=\"" << escape(s.colour) << "\"/>\n";
            out << "<text xml:space=\"preserve\" x=\"" << num(x + pad + sample + 8) << "\" y=\"" << num(cy + font * 0.35)
                << "\" fill=\"#222222\">" << escape(s.label) << "</text>\n";
        }
        out << "</g>\n";
    }

    double width_, height_;
    std::string title_, subtitle_, x_label_, y_label_;
    std::optional<Range> x_fixed_, y_fixed_;
    LegendPosition legend_ = LegendPosition::top_left;
    bool grid_ = true;
    std::vector<Line> lines_;
    std::vector<Annotation> annotations_;
};

}  // namespace xgan
