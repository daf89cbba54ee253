// Must not compile: a Dense layer with no outputs.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 0>>;

int main() {
    Net net;
    (void)net;
}
