// BatchNorm and Dropout: training and inference modes, buffers, exact gradients.
#include <catch2/catch.hpp>

#include <cmath>

#include <xtensor/xview.hpp>

#include <xgan/xgan.hpp>

#include <support/gradient_assertions.hpp>
#include <xgan/io/paintings.hpp>

using namespace xgan;

namespace {
using tests::require_passes;

template <class Net>
matrix<double> random_batch(std::size_t rows, std::uint64_t seed, double scale = 3.0, double shift = 1.0) {
    Rng rng(seed);
    matrix<double> x({rows, Net::input_size});
    rng.fill_normal(std::span<double>(x.data(), x.size()), shift, scale);
    return x;
}
}  // namespace

TEST_CASE("BatchNorm and Dropout pass the gradient check in both modes", "[layers][gradients][stateful]") {
    for (Mode mode : {Mode::training, Mode::inference}) {
        INFO((mode == Mode::training ? "training" : "inference"));
        require_passes(check_layer_gradients<BatchNorm, 6>({.batch = 5, .mode = mode}));
        require_passes(check_layer_gradients<DropoutWithRate<3, 10>, 6>({.batch = 5, .mode = mode}));
        using Net = Sequential<Dense<4, 8>, BatchNorm, LeakyReLU, DropoutWithRate<3, 10>, Dense<8, 3>, Tanh>;
        require_passes(check_gradients<Net>({.batch = 6, .mode = mode}));
    }
}

TEST_CASE("BatchNorm normalises with batch statistics while training", "[layers][stateful]") {
    using Net = BasicSequential<double, Dense<3, 3>, BatchNorm>;
    Net net(1);
    const auto x = random_batch<Net>(50, 2);
    const matrix<double> y = net.forward(x);
    for (std::size_t j = 0; j < 3; ++j) {
        double sum = 0, sum_sq = 0;
        for (std::size_t r = 0; r < 50; ++r) sum += y(r, j), sum_sq += y(r, j) * y(r, j);
        CHECK(sum / 50 == Approx(0).margin(1e-12));
        CHECK(sum_sq / 50 == Approx(1).epsilon(1e-4));  // var / (var + eps)
    }
    CHECK_THROWS_WITH(net.forward(random_batch<Net>(1, 3)), Catch::Contains("at least 2 rows"));
}

TEST_CASE("BatchNorm's running statistics follow PyTorch's update and serve inference", "[layers][stateful]") {
    BasicSequential<double, Dense<2, 2>, BatchNorm> net(4);
    using Bound = decltype(net)::layer_type<1>;
    STATIC_REQUIRE(Bound::buffer_count == 4);
    STATIC_REQUIRE(decltype(net)::buffer_count == 4);
    const auto named = net.named_buffers();
    REQUIRE(named.size() == 2);
    CHECK(named[0].name == "1.running_mean");
    CHECK(named[1].name == "1.running_var");
    CHECK(std::vector<double>(named[0].values.begin(), named[0].values.end()) == std::vector<double>{0, 0});
    CHECK(std::vector<double>(named[1].values.begin(), named[1].values.end()) == std::vector<double>{1, 1});

    // Hand-computed reference for one feature: over {0, 1, 3, 4} the mean is 2 and the
    // unbiased variance (4 + 1 + 1 + 4) / 3 = 10 / 3.
    BasicSequential<double, BatchNormLayer<std::ratio<1, 10>, std::ratio<1, 100000>, 1, double>> bn;
    decltype(bn)::Workspace ws;
    const matrix<double> x = xt::xtensor<double, 2>{{0.0}, {1.0}, {3.0}, {4.0}};
    bn.forward(ws, x);
    CHECK(bn.buffers()[0] == 0);  // forward alone changes nothing: it is const
    bn.update_buffers(ws);
    CHECK(bn.buffers()[0] == Approx(0.9 * 0 + 0.1 * 2.0));
    CHECK(bn.buffers()[1] == Approx(0.9 * 1 + 0.1 * 10.0 / 3.0));

    bn.set_mode(Mode::inference);
    const matrix<double> probe = xt::xtensor<double, 2>{{1.2}, {5.0}};
    const matrix<double> y = bn.forward(probe);
    const double inv_std = 1 / std::sqrt(0.9 + 1.0 / 3.0 + 1e-5);
    CHECK(y(0, 0) == Approx((1.2 - 0.2) * inv_std));
    CHECK(y(1, 0) == Approx((5.0 - 0.2) * inv_std));
    bn.update_buffers(ws);  // inference mode: no-op
    CHECK(bn.buffers()[0] == Approx(0.2));
}

TEST_CASE("Dropout drops at its rate while training and is the identity in inference", "[layers][stateful]") {
    using Net = BasicSequential<double, Dense<4, 4>, DropoutWithRate<3, 10>>;
    Net net(1);
    Rng rng(5);
    Net::Workspace ws;
    ws.rng = &rng;
    const matrix<double> x = xt::ones<double>({2000, 4});
    net.forward(ws, x);
    const auto& before = ws.values[1];
    const auto& after = ws.values[2];
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < after.size(); ++i) {
        if (after.data()[i] == 0)
            ++dropped;
        else
            REQUIRE(after.data()[i] == Approx(before.data()[i] / 0.7));
    }
    CHECK(static_cast<double>(dropped) / static_cast<double>(after.size()) == Approx(0.3).margin(0.02));

    Net::Workspace no_rng;
    CHECK_THROWS_WITH(net.forward(no_rng, x), Catch::Contains("training mode needs an Rng"));

    net.set_mode(Mode::inference);
    net.forward(no_rng, x);
    CHECK(bool(no_rng.values[2] == no_rng.values[1]));
}

