// The training loop of Examples 03 and 04: a GAN on an image dataset, with everything a
// long run needs.
//
// train_on_images<Trainer>(settings, options, networks, title) reads the dataset, builds
// the trainer (or resumes it from --resume), and trains until --steps (or --epochs)
// steps in total. It shows a progress bar, appends each step's monitors to log.csv, and
// every --grid-every steps (and at the last) writes samples_<step>.png, a grid of G's
// images from one fixed noise batch, and an atomic checkpoint.npz; at the end it plots
// the log into training.png. A resumed run equals an uninterrupted one: the checkpoint
// holds the trainer's whole state and the data order follows from the seed and the step
// count; the log loses the rows a killed run wrote after its last checkpoint, which the
// resumed run writes again. train_on_images builds the trainer and resumes it; the loop
// itself is train_image_gan's (support/image_training.cpp), compiled once in the examples'
// support library, which sees the trainer as an ImageGan.
//
// Every --fcd-every steps the log's column fcd holds the Frechet classifier distance of
// --fcd-samples samples (support/image_quality.hpp; nan on the other rows), the progress
// bar shows the last one, and fcd.png plots them at the end.
//
// --distributed (where the examples are built with MPI: XGAN_EXAMPLES_MPI): the program
// is one of N ranks mpirun starts (docs/tutorial/distributed.md). Every rank reads the
// dataset and draws the same batches of N x --batch images, keeps its own --batch of
// them (mpi::take_shard) and its own noise, and the optimizers average the gradients
// over the ranks (mpi::Allreduce<Adam>). The log holds the monitors averaged over the
// ranks, and so are BatchNorm's running statistics after each step (each rank
// normalises its own rows); rank 0 alone writes the folder's files, and mpi::save_checkpoint adds every
// rank's Rng beside the checkpoint. An error on any rank ends the job, naming the rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/step_stats.hpp>

#ifdef XGAN_EXAMPLES_MPI
#include <xgan/distributed/mpi.hpp>
#endif

#include "image_run.hpp"

namespace xgan_examples {

// Each epoch's order comes from its own Rng, seeded from the run's seed and the epoch,
// so a resumed run can rebuild the data order from the step count alone.
inline xgan::Rng epoch_rng(std::uint64_t seed, std::uint64_t epoch) {
    return xgan::Rng(seed * 0x9E3779B97F4A7C15ull + epoch + 1);
}

// Whether Trainer averages its gradients over MPI ranks (mpi::Allreduce optimizers).
template <class Trainer>
inline constexpr bool distributed_v = requires(typename Trainer::Options options) {
    options.generator_optimizer.comm;
    options.generator_optimizer.inner;
};

// The optimizer O from Adam's settings: the settings themselves, or Allreduce's inner ones.
template <class O>
O optimizer(const xgan::Adam& adam) {
    if constexpr (std::is_same_v<O, xgan::Adam>) return adam;
    else return O{.inner = adam};
}

// f.template operator()<O>() with O = Adam, or mpi::Allreduce<Adam> under --distributed.
template <class F>
int with_optimizer(const ImageRunSettings& s, F&& f) {
#ifdef XGAN_EXAMPLES_MPI
    if (s.distributed) return f.template operator()<xgan::mpi::Allreduce<xgan::Adam>>();
#endif
    (void)s;
    return f.template operator()<xgan::Adam>();
}

// An example's main after parsing: runs train() (which returns main's exit code) and
// reports an exception as "PROGRAM: what" with exit code 1. Under --distributed it
// starts MPI first, checks the output folder on rank 0 only, and ends the whole job on
// an exception from any rank, naming the rank (mpi::run). Started by mpirun with more
// than one rank but without --distributed, it refuses to train N copies into one folder.
template <class Train>
int run_image_example(int& argc, char**& argv, const ImageRunSettings& s, const char* program, Train&& train) {
    xgan::set_threads(s.threads);
    const char* ranks = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (!ranks) ranks = std::getenv("PMI_SIZE");
    if (!s.distributed && ranks && std::string(ranks) != "1") {
        std::fprintf(stderr, "%s: started as one of %s ranks (mpirun) without --distributed: add --distributed to "
                             "train one run on all of them\n", program, ranks);
        return 1;
    }
    if (s.distributed) {
#ifdef XGAN_EXAMPLES_MPI
        xgan::mpi::Environment mpi(argc, argv);
        return xgan::mpi::run([&] {
            if (mpi.rank() == 0) check_output_folder(s);
            return train();
        });
#else
        (void)argc;
        (void)argv;
        std::fprintf(stderr, "%s: --distributed: this build has no MPI (install libopenmpi-dev and configure again; "
                             "docs/dependencies.md)\n", program);
        return 1;
#endif
    }
    try {
        check_output_folder(s);
        return train();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return 1;
    }
}

// What the training loop needs of a trainer, behind virtual calls: the loop, the log, the
// plots and the grids (train_image_gan, support/image_training.cpp) are compiled once in
// the examples' support library, not once for each pair of networks an example can train.
class ImageGan {
public:
    virtual ~ImageGan() = default;
    virtual std::uint64_t steps() const = 0;
    // One step on the whole step's rows (under --distributed: this rank's share of them,
    // and the monitors averaged over the ranks).
    virtual xgan::StepStats step(const xgan::matrix<float>& rows) = 0;
    virtual xgan::matrix<float> generate(const xgan::matrix<float>& noise) = 0;
    virtual void save(const std::filesystem::path& checkpoint) = 0;
};

// What train_image_gan needs to know of a run besides its settings: the generator's noise
// size, the ranks (1 unless --distributed), and whether this rank prints and writes the
// folder's files (rank 0).
struct ImageGanRun {
    std::size_t latent = 0;
    std::size_t ranks = 1;
    bool writer = true;
    bool distributed = false;
};

// Trains gan on data as the header says (the settings' steps, output folder, grids, FCD
// and log), from the step gan is at; returns main's exit code.
int train_image_gan(const ImageRunSettings& s, xgan::ImageDataset& data, ImageGan& gan, const ImageGanRun& run,
                    const std::string& networks, const std::string& plot_title);

// Throws, before anything is written, unless data holds at least one step's rows.
void check_image_data(const ImageRunSettings& s, const xgan::ImageDataset& data, std::size_t rows_per_step);

// An AdversarialTrainer as an ImageGan.
template <class Trainer>
class TrainerImageGan final : public ImageGan {
public:
    TrainerImageGan(Trainer& trainer, std::size_t batch, std::size_t ranks)
        : trainer_(trainer), real_({batch, Trainer::discriminator_type::input_size}), ranks_(ranks) {}

