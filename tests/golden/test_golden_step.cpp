// Golden-value test of whole training steps: AdversarialTrainer on a small DCGAN against the
// same two steps taken by PyTorch 1.13 (tests/golden/generate.py wrote
// tests/golden/data/dcgan_step.txt; torch is not needed here).
//
// G: Dense<8, 36>, Unflatten<4, 3, 3>, BatchNorm, ReLU, ConvTranspose2D<4, 2, 4, 2, 1>,
//    BatchNorm, ReLU, ConvTranspose2D<2, 1, 4, 2, 1>, Tanh (noise 8 -> image 1 x 12 x 12);
// D: Conv2D<1, 4, 4, 2, 1>, LeakyReLU, Conv2D<4, 8, 4, 2, 1>, BatchNorm, LeakyReLU, Flatten,
//    Dense<72, 1> (a logit);
// Adam(lr 2e-4, betas 0.5, 0.999) for both, NonSaturatingLoss with real_label 0.9 (Example
// 03's settings), batch 6, BatchNorm in training mode. Both networks start from PyTorch's
// weights, loaded by their state_dict names; the trainer takes PyTorch's noise through
// step(real, d_noise, g_noise). After each of two steps, G's and D's parameters and
// BatchNorm buffers and the step's d_loss, g_loss, d_accuracy and d_fake must be PyTorch's.
// generate.py's dcgan_step takes the step as the trainer does: D on the real batch and on
// G(z_d) in two passes (BatchNorm: D's running statistics take both), then G on fresh noise
// z_g through D in training mode with D's buffers left as they were.
//
// Tolerances, element by element, relative to max(|expected|, the block's root mean square)
// as in test_golden_conv.cpp:
// - float64: 1e-12. The two sides evaluate the same sums in another order, so losses and
//   gradients are ~1e-15 apart, and Adam's steps, ~lr in size, carry that into the
//   parameters. Measured: 1.8e-14 at worst (XGAN_GOLDEN_REPORT=1).
// - float32: 1e-4. PyTorch's own float32 step is up to 4.9e-6 away from its float64 step by
//   this measure (generate.py prints it; the data file's last comment): Adam divides each
//   gradient by its running size, so where a gradient is a sum with cancellation (a
//   BatchNorm bias's, over 54 values) its step carries float32's 6e-8 times that
//   cancellation. xgan rounds as much but differently (measured: 6.8e-6 from PyTorch's
//   float32), hence a tolerance 20 times PyTorch's own error. A wrong formula (bias
//   correction, momentum, label, which batch statistics a pass uses) moves values by 1e-2 or
//   more of that measure.
// - Where a gradient is zero in exact arithmetic (the bias of a convolution feeding
//   BatchNorm2d, which removes each channel's mean), it is the rounding of a sum, and Adam,
//   dividing by its running size plus eps, turns that into a step of its own sign and up to
//   1.06 lr in float32 (rounding ~1e-7, far above eps 1e-8), or up to ~1e-4 lr in float64.
//   The file gives such a bias, and the running mean of the BatchNorm2d it feeds (which
//   takes the bias in), an absolute allowance (<dtype>.step<s>.<net>.allow.<kind>.<name>,
//   derived from the sizes of the summed terms in generate.py) on top of the tolerance.
// Set XGAN_GOLDEN_REPORT=1 to print the worst error of every comparison.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>

#include "golden_data.hpp"

