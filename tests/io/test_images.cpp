// io/ pictures: write_png, image_grid, PngPlot and training_plot, checked by reading
// the PNG files back with stb_image (an independent decoder) and looking at pixels.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <stb/stb_image.h>

#include <xgan/io/image_grid.hpp>
#include <xgan/io/png.hpp>
#include <xgan/io/png_plot.hpp>
#include <xgan/io/training_plot.hpp>

using namespace xgan;

namespace {

using Rgb = std::array<int, 3>;

// A PNG read back: every pixel as RGB.
struct Picture {
    int width = 0, height = 0, channels_in_file = 0;
    std::vector<std::uint8_t> rgb;

    Rgb at(int x, int y) const {
        const std::uint8_t* p = &rgb[static_cast<std::size_t>(y * width + x) * 3];
        return {p[0], p[1], p[2]};
    }
    std::size_t count(Rgb colour) const {
        std::size_t n = 0;
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) n += at(x, y) == colour;
        return n;
    }
};

Picture load(const std::filesystem::path& path) {
    Picture picture;
    std::uint8_t* data = stbi_load(path.string().c_str(), &picture.width, &picture.height, &picture.channels_in_file, 3);
    REQUIRE(data != nullptr);
    picture.rgb.assign(data, data + static_cast<std::size_t>(picture.width * picture.height) * 3);
    stbi_image_free(data);
    return picture;
}

std::filesystem::path scratch(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "xgan_test_images";
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::filesystem::remove(path);
    return path;
}

constexpr Rgb separator{72, 88, 128};
constexpr Rgb magenta{255, 0, 255};
constexpr Rgb plot_area{252, 252, 252};

Rgb grey(int v) { return {v, v, v}; }

}  // namespace

TEST_CASE("write_png writes greyscale and RGB images that decode to the same pixels", "[io][png]") {
    SECTION("greyscale") {
        const auto path = scratch("grey.png");
        Image image(5, 3, 1);
        for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<std::uint8_t>(i * 17);
        write_png(path, image);
        const Picture back = load(path);
        CHECK(back.width == 5);
        CHECK(back.height == 3);
        CHECK(back.channels_in_file == 1);
        CHECK(back.at(0, 0) == grey(0));
        CHECK(back.at(4, 0) == grey(4 * 17));
        CHECK(back.at(2, 2) == grey(12 * 17));
    }
    SECTION("RGB, pixel (x, y) at column x of row y") {
        const auto path = scratch("rgb.png");
        Image image(4, 2, 3);
        image.at(3, 0)[0] = 200;  // red, top right
        image.at(0, 1)[2] = 90;   // blue, bottom left
        write_png(path, image);
        const Picture back = load(path);
        CHECK(back.width == 4);
        CHECK(back.height == 2);
        CHECK(back.channels_in_file == 3);
        CHECK(back.at(3, 0) == Rgb{200, 0, 0});
        CHECK(back.at(0, 1) == Rgb{0, 0, 90});
        CHECK(back.at(1, 1) == Rgb{0, 0, 0});
    }
}

TEST_CASE("write_png replaces a file through a temporary and reports failures by path", "[io][png]") {
    const auto path = scratch("atomic.png");
    {
        std::ofstream old(path);
        old << "not a png";
    }
    write_png(path, Image(2, 2, 1, 128));
    CHECK(load(path).at(1, 1) == grey(128));
    auto temporary = path;
    temporary += ".tmp";
    CHECK_FALSE(std::filesystem::exists(temporary));

    const auto missing = std::filesystem::temp_directory_path() / "xgan_no_such_dir" / "x.png";
    CHECK_THROWS_AS(write_png(missing, Image(2, 2)), std::runtime_error);
    CHECK_THROWS_WITH(write_png(missing, Image(2, 2)), Catch::Contains(missing.string()));

    const std::vector<std::uint8_t> five(5);
    CHECK_THROWS_WITH(write_png(path, five, 2, 2, 1), Catch::Contains("needs 4 bytes, got 5"));
    CHECK_THROWS_WITH(write_png(path, five, 5, 1, 2), Catch::Contains("1 (grey) or 3 (RGB)"));
    CHECK_THROWS_AS(write_png(path, {}, 0, 0, 1), std::invalid_argument);
}

