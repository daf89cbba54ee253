// RMSprop: the update rule of torch.optim.RMSprop, its settings' ranges, refusals and
// faults. (tests/golden/test_golden_norms.cpp compares whole trajectories with PyTorch's.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xgan/optim/optimizer.hpp>
#include <xgan/optim/rmsprop.hpp>

using namespace xgan;

namespace {

// The update written out in double, as torch.optim.RMSprop's documentation states it.
struct reference {
    double square_avg = 0, grad_avg = 0, buf = 0;
    void step(const RMSprop& o, double& p, double g) {
        g += o.weight_decay * p;
        square_avg = o.alpha * square_avg + (1 - o.alpha) * g * g;
        double avg = square_avg;
        if (o.centered) {
            grad_avg = o.alpha * grad_avg + (1 - o.alpha) * g;
            avg -= grad_avg * grad_avg;
        }
        avg = std::sqrt(avg) + o.eps;
        if (o.momentum > 0) {
            buf = o.momentum * buf + g / avg;
            p -= o.lr * buf;
        } else {
            p -= o.lr * g / avg;
        }
    }
};

}  // namespace

TEST_CASE("RMSprop follows its recurrence in every variant", "[optim]") {
    const std::vector<double> gradients{0.5, -0.2, 0.9, 0.1, -1.5, 0.0, 0.3};
    for (const RMSprop o : {RMSprop{}, RMSprop{.lr = 0.05, .alpha = 0.9, .weight_decay = 0.2},
                            RMSprop{.lr = 0.02, .alpha = 0.8, .eps = 1e-4, .momentum = 0.9},
                            RMSprop{.lr = 0.01, .alpha = 0.95, .eps = 1e-6, .momentum = 0.5, .centered = true},
                            RMSprop{.lr = 0.01, .alpha = 0.7, .weight_decay = 0.1, .centered = true}}) {
        INFO("lr " << o.lr << ", alpha " << o.alpha << ", momentum " << o.momentum << ", centered " << o.centered);
        std::vector<double> p{0.7};
        double expected = 0.7;
        reference ref;
        RMSprop::state<double> state(1);
        for (const double g : gradients) {
            const std::vector<double> grad{g};
            state.step(o, p, grad);
            ref.step(o, expected, g);
            CHECK(p[0] == Approx(expected).epsilon(1e-12));
            CHECK(state.square_avg()[0] == Approx(ref.square_avg).epsilon(1e-12));
            CHECK(state.grad_avg()[0] == Approx(ref.grad_avg).epsilon(1e-12).margin(1e-300));
            CHECK(state.momentum_buffer()[0] == Approx(ref.buf).epsilon(1e-12).margin(1e-300));
        }
        CHECK(state.steps() == gradients.size());
    }
}

TEST_CASE("RMSprop is a refusing optimizer with PyTorch's defaults", "[optim]") {
    STATIC_REQUIRE(Optimizer<RMSprop>);
    STATIC_REQUIRE(Optimizer<RMSprop, double>);
    STATIC_REQUIRE(refusing_optimizer<RMSprop, float>);
    const RMSprop o{};
    CHECK(o.lr == 1e-2);
    CHECK(o.alpha == 0.99);
    CHECK(o.eps == 1e-8);
    CHECK(o.weight_decay == 0);
    CHECK(o.momentum == 0);
    CHECK_FALSE(o.centered);
    RMSprop::state<float> state(3);
    std::vector<float> p(4), g(4);
    CHECK_THROWS_WITH(state.step(o, p, g), Catch::Contains("xgan::RMSprop: state sized for 3 parameters, got 4"));
}

TEST_CASE("RMSprop settings outside their ranges are refused, naming the setting", "[optim][errors]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<float> p{1.0f, 2.0f}, g{0.5f, -0.5f};
    const auto refused = [&](const RMSprop& o, const char* message) {
        RMSprop::state<float> state(2);
        CHECK_THROWS_WITH(o.validate(), message);
        CHECK_THROWS_AS(o.validate(), std::invalid_argument);
        CHECK_THROWS_WITH(state.step(o, p, g), message);  // checked before anything changes
        CHECK(p == std::vector<float>{1.0f, 2.0f});
        CHECK(state.steps() == 0);
    };
    refused(RMSprop{.lr = nan}, "xgan::RMSprop: lr is nan; it must be finite and >= 0");
    refused(RMSprop{.lr = -1e-3}, "xgan::RMSprop: lr is -0.001; it must be finite and >= 0");
    refused(RMSprop{.alpha = 1.5}, "xgan::RMSprop: alpha is 1.5; it must be in [0, 1]");
    refused(RMSprop{.alpha = -0.1}, "xgan::RMSprop: alpha is -0.1; it must be in [0, 1]");
    refused(RMSprop{.alpha = nan}, "xgan::RMSprop: alpha is nan; it must be in [0, 1]");
    refused(RMSprop{.eps = 0}, "xgan::RMSprop: eps is 0; it must be finite and > 0");
    refused(RMSprop{.weight_decay = -1}, "xgan::RMSprop: weight_decay is -1; it must be finite and >= 0");
    refused(RMSprop{.momentum = nan}, "xgan::RMSprop: momentum is nan; it must be finite and >= 0");
    refused(RMSprop{.momentum = -0.5}, "xgan::RMSprop: momentum is -0.5; it must be finite and >= 0");
    CHECK_NOTHROW(RMSprop{.lr = 0, .alpha = 0, .eps = 1e-30}.validate());
    CHECK_NOTHROW(RMSprop{.alpha = 1}.validate());
}

