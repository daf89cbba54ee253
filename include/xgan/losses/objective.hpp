// What a GAN objective may declare beyond the Loss concept, and the compile-time rules
// the trainer derives from it.
//
// A Loss (loss.hpp) scores D's outputs: discriminator(...) and generator(...). An
// objective is a Loss that may also declare, each optional (the trainer looks for it):
//
//   static constexpr CriticOutput reads = CriticOutput::score;
//       What it reads from D: logits (the default: D's output before a final Sigmoid,
//       which the trainer then skips) or raw critic scores (D's whole output; D must
//       not end in Sigmoid).
//   void validate() const;
//       Throws std::invalid_argument on a setting that makes no sense; called when the
//       trainer is built and before each step.
//   template <class Net> void after_discriminator_update(Net& critic) const;
//       Acts on the critic once its update is kept (WassersteinLoss's weight clipping).
//   template <class T> void monitors(const matrix<T>& real, const matrix<T>& fake, StepStats& stats) const;
//       Reports its own monitors from the outputs D's update read (WassersteinLoss: the
//       Wasserstein estimate), after the trainer's own (losses.md, "Monitors").
//   static constexpr bool penalises_input_gradient = true;
//       It penalises the critic's gradient with respect to its input (WGAN-GP, R1),
//       which is defined per sample: the critic must not mix samples (no BatchNorm).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include <xgan/core/sequential.hpp>
#include <xgan/detail/shape_check.hpp>
#include <xgan/layers/activation.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>

namespace xgan {

// What a loss reads from the discriminator.
enum class CriticOutput {
    // Logits l, with D's probability sigmoid(l): the output before a final Sigmoid (the
    // trainer skips that layer) or D's whole output when it has none. Minimax and
    // non-saturating losses.
    logit,
    // Raw, unbounded critic scores: D's whole output. Wasserstein, hinge, least squares.
    score,
};

// What loss L reads: L::reads when it declares it, else logits.
template <class L>
inline constexpr CriticOutput loss_reads_v = [] {
    if constexpr (requires { L::reads; }) return static_cast<CriticOutput>(L::reads);
    else return CriticOutput::logit;
}();

// Whether loss L penalises the critic's input gradient (L::penalises_input_gradient).
template <class L>
inline constexpr bool penalises_input_gradient_v = [] {
    if constexpr (requires { L::penalises_input_gradient; }) return static_cast<bool>(L::penalises_input_gradient);
    else return false;
}();

// Whether a concrete layer is a Sigmoid, on vectors or on images (a convolutional D
// may end in Sigmoid on shape<1, 1, 1>).
template <class L>
inline constexpr bool sigmoid_layer_v = false;
template <std::size_t Width, class T, class S>
inline constexpr bool sigmoid_layer_v<Activation<detail::sigmoid_op, Width, T, S>> = true;

// Whether a concrete layer's output is bounded on one or both sides (Sigmoid, Tanh,
// ReLU), so that it cannot be a logit: sigmoid of a ReLU output is never below 0.5, of a
// Tanh output never outside [0.27, 0.73].
template <class L>
inline constexpr bool bounded_output_layer_v = false;
template <std::size_t Width, class T, class S>
inline constexpr bool bounded_output_layer_v<Activation<detail::sigmoid_op, Width, T, S>> = true;
template <std::size_t Width, class T, class S>
inline constexpr bool bounded_output_layer_v<Activation<detail::tanh_op, Width, T, S>> = true;
template <std::size_t Width, class T, class S>
inline constexpr bool bounded_output_layer_v<Activation<detail::relu_op, Width, T, S>> = true;

// Whether a concrete layer ties the samples of a batch together in training: BatchNorm's
// batch statistics. A per-sample quantity (the gradient of D(x_i) with respect to x_i)
// is not defined through such a layer.
template <class L>
inline constexpr bool mixes_samples_layer_v = false;
template <class M, class E, std::size_t W, class T, class R>
inline constexpr bool mixes_samples_layer_v<BatchNormLayer<M, E, W, T, R>> = true;
template <class M, class E, Shape S, class T, class R>
inline constexpr bool mixes_samples_layer_v<BatchNorm2DLayer<M, E, S, T, R>> = true;

// Whether no layer of network D mixes the samples of a batch: D can carry a gradient
// penalty (WGAN-GP, R1).
template <Network D>
inline constexpr bool per_sample_critic_v = []<std::size_t... I>(std::index_sequence<I...>) {
    return (!mixes_samples_layer_v<typename D::template layer_type<I>> && ...);
}(std::make_index_sequence<D::layer_count>{});

namespace detail {

// The rules, as types whose arguments g++ and clang++ print in the message's context
// (catalogue entries 37 to 39, docs/design/error-messages.md).

template <class Loss, class LastLayer>
struct check_score_critic {
    static_assert(!sigmoid_layer_v<LastLayer>,
                  "xgan::AdversarialTrainer: this loss reads raw critic scores (WassersteinLoss, HingeLoss, "
                  "LeastSquaresLoss), so the discriminator must not end in Sigmoid (end it in Dense<..., 1>)");
};

template <class Loss, class LogitIndex, class LogitLayer>
struct check_logit_output {
    static_assert(!bounded_output_layer_v<LogitLayer>,
                  "xgan::AdversarialTrainer: this loss reads logits, so D's output before a final Sigmoid must be "
                  "unbounded (a Dense or convolution layer), not ReLU, Tanh or a second Sigmoid");
};

template <class Loss, class LastLayer>
struct check_penalty_output {
    static_assert(!sigmoid_layer_v<LastLayer>,
                  "xgan::AdversarialTrainer: this loss penalises the gradient of D's output with respect to its "
                  "input, which is taken on the logit: end D in its logit layer, without the final Sigmoid (the "
                  "loss reads logits either way)");
};

template <class Index, class Layer>
struct check_penalty_layer {
    static_assert(!mixes_samples_layer_v<Layer>,
                  "xgan::AdversarialTrainer: a gradient penalty is defined per sample, but this critic layer is "
                  "BatchNorm, which mixes the samples of a batch (use LayerNorm, or no normalisation)");
};

template <class D, class Indices>
struct check_penalty_layers;
template <class D, std::size_t... I>
struct check_penalty_layers<D, std::index_sequence<I...>>
    : check_penalty_layer<layer_index<I>, typename D::template layer_type<I>>... {};

}  // namespace detail

// Refuses, at compile time, a critic with a layer that mixes samples (BatchNorm),
// naming the layer's index: the check every input-gradient penalty makes. The trainer
// applies it for a loss with penalises_input_gradient; a penalty written elsewhere can
// name check_penalty_critic<D> (as a base or with sizeof) to apply it.
template <Network D>
struct check_penalty_critic : detail::check_penalty_layers<D, std::make_index_sequence<D::layer_count>> {};

}  // namespace xgan
