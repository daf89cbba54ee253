// Must not compile: a double generator and a float discriminator.
#include <xgan/xgan.hpp>

using Generator = xgan::BasicSequential<double, xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    (void)trainer;
}
