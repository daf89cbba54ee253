// Must not compile: the discriminator's optimizer has no nested state<T>.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

struct Rmsprop { double lr = 1e-3; };  // no nested state<T>

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator, xgan::Adam, Rmsprop> trainer;
    (void)trainer;
}
