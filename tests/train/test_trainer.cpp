// AdversarialTrainer: what a step changes, reproducibility, and bad input.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include <xgan/xgan.hpp>
#include <xgan/io/paintings.hpp>

using namespace xgan;

namespace {
using Generator = Sequential<Dense<5, 32>, ReLU, Dense<32, 15>>;
using Discriminator = Sequential<Dense<15, 32>, ReLU, Dense<32, 1>, Sigmoid>;
using Trainer = AdversarialTrainer<Generator, Discriminator>;

template <class Net>
std::vector<float> snapshot(const Net& net) {
    return {net.parameters().begin(), net.parameters().end()};
}

matrix<float> real_batch(Rng& rng, std::size_t rows = 16) {
    matrix<float> batch({rows, 15});
    paintings::artist_works(batch, rng);
    return batch;
}
}  // namespace

TEST_CASE("the discriminator is read-only while the generator trains", "[trainer]") {
    Trainer trainer({.seed = 3});
    Rng data(4);
    trainer.step(real_batch(data));
    const auto d_before = snapshot(trainer.discriminator());
    const auto g_before = snapshot(trainer.generator());

    const auto stats = trainer.train_generator(16);
    CHECK(snapshot(trainer.discriminator()) == d_before);  // bit for bit
    CHECK(snapshot(trainer.generator()) != g_before);
    CHECK(stats.d_fake > 0.0);
    CHECK(stats.d_fake < 1.0);

    const auto g_mid = snapshot(trainer.generator());
    trainer.train_discriminator(real_batch(data));
    CHECK(snapshot(trainer.generator()) == g_mid);
    CHECK(snapshot(trainer.discriminator()) != d_before);
}

TEST_CASE("the same seed gives bit-identical weights after N steps", "[trainer][reproducibility]") {
    auto run = [](std::uint64_t seed) {
        Trainer trainer({.generator_optimizer = Adam{.lr = 1e-3}, .discriminator_optimizer = Adam{.lr = 1e-3},
                         .seed = seed});
        Rng data(seed + 100);
        for (int i = 0; i < 200; ++i) trainer.step(real_batch(data));
        return std::pair{snapshot(trainer.generator()), snapshot(trainer.discriminator())};
    };
    const auto a = run(42), b = run(42), c = run(43);
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK(a.first != c.first);
}

TEST_CASE("a step is k discriminator updates, then one generator update", "[trainer]") {
    Trainer stepped({.seed = 5, .discriminator_steps = 3});
    Trainer manual({.seed = 5});
    Rng data(6);
    const auto real = real_batch(data);
    const auto stats = stepped.step(real);
    for (int k = 0; k < 3; ++k) manual.train_discriminator(real);
    manual.train_generator(real.shape()[0]);
    CHECK(snapshot(stepped.discriminator()) == snapshot(manual.discriminator()));
    CHECK(snapshot(stepped.generator()) == snapshot(manual.generator()));
    CHECK(stats.step == 1);
    CHECK(stats.d_score == -stats.d_loss);
}