namespace {
// Every value of the state and the parameters, bit for bit (NaN included).
template <class T>
std::vector<unsigned char> everything(const RMSprop::state<T>& state, const std::vector<T>& params) {
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

// Three ordinary steps, then one that must be refused: it throws std::runtime_error with
// `message` in its text, leaves everything as it was, and the state goes on as a twin.
template <class T>
void check_refused(const RMSprop& settings, const RMSprop& bad_settings, const std::vector<T>& bad_gradient,
                   const std::string& message) {
    const std::size_t n = bad_gradient.size();
    std::vector<T> p(n), g(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(0.1 * static_cast<double>(i) - 0.7);
    RMSprop::state<T> state(n);
    for (int step = 0; step < 3; ++step) {
        for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<T>(std::sin(static_cast<double>(3 * i + step)));
        state.step(settings, p, g);
    }
    const auto before = everything(state, p);
    const auto copy = state;
    CHECK_FALSE(state.try_step(bad_settings, p, bad_gradient));
    CHECK(everything(state, p) == before);
    CHECK_THROWS_WITH(state.step(bad_settings, p, bad_gradient),
                      Catch::Contains(message) && Catch::Contains("this update was not applied"));
    CHECK(everything(state, p) == before);
    CHECK(state == copy);
    CHECK(state.steps() == 3);
    auto twin = copy;
    std::vector<T> p_twin = p;
    state.step(settings, p, g);
    twin.step(settings, p_twin, g);
    CHECK(everything(state, p) == everything(twin, p_twin));
}
}  // namespace

TEMPLATE_TEST_CASE("an RMSprop update that would leave a value non-finite is refused, changing nothing",
                   "[optim][errors]", float, double) {
    using T = TestType;
    const T big = std::numeric_limits<T>::max();
    std::vector<T> fine(23, T(0.25));
    const auto with = [&](std::size_t i, T value) {
        auto g = fine;
        g[i] = value;
        return g;
    };
    const RMSprop plain{.lr = 1e-2};
    const RMSprop full{.lr = 1e-2, .alpha = 0.9, .weight_decay = 0.01, .momentum = 0.9, .centered = true};
    SECTION("a non-finite gradient") {
        check_refused<T>(plain, plain, with(5, std::numeric_limits<T>::quiet_NaN()),
                         "xgan::RMSprop: the gradient of parameter 5 is nan");
        check_refused<T>(full, full, with(22, -std::numeric_limits<T>::infinity()),
                         "the gradient of parameter 22 is -inf");
    }
    SECTION("a gradient whose square overflows") {
        check_refused<T>(plain, plain, with(9, std::sqrt(big) * 64), "at parameter 9 (gradient ");
        check_refused<T>(full, full, with(9, std::sqrt(big) * 64), "square_avg inf");
    }
    SECTION("a huge learning rate") {
        check_refused<T>(plain, RMSprop{.lr = static_cast<double>(big)}, fine,
                         "at parameter 0 (gradient 0.25) the update gives the value -inf");
        check_refused<T>(full, RMSprop{.lr = 1e-2, .momentum = static_cast<double>(big)}, fine, "momentum_buffer ");
    }
}

TEST_CASE("RMSprop's fault() names the first value a run cannot reach", "[optim][checkpoint]") {
    RMSprop::state<float> state(4);
    CHECK(state.fault().empty());
    std::vector<float> p{1, 2, 3, 4}, g{0.5f, -1, 2, 0};
    state.step(RMSprop{.momentum = 0.9, .centered = true}, p, g);
    CHECK(state.fault().empty());
    state.square_avg()[2] = -0.5f;
    CHECK(state.fault() == "square_avg[2] is -0.5 (an average of squares cannot be negative)");
    state.square_avg()[2] = std::numeric_limits<float>::infinity();
    CHECK(state.fault() == "square_avg[2] is inf");
    state.square_avg()[2] = 0;
    state.momentum_buffer()[1] = std::numeric_limits<float>::quiet_NaN();
    CHECK(state.fault() == "momentum_buffer[1] is nan");
    state.momentum_buffer()[1] = -3;
    state.grad_avg()[3] = -std::numeric_limits<float>::infinity();
    CHECK(state.fault() == "grad_avg[3] is -inf");
    state.grad_avg()[3] = -2;  // an average of gradients may be negative
    CHECK(state.fault().empty());
    // The checkpoint names, in PyTorch's state_dict spelling.
    const auto named = std::as_const(state).named_tensors();
    CHECK(std::string(named[0].first) == "square_avg");
    CHECK(std::string(named[1].first) == "momentum_buffer");
    CHECK(std::string(named[2].first) == "grad_avg");
    CHECK(named[2].second[3] == -2);
}
