// Must not compile: an upsampling factor of 0.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Input<3, 4, 4>, xgan::Upsample2D<0>>;

int main() {
    Generator generator;
    (void)generator;
}
