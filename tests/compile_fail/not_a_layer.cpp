// Must not compile: int is not a layer.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 8>, int>;

int main() {
    Net net;
    (void)net;
}
