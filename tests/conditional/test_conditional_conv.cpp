// Conditional networks on images and the gradient penalties of a conditional critic.
//
// A Conditional<Classes, Net> whose input is an image (C + Classes) x H x W reads the
// condition as Classes constant planes after the sample's C channels (a conditional
// DCGAN's discriminator); the trainer writes them for the real and the fake rows. A
// conditional critic's penalty (WGAN-GP, R1) interpolates the samples only, keeps the
// real row's condition and takes the norm of the gradient with respect to the sample
// only: checked against finite differences in double and against PyTorch autograd
// (generate_penalty.py wrote data/penalty.txt), for one-hot values and for planes.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/losses/critic_batches.hpp>
#include <xgan/train/gradient_penalty.hpp>

#include "golden/golden_checks.hpp"

using namespace xgan;

namespace {

constexpr std::size_t K = 2;  // classes

// G: [z (6), onehot(y)] -> a 1 x 4 x 4 image; D: the image and K planes -> a probability.
using ImageG = Conditional<K, Sequential<Dense<6 + K, 16>, LeakyReLU, Dense<16, 16>, Tanh, Unflatten<1, 4, 4>>>;
using ImageD = Conditional<K, Sequential<Input<1 + K, 4, 4>, Conv2D<1 + K, 4, 3, 1, 1>, LeakyReLU, Flatten,
                                         Dense<64, 1>, Sigmoid>>;

// Tiny critics (double) for the penalties: one-hot values after 3 sample values, and an
// image of 1 x 4 x 4 with K planes after it (the cases of generate_penalty.py).
template <class T>
using OneHotCritic = Conditional<K, BasicSequential<T, Dense<3 + K, 6>, Tanh, Dense<6, 1>>>;
template <class T>
using PlanesCritic =
    Conditional<K, BasicSequential<T, Input<1 + K, 4, 4>, Conv2D<1 + K, 2, 3, 1, 1>, LeakyReLU, Flatten, Dense<32, 1>>>;

template <class Net, class T = typename Net::value_type>
std::vector<T> rows_with_condition(std::span<const T> samples, std::span<const std::size_t> labels) {
    std::vector<T> rows(labels.size() * Net::input_size);
    for (std::size_t r = 0; r < labels.size(); ++r) {
        std::copy_n(samples.data() + r * Net::sample_size, Net::sample_size, rows.data() + r * Net::input_size);
        Net::write_condition(rows.data() + r * Net::input_size + Net::sample_size, labels[r]);
    }
    return rows;
}

// The reference, written out: D's input gradient at the given rows by the first-order
// backward pass, and the penalty on its first `columns` values of each row.
enum class Kind { wgan_gp, r1 };
template <class Net, class T = typename Net::value_type>
double reference_penalty(const Net& net, const std::vector<T>& rows, std::size_t columns, Kind kind) {
    const std::size_t batch = rows.size() / Net::input_size;
    matrix<T> x({batch, Net::input_size});
    std::copy(rows.begin(), rows.end(), x.begin());
    typename Net::Workspace ws;
    net.forward(ws, x);
    std::fill(ws.gradients[Net::layer_count].begin(), ws.gradients[Net::layer_count].end(), T(1));
    const matrix<T>& g = net.backward_input(ws);
    double total = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double squares = 0;
        for (std::size_t k = 0; k < columns; ++k) squares += double(g(r, k)) * double(g(r, k));
        total += kind == Kind::wgan_gp ? (std::sqrt(squares) - 1) * (std::sqrt(squares) - 1) : squares;
    }
    return (kind == Kind::wgan_gp ? 10.0 : 5.0) * total / double(batch);
}

// x_hat rows: the samples mixed by e, each with the real row's condition (or, for the
// control, every value mixed, conditions too).
template <class Net, class T = typename Net::value_type>
std::vector<T> interpolates(const std::vector<T>& real, const std::vector<T>& fake, std::span<const T> e,
                            bool mix_conditions) {
    std::vector<T> out(real.size());
    for (std::size_t r = 0; r < e.size(); ++r)
        for (std::size_t k = 0; k < Net::input_size; ++k) {
            const std::size_t i = r * Net::input_size + k;
            out[i] = (k < Net::sample_size || mix_conditions) ? e[r] * real[i] + (1 - e[r]) * fake[i] : real[i];
        }
    return out;
}