TEST_CASE("masks drawn ahead in row ranges are those of separate passes over the ranges", "[layers][stateful]") {
    // Two Dropout layers, an odd width: each range's draw ends on half an engine draw.
    using Net = BasicSequential<double, Dense<3, 5>, DropoutWithRate<3, 10>, Dense<5, 7>, Dropout>;
    Net net(1);
    const matrix<double> x = random_batch<Net>(9, 2);
    const auto rows = [&](std::size_t begin, std::size_t end) {
        return matrix<double>(xt::view(x, xt::range(begin, end), xt::all()));
    };

    // Separate passes over rows [0, 4) and [4, 9), with another draw in between.
    Rng separate_rng(7);
    Net::Workspace first, second;
    first.rng = second.rng = &separate_rng;
    const matrix<double> first_out = net.forward(first, rows(0, 4));
    const double between_separate = separate_rng.uniform();
    const matrix<double> second_out = net.forward(second, rows(4, 9));

    // One pass over all nine rows, the masks drawn ahead in the same order.
    Rng joint_rng(7);
    Net::Workspace joint;
    joint.rng = &joint_rng;
    joint.resize(9);
    joint.input() = x;
    net.draw_masks(joint, 0, 4);
    const double between_joint = joint_rng.uniform();
    net.draw_masks(joint, 4, 9);
    CHECK(joint.masks_drawn);
    const matrix<double>& joint_out = net.forward(joint);
    CHECK_FALSE(joint.masks_drawn);  // used once

    CHECK(between_joint == between_separate);
    CHECK(joint_rng == separate_rng);
    CHECK(bool(xt::view(joint_out, xt::range(0, 4), xt::all()) == first_out));  // bit for bit
    CHECK(bool(xt::view(joint_out, xt::range(4, 9), xt::all()) == second_out));

    // Drawn out of order, the rows get other masks.
    Rng swapped_rng(7);
    Net::Workspace swapped;
    swapped.rng = &swapped_rng;
    swapped.resize(9);
    swapped.input() = x;
    swapped_rng.uniform();
    net.draw_masks(swapped, 0, 4);
    net.draw_masks(swapped, 4, 9);
    CHECK_FALSE(bool(xt::view(net.forward(swapped), xt::range(0, 4), xt::all()) == first_out));
}

TEST_CASE("masks drawn ahead: rows outside the batch, another batch size, no Rng", "[layers][stateful][errors]") {
    using Net = BasicSequential<float, Dense<3, 5>, Dropout>;
    Net net(1);
    Rng rng(3);
    Net::Workspace ws;
    ws.rng = &rng;
    ws.resize(4);
    CHECK_THROWS_WITH(net.draw_masks(ws, 2, 5),
                      Catch::Contains("rows [2, 5) are not within the workspace's batch of 4"));
    CHECK_THROWS_WITH(net.draw_masks(ws, 3, 2), Catch::Contains("rows [3, 2)"));
    const Rng untouched = rng;
    CHECK(rng == untouched);

    net.draw_masks(ws, 0, 4);
    ws.resize(6);  // the masks are for 4 rows
    CHECK_THROWS_WITH(net.forward(ws), Catch::Contains("the masks drawn beforehand are for 4 rows, the batch has 6"));

    Net::Workspace no_rng;
    no_rng.resize(2);
    CHECK_THROWS_WITH(net.draw_masks(no_rng, 0, 2), Catch::Contains("set Workspace::rng first"));
    net.set_mode(Mode::inference);
    net.draw_masks(no_rng, 0, 2);  // nothing to draw
    CHECK_FALSE(no_rng.masks_drawn);
}

TEST_CASE("a trainer with Dropout and BatchNorm replays bit for bit from its seed", "[trainer][stateful]") {
    using G = Sequential<Dense<5, 16>, BatchNorm, LeakyReLU, Dense<16, 15>, Tanh>;
    using D = Sequential<Dense<15, 16>, LeakyReLU, DropoutWithRate<3, 10>, Dense<16, 1>, Sigmoid>;
    auto run = [] {
        AdversarialTrainer<G, D> trainer({.seed = 7});
        Rng data(8);
        matrix<float> real({16, 15});
        for (int i = 0; i < 50; ++i) {
            paintings::sine_works(real, data);
            trainer.step(real);
        }
        return std::pair{trainer.generator(), trainer.discriminator()};
    };
    const auto a = run(), b = run();
    CHECK(a.first == b.first);  // parameters and running statistics
    CHECK(a.second == b.second);
    // G's running statistics moved away from their initial 0 and 1.
    CHECK(a.first.buffers()[0] != 0.0f);
}
