// Sequential runs a small Dense layer and the ReLU or LeakyReLU next to it as one pass
// (layers/dense.hpp, forward_activated and backward_input_gated). These tests compare
// every result with the layers run one by one, bit for bit.
#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/core/sequential.hpp>
#include <xgan/detail/kernels.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>

using namespace xgan;

namespace {

template <class Net>
using values_of = std::array<matrix<typename Net::value_type>, Net::layer_count + 1>;

// The forward and backward passes of net, one layer call at a time (no fusion).
template <class Net>
struct Unfused {
    values_of<Net> values, gradients;
    std::vector<typename Net::value_type> gradient = std::vector<typename Net::value_type>(Net::parameter_count);

    // `passes` backward passes, each adding into `gradient` (GradientMode::accumulate).
    Unfused(const Net& net, const matrix<typename Net::value_type>& x,
            const matrix<typename Net::value_type>& output_gradient, int passes = 1) {
        constexpr std::size_t n = Net::layer_count;
        const std::size_t batch = x.shape()[0];
        for (std::size_t i = 0; i <= n; ++i) {
            values[i].resize({batch, Net::widths[i]});
            gradients[i].resize({batch, Net::widths[i]});
        }
        values[0] = x;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (net.template layer<I>().forward(net.template parameters_of<I>(), values[I], values[I + 1]), ...);
        }(std::make_index_sequence<n>{});
        gradients[n] = output_gradient;
        const std::span<typename Net::value_type> all(gradient);
        for (int pass = 0; pass < passes; ++pass) [&]<std::size_t... R>(std::index_sequence<R...>) {
            (
                [&] {
                    constexpr std::size_t I = n - 1 - R;
                    const auto& layer = net.template layer<I>();
                    if constexpr (Net::template layer_type<I>::parameter_count > 0)
                        layer.accumulate_gradient(net.template parameters_of<I>(), values[I], values[I + 1],
                                                  gradients[I + 1],
                                                  all.subspan(Net::offsets[I], Net::offsets[I + 1] - Net::offsets[I]));
                    layer.backward_input(net.template parameters_of<I>(), values[I], values[I + 1], gradients[I + 1],
                                         gradients[I]);
                }(),
                ...);
        }(std::make_index_sequence<n>{});
    }
};

// Values in [-1, 1) with a fixed seed (about half of each Dense output is then negative).
template <class T>
matrix<T> uniform(std::size_t rows, std::size_t cols, std::uint64_t seed) {
    Rng rng(seed);
    matrix<T> m({rows, cols});
    for (auto& v : m) v = static_cast<T>(rng.uniform(-1.0, 1.0));
    return m;
}

bool fusion_runs() { return detail::kernels::products_on_kernels(); }

// Runs net through Sequential and one layer at a time; requires bit-identical output,
// parameter gradient and input gradient. `pre_activations` are the values Sequential
// does not write when it fuses; they are overwritten with garbage between the passes, so
// a backward pass that still read them would fail here.
template <class Net>
void check_matches_unfused(const Net& net, std::size_t batch, std::initializer_list<std::size_t> pre_activations) {
    using T = typename Net::value_type;
    const matrix<T> x = uniform<T>(batch, Net::input_size, 3);
    const matrix<T> dout = uniform<T>(batch, Net::output_size, 4);
    const Unfused<Net> reference(net, x, dout);

    typename Net::Workspace ws;
    net.forward(ws, uniform<T>(batch, Net::input_size, 5));  // leaves other numbers behind
    const matrix<T>& y = net.forward(ws, x);
    REQUIRE(bool(y == reference.values[Net::layer_count]));
    if (fusion_runs())
        for (const std::size_t i : pre_activations) ws.values[i].fill(T(-1));

    ws.gradients[Net::layer_count] = dout;
    std::vector<T> gradient(Net::parameter_count, T(0));
    net.backward(ws, std::span<T>(gradient), true);
    CHECK(gradient == reference.gradient);
    CHECK(bool(ws.gradients[0] == reference.gradients[0]));

    // Stored over garbage (GradientMode::overwrite), then a second pass added to it.
    std::fill(gradient.begin(), gradient.end(), T(-7));
    net.backward(ws, std::span<T>(gradient), true, GradientMode::overwrite);
    CHECK(gradient == reference.gradient);
    net.backward(ws, std::span<T>(gradient), true);
    CHECK(gradient == Unfused<Net>(net, x, dout, 2).gradient);

    // The input-only pass of a frozen network gives the same input gradient, without
    // reading what the passes before it left in the workspace's gradients.
    for (std::size_t i = 0; i < Net::layer_count; ++i) ws.gradients[i].fill(T(-3));
    ws.gradients[Net::layer_count] = dout;
    CHECK(bool(net.backward_input(ws) == reference.gradients[0]));
}

}  // namespace

