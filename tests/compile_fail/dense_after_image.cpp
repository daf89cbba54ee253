// Must not compile: Dense after a 3 x 4 x 4 image, without Flatten between them.
#include <xgan/xgan.hpp>

using Discriminator = xgan::Sequential<xgan::Input<3, 8, 8>, xgan::MaxPool2D<2>, xgan::Dense<48, 1>>;

int main() {
    Discriminator discriminator;
    (void)discriminator;
}
