// Must not compile: a leaky ReLU slope of 1 / 0.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 8>, xgan::LeakyReLUWithSlope<1, 0>>;

int main() {
    Net net;
    const xgan::matrix<float> x = xt::zeros<float>({4, 5});
    return net.forward(x).size() == 32 ? 0 : 1;
}
