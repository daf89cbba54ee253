// Image layers that reshape, pool and upsample, and BatchNorm over channels: shapes and
// counts at compile time, hand-computed small cases, finite-difference gradients (double),
// the rules composable<...> enforces, and BatchNorm2D's buffers through a checkpoint.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <ratio>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/io/checkpoint.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/pool2d.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/layers/upsample.hpp>
#include <xgan/xgan.hpp>

#include <support/gradient_assertions.hpp>

using namespace xgan;

namespace {

using tests::require_passes;

// A batch of `rows` rows holding `values` (an input or an output gradient).
matrix<double> batch_of(std::size_t rows, const std::vector<double>& values) {
    matrix<double> x({rows, values.size() / rows});
    REQUIRE(values.size() == x.size());
    std::copy(values.begin(), values.end(), x.begin());
    return x;
}

template <class Net>
matrix<double> random_batch(std::size_t rows, std::uint64_t seed, double mean = 1.0, double sd = 3.0) {
    Rng rng(seed);
    matrix<double> x({rows, Net::input_size});
    rng.fill_normal(std::span<double>(x.data(), x.size()), mean, sd);
    return x;
}

std::vector<double> values_of(const matrix<double>& m) { return {m.begin(), m.end()}; }

using BN = BatchNormWith<std::ratio<1, 10>, std::ratio<1, 100000>>;

}  // namespace

// ---- Shapes and counts ------------------------------------------------------------------

using Pooled = BasicSequential<float, Input<3, 7, 5>, MaxPool2D<3, 2>>;
static_assert(std::is_same_v<Pooled::output_shape, shape<3, 3, 2>>);  // (7 - 3) / 2 + 1, (5 - 3) / 2 + 1
static_assert(Pooled::output_size == 18 && Pooled::parameter_count == 0 && Pooled::buffer_count == 0);
static_assert(std::is_same_v<BasicSequential<float, Input<2, 6, 5>, AvgPool2D<2>>::output_shape, shape<2, 3, 2>>);
static_assert(std::is_same_v<BasicSequential<float, Input<2, 7, 7>, AvgPool2D<3, 2>>::output_shape, shape<2, 3, 3>>);
static_assert(std::is_same_v<BasicSequential<float, Input<4, 4, 4>, MaxPool2D<4>>::output_shape, shape<4, 1, 1>>);
static_assert(std::is_same_v<BasicSequential<float, Input<3, 2, 5>, Upsample2D<3>>::output_shape, shape<3, 6, 15>>);
static_assert(std::is_same_v<BasicSequential<float, Input<3, 2, 5>, Flatten>::output_shape, shape<30>>);
static_assert(std::is_same_v<BasicSequential<float, Input<30>, Unflatten<3, 2, 5>>::output_shape, shape<3, 2, 5>>);

using Stack = BasicSequential<float, Input<12>, Unflatten<3, 2, 2>, BatchNorm, Upsample2D<2>, MaxPool2D<2, 1>,
                              BatchNorm, Flatten, Dense<27, 4>, BatchNorm>;
static_assert(std::is_same_v<Stack::value_shape<1>, shape<3, 2, 2>>);
static_assert(std::is_same_v<Stack::value_shape<3>, shape<3, 4, 4>>);
static_assert(std::is_same_v<Stack::value_shape<4>, shape<3, 3, 3>>);
static_assert(std::is_same_v<Stack::value_shape<6>, shape<27>>);
// BatchNorm binds per channel after an image, per feature after a vector (the same type
// as before images existed, so BatchNorm1d's checkpoints keep their names).
static_assert(std::is_same_v<Stack::layer_type<1>, BatchNorm2DLayer<std::ratio<1, 10>, std::ratio<1, 100000>,
                                                                     shape<3, 2, 2>, float>>);
