// Must not compile: a dropout rate whose denominator is 2^47.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 8>, xgan::DropoutWithRate<1, 140737488355328>>;

int main() {
    Net net;
    (void)net;
}
