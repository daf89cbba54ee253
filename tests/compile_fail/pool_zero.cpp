// Must not compile: max pooling with a stride of 0.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Input<3, 4, 4>, xgan::MaxPool2D<2, 0>>;

int main() {
    Net net;
    (void)net;
}
