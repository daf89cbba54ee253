// The shape vocabulary: shape<...>, Input<...>, shapes through a stack, 4-D input
// batches, layer names and summary().
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>
#include <xtensor/xarray.hpp>

#include <xgan/io/architecture.hpp>
#include <xgan/xgan.hpp>

using namespace xgan;

namespace {
struct square_op {
    static std::string name() { return "Square"; }
    template <class T> static T value(T x) { return x * x; }
    template <class T> static T gradient(T x, T, T dy) { return 2 * x * dy; }
};
struct cube_op {
    static std::string name() { return "Cube"; }
    template <class T> static T value(T x) { return x * x * x; }
    template <class T> static T gradient(T x, T, T dy) { return 3 * x * x * dy; }
};
struct Square : activation_spec<square_op> {};
struct Cube : activation_spec<cube_op> {};
}  // namespace

TEST_CASE("shape<...> knows its rank, size and dimensions at compile time", "[shape]") {
    using image = shape<3, 28, 20>;
    STATIC_REQUIRE(image::rank == 3);
    STATIC_REQUIRE(image::size == 3 * 28 * 20);
    STATIC_REQUIRE(image::channels == 3);
    STATIC_REQUIRE(image::height == 28);
    STATIC_REQUIRE(image::width == 20);
    STATIC_REQUIRE(shape<784>::rank == 1);
    STATIC_REQUIRE(shape<784>::size == 784);
    STATIC_REQUIRE(ImageShape<image>);
    STATIC_REQUIRE(VectorShape<shape<784>>);
    STATIC_REQUIRE_FALSE(Shape<int>);
    STATIC_REQUIRE(shape<1, 2, 3>{} == shape<1, 2, 3>{});
    STATIC_REQUIRE_FALSE(shape<1, 2, 3>{} == shape<6>{});
    CHECK(image::text() == "3x28x20");
    CHECK(shape<784>::text() == "784");
}

TEST_CASE("Input<...> fixes a stack's input shape without becoming a layer", "[shape]") {
    using Net = Sequential<Input<3, 4, 5>, ReLU, Dropout, Sigmoid>;
    STATIC_REQUIRE(Net::layer_count == 3);
    STATIC_REQUIRE(std::is_same_v<Net::input_shape, shape<3, 4, 5>>);
    STATIC_REQUIRE(std::is_same_v<Net::output_shape, shape<3, 4, 5>>);
    STATIC_REQUIRE(std::is_same_v<Net::value_shape<2>, shape<3, 4, 5>>);
    STATIC_REQUIRE(Net::input_size == 60);
    STATIC_REQUIRE(std::is_same_v<output_shape_t<Net::layer_type<0>>, shape<3, 4, 5>>);

    // A vector stack: Dense fixes the input; shapes are vectors throughout.
    using Mlp = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
    STATIC_REQUIRE(std::is_same_v<Mlp::input_shape, shape<5>>);
    STATIC_REQUIRE(std::is_same_v<Mlp::output_shape, shape<15>>);
    STATIC_REQUIRE(std::is_same_v<Mlp::value_shape<2>, shape<128>>);
    // Input<N> before Dense names the same network; state_dict indices are unchanged.
    using WithInput = Sequential<Input<5>, Dense<5, 128>, ReLU, Dense<128, 15>>;
    STATIC_REQUIRE(std::is_same_v<WithInput::layers_type, Mlp::layers_type>);
    WithInput net(7);
    CHECK(net.named_parameters().front().name == "0.weight");
}

TEST_CASE("composable checks shapes, not just sizes", "[shape]") {
    STATIC_REQUIRE(composable<Input<60>, Dense<60, 1>>);
    STATIC_REQUIRE(composable<Input<3, 4, 5>, ReLU>);
    // 3x4x5 holds 60 values, but Dense takes a vector: a Flatten is missing.
    STATIC_REQUIRE_FALSE(composable<Input<3, 4, 5>, Dense<60, 1>>);
    STATIC_REQUIRE_FALSE(composable<Input<61>, Dense<60, 1>>);
    STATIC_REQUIRE_FALSE(composable<Input<3, 4, 5>>);  // no layer
    STATIC_REQUIRE_FALSE(composable<ReLU, Dense<60, 1>>);
}

