// AdversarialTrainer: what a step changes, reproducibility, and bad input.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
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

TEST_CASE("optimizer settings are checked when the trainer is built and before each update", "[trainer][errors]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(Trainer({.generator_optimizer = Adam{.lr = nan}}),
                      "xgan::Adam: lr is nan; it must be finite and >= 0");
    CHECK_THROWS_WITH(Trainer({.discriminator_optimizer = Adam{.beta2 = 1.5}}),
                      "xgan::Adam: beta2 is 1.5; it must be in [0, 1)");
    CHECK_THROWS_WITH((AdversarialTrainer<Generator, Discriminator, SGD, SGD>({.generator_optimizer = SGD{.momentum = -1}})),
                      "xgan::SGD: momentum is -1; it must be finite and >= 0");

    // options() can be changed between steps: the next step checks them before it
    // draws or changes anything, so a bad generator setting does not let D's update through.
    Trainer trainer({.seed = 2});
    Rng data(3);
    const auto real = real_batch(data);
    trainer.step(real);
    const Trainer before = trainer;
    const auto unchanged = [&] {
        CHECK(trainer.generator() == before.generator());
        CHECK(trainer.discriminator() == before.discriminator());
        CHECK(trainer.generator_state() == before.generator_state());
        CHECK(trainer.discriminator_state() == before.discriminator_state());
        CHECK(trainer.rng() == before.rng());
        CHECK(trainer.steps() == 1);
    };
    trainer.options().generator_optimizer.beta1 = 1;
    CHECK_THROWS_WITH(trainer.step(real), "xgan::Adam: beta1 is 1; it must be in [0, 1)");
    CHECK_THROWS_WITH(trainer.train_generator(16), "xgan::Adam: beta1 is 1; it must be in [0, 1)");
    unchanged();
    trainer.options().generator_optimizer.beta1 = 0.9;
    trainer.options().discriminator_optimizer.eps = 0;
    CHECK_THROWS_WITH(trainer.step(real), "xgan::Adam: eps is 0; it must be finite and > 0");
    CHECK_THROWS_WITH(trainer.train_discriminator(real), "xgan::Adam: eps is 0; it must be finite and > 0");
    unchanged();
    trainer.options().discriminator_optimizer.eps = nan;
    CHECK_THROWS_WITH(trainer.step(real), "xgan::Adam: eps is nan; it must be finite and > 0");
    trainer.options().discriminator_optimizer.eps = 1e-8;
    trainer.options().discriminator_optimizer.lr = -1e-4;
    CHECK_THROWS_WITH(trainer.step(real), "xgan::Adam: lr is -0.0001; it must be finite and >= 0");
    unchanged();
}

