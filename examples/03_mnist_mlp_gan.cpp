// 03_mnist_mlp_gan: the MNIST GAN with fully connected networks, from the Keras
// tutorials (docs/tutorial/training-on-images.md walks through it).
//
// G turns 100 random numbers into a 28x28 image; D scores 784 pixels. Both are plain
// stacks of Dense layers with LeakyReLU(0.2); D adds Dropout(0.3), G ends in Tanh
// because the pixels are scaled to [-1, 1]. One step trains D on 128 real images
// (labelled 0.9: one-sided label smoothing) and 128 generated ones (labelled 0), then G
// through the frozen D on fresh noise (labelled 1: the non-saturating loss), with
// Adam(lr 2e-4, beta1 0.5) for both. --batchnorm adds BatchNorm between G's layers,
// as one of the tutorials does to steady training.
//
// It reads Fashion-MNIST from Debian's dataset-fashion-mnist package unless --data
// points at other IDX files (real MNIST: train-images-idx3-ubyte[.gz]). While it trains
// it shows a progress bar, appends the monitors to a CSV log (with, every --fcd-every
// steps, the Frechet classifier distance of G's samples: docs/reference/metrics.md)
// and every --grid-every
// steps writes a grid of samples from one fixed noise batch (so the grids can be
// compared over time) and a checkpoint; at the end it plots the monitors. --resume
// continues a run from its checkpoint, with the same result as an uninterrupted run:
// the log loses the rows a killed run wrote after its last checkpoint, which the
// resumed run writes again.
//
// A run never writes over another: it refuses an --output folder that is not empty,
// unless --resume continues the run there or --overwrite deletes that run's files
// (checkpoint.npz, log.csv, training.png, samples_*.png; other files stay).
//
//   03_mnist_mlp_gan                                   # 5,000 steps into mnist_gan/
//   03_mnist_mlp_gan --epochs 50 --batchnorm --output bn_run
//   03_mnist_mlp_gan --resume mnist_gan/checkpoint.npz --steps 10000
//   03_mnist_mlp_gan --overwrite                       # a new run into mnist_gan/
//   03_mnist_mlp_gan --data ~/mnist/train-images-idx3-ubyte.gz
//   mpirun -np 2 03_mnist_mlp_gan --distributed --batch 64   # 2 ranks x 64 images a step

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <ratio>
#include <string>
#include <string_view>

#include <xgan/init/initializers.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/dropout.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"
#include "support/image_gan_training.hpp"
#include "support/image_run.hpp"

namespace {

using namespace xgan;

constexpr std::size_t latent = 100;  // random_dim
constexpr std::size_t pixels = 784;  // 28 x 28

// Keras' Dense initialises with Glorot-uniform weights and zero biases.
template <std::size_t In, std::size_t Out>
using KerasDense = Dense<In, Out, init::XavierUniform>;
// Keras' BatchNormalization: momentum 0.99 (PyTorch's 0.01), epsilon 1e-3.
using KerasBatchNorm = BatchNormWith<std::ratio<1, 100>, std::ratio<1, 1000>>;

using Generator = Sequential<KerasDense<latent, 256>, LeakyReLU, KerasDense<256, 512>, LeakyReLU,
                             KerasDense<512, 1024>, LeakyReLU, KerasDense<1024, pixels>, Tanh>;
using GeneratorWithBatchNorm =
    Sequential<KerasDense<latent, 256>, KerasBatchNorm, LeakyReLU, KerasDense<256, 512>, KerasBatchNorm, LeakyReLU,
               KerasDense<512, 1024>, KerasBatchNorm, LeakyReLU, KerasDense<1024, pixels>, Tanh>;
using Discriminator =
    Sequential<KerasDense<pixels, 1024>, LeakyReLU, DropoutWithRate<3, 10>, KerasDense<1024, 512>, LeakyReLU,
               DropoutWithRate<3, 10>, KerasDense<512, 256>, LeakyReLU, DropoutWithRate<3, 10>, KerasDense<256, 1>,
               Sigmoid>;

// The data set a run trained on, for its plot's title: the default Fashion-MNIST, or
// what --data names.
std::string data_name(const std::string& path) {
    const auto has = [&](std::string_view word) {
        return std::search(path.begin(), path.end(), word.begin(), word.end(),
                           [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }) != path.end();
    };
    if (has("fashion")) return "Fashion-MNIST";
    if (has("mnist")) return "MNIST";
    return path.substr(path.find_last_of('/') + 1);
}

// Trains G against Discriminator as the header says (support/image_gan_training.hpp),
// with Adam, or under --distributed mpi::Allreduce<Adam>.
template <class G, class O>
int train(const xgan_examples::ImageRunSettings& s) {
    using Trainer = AdversarialTrainer<G, Discriminator, O, O, NonSaturatingLoss>;
    const O adam = xgan_examples::optimizer<O>({.lr = 2e-4, .beta1 = 0.5});
    const std::string networks = "G " + describe<G>() + ", " + std::to_string(G::parameter_count) + " parameters\nD " +
                                 describe<Discriminator>() + ", " + std::to_string(Discriminator::parameter_count) +
                                 " parameters\n";
    return xgan_examples::train_on_images<Trainer>(
        s, {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = NonSaturatingLoss{.real_label = 0.9}},
        networks, "MNIST MLP GAN on " + data_name(s.data));
}

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::ImageRunSettings s;
    s.data = std::string(fashion_mnist::train_images);
    s.steps = 5000;
    s.batch = 128;
    s.output = "mnist_gan";
    s.grid_every = 500;
    bool batchnorm = false;
    xgan_examples::CommandLine command_line("MNIST MLP GAN (Keras tutorials' Example 3) on Fashion-MNIST or MNIST");
    xgan_examples::add_image_run_options(command_line, s, "initialisation, noise, dropout and data order");
    command_line.add_flag("--batchnorm", batchnorm, "Put BatchNorm between the generator's layers");
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;
    return xgan_examples::run_image_example(argc, argv, s, "03_mnist_mlp_gan", [&] {
        return xgan_examples::with_optimizer(s, [&]<class O>() {
            return batchnorm ? train<GeneratorWithBatchNorm, O>(s) : train<Generator, O>(s);
        });
    });
}
