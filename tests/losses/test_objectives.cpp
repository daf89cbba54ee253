// The score-reading objectives (WassersteinLoss, HingeLoss, LeastSquaresLoss): values
// and gradients against PyTorch (tests/golden/data/objectives.txt, written by
// tests/golden/generate_objectives.py), finite differences, settings, what they declare.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <xgan/xgan.hpp>

#include "golden/golden_data.hpp"

using namespace xgan;

namespace {

const golden::data_file& data() {
    static const golden::data_file file =
        golden::data_file::load(std::string(XGAN_TEST_DATA_DIR) + "/../golden/data/objectives.txt");
    return file;
}

template <class T>
matrix<T> column(std::span<const double> values) {
    matrix<T> m({values.size(), 1});
    for (std::size_t i = 0; i < values.size(); ++i) m.data()[i] = static_cast<T>(values[i]);
    return m;
}

// |got - want| <= tolerance * max(1, |want|)
void check_close(double got, double want, double tolerance, const std::string& what) {
    INFO(what << ": got " << got << ", PyTorch " << want);
    CHECK(std::abs(got - want) <= tolerance * std::max(1.0, std::abs(want)));
}

template <class T, class L>
void check_against_torch(const L& loss, const std::string& name, double tolerance) {
    for (const std::string case_name : {"ordinary", "batch5", "kinks"}) {
        const std::string prefix = case_name + "." + name + ".";
        const auto real = column<T>(data().get(case_name + ".real_scores").all());
        const auto fake = column<T>(data().get(case_name + ".fake_scores").all());
        matrix<T> gr(real.shape()), gf(fake.shape());
        check_close(loss.discriminator(real, fake, gr, gf), data().get(prefix + "d_loss").values[0], tolerance,
                    prefix + "d_loss");
        for (std::size_t i = 0; i < real.size(); ++i) {
            check_close(gr.data()[i], data().get(prefix + "d_grad_real").values[i], tolerance,
                        prefix + "d_grad_real[" + std::to_string(i) + "]");
            check_close(gf.data()[i], data().get(prefix + "d_grad_fake").values[i], tolerance,
                        prefix + "d_grad_fake[" + std::to_string(i) + "]");
        }
        check_close(loss.generator(fake, gf), data().get(prefix + "g_loss").values[0], tolerance, prefix + "g_loss");
        for (std::size_t i = 0; i < fake.size(); ++i)
            check_close(gf.data()[i], data().get(prefix + "g_grad").values[i], tolerance,
                        prefix + "g_grad[" + std::to_string(i) + "]");
    }
}

}  // namespace

TEMPLATE_TEST_CASE("score objectives match PyTorch's values and gradients", "[losses][golden]", double, float) {
    const double tolerance = std::is_same_v<TestType, double> ? 1e-14 : 1e-6;
    check_against_torch<TestType>(WassersteinLoss{}, "wgan", tolerance);
    check_against_torch<TestType>(HingeLoss{}, "hinge", tolerance);
    check_against_torch<TestType>(LeastSquaresLoss{}, "lsgan", tolerance);
    check_against_torch<TestType>(LeastSquaresLoss{.a = -1, .b = 1, .c = 0}, "lsgan_m101", tolerance);
}

TEST_CASE("score objectives' gradients match finite differences", "[losses][gradients]") {
    const auto wgan = check_loss_gradients(WassersteinLoss{}, {.batch = 6});
    INFO(wgan.worst);
    CHECK(wgan.passed);
    const auto lsgan = check_loss_gradients(LeastSquaresLoss{.a = -1, .b = 1, .c = 0}, {.batch = 6});
    INFO(lsgan.worst);
    CHECK(lsgan.passed);
    // Random scores in [-6, 6] land on the hinge's kinks (1, -1) with probability 0.
    const auto hinge = check_loss_gradients(HingeLoss{}, {.batch = 6});
    INFO(hinge.worst);
    CHECK(hinge.passed);
}

