// Must not compile: G is conditioned on 10 classes, D on 9.
#include <xgan/xgan.hpp>

using Generator = xgan::Conditional<10, xgan::Sequential<xgan::Dense<110, 256>, xgan::ReLU, xgan::Dense<256, 784>>>;
using Discriminator = xgan::Conditional<9, xgan::Sequential<xgan::Dense<793, 256>, xgan::ReLU, xgan::Dense<256, 1>>>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    (void)trainer;
}
