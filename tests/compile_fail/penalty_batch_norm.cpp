// Must not compile: an input-gradient penalty (WGAN-GP, R1) on a critic with BatchNorm.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Critic = xgan::Sequential<xgan::Dense<15, 128>, xgan::BatchNorm, xgan::LeakyReLU, xgan::Dense<128, 1>>;

// Any loss that declares a penalty on the critic's input gradient.
struct PenalisedHinge : xgan::HingeLoss {
    static constexpr bool penalises_input_gradient = true;
};

int main() {
    xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, PenalisedHinge> trainer;
    (void)trainer;
}
