// WassersteinGPLoss and R1Loss through the trainer: one critic update's gradient against
// central differences of the whole critic loss (the loss plus its gradient penalty) in
// double on a tiny critic, the reported penalty, a short training run, and settings.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>

#include "golden/golden_data.hpp"

using namespace xgan;

namespace {

using TinyG = BasicSequential<double, Dense<2, 3>>;
using TinyCritic = BasicSequential<double, Dense<3, 5>, Tanh, Dense<5, 1>>;
constexpr std::size_t batch = 4;

// The critic's input gradient grad_x D(x_i), row by row.
matrix<double> input_gradient(const TinyCritic& critic, const matrix<double>& x) {
    TinyCritic::Workspace ws;
    critic.forward(ws, x);
    std::fill(ws.gradients[TinyCritic::layer_count].begin(), ws.gradients[TinyCritic::layer_count].end(), 1.0);
    return critic.backward_input(ws);
}

double mean_output(const TinyCritic& critic, const matrix<double>& x) {
    TinyCritic::Workspace ws;
    const matrix<double>& out = critic.forward(ws, x);
    double sum = 0;
    for (const double v : out) sum += v;
    return sum / static_cast<double>(out.size());
}

// The written-out losses, on the critic's current parameters.
double wgan_gp_loss(const TinyCritic& critic, const matrix<double>& real, const matrix<double>& fake,
                    const matrix<double>& x_hat, double lambda) {
    const matrix<double> g = input_gradient(critic, x_hat);
    double penalty = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double squares = 0;
        for (std::size_t k = 0; k < 3; ++k) squares += g(r, k) * g(r, k);
        penalty += (std::sqrt(squares) - 1) * (std::sqrt(squares) - 1);
    }
    return mean_output(critic, fake) - mean_output(critic, real) + lambda * penalty / batch;
}

double r1_loss(const TinyCritic& critic, const matrix<double>& real, const matrix<double>& fake, double gamma) {
    TinyCritic::Workspace ws;
    double bce = 0;
    const matrix<double> real_out = critic.forward(ws, real);
    const matrix<double> fake_out = critic.forward(ws, fake);
    for (std::size_t r = 0; r < batch; ++r)  // -log sigmoid(l_real) - log(1 - sigmoid(l_fake))
        bce += std::log1p(std::exp(-real_out(r, 0))) + std::log1p(std::exp(fake_out(r, 0)));
    const matrix<double> g = input_gradient(critic, real);
    double squares = 0;
    for (const double v : g) squares += v * v;
    return bce / batch + gamma / 2 * squares / batch;
}

struct Update {
    std::vector<double> before, gradient;
    StepStats stats;
    matrix<double> real, fake, mix;
};

// One critic update with SGD at lr 1 (parameters move by minus the gradient), on noise
// given to step; returns the gradient, the batches and the interpolation weights.
template <class L>
Update critic_update(const L& loss, std::uint64_t seed) {
    using Trainer = AdversarialTrainer<TinyG, TinyCritic, SGD, SGD, L>;
    Trainer trainer(TinyG(seed), TinyCritic(seed + 1),
                    {.generator_optimizer = SGD{.lr = 0.0}, .discriminator_optimizer = SGD{.lr = 1.0},
                     .loss = loss, .seed = seed + 2});
    Update u;
    Rng data(seed + 3);
    u.real = matrix<double>({batch, 3});
    data.fill_normal(std::span<double>(u.real.data(), u.real.size()));
    matrix<double> d_noise({batch, 2}), g_noise({batch, 2});
    data.fill_normal(std::span<double>(d_noise.data(), d_noise.size()));
    data.fill_normal(std::span<double>(g_noise.data(), g_noise.size()));
    u.fake = trainer.generate(d_noise);
    u.before.assign(trainer.discriminator().parameters().begin(), trainer.discriminator().parameters().end());
    // The trainer's Rng draws only the interpolation weights in this step.
    Rng replay(seed + 2);
    u.mix = matrix<double>({batch, 1});
    replay.fill_uniform(std::span<double>(u.mix.data(), batch), 0.0, 1.0);
    u.stats = trainer.step(u.real, d_noise, g_noise);
    const auto after = trainer.discriminator().parameters();
    for (std::size_t i = 0; i < after.size(); ++i) u.gradient.push_back(u.before[i] - after[i]);
    return u;
}

