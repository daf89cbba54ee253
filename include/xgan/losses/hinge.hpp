// The hinge GAN objective (Lim and Ye 2017; Miyato et al. 2018, with spectral
// normalisation), on raw critic scores s = D(x):
//   D_loss = mean(max(0, 1 - s_real)) + mean(max(0, 1 + s_fake))
//   G_loss = -mean(s_fake)
// The derivative at the kinks (s = 1 for real, s = -1 for fake) is taken as 0, as
// PyTorch's relu does.
#pragma once

#include <cstddef>

#include <xgan/core/tensor.hpp>
#include <xgan/losses/loss.hpp>
#include <xgan/losses/objective.hpp>
#include <xgan/losses/wasserstein.hpp>

namespace xgan {

namespace detail {

// mean(max(0, 1 + sign s)); writes its derivative into `gradient`.
template <class T>
double mean_hinge(const matrix<T>& scores, T sign, matrix<T>& gradient) {
    const std::size_t n = scores.size();
    const T step = sign / static_cast<T>(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T margin = T(1) + sign * scores.data()[i];
        const bool active = margin > T(0);
        sum += active ? static_cast<double>(margin) : 0.0;
        gradient.data()[i] = active ? step : T(0);
    }
    return sum / static_cast<double>(n);
}

}  // namespace detail

struct HingeLoss {
    static constexpr CriticOutput reads = CriticOutput::score;

    template <class T>
    double discriminator(const matrix<T>& real_scores, const matrix<T>& fake_scores, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        return detail::mean_hinge(real_scores, T(-1), real_gradient) +
               detail::mean_hinge(fake_scores, T(1), fake_gradient);
    }

    template <class T>
    double generator(const matrix<T>& fake_scores, matrix<T>& fake_gradient) const {
        return -detail::mean_score(fake_scores, T(-1), fake_gradient);
    }
};

}  // namespace xgan
