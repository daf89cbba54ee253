// Mode coverage of samples from a mixture of Gaussians (the 2-D ring and grid of the
// Unrolled GAN and VEEGAN papers, or 1-D mixtures): each sample belongs to its nearest
// mode (Euclidean distance); it is of high quality if it lies within `within` (3) standard
// deviations of that mode; a mode is covered if at least `min_samples` (1) high-quality
// samples belong to it, as VEEGAN counts "modes captured".
//
//     const xgan::ModeCoverage c = xgan::mode_coverage(samples, modes, 0.02);  // {n, d}, {K, d}
//     std::printf("%zu of %zu modes, %.1f%% high quality\n", c.covered, c.modes, 100 * c.high_quality_share);
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

struct ModeCoverageOptions {
    double within = 3;            // standard deviations from its mode for a high-quality sample
    std::size_t min_samples = 1;  // high-quality samples a mode needs to be covered
};

struct ModeCoverage {
    std::size_t covered = 0;            // modes with at least min_samples high-quality samples
    std::size_t modes = 0;              // K
    double high_quality_share = 0;      // high-quality samples / all samples
    std::vector<std::size_t> per_mode;  // high-quality samples of each mode
};

// Samples {n, d} against the means of K modes {K, d}, each mode of standard deviation
// `std` in every direction. Throws std::invalid_argument on shapes that do not fit, no
// samples or modes, a value that is not finite, std <= 0, within <= 0 or min_samples 0.
template <class E1, class E2>
ModeCoverage mode_coverage(const xt::xexpression<E1>& samples, const xt::xexpression<E2>& modes, double std,
                           const ModeCoverageOptions& options = {}) {
    const auto& x = samples.derived_cast();
    const auto& m = modes.derived_cast();
    if (x.dimension() != 2 || m.dimension() != 2 || x.shape()[1] != m.shape()[1])
        XGAN_THROW(std::invalid_argument, "xgan::mode_coverage: samples {n, d} and modes {K, d} must be matrices ",
                   "with the same d; got ", x.dimension(), " and ", m.dimension(), " dimension(s)",
                   x.dimension() == 2 && m.dimension() == 2
                       ? detail::message(" with d = ", x.shape()[1], " and ", m.shape()[1])
                       : std::string());
    const std::size_t n = x.shape()[0], k = m.shape()[0], d = x.shape()[1];
    if (n == 0 || k == 0 || d == 0)
        XGAN_THROW(std::invalid_argument, "xgan::mode_coverage: ", n, " samples and ", k, " modes of ", d,
                   " dimension(s); each must be at least 1");
    if (!(std::isfinite(std) && std > 0))
        XGAN_THROW(std::invalid_argument, "xgan::mode_coverage: std is ", std, "; it must be finite and > 0");
    if (!(std::isfinite(options.within) && options.within > 0) || options.min_samples == 0)
        XGAN_THROW(std::invalid_argument, "xgan::mode_coverage: within is ", options.within, " and min_samples ",
                   options.min_samples, "; within must be finite and > 0, min_samples at least 1");
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!std::isfinite(static_cast<double>(x.data()[i])))
            XGAN_THROW(std::invalid_argument, "xgan::mode_coverage: sample ", i / d, " holds ", x.data()[i]);
    for (std::size_t i = 0; i < m.size(); ++i)
        if (!std::isfinite(static_cast<double>(m.data()[i])))
            XGAN_THROW(std::invalid_argument, "xgan::mode_coverage: mode ", i / d, " holds ", m.data()[i]);

    ModeCoverage result;
    result.modes = k;
    result.per_mode.assign(k, 0);
    const double radius = options.within * std;
    std::size_t high_quality = 0;
    for (std::size_t i = 0; i < n; ++i) {
        double best = std::numeric_limits<double>::infinity();
        std::size_t nearest = 0;
        for (std::size_t j = 0; j < k; ++j) {
            double squared = 0;
            for (std::size_t c = 0; c < d; ++c) {
                const double diff = static_cast<double>(x(i, c)) - static_cast<double>(m(j, c));
                squared += diff * diff;
            }
            if (squared < best) best = squared, nearest = j;
        }
        if (std::sqrt(best) <= radius) ++high_quality, ++result.per_mode[nearest];
    }
    for (const std::size_t count : result.per_mode) result.covered += count >= options.min_samples ? 1 : 0;
    result.high_quality_share = static_cast<double>(high_quality) / static_cast<double>(n);
    return result;
}

}  // namespace xgan
