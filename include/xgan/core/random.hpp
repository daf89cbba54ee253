// The one source of randomness in xgan: a seeded engine with portable distributions.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <span>
#include <stdexcept>
#include <type_traits>

#include <xgan/config.hpp>
#include <xgan/core/mt19937_64.hpp>
#include <xgan/detail/normal_kernel.hpp>

namespace xgan {

namespace detail::bernoulli {

// out[j] = (half j of the draws) < threshold ? hit : miss for j < count, where half
// 2i is the low 32 bits of draws[i] and half 2i + 1 its high 32 bits (threshold < 2^32).
// On little-endian machines the halves are the draws' 32-bit words in memory order, so
// four of them are compared per 16-byte vector and the outcomes selected bit by bit.
template <class T>
inline void select(const std::uint64_t* XGAN_RESTRICT draws, std::size_t count, std::uint32_t threshold, T hit,
                   T miss, T* XGAN_RESTRICT out) {
    std::size_t j = 0;
#if XGAN_MT_VECTOR
    if constexpr (std::endian::native == std::endian::little && std::is_trivially_copyable_v<T> &&
                  (sizeof(T) == 4 || sizeof(T) == 8)) {
        typedef std::uint32_t uint32x4 __attribute__((vector_size(16)));
        const uint32x4 limit = uint32x4{} + threshold;
        const unsigned char* halves = reinterpret_cast<const unsigned char*>(draws);
        if constexpr (sizeof(T) == 4) {
            const uint32x4 hits = uint32x4{} + std::bit_cast<std::uint32_t>(hit);
            const uint32x4 misses = uint32x4{} + std::bit_cast<std::uint32_t>(miss);
            for (; j + 4 <= count; j += 4) {
                uint32x4 w;
                std::memcpy(&w, halves + 4 * j, sizeof w);
                const uint32x4 taken = (uint32x4)(w < limit);
                const uint32x4 result = (taken & hits) | (~taken & misses);
                std::memcpy(out + j, &result, sizeof result);
            }
        } else {
            typedef std::uint64_t uint64x2 __attribute__((vector_size(16)));
            const uint64x2 hits = uint64x2{} + std::bit_cast<std::uint64_t>(hit);
            const uint64x2 misses = uint64x2{} + std::bit_cast<std::uint64_t>(miss);
            for (; j + 4 <= count; j += 4) {
                uint32x4 w;
                std::memcpy(&w, halves + 4 * j, sizeof w);
                const uint32x4 taken = (uint32x4)(w < limit);
                // Each 32-bit lane's mask widened to the 64-bit lane of its element.
                const uint64x2 low = (uint64x2)__builtin_shufflevector(taken, taken, 0, 0, 1, 1);
                const uint64x2 high = (uint64x2)__builtin_shufflevector(taken, taken, 2, 2, 3, 3);
                const uint64x2 first = (low & hits) | (~low & misses);
                const uint64x2 second = (high & hits) | (~high & misses);
                std::memcpy(out + j, &first, sizeof first);
                std::memcpy(out + j + 2, &second, sizeof second);
            }
        }
    }
#endif
    // A table lookup rather than a conditional: the outcomes are random, so a branch
    // would be mispredicted every few elements.
    const T outcome[2] = {miss, hit};
    for (; j < count; ++j)
        out[j] = outcome[static_cast<std::uint32_t>(draws[j / 2] >> (32 * (j % 2))) < threshold];
}

}  // namespace detail::bernoulli

// Rng wraps xgan::mt19937_64 (core/mt19937_64.hpp), which gives the output sequence the
// C++ standard fixes for std::mt19937_64 (and reads and writes the same text), only
// faster, and draws uniform and normal numbers with xgan's own formulas rather than the
// standard library's distributions (which differ between libstdc++ and libc++).
// So the same seed gives the same numbers with any compiler and library.
//
// Normal numbers come from the Box-Muller transform computed by
// detail/normal_kernel.hpp (fdlibm's log, sin and cos polynomials, only IEEE basic
// operations, vectorised), so they too are a fixed function of the seed, identical
// across compilers, libraries and CPUs (barring FMA contraction, see that header).
// Each pair of normals takes:
//   - double outputs (normal(), fill_normal<double>): two engine draws, 53 bits each,
//     u = 1 - 53-bit uniform in (0, 1] for the radius and a 53-bit uniform for the angle;
//   - float outputs (fill_normal<float>): one engine draw, its high 32 bits h giving
//     u = 1 - h 2^-32 in (0, 1] and its low 32 bits the angle, transformed in float.
//     Plenty for a float (it caps |x| at sqrt(2 ln 2^32) = 6.66, which N(0, 1) exceeds
//     with probability 3e-11), and half the engine work, which dominates the cost.
class Rng {
public:
    using engine_type = xgan::mt19937_64;
    static constexpr std::uint64_t default_seed = 5489u;

    explicit Rng(std::uint64_t seed = default_seed) : engine_(seed) {}

    // Uniform on [0, 1), 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    // Uniform on [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }

    // Standard normal, one Box-Muller draw (two engine draws; the sine branch is
    // discarded so that Rng carries no state beyond the engine).
    double normal() {
        const double u = 1.0 - uniform();  // in (0, 1], so the logarithm is finite
        const double a = uniform();
        double x, y;
        detail::normal::box_muller(u, a, x, y);
        return x;
    }