namespace {

template <class T>
constexpr double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;

// CHECKs that every element of `got` is within rtol of `expected` (relative to max(|expected|,
// the block's rms)) plus `allowance` (absolute). A failure names the comparison, the worst
// element and up to eight offending elements.
template <class U>
void check_close(const std::string& what, std::span<const double> expected, std::span<const U> got, double rtol,
                 double allowance = 0) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    double squares = 0;
    for (double e : expected) squares += e * e;
    const double rms = expected.empty() ? 0.0 : std::sqrt(squares / static_cast<double>(expected.size()));
    double worst = 0;
    std::size_t worst_index = 0, offenders = 0;
    std::ostringstream listing;
    listing << std::setprecision(17);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double g = static_cast<double>(got[i]);
        const double denominator = std::max(std::abs(expected[i]), rms);
        const double excess = std::max(std::abs(g - expected[i]) - allowance, 0.0);
        double e = excess == 0 ? 0.0 : denominator > 0 ? excess / denominator : std::numeric_limits<double>::infinity();
        if (std::isnan(g)) e = std::numeric_limits<double>::infinity();
        if (e > worst) {
            worst = e;
            worst_index = i;
        }
        if (e > rtol && offenders++ < 8)
            listing << "\n  [" << i << "] expected " << expected[i] << ", got " << g << " (error " << e << ")";
    }
    if (std::getenv("XGAN_GOLDEN_REPORT") != nullptr)
        std::printf("%-50s worst error %.3g (index %zu)%s\n", what.c_str(), worst, worst_index,
                    allowance > 0 ? " beyond the allowance" : "");
    std::ostringstream message;
    message << std::setprecision(17) << what << ": worst error " << worst << " at index " << worst_index;
    if (!expected.empty())
        message << " (expected " << expected[worst_index] << ", got " << static_cast<double>(got[worst_index]) << ")";
    message << ", tolerance " << rtol << " relative to max(|expected|, the block's rms " << rms << ")";
    if (allowance > 0) message << " beyond an allowance of " << allowance;
    message << "; " << offenders << " of " << expected.size() << " elements beyond it" << listing.str();
    INFO(message.str());
    CHECK(worst <= rtol);
}

template <class T>
xgan::matrix<T> to_matrix(const golden::block& b) {
    xgan::matrix<T> m({b.rows, b.cols});
    std::transform(b.values.begin(), b.values.end(), m.begin(), [](double v) { return static_cast<T>(v); });
    return m;
}

// Copies <net>.<kind>.<tensor> into each named tensor, checking its shape against
// <net>.shape.<tensor> (absent for rank 0) and the counts of tensors and values against
// <net>.counts: xgan then lists exactly PyTorch's state_dict tensors.
template <class Named>
void load_named(const golden::data_file& data, const std::string& net, const std::string& kind, Named&& named,
                std::size_t value_count, std::size_t count_index) {
    const golden::block& counts = data.get(net + ".counts", 1, 4);
    INFO(net << ": xgan's " << kind << " tensors against PyTorch's state_dict");
    CHECK(static_cast<double>(named.size()) == counts.values[count_index]);
    CHECK(static_cast<double>(value_count) == counts.values[count_index + 2]);
    for (auto& p : named) {
        INFO(kind << " '" << p.name << "'");
        const std::string shape_name = net + ".shape." + p.name;
        if (p.shape.empty()) {
            CHECK_FALSE(data.contains(shape_name));
        } else {
            const golden::block& shape = data.get(shape_name, 1, p.shape.size());
            for (std::size_t d = 0; d < p.shape.size(); ++d) CHECK(static_cast<double>(p.shape[d]) == shape.values[d]);
        }
        const golden::block& b = data.get(net + "." + kind + "." + p.name);
        REQUIRE(b.values.size() == p.values.size());
        std::transform(b.values.begin(), b.values.end(), p.values.begin(),
                       [](double v) { return static_cast<typename decltype(p.values)::value_type>(v); });
    }
}

// Compares every named tensor with <prefix>.<net>.<kind>.<name>, with the file's allowance
// <prefix>.<net>.allow.<kind>.<name> where there is one.
template <class Named>
void check_named(const golden::data_file& data, const std::string& prefix, const std::string& net,
                 const std::string& kind, const Named& named, double rtol) {
    for (const auto& p : named) {
        const std::string name = prefix + "." + net + "." + kind + "." + p.name;
        const std::string allow = prefix + "." + net + ".allow." + kind + "." + p.name;
        check_close(name, data.get(name).all(), std::span(p.values.data(), p.values.size()), rtol,
                    data.contains(allow) ? data.scalar(allow) : 0.0);
    }
}

