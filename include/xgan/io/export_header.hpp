// xgan::export_header(network, path, options): writes a trained network (a generator, as a
// rule) as one C++ header that needs nothing but the standard library (C++17): its
// parameters as constexpr arrays and a forward function in inference mode (BatchNorm with
// its running statistics, Dropout the identity), sizes in the types:
//
//   #include "painting_generator.hpp"
//   painting::output_type art = painting::generate(painting::input_type{...});
//
// Each layer writes its own inference code through a member
//   template <class Writer> void export_code(Writer& out, std::span<const T> parameters,
//                                            std::span<const T> buffers) const
// (docs/design/layer-concept.md), so a new layer stays one new header; Writer is the
// export_writer below. See docs/reference/io-export-header.md.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <fstream>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <xgan/config.hpp>
#include <xgan/core/layer.hpp>
#include <xgan/core/sequential.hpp>

namespace xgan {

// The scalar type of the exported code: the network's own (float for Sequential), or the
// other one (a float network's parameters are exact in double; a double network's are
// rounded to the nearest float).
enum class export_scalar { network, float32, float64 };

// How parameters are spelled: C++17 hexadecimal floating literals (0x1.8p-3f, exact and
// unambiguous) or the shortest decimal that reads back to the same value (0.1875f). Both
// round-trip bit for bit.
enum class export_literals { hexadecimal, decimal };

struct export_options {
    std::string name = "generate";        // the forward function
    std::string namespace_name = "generated";  // may be nested: "game::art"
    export_scalar scalar = export_scalar::network;
    export_literals literals = export_literals::hexadecimal;
};

// One argument of export_writer::code: a number or a piece of text.
struct export_arg {
    std::string text;
    export_arg(std::string value) : text(std::move(value)) {}
    export_arg(const char* value) : text(value) {}
    template <std::integral I>
    export_arg(I value) : text(std::to_string(value)) {}
};

// What a layer's export_code writes through. In the code it emits, `x` is the layer's
// input and `y` its output (const scalar* and scalar*, one sample each, NCHW), `scalar` the
// exported scalar type; <array>, <cmath> and <cstddef> are included.
class export_writer {
public:
    // The exported scalar's name: "float" or "double".
    const std::string& scalar() const { return scalar_; }

    // Emits values as a constexpr array of scalars at namespace scope and returns the name
    // the code uses for it ("parameters::layer3_weight").
    template <std::floating_point U>
    std::string constant(std::string_view name, std::span<const U> values) {
        return constant_in_order(name, values, [](std::size_t i) { return i; });
    }

    // The same for a matrix {rows, cols} given row by row, written column by column (its
    // transpose, {cols, rows}): Dense's weight as its code reads it.
    template <std::floating_point U>
    std::string constant_transposed(std::string_view name, std::span<const U> values, std::size_t rows,
                                    std::size_t cols) {
        if (rows * cols != values.size())
            XGAN_THROW(std::logic_error, "xgan::export_writer::constant_transposed: ", rows, " x ", cols,
                       " is not the ", values.size(), " values given (layer ", layer_, ")");
        return constant_in_order(name, values, [rows, cols](std::size_t i) { return (i % rows) * cols + i / rows; });
    }
    template <std::floating_point U>
    std::string constant(std::string_view name, std::span<U> values) {
        return constant(name, std::span<const U>(values));
    }

    // A value as a literal of the exported scalar, exact (for a double value exported as
    // float: rounded to the nearest float first).
    template <std::floating_point U>
    std::string literal(U value) const {
        if (!std::isfinite(value))
            XGAN_THROW(std::invalid_argument, "xgan::export_header: layer ", layer_, " holds a non-finite value (",
                       value, "); a network with NaN or infinite parameters cannot be exported");
        if (scalar_ == "float") return spell(static_cast<float>(value)) + "f";
        return spell(static_cast<double>(value));
    }

    // Appends code to the layer's block of the forward function; each $name in `text` is
    // replaced by its argument (names are letters, digits and _; the longest match wins).
    void code(std::string_view text, std::initializer_list<std::pair<std::string_view, export_arg>> args = {}) {
        std::string out;
        for (std::size_t i = 0; i < text.size();) {
            if (text[i] != '$') {
                out += text[i++];
                continue;
            }
            std::size_t end = i + 1;
            while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
            const std::string_view key = text.substr(i + 1, end - i - 1);
            const auto found = std::find_if(args.begin(), args.end(), [&](const auto& a) { return a.first == key; });
            if (found == args.end())
                XGAN_THROW(std::logic_error, "xgan::export_writer::code: $", std::string(key),
                           " has no argument (layer ", layer_, ")");
            out += found->second.text;
            i = end;
        }
        // Indented into the layer's block.
        std::size_t start = 0;
        while (start < out.size()) {
            std::size_t stop = out.find('\n', start);
            if (stop == std::string::npos) stop = out.size();
            if (stop > start) body_ += "        " + out.substr(start, stop - start);
            body_ += '\n';
            start = stop + 1;
        }
    }

