// PngPlot: SvgPlot's line plot, rasterised by xgan into a PNG, for when a picture must
// open anywhere (a CI artifact, a chat, a terminal image viewer) without an SVG renderer.
//
//     xgan::PngPlot plot;
//     plot.title("Training").x_label("step").y_label("value");
//     plot.add_line(steps, d_accuracy, {.colour = xgan::SvgPlot::palette(0), .label = "D accuracy"});
//     plot.add_line(steps, g_loss, {.colour = xgan::SvgPlot::palette(1), .label = "G loss"});
//     plot.save("training.png");   // writes training.png.tmp, then renames it
//
// The same LineStyle and LegendPosition as SvgPlot (colour "#rrggbb" or "#rgb", width,
// dashed, opacity, label, marker_radius), the same builder calls, the same axis
// ranges, ticks and legend, so that switching between the two is a change of class.
//
// How it draws:
// - Lines: Xiaolin Wu's anti-aliased line, widened: each pixel column across a segment
//   covers the segment's vertical thickness, the pixels at its two ends fractionally;
//   round discs at the vertices join segments. A whole line is gathered in a coverage
//   mask (the maximum of its pieces) and blended once, so joins and overlaps of one
//   line do not darken.
// - Text: stb_easy_font's segment font (ASCII; other characters print as '?'), its
//   rectangles rasterised with area coverage, so any scale is smooth.
// - Non-finite points break a line in two; everything is clipped to the plot area.
// Only the PNG encoding is stb_image_write's (see write_png).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <locale>
#include <optional>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// stb_easy_font is all static functions, some of which xgan does not call: quiet the
// unused-function warnings they raise when stb is not on a system include path.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <xgan/config.hpp>
#include <xgan/io/png.hpp>
#include <xgan/io/svg_plot.hpp>

namespace xgan {
// The rasteriser behind PngPlot. Pixel (x, y) covers [x, x + 1) x [y, y + 1).
namespace detail::raster {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
};

// "#rrggbb" or "#rgb".
inline Rgb parse_colour(std::string_view text) {
    auto hex = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        XGAN_THROW(std::invalid_argument, "xgan::PngPlot: colour '", text, "' is not \"#rrggbb\" or \"#rgb\"");
    };
    auto byte = [](int v) { return static_cast<std::uint8_t>(v); };
    if (text.size() == 7 && text[0] == '#')
        return {byte(hex(text[1]) * 16 + hex(text[2])), byte(hex(text[3]) * 16 + hex(text[4])),
                byte(hex(text[5]) * 16 + hex(text[6]))};
    if (text.size() == 4 && text[0] == '#') return {byte(hex(text[1]) * 17), byte(hex(text[2]) * 17), byte(hex(text[3]) * 17)};
    XGAN_THROW(std::invalid_argument, "xgan::PngPlot: colour '", text, "' is not \"#rrggbb\" or \"#rgb\"");
}

// The pixels [left, right) x [top, bottom).
struct Box {
    int left, top, right, bottom;
    bool contains(int x, int y) const { return x >= left && x < right && y >= top && y < bottom; }
};

using Point = std::array<double, 2>;
using Polyline = std::vector<Point>;

