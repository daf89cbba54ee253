// Must not compile: G makes 1 x 28 x 28 images of 10 classes, so a conditional D on
// images must read 11 x 28 x 28 (the image and 10 planes); this one reads 12 channels.
#include <xgan/xgan.hpp>

using Generator = xgan::Conditional<10, xgan::Sequential<xgan::Dense<110, 784>, xgan::Tanh, xgan::Unflatten<1, 28, 28>>>;
using Discriminator = xgan::Conditional<10, xgan::Sequential<xgan::Input<12, 28, 28>, xgan::Conv2D<12, 64, 4, 2, 1>,
                                                            xgan::LeakyReLU, xgan::Flatten, xgan::Dense<12544, 1>>>;

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer;
    (void)trainer;
}
