// Must not compile: a LayerNorm epsilon of 0.
#include <xgan/xgan.hpp>

using Critic = xgan::Sequential<xgan::Dense<4, 8>, xgan::LayerNormWith<std::ratio<0, 1>>, xgan::Dense<8, 1>>;

int main() {
    Critic critic;
    (void)critic;
}