TEST_CASE("image_grid tiles images left to right with separators", "[io][grid]") {
    // Three 2 x 3 images (rows = 2, cols = 3) in 2 columns, a 1-pixel separator:
    // 2 * (3 + 1) + 1 = 9 wide, 2 * (2 + 1) + 1 = 7 high.
    matrix<float> samples({3, 6});
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 6; ++j) samples(i, j) = -1.0f + 0.25f * static_cast<float>(i) + 0.1f * static_cast<float>(j);
    const auto path = scratch("grid.png");
    save_image_grid(path, samples, 2, 3, 2, {}, {.separator = 1});
    const Picture p = load(path);
    REQUIRE(p.width == 9);
    REQUIRE(p.height == 7);

    auto expected = [&](std::size_t i, std::size_t x, std::size_t y) {
        return grey(static_cast<int>(std::lround((samples(i, y * 3 + x) + 1.0) * 127.5)));
    };
    for (std::size_t y = 0; y < 2; ++y)
        for (std::size_t x = 0; x < 3; ++x) {
            CHECK(p.at(1 + int(x), 1 + int(y)) == expected(0, x, y));  // first tile, top left
            CHECK(p.at(5 + int(x), 1 + int(y)) == expected(1, x, y));  // second, top right
            CHECK(p.at(1 + int(x), 4 + int(y)) == expected(2, x, y));  // third, next row
            CHECK(p.at(5 + int(x), 4 + int(y)) == separator);          // no fourth image
        }
    for (int x = 0; x < 9; ++x) {  // horizontal separators, border included
        CHECK(p.at(x, 0) == separator);
        CHECK(p.at(x, 3) == separator);
        CHECK(p.at(x, 6) == separator);
    }
    for (int y = 0; y < 7; ++y) {
        CHECK(p.at(0, y) == separator);
        CHECK(p.at(4, y) == separator);
        CHECK(p.at(8, y) == separator);
    }
}

TEST_CASE("image_grid maps the value range to 0..255, clamps, and marks NaN", "[io][grid]") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    matrix<float> samples({1, 8});
    samples(0, 0) = -1, samples(0, 1) = 0, samples(0, 2) = 1, samples(0, 3) = 5;
    samples(0, 4) = -7, samples(0, 5) = nan, samples(0, 6) = inf, samples(0, 7) = -inf;

    SECTION("default range [-1, 1]") {
        const Image g = image_grid(samples, 1, 8, 1, {}, {.separator = 2});
        REQUIRE(g.width == 2 + 8 + 2);
        REQUIRE(g.height == 2 + 1 + 2);
        auto pixel = [&](int x) {
            const std::uint8_t* p = g.at(2 + static_cast<std::size_t>(x), 2);
            return Rgb{p[0], p[1], p[2]};
        };
        CHECK(pixel(0) == grey(0));
        CHECK(pixel(1) == grey(128));  // 127.5 rounds up
        CHECK(pixel(2) == grey(255));
        CHECK(pixel(3) == grey(255));  // clamped
        CHECK(pixel(4) == grey(0));    // clamped
        CHECK(pixel(5) == magenta);
        CHECK(pixel(6) == grey(255));
        CHECK(pixel(7) == grey(0));
    }
    SECTION("range [0, 1] and a magnified tile") {
        matrix<double> one({1, 1});
        one(0, 0) = 0.25;
        const Image g = image_grid(one, 1, 1, 1, {0, 1}, {.separator = 1, .scale = 3});
        REQUIRE(g.width == 5);
        for (std::size_t y = 1; y <= 3; ++y)
            for (std::size_t x = 1; x <= 3; ++x) CHECK(g.at(x, y)[0] == 64);
        CHECK(g.at(4, 2)[0] == separator[0]);
    }
    SECTION("RGB samples, interleaved per pixel") {
        matrix<float> rgb({1, 6});
        rgb(0, 0) = 1, rgb(0, 1) = -1, rgb(0, 2) = -1;  // red
        rgb(0, 3) = -1, rgb(0, 4) = -1, rgb(0, 5) = nan;  // NaN in any channel
        const Image g = image_grid(rgb, 1, 2, 1, {}, {.channels = 3, .separator = 1});
        CHECK(Rgb{g.at(1, 1)[0], g.at(1, 1)[1], g.at(1, 1)[2]} == Rgb{255, 0, 0});
        CHECK(Rgb{g.at(2, 1)[0], g.at(2, 1)[1], g.at(2, 1)[2]} == magenta);
    }
}

