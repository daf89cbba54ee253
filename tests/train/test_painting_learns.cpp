// The flagship example learns: after a CI-sized run with a fixed seed, the painting GAN's
// curves lie in the artist's band and the discriminator is near its equilibrium.
#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>
#include <xgan/io/paintings.hpp>

using namespace xgan;

TEST_CASE("the painting GAN learns the artist's band", "[trainer][learning]") {
    // SEEDS.md Example 1: batch 64, 5 ideas, 15 points, Adam 1e-4, minimax losses.
    using Generator = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
    using Discriminator = Sequential<Dense<15, 128>, ReLU, Dense<128, 1>, Sigmoid>;
    AdversarialTrainer<Generator, Discriminator> trainer(
        {.generator_optimizer = Adam{.lr = 1e-4}, .discriminator_optimizer = Adam{.lr = 1e-4}, .seed = 1});
    Rng data(2);
    matrix<float> real({64, 15});

    const auto untrained = trainer.sample(1000);
    const double share_before = paintings::share_inside_band(untrained, 0.1);

    constexpr int steps = 4000, window = 100;
    double d_accuracy = 0, d_score = 0;
    for (int step = 0; step < steps; ++step) {
        paintings::artist_works(real, data);
        const auto stats = trainer.step(real);
        if (step >= steps - window) {
            d_accuracy += stats.d_accuracy / window;
            d_score += stats.d_score / window;
        }
    }
    const double share = paintings::share_inside_band(trainer.sample(1000), 0.1);
    INFO("share inside [x^2 - 0.1, 2x^2 + 1.1]: before " << share_before << ", after " << share);
    INFO("last " << window << " steps: mean D(real) " << d_accuracy << ", D score " << d_score);
    CHECK(share_before < 0.05);
    CHECK(share >= 0.85);
    CHECK(d_accuracy == Approx(0.5).margin(0.05));
    CHECK(d_score == Approx(2 * std::log(0.5)).margin(0.05));
}
