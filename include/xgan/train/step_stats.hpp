// What one training step reports: the tutorials' monitors, both losses, and the
// critic's mean scores (docs/reference/losses.md, "Monitors").
#pragma once

#include <cstdint>
#include <limits>

namespace xgan {

struct StepStats {
    std::uint64_t step = 0;   // steps completed, counting this one
    // Probabilities: for a loss that reads logits (MinimaxLoss, NonSaturatingLoss), where
    // D's output is a probability; NaN for a loss that reads raw critic scores.
    double d_accuracy = 0;    // mean D(real) on the last D update; -> 0.5 at equilibrium
    double d_score = 0;       // -D_loss; -> 2 ln 0.5 = -1.386 at equilibrium (minimax, non-saturating)
    double d_loss = 0;        // D's loss on the last D update
    double g_loss = 0;        // G's loss on its update
    double d_fake = 0;        // mean D(G(z)) seen by G's update; -> 0.5 at equilibrium
    // Every loss: the mean of what the loss read from D (logits or critic scores) on the
    // real and the fake batch of the last D update.
    double real_score = 0;
    double fake_score = 0;
    // WassersteinLoss: real_score - fake_score, the critic's Wasserstein estimate; NaN
    // for the other losses.
    double wasserstein = std::numeric_limits<double>::quiet_NaN();
    // A loss with a gradient penalty (WassersteinGPLoss, R1Loss): the penalty on the last D
    // update, included in d_loss; NaN for the other losses.
    double penalty = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace xgan
