// CriticBatches: what the trainer hands an objective that penalises the critic's input
// gradient (WGAN-GP, R1): the critic as a network, the update's real and fake batches,
// interpolates between them drawn from the trainer's Rng, and the penalty pass that adds
// the penalty's gradient to the critic's. See docs/reference/train-trainer.md.
//
// A conditional critic (core/conditional.hpp) is penalised as conditional WGAN-GP
// implementations do: an interpolate mixes the samples only and keeps the real row's
// condition, and the penalty sees the gradient with respect to the sample's values only
// (its condition columns or planes are zero in g, and their dP/dg is set to zero).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/conditional.hpp>
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
    // e_i ~ U[0, 1) per sample drawn from the trainer's Rng (WGAN-GP's interpolates). For
    // a conditional critic x_hat_i mixes the samples and keeps the real row's condition.
    void load_interpolates() {
        if (mix_.shape()[0] != batch_ || mix_.shape()[1] != 1) mix_.resize({batch_, 1});
        rng_.fill_uniform(std::span<T>(mix_.data(), batch_), 0.0, 1.0);
        interpolate();
    }

    // The same with the given e_i (batch_size() values, each in [0, 1]), e.g. to reproduce
    // a penalty elsewhere; throws, loading nothing, on another count.
    void load_interpolates(std::span<const T> e) {
        if (e.size() != batch_)
            XGAN_THROW(std::invalid_argument, "xgan::CriticBatches::load_interpolates: ", e.size(),
                       " mixing weights given for a batch of ", batch_);
        if (mix_.shape()[0] != batch_ || mix_.shape()[1] != 1) mix_.resize({batch_, 1});
        std::copy(e.begin(), e.end(), mix_.data());
        interpolate();
    }

    // The e_i of the last load_interpolates, {batch, 1}.
    const matrix<T>& mix() const { return mix_; }

    // The penalty P on the critic's input gradient at the loaded batch (input_gradient_penalty):
    // adds dP/dparameters to the update's gradient and returns P. For a conditional critic
    // P sees the gradient with respect to the sample's values only (condition_size_v<D>
    // last values of each row zero).
    template <input_gradient_penalty<T> P>
    double penalise(const P& penalty) {
        if constexpr (condition_size_v<D> == 0) {
            return static_cast<double>(critic_.input_gradient_penalty(workspace_, penalty, gradient_));
        } else {
            const detail::sample_gradient_penalty<P, T> on_samples{penalty, workspace_.gradients[0], sample_size,
                                                                    D::input_size};
            return static_cast<double>(critic_.input_gradient_penalty(workspace_, on_samples, gradient_));
        }
    }

private:
    // The values of a row D scores besides its condition.
    static constexpr std::size_t sample_size = D::input_size - condition_size_v<D>;

    void interpolate() {
        workspace_.resize(batch_);
        T* out = workspace_.input().data();
        for (std::size_t r = 0; r < batch_; ++r) {
            const T e = mix_.data()[r];
            const std::size_t row = r * D::input_size;
            for (std::size_t k = 0; k < sample_size; ++k)
                out[row + k] = e * real_[row + k] + (T(1) - e) * fake_[row + k];
            std::copy_n(real_ + row + sample_size, D::input_size - sample_size, out + row + sample_size);
        }
    }

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
