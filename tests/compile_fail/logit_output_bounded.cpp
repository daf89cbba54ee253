// Must not compile: a minimax loss on a D whose output is not a logit (it ends in Tanh).
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Tanh>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator, xgan::Adam, xgan::Adam, xgan::MinimaxLoss> trainer;
    (void)trainer;
}