TEST_CASE("image_grid rejects shapes that do not fit, naming the numbers", "[io][grid]") {
    matrix<float> samples({4, 780});
    CHECK_THROWS_WITH(image_grid(samples, 28, 28, 2), Catch::Contains("780") && Catch::Contains("784"));
    CHECK_THROWS_WITH(image_grid(matrix<float>({0, 784}), 28, 28, 2), Catch::Contains("no images"));
    matrix<float> ok({4, 784});
    CHECK_NOTHROW(image_grid(ok, 28, 28, 2));
    CHECK(image_grid(ok, 28, 28, 10).width == 4 * 30 + 2);  // at most n columns
    CHECK_THROWS_WITH(image_grid(ok, 28, 28, 0), Catch::Contains("grid_columns"));
    CHECK_THROWS_WITH(image_grid(ok, 28, 28, 2, {1, 1}), Catch::Contains("low < high"));
    CHECK_THROWS_WITH(image_grid(ok, 28, 28, 2, {}, {.channels = 2}), Catch::Contains("channels"));
    CHECK_THROWS_WITH(image_grid(ok, 28, 28, 4, {}, {.scale = 1000}), Catch::Contains("limit"));
}

namespace {

// The plot area's columns on row y: the first and last pixel of its background.
std::pair<int, int> area_columns(const Picture& p, int y) {
    int first = -1, last = -1;
    for (int x = 0; x < p.width; ++x)
        if (p.at(x, y) == plot_area) {
            if (first < 0) first = x;
            last = x;
        }
    return {first, last};
}

// Rows of column x where the pixel has exactly `colour`.
std::vector<int> rows_with(const Picture& p, int x, Rgb colour) {
    std::vector<int> rows;
    for (int y = 0; y < p.height; ++y)
        if (p.at(x, y) == colour) rows.push_back(y);
    return rows;
}

}  // namespace

