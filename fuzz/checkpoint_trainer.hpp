// The small trainer whose checkpoints both checkpoint fuzzers load (its seeds are
// checkpoints of it), and the comparison that tells whether a refused load changed it.
#pragma once

#include <xgan/io/checkpoint.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/train/trainer.hpp>

namespace fuzz {

using G = xgan::Sequential<xgan::Dense<2, 3>, xgan::BatchNorm, xgan::ReLU, xgan::Dense<3, 2>>;
using D = xgan::Sequential<xgan::Dense<2, 3>, xgan::ReLU, xgan::Dense<3, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<G, D>;

inline bool same(const Trainer& a, const Trainer& b) {
    return a.generator() == b.generator() && a.discriminator() == b.discriminator() &&
           a.generator_state() == b.generator_state() && a.discriminator_state() == b.discriminator_state() &&
           a.rng() == b.rng() && a.steps() == b.steps();
}

}  // namespace fuzz
