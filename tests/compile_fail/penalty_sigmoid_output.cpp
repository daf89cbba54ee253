// Must not compile: R1's penalty on a D that ends in Sigmoid (the penalty is on the logit's gradient).
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::LeakyReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator, xgan::Adam, xgan::Adam, xgan::R1Loss<>> trainer;
    (void)trainer;
}
