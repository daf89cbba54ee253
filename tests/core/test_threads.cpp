// xgan::set_threads: large element-wise loops split over threads, with the same results.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/dropout.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/optim/adam.hpp>

using namespace xgan;

namespace {
// Restores one thread however a test ends.
struct OneThreadAfterwards {
    ~OneThreadAfterwards() { set_threads(1); }
};

// Every value and gradient of a network's forward and backward pass over x.
struct Passes {
    std::vector<matrix<float>> values, gradients;
    std::vector<float> parameter_gradient;
};

// The passes of net on `count` threads: the output's gradient is the output itself (some
// gradient of every sign); Dropout masks come from Rng(22).
template <class Net>
Passes passes_on(std::size_t count, const Net& net, const matrix<float>& x) {
    set_threads(count);
    typename Net::Workspace ws;
    Rng masks(22);
    ws.rng = &masks;
    net.forward(ws, x);
    ws.gradients[Net::layer_count] = ws.values[Net::layer_count];
    std::vector<float> gradient(Net::parameter_count);
    net.backward(ws, gradient, true, GradientMode::overwrite);
    return Passes{{ws.values.begin(), ws.values.end()}, {ws.gradients.begin(), ws.gradients.end()}, gradient};
}

// The same bits in every value and gradient.
void check_same(const Passes& one, const Passes& many) {
    for (std::size_t i = 0; i < one.values.size(); ++i) {
        INFO("values[" << i << "]");
        CHECK(one.values[i] == many.values[i]);
    }
    for (std::size_t i = 0; i < one.gradients.size(); ++i) {
        INFO("gradients[" << i << "]");
        CHECK(one.gradients[i] == many.gradients[i]);
    }
    CHECK(one.parameter_gradient == many.parameter_gradient);
}
}  // namespace

TEST_CASE("set_threads takes at least one thread", "[threads]") {
    CHECK(threads() == 1);
    CHECK_THROWS_WITH(set_threads(0), "xgan::set_threads: the number of threads must be at least 1");
    CHECK(threads() == 1);
}

TEST_CASE("parallel_for covers every index once, in parts of whole cache lines", "[threads]") {
    const OneThreadAfterwards restore;
    const std::size_t n = GENERATE(std::size_t{10}, detail::parallel_min_elements,
                                   detail::parallel_min_elements * 3 + 17);
    const std::size_t count = GENERATE(std::size_t{1}, std::size_t{2}, std::size_t{3});
    set_threads(count);
    REQUIRE(threads() == count);

    // Written by the workers (each part its own indices); checked afterwards, on this
    // thread, since Catch2's assertions are not thread-safe.
    std::vector<std::uint8_t> visits(n, 0);
    std::vector<std::thread::id> owner(n);
    detail::parallel_for(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            ++visits[i];
            owner[i] = std::this_thread::get_id();
        }
    });
    std::size_t once = 0, changes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        once += visits[i] == 1;
        if (i > 0 && owner[i] != owner[i - 1]) {
            ++changes;
            CHECK(i % 64 == 0);
        }
    }
    CHECK(once == n);
    // Short loops stay on the calling thread; long ones use every thread.
    CHECK(changes == (n < detail::parallel_min_elements ? 0 : count - 1));
}

TEST_CASE("Adam gives the same parameters and moments on any number of threads", "[threads][optim]") {
    const OneThreadAfterwards restore;
    const std::size_t n = 3 * detail::parallel_min_elements + 5;
    Rng rng(12);
    std::vector<float> start(n), gradient(n);
    rng.fill_normal(std::span<float>(start));

    auto train = [&](std::size_t count) {
        set_threads(count);
        std::vector<float> p = start;
        Adam::state<float> state(n);
        Rng g(13);
        for (int step = 0; step < 3; ++step) {
            g.fill_normal(std::span<float>(gradient));
            state.step(Adam{.lr = 1e-2}, std::span<float>(p), std::span<const float>(gradient));
        }
        return std::make_pair(p, state);
    };
    const auto one = train(1);
    const auto three = train(3);
    CHECK(one.first != start);
    CHECK(one.first == three.first);
    CHECK(one.second == three.second);
}

TEST_CASE("Activation and Dropout passes give the same values on any number of threads", "[threads][layers]") {
    const OneThreadAfterwards restore;
    // 128 x 1024 = 131,072 values per hidden matrix: above parallel_min_elements, so
    // each activation and Dropout pass is split (parts of 64 values on 3 threads). The
    // Dense layers are all BLAS-sized, so none is fused with its activation and every
    // value and gradient of the workspace is written.
    using Net = Sequential<Dense<100, 1024>, LeakyReLU, DropoutWithRate<3, 10>, Dense<1024, 600>, Tanh,
                           Dense<600, 200>, Sigmoid>;
    constexpr std::size_t batch = 128;
    STATIC_REQUIRE(batch * 1024 >= detail::parallel_min_elements);
    Rng init(21);
    const Net net(init);
    matrix<float> x({batch, Net::input_size});
    init.fill_normal(std::span<float>(x.data(), x.size()));

    const Passes one = passes_on(1, net, x);
    // The Dropout layer zeroed some values and kept others (its mask was drawn).
    const auto& dropped = one.values[3];
    const std::size_t zeros = static_cast<std::size_t>(std::count(dropped.begin(), dropped.end(), 0.0f));
    CHECK(zeros > dropped.size() / 5);
    CHECK(zeros < dropped.size() / 2);
    check_same(one, passes_on(3, net, x));
}

TEST_CASE("Convolution passes give the same values on any number of threads", "[threads][layers]") {
    const OneThreadAfterwards restore;
    // Batch 19 makes three groups of samples (8, 8, 3; detail::default_conv_group), shared
    // between threads in the forward and input-gradient passes. The weight gradients come
    // in chunks of 512 im2col rows: the last three layers' 600, 576 and 540 rows make two
    // chunks each, shared between threads.
    using Net = Sequential<Input<3, 11, 11>, Conv2D<3, 24, 3, 2, 1>, LeakyReLU, Conv2D<24, 16, 5, 1, 2>,
                           ConvTranspose2D<16, 36, 4, 2, 1>, Tanh, Conv2DRect<36, 2, 3, 5, 1, 2, 1, 0>>;
    STATIC_REQUIRE(std::is_same_v<Net::output_shape, shape<2, 12, 4>>);
    STATIC_REQUIRE(detail::chunk_count(Net::layer_type<2>::geometry.rows()) == 2);
    STATIC_REQUIRE(detail::chunk_count(Net::layer_type<3>::geometry.rows()) == 2);
    STATIC_REQUIRE(detail::chunk_count(Net::layer_type<5>::geometry.rows()) == 2);
    constexpr std::size_t batch = 19;
    Rng init(31);
    const Net net(init);
    matrix<float> x({batch, Net::input_size});
    init.fill_normal(std::span<float>(x.data(), x.size()));

    const Passes one = passes_on(1, net, x);
    for (const std::size_t count : {std::size_t{2}, std::size_t{3}}) {
        INFO(count << " threads");
        check_same(one, passes_on(count, net, x));
    }
    // Not vacuous: the input gradient is non-zero, and nearly every parameter's gradient is.
    CHECK(std::any_of(one.gradients[0].begin(), one.gradients[0].end(), [](float v) { return v != 0.0f; }));
    CHECK(std::count(one.parameter_gradient.begin(), one.parameter_gradient.end(), 0.0f) <
          static_cast<std::ptrdiff_t>(Net::parameter_count / 10));
}