    // Fills `out` with N(mean, stddev^2) values, using both Box-Muller outputs of each
    // pair (out[2i] the cosine one, out[2i + 1] the sine one); an odd last element takes
    // the cosine output of one more pair. Pairs are drawn as the class comment says:
    // one engine draw per pair when T is float, two otherwise.
    template <class T>
    void fill_normal(std::span<T> out, double mean = 0.0, double stddev = 1.0) {
        // Pairs are drawn, transformed (vectorised) and stored a chunk at a time.
        constexpr std::size_t chunk = 64;
        using S = std::conditional_t<std::is_same_v<T, float>, float, double>;
        S x[chunk], y[chunk];
        [[maybe_unused]] S u[chunk], a[chunk];              // double: the transform's inputs
        [[maybe_unused]] std::uint64_t draws[chunk];        // float: the engine draws
        const std::size_t n = out.size();
        std::size_t i = 0;
        while (i < n) {
            const std::size_t remaining_pairs = (n - i + 1) / 2;
            const std::size_t pairs = remaining_pairs < chunk ? remaining_pairs : chunk;
            if constexpr (std::is_same_v<S, float>) {
                engine_.generate(draws, pairs);
                detail::normal::normals_from_draws(pairs, draws, x, y);
            } else {
                for (std::size_t p = 0; p < pairs; ++p) {
                    u[p] = 1.0 - uniform();
                    a[p] = uniform();
                }
                detail::normal::box_muller(pairs, u, a, x, y);
            }
            if (mean == 0.0 && !std::signbit(mean) && stddev == 1.0 && std::is_same_v<T, S> && i + 2 * pairs <= n) {
                // The common case, without the round trip through double: x + 0 is exactly
                // what T(0.0 + 1.0 * double(x)) gives (including -0 becoming +0).
                for (std::size_t p = 0; p < pairs; ++p) {
                    out[i + 2 * p] = static_cast<T>(x[p] + S(0));
                    out[i + 2 * p + 1] = static_cast<T>(y[p] + S(0));
                }
                i += 2 * pairs;
                continue;
            }
            for (std::size_t p = 0; p < pairs; ++p, i += 2) {
                out[i] = static_cast<T>(mean + stddev * static_cast<double>(x[p]));
                if (i + 1 < n) out[i + 1] = static_cast<T>(mean + stddev * static_cast<double>(y[p]));
            }
        }
    }

    // Fills `out` with Bernoulli draws: `hit` with probability threshold / 2^32,
    // `miss` otherwise (threshold <= 2^32). Each engine draw serves two elements, the
    // low 32 bits out[2i] and the high 32 bits out[2i + 1]; an odd last element takes
    // the low half of one more draw. bernoulli_threshold(n, d) gives the threshold
    // for probability n / d.
    template <class T>
    void fill_bernoulli(std::span<T> out, std::uint64_t threshold, T hit, T miss) {
        const std::size_t n = out.size();
        T* XGAN_RESTRICT o = out.data();
        if (threshold > 0xFFFFFFFFu) {
            // Every 32-bit half is below the threshold; the draws are taken all the same.
            engine_.discard((n + 1) / 2);
            std::fill(o, o + n, hit);
            return;
        }
        // Draws are generated a block at a time (twisted and tempered on vectors) and
        // compared a vector at a time (detail::bernoulli::select).
        constexpr std::size_t chunk = 256;  // draws per block, 512 values
        std::uint64_t draws[chunk];
        for (std::size_t i = 0; i < n;) {
            const std::size_t values = n - i < 2 * chunk ? n - i : 2 * chunk;
            engine_.generate(draws, (values + 1) / 2);  // odd only in the last block
            detail::bernoulli::select(draws, values, static_cast<std::uint32_t>(threshold), hit, miss, o + i);
            i += values;
        }
    }

    // ceil(numerator 2^32 / denominator): the fill_bernoulli threshold whose
    // probability is numerator / denominator rounded up to a multiple of 2^-32.
    // Needs 0 <= numerator <= denominator < 2^47.
    static constexpr std::uint64_t bernoulli_threshold(std::uint64_t numerator, std::uint64_t denominator) {
        if (denominator == 0 || numerator > denominator || denominator >= (std::uint64_t{1} << 47))
            throw std::invalid_argument("xgan::Rng::bernoulli_threshold: needs 0 <= numerator <= denominator < 2^47");
        // Long division in two 16-bit steps, each remainder < denominator < 2^47.
        std::uint64_t quotient = numerator / denominator, remainder = numerator % denominator;
        for (int half = 0; half < 2; ++half) {
            remainder <<= 16;
            quotient = (quotient << 16) + remainder / denominator;
            remainder %= denominator;
        }
        return quotient + (remainder != 0 ? 1 : 0);
    }

    // Fills `out` with values uniform on [low, high).
    template <class T>
    void fill_uniform(std::span<T> out, double low, double high) {
        for (auto& value : out) value = static_cast<T>(uniform(low, high));
    }

    // A uniformly chosen integer in [0, n), without modulo bias.
    std::uint64_t below(std::uint64_t n) {
        if (n == 0) throw std::invalid_argument("xgan::Rng::below: n must be positive");
        const std::uint64_t limit = engine_type::max() - engine_type::max() % n;
        std::uint64_t draw = engine_();
        while (draw >= limit) draw = engine_();
        return draw % n;
    }

    engine_type& engine() { return engine_; }
    const engine_type& engine() const { return engine_; }

    friend bool operator==(const Rng&, const Rng&) = default;

private:
    engine_type engine_;
};

}  // namespace xgan