golden::data_file load() { return golden::data_file::load(golden::data_path("dcgan_step.txt")); }

template <class T>
using Generator =
    xgan::BasicSequential<T, xgan::Input<8>, xgan::Dense<8, 36>, xgan::Unflatten<4, 3, 3>, xgan::BatchNorm, xgan::ReLU,
                          xgan::ConvTranspose2D<4, 2, 4, 2, 1>, xgan::BatchNorm, xgan::ReLU,
                          xgan::ConvTranspose2D<2, 1, 4, 2, 1>, xgan::Tanh>;
template <class T>
using Discriminator =
    xgan::BasicSequential<T, xgan::Input<1, 12, 12>, xgan::Conv2D<1, 4, 4, 2, 1>, xgan::LeakyReLU,
                          xgan::Conv2D<4, 8, 4, 2, 1>, xgan::BatchNorm, xgan::LeakyReLU, xgan::Flatten,
                          xgan::Dense<72, 1>>;
template <class T>
using Trainer = xgan::AdversarialTrainer<Generator<T>, Discriminator<T>, xgan::Adam, xgan::Adam,
                                         xgan::NonSaturatingLoss>;

// A trainer with PyTorch's networks, optimizer settings and loss.
template <class T>
Trainer<T> golden_trainer(const golden::data_file& data) {
    Generator<T> g;
    Discriminator<T> d;
    load_named(data, "G", "param", g.named_parameters(), Generator<T>::parameter_count, 0);
    load_named(data, "G", "buffer", g.named_buffers(), Generator<T>::buffer_count, 1);
    load_named(data, "D", "param", d.named_parameters(), Discriminator<T>::parameter_count, 0);
    load_named(data, "D", "buffer", d.named_buffers(), Discriminator<T>::buffer_count, 1);
    const xgan::Adam adam{.lr = data.scalar("lr"), .beta1 = data.scalar("beta1"), .beta2 = data.scalar("beta2"),
                          .eps = data.scalar("eps")};
    return Trainer<T>(std::move(g), std::move(d),
                      {.generator_optimizer = adam,
                       .discriminator_optimizer = adam,
                       .loss = xgan::NonSaturatingLoss{.real_label = data.scalar("real_label")}});
}

template <class T>
void check_steps(const std::string& tag) {
    const auto data = load();
    Trainer<T> trainer = golden_trainer<T>(data);
    STATIC_REQUIRE_FALSE(Trainer<T>::joint_discriminator_pass);  // BatchNorm in D: real and fake in two passes
    REQUIRE(trainer.generator().mode() == xgan::Mode::training);
    REQUIRE(trainer.discriminator().mode() == xgan::Mode::training);
    constexpr double rtol = tolerance<T>;
    for (int s = 1; s <= 2; ++s) {
        const std::string step = std::to_string(s);
        const std::string prefix = tag + ".step" + step;
        INFO(prefix);
        const xgan::StepStats stats =
            trainer.step(to_matrix<T>(data.get("real." + step, 6, 144)), to_matrix<T>(data.get("noise.d." + step, 6, 8)),
                         to_matrix<T>(data.get("noise.g." + step, 6, 8)));
        CHECK(stats.step == static_cast<std::uint64_t>(s));
        for (const auto& [name, value] : {std::pair{"d_loss", stats.d_loss}, std::pair{"g_loss", stats.g_loss},
                                          std::pair{"d_accuracy", stats.d_accuracy}, std::pair{"d_fake", stats.d_fake}})
            check_close(prefix + "." + name, data.get(prefix + "." + name, 1, 1).all(), std::span(&value, 1), rtol);
        check_named(data, prefix, "G", "param", std::as_const(trainer.generator()).named_parameters(), rtol);
        check_named(data, prefix, "G", "buffer", std::as_const(trainer.generator()).named_buffers(), rtol);
        check_named(data, prefix, "D", "param", std::as_const(trainer.discriminator()).named_parameters(), rtol);
        check_named(data, prefix, "D", "buffer", std::as_const(trainer.discriminator()).named_buffers(), rtol);
    }
}