    std::uint64_t steps() const override { return trainer_.steps(); }

    xgan::StepStats step(const xgan::matrix<float>& rows) override {
#ifdef XGAN_EXAMPLES_MPI
        if constexpr (distributed_v<Trainer>) {
            xgan::mpi::take_shard(rows, real_);
            xgan::StepStats stats = trainer_.step(real_);
            xgan::mpi::average_buffers(trainer_);  // BatchNorm's running statistics
            double values[4] = {stats.d_loss, stats.d_accuracy, stats.g_loss, stats.d_fake};
            MPI_Allreduce(MPI_IN_PLACE, values, 4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            for (double& v : values) v /= static_cast<double>(ranks_);
            stats.d_loss = values[0];
            stats.d_score = -values[0];
            stats.d_accuracy = values[1];
            stats.g_loss = values[2];
            stats.d_fake = values[3];
            return stats;
        }
#endif
        return trainer_.step(rows);
    }

    xgan::matrix<float> generate(const xgan::matrix<float>& noise) override { return trainer_.generate(noise); }

    void save(const std::filesystem::path& checkpoint) override {
#ifdef XGAN_EXAMPLES_MPI
        if constexpr (distributed_v<Trainer>) return xgan::mpi::save_checkpoint(trainer_, checkpoint);
#endif
        xgan::save_checkpoint(trainer_, checkpoint);
    }

private:
    Trainer& trainer_;
    [[maybe_unused]] xgan::matrix<float> real_;  // this rank's rows under --distributed
    [[maybe_unused]] std::size_t ranks_;
};

// Trains a Trainer (an xgan::AdversarialTrainer) as the header says. options.seed is
// set from the settings. `networks` is printed after the line describing the data (the
// networks' descriptions); `plot_title` heads training.png. Throws on bad data or a
// checkpoint that does not fit, before the output folder is touched.
template <class Trainer>
int train_on_images(const ImageRunSettings& s, typename Trainer::Options options, const std::string& networks,
                    const std::string& plot_title) {
    using G = typename Trainer::generator_type;
    using D = typename Trainer::discriminator_type;
    static_assert(std::is_same_v<typename Trainer::value_type, float>,
                  "the examples' training loop (support/image_training.cpp) is compiled for float");
    ImageGanRun run{.latent = G::input_size, .distributed = distributed_v<Trainer>};
#ifdef XGAN_EXAMPLES_MPI
    if constexpr (distributed_v<Trainer>) {
        run.ranks = static_cast<std::size_t>(xgan::mpi::size());
        run.writer = xgan::mpi::rank() == 0;
    }
#endif
    xgan::ImageDataset data(s.data);
    data.check_input_size<D>();  // D's input size at compile time vs the file's images
    using image = typename D::input_shape;
    if constexpr (xgan::ImageShape<image>)
        if (data.rows() != image::height || data.cols() != image::width)
            throw std::invalid_argument("the discriminator reads " + image::text() + " images but " + s.data +
                                        " holds " + std::to_string(data.rows()) + "x" + std::to_string(data.cols()) +
                                        " images");
    check_image_data(s, data, s.batch * run.ranks);

    options.seed = s.seed;
    Trainer trainer(options);
    // Under --distributed: every rank a replica of the same networks with its own noise,
    // checkpoints with every rank's Rng, and the monitors of the whole N x --batch step
    // (each rank's means, averaged).
#ifdef XGAN_EXAMPLES_MPI
    if constexpr (distributed_v<Trainer>) {
        if (s.resume.empty()) xgan::mpi::prepare(trainer, s.seed);
        else xgan::mpi::load_checkpoint(trainer, s.resume);
    }
#endif
    if (!s.resume.empty()) {
        if constexpr (!distributed_v<Trainer>) xgan::load_checkpoint(trainer, s.resume);
        if (run.writer)
            std::printf("resumed %s at step %llu\n", s.resume.c_str(), static_cast<unsigned long long>(trainer.steps()));
    }
    TrainerImageGan<Trainer> gan(trainer, s.batch, run.ranks);
    return train_image_gan(s, data, gan, run, networks, plot_title);
}

}  // namespace xgan_examples