// The penalty and its parameter gradient as the trainer computes them (CriticBatches).
template <class Net, class T = typename Net::value_type>
double batches_penalty(const Net& net, const std::vector<T>& real, const std::vector<T>& fake, std::span<const T> e,
                       Kind kind, std::vector<T>& gradient) {
    typename Net::Workspace ws;
    matrix<T> mix;
    Rng rng(1);
    std::fill(gradient.begin(), gradient.end(), T(0));
    CriticBatches<Net> batches(net, ws, real.data(), fake.data(), e.size(), rng, mix, std::span<T>(gradient));
    if (kind == Kind::wgan_gp) {
        batches.load_interpolates(e);
        return batches.penalise(GradientNormPenalty{.lambda = 10, .target = 1});
    }
    batches.load_real();
    return batches.penalise(R1Penalty{.gamma = 10});
}

template <class Net>
void check_against_finite_differences() {
    Net net(Rng{11});
    constexpr std::size_t batch = 4;
    Rng data(5);
    std::vector<double> real_samples(batch * Net::sample_size), fake_samples(batch * Net::sample_size), e(batch);
    for (auto& v : real_samples) v = data.uniform(-1, 1);
    for (auto& v : fake_samples) v = data.uniform(-1, 1);
    for (auto& v : e) v = data.uniform(0.1, 0.9);
    const std::vector<std::size_t> real_labels{0, 1, 1, 0}, fake_labels{1, 0, 0, 1};
    const auto real = rows_with_condition<Net>(std::span<const double>(real_samples), real_labels);
    const auto fake = rows_with_condition<Net>(std::span<const double>(fake_samples), fake_labels);

    for (const Kind kind : {Kind::wgan_gp, Kind::r1}) {
        INFO((kind == Kind::wgan_gp ? "WGAN-GP at the interpolates" : "R1 at the real rows"));
        const auto at = [&](const Net& n) {
            return kind == Kind::wgan_gp
                       ? reference_penalty(n, interpolates<Net>(real, fake, std::span<const double>(e), false),
                                           Net::sample_size, kind)
                       : reference_penalty(n, real, Net::sample_size, kind);
        };
        std::vector<double> gradient(Net::parameter_count);
        const double value = batches_penalty(net, real, fake, std::span<const double>(e), kind, gradient);
        const double expected = at(net);
        CHECK(value == Approx(expected).epsilon(1e-12));
        // Controls: the norm over the whole row, and (WGAN-GP) conditions mixed, give other values.
        const auto& x = kind == Kind::wgan_gp ? interpolates<Net>(real, fake, std::span<const double>(e), false) : real;
        CHECK(std::abs(reference_penalty(net, x, Net::input_size, kind) - expected) > 1e-3 * std::abs(expected));
        if (kind == Kind::wgan_gp)
            CHECK(std::abs(reference_penalty(net, interpolates<Net>(real, fake, std::span<const double>(e), true),
                                             Net::sample_size, kind) -
                           expected) > 1e-3 * std::abs(expected));

        // dP/dparameters against central differences of the reference.
        Net probe = net;
        const double h = 1e-6;
        double worst = 0, largest = 0;
        for (std::size_t i = 0; i < Net::parameter_count; ++i) {
            const double kept = probe.parameters()[i];
            probe.parameters()[i] = kept + h;
            const double up = at(probe);
            probe.parameters()[i] = kept - h;
            const double down = at(probe);
            probe.parameters()[i] = kept;
            const double numeric = (up - down) / (2 * h);
            worst = std::max(worst, std::abs(numeric - gradient[i]));
            largest = std::max(largest, std::abs(numeric));
        }
        INFO("worst difference " << worst << ", largest gradient " << largest);
        CHECK(largest > 0.1);
        CHECK(worst <= 1e-6 * std::max(1.0, largest));
    }

    // The free function gradient_penalty on a conditional critic takes the same convention.
    matrix<double> x({batch, Net::input_size});
    std::copy(real.begin(), real.end(), x.begin());
    typename Net::Workspace ws;
    std::vector<double> gradient(Net::parameter_count), through_batches(Net::parameter_count);
    const double r1 = gradient_penalty(net, ws, x, R1Penalty{.gamma = 10}, std::span<double>(gradient),
                                       GradientMode::overwrite);
    CHECK(r1 == Approx(batches_penalty(net, real, fake, std::span<const double>(e), Kind::r1, through_batches))
                    .epsilon(1e-12));
    for (std::size_t i = 0; i < Net::parameter_count; ++i) CHECK(gradient[i] == Approx(through_batches[i]).margin(1e-12));
}

