// The Loss concept: how a GAN objective is scored from the discriminator's logits.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/losses/logistic.hpp>

namespace xgan {

// A loss reads logits {batch, 1} (the discriminator's output before its final Sigmoid),
// writes dLoss/dlogit into the gradient matrices (same shapes) and returns the loss.
//   discriminator(real_logits, fake_logits, real_gradient, fake_gradient) -> D_loss
//   generator(fake_logits, fake_gradient) -> G_loss
template <class L, class T = float>
concept Loss = requires(const L& loss, const matrix<T>& logits, matrix<T>& gradient) {
    { loss.discriminator(logits, logits, gradient, gradient) } -> std::convertible_to<double>;
    { loss.generator(logits, gradient) } -> std::convertible_to<double>;
};

namespace detail {

// mean over the batch of bce(l, target); writes d/dl of that mean into `gradient`.
//
// The same values as bce_with_logits / bce_with_logits_gradient (logistic.hpp), computed
// with one exp per logit and one log1p per 64 logits:
//   e = exp(-|l|), s = e / (1 + e)  (= sigmoid(-|l|));
//   gradient  ((1 - t) - s for l > 0, s - t otherwise) / n, bit for bit
//             bce_with_logits_gradient(l, t) / n;
//   loss      sum of (max(l, 0) - t l), in double (each term >= 0 for t in [0, 1], so no
//             cancellation), plus sum of log1p(e) taken as log1p(prod(1 + e) - 1) per
//             group of 64, the excess prod(1 + e) - 1 accumulated directly (no rounding of
//             1 + e, so tiny e keep their precision; at most 2^64, no overflow).
template <class T>
double mean_bce_with_logits(const matrix<T>& logits, T target, matrix<T>& gradient) {
    constexpr std::size_t group = 64;
    const std::size_t n = logits.size();
    const T* XGAN_RESTRICT l = logits.data();
    T* XGAN_RESTRICT g = gradient.data();
    const T scale = T(1) / static_cast<T>(n);
    const T one_minus_target = T(1) - target;
    const double t = static_cast<double>(target);
    double linear = 0, logs = 0;
    for (std::size_t start = 0; start < n; start += group) {
        const std::size_t stop = n - start < group ? n : start + group;
        double excess = 0;  // prod(1 + e) - 1 over the group
        for (std::size_t i = start; i < stop; ++i) {
            const T x = l[i];
            const T e = std::exp(-std::abs(x));
            const T s = e / (T(1) + e);
            g[i] = (x > T(0) ? one_minus_target - s : s - target) * scale;
            const double xd = static_cast<double>(x);
            linear += (xd > 0 ? xd : 0.0) - t * xd;
            const double ed = static_cast<double>(e);
            excess += ed + excess * ed;
        }
        logs += std::log1p(excess);
    }
    return (linear + logs) / static_cast<double>(n);
}

// The discriminator's side, shared by both GAN losses:
// D_loss = mean bce(l_real, real_label) + mean bce(l_fake, 0);
// with real_label = 1 this is -mean(log D(x)) - mean(log(1 - D(G(z)))).
template <class T>
double discriminator_bce(const matrix<T>& real_logits, const matrix<T>& fake_logits, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient, double real_label) {
    return mean_bce_with_logits(real_logits, static_cast<T>(real_label), real_gradient) +
           mean_bce_with_logits(fake_logits, T(0), fake_gradient);
}

}  // namespace detail
}  // namespace xgan
