// Rng::fill_normal's output against the standard normal distribution itself, not
// against another of xgan's paths: the moments, the tails, Kolmogorov-Smirnov against
// the normal CDF computed in double precision (std::erfc), and the independence of the
// two outputs of each Box-Muller pair.
//
// The bounds come from theory, for the sample size drawn; the seeds are fixed, so the
// test is deterministic. Every moment, tail fraction and correlation must lie within
// 5 standard errors of its value under N(0, 1) (a normal statistic strays that far
// with probability 5.7e-7), and the KS distance below its critical value at
// significance 1e-6. So a correct generator fails this test with a probability of a
// few in a million per seed, and the seeds used pass; the controls at the end show
// that a generator 1% too wide, or a uniform one of the same variance, fails it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/core/random.hpp>

using namespace xgan;

namespace {

// 2^23 values (8.4 million) in optimised builds, 2^20 in debug ones (the clang and
// sanitizer configurations), which the bounds follow.
#ifdef NDEBUG
constexpr std::size_t sample_size = std::size_t{1} << 23;
#else
constexpr std::size_t sample_size = std::size_t{1} << 20;
#endif

constexpr double bound = 5.0;  // standard errors

// Phi(x), the standard normal CDF, in double precision.
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Each statistic as a z-score: (observed - expected under N(0, 1)) / standard error.
struct Verdict {
    double mean, variance, skewness, kurtosis;  // z-scores of the moments
    double beyond_3, beyond_4;                  // z-scores of the fractions with |x| > 3, > 4
    double pair_correlation, next_correlation;  // z-scores: out[2i] with out[2i + 1]; out[2i + 1] with out[2i + 2]
    double ks, ks_critical;                     // sup |F_n - Phi| and its critical value

    bool normal() const {
        for (const double z : {mean, variance, skewness, kurtosis, beyond_3, beyond_4, pair_correlation,
                               next_correlation})
            if (!(std::abs(z) <= bound)) return false;
        return ks <= ks_critical;
    }
};

template <class T>
Verdict judge(std::span<const T> sample) {
    const double n = static_cast<double>(sample.size());
    // Moments about the true mean 0 (a sum of 2^23 values in double loses nothing that
    // matters at these bounds).
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    double beyond_3 = 0, beyond_4 = 0;
    for (const T value : sample) {
        const double x = value, x2 = x * x;
        s1 += x;
        s2 += x2;
        s3 += x2 * x;
        s4 += x2 * x2;
        beyond_3 += std::abs(x) > 3;
        beyond_4 += std::abs(x) > 4;
    }
    const double mean = s1 / n;
    const double m2 = s2 / n - mean * mean;
    const double m3 = s3 / n - 3 * mean * s2 / n + 2 * mean * mean * mean;
    const double m4 = s4 / n - 4 * mean * s3 / n + 6 * mean * mean * s2 / n - 3 * mean * mean * mean * mean;
    Verdict v{};
    // Standard errors under N(0, 1): mean 1/sqrt(n), variance sqrt(2/n), skewness
    // sqrt(6/n), excess kurtosis sqrt(24/n) (large-n values; n is in the millions).
    v.mean = mean * std::sqrt(n);
    v.variance = (m2 - 1) / std::sqrt(2 / n);
    v.skewness = m3 / std::pow(m2, 1.5) / std::sqrt(6 / n);
    v.kurtosis = (m4 / (m2 * m2) - 3) / std::sqrt(24 / n);
    // Tail counts are binomial(n, p), p = P(|X| > t) = erfc(t / sqrt 2).
    auto tail = [n](double count, double t) {
        const double p = std::erfc(t / std::sqrt(2.0));
        return (count - n * p) / std::sqrt(n * p * (1 - p));
    };
    v.beyond_3 = tail(beyond_3, 3);
    v.beyond_4 = tail(beyond_4, 4);
    // Correlations of neighbours; each is sqrt(m) times a standard normal for m
    // independent pairs (the cosine and sine outputs of one pair, then one pair's sine
    // output with the next pair's cosine output).
    double pair = 0, next = 0;
    const std::size_t pairs = sample.size() / 2;
    for (std::size_t i = 0; i < pairs; ++i) {
        pair += double(sample[2 * i]) * double(sample[2 * i + 1]);
        if (2 * i + 2 < sample.size()) next += double(sample[2 * i + 1]) * double(sample[2 * i + 2]);
    }
    v.pair_correlation = pair / m2 / std::sqrt(double(pairs));
    v.next_correlation = next / m2 / std::sqrt(double(pairs - 1));
    // Kolmogorov-Smirnov without sorting: the empirical CDF at the edges of 2^15 bins
    // of width 2^-11 over [-8, 8), compared with Phi there. Its sup over the edges is at
    // most the sup over all x, so this never fails a sample that the exact test passes;
    // and with bins 0.0005 wide it misses at most Phi's rise over one bin (2e-4) of any
    // larger gap.
    constexpr std::size_t bins = std::size_t{1} << 15;
    std::vector<std::uint32_t> histogram(bins + 2, 0);  // [0]: below -8; [bins + 1]: 8 and above
    for (const T value : sample) {
        const double position = (double(value) + 8.0) * 2048.0;
        const std::size_t bin =
            position < 0 ? 0 : position >= double(bins) ? bins + 1 : static_cast<std::size_t>(position) + 1;
        ++histogram[bin];
    }
    double below = histogram[0];
    v.ks = 0;
    for (std::size_t edge = 0; edge <= bins; ++edge) {  // edge e is -8 + e 2^-11
        if (edge > 0) below += histogram[edge];
        const double x = -8.0 + double(edge) / 2048.0;
        v.ks = std::max(v.ks, std::abs(below / n - normal_cdf(x)));
    }
    // P(sqrt(n) D_n > c) -> 2 sum (-1)^(k-1) exp(-2 k^2 c^2) ~ 2 exp(-2 c^2) = alpha.
    const double alpha = 1e-6;
    v.ks_critical = std::sqrt(-std::log(alpha / 2) / 2) / std::sqrt(n);
    return v;
}

template <class T>
std::vector<T> draw(std::uint64_t seed, std::size_t size = sample_size) {
    std::vector<T> sample(size);
    Rng rng(seed);
    rng.fill_normal(std::span<T>(sample));
    return sample;
}

void report(const Verdict& v) {
    INFO("z-scores: mean " << v.mean << ", variance " << v.variance << ", skewness " << v.skewness << ", kurtosis "
                           << v.kurtosis << ", |x| > 3 " << v.beyond_3 << ", |x| > 4 " << v.beyond_4
                           << ", pair correlation " << v.pair_correlation << ", next correlation "
                           << v.next_correlation << "; KS " << v.ks << " (critical " << v.ks_critical << ")");
    CHECK(std::abs(v.mean) <= bound);
    CHECK(std::abs(v.variance) <= bound);
    CHECK(std::abs(v.skewness) <= bound);
    CHECK(std::abs(v.kurtosis) <= bound);
    CHECK(std::abs(v.beyond_3) <= bound);
    CHECK(std::abs(v.beyond_4) <= bound);
    CHECK(std::abs(v.pair_correlation) <= bound);
    CHECK(std::abs(v.next_correlation) <= bound);
    CHECK(v.ks <= v.ks_critical);
}

}  // namespace