template <class F>
void check_against_differences(const std::vector<double>& params, const std::vector<double>& gradient, F loss_at) {
    REQUIRE(gradient.size() == params.size());
    double worst = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const double h = 1e-5;
        std::vector<double> plus = params, minus = params;
        plus[i] += h;
        minus[i] -= h;
        const double difference = (loss_at(plus) - loss_at(minus)) / (2 * h);
        INFO("parameter " << i << ": pass " << gradient[i] << ", differences " << difference);
        CHECK(std::abs(gradient[i] - difference) <= 1e-7 * std::max(1.0, std::abs(difference)));
        worst = std::max(worst, std::abs(gradient[i]));
    }
    CHECK(worst > 1e-3);  // the control: the gradient is not trivially zero
}

TinyCritic critic_with(const std::vector<double>& params) {
    TinyCritic critic;
    std::copy(params.begin(), params.end(), critic.parameters().begin());
    return critic;
}

}  // namespace

TEST_CASE("WGAN-GP's critic gradient is the whole loss's, penalty at the interpolates included", "[losses][penalty]") {
    const double lambda = 10;
    const Update u = critic_update(WassersteinGPLoss{.lambda = lambda}, 21);
    matrix<double> x_hat({batch, 3});
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t k = 0; k < 3; ++k) x_hat(r, k) = u.mix(r, 0) * u.real(r, k) + (1 - u.mix(r, 0)) * u.fake(r, k);
    check_against_differences(u.before, u.gradient, [&](const std::vector<double>& p) {
        return wgan_gp_loss(critic_with(p), u.real, u.fake, x_hat, lambda);
    });
    // The stats: the loss includes the penalty; the Wasserstein estimate does not.
    const TinyCritic critic = critic_with(u.before);
    const double wasserstein = mean_output(critic, u.real) - mean_output(critic, u.fake);
    CHECK(u.stats.wasserstein == Approx(wasserstein).epsilon(1e-12));
    CHECK(u.stats.d_loss == Approx(wgan_gp_loss(critic, u.real, u.fake, x_hat, lambda)).epsilon(1e-12));
    CHECK(u.stats.penalty == Approx(u.stats.d_loss + wasserstein).epsilon(1e-12));
    CHECK(u.stats.penalty > 0);
}

TEST_CASE("R1's critic gradient is the whole loss's, penalty on the real batch included", "[losses][penalty]") {
    const double gamma = 3;
    const Update u = critic_update(R1Loss<>{.gamma = gamma}, 31);
    check_against_differences(u.before, u.gradient, [&](const std::vector<double>& p) {
        return r1_loss(critic_with(p), u.real, u.fake, gamma);
    });
    CHECK(u.stats.d_loss == Approx(r1_loss(critic_with(u.before), u.real, u.fake, gamma)).epsilon(1e-12));
    CHECK(u.stats.penalty > 0);
    CHECK(std::isnan(u.stats.wasserstein));
    CHECK(u.stats.d_accuracy > 0);  // a logit loss underneath: D's output is a probability
}