template <class T>
std::vector<T> all_values(const Trainer<T>& trainer) {
    std::vector<T> values(trainer.generator().parameters().begin(), trainer.generator().parameters().end());
    values.insert(values.end(), trainer.discriminator().parameters().begin(), trainer.discriminator().parameters().end());
    for (const auto& b : trainer.generator().named_buffers()) values.insert(values.end(), b.values.begin(), b.values.end());
    for (const auto& b : trainer.discriminator().named_buffers())
        values.insert(values.end(), b.values.begin(), b.values.end());
    return values;
}

}  // namespace

TEST_CASE("A DCGAN training step matches PyTorch's in float32: parameters, BatchNorm buffers and losses",
          "[golden][step]") {
    check_steps<float>("f32");
}

TEST_CASE("A DCGAN training step matches PyTorch's in float64: parameters, BatchNorm buffers and losses",
          "[golden][step]") {
    check_steps<double>("f64");
}

TEST_CASE("step with given noise equals step drawing the same noise from the trainer's Rng", "[golden][step]") {
    const auto data = load();
    Trainer<float> drawing = golden_trainer<float>(data);
    Trainer<float> given = golden_trainer<float>(data);
    const auto real = to_matrix<float>(data.get("real.1", 6, 144));
    // What step(real) draws: D's noise, then G's, from the Rng (nothing else draws here).
    xgan::Rng rng = drawing.rng();
    xgan::matrix<float> d_noise({6, 8}), g_noise({6, 8});
    rng.fill_normal(std::span<float>(d_noise.data(), d_noise.size()));
    rng.fill_normal(std::span<float>(g_noise.data(), g_noise.size()));

    const xgan::StepStats a = drawing.step(real);
    const xgan::StepStats b = given.step(real, d_noise, g_noise);
    CHECK(a.d_loss == b.d_loss);
    CHECK(a.g_loss == b.g_loss);
    CHECK(a.d_accuracy == b.d_accuracy);
    CHECK(a.d_fake == b.d_fake);
    CHECK(all_values(drawing) == all_values(given));
    CHECK(given.rng() == xgan::Rng(xgan::Rng::default_seed));  // the given noise was not drawn
    CHECK_FALSE(all_values(drawing) == all_values(golden_trainer<float>(data)));  // the step changed something
}

TEST_CASE("step with given noise refuses noise of another shape or holding a non-finite value", "[golden][step]") {
    const auto data = load();
    Trainer<float> trainer = golden_trainer<float>(data);
    const std::vector<float> before = all_values(trainer);
    const auto real = to_matrix<float>(data.get("real.1", 6, 144));
    const xgan::matrix<float> noise = to_matrix<float>(data.get("noise.d.1", 6, 8));
    CHECK_THROWS_WITH(trainer.step(real, xgan::matrix<float>({5, 8}), noise),
                      Catch::Contains("d_noise must be {6, 8}") && Catch::Contains("got {5, 8}"));
    CHECK_THROWS_WITH(trainer.step(real, noise, xgan::matrix<float>({6, 7})),
                      Catch::Contains("g_noise must be {6, 8}") && Catch::Contains("got {6, 7}"));
    trainer.options().discriminator_steps = 2;
    CHECK_THROWS_WITH(trainer.step(real, noise, noise),
                      Catch::Contains("d_noise must be {12, 8} (discriminator_steps x batch rows"));
    trainer.options().discriminator_steps = 1;
    xgan::matrix<float> bad = noise;
    bad(4, 3) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(trainer.step(real, noise, bad), Catch::Contains("g_noise holds nan at row 4, column 3"));
    CHECK(all_values(trainer) == before);
    CHECK(trainer.steps() == 0);
}
