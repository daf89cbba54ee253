// Must not compile: average pooling after Dense, whose output is a vector.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 48>, xgan::ReLU, xgan::AvgPool2D<2>>;

int main() {
    Net net;
    (void)net;
}
