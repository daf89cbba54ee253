// painting_soak: the painting GAN of examples/01_painting_gan.cpp (same networks, Adam
// lr 1e-4, minimax loss, batch 64, the real paintings drawn from the trainer's Rng) with
// a checkpoint and a CSV log, for scripts/soak, which kills it at random times and
// resumes it. Not part of the test suite: a million steps take minutes.
//
//   painting_soak --steps N --checkpoint-every K --log-every L --output DIR [--seed S] [--resume]
//
// It saves DIR/checkpoint.npz every K steps and at the end, and appends a row to
// DIR/log.csv every L steps. --resume continues from DIR/checkpoint.npz if there is one
// (and starts afresh if not); either way the log is cut back to the trainer's step, so a
// run killed at any moment and resumed ends with the checkpoint and log of a run never
// killed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/train/step_stats.hpp>
#include <xgan/train/trainer.hpp>

namespace {

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<Generator, Discriminator>;

std::uint64_t positive(const char* flag, const char* text) {
    std::size_t used = 0;
    const unsigned long long value = std::stoull(text, &used);
    if (text[used] != '\0' || value == 0)
        throw std::invalid_argument(std::string(flag) + " takes a positive integer, not '" + text + "'");
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::uint64_t steps = 0, checkpoint_every = 0, log_every = 0, seed = 1;
        std::filesystem::path output;
        bool resume = false;
        for (int i = 1; i < argc; ++i) {
            const std::string flag = argv[i];
            if (flag == "--resume") {
                resume = true;
                continue;
            }
            if (i + 1 == argc) throw std::invalid_argument(flag + " needs a value (or is not a flag)");
            const char* value = argv[++i];
            if (flag == "--steps") steps = positive("--steps", value);
            else if (flag == "--checkpoint-every") checkpoint_every = positive("--checkpoint-every", value);
            else if (flag == "--log-every") log_every = positive("--log-every", value);
            else if (flag == "--seed") seed = std::stoull(value);
            else if (flag == "--output") output = value;
            else throw std::invalid_argument("unknown flag " + flag);
        }
        if (steps == 0 || checkpoint_every == 0 || log_every == 0 || output.empty())
            throw std::invalid_argument("give --steps, --checkpoint-every, --log-every and --output");

        std::filesystem::create_directories(output);
        const auto checkpoint = output / "checkpoint.npz";
        if (!resume && std::filesystem::exists(checkpoint))
            throw std::invalid_argument(checkpoint.string() + " exists: give --resume, or another --output");

        Trainer::Options options;
        options.seed = seed;
        options.generator_optimizer.lr = 1e-4;
        options.discriminator_optimizer.lr = 1e-4;
        Trainer trainer(options);
        if (resume && std::filesystem::exists(checkpoint)) xgan::load_checkpoint(trainer, checkpoint);
        xgan::CsvLog log(output / "log.csv");
        log.truncate_after(trainer.steps());
        std::printf("painting_soak: from step %llu to %llu\n", static_cast<unsigned long long>(trainer.steps()),
                    static_cast<unsigned long long>(steps));
        std::fflush(stdout);

        xgan::matrix<float> real({64, 15});
        while (trainer.steps() < steps) {
            xgan::paintings::artist_works(real, trainer.rng());
            const xgan::StepStats stats = trainer.step(real);
            if (stats.step % log_every == 0) log.append(stats);
            if (stats.step % checkpoint_every == 0 || stats.step == steps) xgan::save_checkpoint(trainer, checkpoint);
        }
        std::printf("painting_soak: done\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "painting_soak: %s\n", e.what());
        return 1;
    }
    return 0;
}
