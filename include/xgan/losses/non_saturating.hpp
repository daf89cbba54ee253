// The non-saturating GAN objective (binary cross-entropy, generator label 1):
//   D_loss = BCE(D(x), real_label) + BCE(D(G(z)), 0)
//   G_loss = -mean(log D(G(z)))               (strong gradients while D wins)
#pragma once

#include <xgan/core/tensor.hpp>
#include <xgan/losses/loss.hpp>

namespace xgan {

struct NonSaturatingLoss {
    // Target for real samples in D's loss; 0.9 gives one-sided label smoothing.
    double real_label = 1.0;

    template <class T>
    double discriminator(const matrix<T>& real_logits, const matrix<T>& fake_logits, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        return detail::discriminator_bce(real_logits, fake_logits, real_gradient, fake_gradient, real_label);
    }

    template <class T>
    double generator(const matrix<T>& fake_logits, matrix<T>& fake_gradient) const {
        return detail::mean_bce_with_logits(fake_logits, T(1), fake_gradient);
    }
};

}  // namespace xgan
