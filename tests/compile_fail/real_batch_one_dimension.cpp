// Must not compile: the real batch of a trainer step is {batch, 15}, not one 1-D sample.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    const xt::xtensor<float, 1> real = xt::zeros<float>({15});
    trainer.step(real);
}