// How much of each pixel of a w x h area a shape covers, 0..1. The pieces of one shape
// combine by their maximum, so that where they overlap (joins, caps) the shape is not
// blended twice.
class Coverage {
public:
    Coverage(int w, int h) : w_(w), h_(h), a_(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), 0.0f) {}

    int width() const { return w_; }
    int height() const { return h_; }
    float at(int x, int y) const { return a_[index(x, y)]; }
    void clear() { std::fill(a_.begin(), a_.end(), 0.0f); }

    void add(int x, int y, double c) {
        if (x < 0 || y < 0 || x >= w_ || y >= h_ || !(c > 0)) return;
        float& v = a_[index(x, y)];
        v = std::max(v, static_cast<float>(std::min(c, 1.0)));
    }

    // Sums instead of taking the maximum (the rectangles of a glyph), capped at 1 by the caller.
    void accumulate(int x, int y, double c) { a_[index(x, y)] += static_cast<float>(c); }
    void cap() {
        for (float& v : a_) v = std::min(v, 1.0f);
    }

    // A disc of radius r around (cx, cy), its edge a pixel wide.
    void disc(double cx, double cy, double r) {
        const int x0 = clamp_to(std::floor(cx - r - 1), w_), x1 = clamp_to(cx + r + 1, w_);
        const int y0 = clamp_to(std::floor(cy - r - 1), h_), y1 = clamp_to(cy + r + 1, h_);
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) add(x, y, r + 0.5 - std::hypot(x + 0.5 - cx, y + 0.5 - cy));
    }

    // Xiaolin Wu's line from (x0, y0) to (x1, y1), `width` pixels thick: along the major
    // axis, each pixel column (row, for a steep line) is covered from the line's centre
    // minus to plus half its thickness in that column, the two end pixels fractionally.
    // An end that is `cut` covers only the part of its column the segment spans (the end
    // of a line); an end that is not (a join) covers its column whole, so that the two
    // segments meeting there do not leave it half covered.
    void segment(double x0, double y0, double x1, double y1, double width, bool cut0 = true, bool cut1 = true) {
        const bool steep = std::abs(y1 - y0) > std::abs(x1 - x0);
        if (steep) std::swap(x0, y0), std::swap(x1, y1);
        if (x0 > x1) std::swap(x0, x1), std::swap(y0, y1), std::swap(cut0, cut1);
        const double slope = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0.0;
        const double half = 0.5 * width * std::sqrt(1 + slope * slope);
        const int major = steep ? h_ : w_, minor = steep ? w_ : h_;
        const int last = std::min(clamp_to(std::floor(x1) + 1, major), major) - 1;
        for (int i = clamp_to(std::floor(x0), major); i <= last; ++i) {
            const double span = std::min(i + 1.0, cut1 ? x1 : i + 1.0) - std::max(double(i), cut0 ? x0 : i);
            if (span <= 0) continue;
            const double centre = y0 + slope * (std::clamp(i + 0.5, x0, x1) - x0);
            const double low = centre - half, high = centre + half;
            for (int j = clamp_to(std::floor(low), minor); j < clamp_to(std::floor(high) + 1, minor); ++j) {
                const double c = span * (std::min(j + 1.0, high) - std::max(double(j), low));
                steep ? add(j, i, c) : add(i, j, c);
            }
        }
    }

    // A polyline `width` pixels wide with round joins and caps (square ones below 1.5 px).
    void stroke(const Polyline& points, double width) {
        for (std::size_t k = 0; k + 1 < points.size(); ++k)
            segment(points[k][0], points[k][1], points[k + 1][0], points[k + 1][1], width, k == 0,
                    k + 2 == points.size());
        if (width > 1.5 || points.size() == 1)
            for (const auto& [x, y] : points) disc(x, y, width / 2);
    }

    // The same coverage turned a quarter counter-clockwise (text reading upwards).
    Coverage turned_left() const {
        Coverage r(h_, w_);
        for (int y = 0; y < h_; ++y)
            for (int x = 0; x < w_; ++x) r.a_[r.index(y, w_ - 1 - x)] = at(x, y);
        return r;
    }

private:
    std::size_t index(int x, int y) const { return static_cast<std::size_t>(y) * static_cast<std::size_t>(w_) + static_cast<std::size_t>(x); }
    // v (a pixel coordinate, possibly far outside) clamped to 0..limit.
    static int clamp_to(double v, int limit) { return static_cast<int>(std::clamp(v, 0.0, double(limit))); }

    int w_, h_;
    std::vector<float> a_;
};

// A polyline cut into dashes of `on` pixels separated by gaps of `off` pixels.
inline std::vector<Polyline> dashes(const Polyline& points, double on, double off) {
    std::vector<Polyline> out;
    if (points.empty()) return out;
    bool drawing = true;
    double left = on;  // of the current dash or gap
    out.push_back({points[0]});
    for (std::size_t k = 0; k + 1 < points.size(); ++k) {
        auto [x, y] = points[k];
        const auto [x1, y1] = points[k + 1];
        double length = std::hypot(x1 - x, y1 - y);
        while (length > 0) {
            const double step = std::min(left, length);
            const double t = step / length;
            x += t * (x1 - x), y += t * (y1 - y);
            length -= step, left -= step;
            if (drawing) out.back().push_back({x, y});
            if (left <= 0) {
                drawing = !drawing;
                left = drawing ? on : off;
                if (drawing) out.push_back({{x, y}});
            }
        }
    }
    return out;
}

