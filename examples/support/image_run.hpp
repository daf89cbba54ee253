// What Examples 03 and 04 share before training starts: the settings of a run on an
// image dataset, their command-line options, and the rules of the folder a run writes.
//
// A folder belongs to one run: its checkpoint, log, plot and sample grids. A fresh run
// refuses a folder that holds anything unless --resume continues the run there or
// --overwrite deletes that run's files first (a file the user put there stays).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "command_line.hpp"

// The classifier file of the Frechet classifier distance (examples/CMakeLists.txt sets it).
#ifndef XGAN_EXAMPLES_CLASSIFIER
#define XGAN_EXAMPLES_CLASSIFIER "fashion_mnist_classifier.npz"
#endif

namespace xgan_examples {

// One run: each example sets its own defaults.
struct ImageRunSettings {
    std::string data;          // IDX images file
    std::uint64_t steps = 0;   // train until this many steps in total
    std::uint64_t epochs = 0;  // if set, replaces steps: epochs * batches per epoch
    std::size_t batch = 0;     // real (and generated) images per step
    std::uint64_t seed = 1;
    std::size_t threads = 1;   // xgan::set_threads: xgan's own loops and the convolutions
    std::string output;        // the run's folder
    std::uint64_t grid_every = 0;
    std::string resume;        // checkpoint to continue from, or empty
    bool overwrite = false;
    // The Frechet classifier distance logged every fcd_every steps (0: never), of
    // fcd_samples samples, with this classifier (support/image_quality.hpp).
    std::uint64_t fcd_every = 500;
    std::size_t fcd_samples = 5000;
    std::string classifier = XGAN_EXAMPLES_CLASSIFIER;
    bool distributed = false;  // one of N ranks under mpirun: --batch rows per rank
};

// --data, --steps, --epochs, --batch, --seed, --threads, --output, --grid-every, --resume,
// --overwrite and --distributed, in that order, writing into `settings` (whose values --help shows as
// the defaults). seed_use: what the seed fixes, for --help ("initialisation, noise and
// data order").
void add_image_run_options(CommandLine& command_line, ImageRunSettings& settings, const std::string& seed_use);

// A file a run writes into its folder (checkpoint.npz, log.csv, training.png, fcd.png,
// samples_<step>.png with the step in 6 digits or more, and under --distributed
// checkpoint.ranks-<step>.npz), or a temporary file
// ("NAME.tmp...") a save interrupted by a crash leaves beside one: what --overwrite deletes.
bool written_by_a_run(const std::filesystem::path& file);

// Throws std::invalid_argument, before anything is written, unless --output is new, an
// empty folder, or a folder that --resume continues or --overwrite clears; the two
// exclude each other. The message names the folder, a few of its entries and the three
// ways on.
void check_output_folder(const ImageRunSettings& settings);

// --overwrite: deletes the previous run's files in `folder` (written_by_a_run) and says
// how many on stdout; other files stay.
void delete_previous_run(const std::filesystem::path& folder);

}  // namespace xgan_examples
