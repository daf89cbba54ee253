// The least-squares GAN objective (LSGAN; Mao et al. 2017, eq. 2), on raw critic
// scores s = D(x) (Mao et al.'s D has a linear output):
//   D_loss = 1/2 mean((s_real - b)^2) + 1/2 mean((s_fake - a)^2)
//   G_loss = 1/2 mean((s_fake - c)^2)
// with the paper's 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (what G wants D to
// believe) as defaults. The paper's other choice, a = -1, b = 1, c = 0 (b - c = 1,
// b - a = 2), minimises the Pearson chi-squared divergence.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/losses/loss.hpp>
#include <xgan/losses/objective.hpp>

namespace xgan {

namespace detail {

// 1/2 mean((s - target)^2); writes its derivative (s - target) / n into `gradient`.
template <class T>
double half_mean_square(const matrix<T>& scores, T target, matrix<T>& gradient) {
    const std::size_t n = scores.size();
    const T scale = T(1) / static_cast<T>(n);
    const double t = static_cast<double>(target);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T s = scores.data()[i];
        const double d = static_cast<double>(s) - t;
        sum += d * d;
        gradient.data()[i] = (s - target) * scale;
    }
    return 0.5 * sum / static_cast<double>(n);
}

}  // namespace detail

struct LeastSquaresLoss {
    static constexpr CriticOutput reads = CriticOutput::score;

    double a = 0;  // D's target for fake samples
    double b = 1;  // D's target for real samples
    double c = 1;  // G's target for its samples

    void validate() const {
        if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c))
            XGAN_THROW(std::invalid_argument, "xgan::LeastSquaresLoss: the targets must be finite, got a = ", a,
                       ", b = ", b, ", c = ", c);
        if (a == b)
            XGAN_THROW(std::invalid_argument, "xgan::LeastSquaresLoss: the fake target a and the real target b must "
                       "differ (both are ", a, "): D would have nothing to tell apart");
    }

    template <class T>
    double discriminator(const matrix<T>& real_scores, const matrix<T>& fake_scores, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        return detail::half_mean_square(real_scores, static_cast<T>(b), real_gradient) +
               detail::half_mean_square(fake_scores, static_cast<T>(a), fake_gradient);
    }

    template <class T>
    double generator(const matrix<T>& fake_scores, matrix<T>& fake_gradient) const {
        return detail::half_mean_square(fake_scores, static_cast<T>(c), fake_gradient);
    }
};

}  // namespace xgan
