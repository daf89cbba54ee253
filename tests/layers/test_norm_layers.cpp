// LayerNorm and SpectralNorm: exact gradients (finite differences in double), LayerNorm's
// second-order pass, per-sample normalisation, the power iteration, names, buffers and
// checkpoints (with RMSprop as the trainer's optimizer).
// (tests/golden/test_golden_norms.cpp compares both with PyTorch's numbers.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/layers/layer_norm.hpp>
#include <xgan/layers/spectral_norm.hpp>
#include <xgan/optim/rmsprop.hpp>
#include <xgan/train/gradient_penalty.hpp>

#include <support/gradient_assertions.hpp>

using namespace xgan;

namespace {
using tests::require_passes;

// Every parameter of `net` drawn uniform in [low, high] (LayerNorm starts at weight 1, bias 0).
template <class Net>
void scramble(Net& net, std::uint64_t seed, double low = -1.5, double high = 1.5) {
    Rng rng(seed);
    rng.fill_uniform(std::span<double>(net.parameters().data(), Net::parameter_count), low, high);
}

matrix<double> random_matrix(std::size_t rows, std::size_t cols, Rng& rng, double scale = 1.0) {
    matrix<double> m({rows, cols});
    rng.fill_normal(std::span<double>(m.data(), m.size()), 0.0, scale);
    return m;
}

}  // namespace

// ---- LayerNorm ------------------------------------------------------------------------------

TEST_CASE("LayerNorm passes the gradient check over a vector and over an image", "[layers][gradients]") {
    require_passes(check_layer_gradients<LayerNorm, 7>({.batch = 4}));
    require_passes(check_layer_gradients<LayerNorm, shape<2, 3, 3>>({.batch = 3}));
    // With weights and biases away from 1 and 0, between other layers.
    using Net = BasicSequential<double, Dense<4, 6>, LayerNorm, Tanh, Dense<6, 3>>;
    Net net(3);
    scramble(net, 11);
    require_passes(check_gradients(net, {.batch = 5}));
    using Image = BasicSequential<double, Input<2, 3, 3>, LayerNormWith<std::ratio<1, 1000>>>;
    Image image;
    scramble(image, 12);
    require_passes(check_gradients(image, {.batch = 3}));
}

TEST_CASE("LayerNorm normalises each sample on its own, in both modes", "[layers]") {
    using Net = BasicSequential<double, Input<5>, LayerNorm>;
    Net net;
    Rng rng(5);
    matrix<double> x = random_matrix(4, 5, rng, 3.0);
    for (std::size_t j = 0; j < 5; ++j) x(2, j) = 1e3 + 0.01 * static_cast<double>(j);  // large mean, small spread
    const matrix<double> y = net.forward(x);
    for (std::size_t r = 0; r < 4; ++r) {
        double mean = 0, square = 0, variance = 0;
        for (std::size_t j = 0; j < 5; ++j) mean += x(r, j) / 5;
        for (std::size_t j = 0; j < 5; ++j) variance += (x(r, j) - mean) * (x(r, j) - mean) / 5;
        double y_mean = 0;
        for (std::size_t j = 0; j < 5; ++j) {
            y_mean += y(r, j) / 5;
            square += y(r, j) * y(r, j) / 5;
        }
        CHECK(std::abs(y_mean) < 1e-9);  // the third row: x - mean rounds at 1e3
        CHECK(square == Approx(variance / (variance + 1e-5)).epsilon(1e-9));  // weight 1, bias 0
    }
    // Each row alone gives the same numbers: no statistic crosses samples.
    for (std::size_t r = 0; r < 4; ++r) {
        matrix<double> row({1, 5});
        for (std::size_t j = 0; j < 5; ++j) row(0, j) = x(r, j);
        const matrix<double> alone = net.forward(row);
        for (std::size_t j = 0; j < 5; ++j) CHECK(alone(0, j) == y(r, j));
    }
    net.set_mode(Mode::inference);
    CHECK(bool(net.forward(x) == y));
    STATIC_REQUIRE(!stateful_layer<Net::layer_type<0>>);
    STATIC_REQUIRE(buffer_count_v<Net::layer_type<0>> == 0);
}

