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
// it shows a progress bar, appends the monitors to a CSV log and every --grid-every
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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <ratio>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/init/initializers.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/image_grid.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/io/training_plot.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/dropout.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/step_stats.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"

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

struct Settings {
    std::string data = std::string(fashion_mnist::train_images);
    std::uint64_t steps = 5000;
    std::uint64_t epochs = 0;  // if set, replaces steps: epochs * batches per epoch
    std::size_t batch = 128;
    std::uint64_t seed = 1;
    std::string output = "mnist_gan";
    std::uint64_t grid_every = 500;
    std::string resume;
    bool overwrite = false;
    bool batchnorm = false;
};

// The files a run writes into its folder, and the temporary files ("NAME.tmp...") a
// save interrupted by a crash leaves beside them: what --overwrite deletes.
bool written_by_a_run(const std::filesystem::path& file) {
    const std::string name = file.filename().string();
    const auto is = [](std::string_view file_name, std::string_view written) {
        return file_name == written ||
               (file_name.starts_with(written) && file_name.substr(written.size()).starts_with(".tmp"));
    };
    // samples_<step>.png, the step in 6 digits or more
    const std::size_t digits_end = std::min(name.find_first_not_of("0123456789", 8), name.size());
    const bool samples = name.starts_with("samples_") && digits_end >= 14 &&
                         is(std::string_view(name).substr(digits_end), ".png");
    return is(name, "checkpoint.npz") || is(name, "log.csv") || is(name, "training.png") || samples;
}

// A fresh run into a folder holding another run would replace that run's checkpoint and
// append to its log, so an --output folder must be new or empty unless --resume or
// --overwrite says what to do with what is there. Checked before anything is written.
void check_output_folder(const Settings& s) {
    const std::filesystem::path out = s.output;
    if (!s.resume.empty() && s.overwrite)
        throw std::invalid_argument("--resume and --overwrite exclude each other: --resume continues the run in '" +
                                    s.output + "', --overwrite deletes it");
    std::error_code error;
    const auto status = std::filesystem::status(out, error);
    if (!std::filesystem::exists(status)) return;
    if (!std::filesystem::is_directory(status))
        throw std::invalid_argument("--output '" + s.output + "' is not a folder");
    if (!s.resume.empty() || s.overwrite) return;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(out)) names.push_back(entry.path().filename().string());
    if (names.empty()) return;
    std::string listed;
    for (std::size_t i = 0; i < names.size() && i < 3; ++i) listed += (i ? ", " : "") + names[i];
    if (names.size() > 3) listed += ", ... (" + std::to_string(names.size()) + " entries)";
    throw std::invalid_argument("output folder '" + s.output + "' is not empty (" + listed +
                                "): give --resume " + (out / "checkpoint.npz").string() +
                                " to continue its run, --overwrite to delete that run's files, or another --output");
}

// --overwrite: deletes the previous run's files; a file the user put there stays.
void delete_previous_run(const std::filesystem::path& out) {
    std::error_code error;
    if (!std::filesystem::is_directory(out, error)) return;
    std::vector<std::filesystem::path> doomed;
    for (const auto& entry : std::filesystem::directory_iterator(out))
        if (entry.is_regular_file() && written_by_a_run(entry.path())) doomed.push_back(entry.path());
    for (const auto& file : doomed) std::filesystem::remove(file);
    if (!doomed.empty())
        std::printf("--overwrite: deleted %zu file(s) of the previous run in %s\n", doomed.size(),
                    out.string().c_str());
}

// Each epoch's order comes from its own Rng, seeded from the run's seed and the epoch,
// so a resumed run can rebuild the data order from the step count alone.
Rng epoch_rng(std::uint64_t seed, std::uint64_t epoch) { return Rng(seed * 0x9E3779B97F4A7C15ull + epoch + 1); }

