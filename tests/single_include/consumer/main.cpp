// The painting GAN from single_include/xgan/xgan.hpp alone: no include/ on the include
// path, no io/ (the artist's curves are drawn here). It trains briefly and prints the
// share of G's curves inside the artist's band before and after.
#include <cmath>
#include <cstdio>

#include <xgan/xgan.hpp>

#ifndef XGAN_SINGLE_INCLUDE
#error "this program must see single_include/xgan/xgan.hpp, not include/xgan/xgan.hpp"
#endif

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

static double point(std::size_t j) { return -1.0 + 2.0 * static_cast<double>(j) / 14.0; }

// Paintings a x^2 + (a - 1), a ~ U(1, 2), at 15 points on [-1, 1].
static void artist_works(xgan::matrix<float>& batch, xgan::Rng& rng) {
    for (std::size_t r = 0; r < batch.shape()[0]; ++r) {
        const double a = rng.uniform(1.0, 2.0);
        for (std::size_t j = 0; j < 15; ++j) batch(r, j) = static_cast<float>(a * point(j) * point(j) + a - 1.0);
    }
}

// The share of curves within x^2 .. 2x^2 + 1, +-0.1, at every point.
static double share_inside_band(const xgan::matrix<float>& curves) {
    std::size_t inside = 0;
    for (std::size_t r = 0; r < curves.shape()[0]; ++r) {
        bool ok = true;
        for (std::size_t j = 0; j < 15 && ok; ++j) {
            const double x = point(j), y = static_cast<double>(curves(r, j));
            ok = y >= x * x - 0.1 && y <= 2 * x * x + 1.1;
        }
        inside += ok;
    }
    return static_cast<double>(inside) / static_cast<double>(curves.shape()[0]);
}

int main() {
    xgan::AdversarialTrainer<Generator, Discriminator> trainer(
        {.generator_optimizer = xgan::Adam{.lr = 1e-4}, .discriminator_optimizer = xgan::Adam{.lr = 1e-4}, .seed = 1});
    const double before = share_inside_band(trainer.sample(1000));
    xgan::Rng data(2);
    xgan::matrix<float> real({64, 15});
    for (int step = 1; step <= 3000; ++step) {
        artist_works(real, data);
        trainer.step(real);
    }
    const double after = share_inside_band(trainer.sample(1000));
    std::printf("inside the band: %.0f%% before training, %.0f%% after 3000 steps\n", 100 * before, 100 * after);
    return before < 0.05 && after > 0.5 ? 0 : 1;
}