// The part of segment a-b inside `box` (Liang and Barsky), if any.
inline std::optional<std::pair<Point, Point>> clip_segment(Point a, Point b, Box box) {
    const double dx = b[0] - a[0], dy = b[1] - a[1];
    double t0 = 0, t1 = 1;
    const std::array<std::array<double, 2>, 4> edges{
        {{-dx, a[0] - box.left}, {dx, box.right - a[0]}, {-dy, a[1] - box.top}, {dy, box.bottom - a[1]}}};
    for (const auto& [p, q] : edges) {
        if (p == 0) {
            if (q < 0) return std::nullopt;
        } else if (p < 0) {
            t0 = std::max(t0, q / p);
        } else {
            t1 = std::min(t1, q / p);
        }
    }
    if (t0 > t1) return std::nullopt;
    const auto at = [&](double t) { return t == 0 ? a : t == 1 ? b : Point{a[0] + t * dx, a[1] + t * dy}; };
    return std::pair{at(t0), at(t1)};
}

// Text through stb_easy_font, `scale` pixels per font unit: capitals are 7 units high,
// from the top of the coverage; descenders reach 9.
inline Coverage text(std::string_view text, double scale) {
    std::string ascii;  // stb_easy_font knows ' '..'~'; a UTF-8 sequence becomes one '?'
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 32 && u < 127) ascii += c;
        else if (u >= 0xC0 || u < 0x80) ascii += '?';
    }
    // Word by word: the font's space is as wide as a digit, which spreads words apart;
    // 3 units between words read better.
    std::vector<std::array<float, 4>> boxes;  // left, top, right, bottom
    std::vector<char> vertices;
    float x = 0, right = 0;
    for (std::size_t begin = 0; begin < ascii.size();) {
        const std::size_t end = std::min(ascii.find(' ', begin), ascii.size());
        std::string word = ascii.substr(begin, end - begin);
        vertices.assign(word.size() * 1200 + 64, 0);  // stb: ~270 bytes a character
        const int quads = stb_easy_font_print(x, 0, word.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
        for (std::size_t q = 0; q < static_cast<std::size_t>(quads); ++q) {  // 4 vertices of 16 bytes, x and y first
            std::array<float, 4>& b = boxes.emplace_back();
            std::memcpy(&b[0], vertices.data() + q * 64, 2 * sizeof(float));       // top-left corner
            std::memcpy(&b[2], vertices.data() + q * 64 + 32, 2 * sizeof(float));  // bottom-right corner
            right = std::max(right, b[2]);
        }
        x += static_cast<float>(stb_easy_font_width(word.data())) + (end < ascii.size() ? 3.0f : 0.0f);
        begin = end + 1;
    }
    Coverage mask(static_cast<int>(std::ceil(right * scale)) + 1, static_cast<int>(std::ceil(9 * scale)) + 1);
    for (const auto& b : boxes) {
        const double x0 = b[0] * scale, y0 = b[1] * scale, x1 = b[2] * scale, y1 = b[3] * scale;
        for (int py = static_cast<int>(y0); py < static_cast<int>(std::ceil(y1)); ++py)
            for (int px = static_cast<int>(x0); px < static_cast<int>(std::ceil(x1)); ++px)
                mask.accumulate(px, py, (std::min(px + 1.0, x1) - std::max(double(px), x0)) *
                                            (std::min(py + 1.0, y1) - std::max(double(py), y0)));
    }
    mask.cap();
    return mask;
}

// An RGB picture being drawn on.
struct Canvas {
    Image image;

    Canvas(int w, int h, Rgb background) : image(static_cast<std::size_t>(w), static_cast<std::size_t>(h), 3) {
        fill(bounds(), background);
    }

    Box bounds() const { return {0, 0, static_cast<int>(image.width), static_cast<int>(image.height)}; }

    // Blends `colour` at `alpha` (0..1) into pixel (x, y), if it is on the canvas.
    void blend(int x, int y, Rgb colour, double alpha) {
        if (!bounds().contains(x, y)) return;
        std::uint8_t* p = image.at(static_cast<std::size_t>(x), static_cast<std::size_t>(y));
        const std::array<std::uint8_t, 3> c{colour.r, colour.g, colour.b};
        for (std::size_t i = 0; i < 3; ++i) p[i] = static_cast<std::uint8_t>(std::lround(p[i] + alpha * (c[i] - p[i])));
    }

