// The Wasserstein GAN objective (Arjovsky, Chintala and Bottou 2017), on raw critic
// scores s = D(x) (the critic does not end in Sigmoid):
//   D_loss = mean(s_fake) - mean(s_real)          (minus the Wasserstein estimate)
//   G_loss = -mean(s_fake)
// and, after each critic update, every critic parameter clipped to [-clip, clip]
// (clip = 0.01 as in the paper; 0 turns clipping off, for use with a gradient penalty).
// The paper trains it with RMSprop at lr 5e-5 and 5 critic updates per generator update.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/losses/loss.hpp>
#include <xgan/losses/objective.hpp>
#include <xgan/train/step_stats.hpp>

namespace xgan {

namespace detail {

// mean(scores) in double; writes sign / n into every element of `gradient`.
template <class T>
double mean_score(const matrix<T>& scores, T sign, matrix<T>& gradient) {
    const std::size_t n = scores.size();
    const T step = sign / static_cast<T>(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(scores.data()[i]);
        gradient.data()[i] = step;
    }
    return sum / static_cast<double>(n);
}

}  // namespace detail

struct WassersteinLoss {
    static constexpr CriticOutput reads = CriticOutput::score;

    // Each critic parameter is clipped to [-clip, clip] after each critic update; 0: no clipping.
    double clip = 0.01;

    void validate() const {
        if (!(clip >= 0) || !std::isfinite(clip))
            XGAN_THROW(std::invalid_argument, "xgan::WassersteinLoss: clip must be finite and >= 0 (0 turns clipping off), got ",
                       clip);
    }

    template <class T>
    double discriminator(const matrix<T>& real_scores, const matrix<T>& fake_scores, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        const double real = detail::mean_score(real_scores, T(-1), real_gradient);
        const double fake = detail::mean_score(fake_scores, T(1), fake_gradient);
        return fake - real;
    }

    template <class T>
    double generator(const matrix<T>& fake_scores, matrix<T>& fake_gradient) const {
        return -detail::mean_score(fake_scores, T(-1), fake_gradient);
    }

    // The weight clipping: every parameter of the critic into [-clip, clip].
    template <class Net>
    void after_discriminator_update(Net& critic) const {
        if (clip == 0) return;
        using T = typename Net::value_type;
        const T c = static_cast<T>(clip);
        for (T& p : critic.parameters()) p = std::clamp(p, -c, c);
    }

    // stats.wasserstein: mean D(real) - mean D(fake) on the update's batches, the
    // critic's estimate of the Wasserstein-1 distance (up to the Lipschitz constant).
    template <class T>
    void monitors(const matrix<T>&, const matrix<T>&, StepStats& stats) const {
        stats.wasserstein = stats.real_score - stats.fake_score;
    }
};

}  // namespace xgan