template <class Net>
void check_golden(const std::string& name, double rtol) {
    using T = typename Net::value_type;
    static const golden::data_file file = golden::data_file::load(XGAN_TEST_DATA_DIR "/data/penalty.txt");
    Net net;
    golden::load_parameters(file, name, net);
    const auto values_of = [&](const std::string& block, std::size_t rows, std::size_t cols) {
        const golden::block& b = file.get(name + "." + block, rows, cols);
        std::vector<T> out(b.values.size());
        std::transform(b.values.begin(), b.values.end(), out.begin(), [](double v) { return T(v); });
        return out;
    };
    const auto labels_of = [&](const std::string& block) {
        const golden::block& b = file.get(name + "." + block, 1, 4);
        std::vector<std::size_t> out;
        for (double v : b.values) out.push_back(static_cast<std::size_t>(v));
        return out;
    };
    const auto real = rows_with_condition<Net>(std::span<const T>(values_of("real", 4, Net::sample_size)),
                                               labels_of("real_labels"));
    const auto fake = rows_with_condition<Net>(std::span<const T>(values_of("fake", 4, Net::sample_size)),
                                               labels_of("fake_labels"));
    const auto e = values_of("e", 1, 4);
    for (const Kind kind : {Kind::wgan_gp, Kind::r1}) {
        const std::string penalty = kind == Kind::wgan_gp ? "wgan_gp" : "r1";
        std::vector<T> gradient(Net::parameter_count);
        const T value = static_cast<T>(batches_penalty(net, real, fake, std::span<const T>(e), kind, gradient));
        golden::check_penalty(file, name, penalty, net, value, gradient, rtol);
    }
}

}  // namespace

TEST_CASE("A conditional network on images: the condition is one constant plane per class after the sample") {
    using D = ImageD;
    STATIC_REQUIRE(D::classes == K);
    STATIC_REQUIRE(D::condition_planes);
    STATIC_REQUIRE(D::condition_size == K * 16);
    STATIC_REQUIRE(D::sample_size == 16);
    STATIC_REQUIRE(!ImageG::condition_planes);
    STATIC_REQUIRE(ImageG::condition_size == K);
    std::vector<float> row(D::input_size, 7.0f);
    D::write_condition(row.data() + D::sample_size, 1);
    for (std::size_t k = 0; k < 16; ++k) CHECK(row[k] == 7.0f);               // the sample is left alone
    for (std::size_t k = 16; k < 32; ++k) CHECK(row[k] == 0.0f);              // class 0's plane
    for (std::size_t k = 32; k < 48; ++k) CHECK(row[k] == 1.0f);              // class 1's plane
    CHECK(D::condition_label(row.data() + D::sample_size) == 1);
    D::write_condition(row.data() + D::sample_size, 0);
    CHECK(D::condition_label(row.data() + D::sample_size) == 0);

    using Trainer = AdversarialTrainer<ImageG, ImageD>;
    STATIC_REQUIRE(Trainer::conditional);
    STATIC_REQUIRE(Trainer::sample_size == 16);
}

