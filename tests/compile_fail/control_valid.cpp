// Must compile: the harness's control, so a broken harness cannot pass the other cases.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    return trainer.steps() == 0 ? 0 : 1;
}