// One trainer step of `loss` on the golden case `name` (tests/golden/generate_objectives.py:
// float64, SGD at lr for both networks, noise given, the trainer seeded with `seed`),
// checked against PyTorch autograd with create_graph=True.
template <class L>
void check_step_against_torch(const std::string& name, const L& loss, double lr, std::uint64_t seed) {
    const auto data =
        golden::data_file::load(std::string(XGAN_TEST_DATA_DIR) + "/../golden/data/objectives.txt");
    const auto load = [&](const std::string& block, std::size_t rows, std::size_t cols) {
        const auto& b = data.get(name + "." + block, rows, cols);
        matrix<double> m({rows, cols});
        std::copy(b.values.begin(), b.values.end(), m.begin());
        return m;
    };
    TinyG g;
    TinyCritic d;
    const auto& g_param = data.get(name + ".G.param", 1, TinyG::parameter_count).values;
    const auto& d_param = data.get(name + ".D.param", 1, TinyCritic::parameter_count).values;
    std::copy(g_param.begin(), g_param.end(), g.parameters().begin());
    std::copy(d_param.begin(), d_param.end(), d.parameters().begin());
    AdversarialTrainer<TinyG, TinyCritic, SGD, SGD, L> trainer(
        g, d, {.generator_optimizer = SGD{.lr = lr}, .discriminator_optimizer = SGD{.lr = lr}, .loss = loss,
               .seed = seed});
    const StepStats s =
        trainer.step(load("real", batch, 3), load("z_d", batch, 2), load("z_g", batch, 2));
    CHECK(s.d_loss == Approx(data.scalar(name + ".d_loss")).epsilon(1e-13));
    CHECK(s.penalty == Approx(data.scalar(name + ".penalty")).epsilon(1e-13));
    CHECK(s.g_loss == Approx(data.scalar(name + ".g_loss")).epsilon(1e-13));
    const auto& d_after = data.get(name + ".D.param_after", 1, TinyCritic::parameter_count).values;
    const auto& g_after = data.get(name + ".G.param_after", 1, TinyG::parameter_count).values;
    double moved = 0;
    for (std::size_t i = 0; i < d_after.size(); ++i) {
        INFO("D parameter " << i);
        CHECK(trainer.discriminator().parameters()[i] == Approx(d_after[i]).epsilon(1e-13).margin(1e-15));
        moved = std::max(moved, std::abs(d_after[i] - d_param[i]));
    }
    CHECK(moved > 1e-3);  // the control: the step changed D
    for (std::size_t i = 0; i < g_after.size(); ++i) {
        INFO("G parameter " << i);
        CHECK(trainer.generator().parameters()[i] == Approx(g_after[i]).epsilon(1e-13).margin(1e-15));
    }
}

TEST_CASE("one R1 step through the trainer matches PyTorch autograd (create_graph=True)", "[losses][penalty][golden]") {
    check_step_against_torch("r1_step", R1Loss<>{.gamma = 3}, 0.1, Rng::default_seed);
}

// The golden script draws the interpolation weights as the trainer's Rng does (std::mt19937_64).
TEST_CASE("one WGAN-GP step through the trainer matches PyTorch autograd (create_graph=True)",
          "[losses][penalty][golden]") {
    check_step_against_torch("wgan_gp_step", WassersteinGPLoss{.lambda = 10}, 0.05, 7);
}

TEST_CASE("a penalty of weight 0 leaves the loss's own gradient", "[losses][penalty]") {
    const Update gp = critic_update(WassersteinGPLoss{.lambda = 0}, 41);
    const Update plain = critic_update(WassersteinLoss{.clip = 0}, 41);
    REQUIRE(gp.gradient.size() == plain.gradient.size());
    for (std::size_t i = 0; i < gp.gradient.size(); ++i) CHECK(gp.gradient[i] == Approx(plain.gradient[i]).margin(1e-15));
    CHECK(gp.stats.penalty == 0);
}