static_assert(std::is_same_v<Stack::layer_type<7>, BatchNormLayer<std::ratio<1, 10>, std::ratio<1, 100000>, 4, float>>);
static_assert(std::is_same_v<bind_layer_t<BatchNorm, 4, float>, BatchNorm::bind<4, float>>);
static_assert(Stack::layer_type<1>::parameter_count == 6 && Stack::layer_type<1>::buffer_count == 7);
static_assert(Stack::parameter_count == 6 + 6 + 27 * 4 + 4 + 8);
static_assert(Stack::buffer_count == 7 + 7 + 8);
static_assert(Stack::layer_type<3>::parameter_count == 0 && buffer_count_v<Stack::layer_type<3>> == 0);

TEST_CASE("image layers name themselves and list PyTorch's tensors", "[layers][images]") {
    CHECK(layer_name<Stack::layer_type<0>>() == "Unflatten(3x2x2)");
    CHECK(layer_name<Stack::layer_type<1>>() == "BatchNorm2D(3, momentum 1/10, eps 1/100000)");
    CHECK(layer_name<Stack::layer_type<2>>() == "Upsample2D(x2, nearest)");
    CHECK(layer_name<Stack::layer_type<3>>() == "MaxPool2D(k2, s1)");
    CHECK(layer_name<Stack::layer_type<5>>() == "Flatten(3x3x3)");
    CHECK(layer_name<Stack::layer_type<7>>() == "BatchNorm(4, momentum 1/10, eps 1/100000)");
    CHECK(layer_name<bind_layer_to_t<AvgPool2D<3, 2>, shape<1, 5, 5>, float>>() == "AvgPool2D(k3, s2)");

    Stack net;
    std::vector<std::string> names, buffers;
    std::vector<std::vector<std::size_t>> buffer_shapes;
    for (const auto& p : net.named_parameters()) names.push_back(p.name);
    for (const auto& b : net.named_buffers()) buffers.push_back(b.name), buffer_shapes.push_back(b.shape);
    CHECK(names == std::vector<std::string>{"1.weight", "1.bias", "4.weight", "4.bias", "6.weight", "6.bias",
                                            "7.weight", "7.bias"});
    CHECK(buffers == std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked",
                                              "4.running_mean", "4.running_var", "4.num_batches_tracked",
                                              "7.running_mean", "7.running_var"});
    CHECK(buffer_shapes[0] == std::vector<std::size_t>{3});
    CHECK(buffer_shapes[2].empty());  // rank 0, as PyTorch's
    CHECK(net.named_buffers()[2].values.size() == 1);
}

// ---- Hand-computed cases ----------------------------------------------------------------

TEST_CASE("MaxPool2D takes each window's first maximum and sends the gradient there alone", "[layers][images]") {
    // One channel, 4 x 4, 2 x 2 windows. The top-left window holds 3 twice, the top-right
    // 3 once and 1 twice, the bottom-right 5 four times: PyTorch's indices are 1, 2, 13, 10.
    using Net = BasicSequential<double, Input<1, 4, 4>, MaxPool2D<2>>;
    Net net;
    Net::Workspace ws;
    const auto x = batch_of(1, {1, 3, 3, 0,  //
                                     3, 2, 1, 1,  //
                                     0, 0, 5, 5,  //
                                     1, 2, 5, 5});
    CHECK(values_of(net.forward(ws, x)) == std::vector<double>{3, 3, 2, 5});
    ws.gradients[1] = batch_of(1, {10, 20, 30, 40});
    net.backward_input(ws);
    CHECK(values_of(ws.gradients[0]) == std::vector<double>{0, 10, 20, 0,  //
                                                            0, 0, 0, 0,    //
                                                            0, 0, 40, 0,   //
                                                            0, 30, 0, 0});
}

