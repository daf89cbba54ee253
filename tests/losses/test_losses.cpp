// GAN losses: the tutorials' formulas, stability when D saturates, exact gradients.
#include <catch2/catch.hpp>

#include <cmath>

#include <xgan/xgan.hpp>

using namespace xgan;

namespace {
matrix<double> column(std::initializer_list<double> values) {
    matrix<double> m({values.size(), 1});
    std::copy(values.begin(), values.end(), m.begin());
    return m;
}
double sigmoid(double l) { return 1 / (1 + std::exp(-l)); }
}  // namespace

TEST_CASE("minimax loss is the tutorials' formula", "[losses]") {
    const auto real = column({0.3, -1.2, 2.0});
    const auto fake = column({-0.7, 0.4, 1.5});
    matrix<double> gr(real.shape()), gf(fake.shape());
    // -mean(log D(x) + log(1 - D(G(z)))) written with probabilities, at moderate logits.
    double expected_d = 0, expected_g = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        expected_d -= (std::log(sigmoid(real(i, 0))) + std::log(1 - sigmoid(fake(i, 0)))) / 3;
        expected_g += std::log(1 - sigmoid(fake(i, 0))) / 3;
    }
    const MinimaxLoss loss;
    CHECK(loss.discriminator(real, fake, gr, gf) == Approx(expected_d).epsilon(1e-12));
    CHECK(loss.generator(fake, gf) == Approx(expected_g).epsilon(1e-12));

    double expected_ns = 0;
    for (std::size_t i = 0; i < 3; ++i) expected_ns -= std::log(sigmoid(fake(i, 0))) / 3;
    CHECK(NonSaturatingLoss{}.generator(fake, gf) == Approx(expected_ns).epsilon(1e-12));
}

TEST_CASE("at equilibrium D's score is 2 ln 0.5", "[losses]") {
    const auto half = column({0, 0, 0, 0});  // D outputs 0.5 everywhere
    matrix<double> gr(half.shape()), gf(half.shape());
    CHECK(-MinimaxLoss{}.discriminator(half, half, gr, gf) == Approx(2 * std::log(0.5)));
    CHECK(MinimaxLoss{}.generator(half, gf) == Approx(std::log(0.5)));
}

TEST_CASE("one-sided label smoothing targets real_label for real samples only", "[losses]") {
    const auto real = column({1.0}), fake = column({-1.0});
    matrix<double> gr(real.shape()), gf(fake.shape());
    const double smoothed = MinimaxLoss{.real_label = 0.9}.discriminator(real, fake, gr, gf);
    const double expected = -(0.9 * std::log(sigmoid(1.0)) + 0.1 * std::log(1 - sigmoid(1.0))) -
                            std::log(1 - sigmoid(-1.0));
    CHECK(smoothed == Approx(expected).epsilon(1e-12));
    CHECK(gr(0, 0) == Approx(sigmoid(1.0) - 0.9).epsilon(1e-12));
    CHECK(gf(0, 0) == Approx(sigmoid(-1.0)).epsilon(1e-12));
}

TEST_CASE("losses stay finite when the discriminator saturates", "[losses][stability]") {
    // Logits of +-100 are D outputs of 1 - 4e-44 and 4e-44: log(1 - D) in probability
    // space would be log(0) = -inf in float.
    const matrix<float> real = xt::xtensor<float, 2>{{100.0f}, {-100.0f}};
    const matrix<float> fake = xt::xtensor<float, 2>{{100.0f}, {-100.0f}};
    matrix<float> gr(real.shape()), gf(fake.shape());
    for (double label : {1.0, 0.9}) {
        const double d = MinimaxLoss{.real_label = label}.discriminator(real, fake, gr, gf);
        CHECK(std::isfinite(d));
        // Real: mean(softplus(l) - label l) = (100 - 100 label + 100 label) / 2; fake: (100 + 0) / 2.
        CHECK(d == Approx(100).epsilon(1e-5));
        CHECK(std::all_of(gr.begin(), gr.end(), [](float g) { return std::isfinite(g); }));
    }
    const double g_minimax = MinimaxLoss{}.generator(fake, gf);
    CHECK(g_minimax == Approx(-50).epsilon(1e-5));
    CHECK(std::all_of(gf.begin(), gf.end(), [](float g) { return std::isfinite(g); }));
    const double g_ns = NonSaturatingLoss{}.generator(fake, gf);
    CHECK(g_ns == Approx(50).epsilon(1e-5));
    // The non-saturating gradient stays strong where D rejects the fake (logit -100).
    CHECK(gf(1, 0) == Approx(-0.5));
}

TEST_CASE("loss gradients match finite differences", "[losses][gradients]") {
    for (double label : {1.0, 0.9}) {
        const auto minimax = check_loss_gradients(MinimaxLoss{.real_label = label}, {.batch = 6});
        INFO(minimax.worst);
        CHECK(minimax.passed);
        const auto ns = check_loss_gradients(NonSaturatingLoss{.real_label = label}, {.batch = 6});
        INFO(ns.worst);
        CHECK(ns.passed);
    }
}
