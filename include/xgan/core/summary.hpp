// xgan::summary<Net>(): a network's layers as a table, like Keras' model.summary():
// each layer's state_dict index, name, output shape and parameter count, then the totals.
//
//   #   Layer                                Output shape    Parameters
//   -   Input                                1x28x28                  0
//   0   Conv2D(1, 64, k4, s2, p1)            64x14x14             1,088
//   ...
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <xgan/core/layer.hpp>
#include <xgan/core/sequential.hpp>

namespace xgan {

namespace detail {
// 1234567 -> "1,234,567"
inline std::string thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}
}  // namespace detail

// The table for a network type (a BasicSequential); ends with a newline.
template <class Net>
    requires requires { typename Net::template value_shape<0>; }
std::string summary() {
    struct row {
        std::string index, name, shape, parameters;
    };
    std::vector<row> rows{{"#", "Layer", "Output shape", "Parameters"},
                          {"-", "Input", Net::input_shape::text(), "0"}};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (rows.push_back({std::to_string(I), layer_name<typename Net::template layer_type<I>>(),
                         Net::template value_shape<I + 1>::text(),
                         detail::thousands(Net::template layer_type<I>::parameter_count)}),
         ...);
    }(std::make_index_sequence<Net::layer_count>{});

    std::size_t w0 = 0, w1 = 0, w2 = 0, w3 = 0;
    for (const row& r : rows) {
        w0 = std::max(w0, r.index.size());
        w1 = std::max(w1, r.name.size());
        w2 = std::max(w2, r.shape.size());
        w3 = std::max(w3, r.parameters.size());
    }
    auto pad = [](const std::string& s, std::size_t width, bool right) {
        const std::string fill(width - s.size(), ' ');
        return right ? fill + s : s + fill;
    };
    std::string out;
    const std::string rule(w0 + w1 + w2 + w3 + 6, '-');
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const row& r = rows[i];
        out += pad(r.index, w0, false) + "  " + pad(r.name, w1, false) + "  " + pad(r.shape, w2, false) + "  " +
               pad(r.parameters, w3, true) + "\n";
        if (i == 0) out += rule + "\n";
    }
    out += rule + "\n";
    out += "Parameters: " + detail::thousands(Net::parameter_count) + " (" +
           detail::thousands(Net::parameter_count * sizeof(typename Net::value_type)) + " bytes)";
    if (Net::buffer_count > 0) out += "; buffers (running statistics): " + detail::thousands(Net::buffer_count);
    return out + "\n";
}

// The same for a network object.
template <class Net>
    requires requires { typename Net::template value_shape<0>; }
std::string summary(const Net&) {
    return summary<Net>();
}

}  // namespace xgan