TEST_CASE("MaxPool2D with overlapping windows adds the gradients of every window an element wins", "[layers][images]") {
    // 1 x 3 x 3, 2 x 2 windows one apart: the centre, 9, wins all four.
    using Net = BasicSequential<double, Input<1, 3, 3>, MaxPool2D<2, 1>>;
    Net net;
    Net::Workspace ws;
    CHECK(values_of(net.forward(ws, batch_of(1, {1, 2, 3, 4, 9, 5, 6, 7, 8}))) ==
          std::vector<double>{9, 9, 9, 9});
    ws.gradients[1] = batch_of(1, {1, 2, 3, 4});
    net.backward_input(ws);
    CHECK(values_of(ws.gradients[0]) == std::vector<double>{0, 0, 0, 0, 10, 0, 0, 0, 0});
}

TEST_CASE("MaxPool2D passes a NaN on, as PyTorch does", "[layers][images]") {
    using Net = BasicSequential<double, Input<1, 2, 2>, MaxPool2D<2>>;
    Net net;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(std::isnan(net.forward(batch_of(1, {1, nan, 7, 2}))(0, 0)));
    CHECK(std::isnan(net.forward(batch_of(1, {nan, 1, 7, 2}))(0, 0)));
}

TEST_CASE("AvgPool2D averages each window and spreads the gradient over it", "[layers][images]") {
    // Two samples of 1 x 3 x 4, 2 x 2 windows two apart: the last row is dropped (floor mode).
    using Net = BasicSequential<double, Input<1, 3, 4>, AvgPool2D<2>>;
    Net net;
    Net::Workspace ws;
    const auto x = batch_of(2, {1, 2, 3, 4, 5, 6, 7, 8, 100, 100, 100, 100,  //
                                     0, 0, 4, 4, 0, 8, 4, 4, 1, 1, 1, 1});
    CHECK(values_of(net.forward(ws, x)) == std::vector<double>{3.5, 5.5, 2, 4});
    ws.gradients[1] = batch_of(2, {4, 8, 2, 6});
    net.backward_input(ws);
    CHECK(values_of(ws.gradients[0]) == std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 0, 0, 0, 0,  //
                                                            0.5, 0.5, 1.5, 1.5, 0.5, 0.5, 1.5, 1.5, 0, 0, 0, 0});
}

TEST_CASE("Upsample2D repeats each pixel and sums the gradients of its copies", "[layers][images]") {
    using Net = BasicSequential<double, Input<2, 2, 2>, Upsample2D<2>>;
    Net net;
    Net::Workspace ws;
    CHECK(values_of(net.forward(ws, batch_of(1, {1, 2, 3, 4, 5, 6, 7, 8}))) ==
          std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,  //
                              5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8});
    std::vector<double> dy(32);
    for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = static_cast<double>(i);
    ws.gradients[1] = batch_of(1, dy);
    net.backward_input(ws);
    // Pixel (0, 0) of channel 0 was copied to 0, 1, 4, 5: 10; and so on.
    CHECK(values_of(ws.gradients[0]) == std::vector<double>{10, 18, 42, 50, 74, 82, 106, 114});
}

TEST_CASE("Flatten and Unflatten change the shape, not the values", "[layers][images]") {
    using Net = BasicSequential<double, Input<2, 3, 2>, Flatten, Unflatten<3, 2, 2>, Flatten>;
    static_assert(std::is_same_v<Net::value_shape<2>, shape<3, 2, 2>>);
    Net net;
    Net::Workspace ws;
    const auto x = random_batch<Net>(3, 5);
    CHECK(values_of(net.forward(ws, x)) == values_of(x));
    CHECK(values_of(ws.values[2]) == values_of(x));
    const auto dy = random_batch<Net>(3, 6);
    ws.gradients[3] = dy;
    net.backward_input(ws);
    CHECK(values_of(ws.gradients[0]) == values_of(dy));
}

// ---- Gradients --------------------------------------------------------------------------

