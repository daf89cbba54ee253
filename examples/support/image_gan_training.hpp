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
// resumed run writes again.
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
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/image_grid.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/io/training_plot.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/step_stats.hpp>

#ifdef XGAN_EXAMPLES_MPI
#include <xgan/distributed/mpi.hpp>
#endif

#include "image_quality.hpp"
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

// Trains a Trainer (an xgan::AdversarialTrainer) as the header says. options.seed is
// set from the settings. `networks` is printed after the line describing the data (the
// networks' descriptions); `plot_title` heads training.png. Throws on bad data or a
// checkpoint that does not fit, before the output folder is touched.
template <class Trainer>
int train_on_images(const ImageRunSettings& s, typename Trainer::Options options, const std::string& networks,
                    const std::string& plot_title) {
    using G = typename Trainer::generator_type;
    using D = typename Trainer::discriminator_type;
    using T = typename Trainer::value_type;
    const std::filesystem::path out = s.output;
    const auto checkpoint = out / "checkpoint.npz";
    constexpr bool distributed = distributed_v<Trainer>;
    std::size_t ranks = 1;
    bool writer = true;  // the rank that prints and writes the folder's files
#ifdef XGAN_EXAMPLES_MPI
    if constexpr (distributed) {
        ranks = static_cast<std::size_t>(xgan::mpi::size());
        writer = xgan::mpi::rank() == 0;
    }
#endif
    const std::size_t global_batch = s.batch * ranks;  // rows per step, over all ranks

    xgan::ImageDataset data(s.data);
    data.check_input_size<D>();  // D's input size at compile time vs the file's images
    using image = typename D::input_shape;
    if constexpr (xgan::ImageShape<image>)
        if (data.rows() != image::height || data.cols() != image::width)
            throw std::invalid_argument("the discriminator reads " + image::text() + " images but " + s.data +
                                        " holds " + std::to_string(data.rows()) + "x" + std::to_string(data.cols()) +
                                        " images");
    const std::size_t batches_per_epoch = data.batches_per_epoch(global_batch);
    if (batches_per_epoch == 0)
        throw std::invalid_argument(s.data + " holds fewer images than one batch of " + std::to_string(global_batch));

    const std::uint64_t total_steps = s.epochs > 0 ? s.epochs * batches_per_epoch : s.steps;
    // Reads the classifier before the folder is touched; under --distributed rank 0 alone
    // measures the FCD, so the other ranks neither read the classifier nor spend the time
    // to pass the training images through it.
    ImageRunSettings fcd_settings = s;
    if (!writer) fcd_settings.fcd_every = 0;
    const FcdMonitor<T, G::input_size> fcd(fcd_settings, data);

    options.seed = s.seed;
    Trainer trainer(options);
    // Under --distributed: every rank a replica of the same networks with its own noise,
    // checkpoints with every rank's Rng, and the monitors of the whole N x --batch step
    // (each rank's means, averaged).
    auto save = [&] {
#ifdef XGAN_EXAMPLES_MPI
        if constexpr (distributed) return xgan::mpi::save_checkpoint(trainer, checkpoint);
#endif
        xgan::save_checkpoint(trainer, checkpoint);
    };
    auto step = [&](const xgan::matrix<T>& rows, xgan::matrix<T>& real) {
#ifdef XGAN_EXAMPLES_MPI
        if constexpr (distributed) {
            xgan::mpi::take_shard(rows, real);
            xgan::StepStats stats = trainer.step(real);
            xgan::mpi::average_buffers(trainer);  // BatchNorm's running statistics
            double values[4] = {stats.d_loss, stats.d_accuracy, stats.g_loss, stats.d_fake};
            MPI_Allreduce(MPI_IN_PLACE, values, 4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            for (double& v : values) v /= static_cast<double>(ranks);
            stats.d_loss = values[0];
            stats.d_score = -values[0];
            stats.d_accuracy = values[1];
            stats.g_loss = values[2];
            stats.d_fake = values[3];
            return stats;
        }
#endif
        (void)real;
        return trainer.step(rows);
    };
#ifdef XGAN_EXAMPLES_MPI
    if constexpr (distributed) {
        if (s.resume.empty()) xgan::mpi::prepare(trainer, s.seed);
        else xgan::mpi::load_checkpoint(trainer, s.resume);
    }
#endif
    if (!s.resume.empty()) {
        if constexpr (!distributed) xgan::load_checkpoint(trainer, s.resume);
        if (writer)
            std::printf("resumed %s at step %llu\n", s.resume.c_str(), static_cast<unsigned long long>(trainer.steps()));
    }

    // Puts the data where the step count says it is: the current epoch's order, and as
    // many of its batches drawn as steps have passed in it. Under --distributed every
    // rank draws the whole step's rows and keeps its own (take_shard).
    xgan::matrix<T> rows({global_batch, D::input_size});
    xgan::matrix<T> real({s.batch, D::input_size});
    xgan::Rng order_rng = epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
    for (std::uint64_t i = 0; i < trainer.steps() % batches_per_epoch; ++i) data.next_batch(rows, order_rng);

    // One fixed noise batch for every grid, independent of the training's Rng.
    xgan::matrix<T> grid_noise({64, G::input_size});
    xgan::Rng(s.seed + 1).fill_normal(std::span<T>(grid_noise.data(), grid_noise.size()));

    if (writer) {
        std::printf("%s: %zu images of %zux%zu, %zu batches of %zu per epoch", s.data.c_str(), data.size(), data.rows(),
                    data.cols(), batches_per_epoch, global_batch);
        if (distributed) std::printf(" (%zu rank%s x %zu)", ranks, ranks == 1 ? "" : "s", s.batch);
        std::printf("\n");
        std::fputs(networks.c_str(), stdout);
    }

    // Everything read and checked: only now touch the output folder (rank 0's alone).
    if (writer && s.overwrite) delete_previous_run(out);
    if (writer) std::filesystem::create_directories(out);
    std::optional<xgan::CsvLog> log;
    if (writer) {
        log.emplace(out / "log.csv", std::vector<std::string>{"fcd"});
        if (const std::size_t removed = log->truncate_after(trainer.steps()))
            std::printf("%s: removed the %zu row(s) logged after step %llu, the checkpoint's\n",
                        log->path().string().c_str(), removed, static_cast<unsigned long long>(trainer.steps()));
    }
    std::ostringstream elsewhere;  // the other ranks' progress bar goes nowhere
    xgan::Progress progress(total_steps, writer ? static_cast<std::ostream&>(std::cerr) : elsewhere,
                            {.start_step = trainer.steps(), .label = "training"});
    std::filesystem::path last_grid;
    double last_fcd = std::numeric_limits<double>::quiet_NaN();
    while (trainer.steps() < total_steps) {
        if (trainer.steps() % batches_per_epoch == 0) order_rng = epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
        data.next_batch(rows, order_rng);
        const xgan::StepStats stats = step(rows, real);
        const double distance = writer && fcd.due(stats.step) ? fcd.measure(trainer)
                                                              : std::numeric_limits<double>::quiet_NaN();
        if (std::isfinite(distance)) last_fcd = distance;
        if (writer) log->append(stats, {distance});
        char extra[96];
        const int used = std::snprintf(extra, sizeof extra, "D(real) %.3f  D score %.3f  G loss %.3f",
                                       stats.d_accuracy, stats.d_score, stats.g_loss);
        if (std::isfinite(last_fcd) && used > 0 && static_cast<std::size_t>(used) < sizeof extra)
            std::snprintf(extra + used, sizeof extra - static_cast<std::size_t>(used), "  FCD %.1f", last_fcd);
        progress.update(stats.step, extra);
        if (stats.step % s.grid_every == 0 || stats.step == total_steps) {
            char name[64];
            std::snprintf(name, sizeof name, "samples_%06llu.png", static_cast<unsigned long long>(stats.step));
            last_grid = out / name;
            if (writer)
                xgan::save_image_grid(last_grid, trainer.generate(grid_noise), data.rows(), data.cols(), 8, {},
                                      {.scale = 2});
            save();
        }
    }
    progress.finish();
    if (!writer) return 0;
    log.reset();
    const xgan::TrainingLog written = xgan::read_csv_log(out / "log.csv");
    xgan::save_training_plot(out / "training.png", written, {.title = plot_title});
    bool measured = false;
    for (const xgan::LogRow& row : written.rows) measured = measured || std::isfinite(row.extra.at(0));
    if (measured) {
        xgan::save_column_plot(out / "fcd.png", written, "fcd",
                               {.title = plot_title + ": FCD, lower is better",
                                .y_label = "FCD, " + std::to_string(s.fcd_samples) + " samples"});
        std::printf("wrote %s (the FCD, last %.2f)\n", (out / "fcd.png").string().c_str(), last_fcd);
    }
    std::printf("wrote %s (last samples), %s, %s and %s\n", last_grid.string().c_str(),
                (out / "training.png").string().c_str(), (out / "log.csv").string().c_str(),
                checkpoint.string().c_str());
    return 0;
}

}  // namespace xgan_examples
