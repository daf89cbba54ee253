// Must not compile: an activation checked without a width.
#include <xgan/xgan.hpp>

int main() {
    return xgan::check_layer_gradients<xgan::ReLU>() ? 0 : 1;
}