TEST_CASE("pooling, upsampling and reshaping pass the gradient check", "[layers][images][gradients]") {
    const GradientCheckOptions options{.batch = 3};
    require_passes(check_layer_gradients<MaxPool2D<3, 2>, shape<2, 7, 5>>(options));
    require_passes(check_layer_gradients<MaxPool2D<2>, shape<3, 5, 7>>(options));
    require_passes(check_layer_gradients<MaxPool2D<2, 3>, shape<2, 7, 8>>(options));  // windows with gaps
    require_passes(check_layer_gradients<AvgPool2D<3, 2>, shape<2, 7, 5>>(options));
    require_passes(check_layer_gradients<AvgPool2D<2>, shape<3, 5, 7>>(options));
    require_passes(check_layer_gradients<AvgPool2D<2, 3>, shape<2, 7, 8>>(options));
    require_passes(check_layer_gradients<Upsample2D<2>, shape<2, 3, 5>>(options));
    require_passes(check_layer_gradients<Upsample2D<3>, shape<1, 2, 3>>(options));
    require_passes(check_layer_gradients<Flatten, shape<3, 3, 5>>(options));
    require_passes(check_layer_gradients<Unflatten<3, 1, 5>, shape<15>>(options));
}

TEST_CASE("BatchNorm2D passes the gradient check in training and inference", "[layers][images][gradients]") {
    for (Mode mode : {Mode::training, Mode::inference}) {
        INFO((mode == Mode::training ? "training" : "inference"));
        require_passes(check_layer_gradients<BatchNorm, shape<3, 5, 3>>({.batch = 3, .mode = mode}));
        require_passes(check_layer_gradients<BatchNorm, shape<2, 1, 1>>({.batch = 3, .mode = mode}));
        using Net = BasicSequential<double, Input<7>, Dense<7, 45>, Unflatten<5, 3, 3>, BatchNorm, LeakyReLU,
                                    Upsample2D<2>, MaxPool2D<3, 2>, BatchNorm, AvgPool2D<2, 1>, Flatten,
                                    Dense<5, 3>, BatchNorm, Tanh>;
        static_assert(std::is_same_v<Net::value_shape<6>, shape<5, 2, 2>>);
        require_passes(check_gradients<Net>({.batch = 3, .mode = mode}));
    }
}

// ---- BatchNorm2D's statistics -----------------------------------------------------------

TEST_CASE("BatchNorm2D normalises each channel over batch, rows and columns", "[layers][images][batchnorm]") {
    using Net = BasicSequential<double, Input<3, 4, 5>, BatchNorm>;
    Net net(1);
    const auto x = random_batch<Net>(3, 2);
    const matrix<double> y = net.forward(x);
    for (std::size_t c = 0; c < 3; ++c) {
        double sum = 0, squares = 0, x_sum = 0, x_squares = 0;
        for (std::size_t r = 0; r < 3; ++r)
            for (std::size_t i = 0; i < 20; ++i) {
                const double v = y(r, c * 20 + i), u = x(r, c * 20 + i);
                sum += v, squares += v * v, x_sum += u, x_squares += u * u;
            }
        CHECK(sum / 60 == Approx(0).margin(1e-12));
        const double variance = x_squares / 60 - (x_sum / 60) * (x_sum / 60);
        CHECK(squares / 60 == Approx(variance / (variance + 1e-5)).epsilon(1e-10));
    }
    CHECK_THROWS_WITH((BasicSequential<double, Input<2, 1, 1>, BatchNorm>().forward(matrix<double>({1, 2}))),
                      Catch::Contains("at least 2 values per channel") && Catch::Contains("1 x 1 x 1"));
    // Two values per channel are enough: one sample of 1 x 1 x 2.
    CHECK_NOTHROW(BasicSequential<double, Input<2, 1, 2>, BatchNorm>().forward(matrix<double>({1, 4})));
}

