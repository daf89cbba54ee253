// Must not compile: an output padding of 2 with stride 2.
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Input<4, 7, 7>, xgan::ConvTranspose2D<4, 2, 4, 2, 1, 2>>;

int main() {
    Generator generator;
    (void)generator;
}