TEST_CASE("what each loss reads from D", "[losses]") {
    STATIC_REQUIRE(loss_reads_v<MinimaxLoss> == CriticOutput::logit);
    STATIC_REQUIRE(loss_reads_v<NonSaturatingLoss> == CriticOutput::logit);
    STATIC_REQUIRE(loss_reads_v<WassersteinLoss> == CriticOutput::score);
    STATIC_REQUIRE(loss_reads_v<HingeLoss> == CriticOutput::score);
    STATIC_REQUIRE(loss_reads_v<LeastSquaresLoss> == CriticOutput::score);
    STATIC_REQUIRE(Loss<WassersteinLoss, float>);
    STATIC_REQUIRE(Loss<HingeLoss, double>);
    STATIC_REQUIRE(Loss<LeastSquaresLoss, float>);
}

TEST_CASE("layer traits behind the objectives' compile-time rules", "[losses]") {
    using Plain = Sequential<Dense<4, 8>, LeakyReLU, Dense<8, 1>>;
    using WithBatchNorm = Sequential<Dense<4, 8>, BatchNorm, LeakyReLU, Dense<8, 1>>;
    using WithBatchNorm2D = Sequential<Input<1, 4, 4>, Conv2D<1, 2, 3, 1, 1>, BatchNorm, LeakyReLU, Flatten,
                                       Dense<32, 1>>;
    STATIC_REQUIRE(per_sample_critic_v<Plain>);
    STATIC_REQUIRE_FALSE(per_sample_critic_v<WithBatchNorm>);
    STATIC_REQUIRE_FALSE(per_sample_critic_v<WithBatchNorm2D>);
    using Ends = Sequential<Dense<4, 1>, Tanh, ReLU, Sigmoid, LeakyReLU>;
    STATIC_REQUIRE(bounded_output_layer_v<Ends::layer_type<1>>);
    STATIC_REQUIRE(bounded_output_layer_v<Ends::layer_type<2>>);
    STATIC_REQUIRE(bounded_output_layer_v<Ends::layer_type<3>>);
    STATIC_REQUIRE_FALSE(bounded_output_layer_v<Ends::layer_type<0>>);
    STATIC_REQUIRE_FALSE(bounded_output_layer_v<Ends::layer_type<4>>);
}

TEST_CASE("settings that make no sense are refused, naming the setting", "[losses][errors]") {
    using Catch::Matchers::Contains;
    CHECK_NOTHROW(WassersteinLoss{}.validate());
    CHECK_NOTHROW(WassersteinLoss{.clip = 0}.validate());
    CHECK_THROWS_WITH(WassersteinLoss{.clip = -0.01}.validate(), Contains("clip") && Contains("-0.01"));
    CHECK_THROWS_AS(WassersteinLoss{.clip = std::nan("")}.validate(), std::invalid_argument);
    CHECK_THROWS_AS(WassersteinLoss{.clip = HUGE_VAL}.validate(), std::invalid_argument);
    CHECK_NOTHROW(LeastSquaresLoss{}.validate());
    CHECK_THROWS_WITH(LeastSquaresLoss{.a = 1}.validate(), Contains("must differ"));
    CHECK_THROWS_WITH(LeastSquaresLoss{.c = HUGE_VAL}.validate(), Contains("finite") && Contains("c = inf"));
}

TEST_CASE("weight clipping puts every critic parameter in [-clip, clip] and leaves the rest", "[losses]") {
    Sequential<Dense<3, 4>, LeakyReLU, Dense<4, 1>> critic(std::uint64_t{7});
    auto p = critic.parameters();
    p[0] = 0.5f;
    p[1] = -0.5f;
    p[2] = 0.005f;
    p[3] = -0.01f;
    WassersteinLoss{.clip = 0.01}.after_discriminator_update(critic);
    CHECK(p[0] == 0.01f);
    CHECK(p[1] == -0.01f);
    CHECK(p[2] == 0.005f);
    CHECK(p[3] == -0.01f);
    for (const float v : p) CHECK(std::abs(v) <= 0.01f);

    p[0] = 3.0f;
    WassersteinLoss{.clip = 0}.after_discriminator_update(critic);  // 0: off
    CHECK(p[0] == 3.0f);
}
