// The second-order pass (double backward): each layer's backward_second_order against
// central differences of its backward_input, the trait that says which layers have one,
// and whole critics' gradient-penalty gradients (WGAN-GP, R1) against central differences
// of the penalty, all in double.
#include <catch2/catch.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>

#include <support/gradient_assertions.hpp>
#include <xgan/core/second_order.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/pool2d.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/layers/upsample.hpp>
#include <xgan/train/gradient_penalty.hpp>

using namespace xgan;
using tests::require_passes;

namespace {
// Tanh with a wrong second derivative (0): its first-order passes are right, so only a
// check of the second-order pass can catch it.
struct flat_tanh_op {
    static std::string name() { return "FlatTanh"; }
    template <class T> static T value(T x) { return std::tanh(x); }
    template <class T> static T gradient(T, T y, T dy) { return dy * (T(1) - y * y); }
    template <class T> static T second_derivative(T, T) { return T(0); }
};
struct FlatTanh : activation_spec<flat_tanh_op> {};

// An activation whose Op gives no second derivative.
struct cube_op {
    static std::string name() { return "Cube"; }
    template <class T> static T value(T x) { return x * x * x; }
    template <class T> static T gradient(T x, T, T dy) { return T(3) * x * x * dy; }
};
struct Cube : activation_spec<cube_op> {};

GradientCheckOptions with_batch(std::size_t batch) {
    GradientCheckOptions options;
    options.batch = batch;
    return options;
}
}  // namespace

TEST_CASE("second_order_layer: which layers have a second-order pass", "[second_order]") {
    STATIC_REQUIRE(second_order_layer<DenseLayer<3, 2, double>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_t<ReLU, 4, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_t<LeakyReLU, 4, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_t<Tanh, 4, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_t<Sigmoid, 4, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<Flatten, shape<2, 3, 3>, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_t<Unflatten<2, 1, 2>, 4, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<Conv2D<2, 3, 3, 2, 1>, shape<2, 5, 5>, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<Conv2DRect<2, 3, 3, 1, 2, 1, 1, 0>, shape<2, 5, 5>, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<ConvTranspose2D<2, 3, 4, 2, 1>, shape<2, 5, 5>, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<MaxPool2D<2>, shape<2, 4, 4>, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<AvgPool2D<2>, shape<2, 4, 4>, float>>);
    STATIC_REQUIRE(second_order_layer<bind_layer_to_t<Upsample2D<2>, shape<2, 4, 4>, float>>);
    // Without one: stateful layers that mix or drop samples, and an Op without second_derivative.
    STATIC_REQUIRE_FALSE(second_order_layer<bind_layer_t<BatchNorm, 4, float>>);
    STATIC_REQUIRE_FALSE(second_order_layer<bind_layer_t<Dropout, 4, float>>);
    STATIC_REQUIRE_FALSE(second_order_layer<bind_layer_t<Cube, 4, float>>);
    // Only layers whose pass can add to x_adjoint say so.
    STATIC_REQUIRE(second_order_curvature_v<bind_layer_t<Tanh, 4, float>>);
    STATIC_REQUIRE(second_order_curvature_v<bind_layer_t<Sigmoid, 4, float>>);
    STATIC_REQUIRE_FALSE(second_order_curvature_v<bind_layer_t<ReLU, 4, float>>);
    STATIC_REQUIRE_FALSE(second_order_curvature_v<bind_layer_t<LeakyReLU, 4, float>>);
    STATIC_REQUIRE_FALSE(second_order_curvature_v<DenseLayer<3, 2, float>>);
}

TEST_CASE("backward_second_order: Dense", "[second_order]") {
    require_passes(check_layer_second_order<Dense<5, 3>>());
    require_passes(check_layer_second_order<Dense<7, 1>>(with_batch(5)));
    require_passes(check_layer_second_order<Dense<1, 9>>());
}

TEST_CASE("backward_second_order: the activations", "[second_order]") {
    require_passes(check_layer_second_order<ReLU, 7>());
    require_passes(check_layer_second_order<LeakyReLU, 7>());
    require_passes(check_layer_second_order<LeakyReLUWithSlope<1, 100>, 5>());
    require_passes(check_layer_second_order<Tanh, 7>());
    require_passes(check_layer_second_order<Sigmoid, 7>());
    // On an image shape too.
    require_passes(check_layer_second_order<Tanh, shape<2, 3, 5>>());
}

