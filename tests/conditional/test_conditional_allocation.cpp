// A conditional GAN's step allocates nothing after the first, as any GAN's
// (tests/train/test_no_allocation.cpp; the counting operator new comes from
// tests/support/counting_new.hpp): the real labels' buffer and the one-hot rows are sized once.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>

#include "support/counting_new.hpp"

using namespace xgan;

namespace {

template <class G, class D, class Loss = MinimaxLoss>
Counts conditional_step_allocations() {
    AdversarialTrainer<G, D, Adam, Adam, Loss> trainer({.seed = 1, .discriminator_steps = 2});
    matrix<float> real({16, D::sample_size});
    std::vector<std::uint8_t> labels(16);
    Rng data(2);
    auto draw = [&] {
        for (std::size_t r = 0; r < 16; ++r) {
            labels[r] = static_cast<std::uint8_t>(data.below(G::classes));
            for (std::size_t k = 0; k < D::sample_size; ++k) real(r, k) = static_cast<float>(data.uniform(-1, 1));
        }
    };
    draw();
    trainer.step(real, labels);  // sizes the workspaces
    return count_allocations([&] {
        for (int s = 0; s < 3; ++s) {
            draw();
            trainer.step(real, labels);
        }
    });
}

}  // namespace

TEST_CASE("a conditional GAN's step allocates nothing after the first", "[allocation][trainer]") {
    constexpr std::size_t K = 4;
    using G = Conditional<K, Sequential<Dense<8 + K, 32>, ReLU, Dense<32, 15>>>;
    SECTION("one-hot concatenated, joint discriminator pass") {
        using D = Conditional<K, Sequential<Dense<15 + K, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>>;
        const Counts c = conditional_step_allocations<G, D>();
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("embedding, D with BatchNorm (two passes)") {
        using D = Conditional<K, Sequential<Input<15 + K>, Embedding<K, 6>, Dense<21, 32>, BatchNorm, LeakyReLU,
                                            Dense<32, 1>, Sigmoid>>;
        const Counts c = conditional_step_allocations<G, D>();
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("a convolutional discriminator with the condition as planes") {
        using ImageG = Conditional<K, Sequential<Dense<8 + K, 32>, ReLU, Dense<32, 16>, Tanh, Unflatten<1, 4, 4>>>;
        using ImageD = Conditional<K, Sequential<Input<1 + K, 4, 4>, Conv2D<1 + K, 4, 3, 2, 1>, LeakyReLU, Flatten,
                                                 Dense<16, 1>, Sigmoid>>;
        const Counts c = conditional_step_allocations<ImageG, ImageD>();
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("a convolutional critic with WGAN-GP (the penalty pass on the conditional critic)") {
        using ImageG = Conditional<K, Sequential<Dense<8 + K, 32>, ReLU, Dense<32, 16>, Tanh, Unflatten<1, 4, 4>>>;
        using Critic = Conditional<K, Sequential<Input<1 + K, 4, 4>, Conv2D<1 + K, 4, 3, 2, 1>, LeakyReLU, Flatten,
                                                 Dense<16, 1>>>;
        const Counts c = conditional_step_allocations<ImageG, Critic, WassersteinGPLoss>();
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("control: the first step is counted") {
        using D = Conditional<K, Sequential<Dense<15 + K, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>>;
        AdversarialTrainer<G, D> trainer({.seed = 1});
        matrix<float> real({16, 15}, 0.5f);
        const std::vector<std::uint8_t> labels(16, 1);
        const Counts c = count_allocations([&] { trainer.step(real, labels); });
        CHECK(c.allocations > 0);
    }
}
