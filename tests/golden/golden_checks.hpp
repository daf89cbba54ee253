// Catch2 checks shared by the tests that compare networks with tests/golden/data/penalty.txt
// (tests/golden/test_golden_penalty.cpp, tests/conditional/test_conditional_conv.cpp):
// loading a case's parameters by state_dict name, and comparing blocks element by element.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "golden_data.hpp"

namespace golden {

// Every element of `got` within rtol of `expected`, relative to max(|expected|, the
// block's root mean square); a failure names the worst element. Set XGAN_GOLDEN_REPORT=1
// to print the worst error of every comparison.
template <class T>
void check_close(const std::string& what, std::span<const double> expected, std::span<const T> got, double rtol) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    double squares = 0;
    for (double e : expected) squares += e * e;
    const double rms = std::sqrt(squares / static_cast<double>(expected.size()));
    double worst = 0;
    std::size_t worst_index = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double denominator = std::max(std::abs(expected[i]), rms);
        double e = denominator > 0 ? std::abs(static_cast<double>(got[i]) - expected[i]) / denominator
                                   : std::abs(static_cast<double>(got[i]));
        if (std::isnan(e)) e = INFINITY;
        if (e > worst) {
            worst = e;
            worst_index = i;
        }
    }
    if (std::getenv("XGAN_GOLDEN_REPORT") != nullptr)
        std::printf("%-40s worst error %.3g (index %zu)\n", what.c_str(), worst, worst_index);
    std::ostringstream message;
    message.precision(17);
    message << what << ": worst error " << worst << " at index " << worst_index << " (expected "
            << expected[worst_index] << ", got " << static_cast<double>(got[worst_index]) << "), tolerance " << rtol;
    INFO(message.str());
    CHECK(worst <= rtol);
}

// Loads the blocks <name>.param.<state_dict name> into net's parameters, after checking
// <name>.counts (how many named blocks, how many values) and each <name>.shape.<name>.
template <class Net>
void load_parameters(const data_file& file, const std::string& name, Net& net) {
    using T = typename Net::value_type;
    auto named = net.named_parameters();
    const block& counts = file.get(name + ".counts", 1, 2);
    REQUIRE(static_cast<double>(named.size()) == counts.values[0]);
    REQUIRE(static_cast<double>(Net::parameter_count) == counts.values[1]);
    for (auto& p : named) {
        INFO("parameter " << p.name);
        const block& shape = file.get(name + ".shape." + p.name, 1, p.shape.size());
        for (std::size_t d = 0; d < p.shape.size(); ++d) REQUIRE(static_cast<double>(p.shape[d]) == shape.values[d]);
        const block& values = file.get(name + ".param." + p.name);
        REQUIRE(values.values.size() == p.values.size());
        std::transform(values.values.begin(), values.values.end(), p.values.begin(),
                       [](double v) { return static_cast<T>(v); });
    }
}

// A penalty's value and its gradient with respect to each of net's parameters against
// <name>.<penalty>.value and <name>.<penalty>.grad.<state_dict name>.
template <class Net>
void check_penalty(const data_file& file, const std::string& name, const std::string& penalty, const Net& net,
                   typename Net::value_type value, const std::vector<typename Net::value_type>& gradient,
                   double rtol) {
    using T = typename Net::value_type;
    check_close(name + "." + penalty + ".value", file.get(name + "." + penalty + ".value", 1, 1).all(),
                std::span<const T>(&value, 1), rtol);
    for (const auto& p : net.named_parameters())
        check_close(name + "." + penalty + ".grad." + p.name, file.get(name + "." + penalty + ".grad." + p.name).all(),
                    std::span<const T>(gradient.data() + (p.values.data() - net.parameters().data()), p.values.size()),
                    rtol);
}

}  // namespace golden
