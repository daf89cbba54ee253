// The one source of randomness in xgan: a seeded engine with portable distributions.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>

namespace xgan {

// Rng wraps std::mt19937_64, whose output sequence the C++ standard fixes, and
// draws uniform and normal numbers with xgan's own formulas rather than the
// standard library's distributions (which differ between libstdc++ and libc++).
// So the same seed gives the same numbers with any compiler and library.
class Rng {
public:
    using engine_type = std::mt19937_64;
    static constexpr std::uint64_t default_seed = 5489u;

    explicit Rng(std::uint64_t seed = default_seed) : engine_(seed) {}

    // Uniform on [0, 1), 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    // Uniform on [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    // Standard normal, one Box-Muller draw (the sine branch is discarded so that
    // Rng carries no state beyond the engine).
    double normal() {
        const auto [a, b] = normal_pair();
        (void)b;
        return a;
    }

    // Fills `out` with N(mean, stddev^2) values, using both Box-Muller outputs.
    template <class T>
    void fill_normal(std::span<T> out, double mean = 0.0, double stddev = 1.0) {
        std::size_t i = 0;
        for (; i + 1 < out.size(); i += 2) {
            const auto [a, b] = normal_pair();
            out[i] = static_cast<T>(mean + stddev * a);
            out[i + 1] = static_cast<T>(mean + stddev * b);
        }
        if (i < out.size()) out[i] = static_cast<T>(mean + stddev * normal());
    }

    // Fills `out` with values uniform on [low, high).
    template <class T>
    void fill_uniform(std::span<T> out, double low, double high) {
        for (auto& value : out) value = static_cast<T>(uniform(low, high));
    }

    // A uniformly chosen integer in [0, n), without modulo bias.
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t limit = engine_type::max() - engine_type::max() % n;
        std::uint64_t draw = engine_();
        while (draw >= limit) draw = engine_();
        return draw % n;
    }

    engine_type& engine() { return engine_; }
    const engine_type& engine() const { return engine_; }

    friend bool operator==(const Rng&, const Rng&) = default;

private:
    struct pair {
        double first;
        double second;
    };

    pair normal_pair() {
        // 1 - uniform() lies in (0, 1], so the logarithm is finite.
        const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
        const double angle = 2.0 * std::numbers::pi * uniform();
        return {radius * std::cos(angle), radius * std::sin(angle)};
    }

    engine_type engine_;
};

}  // namespace xgan
