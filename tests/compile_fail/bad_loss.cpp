// Must not compile: the loss has neither discriminator(...) nor generator(...).
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

struct HingeLoss {};  // no discriminator(...) / generator(...)

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator, xgan::Adam, xgan::Adam, HingeLoss> trainer;
    (void)trainer;
}
