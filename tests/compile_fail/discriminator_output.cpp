// Must not compile: a discriminator must give one score per sample.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 2>>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    (void)trainer;
}
