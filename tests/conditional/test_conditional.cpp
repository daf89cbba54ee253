// Conditional networks: the Embedding layer (values, PyTorch's layout, gradients), the
// Conditional wrapper, with_condition, and the labels checks of ImageDataset.
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/io/image_dataset.hpp>
#include <xgan/xgan.hpp>

#include <support/gradient_assertions.hpp>

using namespace xgan;
using tests::require_passes;

namespace {

std::vector<std::uint8_t> idx_bytes(std::vector<std::uint32_t> shape, const std::vector<std::uint8_t>& data) {
    std::vector<std::uint8_t> bytes = {0, 0, 0x08, static_cast<std::uint8_t>(shape.size())};
    for (const std::uint32_t d : shape)
        for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> s));
    bytes.insert(bytes.end(), data.begin(), data.end());
    return bytes;
}

}  // namespace

TEST_CASE("Embedding passes x through and replaces a one-hot condition by its class's row of the weight") {
    // Input rows [x0, x1, onehot over 3 classes] -> [x0, x1, weight row (4 values)].
    using Net = BasicSequential<double, Input<5>, Embedding<3, 4>>;
    STATIC_REQUIRE(Net::output_size == 6);
    STATIC_REQUIRE(Net::parameter_count == 12);
    Net net(7);
    const auto params = net.parameters();
    const std::vector<std::uint8_t> labels = {2, 0};
    matrix<double> x({2, 2});
    x(0, 0) = 0.5, x(0, 1) = -1, x(1, 0) = 3, x(1, 1) = 4;
    const matrix<double> y = net.forward(with_condition<3>(x, std::span<const std::uint8_t>(labels)));
    for (std::size_t r = 0; r < 2; ++r) {
        CHECK(y(r, 0) == x(r, 0));
        CHECK(y(r, 1) == x(r, 1));
        for (std::size_t j = 0; j < 4; ++j) CHECK(y(r, 2 + j) == params[labels[r] * 4 + j]);
    }
    // nn.Embedding(3, 4).weight: {num_embeddings, embedding_dim}, named "weight".
    const auto named = net.named_parameters();
    REQUIRE(named.size() == 1);
    CHECK(named[0].name == "0.weight");
    CHECK(named[0].shape == std::vector<std::size_t>{3, 4});
}

TEST_CASE("Embedding's gradients and second-order pass match central differences") {
    require_passes(check_layer_gradients<Embedding<3, 4>, 5>());
    require_passes(check_layer_gradients<Embedding<4, 2>, 4>());  // the condition alone
    require_passes(check_layer_second_order<Embedding<3, 4>, 5>());
    // In a network: embedding, then Dense on [x, e].
    require_passes(check_gradients<Sequential<Input<6>, Embedding<3, 5>, Dense<8, 2>, Tanh>>());
}

TEST_CASE("A changed weight row moves only the samples of its class") {
    using Net = BasicSequential<double, Input<4>, Embedding<2, 3>>;
    Net net(1);
    matrix<double> z({2, 2}, 0.25);
    const std::vector<int> labels = {0, 1};
    const matrix<double> input = with_condition<2>(z, std::span<const int>(labels));
    const matrix<double> before = net.forward(input);
    net.parameters()[3] += 1;  // weight[1][0]
    const matrix<double> after = net.forward(input);
    CHECK(after(0, 2) == before(0, 2));
    CHECK(after(1, 2) == before(1, 2) + 1);
}

TEST_CASE("Conditional records the class count and the size of the rest of a row") {
    using G = Conditional<10, Sequential<Dense<64 + 10, 32>, ReLU, Dense<32, 784>, Tanh>>;
    using D = Conditional<10, Sequential<Input<784 + 10>, Embedding<10, 8>, Dense<792, 1>>>;
    STATIC_REQUIRE(G::classes == 10);
    STATIC_REQUIRE(G::sample_size == 64);
    STATIC_REQUIRE(D::sample_size == 784);
    STATIC_REQUIRE(conditional_classes_v<G> == 10);
    STATIC_REQUIRE(conditional_classes_v<typename G::network_type> == 0);
    STATIC_REQUIRE(Network<G>);
    const G g(3);
    const typename G::network_type plain(3);
    CHECK(g.network() == plain);  // the wrapper adds no parameters and draws as Net does
}

TEST_CASE("with_condition refuses labels out of range and counts that do not match") {
    const matrix<float> x({2, 3}, 1.0f);
    const std::vector<std::uint8_t> good = {0, 9}, bad = {0, 10}, short_ = {1};
    CHECK(with_condition<10>(x, std::span<const std::uint8_t>(good)).shape()[1] == 13);
    CHECK_THROWS_WITH(with_condition<10>(x, std::span<const std::uint8_t>(bad)),
                      Catch::Contains("label 10 at row 1 is not below the class count 10"));
    CHECK_THROWS_WITH(with_condition<10>(x, std::span<const std::uint8_t>(short_)),
                      Catch::Contains("x has 2 rows but 1 labels"));
    const std::vector<int> negative = {0, -1};
    CHECK_THROWS_WITH(with_condition<10>(x, std::span<const int>(negative)), Catch::Contains("label -1 at row 1"));
}

TEST_CASE("ImageDataset serves labels with images and checks them against a class count") {
    const std::vector<std::uint8_t> pixels = {0, 255, 10, 20, 30, 40, 50, 60};  // 2 images of 2x2
    const idx_array images = parse_idx(idx_bytes({2, 2, 2}, pixels), "images");
    ImageDataset data(images, parse_idx(idx_bytes({2}, {3, 1}), "labels"));
    CHECK_NOTHROW(data.check_classes(4));
    CHECK_THROWS_WITH(data.check_classes(3), Catch::Contains("labels: label 3 at index 0 is not below the class count 3"));
    using D = Conditional<3, Sequential<Dense<7, 1>>>;
    CHECK_THROWS_AS(data.check_classes<D>(), dataset_error);

    matrix<float> batch({2, 4});
    std::vector<std::uint8_t> labels(2);
    Rng rng(1);
    data.next_batch(batch, std::span<std::uint8_t>(labels), rng);
    for (std::size_t r = 0; r < 2; ++r) {  // each row's label is its image's
        const std::uint8_t expected = batch(r, 0) == ImageDataset::scale<float>(0) ? 3 : 1;
        CHECK(labels[r] == expected);
    }

    CHECK_THROWS_WITH(ImageDataset(images, parse_idx(idx_bytes({3}, {0, 1, 2}), "three")),
                      Catch::Contains("three holds 3 labels but images holds 2 images"));
    CHECK_THROWS_WITH(ImageDataset(images).check_classes(10), Catch::Contains("loaded without labels"));
}