    void fill(Box box, Rgb colour) {
        for (int y = box.top; y < box.bottom; ++y)
            for (int x = box.left; x < box.right; ++x) blend(x, y, colour, 1.0);
    }

    // `shape` in `colour`, its top left corner at (x, y), only inside `clip`.
    void paint(const Coverage& shape, int x, int y, Rgb colour, double opacity, Box clip) {
        for (int j = 0; j < shape.height(); ++j)
            for (int i = 0; i < shape.width(); ++i)
                if (const float c = shape.at(i, j); c > 0 && clip.contains(x + i, y + j))
                    blend(x + i, y + j, colour, opacity * c);
    }

    // Text with its anchor (ax, ay) at (x, y): ax 0, 0.5, 1 for its left, middle,
    // right; ay the same for the top, middle and bottom of its capitals.
    void write(std::string_view words, double x, double y, double scale, double ax, double ay, Rgb colour,
               bool bold = false) {
        const Coverage shape = text(words, scale);
        const int left = static_cast<int>(std::lround(x - ax * (shape.width() - 1)));
        const int top = static_cast<int>(std::lround(y - ay * 7 * scale));
        paint(shape, left, top, colour, 1, bounds());
        if (bold) paint(shape, left + 1, top, colour, 1, bounds());
    }
};

}  // namespace detail::raster

class PngPlot {
public:
    // A canvas of width x height pixels.
    explicit PngPlot(int width = 960, int height = 540) : width_(width), height_(height) {
        if (width < 200 || height < 150 || width > 16384 || height > 16384)
            XGAN_THROW(std::invalid_argument,
                       "xgan::PngPlot: the canvas must be 200 x 150 to 16384 x 16384 pixels, got ", width, " x ",
                       height);
    }

    PngPlot& title(std::string text) { title_ = std::move(text); return *this; }
    PngPlot& x_label(std::string text) { x_label_ = std::move(text); return *this; }
    PngPlot& y_label(std::string text) { y_label_ = std::move(text); return *this; }

    // Fixes an axis range; without it the axis fits the data (y with a 5% margin).
    PngPlot& x_range(double low, double high) { x_fixed_ = checked_range("x_range", low, high); return *this; }
    PngPlot& y_range(double low, double high) { y_fixed_ = checked_range("y_range", low, high); return *this; }
    PngPlot& auto_x_range() { x_fixed_.reset(); return *this; }
    PngPlot& auto_y_range() { y_fixed_.reset(); return *this; }

    PngPlot& legend(LegendPosition position) { legend_ = position; return *this; }
    // Puts the legend right of the plot area (level with its top), where it hides no
    // curve; the area narrows to make room, and legend(position) no longer matters.
    PngPlot& legend_outside(bool on = true) { legend_outside_ = on; return *this; }
    PngPlot& grid(bool on) { grid_ = on; return *this; }

    // A line through (xs[i], ys[i]); xs and ys are ranges of numbers of equal length.
    template <std::ranges::input_range Xs, std::ranges::input_range Ys>
        requires std::convertible_to<std::ranges::range_value_t<Xs>, double> &&
                 std::convertible_to<std::ranges::range_value_t<Ys>, double>
    PngPlot& add_line(const Xs& xs, const Ys& ys, LineStyle style = {}) {
        Line line{{}, std::move(style), {}};
        line.colour = detail::raster::parse_colour(line.style.colour);
        auto y = std::ranges::begin(ys);
        const auto y_end = std::ranges::end(ys);
        for (auto x = std::ranges::begin(xs); x != std::ranges::end(xs); ++x, ++y) {
            if (y == y_end) XGAN_THROW(std::invalid_argument, "xgan::PngPlot::add_line: more xs than ys");
            line.points.push_back({static_cast<double>(*x), static_cast<double>(*y)});
        }
        if (y != y_end) XGAN_THROW(std::invalid_argument, "xgan::PngPlot::add_line: more ys than xs");
        lines_.push_back(std::move(line));
        return *this;
    }

    std::size_t line_count() const { return lines_.size(); }

