// Must not compile: the second Conv2D expects 16 channels, the first gives 8.
#include <xgan/layers/conv2d.hpp>
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Input<3, 16, 16>, xgan::Conv2D<3, 8, 3, 1, 1>, xgan::ReLU, xgan::Conv2D<16, 8, 3>>;

int main() {
    Net net;
    (void)net;
}
