// Must not compile: a conditional GAN's step takes the real batch's labels.
#include <xgan/xgan.hpp>

using Generator = xgan::Conditional<10, xgan::Sequential<xgan::Dense<110, 256>, xgan::ReLU, xgan::Dense<256, 784>>>;
using Discriminator = xgan::Conditional<10, xgan::Sequential<xgan::Dense<794, 256>, xgan::ReLU, xgan::Dense<256, 1>>>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    const xgan::matrix<float> real({64, 784});
    trainer.step(real);
}
