// Must not compile: (1 - 1) * 1 - 2 * 1 + 2 = 0 rows of output.
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Input<8, 1, 1>, xgan::ConvTranspose2D<8, 4, 2, 1, 1>>;

int main() {
    Generator generator;
    (void)generator;
}