namespace {
// G with BatchNorm, so that its running statistics show whether a refused update folded
// its batches into them; D with no BatchNorm (joint pass) or with it (two passes).
template <class T>
using NormGenerator = BasicSequential<T, Dense<5, 32>, BatchNorm, ReLU, Dense<32, 15>>;
template <class T>
using JointD = BasicSequential<T, Dense<15, 32>, ReLU, Dense<32, 1>, Sigmoid>;
template <class T>
using TwoPassD = BasicSequential<T, Dense<15, 32>, BatchNorm, LeakyReLU, Dense<32, 1>, Sigmoid>;

template <class T>
matrix<T> real_batch_of(Rng& rng) {
    const matrix<float> batch = real_batch(rng);
    return xt::cast<T>(batch);
}

// The bits of everything a refused update must leave as it was.
template <class Net>
std::vector<unsigned char> bits_of(const Net& net) {
    std::vector<unsigned char> out;
    for (const auto& named : {net.named_parameters(), net.named_buffers()})
        for (const auto& p : named) {
            const auto* b = reinterpret_cast<const unsigned char*>(p.values.data());
            out.insert(out.end(), b, b + p.values.size_bytes());
        }
    return out;
}
template <class State>
std::vector<unsigned char> state_bits(const State& state) {
    std::vector<unsigned char> out;
    const std::uint64_t steps = state.steps();
    const auto* s = reinterpret_cast<const unsigned char*>(&steps);
    out.insert(out.end(), s, s + sizeof steps);
    for (const auto& [name, values] : state.named_tensors()) {
        const auto* b = reinterpret_cast<const unsigned char*>(values.data());
        out.insert(out.end(), b, b + values.size_bytes());
    }
    return out;
}

struct TrainerBits {
    std::vector<unsigned char> g, d, g_state, d_state;
    bool operator==(const TrainerBits&) const = default;
};
template <class Tr>
TrainerBits trainer_bits(const Tr& t) {
    return {bits_of(t.generator()), bits_of(t.discriminator()), state_bits(t.generator_state()),
            state_bits(t.discriminator_state())};
}

// Three good steps, then `bad` settings for D's optimizer (or G's): step() must throw
// with `message` and "not applied" in its text. A refused D update leaves both networks
// (parameters and BatchNorm statistics), both optimizer states and steps() as they were;
// a refused G update leaves them as that step's D update left them. The Rng has drawn
// the refused update's noise. With the settings put back, training goes on.
template <class T, class D, class O>
void check_refused_step(const O& good, const O& bad, bool bad_for_generator) {
    using Tr = AdversarialTrainer<NormGenerator<T>, D, O, O>;
    Tr trainer({.generator_optimizer = good, .discriminator_optimizer = good, .seed = 7});
    Rng data(8);
    const matrix<T> real = real_batch_of<T>(data);
    for (int i = 0; i < 3; ++i) trainer.step(real);
    const Tr before = trainer;
    // What the trainer must equal after the refusal: before, or before plus one D update.
    Tr expected = before;
    if (bad_for_generator) expected.train_discriminator(real);

    (bad_for_generator ? trainer.options().generator_optimizer : trainer.options().discriminator_optimizer) = bad;
    const std::string network = bad_for_generator ? "the generator's update in step 4 would leave a value non-finite"
                                                  : "the discriminator's update in step 4 would leave a value non-finite";
    CHECK_THROWS_WITH(trainer.step(real), Catch::Contains(network) && Catch::Contains("this update was not applied"));
    CHECK(trainer_bits(trainer) == trainer_bits(expected));
    CHECK(trainer.steps() == 3);
    CHECK(trainer.rng() != before.rng());  // the noise of the refused update was drawn
    if (bad_for_generator)
        CHECK_THROWS_WITH(trainer.step(real), Catch::Contains("not applied, but this step's discriminator updates were "
                                                              "(check the data and learning rates)"));
    else
        CHECK_THROWS_WITH(trainer.step(real), Catch::Contains("not applied (check the data and learning rates)"));
    CHECK(trainer.steps() == 3);

    (bad_for_generator ? trainer.options().generator_optimizer : trainer.options().discriminator_optimizer) = good;
    const auto stats = trainer.step(real);
    CHECK(stats.step == 4);
    CHECK(trainer_bits(trainer) != trainer_bits(expected));
    CHECK(std::isfinite(stats.g_loss));
}

// A gradient whose square overflows Adam's second moment: D's last layer scaled up until
// the gradients through it pass sqrt(max) (1e25 in float, 1e200 in double), and turned
// round, so that D calls the real rows fake and G's rows real (a D sure of itself
// everywhere would give every gradient 0).
template <class T, class D>
void check_overflowing_gradient() {
    using Tr = AdversarialTrainer<NormGenerator<T>, D>;
    Tr trainer({.seed = 9});
    Rng data(10);
    const matrix<T> real = real_batch_of<T>(data);
    trainer.step(real);
    auto params = trainer.discriminator().parameters();
    const T scale = std::is_same_v<T, float> ? T(-1e25) : T(-1e200);
    for (std::size_t i = params.size() - 33; i + 1 < params.size(); ++i) params[i] *= scale;  // Dense<32, 1>'s weights
    const auto before = trainer_bits(trainer);
    const Rng rng_before = trainer.rng();
    CHECK_THROWS_WITH(trainer.step(real), Catch::Contains("the discriminator's update in step 2 would leave") &&
                                              Catch::Contains("exp_avg_sq inf"));
    CHECK(trainer_bits(trainer) == before);
    CHECK_THROWS_WITH(trainer.train_generator(16), Catch::Contains("the generator's update in step 2 would leave") &&
                                                       Catch::Contains("exp_avg_sq inf") &&
                                                       !Catch::Contains("discriminator updates were"));
    CHECK(trainer_bits(trainer) == before);
    CHECK(trainer.steps() == 1);
    CHECK(trainer.rng() != rng_before);
}
}  // namespace

