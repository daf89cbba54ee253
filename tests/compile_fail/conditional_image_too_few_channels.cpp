// Must not compile: a conditional network on images reads one plane per class after the
// sample's channels, so Input<10, 28, 28> has no channel left for a sample of 10 classes.
#include <xgan/xgan.hpp>

using Discriminator = xgan::Conditional<10, xgan::Sequential<xgan::Input<10, 28, 28>, xgan::Conv2D<10, 64, 4, 2, 1>,
                                                            xgan::LeakyReLU, xgan::Flatten, xgan::Dense<12544, 1>>>;

int main() {
    const Discriminator discriminator;
    (void)discriminator;
}
