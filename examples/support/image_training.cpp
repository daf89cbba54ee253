// The training loop of Examples 03 and 04 (see image_gan_training.hpp), compiled once for
// every pair of networks they train.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xgan/io/csv_log.hpp>
#include <xgan/io/image_grid.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/io/training_plot.hpp>

#include "image_gan_training.hpp"
#include "image_quality.hpp"

namespace xgan_examples {

void check_image_data(const ImageRunSettings& s, const xgan::ImageDataset& data, std::size_t rows_per_step) {
    if (data.batches_per_epoch(rows_per_step) == 0)
        throw std::invalid_argument(s.data + " holds fewer images than one batch of " + std::to_string(rows_per_step));
}

int train_image_gan(const ImageRunSettings& s, xgan::ImageDataset& data, ImageGan& gan, const ImageGanRun& run,
                    const std::string& networks, const std::string& plot_title) {
    const std::filesystem::path out = s.output;
    const auto checkpoint = out / "checkpoint.npz";
    const bool writer = run.writer;
    const std::size_t global_batch = s.batch * run.ranks;  // rows per step, over all ranks
    const std::size_t batches_per_epoch = data.batches_per_epoch(global_batch);
    const std::uint64_t total_steps = s.epochs > 0 ? s.epochs * batches_per_epoch : s.steps;

    // Reads the classifier before the folder is touched; under --distributed rank 0 alone
    // measures the FCD, so the other ranks neither read the classifier nor spend the time
    // to pass the training images through it.
    ImageRunSettings fcd_settings = s;
    if (!writer) fcd_settings.fcd_every = 0;
    const FcdMonitor fcd(fcd_settings, data, run.latent);

    // Puts the data where the step count says it is: the current epoch's order, and as
    // many of its batches drawn as steps have passed in it. Under --distributed every
    // rank draws the whole step's rows and keeps its own (take_shard).
    xgan::matrix<float> rows({global_batch, data.sample_size()});
    xgan::Rng order_rng = epoch_rng(s.seed, gan.steps() / batches_per_epoch);
    for (std::uint64_t i = 0; i < gan.steps() % batches_per_epoch; ++i) data.next_batch(rows, order_rng);

    // One fixed noise batch for every grid, independent of the training's Rng.
    xgan::matrix<float> grid_noise({64, run.latent});
    xgan::Rng(s.seed + 1).fill_normal(std::span<float>(grid_noise.data(), grid_noise.size()));

    if (writer) {
        std::printf("%s: %zu images of %zux%zu, %zu batches of %zu per epoch", s.data.c_str(), data.size(), data.rows(),
                    data.cols(), batches_per_epoch, global_batch);
        if (run.distributed) std::printf(" (%zu rank%s x %zu)", run.ranks, run.ranks == 1 ? "" : "s", s.batch);
        std::printf("\n");
        std::fputs(networks.c_str(), stdout);
    }

    // Everything read and checked: only now touch the output folder (rank 0's alone).
    if (writer && s.overwrite) delete_previous_run(out);
    if (writer) std::filesystem::create_directories(out);
    std::optional<xgan::CsvLog> log;
    if (writer) {
        log.emplace(out / "log.csv", std::vector<std::string>{"fcd"});
        if (const std::size_t removed = log->truncate_after(gan.steps()))
            std::printf("%s: removed the %zu row(s) logged after step %llu, the checkpoint's\n",
                        log->path().string().c_str(), removed, static_cast<unsigned long long>(gan.steps()));
    }
    std::ostringstream elsewhere;  // the other ranks' progress bar goes nowhere
    xgan::Progress progress(total_steps, writer ? static_cast<std::ostream&>(std::cerr) : elsewhere,
                            {.start_step = gan.steps(), .label = "training"});
    std::filesystem::path last_grid;
    double last_fcd = std::numeric_limits<double>::quiet_NaN();
    while (gan.steps() < total_steps) {
        if (gan.steps() % batches_per_epoch == 0) order_rng = epoch_rng(s.seed, gan.steps() / batches_per_epoch);
        data.next_batch(rows, order_rng);
        const xgan::StepStats stats = gan.step(rows);
        const double distance =
            writer && fcd.due(stats.step) ? fcd.measure(gan) : std::numeric_limits<double>::quiet_NaN();
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
                xgan::save_image_grid(last_grid, gan.generate(grid_noise), data.rows(), data.cols(), 8, {},
                                      {.scale = 2});
            gan.save(checkpoint);
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
