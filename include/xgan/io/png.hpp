// Image and write_png: an 8-bit greyscale or RGB raster and an atomic PNG writer.
// The encoding is stb_image_write's (Debian's libstb-dev ships it compiled, and the
// xgan target links it); the file handling is xgan's, so that a failed write is an
// exception naming the path rather than a half-written picture.
//
//     xgan::Image image(64, 32, 3);              // black RGB, 64 wide, 32 high
//     image.at(10, 5)[0] = 255;                  // pixel (x = 10, y = 5) turns red
//     xgan::write_png("picture.png", image);    // writes picture.png.tmp, renames it
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ios>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <stb/stb_image_write.h>

#include <xgan/config.hpp>

namespace xgan {

// A row-major raster of width x height pixels, `channels` bytes each (1: grey, 3: RGB).
struct Image {
    std::size_t width = 0, height = 0, channels = 3;
    std::vector<std::uint8_t> pixels;

    Image() = default;
    Image(std::size_t width_, std::size_t height_, std::size_t channels_ = 3, std::uint8_t fill = 0)
        : width(width_), height(height_), channels(channels_), pixels(width_ * height_ * channels_, fill) {
        if (channels != 1 && channels != 3)
            XGAN_THROW(std::invalid_argument, "xgan::Image: channels must be 1 (grey) or 3 (RGB), got ", channels);
    }

    // The first byte of pixel (x, y); x counts from the left, y from the top.
    std::uint8_t* at(std::size_t x, std::size_t y) { return pixels.data() + (y * width + x) * channels; }
    const std::uint8_t* at(std::size_t x, std::size_t y) const { return pixels.data() + (y * width + x) * channels; }
};

namespace detail {

// Writes `bytes` to `path` through `path`.tmp and a rename; `who` prefixes the errors.
inline void write_file_atomically(const std::filesystem::path& path, const std::string& bytes, const char* who) {
    std::filesystem::path temporary = path;
    temporary += ".tmp";
    auto fail = [&](const char* step, const std::string& why) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        XGAN_THROW(std::runtime_error, who, ": cannot write '", path.string(), "' (", step, " '", temporary.string(),
                   "' failed", why, ")");
    };
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) fail("opening", "");
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) fail("writing", "");
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) fail("renaming", ": " + error.message());
}

}  // namespace detail

// Writes width x height pixels of `channels` bytes each (1: grey, 3: RGB; rows top to
// bottom) as a PNG. Writes `path`.tmp first and renames it over `path`, so a reader never
// sees half a file; throws std::runtime_error naming the path when that fails (the
// temporary file is removed) and std::invalid_argument when the sizes disagree.
inline void write_png(const std::filesystem::path& path, std::span<const std::uint8_t> pixels, std::size_t width,
                      std::size_t height, std::size_t channels) {
    if (channels != 1 && channels != 3)
        XGAN_THROW(std::invalid_argument, "xgan::write_png: channels must be 1 (grey) or 3 (RGB), got ", channels,
                   " (writing '", path.string(), "')");
    if (width == 0 || height == 0 || width > INT_MAX / channels || height > INT_MAX)
        XGAN_THROW(std::invalid_argument, "xgan::write_png: cannot write a ", width, " x ", height, " image to '",
                   path.string(), "'; both sides must be between 1 and ", INT_MAX / 3, " pixels");
    if (pixels.size() != width * height * channels)
        XGAN_THROW(std::invalid_argument, "xgan::write_png: a ", width, " x ", height, " image of ", channels,
                   " channel(s) needs ", width * height * channels, " bytes, got ", pixels.size(), " (writing '",
                   path.string(), "')");

    // stbi_write_png would fopen the file itself but ignores fwrite and fclose errors
    // (a full disk); encoding to memory lets write_file_atomically check every step.
    std::string encoded;
    auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
    };
    const int w = static_cast<int>(width), h = static_cast<int>(height), c = static_cast<int>(channels);
    if (stbi_write_png_to_func(append, &encoded, w, h, c, pixels.data(), w * c) == 0)
        XGAN_THROW(std::runtime_error, "xgan::write_png: cannot write '", path.string(),
                   "' (stb_image_write could not encode the image)");
    detail::write_file_atomically(path, encoded, "xgan::write_png");
}

inline void write_png(const std::filesystem::path& path, const Image& image) {
    write_png(path, image.pixels, image.width, image.height, image.channels);
}

}  // namespace xgan
