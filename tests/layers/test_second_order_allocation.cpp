// The penalty pass (Sequential::input_gradient_penalty, the double backward) allocates
// nothing after its first call at a batch size: its buffers live in the Workspace.
//
// The counting operator new comes from tests/support/counting_new.hpp.
#include <cstddef>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/pool2d.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/layers/upsample.hpp>
#include <xgan/train/gradient_penalty.hpp>

#include "support/counting_new.hpp"

using namespace xgan;

namespace {

template <class T>
using mlp_critic = BasicSequential<T, Dense<15, 32>, LeakyReLU, Dense<32, 16>, Tanh, Dense<16, 1>>;
template <class T>
using conv_critic = BasicSequential<T, Input<1, 8, 8>, Conv2D<1, 4, 4, 2, 1>, LeakyReLU, MaxPool2D<2>,
                                    Upsample2D<2>, ConvTranspose2D<4, 2, 3, 1, 1>, Sigmoid, AvgPool2D<2>, Flatten,
                                    Dense<8, 1>>;

// The penalty pass on a batch of 12 (a group of 8 samples and one of 4 in the convolutions),
// the first call counted as the control, then three calls on new inputs that must not allocate.
template <class Net, class Penalty>
void check_penalty_pass(const Penalty& penalty) {
    using T = typename Net::value_type;
    const Net critic(7);
    Rng rng(8);
    typename Net::Workspace ws;
    ws.resize(12);
    std::vector<T> gradient(Net::parameter_count, T(0));
    rng.fill_uniform(std::span<T>(ws.input().data(), ws.input().size()), T(-1), T(1));
    const std::size_t first =
        count_allocations([&] { critic.input_gradient_penalty(ws, penalty, std::span<T>(gradient)); }).allocations;
    CHECK(first > 0);  // the control: the first call sizes the buffers, and the counter sees it
    for (int step = 0; step < 3; ++step) {
        rng.fill_uniform(std::span<T>(ws.input().data(), ws.input().size()), T(-1), T(1));
        const std::size_t later =
            count_allocations([&] { critic.input_gradient_penalty(ws, penalty, std::span<T>(gradient)); }).allocations;
        INFO("call " << step + 2);
        CHECK(later == 0);
    }
}

}  // namespace

TEMPLATE_TEST_CASE("the penalty pass allocates nothing after its first call", "[allocation][second_order]", float,
                   double) {
    check_penalty_pass<mlp_critic<TestType>>(GradientNormPenalty{10.0});
    check_penalty_pass<mlp_critic<TestType>>(R1Penalty{10.0});
    check_penalty_pass<conv_critic<TestType>>(GradientNormPenalty{10.0});
}
