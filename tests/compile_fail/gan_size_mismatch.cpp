// Must not compile: the generator makes 15 values, the discriminator reads 16.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<16, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    (void)trainer;
}