template <class G>
int train(const Settings& s) {
    using Trainer = AdversarialTrainer<G, Discriminator, Adam, Adam, NonSaturatingLoss>;
    const std::filesystem::path out = s.output;
    const auto checkpoint = out / "checkpoint.npz";

    ImageDataset data(s.data);
    data.check_input_size<Discriminator>();  // 784 at compile time vs the file's images
    const std::size_t batches_per_epoch = data.batches_per_epoch(s.batch);
    if (batches_per_epoch == 0)
        throw std::invalid_argument(s.data + " holds fewer images than one batch of " + std::to_string(s.batch));

    const std::uint64_t total_steps = s.epochs > 0 ? s.epochs * batches_per_epoch : s.steps;

    const Adam adam{.lr = 2e-4, .beta1 = 0.5};
    Trainer trainer({.generator_optimizer = adam,
                     .discriminator_optimizer = adam,
                     .loss = NonSaturatingLoss{.real_label = 0.9},
                     .seed = s.seed});
    if (!s.resume.empty()) {
        load_checkpoint(trainer, s.resume);
        std::printf("resumed %s at step %llu\n", s.resume.c_str(), static_cast<unsigned long long>(trainer.steps()));
    }

    // Puts the data where the step count says it is: the current epoch's order, and as
    // many of its batches drawn as steps have passed in it.
    matrix<float> real({s.batch, pixels});
    Rng order_rng = epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
    for (std::uint64_t i = 0; i < trainer.steps() % batches_per_epoch; ++i) data.next_batch(real, order_rng);

    // One fixed noise batch for every grid, independent of the training's Rng.
    matrix<float> grid_noise({64, latent});
    Rng(s.seed + 1).fill_normal(std::span<float>(grid_noise.data(), grid_noise.size()));

    std::printf("%s: %zu images of %zux%zu, %zu batches of %zu per epoch\n", s.data.c_str(), data.size(), data.rows(),
                data.cols(), batches_per_epoch, s.batch);
    std::printf("G %s, %zu parameters\nD %s, %zu parameters\n", describe<G>().c_str(), G::parameter_count,
                describe<Discriminator>().c_str(), Discriminator::parameter_count);

    // Everything read and checked: only now touch the output folder.
    if (s.overwrite) delete_previous_run(out);
    std::filesystem::create_directories(out);
    CsvLog log(out / "log.csv");
    if (const std::size_t removed = log.truncate_after(trainer.steps()))
        std::printf("%s: removed the %zu row(s) logged after step %llu, the checkpoint's\n",
                    log.path().string().c_str(), removed, static_cast<unsigned long long>(trainer.steps()));
    Progress progress(total_steps, std::cerr, {.start_step = trainer.steps(), .label = "training"});
    std::filesystem::path last_grid;
    while (trainer.steps() < total_steps) {
        if (trainer.steps() % batches_per_epoch == 0) order_rng = epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
        data.next_batch(real, order_rng);
        const StepStats stats = trainer.step(real);
        log.append(stats);
        char extra[96];
        std::snprintf(extra, sizeof extra, "D(real) %.3f  D score %.3f  G loss %.3f", stats.d_accuracy, stats.d_score,
                      stats.g_loss);
        progress.update(stats.step, extra);
        if (stats.step % s.grid_every == 0 || stats.step == total_steps) {
            char name[64];
            std::snprintf(name, sizeof name, "samples_%06llu.png", static_cast<unsigned long long>(stats.step));
            last_grid = out / name;
            save_image_grid(last_grid, trainer.generate(grid_noise), 28, 28, 8, {}, {.scale = 2});
            save_checkpoint(trainer, checkpoint);
        }
    }
    progress.finish();
    save_training_plot(out / "training.png", read_csv_log(out / "log.csv"), {.title = "MNIST MLP GAN"});
    std::printf("wrote %s (last samples), %s, %s and %s\n", last_grid.string().c_str(),
                (out / "training.png").string().c_str(), (out / "log.csv").string().c_str(),
                checkpoint.string().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    xgan_examples::CommandLine command_line("MNIST MLP GAN (Keras tutorials' Example 3) on Fashion-MNIST or MNIST");
    command_line.add_option("--data", s.data, "IDX images file (raw or .gz)").show_default();
    command_line.add_option("--steps", s.steps, "Train until this many steps in total")
        .show_default()
        .check_range(1, 100000000);
    command_line.add_option("--epochs", s.epochs, "Train for this many epochs in total instead (overrides --steps)")
        .check_range(1, 100000);
    command_line.add_option("--batch", s.batch, "Real (and generated) images per step")
        .show_default()
        .check_range(2, 60000);
    command_line.add_option("--seed", s.seed, "Seed for initialisation, noise, dropout and data order").show_default();
    command_line
        .add_option("--output", s.output,
                    "Folder for samples, log, plot and checkpoint; must be new or empty unless --resume or --overwrite")
        .show_default();
    command_line.add_option("--grid-every", s.grid_every, "Write a sample grid and a checkpoint every N steps")
        .show_default()
        .check_range(1, 100000000);
    command_line
        .add_option("--resume", s.resume,
                    "Continue from this checkpoint; log.csv rows past its step (a killed run's) are removed")
        .check_existing_file();
    command_line.add_flag("--overwrite", s.overwrite,
                          "Delete the previous run's checkpoint.npz, log.csv, training.png and samples_*.png in "
                          "--output first; other files stay");
    command_line.add_flag("--batchnorm", s.batchnorm, "Put BatchNorm between the generator's layers");
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;
    try {
        check_output_folder(s);
        return s.batchnorm ? train<GeneratorWithBatchNorm>(s) : train<Generator>(s);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "03_mnist_mlp_gan: %s\n", e.what());
        return 1;
    }
}
