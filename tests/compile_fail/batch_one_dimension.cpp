// Must not compile: a 1-D tensor is one sample, not a batch {batch, 5}.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;

int main() {
    const Generator generator;
    const xt::xtensor<float, 1> noise = xt::zeros<float>({5});
    const xgan::matrix<float> curves = generator.forward(noise);
    (void)curves;
}
