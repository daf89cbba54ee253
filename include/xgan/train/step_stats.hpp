// What one training step reports: the tutorials' monitors and both losses.
#pragma once

#include <cstdint>

namespace xgan {

struct StepStats {
    std::uint64_t step = 0;   // steps completed, counting this one
    double d_accuracy = 0;    // mean D(real) on the last D update; -> 0.5 at equilibrium
    double d_score = 0;       // -D_loss; -> 2 ln 0.5 = -1.386 at equilibrium
    double d_loss = 0;        // D's loss on the last D update
    double g_loss = 0;        // G's loss on its update
    double d_fake = 0;        // mean D(G(z)) seen by G's update; -> 0.5 at equilibrium
};

}  // namespace xgan
