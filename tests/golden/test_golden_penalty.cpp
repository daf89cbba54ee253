// Golden-value tests for gradient penalties: the penalty on a critic's input gradient and
// its gradient with respect to the critic's parameters (Sequential::input_gradient_penalty,
// the double backward), against PyTorch 1.13 autograd with create_graph=True
// (tests/golden/generate_penalty.py wrote tests/golden/data/penalty.txt). WGAN-GP's
// 10 mean (||g_i|| - 1)^2 and R1's 10/2 mean ||g_i||^2, on an MLP critic, the conv
// critic (Conv2D, LeakyReLU, Flatten, Dense) and a critic of image layers with curved
// activations between them.
//
// Set XGAN_GOLDEN_REPORT=1 to print the worst error of every comparison.
//
// Every parameter and input in the file is a float32 value, and PyTorch computed in float64:
// the double network must agree to 1e-12 and the float network to 1e-5, element by element
// relative to max(|expected|, the block's root mean square). In double both sides sum the
// same products in another order; measured (XGAN_GOLDEN_REPORT=1): at most 1e-15. In float
// the first pass, the penalty and the second-order pass each round to float's 6e-8;
// measured: at most 4.7e-7. A wrong term or index moves elements by O(1) of the block.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/pool2d.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/train/gradient_penalty.hpp>

#include "golden_checks.hpp"

using namespace xgan;

namespace {

const golden::data_file& data() {
    static const golden::data_file file = golden::data_file::load(XGAN_TEST_DATA_DIR "/data/penalty.txt");
    return file;
}

// Loads <name>'s parameters into the network, runs both penalties on <name>.x and compares
// the input gradient, the values and the gradients.
template <class Net>
void check_case(const std::string& name, double rtol) {
    using T = typename Net::value_type;
    const golden::data_file& file = data();
    Net net;
    golden::load_parameters(file, name, net);
    const golden::block& x_block = file.get(name + ".x");
    REQUIRE(x_block.cols == Net::input_size);
    matrix<T> x({x_block.rows, x_block.cols});
    std::transform(x_block.values.begin(), x_block.values.end(), x.begin(), [](double v) { return static_cast<T>(v); });

    typename Net::Workspace ws;
    std::vector<T> gradient(Net::parameter_count);
    const T wgan_gp = net.input_gradient_penalty(ws, x, GradientNormPenalty{10.0}, std::span<T>(gradient),
                                                 GradientMode::overwrite);
    golden::check_close(name + ".g", file.get(name + ".g", x_block.rows, Net::input_size).all(),
                        std::span<const T>(ws.gradients[0].data(), ws.gradients[0].size()), rtol);
    golden::check_penalty(file, name, "wgan_gp", net, wgan_gp, gradient, rtol);
    const T r1 = net.input_gradient_penalty(ws, x, R1Penalty{10.0}, std::span<T>(gradient), GradientMode::overwrite);
    golden::check_penalty(file, name, "r1", net, r1, gradient, rtol);
}

template <class T>
using mlp_critic = BasicSequential<T, Dense<4, 8>, Tanh, Dense<8, 6>, LeakyReLU, Dense<6, 1>>;
template <class T>
using conv_critic = BasicSequential<T, Input<2, 7, 6>, Conv2D<2, 3, 3, 2, 1>, LeakyReLU, Flatten, Dense<36, 1>>;
template <class T>
using image_critic = BasicSequential<T, Input<2, 6, 8>, Conv2DRect<2, 3, 3, 2, 1, 2, 1, 0>, Sigmoid, AvgPool2D<2>,
                                     ConvTranspose2D<3, 2, 3, 2, 1>, Tanh, Flatten, Dense<30, 1>>;

}  // namespace

TEST_CASE("golden penalty: WGAN-GP and R1 on an MLP critic (PyTorch autograd)", "[golden][second_order]") {
    check_case<mlp_critic<double>>("mlp", 1e-12);
    check_case<mlp_critic<float>>("mlp", 1e-5);
}

TEST_CASE("golden penalty: WGAN-GP and R1 on a conv critic (PyTorch autograd)", "[golden][second_order]") {
    check_case<conv_critic<double>>("conv", 1e-12);
    check_case<conv_critic<float>>("conv", 1e-5);
}

TEST_CASE("golden penalty: WGAN-GP and R1 on a critic of image layers (PyTorch autograd)", "[golden][second_order]") {
    check_case<image_critic<double>>("image", 1e-12);
    check_case<image_critic<float>>("image", 1e-5);
}
