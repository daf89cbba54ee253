// Optimizers: the update rules of torch.optim.Adam and torch.optim.SGD.
// (tests/golden/ compares whole trajectories with PyTorch's own numbers.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
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

TEST_CASE("optimizer settings outside their ranges are refused, naming the setting", "[optim][errors]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<float> p{1.0f, 2.0f}, g{0.5f, -0.5f};
    const auto refused = [&](const Adam& adam, const char* message) {
        Adam::state<float> state(2);
        CHECK_THROWS_WITH(adam.validate(), message);
        CHECK_THROWS_AS(adam.validate(), std::invalid_argument);
        CHECK_THROWS_WITH(state.step(adam, p, g), message);  // the state checks them too, before anything changes
        CHECK(p == std::vector<float>{1.0f, 2.0f});
        CHECK(state.steps() == 0);
    };
    refused(Adam{.lr = nan}, "xgan::Adam: lr is nan; it must be finite and >= 0");
    refused(Adam{.lr = -1e-3}, "xgan::Adam: lr is -0.001; it must be finite and >= 0");
    refused(Adam{.lr = std::numeric_limits<double>::infinity()}, "xgan::Adam: lr is inf; it must be finite and >= 0");
    refused(Adam{.beta1 = 1}, "xgan::Adam: beta1 is 1; it must be in [0, 1)");
    refused(Adam{.beta1 = -0.5}, "xgan::Adam: beta1 is -0.5; it must be in [0, 1)");
    refused(Adam{.beta2 = 1.5}, "xgan::Adam: beta2 is 1.5; it must be in [0, 1)");
    refused(Adam{.beta2 = nan}, "xgan::Adam: beta2 is nan; it must be in [0, 1)");
    refused(Adam{.eps = 0}, "xgan::Adam: eps is 0; it must be finite and > 0");
    refused(Adam{.eps = nan}, "xgan::Adam: eps is nan; it must be finite and > 0");
    CHECK_NOTHROW(Adam{.lr = 0, .beta1 = 0, .beta2 = 0, .eps = 1e-30}.validate());

    const auto sgd_refused = [&](const SGD& sgd, const char* message) {
        SGD::state<float> state(2);
        CHECK_THROWS_WITH(sgd.validate(), message);
        CHECK_THROWS_WITH(state.step(sgd, p, g), message);
        CHECK(p == std::vector<float>{1.0f, 2.0f});
    };
    sgd_refused(SGD{.lr = nan}, "xgan::SGD: lr is nan; it must be finite and >= 0");
    sgd_refused(SGD{.lr = -0.1}, "xgan::SGD: lr is -0.1; it must be finite and >= 0");
    sgd_refused(SGD{.momentum = -0.9}, "xgan::SGD: momentum is -0.9; it must be finite and >= 0");
    sgd_refused(SGD{.momentum = nan}, "xgan::SGD: momentum is nan; it must be finite and >= 0");
    sgd_refused(SGD{.dampening = 1.5}, "xgan::SGD: dampening is 1.5; it must be in [0, 1]");
    sgd_refused(SGD{.momentum = 0, .nesterov = true},
                "xgan::SGD: nesterov needs a momentum > 0 and dampening 0, got momentum 0 and dampening 0");
    sgd_refused(SGD{.momentum = 0.9, .dampening = 0.1, .nesterov = true},
                "xgan::SGD: nesterov needs a momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1");
    CHECK_NOTHROW(SGD{.lr = 0, .momentum = 0.9, .dampening = 1}.validate());
}

