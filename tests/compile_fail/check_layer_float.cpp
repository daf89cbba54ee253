// Must not compile: finite differences of a float concrete layer.
#include <xgan/xgan.hpp>

int main() {
    return xgan::check_layer_gradients<xgan::DenseLayer<4, 3, float>>() ? 0 : 1;
}