TEST_CASE("A conditional GAN with a convolutional discriminator trains, replays and writes the planes") {
    using Trainer = AdversarialTrainer<ImageG, ImageD>;
    const auto run = [](Trainer& trainer, bool shift_labels) {
        Rng data(3);
        matrix<float> real({8, 16});
        std::vector<std::uint8_t> labels(8);
        for (int s = 0; s < 3; ++s) {
            for (std::size_t r = 0; r < 8; ++r) {
                labels[r] = static_cast<std::uint8_t>((data.below(K) + (shift_labels ? 1 : 0)) % K);
                for (std::size_t k = 0; k < 16; ++k) real(r, k) = static_cast<float>(data.uniform(-1, 1));
            }
            const StepStats stats = trainer.step(real, labels);
            CHECK(std::isfinite(stats.d_loss));
            CHECK(std::isfinite(stats.g_loss));
        }
    };
    Trainer a({.seed = 4}), b({.seed = 4}), c({.seed = 4});
    run(a, false);
    run(b, false);
    run(c, true);
    CHECK(a.generator() == b.generator());
    CHECK(a.discriminator() == b.discriminator());
    CHECK_FALSE(c.discriminator() == a.discriminator());  // the real labels reach D

    // D's input as the trainer writes it: a D of one Dense layer on the flattened rows,
    // from zero weights, after one SGD update (lr 1) of the minimax loss, holds minus the
    // gradient: w_j = (0.5 sum_real x_j - 0.5 sum_fake x_j) / n. With every real label 0,
    // each condition plane is constant: class 0's plane holds (0.5 n - 0.5 f0) / n and
    // class 1's -0.5 f1 / n, f_c the fake rows of class c (f0 + f1 = n).
    using LinearD = Conditional<K, Sequential<Input<1 + K, 4, 4>, Flatten, Dense<48, 1>, Sigmoid>>;
    AdversarialTrainer<ImageG, LinearD, SGD, SGD> linear({.discriminator_optimizer = {.lr = 1.0}, .seed = 2});
    auto weights = linear.discriminator().template parameters_of<LinearD::layer_count - 2>();
    std::fill(weights.begin(), weights.end(), 0.0f);
    const std::size_t n = 8;
    matrix<float> real({n, 16}, 0.25f);
    const std::vector<std::uint8_t> zeros(n, 0);
    linear.train_discriminator(real, zeros);
    const auto w = linear.discriminator().template parameters_of<LinearD::layer_count - 2>();
    for (std::size_t c = 0; c < K; ++c)
        for (std::size_t p = 1; p < 16; ++p) CHECK(w[16 + c * 16 + p] == w[16 + c * 16]);
    const double f1 = -double(w[32]) * 2 * n;
    const double f0 = double(n) - double(w[16]) * 2 * n;
    CHECK(f0 + f1 == Approx(double(n)).margin(1e-5));
    CHECK(std::abs(f1 - std::round(f1)) < 1e-4);
    CHECK(f1 > 0.5);  // some fake rows drew class 1, and their planes say so
    CHECK(f0 > 0.5);
}

TEST_CASE("Conditional WGAN-GP and R1: against finite differences in double", "[second_order]") {
    SECTION("one-hot values after the sample") { check_against_finite_differences<OneHotCritic<double>>(); }
    SECTION("planes after the image's channels") { check_against_finite_differences<PlanesCritic<double>>(); }
}

TEST_CASE("Conditional WGAN-GP and R1: against PyTorch autograd", "[golden][second_order]") {
    SECTION("one-hot values") {
        check_golden<OneHotCritic<double>>("onehot", 1e-12);
        check_golden<OneHotCritic<float>>("onehot", 1e-5);
    }
    SECTION("planes") {
        check_golden<PlanesCritic<double>>("planes", 1e-12);
        check_golden<PlanesCritic<float>>("planes", 1e-5);
    }
}

TEST_CASE("A conditional WGAN-GP trainer on a convolutional critic steps") {
    using Critic = Conditional<K, Sequential<Input<1 + K, 4, 4>, Conv2D<1 + K, 4, 3, 1, 1>, LeakyReLU, Flatten,
                                             Dense<64, 1>>>;
    AdversarialTrainer<ImageG, Critic, Adam, Adam, WassersteinGPLoss> trainer({.seed = 6});
    matrix<float> real({8, 16}, 0.5f);
    const std::vector<std::uint8_t> labels{0, 1, 0, 1, 1, 0, 0, 1};
    for (int s = 0; s < 2; ++s) {
        const StepStats stats = trainer.step(real, labels);
        CHECK(std::isfinite(stats.penalty));
        CHECK(stats.penalty > 0);
    }
}
