// Must not compile: Input<...> fixes a shape but is not a layer; the stack has none.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Input<1, 28, 28>>;

int main() {
    Net net;
    (void)net;
}
