// Must not compile: Conv2D takes an image, and Dense<16, 48> gives a vector.
#include <xgan/layers/conv2d.hpp>
#include <xgan/xgan.hpp>

using Discriminator = xgan::Sequential<xgan::Dense<16, 48>, xgan::Conv2D<3, 8, 3>>;

int main() {
    Discriminator discriminator;
    (void)discriminator;
}