// The toy problem of test_objective_training.cpp: data N((2, -1), 0.3^2 I), G's samples
// start about 2.2 from its mean. Adam lr 1e-3, betas (0, 0.9), 5 critic updates per step.
// Returns the distance of G's sample mean from the data's at the start, at the end, and
// time-averaged: of the sample means taken every 10 steps over the second half.
template <class L>
std::array<double, 3> train_toy(const L& loss, std::uint64_t seed) {
    using Generator = Sequential<Dense<2, 16>, LeakyReLU, Dense<16, 2>>;
    using Critic = Sequential<Dense<2, 32>, LeakyReLU, Dense<32, 1>>;
    const Adam adam{.lr = 1e-3, .beta1 = 0.0, .beta2 = 0.9};
    AdversarialTrainer<Generator, Critic, Adam, Adam, L> trainer(
        {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = loss, .seed = seed,
         .discriminator_steps = 5});
    Rng data(seed + 1);
    const auto sample_mean = [&] {
        const matrix<float> s = trainer.sample(256);
        double x = 0, y = 0;
        for (std::size_t r = 0; r < 256; ++r) x += s(r, 0), y += s(r, 1);
        return std::pair{x / 256, y / 256};
    };
    const auto distance = [](double x, double y) { return std::hypot(x - 2.0, y + 1.0); };
    const auto [x0, y0] = sample_mean();
    matrix<float> real({64, 2});
    double sum_x = 0, sum_y = 0;
    int taken = 0;
    for (int i = 0; i < 600; ++i) {
        data.fill_normal(std::span<float>(real.data(), real.size()));
        for (std::size_t r = 0; r < 64; ++r) real(r, 0) = 2 + 0.3f * real(r, 0), real(r, 1) = -1 + 0.3f * real(r, 1);
        trainer.step(real);
        if (i >= 300 && i % 10 == 9) {
            const auto [x, y] = sample_mean();
            sum_x += x, sum_y += y, ++taken;
        }
    }
    const auto [x1, y1] = sample_mean();
    return {distance(x0, y0), distance(x1, y1), distance(sum_x / taken, sum_y / taken)};
}

// WGAN-GP's generator orbits the data's mean on this problem (its distance at a given step
// swings between 0.1 and 0.9 over seeds 51 to 58) while the orbit's centre lands on it
// (time-averaged distance 0.06 to 0.30 over those seeds): the time average is the measure.
TEST_CASE("WGAN-GP moves G's samples onto the data, on average over the second half", "[losses][penalty][training]") {
    const auto [before, after, averaged] = train_toy(WassersteinGPLoss{}, 53);
    CHECK(before > 1.5);
    CHECK(averaged < 0.3);
    (void)after;
}

TEST_CASE("R1 moves G's samples onto the data", "[losses][penalty][training]") {
    const auto [before, after, averaged] = train_toy(R1Loss<>{.gamma = 1}, 52);
    CHECK(before > 1.5);
    CHECK(after < 0.25);
    CHECK(averaged < 0.25);
}

TEST_CASE("penalty objectives refuse weights that make no sense", "[losses][penalty][errors]") {
    using Catch::Matchers::Contains;
    CHECK_NOTHROW(WassersteinGPLoss{}.validate());
    CHECK_THROWS_WITH(WassersteinGPLoss{.lambda = -1}.validate(), Contains("lambda") && Contains("-1"));
    CHECK_THROWS_WITH(R1Loss<>{.gamma = std::nan("")}.validate(), Contains("gamma"));
    CHECK_THROWS_WITH((R1Loss<LeastSquaresLoss>{.loss = LeastSquaresLoss{.a = 1}}.validate()), Contains("must differ"));
    STATIC_REQUIRE(penalises_input_gradient_v<WassersteinGPLoss>);
    STATIC_REQUIRE(penalises_input_gradient_v<R1Loss<HingeLoss>>);
    STATIC_REQUIRE(loss_reads_v<R1Loss<HingeLoss>> == CriticOutput::score);
    STATIC_REQUIRE(loss_reads_v<R1Loss<>> == CriticOutput::logit);
}

TEST_CASE("R1Loss passes its base loss's hook and monitors on", "[losses][penalty]") {
    using Generator = Sequential<Dense<2, 2>>;
    using Critic = Sequential<Dense<2, 8>, LeakyReLU, Dense<8, 1>>;
    AdversarialTrainer<Generator, Critic, SGD, SGD, R1Loss<WassersteinLoss>> trainer(
        {.discriminator_optimizer = SGD{.lr = 0.5}, .loss = {.loss = {.clip = 0.01}, .gamma = 1}, .seed = 3});
    matrix<float> real({8, 2});
    Rng(4).fill_normal(std::span<float>(real.data(), real.size()));
    const StepStats s = trainer.train_discriminator(real);
    for (const float p : trainer.discriminator().parameters()) CHECK(std::abs(p) <= 0.01f);
    CHECK(s.wasserstein == s.real_score - s.fake_score);
    CHECK(s.penalty >= 0);
}
