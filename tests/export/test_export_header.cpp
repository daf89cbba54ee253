// export_header's checks and literals; the exported code itself is compiled and run by
// the "export: ... alone with ..." tests (CMakeLists.txt).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <xgan/io/export_header.hpp>
#include <xgan/xgan.hpp>

namespace {
using Painting = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;

template <class T>
T parse(std::string literal) {
    if (!literal.empty() && literal.back() == 'f') literal.pop_back();
    return static_cast<T>(std::strtod(literal.c_str(), nullptr));
}
}  // namespace

TEMPLATE_TEST_CASE("export_writer: literals read back bit for bit", "[export]", float, double) {
    const std::vector<TestType> values{TestType(0.1),
                                       TestType(-0.0),
                                       TestType(1) / TestType(3),
                                       std::numeric_limits<TestType>::denorm_min(),
                                       -std::numeric_limits<TestType>::min(),
                                       std::numeric_limits<TestType>::max(),
                                       TestType(3),
                                       TestType(-1e-30)};
    for (const auto format : {xgan::export_literals::hexadecimal, xgan::export_literals::decimal}) {
        xgan::export_writer writer(std::is_same_v<TestType, float> ? "float" : "double", format);
        for (const TestType v : values) {
            const std::string text = writer.literal(v);
            INFO(text);
            const TestType back = parse<TestType>(text);
            CHECK(std::memcmp(&back, &v, sizeof v) == 0);
            CHECK((text.back() == 'f') == std::is_same_v<TestType, float>);
            CHECK((text.find("0x") != std::string::npos) == (format == xgan::export_literals::hexadecimal));
        }
    }
}

TEST_CASE("export_writer: a double exported as float is rounded to the nearest float", "[export]") {
    xgan::export_writer writer("float", xgan::export_literals::hexadecimal);
    CHECK(parse<float>(writer.literal(0.1)) == 0.1f);
}

TEST_CASE("export_header_text: sizes in the types, the layers listed", "[export]") {
    const Painting g(7);
    xgan::export_options options;
    options.name = "paint";
    options.namespace_name = "game::art";
    const std::string text = xgan::export_header_text(g, options);
    CHECK(text.find("namespace game::art {") != std::string::npos);
    CHECK(text.find("using input_type = std::array<scalar, 5>;") != std::string::npos);
    CHECK(text.find("using output_type = std::array<scalar, 15>;") != std::string::npos);
    CHECK(text.find("using scalar = float;") != std::string::npos);
    CHECK(text.find("inline output_type paint(const input_type& input) noexcept") != std::string::npos);
    CHECK(text.find("//   1: ReLU") != std::string::npos);
    CHECK(text.find("#include <xgan") == std::string::npos);
    options.scalar = xgan::export_scalar::float64;
    CHECK(xgan::export_header_text(g, options).find("using scalar = double;") != std::string::npos);
}

TEST_CASE("export_header: names that are not C++ are refused", "[export]") {
    const Painting g(7);
    for (const char* name : {"", "2paint", "paint-it", "for", "a b"}) {
        xgan::export_options options;
        options.name = name;
        CHECK_THROWS_WITH(xgan::export_header_text(g, options), Catch::Contains("is not a C++ identifier"));
    }
    for (const char* space : {"", "game::", "::game", "game:art", "game::2d", "namespace"}) {
        xgan::export_options options;
        options.namespace_name = space;
        CHECK_THROWS_WITH(xgan::export_header_text(g, options), Catch::Contains("is not a C++ namespace name"));
    }
}

TEST_CASE("export_header: a non-finite parameter is refused", "[export]") {
    Painting g(7);
    g.parameters()[768 + 130] = std::numeric_limits<float>::quiet_NaN();  // layer 2's weight (1, 2)
    CHECK_THROWS_WITH(xgan::export_header_text(g), Catch::Contains("xgan::export_header: 2.weight[130] is nan"));
}

TEST_CASE("export_header: a file that cannot be written is an error", "[export]") {
    const Painting g(7);
    CHECK_THROWS_AS(xgan::export_header(g, "/nonexistent-folder/g.hpp"), std::runtime_error);
}
