// The original GAN objective, as the tutorials write it:
//   D_loss = -mean(log D(x) + log(1 - D(G(z))))
//   G_loss =  mean(log(1 - D(G(z))))          (saturating: weak gradients early on)
#pragma once

#include <xgan/core/tensor.hpp>
#include <xgan/losses/loss.hpp>

namespace xgan {

struct MinimaxLoss {
    // Target for real samples in D's loss; 0.9 gives one-sided label smoothing.
    double real_label = 1.0;

    template <class T>
    double discriminator(const matrix<T>& real_logits, const matrix<T>& fake_logits, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        return detail::discriminator_bce(real_logits, fake_logits, real_gradient, fake_gradient, real_label);
    }

    // mean(log(1 - sigmoid(l))) = -mean(softplus(l)), i.e. minus D's loss on fakes.
    template <class T>
    double generator(const matrix<T>& fake_logits, matrix<T>& fake_gradient) const {
        const double bce = detail::mean_bce_with_logits(fake_logits, T(0), fake_gradient);
        for (auto& g : fake_gradient) g = -g;
        return -bce;
    }
};

}  // namespace xgan
