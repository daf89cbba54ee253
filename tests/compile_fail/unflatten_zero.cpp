// Must not compile: an Unflatten with a dimension of 0.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 12>, xgan::Unflatten<3, 0, 4>>;

int main() {
    Net net;
    (void)net;
}
