// Must not compile: a layer specification is not a network.
#include <xgan/xgan.hpp>

using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<xgan::Dense<5, 15>, Discriminator> trainer;
    (void)trainer;
}