TEMPLATE_TEST_CASE("an update that would leave a value non-finite is refused, changing nothing", "[trainer][errors]",
                   float, double) {
    using T = TestType;
    const double huge = static_cast<double>(std::numeric_limits<T>::max());
    static_assert(AdversarialTrainer<NormGenerator<T>, JointD<T>>::joint_discriminator_pass);
    static_assert(!AdversarialTrainer<NormGenerator<T>, TwoPassD<T>>::joint_discriminator_pass);
    for (const bool generator : {false, true}) {
        SECTION(generator ? "Adam, G's learning rate huge" : "Adam, D's learning rate huge") {
            check_refused_step<T, JointD<T>>(Adam{.lr = 1e-3}, Adam{.lr = huge}, generator);
            check_refused_step<T, TwoPassD<T>>(Adam{.lr = 1e-3}, Adam{.lr = huge}, generator);
        }
        SECTION(generator ? "SGD, G's learning rate and momentum huge" : "SGD, D's learning rate and momentum huge") {
            const SGD good{.lr = 1e-2, .momentum = 0.9}, bad{.lr = huge, .momentum = 1e6};
            check_refused_step<T, JointD<T>>(good, bad, generator);
            check_refused_step<T, TwoPassD<T>>(good, bad, generator);
        }
    }
    SECTION("Adam, a gradient whose square overflows") {
        check_overflowing_gradient<T, JointD<T>>();
        check_overflowing_gradient<T, TwoPassD<T>>();
    }
}

namespace {
// An optimizer that cannot refuse an update (no try_step): plain gradient descent.
struct PlainDescent {
    double lr = 1e-2;
    template <class T>
    class state {
    public:
        explicit state(std::size_t) {}
        void step(const PlainDescent& o, std::span<T> params, std::span<const T> grads) {
            for (std::size_t i = 0; i < params.size(); ++i) params[i] -= static_cast<T>(o.lr) * grads[i];
            ++steps_;
        }
        std::uint64_t steps() const { return steps_; }

    private:
        std::uint64_t steps_ = 0;
    };
};
static_assert(Optimizer<PlainDescent> && !refusing_optimizer<PlainDescent>);
static_assert(refusing_optimizer<Adam> && refusing_optimizer<SGD, double>);
}  // namespace

TEST_CASE("an optimizer without try_step: the trainer puts back the parameters and the state", "[trainer][errors]") {
    AdversarialTrainer<Generator, Discriminator, PlainDescent, PlainDescent> trainer({.seed = 5});
    Rng data(6);
    const auto real = real_batch(data);
    trainer.step(real);
    const auto g_before = snapshot(trainer.generator()), d_before = snapshot(trainer.discriminator());
    trainer.options().discriminator_optimizer.lr = static_cast<double>(std::numeric_limits<float>::max());
    CHECK_THROWS_WITH(trainer.step(real), Catch::Contains("the discriminator's update in step 2 would leave a value "
                                                          "non-finite: parameter ") &&
                                              Catch::Contains("this update was not applied"));
    CHECK(snapshot(trainer.discriminator()) == d_before);
    CHECK(snapshot(trainer.generator()) == g_before);
    CHECK(trainer.discriminator_state().steps() == 1);  // the copy of the state was put back
    CHECK(trainer.steps() == 1);
}
