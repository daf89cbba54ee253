// Must not compile: checking the second-order pass of a layer that has none.
#include <xgan/testing/gradient_check.hpp>
#include <xgan/xgan.hpp>

int main() {
    const xgan::GradientCheckResult result = xgan::check_layer_second_order<xgan::Dropout, 4>();
    return result.passed ? 0 : 1;
}
