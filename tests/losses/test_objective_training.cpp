// Each score-reading objective trains a small GAN through AdversarialTrainer on a toy
// problem and learns something measurable: G's samples move from around the origin to
// the data's mean (2, -1) (real data N((2, -1), 0.3^2 I)). Also what the trainer does
// with the objectives' declarations: the whole critic is run (no Sigmoid skipped), the
// weights are clipped after each critic update, and the monitors each reports.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include <xgan/xgan.hpp>

using namespace xgan;

namespace {

using Generator = Sequential<Dense<2, 16>, LeakyReLU, Dense<16, 2>>;
using Critic = Sequential<Dense<2, 32>, LeakyReLU, Dense<32, 1>>;

constexpr float mean_x = 2.0f, mean_y = -1.0f;

matrix<float> real_batch(Rng& rng, std::size_t rows = 64) {
    matrix<float> batch({rows, 2});
    rng.fill_normal(std::span<float>(batch.data(), batch.size()));
    for (std::size_t r = 0; r < rows; ++r) {
        batch(r, 0) = mean_x + 0.3f * batch(r, 0);
        batch(r, 1) = mean_y + 0.3f * batch(r, 1);
    }
    return batch;
}

// Distance between the mean of 512 of G's samples and the data's mean.
template <class Trainer>
double mean_distance(Trainer& trainer) {
    const matrix<float> s = trainer.sample(512);
    double x = 0, y = 0;
    for (std::size_t r = 0; r < s.shape()[0]; ++r) {
        x += s(r, 0);
        y += s(r, 1);
    }
    x /= static_cast<double>(s.shape()[0]);
    y /= static_cast<double>(s.shape()[0]);
    return std::hypot(x - mean_x, y - mean_y);
}

// Trains 600 steps of 5 critic updates each with Adam lr 1e-3, betas (0, 0.9) (WGAN-GP's
// setting; the one setting for all three); returns the distance before and after.
template <class L>
std::pair<double, double> train(const L& loss, std::uint64_t seed) {
    const Adam adam{.lr = 1e-3, .beta1 = 0.0, .beta2 = 0.9};
    AdversarialTrainer<Generator, Critic, Adam, Adam, L> trainer(
        {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = loss, .seed = seed,
         .discriminator_steps = 5});
    Rng data(seed + 1);
    const double before = mean_distance(trainer);
    for (int i = 0; i < 600; ++i) trainer.step(real_batch(data));
    return {before, mean_distance(trainer)};
}

}  // namespace

// The data's mean is about 2.2 away from G's initial samples; each objective brings it
// within 0.25 (seeds 11 to 14 all end within 0.16).
TEST_CASE("WGAN with weight clipping moves G's samples onto the data", "[losses][training]") {
    const auto [before, after] = train(WassersteinLoss{.clip = 0.05}, 11);
    CHECK(before > 1.5);
    CHECK(after < 0.25);
}

TEST_CASE("the hinge loss moves G's samples onto the data", "[losses][training]") {
    const auto [before, after] = train(HingeLoss{}, 12);
    CHECK(before > 1.5);
    CHECK(after < 0.25);
}

TEST_CASE("LSGAN moves G's samples onto the data", "[losses][training]") {
    const auto [before, after] = train(LeastSquaresLoss{}, 13);
    CHECK(before > 1.5);
    CHECK(after < 0.25);
}

TEST_CASE("a critic update is followed by the weight clipping", "[losses][trainer]") {
    using Trainer = AdversarialTrainer<Generator, Critic, SGD, SGD, WassersteinLoss>;
    Trainer clipped({.discriminator_optimizer = SGD{.lr = 0.5}, .loss = WassersteinLoss{.clip = 0.01}, .seed = 3});
    Trainer unclipped({.discriminator_optimizer = SGD{.lr = 0.5}, .loss = WassersteinLoss{.clip = 0}, .seed = 3});
    Rng data(4);
    const auto real = real_batch(data);
    clipped.train_discriminator(real);
    unclipped.train_discriminator(real);
    float largest = 0;
    for (const float p : unclipped.discriminator().parameters()) largest = std::max(largest, std::abs(p));
    REQUIRE(largest > 0.01f);  // the control: without clipping some parameter leaves [-0.01, 0.01]
    const auto clipped_params = clipped.discriminator().parameters();
    const auto free_params = unclipped.discriminator().parameters();
    for (std::size_t i = 0; i < clipped_params.size(); ++i)
        CHECK(clipped_params[i] == std::clamp(free_params[i], -0.01f, 0.01f));
}

