// Objectives with a penalty on the critic's input gradient, computed exactly by the
// critic's second-order pass (Sequential::input_gradient_penalty):
//   WassersteinGPLoss: WGAN-GP (Gulrajani et al. 2017), the Wasserstein loss plus
//       lambda mean_i (||grad_x D(x_hat_i)|| - 1)^2 at x_hat_i = e_i x_i + (1 - e_i) G(z)_i,
//       e_i ~ U[0, 1) per sample; lambda = 10. The paper trains it with Adam lr 1e-4,
//       betas (0, 0.9), 5 critic updates per generator update. No weight clipping.
//   R1Loss<Base>: Base's loss (NonSaturatingLoss by default) plus R1's
//       gamma/2 mean_i ||grad_x D(x_i)||^2 on the real batch (Mescheder et al. 2018).
// The trainer calls penalty(batches) after the loss's backward pass; its value is part of
// D_loss and of StepStats::penalty.
#pragma once

#include <cmath>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/losses/critic_batches.hpp>
#include <xgan/losses/loss.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/losses/objective.hpp>
#include <xgan/losses/wasserstein.hpp>
#include <xgan/train/gradient_penalty.hpp>
#include <xgan/train/step_stats.hpp>

namespace xgan {

struct WassersteinGPLoss {
    static constexpr CriticOutput reads = CriticOutput::score;
    static constexpr bool penalises_input_gradient = true;

    double lambda = 10;  // the penalty's weight

    void validate() const {
        if (!(lambda >= 0) || !std::isfinite(lambda))
            XGAN_THROW(std::invalid_argument, "xgan::WassersteinGPLoss: lambda must be finite and >= 0, got ", lambda);
    }

    template <class T>
    double discriminator(const matrix<T>& real_scores, const matrix<T>& fake_scores, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        return WassersteinLoss{.clip = 0}.discriminator(real_scores, fake_scores, real_gradient, fake_gradient);
    }

    template <class T>
    double generator(const matrix<T>& fake_scores, matrix<T>& fake_gradient) const {
        return WassersteinLoss{.clip = 0}.generator(fake_scores, fake_gradient);
    }

    template <class Net>
    double penalty(CriticBatches<Net>& batches) const {
        batches.load_interpolates();
        return batches.penalise(GradientNormPenalty{.lambda = lambda, .target = 1});
    }

    template <class T>
    void monitors(const matrix<T>&, const matrix<T>&, StepStats& stats) const {
        stats.wasserstein = stats.real_score - stats.fake_score;
    }
};

template <Loss Base = NonSaturatingLoss>
struct R1Loss {
    static constexpr CriticOutput reads = loss_reads_v<Base>;
    static constexpr bool penalises_input_gradient = true;

    Base loss{};       // the loss R1 regularises
    double gamma = 10; // the penalty's weight: gamma/2 mean ||grad_x D(x)||^2

    void validate() const {
        if (!(gamma >= 0) || !std::isfinite(gamma))
            XGAN_THROW(std::invalid_argument, "xgan::R1Loss: gamma must be finite and >= 0, got ", gamma);
        if constexpr (requires { loss.validate(); }) loss.validate();
    }

    template <class T>
    double discriminator(const matrix<T>& real, const matrix<T>& fake, matrix<T>& real_gradient,
                         matrix<T>& fake_gradient) const {
        return loss.discriminator(real, fake, real_gradient, fake_gradient);
    }

    template <class T>
    double generator(const matrix<T>& fake, matrix<T>& fake_gradient) const {
        return loss.generator(fake, fake_gradient);
    }

    template <class Net>
    double penalty(CriticBatches<Net>& batches) const {
        batches.load_real();
        return batches.penalise(R1Penalty{.gamma = gamma});
    }

    template <class T>
    void monitors(const matrix<T>& real, const matrix<T>& fake, StepStats& stats) const {
        if constexpr (requires { loss.monitors(real, fake, stats); }) loss.monitors(real, fake, stats);
    }

    // Base's hook, if it has one (R1Loss<WassersteinLoss> clips the critic's weights).
    template <class Net>
    void after_discriminator_update(Net& critic) const {
        if constexpr (requires { loss.after_discriminator_update(critic); }) loss.after_discriminator_update(critic);
    }
};

}  // namespace xgan
