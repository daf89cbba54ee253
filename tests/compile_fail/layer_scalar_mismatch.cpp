// Must not compile: a concrete double layer in a float network.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::DenseLayer<5, 3, double>, xgan::ReLU>;

int main() {
    Net net;
    (void)net;
}
