// Must not compile: Embedding<10, 16> reads a one-hot of 10 values, the input has 8.
#include <xgan/xgan.hpp>

using Discriminator = xgan::Sequential<xgan::Input<8>, xgan::Embedding<10, 16>, xgan::Dense<16, 1>>;

int main() {
    const Discriminator discriminator;
    (void)discriminator;
}