TEST_CASE("LayerNorm names its weight and bias with the normalised shape", "[layers]") {
    BasicSequential<float, Input<2, 3, 4>, LayerNorm, Flatten, Dense<24, 2>> net;
    const auto named = net.named_parameters();
    REQUIRE(named.size() == 4);
    CHECK(named[0].name == "0.weight");
    CHECK(named[0].shape == std::vector<std::size_t>{2, 3, 4});
    CHECK(named[1].name == "0.bias");
    CHECK(named[1].shape == std::vector<std::size_t>{2, 3, 4});
    CHECK(std::all_of(named[0].values.begin(), named[0].values.end(), [](float v) { return v == 1.0f; }));
    CHECK(std::all_of(named[1].values.begin(), named[1].values.end(), [](float v) { return v == 0.0f; }));
    CHECK(layer_name<decltype(net)::layer_type<0>>() == "LayerNorm(2x3x4, eps 1/100000)");
    CHECK(layer_name<bind_layer_t<LayerNorm, 64, float>>() == "LayerNorm(64, eps 1/100000)");
}

TEST_CASE("LayerNorm's second-order pass is the derivative of its first-order pass", "[layers][gradients]") {
    require_passes(check_layer_second_order<LayerNorm, 7>({.batch = 4}));
    // With weights and biases away from 1 and 0.
    BasicSequential<double, Input<6>, LayerNorm> vector;
    scramble(vector, 21);
    require_passes(check_second_order(vector, {.batch = 3}));
    BasicSequential<double, Input<2, 2, 3>, LayerNormWith<std::ratio<1, 1000>>> image;
    scramble(image, 22);
    require_passes(check_second_order(image, {.batch = 3}));
}

// ---- SpectralNorm ---------------------------------------------------------------------------

namespace {

// The largest singular value of the {rows, cols} matrix w: sqrt of the top eigenvalue of
// w^T w by 2000 power iterations from a vector of ones.
double largest_singular_value(std::span<const double> w, std::size_t rows, std::size_t cols) {
    std::vector<double> v(cols, 1.0), wv(rows), next(cols);
    double value = 0;
    for (int it = 0; it < 2000; ++it) {
        std::fill(wv.begin(), wv.end(), 0.0);
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j) wv[i] += w[i * cols + j] * v[j];
        std::fill(next.begin(), next.end(), 0.0);
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j) next[j] += w[i * cols + j] * wv[i];
        double norm = 0;
        for (const double n : next) norm += n * n;
        norm = std::sqrt(norm);
        value = std::sqrt(norm);  // |w^T w v| for a unit v: the eigenvalue, once converged
        for (std::size_t j = 0; j < cols; ++j) v[j] = next[j] / norm;
    }
    return value;
}

}  // namespace

TEST_CASE("SpectralNorm passes the gradient check with u and v held", "[layers][gradients]") {
    // Inference mode: sigma = u^T W v from the stored u and v, as PyTorch's autograd sees them.
    require_passes(check_layer_gradients<SpectralNorm<Dense<5, 4>>>({.batch = 3, .mode = Mode::inference}));
    require_passes(check_layer_gradients<SpectralNorm<Conv2D<2, 3, 3, 2, 1>>, shape<2, 5, 4>>(
        {.batch = 2, .mode = Mode::inference}));
    using Net = BasicSequential<double, Dense<3, 6>, LeakyReLU, SpectralNorm<Dense<6, 4>>, Tanh>;
    require_passes(check_gradients<Net>({.batch = 4, .mode = Mode::inference}));
}

