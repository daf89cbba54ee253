// io/: the painting data and its measures, and the SVG plot writer.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <xgan/io/paintings.hpp>
#include <xgan/io/svg_plot.hpp>

using namespace xgan;

TEST_CASE("artist_works draws curves inside the band with a ~ U(1, 2)", "[io][paintings]") {
    Rng rng(1);
    matrix<float> real({2000, 15});
    paintings::artist_works(real, rng);
    CHECK(paintings::share_inside_band(real, 1e-5) == 1.0);
    double lo = 3, hi = 0, sum = 0;
    for (std::size_t r = 0; r < real.shape()[0]; ++r) {
        const double a = paintings::fitted_a(real, r);
        lo = std::min(lo, a), hi = std::max(hi, a), sum += a;
        // A curve a x^2 + a - 1 is fitted exactly (up to float rounding).
        CHECK(real(r, 0) == Approx(2 * a - 1).epsilon(1e-5));
    }
    CHECK(lo >= 1.0);
    CHECK(hi < 2.0);
    CHECK(sum / 2000 == Approx(1.5).margin(0.02));
}

TEST_CASE("share_inside_band counts a curve outside anywhere as outside", "[io][paintings]") {
    matrix<double> curves({3, 15});
    for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t j = 0; j < 15; ++j) {
            const double x = paintings::paint_point(j, 15);
            curves(r, j) = 1.5 * x * x + 0.5;
        }
    curves(1, 14) = 3.2;   // above 2x^2 + 1 = 3 at x = 1, beyond a margin of 0.1
    curves(2, 7) = -0.05;  // below x^2 = 0 at x = 0, within the margin
    CHECK(paintings::share_inside_band(curves, 0.1) == Approx(2.0 / 3.0));
    CHECK(paintings::share_inside_band(curves, 0.0) == Approx(1.0 / 3.0));
}

TEST_CASE("SvgPlot renders lines and saves atomically", "[io][svg]") {
    SvgPlot plot;
    plot.title("Generated <paintings>").x_label("x").y_label("y");
    plot.add_line(std::vector<double>{-1, 0, 1}, std::vector<double>{1, 0, 1}, {.dashed = true, .label = "x^2"});
    const std::string svg = plot.render();
    CHECK_THAT(svg, Catch::StartsWith("<?xml") || Catch::StartsWith("<svg"));
    CHECK_THAT(svg, Catch::Contains("Generated &lt;paintings&gt;"));  // text is escaped
    CHECK_THAT(svg, Catch::Contains("x^2"));
    CHECK_THAT(svg, Catch::EndsWith("</svg>\n"));

    const auto dir = std::filesystem::temp_directory_path() / "xgan_test_svg";
    std::filesystem::create_directories(dir);
    const auto path = dir / "plot.svg";
    plot.save(path);
    std::ifstream in(path);
    std::stringstream saved;
    saved << in.rdbuf();
    CHECK(saved.str() == svg);
    CHECK_FALSE(std::filesystem::exists(dir / "plot.svg.tmp"));
    std::filesystem::remove_all(dir);

    CHECK_THROWS_WITH(plot.save(dir / "missing" / "plot.svg"), Catch::Contains("missing/plot.svg"));
}
