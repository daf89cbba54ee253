// A user's program: proves that an integration path gives a working xgan::xgan target
// (headers, C++20, xtensor, xtensor-blas and BLAS all reach the consumer, and the
// headers of zlib, libzip and stb that <xgan/io.hpp> includes).
#include <cmath>
#include <iostream>

#include <xgan/xgan.hpp>
#include <xgan/io.hpp>

using namespace xgan;
using Generator = Sequential<Dense<5, 16>, ReLU, Dense<16, 15>>;
using Discriminator = Sequential<Dense<15, 16>, ReLU, Dense<16, 1>, Sigmoid>;

int main() {
    AdversarialTrainer<Generator, Discriminator> trainer({.seed = 1});
    Rng rng(2);
    matrix<float> real({8, 15});
    paintings::artist_works(real, rng);
    const StepStats stats = trainer.step(real);
    std::cout << "xgan " << XGAN_VERSION_MAJOR << '.' << XGAN_VERSION_MINOR << '.' << XGAN_VERSION_PATCH
              << ": one step, D accuracy " << stats.d_accuracy << '\n';
    return std::isfinite(stats.d_score) && stats.step == 1 ? 0 : 1;
}
