// Must not compile: Unflatten<3, 4, 5> needs 60 values, Dense<5, 48> gives 48.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 48>, xgan::ReLU, xgan::Unflatten<3, 4, 5>>;

int main() {
    Generator generator;
    (void)generator;
}