    // Used by export_header: the layer being written, and what has been written.
    explicit export_writer(std::string scalar, export_literals literals)
        : scalar_(std::move(scalar)), literals_(literals) {}
    void begin_layer(std::size_t index) { layer_ = index; }
    const std::string& constants() const { return constants_; }
    std::string take_body() { return std::exchange(body_, {}); }

private:
    // Writes values[at(0)], values[at(1)], ...; names a non-finite value by its index in `values`.
    template <std::floating_point U, class At>
    std::string constant_in_order(std::string_view name, std::span<const U> values, At at) {
        std::string id = "layer" + std::to_string(layer_) + "_" + std::string(name);
        constants_ += "inline constexpr scalar " + id + "[" + std::to_string(values.size()) + "] = {";
        for (std::size_t i = 0; i < values.size(); ++i) {
            const std::size_t from = at(i);
            if (!std::isfinite(values[from]))
                XGAN_THROW(std::invalid_argument, "xgan::export_header: ", layer_, ".", std::string(name), "[", from,
                           "] is ", values[from], "; a network with NaN or infinite values cannot be exported");
            constants_ += i % 8 == 0 ? "\n    " : " ";
            constants_ += literal(values[from]);
            constants_ += ',';
        }
        constants_ += "\n};\n";
        return "parameters::" + id;
    }

    template <class F>
    std::string spell(F value) const {
        std::array<char, 64> buffer{};
        const bool negative = std::signbit(value);
        const F magnitude = negative ? -value : value;
        const auto result = literals_ == export_literals::hexadecimal
                                ? std::to_chars(buffer.data(), buffer.data() + buffer.size(), magnitude,
                                                std::chars_format::hex)
                                : std::to_chars(buffer.data(), buffer.data() + buffer.size(), magnitude);
        std::string digits(buffer.data(), result.ptr);
        if (literals_ == export_literals::hexadecimal) {
            digits = "0x" + digits;
        } else if (digits.find_first_of(".e") == std::string::npos) {
            digits += ".0";  // "3" would be an int, "3f" no literal at all
        }
        return negative ? "-" + digits : digits;
    }

    std::string scalar_;
    export_literals literals_;
    std::size_t layer_ = 0;
    std::string constants_;
    std::string body_;
};

namespace detail {

template <class L>
concept exportable_layer =
    requires(const L& layer, export_writer& out, std::span<const typename L::value_type> values) {
        layer.export_code(out, values, values);
    };

template <class Position, class L>
struct check_exportable {
    static_assert(exportable_layer<L>,
                  "xgan::export_header: every layer must write its own inference code, a member "
                  "template <class Writer> void export_code(Writer&, std::span<const T> parameters, "
                  "std::span<const T> buffers) const (docs/design/layer-concept.md); the layer at this layer_index "
                  "has none");
    static constexpr bool value = exportable_layer<L>;
};

template <class N>
struct is_sequential_to_export : std::false_type {};
template <class T, class... Specs>
struct is_sequential_to_export<BasicSequential<T, Specs...>> : std::true_type {};

inline bool is_identifier(std::string_view s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The C++ keywords a name of the export may not be (those a user might plausibly pick).
inline bool is_keyword(std::string_view s) {
    static constexpr std::array<std::string_view, 40> words{
        "auto", "bool", "break", "case", "char", "class", "const", "constexpr", "continue", "default",
        "delete", "do", "double", "else", "enum", "float", "for", "if", "inline", "int",
        "long", "namespace", "new", "operator", "private", "public", "return", "short", "signed", "sizeof",
        "static", "struct", "switch", "template", "this", "typedef", "union", "unsigned", "void", "while"};
    return std::find(words.begin(), words.end(), s) != words.end();
}

inline void check_export_names(const export_options& options) {
    if (!is_identifier(options.name) || is_keyword(options.name))
        XGAN_THROW(std::invalid_argument, "xgan::export_header: the function name \"", options.name,
                   "\" is not a C++ identifier (letters, digits and _, not starting with a digit, not a keyword)");
    std::string_view rest = options.namespace_name;
    for (;;) {
        const std::size_t cut = rest.find("::");
        const std::string_view part = rest.substr(0, cut);
        if (!is_identifier(part) || is_keyword(part))
            XGAN_THROW(std::invalid_argument, "xgan::export_header: the namespace \"", options.namespace_name,
                       "\" is not a C++ namespace name (identifiers joined by ::, e.g. \"game::art\")");
        if (cut == std::string_view::npos) break;
        rest = rest.substr(cut + 2);
    }
}

}  // namespace detail

// The text of the header export_header writes (for tests, or to write it elsewhere).
template <class Net>
std::string export_header_text(const Net& network, const export_options& options = {}) {
    static_assert(detail::is_sequential_to_export<Net>::value,
                  "xgan::export_header: the first argument must be a network, an xgan::Sequential<...> (a "
                  "trainer holds two: pass trainer.generator())");
    if constexpr (detail::is_sequential_to_export<Net>::value) {
        using T = typename Net::value_type;
        constexpr std::size_t count = Net::layer_count;
        const bool exportable = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (detail::check_exportable<detail::layer_index<I>, typename Net::template layer_type<I>>::value &&
                    ...);
        }(std::make_index_sequence<count>{});
        (void)exportable;
        detail::check_export_names(options);

        const std::string scalar = options.scalar == export_scalar::float32   ? "float"
                                   : options.scalar == export_scalar::float64 ? "double"
                                   : std::is_same_v<T, float>                 ? "float"
                                                                              : "double";
        export_writer writer(scalar, options.literals);

        // Layer i reads from the input or buffer (i - 1) % 2 and writes to buffer i % 2, the
        // last layer to the output.
        std::size_t largest = 1;
        for (std::size_t i = 1; i < count; ++i) largest = std::max(largest, Net::widths[i]);
        std::string body;
        std::string architecture;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (
                [&] {
                    using L = typename Net::template layer_type<I>;
                    if constexpr (detail::exportable_layer<L>) {
                        writer.begin_layer(I);
                        network.template layer<I>().export_code(writer, std::span<const T>(network.template parameters_of<I>()),
                                                                std::span<const T>(network.template buffers_of<I>()));
                        const std::string from = I == 0 ? "input.data()" : "work.values[" + std::to_string((I + 1) % 2) + "].data()";
                        const std::string to = I + 1 == count ? "output.data()" : "work.values[" + std::to_string(I % 2) + "].data()";
                        body += "    {  // " + std::to_string(I) + ": " + layer_name<L>() + "\n";
                        body += "        const scalar* x = " + from + ";\n";
                        body += "        scalar* y = " + to + ";\n";
                        body += writer.take_body();
                        body += "    }\n";
                        architecture += "//   " + std::to_string(I) + ": " + layer_name<L>() + "\n";
                    }
                }(),
                ...);
        }(std::make_index_sequence<count>{});

