// The trainer on conditional networks: labels go with the real batch, the fake labels
// come from the trainer's Rng (a run replays bit for bit from its seed), the condition
// reaches D in both updates, and a small conditional GAN learns a different
// distribution per class.
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>

using namespace xgan;

namespace {

constexpr std::size_t K = 3;  // classes
// G: [z (4), onehot(y)] -> one value; D: [x, onehot(y)] -> probability.
using G = Conditional<K, Sequential<Dense<4 + K, 32>, LeakyReLU, Dense<32, 1>>>;
using D = Conditional<K, Sequential<Dense<1 + K, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>>;
// The same with a learned embedding in both, and a D with BatchNorm (two passes).
using EmbeddingG = Conditional<K, Sequential<Input<4 + K>, Embedding<K, 5>, Dense<9, 32>, LeakyReLU, Dense<32, 1>>>;
using BatchNormD =
    Conditional<K, Sequential<Input<1 + K>, Embedding<K, 4>, Dense<5, 32>, BatchNorm, LeakyReLU, Dense<32, 1>, Sigmoid>>;

// Class y's data: N(2y - 2, 0.1^2), so the classes' means are -2, 0 and 2.
void draw_real(matrix<float>& real, std::vector<std::uint8_t>& labels, Rng& rng) {
    for (std::size_t r = 0; r < labels.size(); ++r) {
        labels[r] = static_cast<std::uint8_t>(rng.below(K));
        real(r, 0) = static_cast<float>(2.0 * labels[r] - 2.0 + 0.1 * rng.normal());
    }
}

template <class Trainer>
void train(Trainer& trainer, std::size_t steps, std::uint64_t data_seed) {
    Rng data(data_seed);
    matrix<float> real({32, 1});
    std::vector<std::uint8_t> labels(32);
    for (std::size_t s = 0; s < steps; ++s) {
        draw_real(real, labels, data);
        trainer.step(real, labels);
    }
}

}  // namespace

TEST_CASE("A conditional GAN's trainer checks its types") {
    using Trainer = AdversarialTrainer<G, D>;
    STATIC_REQUIRE(Trainer::conditional);
    STATIC_REQUIRE(Trainer::classes == K);
    STATIC_REQUIRE(Trainer::sample_size == 1);
    STATIC_REQUIRE(!AdversarialTrainer<Sequential<Dense<2, 1>>, Sequential<Dense<1, 1>>>::conditional);
}

TEMPLATE_TEST_CASE("A conditional run replays bit for bit from its seed", "", (AdversarialTrainer<G, D>),
                   (AdversarialTrainer<EmbeddingG, BatchNormD>)) {
    TestType a({.seed = 7, .discriminator_steps = 2}), b({.seed = 7, .discriminator_steps = 2});
    train(a, 5, 1);
    train(b, 5, 1);
    CHECK(a.generator() == b.generator());
    CHECK(a.discriminator() == b.discriminator());
    // Other real labels change D (the real condition reaches it) and, through D, G.
    TestType c({.seed = 7, .discriminator_steps = 2});
    Rng data(1);
    matrix<float> real({32, 1});
    std::vector<std::uint8_t> labels(32);
    for (int s = 0; s < 5; ++s) {
        draw_real(real, labels, data);
        for (auto& l : labels) l = static_cast<std::uint8_t>((l + 1) % K);
        c.step(real, labels);
    }
    CHECK_FALSE(c.discriminator() == a.discriminator());
    CHECK_FALSE(c.generator() == a.generator());
}

TEST_CASE("The generator's update reaches D's condition: only G's output columns get D's gradient") {
    // A D that reads only the condition gives G no gradient at all; one that reads x does.
    using BlindD = Conditional<K, Sequential<Input<1 + K>, Embedding<K, 1>, Dense<2, 1>, Sigmoid>>;
    AdversarialTrainer<G, BlindD, SGD, SGD> trainer({.seed = 3});
    // Zero D's weight on x (Dense's weight {1, 2}: [x, e]).
    trainer.discriminator().template parameters_of<1>()[0] = 0;
    const G before = trainer.generator();
    Rng data(2);
    matrix<float> real({8, 1});
    std::vector<std::uint8_t> labels(8);
    draw_real(real, labels, data);
    (void)trainer.train_generator(8);
    CHECK(trainer.generator() == before);
    trainer.discriminator().template parameters_of<1>()[0] = 1;
    (void)trainer.train_generator(8);
    CHECK_FALSE(trainer.generator() == before);
}

TEST_CASE("A conditional step refuses bad labels and changes nothing") {
    AdversarialTrainer<G, D> trainer({.seed = 1});
    const G g = trainer.generator();
    const D d = trainer.discriminator();
    matrix<float> real({4, 1}, 0.0f);
    const std::vector<std::uint8_t> out_of_range = {0, 1, 3, 2}, too_few = {0, 1, 2};
    CHECK_THROWS_WITH(trainer.step(real, out_of_range), Catch::Contains("label 3 at row 2 is not below the class count 3"));
    CHECK_THROWS_WITH(trainer.step(real, too_few), Catch::Contains("the real batch has 4 rows but 3 labels"));
    CHECK(trainer.generator() == g);
    CHECK(trainer.discriminator() == d);
    CHECK(trainer.steps() == 0);
}

TEST_CASE("A small conditional GAN learns each class's distribution") {
    AdversarialTrainer<EmbeddingG, D> trainer({.generator_optimizer = {.lr = 2e-3},
                                               .discriminator_optimizer = {.lr = 2e-3},
                                               .seed = 11});
    auto mean_of = [&](std::uint8_t label) {
        const std::vector<std::uint8_t> labels(300, label);
        const matrix<float> samples = trainer.sample(labels);
        double sum = 0;
        for (const float v : samples) sum += v;
        return sum / 300;
    };
    train(trainer, 600, 5);
    for (std::uint8_t y = 0; y < K; ++y) {
        INFO("class " << int(y));
        CHECK(std::abs(mean_of(y) - (2.0 * y - 2.0)) < 0.5);
    }
}
