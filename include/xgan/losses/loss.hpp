// The Loss concept: how a GAN objective is scored from the discriminator's logits.
#pragma once

#include <concepts>

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
template <class T>
double mean_bce_with_logits(const matrix<T>& logits, T target, matrix<T>& gradient) {
    const std::size_t n = logits.size();
    const T* l = logits.data();
    T* g = gradient.data();
    const T scale = T(1) / static_cast<T>(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(bce_with_logits(l[i], target));
        g[i] = bce_with_logits_gradient(l[i], target) * scale;
    }
    return sum / static_cast<double>(n);
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