TEST_CASE("Dense fused with ReLU or LeakyReLU matches the layers run one by one, bit for bit", "[sequential][fusion]") {
    SECTION("the painting GAN's networks") {
        // G: (Dense 0, ReLU 1) fused forward, (ReLU 1, Dense 2) fused backward.
        check_matches_unfused(Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>(1), 64, {1});
        // D: likewise, with a one-column Dense (its own kernels) and a Sigmoid after it.
        check_matches_unfused(Sequential<Dense<15, 128>, ReLU, Dense<128, 1>, Sigmoid>(2), 64, {1});
    }
    SECTION("a chain of pairs, odd widths and batch, in double") {
        using Net = BasicSequential<double, Dense<13, 24>, LeakyReLU, Dense<24, 9>, ReLU, Dense<9, 3>,
                                    LeakyReLUWithSlope<1, 100>>;
        // The last LeakyReLU is fused forward only: its backward pass runs on its own,
        // reading the gate off its output.
        check_matches_unfused(Net(3), 37, {1, 3, 5});
    }
    SECTION("Dense, activation, Dense forward in one call, by chunks of rows") {
        // Dense 2, ReLU 3, Dense 4 (3 doubles wide: gemm_rows); 37 rows = chunks of 24 and 13.
        using Net = BasicSequential<double, Dense<13, 24>, LeakyReLU, Dense<24, 9>, ReLU, Dense<9, 3>>;
        check_matches_unfused(Net(7), 37, {1, 3});
        // Dense 0, ReLU 1, Dense 2 with 2 outputs (gemm_dot), one row.
        check_matches_unfused(Sequential<Dense<3, 8>, ReLU, Dense<8, 2>>(8), 1, {1});
    }
    SECTION("a one-output Dense after its activation: both gradients in one pass") {
        // 13 floats: two 8-lane vectors, the second overlapping the first.
        check_matches_unfused(Sequential<Dense<7, 13>, LeakyReLU, Dense<13, 1>>(4), 37, {1});
        // 20 doubles: five 4-lane vectors, a block of one, then one of four.
        check_matches_unfused(BasicSequential<double, Dense<6, 20>, ReLU, Dense<20, 1>>(5), 29, {1});
        // 3 floats: scalar code.
        check_matches_unfused(Sequential<Dense<4, 3>, ReLU, Dense<3, 1>, Sigmoid>(6), 5, {1});
    }
}

TEST_CASE("a forward pass stopped between a Dense layer and its ReLU writes the Dense output",
          "[sequential][fusion]") {
    using Net = Sequential<Dense<15, 128>, ReLU, Dense<128, 1>>;
    const Net net(7);
    const matrix<float> x = uniform<float>(10, 15, 8);
    const Unfused<Net> reference(net, x, xt::zeros<float>({10, 1}));
    Net::Workspace ws;
    CHECK(bool(net.forward<1>(ws, x) == reference.values[1]));
    CHECK(bool(net.forward<2>(ws, x) == reference.values[2]));
    CHECK(bool(net.forward<3>(ws, x) == reference.values[3]));  // the three layers in one call
    CHECK(bool(ws.values[2] == reference.values[2]));
}

namespace {
using detail::backward_role;
using detail::forward_role;
template <class Net, std::size_t Stop = Net::layer_count>
using plan_of = detail::fusion_plan<typename Net::layers_type, Stop>;
template <class... R>
constexpr auto roles(R... r) {
    return std::array{r...};
}
}  // namespace

TEST_CASE("the fusion plan: which layer runs which pass", "[sequential][fusion]") {
    using forward_role::pair;
    using forward_role::second;
    using forward_role::third;
    using forward_role::triple;
    constexpr forward_role alone = forward_role::alone;
    constexpr backward_role by_next = backward_role::done_by_next;
    constexpr backward_role through = backward_role::through_previous;
    constexpr backward_role with_gradient = backward_role::through_previous_with_gradient;
    constexpr backward_role own = backward_role::alone;

    using G = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
    STATIC_REQUIRE(plan_of<G>::forward == roles(triple, second, third));
    STATIC_REQUIRE(plan_of<G>::backward == roles(own, by_next, through));
    // Steps stay inside [0, Stop): stopped after the ReLU, a pair; after the Dense, alone.
    STATIC_REQUIRE(plan_of<G, 2>::forward == roles(pair, second, alone));
    STATIC_REQUIRE(plan_of<G, 2>::backward == roles(own, own, own));
    STATIC_REQUIRE(plan_of<G, 1>::forward == roles(alone, alone, alone));

    // A one-output Dense takes its parameter gradient in the same step; Sigmoid fuses with nothing.
    using D = Sequential<Dense<15, 128>, LeakyReLU, Dense<128, 1>, Sigmoid>;
    STATIC_REQUIRE(plan_of<D>::forward == roles(triple, second, third, alone));
    STATIC_REQUIRE(plan_of<D>::backward == roles(own, by_next, with_gradient, own));

    // A triple is not formed when its third layer starts a pair itself.
    using Chain = BasicSequential<double, Dense<13, 24>, LeakyReLU, Dense<24, 9>, ReLU, Dense<9, 3>>;
    STATIC_REQUIRE(plan_of<Chain>::forward == roles(pair, second, triple, second, third));
    STATIC_REQUIRE(plan_of<Chain>::backward == roles(own, by_next, through, by_next, through));

    // No rule, no step: a Dense too large for the kernels, a LeakyReLU with a negative
    // slope (its gradient cannot be read off its output), an activation before the first Dense.
    STATIC_REQUIRE(plan_of<Sequential<Dense<784, 256>, ReLU, Dense<256, 1>>>::forward == roles(alone, alone, alone));
    using Negative = Sequential<Dense<4, 8>, LeakyReLUWithSlope<-1, 5>, Dense<8, 2>>;
    STATIC_REQUIRE(plan_of<Negative>::forward == roles(alone, alone, alone));
    STATIC_REQUIRE(plan_of<Negative>::backward == roles(own, own, own));
    using Leading = Sequential<Input<4>, ReLU, Dense<4, 2>>;
    STATIC_REQUIRE(plan_of<Leading>::forward == roles(alone, alone));
    STATIC_REQUIRE(plan_of<Leading>::backward == roles(by_next, through));
}
