// Must not compile: G's Dense<64, 15> follows a layer of width 128; G reaches the
// compiler through a trainer alias.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<64, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<Generator, Discriminator>;

int main() {
    Trainer trainer({.seed = 1});
    (void)trainer;
}