TEST_CASE("BatchNorm2D's running statistics and num_batches_tracked follow PyTorch's update", "[layers][images][batchnorm]") {
    // One channel, one sample of 2 x 2 holding {0, 1, 3, 4}: mean 2, biased variance 2.5,
    // unbiased 10 / 3; a second channel of constant 7: variance 0.
    using Net = BasicSequential<double, Input<2, 2, 2>, BatchNorm>;
    Net net;
    Net::Workspace ws;
    net.forward(ws, batch_of(1, {0, 1, 3, 4, 7, 7, 7, 7}));
    const std::vector<double> initial{0, 0, 1, 1, 0};
    CHECK(std::equal(initial.begin(), initial.end(), net.buffers().begin()));  // forward alone changes nothing
    net.update_buffers(ws);
    CHECK(net.buffers()[0] == Approx(0.1 * 2.0));
    CHECK(net.buffers()[1] == Approx(0.1 * 7.0));
    CHECK(net.buffers()[2] == Approx(0.9 + 0.1 * 10.0 / 3.0));
    CHECK(net.buffers()[3] == Approx(0.9));
    CHECK(net.buffers()[4] == 1);
    const double inv_std = 1 / std::sqrt(2.5 + 1e-5);
    CHECK(ws.output()(0, 0) == Approx(-2 * inv_std));
    CHECK(ws.output()(0, 3) == Approx(2 * inv_std));
    net.forward(ws);
    net.update_buffers(ws);
    CHECK(net.buffers()[4] == 2);

    // Inference: normalises with the running statistics and counts nothing.
    net.set_mode(Mode::inference);
    const matrix<double> y = net.forward(ws, batch_of(1, {1, 1, 1, 1, 0, 0, 0, 0}));
    const double mean = 0.9 * 0.2 + 0.1 * 2, var = 0.9 * (0.9 + 1.0 / 3) + 1.0 / 3;
    CHECK(y(0, 0) == Approx((1 - mean) / std::sqrt(var + 1e-5)));
    net.update_buffers(ws);
    CHECK(net.buffers()[4] == 2);
}

TEST_CASE("BatchNorm2D on 1 x 1 images is BatchNorm1d on the channels, bit for bit", "[layers][images][batchnorm]") {
    using Images = BasicSequential<double, Input<4, 1, 1>, BatchNorm>;
    using Vectors = BasicSequential<double, Input<4>, BatchNorm>;
    for (Mode mode : {Mode::training, Mode::inference}) {
        Images images;
        Vectors vectors;
        Rng rng(3);
        rng.fill_uniform(std::span<double>(images.parameters()), 0.5, 1.5);
        std::copy(images.parameters().begin(), images.parameters().end(), vectors.parameters().begin());
        images.set_mode(mode), vectors.set_mode(mode);
        Images::Workspace wi;
        Vectors::Workspace wv;
        for (int step = 0; step < 3; ++step) {
            const auto x = random_batch<Images>(5, 10 + static_cast<std::uint64_t>(step));
            CHECK(values_of(images.forward(wi, x)) == values_of(vectors.forward(wv, x)));
            const auto dy = random_batch<Images>(5, 20);
            wi.gradients[1] = dy, wv.gradients[1] = dy;
            std::vector<double> gi(8, 0.0), gv(8, 0.0);
            images.backward(wi, gi, true);
            vectors.backward(wv, gv, true);
            CHECK(gi == gv);
            CHECK(values_of(wi.gradients[0]) == values_of(wv.gradients[0]));
            images.update_buffers(wi);
            vectors.update_buffers(wv);
            CHECK(std::equal(vectors.buffers().begin(), vectors.buffers().end(), images.buffers().begin()));
            CHECK(images.buffers()[8] == (mode == Mode::training ? step + 1 : 0));
        }
    }
}

