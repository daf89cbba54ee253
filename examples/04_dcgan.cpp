// 04_dcgan: a DCGAN on Fashion-MNIST, the convolutional GAN of the tutorials
// (docs/tutorial/convolutional-gans.md walks through it).
//
// Example 03 with convolutional networks. G turns 100 random numbers into 128 channels
// of 7x7 (a Dense layer, then Unflatten), and two transposed convolutions of stride 2
// double their size, to 64 channels of 14x14 and to one of 28x28, with BatchNorm and
// ReLU between and Tanh at the end (pixels are scaled to [-1, 1]). D mirrors it: two convolutions of stride 2
// (28x28 to 14x14 to 7x7) with LeakyReLU(0.2) and BatchNorm, then Flatten and a Dense
// layer to one logit; the loss applies the sigmoid itself (NonSaturatingLoss reads
// logits). One step trains D on 64 real images (labelled 1) and 64 generated ones
// (labelled 0), then G through the frozen D on fresh noise (labelled 1: the
// non-saturating loss), with Adam(lr 2e-4, beta1 0.5) for both, as PyTorch's DCGAN
// tutorial does. Every shape is part of a network's type: a stack whose shapes do not
// fit is a compile error naming the layer and the shape it was given.
//
// --generator upsample replaces each transposed convolution by nearest-neighbour
// upsampling and a 3x3 convolution (same channels), which avoids the checkerboard
// pattern a transposed convolution of kernel 4 and stride 2 tends to paint.
// --discriminator small trains the tutorials' small CNN instead: two 3x3 convolutions,
// each followed by LeakyReLU and 2x2 max pooling, then Flatten and Dense. Each choice
// is a different network type; one function template trains all four combinations.
//
// Everything else is Example 03's (support/image_gan_training.hpp): --data reads other
// IDX files (real MNIST); a progress bar, a CSV log (with the Frechet classifier distance
// of G's samples every --fcd-every steps), a grid of samples from one fixed noise batch
// and an atomic checkpoint every --grid-every steps, plots of the monitors and of the
// distance at the end; --resume continues a run exactly; a run refuses an --output
// folder that is not empty unless --resume continues its run or --overwrite deletes that
// run's files.
//
//   04_dcgan                                       # 20 epochs (18,740 steps) into dcgan/
//   OPENBLAS_NUM_THREADS=1 04_dcgan --threads 2    # the same run, bit for bit, on two cores
//   04_dcgan --generator upsample --output dcgan_upsample
//   04_dcgan --resume dcgan/checkpoint.npz --steps 12000
//   04_dcgan --overwrite                           # a new run into dcgan/
//   04_dcgan --data ~/mnist/train-images-idx3-ubyte.gz
//   mpirun -np 2 04_dcgan --distributed --batch 32         # 2 ranks x 32 images a step

#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>

#include <xgan/core/shape.hpp>
#include <xgan/core/summary.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/pool2d.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/layers/upsample.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"
#include "support/image_gan_training.hpp"
#include "support/image_run.hpp"

namespace {

using namespace xgan;

constexpr std::size_t latent = 100;

// PyTorch's DCGAN for 28x28 images: 100 -> 128x7x7 -> 64x14x14 -> 1x28x28.
using TransposedGenerator =
    Sequential<Dense<latent, 128 * 7 * 7>, Unflatten<128, 7, 7>, BatchNorm, ReLU, ConvTranspose2D<128, 64, 4, 2, 1>,
               BatchNorm, ReLU, ConvTranspose2D<64, 1, 4, 2, 1>, Tanh>;
// The same with each transposed convolution replaced by upsampling and a convolution.
using UpsampleGenerator =
    Sequential<Dense<latent, 128 * 7 * 7>, Unflatten<128, 7, 7>, BatchNorm, ReLU, Upsample2D<2>,
               Conv2D<128, 64, 3, 1, 1>, BatchNorm, ReLU, Upsample2D<2>, Conv2D<64, 1, 3, 1, 1>, Tanh>;

// 1x28x28 -> 64x14x14 -> 128x7x7 -> one logit.
using DcganDiscriminator = Sequential<Input<1, 28, 28>, Conv2D<1, 64, 4, 2, 1>, LeakyReLU, Conv2D<64, 128, 4, 2, 1>,
                                      BatchNorm, LeakyReLU, Flatten, Dense<128 * 7 * 7, 1>>;
// The tutorials' small CNN: 1x28x28 -> 32x28x28 -> 32x14x14 -> 64x14x14 -> 64x7x7 -> one logit.
using SmallDiscriminator =
    Sequential<Input<1, 28, 28>, Conv2D<1, 32, 3, 1, 1>, LeakyReLU, MaxPool2D<2>, Conv2D<32, 64, 3, 1, 1>, LeakyReLU,
               MaxPool2D<2>, Flatten, Dense<64 * 7 * 7, 1>>;

// The shapes are types: what G draws is what D reads (the trainer checks this too).
static_assert(std::is_same_v<TransposedGenerator::output_shape, shape<1, 28, 28>>);
static_assert(std::is_same_v<UpsampleGenerator::output_shape, DcganDiscriminator::input_shape>);
static_assert(std::is_same_v<SmallDiscriminator::output_shape, shape<1>>);

// "Generator:" and its table of layers, output shapes and parameter counts.
template <class Net>
std::string network_text(const char* role) {
    return std::string(role) + ":\n" + summary<Net>();
}

// Trains G against D as the header says (support/image_gan_training.hpp).
// With Adam, or under --distributed mpi::Allreduce<Adam>.
template <class G, class D, class O>
int train(const xgan_examples::ImageRunSettings& s) {
    using Trainer = AdversarialTrainer<G, D, O, O, NonSaturatingLoss>;
    const O adam = xgan_examples::optimizer<O>({.lr = 2e-4, .beta1 = 0.5});
    return xgan_examples::train_on_images<Trainer>(
        s, {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = NonSaturatingLoss{}},
        network_text<G>("Generator") + network_text<D>("Discriminator"), "DCGAN");
}

template <class G, class O>
int train_with(const xgan_examples::ImageRunSettings& s, const std::string& discriminator) {
    return discriminator == "small" ? train<G, SmallDiscriminator, O>(s) : train<G, DcganDiscriminator, O>(s);
}

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::ImageRunSettings s;
    s.data = std::string(fashion_mnist::train_images);
    s.steps = 18740;  // 20 epochs of 937 batches of 64: sharp samples of all ten kinds
    s.batch = 64;
    s.output = "dcgan";
    s.grid_every = 500;
    std::string generator = "transposed", discriminator = "dcgan";
    xgan_examples::CommandLine command_line("DCGAN (the tutorials' convolutional GAN) on Fashion-MNIST or MNIST");
    xgan_examples::add_image_run_options(command_line, s, "initialisation, noise and data order");
    command_line
        .add_option("--generator", generator,
                    "transposed: transposed convolutions; upsample: nearest upsampling, then a 3x3 convolution")
        .show_default()
        .check_one_of({"transposed", "upsample"});
    command_line
        .add_option("--discriminator", discriminator,
                    "dcgan: two strided 4x4 convolutions with BatchNorm; small: two 3x3 convolutions with max pooling")
        .show_default()
        .check_one_of({"dcgan", "small"});
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;
    return xgan_examples::run_image_example(argc, argv, s, "04_dcgan", [&] {
        return xgan_examples::with_optimizer(s, [&]<class O>() {
            return generator == "upsample" ? train_with<UpsampleGenerator, O>(s, discriminator)
                                           : train_with<TransposedGenerator, O>(s, discriminator);
        });
    });
}
