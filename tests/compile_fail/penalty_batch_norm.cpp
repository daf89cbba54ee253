// Must not compile: WGAN-GP's gradient penalty on a critic with BatchNorm.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Critic = xgan::Sequential<xgan::Dense<15, 128>, xgan::BatchNorm, xgan::LeakyReLU, xgan::Dense<128, 1>>;

int main() {
    xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::WassersteinGPLoss> trainer;
    (void)trainer;
}