    // The picture, RGB.
    Image render() const {
        const Axis ya = make_axis(y_fixed_, false, 6);
        const Box area = frame(ya);
        const Axis xa = fitted_x_axis(area);
        Canvas canvas(width_, height_, white);
        canvas.fill(area, area_colour);
        draw_ticks(canvas, area, xa, ya);
        Coverage mask(width_, height_);
        for (const Line& line : lines_) draw_line(canvas, mask, line, area, xa, ya);
        // The frame: a one-pixel rectangle just outside the plot area.
        canvas.fill({area.left - 1, area.top - 1, area.right + 1, area.top}, soft);
        canvas.fill({area.left - 1, area.bottom, area.right + 1, area.bottom + 1}, soft);
        canvas.fill({area.left - 1, area.top, area.left, area.bottom}, soft);
        canvas.fill({area.right, area.top, area.right + 1, area.bottom}, soft);
        draw_labels(canvas, area);
        draw_legend(canvas, area);
        return std::move(canvas.image);
    }

    // Writes the picture as a PNG (atomically; see write_png).
    void save(const std::filesystem::path& path) const { write_png(path, render()); }

private:
    using Rgb = detail::raster::Rgb;
    using Box = detail::raster::Box;
    using Point = detail::raster::Point;
    using Polyline = detail::raster::Polyline;
    using Coverage = detail::raster::Coverage;
    using Canvas = detail::raster::Canvas;

    struct Line {
        std::vector<Point> points;
        LineStyle style;
        Rgb colour;
    };
    struct Range {
        double low, high;
    };
    struct Axis {
        double low, high, step;
        std::vector<double> ticks;
        // Data to pixels along [at_low, at_high].
        double to_px(double v, double at_low, double at_high) const {
            return std::clamp(at_low + (v - low) / (high - low) * (at_high - at_low), -1e12, 1e12);
        }
    };

    static constexpr Rgb white{255, 255, 255}, area_colour{252, 252, 252}, grid_colour{228, 228, 228},
        soft{51, 51, 51}, ink{34, 34, 34};
    static constexpr double tick_scale = 1.5, label_scale = 2, title_scale = 2.5;  // pixels per font unit
    static constexpr int legend_row = 22, legend_sample = 32, legend_pad = 10;

    static Range checked_range(const char* what, double low, double high) {
        if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
            XGAN_THROW(std::invalid_argument, "xgan::PngPlot::", what, ": need finite low < high, got [", low, ", ",
                       high, "]");
        return {low, high};
    }

    static double text_width(std::string_view text, double scale) {
        return detail::raster::text(text, scale).width();
    }

    // The plot area: what is left after the titles, tick labels and an outside legend.
    Box frame(const Axis& ya) const {
        double labels = 0;
        for (const double t : ya.ticks) labels = std::max(labels, text_width(tick_label(t, ya.step), tick_scale));
        const int left = static_cast<int>(labels) + 18 + (y_label_.empty() ? 0 : 30);
        const int top = title_.empty() ? 20 : 48;
        const int bottom = height_ - (x_label_.empty() ? 34 : 58);
        const int legend = legend_outside_ ? legend_size()[0] : 0;
        return {left, top, width_ - 24 - (legend > 0 ? legend + 14 : 0), bottom};
    }

    // 1, 2, 2.5 or 5 times a power of ten, near span / target.
    static double nice_step(double span, double target) {
        const double raw = span / target;
        const double power = std::pow(10.0, std::floor(std::log10(raw)));
        const double m = raw / power;
        const double nice = m < 1.5 ? 1 : m < 2.25 ? 2 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10;
        return nice * power;
    }

    Axis make_axis(const std::optional<Range>& fixed, bool is_x, double target_ticks) const {
        double low = 0, high = 1;
        if (fixed) {
            low = fixed->low, high = fixed->high;
        } else {
            double lo = std::numeric_limits<double>::infinity(), hi = -lo;
            for (const Line& line : lines_)
                for (const auto& [x, y] : line.points)
                    if (std::isfinite(x) && std::isfinite(y)) {
                        const double v = is_x ? x : y;
                        lo = std::min(lo, v), hi = std::max(hi, v);
                    }
            if (lo <= hi) {
                if (lo == hi) {
                    const double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
                    lo -= pad, hi += pad;
                } else if (!is_x) {
                    const double pad = 0.05 * (hi - lo);
                    lo -= pad, hi += pad;
                }
                low = lo, high = hi;
            }
        }
        Axis axis{low, high, nice_step(high - low, target_ticks), {}};
        for (double k = std::ceil(low / axis.step - 1e-9);; k += 1) {
            double t = k * axis.step;
            if (t > high + 1e-9 * axis.step || axis.ticks.size() > 100) break;
            if (std::abs(t) < 1e-9 * axis.step) t = 0;
            axis.ticks.push_back(t);
        }
        return axis;
    }

