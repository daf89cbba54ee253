// Must not compile: a dropout rate of 1 / 1 drops everything.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 8>, xgan::DropoutWithRate<1, 1>>;

int main() {
    Net net;
    (void)net;
}
