// Must not compile: a conditional network's input must hold the condition and more.
#include <xgan/xgan.hpp>

using Generator = xgan::Conditional<10, xgan::Sequential<xgan::Dense<10, 64>, xgan::ReLU, xgan::Dense<64, 784>>>;

int main() {
    const Generator generator;
    (void)generator;
}
