// image_grid / save_image_grid: a batch of generated images, one per row of a matrix,
// tiled into one picture, the way an image GAN's progress is usually watched.
//
//     matrix<float> samples = generator_output;          // {64, 28 * 28}, values in [-1, 1]
//     xgan::save_image_grid("step_1000.png", samples, 28, 28, 8);    // 8 x 8 tiles
//     xgan::save_image_grid("step_1000.png", samples, 28, 28, 8, {0, 1}, {.scale = 3});
//
// Policy:
// - Row i of `samples` is image i, row-major (pixel (x, y) at column y * cols + x); with
//   style.channels == 3 each pixel is three consecutive values r, g, b.
// - Images fill the grid left to right, top to bottom; cells past the last image are
//   left in the separator colour. At most n columns are used.
// - A `separator`-pixel band in `separator_colour` surrounds every tile (borders included).
// - `range` maps linearly to 0..255 (low -> 0, high -> 255, rounded); values outside it,
//   including +-infinity, are clamped. NaN is painted in `nan_colour` (magenta by default),
//   a colour no greyscale pixel can have, so a diverging generator is seen at once.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/png.hpp>

namespace xgan {

// The sample values that map to black (low) and white (high).
struct ValueRange {
    double low = -1.0, high = 1.0;
};

// How the grid is drawn.
struct GridStyle {
    std::size_t channels = 1;   // 1: grey images; 3: RGB, interleaved per pixel
    std::size_t separator = 2;  // pixels between tiles and around the grid
    std::size_t scale = 1;      // each image pixel becomes scale x scale picture pixels
    std::array<std::uint8_t, 3> separator_colour{72, 88, 128};  // slate blue: no grey value
    std::array<std::uint8_t, 3> nan_colour{255, 0, 255};        // magenta
};

// The grid as an RGB image.
template <class T>
Image image_grid(const matrix<T>& samples, std::size_t rows, std::size_t cols, std::size_t grid_columns,
                 ValueRange range = {}, const GridStyle& style = {}) {
    const std::size_t n = samples.shape()[0], width = samples.shape()[1];
    if (n == 0) XGAN_THROW(std::invalid_argument, "xgan::image_grid: there are no images (samples has 0 rows)");
    if (style.channels != 1 && style.channels != 3)
        XGAN_THROW(std::invalid_argument, "xgan::image_grid: style.channels must be 1 (grey) or 3 (RGB), got ",
                   style.channels);
    if (rows == 0 || cols == 0)
        XGAN_THROW(std::invalid_argument, "xgan::image_grid: an image must be at least 1 x 1, got rows = ", rows,
                   ", cols = ", cols);
    if (width != rows * cols * style.channels)
        XGAN_THROW(std::invalid_argument, "xgan::image_grid: samples have ", width, " columns but rows * cols",
                   style.channels == 3 ? " * 3" : "", " = ", rows, " * ", cols, style.channels == 3 ? " * 3" : "",
                   " = ", rows * cols * style.channels, "; each row of samples must hold one whole image");
    if (grid_columns == 0)
        XGAN_THROW(std::invalid_argument, "xgan::image_grid: grid_columns must be at least 1");
    if (style.scale == 0) XGAN_THROW(std::invalid_argument, "xgan::image_grid: style.scale must be at least 1");
    if (!std::isfinite(range.low) || !std::isfinite(range.high) || !(range.low < range.high))
        XGAN_THROW(std::invalid_argument, "xgan::image_grid: the value range needs finite low < high, got [",
                   range.low, ", ", range.high, "]");

    const std::size_t columns = std::min(grid_columns, n);
    const std::size_t grid_rows = (n + columns - 1) / columns;
    // Sides in double first: a grid too large for a PNG must not overflow on the way.
    const double tile_w = static_cast<double>(cols) * static_cast<double>(style.scale);
    const double tile_h = static_cast<double>(rows) * static_cast<double>(style.scale);
    const double sep = static_cast<double>(style.separator);
    const double picture_w = static_cast<double>(columns) * (tile_w + sep) + sep;
    const double picture_h = static_cast<double>(grid_rows) * (tile_h + sep) + sep;
    constexpr double limit = 1 << 16;
    if (picture_w > limit || picture_h > limit)
        XGAN_THROW(std::invalid_argument, "xgan::image_grid: a grid of ", grid_rows, " x ", columns, " tiles of ",
                   cols, " x ", rows, " pixels (scale ", style.scale, ") would be ", picture_w, " x ", picture_h,
                   " pixels; the limit is ", limit, " a side: use fewer images, fewer columns or a smaller scale");

    Image picture(static_cast<std::size_t>(picture_w), static_cast<std::size_t>(picture_h), 3);
    for (std::size_t i = 0; i < picture.pixels.size(); i += 3)
        std::copy(style.separator_colour.begin(), style.separator_colour.end(), picture.pixels.begin() + i);

    const double scale = 255.0 / (range.high - range.low);
    auto to_byte = [&](double v) {
        return static_cast<std::uint8_t>(std::lround(std::clamp((v - range.low) * scale, 0.0, 255.0)));
    };
    const std::size_t tw = cols * style.scale, th = rows * style.scale;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t left = style.separator + (i % columns) * (tw + style.separator);
        const std::size_t top = style.separator + (i / columns) * (th + style.separator);
        for (std::size_t y = 0; y < rows; ++y)
            for (std::size_t x = 0; x < cols; ++x) {
                std::array<std::uint8_t, 3> rgb{};
                bool nan = false;
                for (std::size_t c = 0; c < 3; ++c) {
                    const double v =
                        static_cast<double>(samples(i, (y * cols + x) * style.channels + c % style.channels));
                    nan = nan || std::isnan(v);
                    rgb[c] = to_byte(v);
                }
                if (nan) rgb = style.nan_colour;
                for (std::size_t dy = 0; dy < style.scale; ++dy)
                    for (std::size_t dx = 0; dx < style.scale; ++dx)
                        std::copy(rgb.begin(), rgb.end(),
                                  picture.at(left + x * style.scale + dx, top + y * style.scale + dy));
            }
    }
    return picture;
}

// Writes the grid as a PNG (atomically; see write_png).
template <class T>
void save_image_grid(const std::filesystem::path& path, const matrix<T>& samples, std::size_t rows,
                     std::size_t cols, std::size_t grid_columns, ValueRange range = {}, const GridStyle& style = {}) {
    write_png(path, image_grid(samples, rows, cols, grid_columns, range, style));
}

}  // namespace xgan
