// Must not compile: a 3 x 3 max pooling of 4 x 2 x 5 images (the kernel is taller than the image).
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Input<4, 2, 5>, xgan::MaxPool2D<3>>;

int main() {
    Net net;
    (void)net;
}
