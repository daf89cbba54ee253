// Golden-value test of whole conditional training steps: AdversarialTrainer on a tiny
// conditional GAN (one-hot concatenated in G and D, Adam, the non-saturating loss) against
// the same two steps taken by PyTorch 1.13 (generate_step.py wrote data/step.txt), with
// the noise and its conditions given through step(real, labels, d_noise, g_noise). After
// each step G's and D's parameters and the step's d_loss and g_loss must be PyTorch's:
// in double to 1e-10 (the two sides sum in another order, ~1e-15, and Adam divides each
// gradient by its running size), in float to 1e-4 as the DCGAN step test
// (tests/golden/test_golden_step.cpp explains the float tolerance). A condition that did
// not reach D as PyTorch's (the fake rows' labels, the real rows') moves values by far more.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>

#include "golden/golden_data.hpp"

using namespace xgan;

namespace {

template <class T>
using StepG = Conditional<2, BasicSequential<T, Dense<3 + 2, 8>, LeakyReLU, Dense<8, 4>, Tanh>>;
template <class T>
using StepD = Conditional<2, BasicSequential<T, Dense<4 + 2, 8>, LeakyReLU, Dense<8, 1>>>;

const golden::data_file& data() {
    static const golden::data_file file = golden::data_file::load(XGAN_TEST_DATA_DIR "/data/step.txt");
    return file;
}

template <class T>
matrix<T> matrix_of(const std::string& name, std::size_t cols) {
    const golden::block& b = data().get(name);
    REQUIRE(b.cols == cols);
    matrix<T> m({b.rows, b.cols});
    std::transform(b.values.begin(), b.values.end(), m.begin(), [](double v) { return T(v); });
    return m;
}

template <class Net>
void load(Net& net, const std::string& prefix) {
    for (auto& p : net.named_parameters()) {
        const golden::block& b = data().get(prefix + p.name);
        REQUIRE(b.values.size() == p.values.size());
        std::transform(b.values.begin(), b.values.end(), p.values.begin(),
                       [](double v) { return typename Net::value_type(v); });
    }
}

template <class Net>
void compare(const Net& net, const std::string& prefix, double rtol) {
    for (const auto& p : net.named_parameters()) {
        const golden::block& b = data().get(prefix + p.name);
        REQUIRE(b.values.size() == p.values.size());
        double squares = 0;
        for (double e : b.values) squares += e * e;
        const double rms = std::sqrt(squares / double(b.values.size()));
        for (std::size_t i = 0; i < b.values.size(); ++i) {
            INFO(prefix << p.name << "[" << i << "]: expected " << b.values[i] << ", got " << p.values[i]);
            CHECK(std::abs(double(p.values[i]) - b.values[i]) <= rtol * std::max(std::abs(b.values[i]), rms));
        }
    }
}

template <class T>
void check_steps(double rtol) {
    using Trainer = AdversarialTrainer<StepG<T>, StepD<T>, Adam, Adam, NonSaturatingLoss>;
    typename Trainer::Options options;
    options.generator_optimizer = Adam{.lr = 1e-2, .beta1 = 0.5};
    options.discriminator_optimizer = Adam{.lr = 1e-2, .beta1 = 0.5};
    Trainer trainer(options);
    load(trainer.generator(), "G.param.");
    load(trainer.discriminator(), "D.param.");
    for (int s = 0; s < 2; ++s) {
        const std::string step = "step" + std::to_string(s) + ".";
        const matrix<T> real = matrix_of<T>(step + "real", 4);
        std::vector<std::uint8_t> labels;
        for (double v : data().get(step + "labels", 1, 4).values) labels.push_back(static_cast<std::uint8_t>(v));
        const StepStats stats = trainer.step(real, labels, matrix_of<T>(step + "d_noise", 5),
                                             matrix_of<T>(step + "g_noise", 5));
        CHECK(stats.d_loss == Approx(data().get(step + "d_loss", 1, 1).values[0]).epsilon(rtol));
        CHECK(stats.g_loss == Approx(data().get(step + "g_loss", 1, 1).values[0]).epsilon(rtol));
        compare(trainer.generator(), step + "G.", rtol);
        compare(trainer.discriminator(), step + "D.", rtol);
    }
}

}  // namespace

TEST_CASE("golden conditional step: two steps of a one-hot conditional GAN against PyTorch", "[golden][step]") {
    SECTION("double") { check_steps<double>(1e-10); }
    SECTION("float") { check_steps<float>(1e-4); }
}

TEST_CASE("a conditional step with given noise refuses a noise row without a class's one-hot", "[step]") {
    AdversarialTrainer<StepG<float>, StepD<float>> trainer({.seed = 3});
    const StepG<float> g_before = trainer.generator();
    const StepD<float> d_before = trainer.discriminator();
    const matrix<float> real({4, 4}, 0.5f);
    const std::vector<std::uint8_t> labels{0, 1, 0, 1};
    matrix<float> d_noise({4, 5}, 0.25f), g_noise({4, 5}, 0.25f);
    for (std::size_t r = 0; r < 4; ++r) {
        StepG<float>::write_condition(&d_noise(r, 3), r % 2);
        StepG<float>::write_condition(&g_noise(r, 3), (r + 1) % 2);
    }
    g_noise(2, 4) = 0.5f;  // row 2's condition: 0, 0.5
    REQUIRE_THROWS_WITH(trainer.step(real, labels, d_noise, g_noise),
                        Catch::Contains("g_noise row 2 does not end in the one-hot of a class"));
    CHECK(trainer.generator() == g_before);
    CHECK(trainer.discriminator() == d_before);
    CHECK(trainer.steps() == 0);
    g_noise(2, 4) = 1.0f;  // the one-hot of class 1
    trainer.step(real, labels, d_noise, g_noise);
    CHECK(trainer.steps() == 1);
}
