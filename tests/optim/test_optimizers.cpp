// Optimizers: the update rules of torch.optim.Adam and torch.optim.SGD.
// (tests/golden/ compares whole trajectories with PyTorch's own numbers.)
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <xgan/xgan.hpp>

using namespace xgan;

TEST_CASE("Adam's first step moves each parameter by lr against its gradient's sign", "[optim]") {
    // After one step m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps).
    std::vector<double> p{1.0, -2.0, 0.5}, g{0.3, -4.0, 1e-3};
    Adam::state<double> state(3);
    const Adam adam{.lr = 0.01, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-12};
    state.step(adam, p, g);
    CHECK(p[0] == Approx(1.0 - 0.01));
    CHECK(p[1] == Approx(-2.0 + 0.01));
    CHECK(p[2] == Approx(0.5 - 0.01));
    CHECK(state.steps() == 1);
}

TEST_CASE("Adam follows its recurrence over several steps", "[optim]") {
    const Adam adam{.lr = 0.1, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6};
    std::vector<double> p{0.7}, gradients{0.5, -0.2, 0.9, 0.1};
    Adam::state<double> state(1);
    double m = 0, v = 0, expected = 0.7;
    for (std::size_t t = 1; t <= gradients.size(); ++t) {
        const double g = gradients[t - 1];
        std::vector<double> grad{g};
        state.step(adam, p, grad);
        m = 0.8 * m + 0.2 * g;
        v = 0.95 * v + 0.05 * g * g;
        const double m_hat = m / (1 - std::pow(0.8, t)), v_hat = v / (1 - std::pow(0.95, t));
        expected -= 0.1 * m_hat / (std::sqrt(v_hat) + 1e-6);
        CHECK(p[0] == Approx(expected).epsilon(1e-9));
    }
}

TEST_CASE("SGD with momentum seeds the buffer with the first gradient", "[optim]") {
    const SGD sgd{.lr = 0.1, .momentum = 0.9};
    std::vector<double> p{1.0};
    SGD::state<double> state(1);
    std::vector<double> g1{2.0}, g2{-1.0};
    state.step(sgd, p, g1);
    CHECK(p[0] == Approx(1.0 - 0.1 * 2.0));
    state.step(sgd, p, g2);
    CHECK(p[0] == Approx(0.8 - 0.1 * (0.9 * 2.0 - 1.0)));

    const SGD nesterov{.lr = 0.1, .momentum = 0.9, .nesterov = true};
    std::vector<double> q{1.0};
    SGD::state<double> nstate(1);
    nstate.step(nesterov, q, g1);
    CHECK(q[0] == Approx(1.0 - 0.1 * (2.0 + 0.9 * 2.0)));
}

TEST_CASE("an optimizer state refuses spans of another size", "[optim][errors]") {
    Adam::state<float> state(3);
    std::vector<float> p(4), g(4);
    CHECK_THROWS_WITH(state.step(Adam{}, p, g), Catch::Contains("sized for 3 parameters, got 4"));
    STATIC_REQUIRE(Optimizer<Adam>);
    STATIC_REQUIRE(Optimizer<SGD, double>);
    STATIC_REQUIRE_FALSE(Optimizer<int>);
}
