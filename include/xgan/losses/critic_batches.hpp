// CriticBatches: what the trainer hands an objective that penalises the critic's input
// gradient (WGAN-GP, R1): the critic as a network, the update's real and fake batches,
// interpolates between them drawn from the trainer's Rng, and the penalty pass that adds
// the penalty's gradient to the critic's. See docs/reference/train-trainer.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/train/gradient_penalty.hpp>

namespace xgan {

template <Network D>
class CriticBatches {
public:
    using value_type = typename D::value_type;
    using T = value_type;

    // real and fake: batch rows of D::input_size values each; workspace and mix: the
    // trainer's, sized here on a new batch size only; gradient: D's gradient of this update.
    CriticBatches(const D& critic, typename D::Workspace& workspace, const T* real, const T* fake, std::size_t batch,
                  Rng& rng, matrix<T>& mix, std::span<T> gradient)
        : critic_(critic), workspace_(workspace), real_(real), fake_(fake), batch_(batch), rng_(rng), mix_(mix),
          gradient_(gradient) {}

    const D& critic() const { return critic_; }
    std::size_t batch_size() const { return batch_; }
    // The rows of the update's real and fake batches, batch_size() x D::input_size.
    std::span<const T> real() const { return {real_, batch_ * D::input_size}; }
    std::span<const T> fake() const { return {fake_, batch_ * D::input_size}; }

    // Puts the real rows into the penalty pass's input.
    void load_real() {
        workspace_.resize(batch_);
        std::copy_n(real_, batch_ * D::input_size, workspace_.input().data());
    }

    // Puts x_hat_i = e_i x_i + (1 - e_i) G(z)_i into the penalty pass's input, with one
    // e_i ~ U[0, 1) per sample drawn from the trainer's Rng (WGAN-GP's interpolates).
    void load_interpolates() {
        workspace_.resize(batch_);
        if (mix_.shape()[0] != batch_ || mix_.shape()[1] != 1) mix_.resize({batch_, 1});
        rng_.fill_uniform(std::span<T>(mix_.data(), batch_), 0.0, 1.0);
        T* out = workspace_.input().data();
        for (std::size_t r = 0; r < batch_; ++r) {
            const T e = mix_.data()[r];
            const std::size_t row = r * D::input_size;
            for (std::size_t k = 0; k < D::input_size; ++k)
                out[row + k] = e * real_[row + k] + (T(1) - e) * fake_[row + k];
        }
    }

    // The e_i of the last load_interpolates, {batch, 1}.
    const matrix<T>& mix() const { return mix_; }

    // The penalty P on the critic's input gradient at the loaded batch (input_gradient_penalty):
    // adds dP/dparameters to the update's gradient and returns P.
    template <input_gradient_penalty<T> P>
    double penalise(const P& penalty) {
        return static_cast<double>(critic_.input_gradient_penalty(workspace_, penalty, gradient_));
    }

private:
    const D& critic_;
    typename D::Workspace& workspace_;
    const T* real_;
    const T* fake_;
    std::size_t batch_;
    Rng& rng_;
    matrix<T>& mix_;
    std::span<T> gradient_;
};

}  // namespace xgan
