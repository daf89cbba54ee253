// Must not compile: upsampling after Dense, whose output is a vector.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 48>, xgan::Upsample2D<2>>;

int main() {
    Generator generator;
    (void)generator;
}
