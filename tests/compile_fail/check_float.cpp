// Must not compile: finite differences of a float network.
#include <xgan/xgan.hpp>

int main() {
    xgan::Sequential<xgan::Dense<4, 3>, xgan::Tanh> net;
    return xgan::check_gradients(net) ? 0 : 1;
}
