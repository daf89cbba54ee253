// "A training step runs without allocating" (README): after the first step, which sizes
// the workspaces, AdversarialTrainer::step allocates nothing. The counting operator new
// and count_allocations come from tests/support/counting_new.hpp.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/io/paintings.hpp>
#include <xgan/xgan.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>

#include "support/counting_new.hpp"

using namespace xgan;

namespace {

// Generators of 15 values and discriminators of 15 inputs, small (xgan's kernels) and
// large (Dense<64, 300> and Dense<300, 64> are above the kernels' size limit: BLAS).
using PaintingG = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;  // README's architecture
using PaintingD = Sequential<Dense<15, 128>, ReLU, Dense<128, 1>, Sigmoid>;
using DropoutD = Sequential<Dense<15, 32>, LeakyReLU, Dropout, Dense<32, 1>, Sigmoid>;
using BatchNormD = Sequential<Dense<15, 32>, BatchNorm, LeakyReLU, Dense<32, 1>, Sigmoid>;
using BatchNormG = Sequential<Dense<5, 32>, BatchNorm, ReLU, Dense<32, 15>>;
using LargeG = Sequential<Dense<5, 64>, ReLU, Dense<64, 300>, ReLU, Dense<300, 15>>;
using LargeD = Sequential<Dense<15, 300>, LeakyReLU, Dropout, Dense<300, 64>, LeakyReLU, Dense<64, 1>, Sigmoid>;

// A small convolutional GAN: G makes 3 x 6 x 6 images from 2 x 3 x 3 noise, D scores them.
using ConvG = Sequential<Input<2, 3, 3>, ConvTranspose2D<2, 4, 4, 2, 1>, ReLU, Conv2D<4, 3, 3, 1, 1>, Tanh>;
using ConvD = Sequential<Input<3, 6, 6>, Conv2D<3, 4, 4, 2, 1>, LeakyReLU, Conv2D<4, 1, 3>, Sigmoid>;
// The same in Winograd form (channels enough, detail/winograd.hpp): G makes 4 x 6 x 6 images
// from 16 x 3 x 3 noise.
using WinogradG = Sequential<Input<16, 3, 3>, ConvTranspose2D<16, 4, 4, 2, 1>, Tanh>;
using WinogradD = Sequential<Input<4, 6, 6>, Conv2D<4, 16, 4, 2, 1>, LeakyReLU, Flatten, Dense<144, 1>, Sigmoid>;
static_assert(WinogradG::layer_type<0>::uses_winograd && WinogradD::layer_type<0>::uses_winograd);
// Pooling, upsampling, reshaping and BatchNorm over channels: G makes 3 x 6 x 6 images.
using PoolG = Sequential<Dense<5, 27>, Unflatten<3, 3, 3>, BatchNorm, ReLU, Upsample2D<4>, MaxPool2D<2>, Tanh>;
using PoolD = Sequential<Input<3, 6, 6>, AvgPool2D<2, 1>, BatchNorm, LeakyReLU, MaxPool2D<3, 2>, Upsample2D<2>,
                         Flatten, Dense<48, 1>, Sigmoid>;

static_assert(AdversarialTrainer<PaintingG, DropoutD>::joint_discriminator_pass);
static_assert(!AdversarialTrainer<PaintingG, BatchNormD>::joint_discriminator_pass);
static_assert(!LargeG::layer_type<2>::small && !LargeD::layer_type<3>::small);

// Steps a trainer once (the warm-up, which sizes its workspaces), then counts what
// `steps` further steps allocate and free. The real batches are made beforehand.
template <class Trainer>
Counts allocations_after_warm_up(typename Trainer::Options options, int steps = 3) {
    using T = typename Trainer::value_type;
    Trainer trainer(options);
    Rng data(2);
    std::vector<matrix<T>> batches;
    for (int i = 0; i <= steps; ++i) {
        matrix<T> real({64, Trainer::discriminator_type::input_size});
        if constexpr (Trainer::discriminator_type::input_size == 15)
            paintings::artist_works(real, data);
        else  // images in [-1, 1]
            data.fill_uniform(std::span<T>(real.data(), real.size()), -1.0, 1.0);
        batches.push_back(std::move(real));
    }
    trainer.step(batches[0]);
    const Counts counts = count_allocations([&] {
        for (int i = 1; i <= steps; ++i) trainer.step(batches[static_cast<std::size_t>(i)]);
    });
    REQUIRE(trainer.steps() == static_cast<std::uint64_t>(steps + 1));
    return counts;
}

template <class G, class D>
void check_no_allocation() {
    SECTION("Adam") {
        using Trainer = AdversarialTrainer<G, D, Adam, Adam>;
        const Counts c = allocations_after_warm_up<Trainer>({.seed = 1});
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("SGD with momentum") {
        using Trainer = AdversarialTrainer<G, D, SGD, SGD>;
        const SGD sgd{.lr = 0.01, .momentum = 0.9};
        const Counts c = allocations_after_warm_up<Trainer>(
            {.generator_optimizer = sgd, .discriminator_optimizer = sgd, .seed = 1});
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("two discriminator updates per step") {
        using Trainer = AdversarialTrainer<G, D>;
        const Counts c = allocations_after_warm_up<Trainer>({.seed = 1, .discriminator_steps = 2});
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
}

}  // namespace

TEST_CASE("the counters see every form of operator new and delete", "[allocation]") {
    // The control: if the replacement were not in force (another library's operator
    // new interposed, say), the steps' zero counts below would prove nothing.
    const Counts c = count_allocations([] {
        delete escape(new int(1));
        delete[] escape(new int[3]);
        struct alignas(64) Line {  // above the default alignment: the aligned forms
            char bytes[64];
        };
        delete escape(new Line);
        delete[] escape(new Line[2]);
        ::operator delete(::operator new(8, std::nothrow));
        std::vector<float> v(10);
        escape(v.data());
    });
    CHECK(c.allocations == 6);
    CHECK(c.deallocations == 6);
}

TEST_CASE("the warm-up step allocates, as the control that the steps are counted", "[allocation]") {
    AdversarialTrainer<PaintingG, PaintingD> trainer({.seed = 1});
    Rng data(2);
    matrix<float> real({64, 15});
    paintings::artist_works(real, data);
    const Counts c = count_allocations([&] { trainer.step(real); });
    CHECK(c.allocations > 0);
}

TEMPLATE_TEST_CASE("a training step allocates nothing after the first", "[allocation][trainer]", float, double) {
    SECTION("the painting GAN (README), joint discriminator pass") {
        check_no_allocation<rebind_scalar_t<PaintingG, TestType>, rebind_scalar_t<PaintingD, TestType>>();
    }
    SECTION("D with Dropout (joint pass, masks drawn ahead)") {
        check_no_allocation<rebind_scalar_t<PaintingG, TestType>, rebind_scalar_t<DropoutD, TestType>>();
    }
    SECTION("D with BatchNorm (two passes)") {
        check_no_allocation<rebind_scalar_t<PaintingG, TestType>, rebind_scalar_t<BatchNormD, TestType>>();
    }
    SECTION("G with BatchNorm") {
        check_no_allocation<rebind_scalar_t<BatchNormG, TestType>, rebind_scalar_t<PaintingD, TestType>>();
    }
    SECTION("large layers: BLAS products") {
        check_no_allocation<rebind_scalar_t<LargeG, TestType>, rebind_scalar_t<LargeD, TestType>>();
    }
    SECTION("convolutions: im2col and col2im scratch sized once") {
        check_no_allocation<rebind_scalar_t<ConvG, TestType>, rebind_scalar_t<ConvD, TestType>>();
    }
    SECTION("convolutions on two threads (xgan::set_threads): each thread's scratch sized once") {
        struct OneThreadAfterwards {
            ~OneThreadAfterwards() { set_threads(1); }
        } const restore;
        set_threads(2);
        check_no_allocation<rebind_scalar_t<ConvG, TestType>, rebind_scalar_t<ConvD, TestType>>();
    }
    SECTION("convolutions in Winograd form, on one thread and two: transforms' scratch sized once") {
        check_no_allocation<rebind_scalar_t<WinogradG, TestType>, rebind_scalar_t<WinogradD, TestType>>();
        struct OneThreadAfterwards {
            ~OneThreadAfterwards() { set_threads(1); }
        } const restore;
        set_threads(2);
        check_no_allocation<rebind_scalar_t<WinogradG, TestType>, rebind_scalar_t<WinogradD, TestType>>();
    }
    SECTION("pooling, upsampling, Flatten, Unflatten, BatchNorm over channels: argmax indices sized once") {
        check_no_allocation<rebind_scalar_t<PoolG, TestType>, rebind_scalar_t<PoolD, TestType>>();
    }
}

namespace {
// Critics for the objectives that read raw scores (no final Sigmoid).
using PaintingCritic = Sequential<Dense<15, 128>, ReLU, Dense<128, 1>>;
using BatchNormCritic = Sequential<Dense<15, 32>, BatchNorm, LeakyReLU, Dense<32, 1>>;
using ConvCritic = Sequential<Input<3, 6, 6>, Conv2D<3, 4, 4, 2, 1>, LeakyReLU, Conv2D<4, 1, 3>>;

template <class G, class D, class L>
void check_objective_no_allocation(const L& loss) {
    using Trainer = AdversarialTrainer<G, D, Adam, Adam, L>;
    const Counts c = allocations_after_warm_up<Trainer>({.loss = loss, .seed = 1, .discriminator_steps = 2});
    CHECK(c.allocations == 0);
    CHECK(c.deallocations == 0);
}
}  // namespace

TEMPLATE_TEST_CASE("a step of each objective allocates nothing after the first", "[allocation][trainer][losses]",
                   float, double) {
    using G = rebind_scalar_t<PaintingG, TestType>;
    using Critic = rebind_scalar_t<PaintingCritic, TestType>;
    SECTION("WGAN with weight clipping") { check_objective_no_allocation<G, Critic>(WassersteinLoss{}); }
    SECTION("hinge") { check_objective_no_allocation<G, Critic>(HingeLoss{}); }
    SECTION("LSGAN") { check_objective_no_allocation<G, Critic>(LeastSquaresLoss{}); }
    SECTION("hinge, critic with BatchNorm (two passes)") {
        check_objective_no_allocation<G, rebind_scalar_t<BatchNormCritic, TestType>>(HingeLoss{});
    }
    SECTION("WGAN-GP: interpolates and the penalty pass") {
        check_objective_no_allocation<G, Critic>(WassersteinGPLoss{});
    }
    SECTION("R1 on the non-saturating loss") { check_objective_no_allocation<G, Critic>(R1Loss<>{}); }
    SECTION("WGAN-GP, convolutional critic") {
        check_objective_no_allocation<rebind_scalar_t<ConvG, TestType>, rebind_scalar_t<ConvCritic, TestType>>(
            WassersteinGPLoss{});
    }
    SECTION("WGAN, convolutional critic") {
        check_objective_no_allocation<rebind_scalar_t<ConvG, TestType>, rebind_scalar_t<ConvCritic, TestType>>(
            WassersteinLoss{});
    }
}