TEST_CASE("backward_second_order: the checker catches a wrong second derivative", "[second_order]") {
    const GradientCheckResult result = check_layer_second_order<FlatTanh, 7>();
    INFO(result.worst);
    CHECK_FALSE(result.passed);
    CHECK(result.worst.find("x_adjoint") != std::string::npos);
}

TEST_CASE("backward_second_order: Flatten, Unflatten, pooling and upsampling", "[second_order]") {
    require_passes(check_layer_second_order<Flatten, shape<2, 3, 5>>());
    require_passes(check_layer_second_order<Unflatten<2, 3, 5>, 30>());
    require_passes(check_layer_second_order<AvgPool2D<3, 2>, shape<2, 7, 9>>());
    require_passes(check_layer_second_order<AvgPool2D<2>, shape<3, 5, 4>>());
    require_passes(check_layer_second_order<MaxPool2D<2>, shape<2, 6, 5>>());
    require_passes(check_layer_second_order<MaxPool2D<3, 2>, shape<2, 7, 7>>());
    require_passes(check_layer_second_order<Upsample2D<2>, shape<2, 3, 5>>());
    require_passes(check_layer_second_order<Upsample2D<3>, shape<1, 2, 3>>());
}

TEST_CASE("backward_second_order: Conv2D and Conv2DRect", "[second_order]") {
    // Batch 9: a group of 8 samples and a group of one (layers/conv2d.hpp).
    require_passes(check_layer_second_order<Conv2D<3, 4, 3, 2, 1>, shape<3, 7, 6>>(with_batch(9)));
    require_passes(check_layer_second_order<Conv2D<2, 3, 4, 2, 1>, shape<2, 8, 8>>());
    require_passes(check_layer_second_order<Conv2D<1, 2, 1>, shape<1, 3, 3>>());
    require_passes(check_layer_second_order<Conv2DRect<2, 3, 3, 5, 2, 1, 1, 2>, shape<2, 9, 8>>(with_batch(9)));
    require_passes(check_layer_second_order<Conv2DRect<2, 2, 2, 3, 3, 2, 0, 1>, shape<2, 7, 5>>());
}

TEST_CASE("backward_second_order: ConvTranspose2D", "[second_order]") {
    require_passes(check_layer_second_order<ConvTranspose2D<3, 2, 4, 2, 1>, shape<3, 5, 4>>(with_batch(9)));
    require_passes(check_layer_second_order<ConvTranspose2D<2, 3, 3, 2, 1, 1>, shape<2, 4, 5>>());
    require_passes(check_layer_second_order<ConvTranspose2D<2, 2, 3>, shape<2, 3, 3>>());
}

namespace {
using mlp_critic = BasicSequential<double, Dense<4, 7>, Tanh, Dense<7, 5>, LeakyReLU, Dense<5, 1>>;
using relu_critic = BasicSequential<double, Dense<3, 6>, ReLU, Dense<6, 6>, LeakyReLU, Dense<6, 1>>;
using sigmoid_critic = BasicSequential<double, Dense<5, 4>, Sigmoid, Dense<4, 3>, Tanh, Dense<3, 1>>;
// The conv critic: Conv2D -> LeakyReLU -> Flatten -> Dense (stride 2, padding 1, odd sizes).
using conv_critic = BasicSequential<double, Input<2, 7, 6>, Conv2D<2, 3, 3, 2, 1>, LeakyReLU, Flatten, Dense<36, 1>>;
// Every image layer, with curved activations between them so the adjoints run through each.
using image_critic =
    BasicSequential<double, Input<2, 6, 6>, Conv2D<2, 3, 3, 1, 1>, Tanh, MaxPool2D<2>,
                    Conv2DRect<3, 2, 2, 3, 1, 2, 0, 1>, Sigmoid, Upsample2D<2>, ConvTranspose2D<2, 1, 3, 2, 1>,
                    AvgPool2D<3, 2>, Flatten, Dense<9, 2>, Tanh, Dense<2, 1>>;
}  // namespace

TEST_CASE("input_gradient_penalty: WGAN-GP's penalty gradient against central differences", "[second_order]") {
    const GradientNormPenalty wgan_gp{10.0};
    require_passes(check_penalty_gradients(mlp_critic(3), wgan_gp));
    require_passes(check_penalty_gradients(relu_critic(4), wgan_gp, with_batch(5)));
    require_passes(check_penalty_gradients(sigmoid_critic(5), wgan_gp));
    require_passes(check_penalty_gradients(conv_critic(6), wgan_gp, with_batch(9)));
    require_passes(check_penalty_gradients(image_critic(7), wgan_gp, with_batch(4)));
}

