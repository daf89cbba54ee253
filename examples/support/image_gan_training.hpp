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
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>

#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/image_grid.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/io/training_plot.hpp>
#include <xgan/train/step_stats.hpp>

#include "image_run.hpp"

namespace xgan_examples {

// Each epoch's order comes from its own Rng, seeded from the run's seed and the epoch,
// so a resumed run can rebuild the data order from the step count alone.
inline xgan::Rng epoch_rng(std::uint64_t seed, std::uint64_t epoch) {
    return xgan::Rng(seed * 0x9E3779B97F4A7C15ull + epoch + 1);
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

    xgan::ImageDataset data(s.data);
    data.check_input_size<D>();  // D's input size at compile time vs the file's images
    using image = typename D::input_shape;
    if constexpr (xgan::ImageShape<image>)
        if (data.rows() != image::height || data.cols() != image::width)
            throw std::invalid_argument("the discriminator reads " + image::text() + " images but " + s.data +
                                        " holds " + std::to_string(data.rows()) + "x" + std::to_string(data.cols()) +
                                        " images");
    const std::size_t batches_per_epoch = data.batches_per_epoch(s.batch);
    if (batches_per_epoch == 0)
        throw std::invalid_argument(s.data + " holds fewer images than one batch of " + std::to_string(s.batch));

    const std::uint64_t total_steps = s.epochs > 0 ? s.epochs * batches_per_epoch : s.steps;

    options.seed = s.seed;
    Trainer trainer(options);
    if (!s.resume.empty()) {
        xgan::load_checkpoint(trainer, s.resume);
        std::printf("resumed %s at step %llu\n", s.resume.c_str(), static_cast<unsigned long long>(trainer.steps()));
    }

    // Puts the data where the step count says it is: the current epoch's order, and as
    // many of its batches drawn as steps have passed in it.
    xgan::matrix<T> real({s.batch, D::input_size});
    xgan::Rng order_rng = epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
    for (std::uint64_t i = 0; i < trainer.steps() % batches_per_epoch; ++i) data.next_batch(real, order_rng);

    // One fixed noise batch for every grid, independent of the training's Rng.
    xgan::matrix<T> grid_noise({64, G::input_size});
    xgan::Rng(s.seed + 1).fill_normal(std::span<T>(grid_noise.data(), grid_noise.size()));

    std::printf("%s: %zu images of %zux%zu, %zu batches of %zu per epoch\n", s.data.c_str(), data.size(), data.rows(),
                data.cols(), batches_per_epoch, s.batch);
    std::fputs(networks.c_str(), stdout);

    // Everything read and checked: only now touch the output folder.
    if (s.overwrite) delete_previous_run(out);
    std::filesystem::create_directories(out);
    xgan::CsvLog log(out / "log.csv");
    if (const std::size_t removed = log.truncate_after(trainer.steps()))
        std::printf("%s: removed the %zu row(s) logged after step %llu, the checkpoint's\n",
                    log.path().string().c_str(), removed, static_cast<unsigned long long>(trainer.steps()));
    xgan::Progress progress(total_steps, std::cerr, {.start_step = trainer.steps(), .label = "training"});
    std::filesystem::path last_grid;
    while (trainer.steps() < total_steps) {
        if (trainer.steps() % batches_per_epoch == 0) order_rng = epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
        data.next_batch(real, order_rng);
        const xgan::StepStats stats = trainer.step(real);
        log.append(stats);
        char extra[96];
        std::snprintf(extra, sizeof extra, "D(real) %.3f  D score %.3f  G loss %.3f", stats.d_accuracy, stats.d_score,
                      stats.g_loss);
        progress.update(stats.step, extra);
        if (stats.step % s.grid_every == 0 || stats.step == total_steps) {
            char name[64];
            std::snprintf(name, sizeof name, "samples_%06llu.png", static_cast<unsigned long long>(stats.step));
            last_grid = out / name;
            xgan::save_image_grid(last_grid, trainer.generate(grid_noise), data.rows(), data.cols(), 8, {},
                                  {.scale = 2});
            xgan::save_checkpoint(trainer, checkpoint);
        }
    }
    progress.finish();
    xgan::save_training_plot(out / "training.png", xgan::read_csv_log(out / "log.csv"), {.title = plot_title});
    std::printf("wrote %s (last samples), %s, %s and %s\n", last_grid.string().c_str(),
                (out / "training.png").string().c_str(), (out / "log.csv").string().c_str(),
                checkpoint.string().c_str());
    return 0;
}

}  // namespace xgan_examples