TEST_CASE("SpectralNorm's power iteration finds the largest singular value", "[layers][stateful]") {
    using Net = BasicSequential<double, Input<6>, SpectralNorm<Dense<6, 4>>>;
    using L = Net::layer_type<0>;
    Net net(7);
    const std::span<const double> w = net.named_parameters()[1].values;
    REQUIRE(net.named_parameters()[1].name == "0.weight_orig");
    const double top = largest_singular_value(w, 4, 6);
    Rng rng(8);
    const matrix<double> x = random_matrix(2, 6, rng);
    Net::Workspace ws;
    double previous = 0;
    for (int it = 0; it < 200; ++it) {
        net.forward(ws, x);
        net.update_buffers(ws);
        const double sigma = L::sigma(std::get<0>(ws.caches));
        CHECK(sigma <= top * (1 + 1e-12));  // u^T W v with unit u, v never exceeds it
        CHECK(sigma >= previous * (1 - 1e-12));  // and grows to it
        previous = sigma;
    }
    CHECK(previous == Approx(top).epsilon(1e-10));
    // y = x (W / sigma)^T + b: the layer is Dense with the normalised weight.
    const matrix<double> y = net.forward(ws, x);
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t i = 0; i < 4; ++i) {
            double expected = net.named_parameters()[0].values[i];
            for (std::size_t j = 0; j < 6; ++j) expected += x(r, j) * w[i * 6 + j] / previous;
            CHECK(y(r, i) == Approx(expected).epsilon(1e-12));
        }
}

TEST_CASE("SpectralNorm iterates in training only, and only update_buffers stores u and v", "[layers][stateful]") {
    using Net = BasicSequential<double, Input<2, 4, 4>, SpectralNorm<Conv2D<2, 3, 3, 1, 1>>, Flatten, Dense<48, 1>>;
    Net net(9);
    const std::vector<double> start(net.buffers().begin(), net.buffers().end());
    double norm_u = 0, norm_v = 0;
    for (std::size_t k = 0; k < 3; ++k) norm_u += start[k] * start[k];
    for (std::size_t k = 3; k < start.size(); ++k) norm_v += start[k] * start[k];
    CHECK(norm_u == Approx(1.0).epsilon(1e-12));  // unit vectors from the start
    CHECK(norm_v == Approx(1.0).epsilon(1e-12));
    CHECK(start.size() == 3 + 2 * 3 * 3);
    Rng rng(10);
    const matrix<double> x = random_matrix(2, Net::input_size, rng);
    Net::Workspace ws;
    net.forward(ws, x);
    CHECK(std::vector<double>(net.buffers().begin(), net.buffers().end()) == start);  // forward is const
    net.set_mode(Mode::inference);
    net.update_buffers(ws);
    CHECK(std::vector<double>(net.buffers().begin(), net.buffers().end()) == start);  // a no-op in inference
    net.set_mode(Mode::training);
    net.forward(ws, x);
    net.update_buffers(ws);
    const std::vector<double> once(net.buffers().begin(), net.buffers().end());
    CHECK(once != start);
    net.set_mode(Mode::inference);
    const matrix<double> y = net.forward(ws, x);
    net.update_buffers(ws);
    CHECK(std::vector<double>(net.buffers().begin(), net.buffers().end()) == once);
    CHECK(bool(net.forward(ws, x) == y));  // inference is deterministic: no iteration
}

TEST_CASE("SpectralNorm names its tensors as spectral_norm's state_dict and reports faults", "[layers][checkpoint]") {
    BasicSequential<float, Input<5>, SpectralNorm<Dense<5, 4>>, ReLU, Dense<4, 1>> net;
    std::vector<std::string> names;
    for (const auto& p : net.named_parameters()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"0.bias", "0.weight_orig", "2.weight", "2.bias"});
    CHECK(net.named_parameters()[1].shape == std::vector<std::size_t>{4, 5});
    names.clear();
    for (const auto& p : net.named_buffers()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"0.weight_u", "0.weight_v"});
    CHECK(net.named_buffers()[1].shape == std::vector<std::size_t>{5});
    CHECK(layer_name<decltype(net)::layer_type<0>>() == "SpectralNorm(Dense(5, 4))");
    CHECK(layer_name<bind_layer_to_t<SpectralNorm<Conv2D<1, 8, 4, 2, 1>>, shape<1, 8, 8>, float>>() ==
          "SpectralNorm(Conv2D(1, 8, k4, s2, p1))");
    CHECK(net.fault().empty());
    net.named_buffers()[1].values[3] = std::numeric_limits<float>::quiet_NaN();
    CHECK(net.fault() == "0.weight_v[3] is nan");
    net.named_buffers()[0].values[1] = std::numeric_limits<float>::infinity();
    CHECK(net.fault() == "0.weight_u[1] is inf");
}