TEST_CASE("An image network takes {batch, C, H, W} batches as well as their rows", "[shape]") {
    using Net = BasicSequential<double, Input<2, 2, 3>, Tanh>;
    const Net net;
    xt::xtensor<double, 4> images({2, 2, 2, 3});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = 0.1 * static_cast<double>(i) - 1.0;
    matrix<double> rows({2, 12});
    std::copy(images.begin(), images.end(), rows.begin());
    const matrix<double> from_images = net.forward(images);
    const matrix<double> from_rows = net.forward(rows);
    REQUIRE(from_images.shape()[0] == 2);
    REQUIRE(from_images.shape()[1] == 12);
    CHECK(from_images == from_rows);
    CHECK(from_rows(1, 11) == std::tanh(rows(1, 11)));

    xt::xtensor<double, 4> wrong({2, 2, 3, 2});
    CHECK_THROWS_WITH(net.forward(wrong), Catch::Contains("images are 2x3x2") &&
                                              Catch::Contains("input shape is 2x2x3 (C x H x W)"));
    // A batch whose type fixes rank 3 does not compile (catalogue entry 57); one whose rank is
    // known only at run time is refused there.
    STATIC_REQUIRE_FALSE(xgan::detail::holds<xgan::detail::check_batch_rank<xgan::detail::batch_rank<3>,
                                                                            xgan::detail::sample_rank<3>>>);
    xt::xarray<double> three = xt::zeros<double>({2, 2, 6});
    CHECK_THROWS_WITH(net.forward(three), Catch::Contains("{batch, 2, 2, 3} or its rows {batch, 12}"));
    matrix<double> columns({2, 13});
    CHECK_THROWS_WITH(net.forward(columns), Catch::Contains("13 columns") && Catch::Contains("2x2x3, NCHW"));
}

TEST_CASE("Layers name themselves, so two activations never describe alike", "[shape]") {
    using A = Sequential<Dense<3, 4>, Square, Dense<4, 1>>;
    using B = Sequential<Dense<3, 4>, Cube, Dense<4, 1>>;
    CHECK(describe<A>() == "Sequential(Dense(3, 4), Square, Dense(4, 1))");
    CHECK(describe<B>() == "Sequential(Dense(3, 4), Cube, Dense(4, 1))");
    CHECK(describe<Sequential<Dense<3, 4>, LeakyReLU, Dense<4, 1>, Sigmoid>>() ==
          "Sequential(Dense(3, 4), LeakyReLU(1/5), Dense(4, 1), Sigmoid)");
}

TEST_CASE("summary() prints each layer's name, output shape and parameters", "[shape]") {
    using Net = Sequential<Input<2, 3, 3>, ReLU, Dropout>;
    const std::string table = summary<Net>();
    CHECK(table.find("Input") != std::string::npos);
    CHECK(table.find("2x3x3") != std::string::npos);
    using Mlp = Sequential<Dense<5, 128>, ReLU, BatchNorm, Dense<128, 15>>;
    // The whole table: columns as wide as their widest entry, parameter counts right-aligned.
    CHECK(summary<Mlp>() ==
          "#  Layer                                        Output shape  Parameters\n"
          "------------------------------------------------------------------------\n"
          "-  Input                                        5                      0\n"
          "0  Dense(5, 128)                                128                  768\n"
          "1  ReLU                                         128                    0\n"
          "2  BatchNorm(128, momentum 1/10, eps 1/100000)  128                  256\n"
          "3  Dense(128, 15)                               15                 1,935\n"
          "------------------------------------------------------------------------\n"
          "Parameters: 2,959 (11,836 bytes); buffers (running statistics): 256\n");
    const Mlp net;
    CHECK(summary(net) == summary<Mlp>());
}