// backward_with_gradient (what Sequential::backward calls) must write the same input
// gradient as backward_input and add the same parameter gradient as accumulate_gradient,
// bit for bit, for BatchNorm after an image In (BatchNorm2D) or a vector (BatchNorm1d).
template <Shape In>
void check_combined_backward(Mode mode) {
    using L = bind_layer_to_t<BatchNorm, In, float>;
    static_assert(combined_backward_layer<L>);
    const L layer;
    constexpr std::size_t batch = 6;
    Rng rng(7);
    std::vector<float> params(L::parameter_count), buffers(L::buffer_count), grad(L::parameter_count);
    rng.fill_uniform(std::span<float>(params), 0.5, 1.5);
    layer.initialize_buffers(buffers);
    rng.fill_uniform(std::span<float>(buffers).first(L::parameter_count), 0.5, 1.5);  // running means and variances
    rng.fill_normal(std::span<float>(grad), 0.0, 1.0);  // the pair and the call add to what is there
    matrix<float> x({batch, L::input_size}), y({batch, L::output_size}), dy({batch, L::output_size});
    rng.fill_normal(std::span<float>(x.data(), x.size()), 1.0, 3.0);
    rng.fill_normal(std::span<float>(dy.data(), dy.size()), 0.0, 1.0);
    typename L::cache_type cache;
    const ForwardContext context{mode};
    layer.forward(params, buffers, x, y, cache, context);
    matrix<float> dx_pair({batch, L::input_size}), dx_call({batch, L::input_size});
    std::vector<float> grad_pair = grad, grad_call = grad;
    layer.accumulate_gradient(params, x, y, dy, std::span<float>(grad_pair), cache);
    layer.backward_input(params, x, y, dy, dx_pair, cache);
    layer.backward_with_gradient(params, x, y, dy, dx_call, std::span<float>(grad_call), cache);
    CHECK(grad_call == grad_pair);
    CHECK(grad_pair != grad);
    CHECK(std::equal(dx_call.begin(), dx_call.end(), dx_pair.begin()));
}

TEST_CASE("BatchNorm's combined backward equals accumulate_gradient and backward_input, bit for bit",
          "[layers][images][batchnorm]") {
    for (Mode mode : {Mode::training, Mode::inference}) {
        CAPTURE(mode == Mode::training);
        check_combined_backward<shape<3, 4, 5>>(mode);
        check_combined_backward<shape<7>>(mode);
    }
}

TEST_CASE("BatchNorm2D's fault names a negative variance or a count that is not one", "[layers][images][batchnorm]") {
    using Net = BasicSequential<float, Input<2>, Dense<2, 8>, Unflatten<2, 2, 2>, BatchNorm>;
    Net net;
    CHECK(net.fault().empty());
    net.buffers()[4] = 2.5f;
    CHECK(net.fault() == "2.num_batches_tracked is 2.5 (a count of training passes: 0, 1, 2, ...)");
    net.buffers()[4] = -1.0f;
    CHECK(net.fault() == "2.num_batches_tracked is -1 (a count of training passes: 0, 1, 2, ...)");
    net.buffers()[4] = 3.0f;
    net.buffers()[3] = -0.5f;
    CHECK(net.fault() == "2.running_var[1] is -0.5 (a variance cannot be negative)");
}

TEST_CASE("a checkpoint saves and loads BatchNorm2D's buffers, num_batches_tracked as a rank-0 tensor",
          "[layers][images][batchnorm][checkpoint]") {
    using G = Sequential<Dense<5, 12>, Unflatten<3, 2, 2>, BatchNorm, ReLU, Flatten, Dense<12, 15>, Tanh>;
    using D = Sequential<Dense<15, 12>, Unflatten<3, 2, 2>, BatchNorm, LeakyReLU, Flatten, Dense<12, 1>, Sigmoid>;
    using Trainer = AdversarialTrainer<G, D>;
    Trainer trainer({.seed = 3});
    Rng data(4);
    matrix<float> real({8, 15});
    for (int i = 0; i < 4; ++i) {
        paintings::artist_works(real, data);
        trainer.step(real);
    }
    const float g_tracked = trainer.generator().buffers()[6];
    CHECK(g_tracked > 0);
    CHECK(trainer.discriminator().buffers()[6] > 0);

    const auto path = std::filesystem::temp_directory_path() / "xgan_test_image_layers_checkpoint.npz";
    save_checkpoint(trainer, path);
    const npz::reader entries(path);
    CHECK(entries.read("generator.2.num_batches_tracked", 1024).shape.empty());
    CHECK(entries.read("generator.2.running_var", 1024).shape == std::vector<std::size_t>{3});

    Trainer restored({.seed = 9});
    CHECK_FALSE(restored.generator() == trainer.generator());
    load_checkpoint(restored, path);
    CHECK(restored.generator() == trainer.generator());
    CHECK(restored.discriminator() == trainer.discriminator());
    CHECK(restored.generator().buffers()[6] == g_tracked);
    std::filesystem::remove(path);
}