TEST_CASE("SpectralNorm's second-order pass and a gradient penalty through both layers", "[layers][gradients]") {
    // u and v held (inference mode), as for the first-order check.
    require_passes(check_layer_second_order<SpectralNorm<Dense<5, 4>>>({.mode = Mode::inference}));
    require_passes(check_layer_second_order<SpectralNorm<Conv2D<2, 3, 3, 2, 1>>, shape<2, 5, 4>>(
        {.batch = 2, .mode = Mode::inference}));
    STATIC_REQUIRE(second_order_layer<bind_layer_t<SpectralNorm<Dense<5, 4>>, 5, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_t<LayerNorm, 5, float>>);
    // A WGAN-GP critic with both: the penalty's parameter gradient against central differences.
    using Critic = BasicSequential<double, Input<2, 5, 5>, SpectralNorm<Conv2D<2, 3, 3, 2, 1>>, LayerNorm, LeakyReLU,
                                   Flatten, SpectralNorm<Dense<27, 4>>, Tanh, LayerNorm, Dense<4, 1>>;
    Critic critic(13);
    scramble(critic, 14);
    require_passes(check_penalty_gradients(critic, GradientNormPenalty{10.0}, {.batch = 3, .mode = Mode::inference}));
}

// ---- In a trainer, through a checkpoint -----------------------------------------------------

namespace {

using G = Sequential<Dense<5, 16>, LayerNorm, ReLU, Dense<16, 15>>;
using D = Sequential<SpectralNorm<Dense<15, 16>>, LeakyReLU, LayerNorm, SpectralNorm<Dense<16, 1>>, Sigmoid>;
using Trainer = AdversarialTrainer<G, D, RMSprop, RMSprop>;

void train(Trainer& trainer, int steps) {
    matrix<float> real({8, 15});
    for (int i = 0; i < steps; ++i) {
        paintings::sine_works(real, trainer.rng());
        trainer.step(real);
    }
}

bool same_state(const Trainer& a, const Trainer& b) {
    return a.generator() == b.generator() && a.discriminator() == b.discriminator() &&
           a.generator_state() == b.generator_state() && a.discriminator_state() == b.discriminator_state() &&
           a.rng() == b.rng() && a.steps() == b.steps();
}

}  // namespace

TEST_CASE("a trainer with LayerNorm, SpectralNorm and RMSprop resumes from a checkpoint bit for bit",
          "[layers][checkpoint][trainer]") {
    const Trainer::Options options{.generator_optimizer = RMSprop{.lr = 1e-3, .momentum = 0.5},
                                   .discriminator_optimizer = RMSprop{.lr = 2e-3, .alpha = 0.9, .centered = true},
                                   .seed = 31};
    const auto path = std::filesystem::temp_directory_path() / "xgan_test_norm_layers_resume.npz";
    Trainer uninterrupted(options);
    train(uninterrupted, 12);
    Trainer first(options);
    train(first, 5);
    const std::vector<float> u_before(first.discriminator().buffers().begin(), first.discriminator().buffers().end());
    save_checkpoint(first, path);
    auto other = options;
    other.seed = 999;
    Trainer resumed(other);
    load_checkpoint(resumed, path);
    std::filesystem::remove(path);
    CHECK(same_state(first, resumed));
    CHECK(std::vector<float>(resumed.discriminator().buffers().begin(), resumed.discriminator().buffers().end()) ==
          u_before);
    train(resumed, 7);
    CHECK(same_state(uninterrupted, resumed));
    // Training moved u and v, and the optimizer's state.
    CHECK(std::vector<float>(resumed.discriminator().buffers().begin(), resumed.discriminator().buffers().end()) !=
          u_before);
    CHECK(resumed.discriminator_state().steps() == 12);
}