TEST_CASE("each objective reports its monitors", "[losses][trainer]") {
    Rng data(5);
    const auto real = real_batch(data);
    SECTION("WGAN: the Wasserstein estimate; no probabilities") {
        AdversarialTrainer<Generator, Critic, Adam, Adam, WassersteinLoss> trainer({.seed = 6});
        const StepStats s = trainer.step(real);
        CHECK(std::isnan(s.d_accuracy));
        CHECK(std::isnan(s.d_fake));
        CHECK(s.wasserstein == s.real_score - s.fake_score);
        CHECK(s.wasserstein == Approx(-s.d_loss).epsilon(1e-12));  // D_loss = mean fake - mean real
        CHECK(s.real_score != 0);
    }
    SECTION("hinge and LSGAN: mean scores, no probabilities, no Wasserstein estimate") {
        AdversarialTrainer<Generator, Critic, Adam, Adam, HingeLoss> hinge({.seed = 6});
        const StepStats h = hinge.step(real);
        CHECK(std::isnan(h.d_accuracy));
        CHECK(std::isnan(h.wasserstein));
        CHECK(std::isfinite(h.real_score));
        AdversarialTrainer<Generator, Critic, Adam, Adam, LeastSquaresLoss> lsgan({.seed = 6});
        const StepStats l = lsgan.step(real);
        CHECK(std::isnan(l.d_fake));
        CHECK(std::isnan(l.wasserstein));
    }
    SECTION("minimax: probabilities, the mean logits, no Wasserstein estimate") {
        AdversarialTrainer<Generator, Sequential<Dense<2, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>> trainer({.seed = 6});
        const StepStats s = trainer.step(real);
        CHECK(s.d_accuracy > 0.0);
        CHECK(s.d_accuracy < 1.0);
        CHECK(std::isnan(s.wasserstein));
        // d_accuracy is mean sigmoid of the logits whose mean is real_score: on the same side of 0.5.
        CHECK((s.d_accuracy > 0.5) == (s.real_score > 0));
    }
}

TEST_CASE("a score objective reads D's whole output; a logit loss skips a final Sigmoid", "[losses][trainer]") {
    using WithSigmoid = Sequential<Dense<2, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>;
    STATIC_REQUIRE(AdversarialTrainer<Generator, WithSigmoid>::logit_layers == 3);
    STATIC_REQUIRE(AdversarialTrainer<Generator, Critic, Adam, Adam, HingeLoss>::logit_layers == 3);
    STATIC_REQUIRE(AdversarialTrainer<Generator, Critic, Adam, Adam, HingeLoss>::loss_reads == CriticOutput::score);
    // LSGAN's scores are D's outputs: its real_score is the mean of D.forward on the batch.
    AdversarialTrainer<Generator, Critic, Adam, Adam, LeastSquaresLoss> trainer({.seed = 8});
    Rng data(9);
    const auto real = real_batch(data);
    Critic before = trainer.discriminator();
    const StepStats s = trainer.train_discriminator(real);
    const matrix<float> scores = before.forward(real);
    double mean = 0;
    for (const float v : scores) mean += v;
    CHECK(s.real_score == Approx(mean / 64).epsilon(1e-6));
}

TEST_CASE("a bad objective setting is refused when the trainer is built and before a step", "[losses][errors]") {
    using Trainer = AdversarialTrainer<Generator, Critic, Adam, Adam, WassersteinLoss>;
    CHECK_THROWS_AS(Trainer({.loss = WassersteinLoss{.clip = -1}}), std::invalid_argument);
    Trainer trainer({.seed = 1});
    const auto before = std::vector<float>(trainer.discriminator().parameters().begin(),
                                           trainer.discriminator().parameters().end());
    trainer.options().loss.clip = -1;
    Rng data(2);
    CHECK_THROWS_WITH(trainer.step(real_batch(data)), Catch::Matchers::Contains("clip"));
    CHECK(std::vector<float>(trainer.discriminator().parameters().begin(),
                             trainer.discriminator().parameters().end()) == before);
}

TEST_CASE("WGAN at the paper's settings: RMSprop lr 5e-5, clip 0.01, 5 critic updates", "[losses][training]") {
    using Trainer = AdversarialTrainer<Generator, Critic, RMSprop, RMSprop, WassersteinLoss>;
    Trainer trainer({.generator_optimizer = RMSprop{.lr = 5e-5}, .discriminator_optimizer = RMSprop{.lr = 5e-5},
                     .seed = 14, .discriminator_steps = 5});
    Rng data(15);
    StepStats first, last;
    for (int i = 0; i < 100; ++i) {
        last = trainer.step(real_batch(data));
        if (i == 0) first = last;
    }
    for (const float p : trainer.discriminator().parameters()) CHECK(std::abs(p) <= 0.01f);
    // The critic learns to score the data (2.2 away from G's samples) above the fakes:
    // its Wasserstein estimate grows from where the clipped initialisation puts it.
    CHECK(last.wasserstein > 0);
    CHECK(last.wasserstein > 3 * std::abs(first.wasserstein));
}