namespace {
// D's parameters before and after one discriminator update of a fresh trainer, and
// after the same update as two passes spelled out with the networks' own passes, on
// copies of the trainer's networks and Rng taken before it: real rows, then G's rows
// on fresh noise, each through D on its own (D's Dropout drawing its masks as it goes),
// the gradient stored by the first backward pass and added to by the second, then the
// optimizer.
struct JointAndTwoPasses {
    std::vector<float> before, joint, separate;
    double joint_loss = 0, separate_loss = 0;
};

template <class Trainer>
JointAndTwoPasses joint_and_two_pass_updates(typename Trainer::Options options, std::size_t rows) {
    using G = typename Trainer::generator_type;
    using D = typename Trainer::discriminator_type;
    Trainer trainer(options);
    G g = trainer.generator();
    D d = trainer.discriminator();
    Rng rng = trainer.rng();
    Rng data(12);
    const auto real = real_batch(data, rows);
    constexpr std::size_t logits = Trainer::logit_layers;
    JointAndTwoPasses result;
    result.before = snapshot(d);

    typename D::Workspace real_ws, fake_ws;
    typename G::Workspace g_ws;
    real_ws.rng = fake_ws.rng = g_ws.rng = &rng;
    const auto& real_logits = d.template forward<logits>(real_ws, real);
    g_ws.resize(rows);
    rng.fill_normal(std::span<float>(g_ws.input().data(), g_ws.input().size()));
    g.forward(g_ws);
    const auto& fake_logits = d.template forward<logits>(fake_ws, g_ws.output());
    result.separate_loss =
        options.loss.discriminator(real_logits, fake_logits, real_ws.gradients[logits], fake_ws.gradients[logits]);
    std::vector<float> gradient(D::parameter_count);
    d.template backward<logits>(real_ws, gradient, false, GradientMode::overwrite);
    d.template backward<logits>(fake_ws, gradient);
    typename Trainer::discriminator_optimizer_state state(D::parameter_count);
    state.step(options.discriminator_optimizer, d.parameters(), gradient);
    result.separate = snapshot(d);

    result.joint_loss = trainer.train_discriminator(real).d_loss;
    result.joint = snapshot(trainer.discriminator());
    CHECK(trainer.rng() == rng);  // the same number of draws taken
    REQUIRE(result.joint.size() == result.separate.size());
    return result;
}

// Checks the joint update against the two passes: bit for bit, or each parameter to
// within 1e-6 where BLAS computes a product (it may group a 2 x rows sum otherwise).
void check_same_update(const JointAndTwoPasses& r, bool bit_for_bit) {
    if (bit_for_bit) {
        CHECK(r.joint_loss == r.separate_loss);
        CHECK(r.joint == r.separate);
    } else {
        CHECK(r.joint_loss == Approx(r.separate_loss).epsilon(1e-6));
        for (std::size_t i = 0; i < r.joint.size(); ++i) CHECK(r.joint[i] == Approx(r.separate[i]).margin(1e-6));
    }
    std::size_t moved = 0;
    for (std::size_t i = 0; i < r.joint.size(); ++i) moved += r.joint[i] != r.before[i];
    CHECK(moved > r.joint.size() / 2);  // the update did something
}

bool kernels_on() { return detail::kernels::active_path() != detail::kernels::path::blas; }
}  // namespace

TEST_CASE("a stateless discriminator takes real and fake rows in one pass, with the two passes' result",
          "[trainer]") {
    static_assert(Trainer::joint_discriminator_pass);
    using WithBatchNorm = Sequential<Dense<15, 32>, BatchNorm, LeakyReLU, Dense<32, 1>, Sigmoid>;
    static_assert(!AdversarialTrainer<Generator, WithBatchNorm>::joint_discriminator_pass);
    // xgan's kernels add the fake rows' terms after the real rows', as the second pass does.
    check_same_update(joint_and_two_pass_updates<Trainer>({.seed = 11}, 13), kernels_on());
}

TEST_CASE("a discriminator with Dropout takes real and fake rows in one pass, dropping what two passes drop",
          "[trainer]") {
    // SGD, so that each parameter moves by its gradient and a wrong mask shows in every
    // weight it touches (Adam's first step is about lr * sign(gradient)).
    const SGD sgd{.lr = 0.1};
    SECTION("small layers (xgan's kernels): bit for bit") {
        using D = Sequential<Dense<15, 32>, LeakyReLU, Dropout, Dense<32, 24>, ReLU, DropoutWithRate<1, 5>,
                             Dense<24, 1>, Sigmoid>;
        using T = AdversarialTrainer<Generator, D, Adam, SGD>;
        static_assert(T::joint_discriminator_pass);
        check_same_update(joint_and_two_pass_updates<T>({.discriminator_optimizer = sgd, .seed = 21}, 13),
                          kernels_on());
    }
    SECTION("large layers (BLAS): within the products' rounding") {
        // Dense<15, 1200> and Dense<1200, 16> are above the kernels' size limit.
        using D = Sequential<Dense<15, 1200>, LeakyReLU, Dropout, Dense<1200, 16>, LeakyReLU, Dropout, Dense<16, 1>,
                             Sigmoid>;
        using T = AdversarialTrainer<Generator, D, Adam, SGD>;
        static_assert(T::joint_discriminator_pass);
        check_same_update(joint_and_two_pass_updates<T>({.discriminator_optimizer = sgd, .seed = 22}, 37), false);
    }
}

