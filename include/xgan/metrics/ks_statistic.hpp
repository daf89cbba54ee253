// The Kolmogorov-Smirnov statistic of 1-D samples against a known distribution: the
// largest distance between the samples' empirical CDF and the distribution's CDF,
//
//     D = max_i max(i / n - F(x_(i)), F(x_(i)) - (i - 1) / n)   over the sorted x_(1..n),
//
// the two-sided statistic scipy.stats.kstest reports. 0 is a perfect fit; for n samples
// drawn from F itself, D is about 0.87 / sqrt(n) on average.
//
//     const double d = xgan::ks_statistic(samples, xgan::normal_cdf(0.0, 1.0));
//     const double u = xgan::ks_statistic(samples, [](double x) { return std::clamp(x, 0.0, 1.0); });
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numbers>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include <xgan/config.hpp>

namespace xgan {

// The CDF of the normal distribution N(mean, std^2), as a callable for ks_statistic.
struct normal_cdf {
    double mean = 0;
    double std = 1;

    normal_cdf(double mean_ = 0, double std_ = 1) : mean(mean_), std(std_) {
        if (!(std::isfinite(mean) && std::isfinite(std) && std > 0))
            XGAN_THROW(std::invalid_argument, "xgan::normal_cdf: mean ", mean, " and std ", std,
                       " must be finite, std > 0");
    }
    double operator()(double x) const { return 0.5 * std::erfc(-(x - mean) / (std * std::numbers::sqrt2)); }
};

// D for `samples` against the distribution whose CDF is `cdf` (a callable double ->
// double, non-decreasing, into [0, 1]). Throws std::invalid_argument on no samples, a
// sample that is not finite, or a CDF value outside [0, 1] (naming the sample).
template <class T, std::invocable<double> Cdf>
double ks_statistic(std::span<const T> samples, Cdf&& cdf) {
    if (samples.empty()) XGAN_THROW(std::invalid_argument, "xgan::ks_statistic: no samples");
    std::vector<double> x(samples.begin(), samples.end());
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!std::isfinite(x[i])) XGAN_THROW(std::invalid_argument, "xgan::ks_statistic: sample ", i, " is ", x[i]);
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double f = static_cast<double>(cdf(x[i]));
        if (!(f >= 0 && f <= 1))
            XGAN_THROW(std::invalid_argument, "xgan::ks_statistic: the CDF at the sample ", x[i], " is ", f,
                       ", outside [0, 1]");
        d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
    }
    return d;
}

template <class Range, std::invocable<double> Cdf>
    requires requires(const Range& r) { std::span<const typename Range::value_type>(r); }
double ks_statistic(const Range& samples, Cdf&& cdf) {
    return ks_statistic(std::span<const typename Range::value_type>(samples), std::forward<Cdf>(cdf));
}

}  // namespace xgan
