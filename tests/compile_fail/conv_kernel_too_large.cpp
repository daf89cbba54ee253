// Must not compile: the last Conv2D's 5 x 5 kernel does not fit a 2 x 2 input.
#include <xgan/layers/conv2d.hpp>
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Input<1, 8, 8>, xgan::Conv2D<1, 4, 4, 2, 1>, xgan::Conv2D<4, 8, 4, 2, 1>,
                             xgan::Conv2D<8, 1, 5>>;

int main() {
    Net net;
    (void)net;
}