TEST_CASE("input_gradient_penalty: R1's penalty gradient against central differences", "[second_order]") {
    const R1Penalty r1{0.5};
    require_passes(check_penalty_gradients(mlp_critic(8), r1));
    require_passes(check_penalty_gradients(conv_critic(9), r1));
    require_passes(check_penalty_gradients(image_critic(10), r1, with_batch(2)));
}

TEST_CASE("input_gradient_penalty: the penalty check can fail", "[second_order]") {
    // A critic with FlatTanh: its penalty gradient misses the second-derivative terms.
    using flat_critic = BasicSequential<double, Dense<4, 7>, FlatTanh, Dense<7, 1>>;
    const GradientCheckResult result = check_penalty_gradients(flat_critic(3), GradientNormPenalty{});
    INFO(result.worst);
    CHECK_FALSE(result.passed);
}

TEST_CASE("input_gradient_penalty: accumulates or overwrites, and leaves the input gradient", "[second_order]") {
    const mlp_critic critic(11);
    Rng rng(12);
    matrix<double> x({6, 4});
    rng.fill_uniform(std::span<double>(x.data(), x.size()), -1.0, 1.0);
    mlp_critic::Workspace ws;
    std::vector<double> once(mlp_critic::parameter_count, 0.0), twice(mlp_critic::parameter_count, 0.0);
    const GradientNormPenalty penalty{10.0};
    const double value = critic.input_gradient_penalty(ws, x, penalty, std::span<double>(once));
    critic.input_gradient_penalty(ws, x, penalty, std::span<double>(twice));
    critic.input_gradient_penalty(ws, x, penalty, std::span<double>(twice));
    for (std::size_t i = 0; i < once.size(); ++i) REQUIRE(twice[i] == Approx(2 * once[i]).margin(1e-12));
    std::vector<double> stored(mlp_critic::parameter_count, 123.0);
    REQUIRE(critic.input_gradient_penalty(ws, x, penalty, std::span<double>(stored), GradientMode::overwrite) ==
            value);
    for (std::size_t i = 0; i < once.size(); ++i) REQUIRE(stored[i] == Approx(once[i]).margin(1e-12));

    // The free function is the same pass; gradients[0] holds the input gradient.
    std::vector<double> again(mlp_critic::parameter_count, 0.0);
    REQUIRE(gradient_penalty(critic, ws, x, penalty, std::span<double>(again)) == value);
    REQUIRE(again == once);
    mlp_critic::Workspace plain;
    critic.forward(plain, x);
    std::fill(plain.gradients[mlp_critic::layer_count].begin(), plain.gradients[mlp_critic::layer_count].end(), 1.0);
    const matrix<double>& g = critic.backward_input(plain);
    for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(ws.gradients[0].data()[i] == Approx(g.data()[i]));

    std::vector<double> wrong(3);
    REQUIRE_THROWS_WITH(critic.input_gradient_penalty(ws, x, penalty, std::span<double>(wrong)),
                        Catch::Contains("the gradient holds 3 values but the network has"));
}

TEST_CASE("GradientNormPenalty and R1Penalty: values and derivatives", "[second_order]") {
    matrix<double> g({3, 2}), d({3, 2});
    const double values[] = {3, 4, 0, 0, 0.6, 0.8};  // norms 5, 0, 1
    std::copy(std::begin(values), std::end(values), g.begin());
    // WGAN-GP: 10 * mean((5 - 1)^2, (0 - 1)^2, 0) = 10 * 17 / 3.
    REQUIRE(GradientNormPenalty{10.0}(g, d) == Approx(170.0 / 3));
    REQUIRE(d(0, 0) == Approx(10.0 / 3 * 2 * 4 * 3 / 5));
    REQUIRE(d(1, 0) == 0.0);  // the norm's derivative at 0 taken as 0, as PyTorch's
    REQUIRE(d(2, 1) == Approx(0.0).margin(1e-15));
    // R1: gamma / 2 * mean(25, 0, 1).
    REQUIRE(R1Penalty{4.0}(g, d) == Approx(2.0 * 26 / 3));
    REQUIRE(d(0, 1) == Approx(4.0 / 3 * 4));
}
