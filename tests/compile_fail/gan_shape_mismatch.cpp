// Must not compile: the generator makes 1x28x28 images, the discriminator reads vectors of
// 784 values; the sizes agree but the shapes do not.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Input<1, 28, 28>, xgan::Tanh>;
using Discriminator = xgan::Sequential<xgan::Dense<784, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    (void)trainer;
}