TEST_CASE("PngPlot draws each line in its colour, anti-aliased, with a gap at non-finite points", "[io][plot]") {
    const Rgb red{255, 0, 0}, blue{0, 0, 255};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> xs, high, low, diagonal;
    for (int i = 0; i <= 10; ++i) {
        xs.push_back(i);
        high.push_back(i == 5 ? nan : 0.8);  // a gap around x = 5
        low.push_back(0.2);
        diagonal.push_back(0.3 + i / 25.0);  // crosses neither
    }
    PngPlot plot(640, 400);
    plot.x_range(0, 10).y_range(0, 1).legend(LegendPosition::none).grid(false);
    plot.add_line(xs, high, {.colour = "#ff0000", .width = 3, .label = "high"});
    plot.add_line(xs, low, {.colour = "#00f", .width = 3, .label = "low"});
    plot.add_line(xs, diagonal, {.colour = "#00a000", .width = 1, .label = "diagonal"});
    const auto path = scratch("plot_lines.png");
    plot.save(path);
    const Picture p = load(path);
    REQUIRE(p.width == 640);
    REQUIRE(p.height == 400);

    const int left = area_columns(p, 200).first, right = area_columns(p, 200).second;
    REQUIRE(left > 20);
    REQUIRE(right > left + 400);
    auto column_at = [&](double x) { return left + static_cast<int>(x / 10 * (right - left)); };

    // At x = 2 both lines are there, red (0.8) above blue (0.2), each 3 pixels thick.
    const std::vector<int> red_rows = rows_with(p, column_at(2), red), blue_rows = rows_with(p, column_at(2), blue);
    REQUIRE_FALSE(red_rows.empty());
    REQUIRE_FALSE(blue_rows.empty());
    CHECK(red_rows.back() < blue_rows.front());
    CHECK(red_rows.size() >= 2);
    CHECK(red_rows.size() <= 4);
    // Each at its height: 0.8 is a fifth of the way down the area, 0.2 four fifths.
    int top = -1, bottom = -1;
    for (int y = 0; y < p.height; ++y)
        if (p.at(left + 2, y) == plot_area) {
            if (top < 0) top = y;
            bottom = y;
        }
    REQUIRE(bottom > top + 200);
    const double red_y = (red_rows.front() + red_rows.back() + 1) / 2.0;
    const double blue_y = (blue_rows.front() + blue_rows.back() + 1) / 2.0;
    CHECK(red_y == Approx(top + 0.2 * (bottom + 1 - top)).margin(1.5));
    CHECK(blue_y == Approx(top + 0.8 * (bottom + 1 - top)).margin(1.5));

    // No red at x = 5 (NaN breaks the line from x = 4 to 6); red again at x = 7.
    CHECK(rows_with(p, column_at(5), red).empty());
    CHECK_FALSE(rows_with(p, column_at(7), red).empty());
    CHECK_FALSE(rows_with(p, column_at(5), blue).empty());

    // The 1-pixel diagonal is anti-aliased (Wu): most of its pixels are blends of green
    // and the background, and each column's coverage adds up to the line's thickness.
    std::size_t blended = 0;
    for (int y = 0; y < p.height; ++y)
        for (int x = left; x <= right; ++x) {
            const Rgb c = p.at(x, y);
            blended += c[1] > 160 && c[1] < 252 && c[0] == c[2] && c[0] < 252 && c[0] > 0;
        }
    CHECK(blended > static_cast<std::size_t>(right - left));
    for (const double x : {1.0, 3.3, 6.5, 9.1}) {
        double coverage = 0;
        for (int y = top; y <= bottom; ++y) {
            const Rgb c = p.at(column_at(x), y);
            if (c[1] > c[0] && c[0] == c[2]) coverage += (252.0 - c[0]) / 252.0;
        }
        INFO("x = " << x);
        CHECK(coverage == Approx(1.03).margin(0.08));  // 1 px / cos(slope of about 0.24)
    }
}

TEST_CASE("PngPlot clips lines to the plot area and draws text", "[io][plot]") {
    const Rgb red{255, 0, 0};
    PngPlot plot(400, 300);
    plot.x_range(0, 1).y_range(0, 1).legend(LegendPosition::none);
    // From far below the area to far above it: only the part inside is drawn.
    plot.add_line(std::vector<double>{0.5, 0.5}, std::vector<double>{-1e9, 1e9}, {.colour = "#ff0000", .width = 4, .label = ""});
    const Picture bare = [&] {
        const auto path = scratch("plot_clip.png");
        plot.save(path);
        return load(path);
    }();
    const auto [left, right] = area_columns(bare, bare.height / 2);
    const int middle = (left + right + 1) / 2;
    const std::vector<int> red_rows = rows_with(bare, middle, red);
    std::vector<int> area_rows;
    for (int y = 0; y < bare.height; ++y)
        if (bare.at(middle - 10, y) == plot_area || bare.at(middle - 10, y) == Rgb{228, 228, 228}) area_rows.push_back(y);
    REQUIRE(area_rows.size() > 150);
    CHECK(red_rows == area_rows);  // the whole height of the area, and nothing beyond it

    // Text: nothing dark above the area without a title, a title's ink with one.
    auto dark_in_top_rows = [](const Picture& p, int rows) {
        std::size_t n = 0;
        for (int y = 0; y < rows; ++y)
            for (int x = 0; x < p.width; ++x) n += p.at(x, y)[0] < 100 && p.at(x, y)[1] < 100;
        return n;
    };
    CHECK(dark_in_top_rows(bare, 15) == 0);
    plot.title("Title").y_label("value");
    const auto path = scratch("plot_title.png");
    plot.save(path);
    const Picture titled = load(path);
    CHECK(dark_in_top_rows(titled, 40) > 30);
    std::size_t label_ink = 0;  // the y label, turned, at the left edge
    for (int y = 0; y < titled.height; ++y)
        for (int x = 0; x < 26; ++x) label_ink += titled.at(x, y)[0] < 100;
    CHECK(label_ink > 20);

    CHECK_THROWS_WITH(plot.add_line(std::vector<double>{1}, std::vector<double>{1}, {.colour = "red", .label = ""}),
                      Catch::Contains("#rrggbb"));
    CHECK_THROWS_AS(PngPlot(100, 100), std::invalid_argument);
    CHECK_THROWS_AS(plot.y_range(1, 0), std::invalid_argument);
}