    // As many x ticks as fit (up to 8) with their labels 12 pixels apart at least.
    Axis fitted_x_axis(const Box& area) const {
        Axis axis = make_axis(x_fixed_, true, 8);
        for (double target = 7; target >= 2; --target) {
            double widest = 0;
            for (const double t : axis.ticks) widest = std::max(widest, text_width(tick_label(t, axis.step), tick_scale));
            if (widest + 12 <= axis.step / (axis.high - axis.low) * (area.right - area.left)) break;
            axis = make_axis(x_fixed_, true, target);
        }
        return axis;
    }

    static std::string tick_label(double v, double step) {
        int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
        const double scaled = step * std::pow(10.0, decimals);
        if (std::abs(scaled - std::round(scaled)) > 1e-6) ++decimals;  // 2.5, 0.25, ...
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out << std::fixed << std::setprecision(decimals) << v;
        std::string s = out.str();
        if (s.size() > 1 && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
        return s;
    }

    void draw_ticks(Canvas& canvas, const Box& area, const Axis& xa, const Axis& ya) const {
        for (const double t : xa.ticks) {
            const int x = std::clamp(static_cast<int>(std::floor(xa.to_px(t, area.left, area.right))), area.left, area.right - 1);
            if (grid_) canvas.fill({x, area.top, x + 1, area.bottom}, grid_colour);
            canvas.fill({x, area.bottom, x + 1, area.bottom + 5}, soft);
            canvas.write(tick_label(t, xa.step), x + 0.5, area.bottom + 8, tick_scale, 0.5, 0, soft);
        }
        for (const double t : ya.ticks) {
            const int y = std::clamp(static_cast<int>(std::floor(ya.to_px(t, area.bottom, area.top))), area.top, area.bottom - 1);
            if (grid_) canvas.fill({area.left, y, area.right, y + 1}, grid_colour);
            canvas.fill({area.left - 5, y, area.left, y + 1}, soft);
            canvas.write(tick_label(t, ya.step), area.left - 9, y + 0.5, tick_scale, 1, 0.5, soft);
        }
    }

    // Strokes `points` into `mask`: whole, or in dashes as SvgPlot spaces them.
    static void stroke(Coverage& mask, const Polyline& points, double width, bool dashed) {
        if (!dashed) return mask.stroke(points, width);
        for (const Polyline& dash : detail::raster::dashes(points, 3 * width + 3, 2 * width + 3))
            mask.stroke(dash, width);
    }

    // One line, clipped to the plot area. Segments are first cut to a margin around the
    // area, so that a point far outside costs nothing and a dashed line is not cut
    // into dashes off the picture.
    void draw_line(Canvas& canvas, Coverage& mask, const Line& line, const Box& area, const Axis& xa,
                   const Axis& ya) const {
        constexpr int margin = 16;
        const Box reach{area.left - margin, area.top - margin, area.right + margin, area.bottom + margin};
        const double width = std::clamp(line.style.width, 0.5, double(margin));
        mask.clear();
        Polyline run;  // the piece being gathered
        auto flush = [&] {
            stroke(mask, run, width, line.style.dashed);
            run.clear();
        };
        constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
        std::size_t previous = none;  // index of the last finite point
        for (std::size_t i = 0; i < line.points.size(); ++i) {
            const auto [x, y] = line.points[i];
            if (!std::isfinite(x) || !std::isfinite(y)) {
                flush();
                previous = none;
                continue;
            }
            const Point p{xa.to_px(x, area.left, area.right), ya.to_px(y, area.bottom, area.top)};
            if (previous == none) {
                // Compared as doubles: a point far off the plot lies beyond any int.
                if (p[0] >= reach.left && p[0] < reach.right && p[1] >= reach.top && p[1] < reach.bottom)
                    run.push_back(p);  // alone, a point shows as a dot
            } else {
                const auto [px, py] = line.points[previous];
                const Point q{xa.to_px(px, area.left, area.right), ya.to_px(py, area.bottom, area.top)};
                const auto piece = detail::raster::clip_segment(q, p, reach);
                if (!piece) {
                    flush();
                } else {
                    if (run.empty() || run.back() != piece->first) {
                        flush();
                        run.push_back(piece->first);
                    }
                    run.push_back(piece->second);
                    if (piece->second != p) flush();
                }
            }
            previous = i;
        }
        flush();
        if (line.style.marker_radius > 0)
            for (const auto& [x, y] : line.points)
                if (std::isfinite(x) && std::isfinite(y))
                    mask.disc(xa.to_px(x, area.left, area.right), ya.to_px(y, area.bottom, area.top),
                              line.style.marker_radius);
        canvas.paint(mask, 0, 0, line.colour, std::clamp(line.style.opacity, 0.0, 1.0), area);
    }

    void draw_labels(Canvas& canvas, const Box& area) const {
        if (!title_.empty()) canvas.write(title_, width_ / 2.0, 12, title_scale, 0.5, 0, ink, true);
        if (!x_label_.empty())
            canvas.write(x_label_, (area.left + area.right) / 2.0, height_ - 12, label_scale, 0.5, 1, ink);
        if (!y_label_.empty()) {
            const Coverage turned = detail::raster::text(y_label_, label_scale).turned_left();
            canvas.paint(turned, 12, (area.top + area.bottom - turned.height()) / 2, ink, 1, canvas.bounds());
        }
    }

    std::vector<const Line*> legend_entries() const {
        std::vector<const Line*> entries;
        if (legend_ != LegendPosition::none || legend_outside_)
            for (const Line& line : lines_)
                if (!line.style.label.empty()) entries.push_back(&line);
        return entries;
    }

    // Width and height of the legend box; 0 x 0 without one.
    std::array<int, 2> legend_size() const {
        const std::vector<const Line*> entries = legend_entries();
        if (entries.empty()) return {0, 0};
        double text = 0;
        for (const Line* line : entries) text = std::max(text, text_width(line->style.label, label_scale));
        return {legend_pad + legend_sample + 8 + static_cast<int>(text) + legend_pad,
                legend_pad + legend_row * static_cast<int>(entries.size()) - (legend_row - 12) + legend_pad};
    }

    void draw_legend(Canvas& canvas, const Box& area) const {
        const std::vector<const Line*> entries = legend_entries();
        if (entries.empty()) return;
        const auto [w, h] = legend_size();
        const bool left = legend_ == LegendPosition::top_left || legend_ == LegendPosition::bottom_left;
        const bool center = legend_ == LegendPosition::top_center || legend_ == LegendPosition::bottom_center;
        const bool top = legend_ == LegendPosition::top_left || legend_ == LegendPosition::top_center ||
                         legend_ == LegendPosition::top_right;
        const int x = legend_outside_ ? area.right + 14
                      : left          ? area.left + 10
                      : center        ? (area.left + area.right - w) / 2
                                      : area.right - 10 - w;
        const int y = legend_outside_ ? area.top : top ? area.top + 10 : area.bottom - 10 - h;
        const Box box{x, y, x + w, y + h};

        canvas.fill(box, {187, 187, 187});
        canvas.fill({x + 1, y + 1, x + w - 1, y + h - 1}, white);
        Coverage mask(width_, height_);
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const Line& line = *entries[i];
            const double cy = y + legend_pad + 6.5 + legend_row * static_cast<double>(i);
            const double x0 = x + legend_pad, x1 = x0 + legend_sample;
            // Thin faint lines are drawn darker in the legend so that they show.
            const double width = std::min(line.style.width, 10.0);
            const double opacity = width < 4 ? std::max(line.style.opacity, 0.8) : line.style.opacity;
            mask.clear();
            stroke(mask, {{x0, cy}, {x1, cy}}, width, line.style.dashed);
            if (line.style.marker_radius > 0) mask.disc((x0 + x1) / 2, cy, line.style.marker_radius);
            canvas.paint(mask, 0, 0, line.colour, std::clamp(opacity, 0.0, 1.0), box);
            canvas.write(line.style.label, x1 + 8, cy, label_scale, 0, 0.5, ink);
        }
    }

    int width_, height_;
    std::string title_, x_label_, y_label_;
    std::optional<Range> x_fixed_, y_fixed_;
    LegendPosition legend_ = LegendPosition::top_left;
    bool legend_outside_ = false;
    bool grid_ = true;
    std::vector<Line> lines_;
};

}  // namespace xgan
