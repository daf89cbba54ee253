// Must not compile: an activation cannot start a stack, it has no width of its own.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::ReLU, xgan::Dense<5, 5>>;

int main() {
    Net net;
    (void)net;
}
