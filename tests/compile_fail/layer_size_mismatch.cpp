// Must not compile: Dense<64, 15> follows a layer of width 128.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<64, 15>>;

int main() {
    Generator generator;
    (void)generator;
}