namespace {
// Every value of an optimizer state and the parameters, bit for bit (NaN included).
template <class State, class T>
std::vector<unsigned char> everything(const State& state, const std::vector<T>& params) {
    std::vector<unsigned char> out;
    const auto add = [&](const void* data, std::size_t bytes) {
        const auto* b = static_cast<const unsigned char*>(data);
        out.insert(out.end(), b, b + bytes);
    };
    const std::uint64_t steps = state.steps();
    add(&steps, sizeof steps);
    for (const auto& [name, values] : state.named_tensors()) add(values.data(), values.size() * sizeof(T));
    add(params.data(), params.size() * sizeof(T));
    return out;
}

// A few ordinary steps, then one that must be refused: it throws std::runtime_error with
// `message` in its text and leaves the parameters and the state as they were.
template <class O, class T>
void check_refused(const O& settings, const O& bad_settings, std::vector<T> bad_gradient, const std::string& message) {
    const std::size_t n = bad_gradient.size();
    std::vector<T> p(n), g(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(0.1 * static_cast<double>(i) - 0.7);
    typename O::template state<T> state(n);
    for (int step = 0; step < 3; ++step) {
        for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<T>(std::sin(static_cast<double>(3 * i + step)));
        state.step(settings, p, g);
    }
    const auto before = everything(state, p);
    const auto copy = state;
    CHECK_FALSE(state.try_step(bad_settings, p, bad_gradient));
    CHECK(everything(state, p) == before);
    CHECK_THROWS_AS(state.step(bad_settings, p, bad_gradient), std::runtime_error);
    CHECK_THROWS_WITH(state.step(bad_settings, p, bad_gradient),
                      Catch::Contains(message) && Catch::Contains("this update was not applied"));
    CHECK(everything(state, p) == before);
    CHECK(state == copy);
    CHECK(state.steps() == 3);
    // The state goes on as if the refused update had never been tried.
    auto twin = copy;
    std::vector<T> p_twin = p;
    state.step(settings, p, g);
    twin.step(settings, p_twin, g);
    CHECK(everything(state, p) == everything(twin, p_twin));
}
}  // namespace

TEMPLATE_TEST_CASE("an update that would leave a value non-finite is refused, changing nothing", "[optim][errors]",
                   float, double) {
    using T = TestType;
    const T big = std::numeric_limits<T>::max();
    const T overflows_squared = std::sqrt(big) * 64;  // finite, but not (1 - beta2) times its square
    std::vector<T> fine(37, T(0.25));
    auto with = [&](std::size_t i, T value) {
        auto g = fine;
        g[i] = value;
        return g;
    };
    const Adam adam{.lr = 1e-2};
    SECTION("Adam: a huge learning rate") {
        check_refused<Adam, T>(adam, Adam{.lr = static_cast<double>(big)}, fine,
                               "at parameter 0 (gradient 0.25) the update gives the value -inf");
    }
    SECTION("Adam: a gradient whose square overflows") {
        check_refused<Adam, T>(adam, adam, with(33, overflows_squared), "at parameter 33 (gradient ");
        check_refused<Adam, T>(adam, adam, with(33, overflows_squared), "exp_avg_sq inf");
    }
    SECTION("Adam: a non-finite gradient") {
        check_refused<Adam, T>(adam, adam, with(5, std::numeric_limits<T>::quiet_NaN()),
                               "xgan::Adam: the gradient of parameter 5 is nan");
        check_refused<Adam, T>(adam, adam, with(36, -std::numeric_limits<T>::infinity()),
                               "the gradient of parameter 36 is -inf");
    }
    const SGD sgd{.lr = 1e-2, .momentum = 0.9};
    SECTION("SGD: a huge learning rate") {
        // Only parameter 7's step, lr times a momentum buffer near 64, overflows.
        check_refused<SGD, T>(sgd, SGD{.lr = static_cast<double>(big / 16), .momentum = 0.9}, with(7, T(64)),
                              "at parameter 7 (gradient 64) the update gives the value -inf");
        check_refused<SGD, T>(SGD{.lr = 1e-2}, SGD{.lr = static_cast<double>(big / 16)}, with(7, T(-64)),
                              "at parameter 7 (gradient -64) the update gives the value inf");
    }
    SECTION("SGD: a momentum buffer that overflows") {
        check_refused<SGD, T>(sgd, SGD{.lr = 0, .momentum = static_cast<double>(big)}, fine, "momentum_buffer inf");
    }
    SECTION("SGD: a non-finite gradient") {
        check_refused<SGD, T>(sgd, sgd, with(2, std::numeric_limits<T>::quiet_NaN()),
                              "xgan::SGD: the gradient of parameter 2 is nan");
    }
}

TEST_CASE("fault() names the first value a run cannot reach, and is empty otherwise", "[optim][checkpoint]") {
    Adam::state<float> adam(4);
    CHECK(adam.fault().empty());
    std::vector<float> p{1, 2, 3, 4}, g{0.5f, -1, 2, 0};
    adam.step(Adam{}, p, g);
    CHECK(adam.fault().empty());
    adam.second_moment()[2] = -0.5f;
    CHECK(adam.fault() == "exp_avg_sq[2] is -0.5 (a second moment cannot be negative)");
    adam.second_moment()[2] = std::numeric_limits<float>::infinity();
    CHECK(adam.fault() == "exp_avg_sq[2] is inf");
    adam.second_moment()[2] = 0;
    adam.first_moment()[3] = std::numeric_limits<float>::quiet_NaN();
    CHECK(adam.fault() == "exp_avg[3] is nan");
    adam.first_moment()[3] = -7;  // a first moment may be negative
    CHECK(adam.fault().empty());
    // The live buffers after an update are the ones checked (named_tensors, too).
    adam.step(Adam{}, p, g);
    CHECK(adam.fault().empty());
    adam.named_tensors()[1].second[0] = -1;
    CHECK(adam.fault() == "exp_avg_sq[0] is -1 (a second moment cannot be negative)");

    SGD::state<double> sgd(3);
    CHECK(sgd.fault().empty());
    std::vector<double> q{1, 2, 3}, h{1, 1, 1};
    sgd.step(SGD{.momentum = 0.9}, q, h);
    sgd.step(SGD{.momentum = 0.9}, q, h);
    CHECK(sgd.fault().empty());
    sgd.momentum_buffer()[1] = -std::numeric_limits<double>::infinity();
    CHECK(sgd.fault() == "momentum_buffer[1] is -inf");
}
