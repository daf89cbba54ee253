// Must not compile: G makes 15 values, D reads 16; the trainer is named through an alias
// and instantiated only where a variable of it is defined.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<16, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<Generator, Discriminator>;

int main() {
    Trainer trainer({.seed = 1});
    (void)trainer;
}