// ---- Rules ------------------------------------------------------------------------------

TEST_CASE("composable<...> accepts image stacks and rejects each rule's violation", "[layers][images][composable]") {
    STATIC_REQUIRE(composable<Input<3, 8, 8>, MaxPool2D<2>, AvgPool2D<4>, Upsample2D<3>, BatchNorm, Flatten,
                              Dense<27, 4>, Unflatten<1, 2, 2>, MaxPool2D<2>>);
    STATIC_REQUIRE(composable<Input<3, 4, 5>, MaxPool2D<4>>);  // the kernel fits exactly
    // Pooling: an image input whose height and width both hold the kernel.
    STATIC_REQUIRE_FALSE(composable<Input<3, 3, 8>, MaxPool2D<4>>);
    STATIC_REQUIRE_FALSE(composable<Input<3, 8, 3>, AvgPool2D<4, 1>>);
    STATIC_REQUIRE_FALSE(composable<Input<12>, MaxPool2D<2>>);
    STATIC_REQUIRE_FALSE(composable<Dense<5, 12>, AvgPool2D<2>>);
    // Upsampling: an image input.
    STATIC_REQUIRE_FALSE(composable<Dense<5, 12>, Upsample2D<2>>);
    STATIC_REQUIRE_FALSE(composable<Input<3, 2, 2>, Flatten, Upsample2D<2>>);
    // Unflatten: a vector of exactly C * H * W values.
    STATIC_REQUIRE_FALSE(composable<Dense<5, 12>, Unflatten<3, 2, 3>>);
    STATIC_REQUIRE_FALSE(composable<Input<3, 2, 2>, Unflatten<3, 2, 2>>);
    STATIC_REQUIRE(composable<Dense<5, 12>, Unflatten<3, 2, 2>>);
    // Dense after an image without Flatten.
    STATIC_REQUIRE_FALSE(composable<Input<3, 2, 2>, Dense<12, 4>>);
    STATIC_REQUIRE_FALSE(composable<Dense<5, 12>, Unflatten<3, 2, 2>, ReLU, Dense<12, 4>>);
    STATIC_REQUIRE(composable<Dense<5, 12>, Unflatten<3, 2, 2>, ReLU, Flatten, Dense<12, 4>>);
    // Sizes of 0.
    STATIC_REQUIRE_FALSE(composable<Input<3, 4, 4>, MaxPool2D<2, 0>>);
    STATIC_REQUIRE_FALSE(composable<Input<3, 4, 4>, AvgPool2D<0>>);
    STATIC_REQUIRE_FALSE(composable<Input<3, 4, 4>, Upsample2D<0>>);
    STATIC_REQUIRE_FALSE(composable<Dense<5, 12>, Unflatten<3, 0, 4>>);
    // What composable says is what the specifications accept.
    STATIC_REQUIRE(MaxPool2D<3>::accepts<shape<1, 3, 3>>);
    STATIC_REQUIRE_FALSE(MaxPool2D<3>::accepts<shape<1, 3, 2>>);
    STATIC_REQUIRE_FALSE(Upsample2D<2>::accepts<shape<4>>);
    STATIC_REQUIRE_FALSE(Unflatten<1, 2, 2>::accepts<shape<5>>);
}
