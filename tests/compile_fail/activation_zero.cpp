// Must not compile: an activation bound to width 0.
#include <xgan/xgan.hpp>

int main() {
    xgan::Activation<xgan::detail::relu_op, 0, float> relu;
    (void)relu;
}