TEST_CASE("training_plot shows every series in its palette colour and a legend beside them", "[io][plot]") {
    std::vector<StepStats> rows;
    for (std::uint64_t i = 1; i <= 500; ++i) {
        const double t = static_cast<double>(i);
        rows.push_back({.step = i * 10,
                        .d_accuracy = 0.5 + 0.3 * std::exp(-t / 100),
                        .d_score = -1.386 + 0.5 * std::exp(-t / 150),
                        .d_loss = 1.386 - 0.5 * std::exp(-t / 150),
                        .g_loss = 0.7 + std::exp(-t / 80),
                        .d_fake = 0.5 - 0.3 * std::exp(-t / 120)});
    }
    rows[250].g_loss = std::numeric_limits<double>::quiet_NaN();
    const auto path = scratch("training.png");
    save_training_plot(path, rows, {.title = "test run", .width = 800, .height = 450});
    const Picture p = load(path);
    REQUIRE(p.width == 800);
    REQUIRE(p.height == 450);
    for (std::size_t series : {0u, 1u, 2u, 3u}) {
        const detail::raster::Rgb c = detail::raster::parse_colour(SvgPlot::palette(series));
        INFO("palette colour " << series);
        CHECK(p.count({c.r, c.g, c.b}) > 200);
    }
    // The legend sits right of the plot area: palette colours appear there too.
    const auto [left, right] = area_columns(p, p.height / 2);
    REQUIRE(right < p.width - 100);
    const detail::raster::Rgb blue = detail::raster::parse_colour(SvgPlot::palette(0));
    std::size_t beside = 0;
    for (int y = 0; y < p.height; ++y)
        for (int x = right + 2; x < p.width; ++x) beside += p.at(x, y) == Rgb{blue.r, blue.g, blue.b};
    CHECK(beside > 20);
    std::size_t ink = 0;  // title, ticks and labels
    for (int y = 0; y < p.height; ++y)
        for (int x = 0; x < p.width; ++x) ink += p.at(x, y)[0] < 80 && p.at(x, y)[1] < 80 && p.at(x, y)[2] < 80;
    CHECK(ink > 500);
}

TEST_CASE("training_plot's moving average skips non-finite values and keeps trends to the ends", "[io][plot]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> smooth = detail::moving_average({1, 2, 3, 4, 5, nan, 7}, 3);
    CHECK(smooth == std::vector<double>{1, 2, 3, 4, 4.5, 6, 7});
    CHECK(std::isnan(detail::moving_average({1, nan, nan, nan, 1}, 3)[2]));
    // A straight line stays straight, ends included (no edge bias).
    std::vector<double> line;
    for (int i = 0; i < 50; ++i) line.push_back(3.0 - 0.5 * i);
    const std::vector<double> kept = detail::moving_average(line, 9);
    for (std::size_t i = 0; i < line.size(); ++i) CHECK(kept[i] == Approx(line[i]).margin(1e-12));
    // Noise shrinks: alternating +-1 around 2 averages to about 2.
    std::vector<double> noisy;
    for (int i = 0; i < 40; ++i) noisy.push_back(2.0 + (i % 2 ? 1.0 : -1.0));
    for (const double v : detail::moving_average(noisy, 11)) CHECK(std::abs(v - 2.0) < 0.25);
}
