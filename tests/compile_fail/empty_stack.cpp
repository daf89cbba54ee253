// Must not compile: a network of no layers.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<>;

int main() {
    Net net;
    (void)net;
}
