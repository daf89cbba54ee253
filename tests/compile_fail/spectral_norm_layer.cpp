// Must not compile: spectral normalisation of a transposed convolution.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Input<8, 4, 4>, xgan::SpectralNorm<xgan::ConvTranspose2D<8, 4, 4, 2, 1>>>;

int main() {
    Generator generator;
    (void)generator;
}