        const std::string in = std::to_string(Net::input_size), out = std::to_string(Net::output_size);
        std::string text;
        text += "// Generated by xgan::export_header: a network in inference mode, parameters included.\n";
        text += "// Needs only the C++17 standard library. Do not edit; export the network again instead.\n";
        constexpr bool images = Net::input_shape::rank == 3 || Net::output_shape::rank == 3;
        text += "// Input " + Net::input_shape::text() + ", output " + Net::output_shape::text() +
                (images ? " (images NCHW), " : ", ") +
                std::to_string(Net::parameter_count) + " parameters; layers:\n" + architecture;
        text += "#pragma once\n\n#include <array>\n#include <cmath>\n#include <cstddef>\n\n";
        text += "namespace " + options.namespace_name + " {\n\n";
        text += "using scalar = " + scalar + ";\n";
        text += "inline constexpr std::size_t input_size = " + in + ";\n";
        text += "inline constexpr std::size_t output_size = " + out + ";\n";
        text += "using input_type = std::array<scalar, " + in + ">;\n";
        text += "using output_type = std::array<scalar, " + out + ">;\n\n";
        text += "namespace parameters {\n" + writer.constants() + "}  // namespace parameters\n\n";
        text += "// The values between layers (" + std::to_string(2 * largest * (scalar == "float" ? 4 : 8)) +
                " bytes): keep one to call " + options.name + " without them on the stack.\n";
        text += "struct workspace {\n    std::array<std::array<scalar, " + std::to_string(largest) +
                ">, 2> values;\n};\n\n";
        text += "inline void " + options.name +
                "(const input_type& input, output_type& output, workspace& work) noexcept {\n";
        text += (count == 1 ? "    (void)work;  // one layer: nothing between layers\n" : "") + body + "}\n\n";
        text += "inline output_type " + options.name + "(const input_type& input) noexcept {\n";
        text += "    workspace work;\n    output_type output;\n    " + options.name +
                "(input, output, work);\n    return output;\n}\n\n";
        text += "}  // namespace " + options.namespace_name + "\n";
        return text;
    } else {
        return {};
    }
}

// Writes export_header_text(network, options) to `path`.
template <class Net>
void export_header(const Net& network, const std::string& path, const export_options& options = {}) {
    const std::string text = export_header_text(network, options);
    std::ofstream file(path, std::ios::binary);
    if (!file) XGAN_THROW(std::runtime_error, "xgan::export_header: cannot open ", path, " for writing");
    file << text;
    file.close();
    if (!file) XGAN_THROW(std::runtime_error, "xgan::export_header: could not write ", path);
}

}  // namespace xgan