TEST_CASE("fill_normal<float> (the eight-lane Box-Muller) is standard normal", "[random][normal]") {
    const std::uint64_t seed = GENERATE(1u, 2u);
    const auto sample = draw<float>(seed);
    report(judge(std::span<const float>(sample)));
}

TEST_CASE("fill_normal<double> is standard normal", "[random][normal]") {
    const auto sample = draw<double>(3);
    report(judge(std::span<const double>(sample)));
}

TEST_CASE("fill_normal<float> with a mean and a standard deviation", "[random][normal]") {
    std::vector<float> sample(sample_size);
    Rng rng(4);
    rng.fill_normal(std::span<float>(sample), -3.0, 2.5);
    for (float& x : sample) x = static_cast<float>((double(x) + 3.0) / 2.5);
    report(judge(std::span<const float>(sample)));
}

TEST_CASE("the normality checks fail a generator 1% too wide, and a uniform one", "[random][normal]") {
    // The controls: if these passed, the checks above could not tell.
    auto sample = draw<float>(1);
    for (float& x : sample) x *= 1.01f;
    const Verdict wide = judge(std::span<const float>(sample));
    CHECK(wide.variance > bound);
    CHECK_FALSE(wide.normal());

    // Uniform on [-sqrt 3, sqrt 3): mean 0, variance 1, excess kurtosis -1.2, no tails.
    Rng rng(1);
    rng.fill_uniform(std::span<float>(sample), -std::sqrt(3.0), std::sqrt(3.0));
    const Verdict uniform = judge(std::span<const float>(sample));
    CHECK(std::abs(uniform.variance) <= bound);
    CHECK(uniform.kurtosis < -bound);
    CHECK(uniform.ks > uniform.ks_critical);
    CHECK_FALSE(uniform.normal());
}