TEST_CASE("step reports the tutorials' monitors", "[trainer]") {
    Trainer trainer({.seed = 8});
    Rng data(9);
    const auto real = real_batch(data, 64);
    const auto stats = trainer.step(real);
    // Recompute D accuracy = mean D(real) on the same batch with D as it was: it is the
    // value before D's update, so compare with a fresh trainer of the same seed.
    Trainer twin({.seed = 8});
    const auto d_real = twin.discriminator().forward(real);
    CHECK(stats.d_accuracy == Approx(xt::mean(d_real)()).epsilon(1e-5));
    CHECK(stats.d_loss > 0);
    CHECK(stats.g_loss < 0);  // mean log(1 - D(G(z))) of a probability < 1
}

TEST_CASE("bad batches are refused before anything changes", "[trainer][errors]") {
    Trainer trainer({.seed = 1});
    const auto g_before = snapshot(trainer.generator());
    const auto d_before = snapshot(trainer.discriminator());

    const matrix<float> wrong = xt::zeros<float>({8, 14});
    CHECK_THROWS_WITH(trainer.step(wrong), Catch::Contains("the real batch must be {batch, 15}") &&
                                               Catch::Contains("14 columns"));
    const matrix<float> empty = xt::zeros<float>({0, 15});
    CHECK_THROWS_WITH(trainer.step(empty), Catch::Contains("the real batch is empty"));
    Rng data(2);
    auto poisoned = real_batch(data);
    poisoned(3, 7) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(trainer.step(poisoned), Catch::Contains("holds nan at row 3, column 7"));
    poisoned(3, 7) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(trainer.step(poisoned), Catch::Contains("holds inf at row 3, column 7"));
    CHECK_THROWS_WITH(trainer.train_generator(0), Catch::Contains("empty"));
    CHECK_THROWS_WITH(Trainer({.discriminator_steps = 0}), Catch::Contains("discriminator_steps must be at least 1"));

    CHECK(snapshot(trainer.generator()) == g_before);
    CHECK(snapshot(trainer.discriminator()) == d_before);
    CHECK(trainer.steps() == 0);
}

TEST_CASE("a non-finite discriminator loss is refused before anything changes", "[trainer][errors]") {
    // A NaN weight in D makes its logits, and so its loss, NaN: on the joint pass and on
    // the two-pass one (a D with Dropout).
    auto check = [](auto trainer) {
        trainer.discriminator().parameters()[0] = std::numeric_limits<float>::quiet_NaN();
        const auto bits = [](const auto& net) {
            std::vector<std::uint32_t> out;
            for (const float p : net.parameters()) out.push_back(std::bit_cast<std::uint32_t>(p));
            return out;
        };
        const auto d_before = bits(trainer.discriminator()), g_before = bits(trainer.generator());
        Rng data(3);
        CHECK_THROWS_WITH(trainer.train_discriminator(real_batch(data)),
                          Catch::Contains("the discriminator's loss is ") && Catch::Contains("nan in step 1") &&
                              Catch::Contains("this update was not applied"));
        CHECK(bits(trainer.discriminator()) == d_before);
        CHECK(bits(trainer.generator()) == g_before);
    };
    check(Trainer({.seed = 4}));
    check(AdversarialTrainer<Generator, Sequential<Dense<15, 32>, LeakyReLU, Dropout, Dense<32, 1>, Sigmoid>>(
        {.seed = 4}));
}

TEST_CASE("other optimizers and losses plug in", "[trainer]") {
    AdversarialTrainer<Generator, Discriminator, SGD, Adam, NonSaturatingLoss> trainer(
        {.generator_optimizer = SGD{.lr = 0.01, .momentum = 0.9}, .loss = NonSaturatingLoss{.real_label = 0.9}});
    Rng data(3);
    const auto g_before = snapshot(trainer.generator());
    const auto stats = trainer.step(real_batch(data));
    CHECK(snapshot(trainer.generator()) != g_before);
    CHECK(stats.g_loss > 0);  // -mean log D(G(z)) is positive
}
