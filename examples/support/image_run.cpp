// The settings and the folder of a run on an image dataset (see image_run.hpp).
#include "image_run.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

namespace xgan_examples {

void add_image_run_options(CommandLine& command_line, ImageRunSettings& s, const std::string& seed_use) {
    command_line.add_option("--data", s.data, "IDX images file (raw or .gz)").show_default();
    command_line.add_option("--steps", s.steps, "Train until this many steps in total")
        .show_default()
        .check_range(1, 100000000);
    command_line.add_option("--epochs", s.epochs, "Train for this many epochs in total instead (overrides --steps)")
        .check_range(1, 100000);
    command_line.add_option("--batch", s.batch, "Real (and generated) images per step")
        .show_default()
        .check_range(2, 60000);
    command_line.add_option("--seed", s.seed, "Seed for " + seed_use).show_default();
    command_line
        .add_option("--threads", s.threads,
                    "Threads for xgan's own loops and the convolutions (xgan::set_threads); the results do not depend "
                    "on it. With convolutions, keep the BLAS on one thread (OPENBLAS_NUM_THREADS=1)")
        .show_default()
        .check_range(1, 1024);
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
    command_line.add_option("--fcd-every", s.fcd_every,
                            "Log the Frechet classifier distance (FCD) of G's samples every N steps; 0: never")
        .show_default()
        .check_range(0, 100000000);
    command_line.add_option("--fcd-samples", s.fcd_samples, "Samples the FCD is measured on")
        .show_default()
        .check_range(2, 1000000);
    command_line.add_option("--classifier", s.classifier, "The FCD's Fashion-MNIST classifier (.npz)")
        .show_default();
    command_line.add_flag("--overwrite", s.overwrite,
                          "Delete the previous run's checkpoint.npz, log.csv, training.png, fcd.png and samples_*.png in "
                          "--output first; other files stay");
    command_line.add_flag("--distributed", s.distributed,
                          "Train data-parallel as one of the ranks mpirun starts (mpirun -np N ...): each step "
                          "trains on N x --batch images, --batch on each rank");
}

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
    // checkpoint.ranks-<step>.npz (--distributed: every rank's Rng), the step in 6 digits or more
    const std::size_t ranks_end = std::min(name.find_first_not_of("0123456789", 17), name.size());
    const bool rank_states = name.starts_with("checkpoint.ranks-") && ranks_end >= 23 &&
                             is(std::string_view(name).substr(ranks_end), ".npz");
    return is(name, "checkpoint.npz") || is(name, "log.csv") || is(name, "training.png") || is(name, "fcd.png") || samples || rank_states;
}

// A fresh run into a folder holding another run would replace that run's checkpoint and
// append to its log, so the folder must be new or empty unless --resume or --overwrite
// says what to do with what is there.
void check_output_folder(const ImageRunSettings& s) {
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

void delete_previous_run(const std::filesystem::path& folder) {
    std::error_code error;
    if (!std::filesystem::is_directory(folder, error)) return;
    std::vector<std::filesystem::path> doomed;
    for (const auto& entry : std::filesystem::directory_iterator(folder))
        if (entry.is_regular_file() && written_by_a_run(entry.path())) doomed.push_back(entry.path());
    for (const auto& file : doomed) std::filesystem::remove(file);
    if (!doomed.empty())
        std::printf("--overwrite: deleted %zu file(s) of the previous run in %s\n", doomed.size(),
                    folder.string().c_str());
}

}  // namespace xgan_examples
