// 06_eight_gaussians: the standard 2-D test of mode collapse (Metz et al., Unrolled GANs;
// Srivastava et al., VEEGAN). The real data is a mixture of 8 Gaussians of standard
// deviation 0.02 whose means sit evenly on a circle of radius 2; each objective xgan has
// trains the same two MLPs on it, over several seeds, and is scored as VEEGAN scores it
// (xgan::mode_coverage): a sample is of high quality if it lies within 3 standard
// deviations (0.06) of its nearest mode, and a mode is covered if at least one
// high-quality sample of 2,500 belongs to it.
//
// Networks (the Unrolled GAN paper's generator and noise, its discriminator one layer
// deeper):
//   G: z (256, N(0, 1)) -> 128 -> 128 -> 2, ReLU between, linear output;
//   D: 2 -> 128 -> 128 -> 1, ReLU between, no Sigmoid (a logit or a critic score).
// Batch 512 real and 512 fake samples. Each objective with its paper's optimizer, betas
// and critic steps, the learning rates ten times the papers' so that 1,000 steps show
// the differences (the papers train 10 to 100 times longer):
//   ns        non-saturating GAN          Adam 1e-3, betas (0.5, 0.999), 1 D step
//   wgan      WGAN, clip 0.01             RMSprop 5e-4, 5 critic steps
//   wgan-gp   WGAN-GP, lambda 0.1         Adam 1e-3, betas (0.5, 0.9), 5 critic steps
//   hinge     hinge                       Adam 1e-3, betas (0.5, 0.9), 1 D step
//   hinge-sn  hinge, SpectralNorm on every layer of D, otherwise as hinge
//   lsgan     least squares (0-1 coding)  Adam 1e-3, betas (0.5, 0.999), 1 D step
//   r1        non-saturating + R1, gamma 0.1, otherwise as ns
// lambda 0.1 is what the WGAN-GP authors' own 8-Gaussian script uses ("smaller lambda
// seems to help for toy tasks"), 10 being their image setting; gamma 0.1 likewise, as
// the R1 reference page advises less than 10 on small problems.
//
// Writes into the output folder: <objective>.png, 2,500 samples of the first seed's G
// over the 8 modes; table.md and table.csv, modes covered and the high-quality share
// per objective, mean over the seeds; runs.csv, the same for every seed.
//
//   06_eight_gaussians                                  # 7 objectives x 3 seeds, 1,000 steps
//
// The default run takes about 2 min 40 s of CPU time in an optimised build (one core,
// one BLAS thread), WGAN and WGAN-GP two thirds of it (5 critic updates per step).
//   06_eight_gaussians --objectives wgan-gp,hinge --seeds 5 --steps 10000 --output eight

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/png_plot.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/spectral_norm.hpp>
#include <xgan/losses/gradient_penalty_losses.hpp>
#include <xgan/losses/hinge.hpp>
#include <xgan/losses/least_squares.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/losses/wasserstein.hpp>
#include <xgan/metrics/mode_coverage.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/optim/rmsprop.hpp>
#include <xgan/train/step_stats.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"

namespace {

constexpr std::size_t noise_size = 256;
constexpr std::size_t hidden = 128;
constexpr std::size_t mode_count = 8;
constexpr double radius = 2.0;
constexpr double mode_std = 0.02;
constexpr std::size_t eval_samples = 2500;  // VEEGAN's

using Generator = xgan::Sequential<xgan::Dense<noise_size, hidden>, xgan::ReLU, xgan::Dense<hidden, hidden>,
                                   xgan::ReLU, xgan::Dense<hidden, 2>>;
using Critic = xgan::Sequential<xgan::Dense<2, hidden>, xgan::ReLU, xgan::Dense<hidden, hidden>, xgan::ReLU,
                                xgan::Dense<hidden, 1>>;
using SpectralCritic =
    xgan::Sequential<xgan::SpectralNorm<xgan::Dense<2, hidden>>, xgan::ReLU,
                     xgan::SpectralNorm<xgan::Dense<hidden, hidden>>, xgan::ReLU,
                     xgan::SpectralNorm<xgan::Dense<hidden, 1>>>;

const std::vector<std::string> all_objectives = {"ns", "wgan", "wgan-gp", "hinge", "hinge-sn", "lsgan", "r1"};

std::string describe(const std::string& objective) {
    if (objective == "ns") return "non-saturating GAN, Adam 1e-3 (0.5, 0.999)";
    if (objective == "wgan") return "WGAN, clip 0.01, RMSprop 5e-4, 5 critic steps";
    if (objective == "wgan-gp") return "WGAN-GP, lambda 0.1, Adam 1e-3 (0.5, 0.9), 5 critic steps";
    if (objective == "hinge") return "hinge, Adam 1e-3 (0.5, 0.9)";
    if (objective == "hinge-sn") return "hinge, SpectralNorm on D's layers, Adam 1e-3 (0.5, 0.9)";
    if (objective == "lsgan") return "least squares (0-1 coding), Adam 1e-3 (0.5, 0.999)";
    return "non-saturating + R1 (gamma 0.1), Adam 1e-3 (0.5, 0.999)";
}

// The means of the 8 modes {8, 2}: angles 0, 45, ..., 315 degrees.
xgan::matrix<double> mode_means() {
    xgan::matrix<double> modes({mode_count, 2});
    for (std::size_t k = 0; k < mode_count; ++k) {
        const double angle = 2 * std::numbers::pi * static_cast<double>(k) / mode_count;
        modes(k, 0) = radius * std::cos(angle);
        modes(k, 1) = radius * std::sin(angle);
    }
    return modes;
}

// A real batch: each row a mode drawn uniformly plus mode_std N(0, 1) in each coordinate.
void draw_real(xgan::matrix<float>& batch, const xgan::matrix<double>& modes, xgan::Rng& rng) {
    for (std::size_t r = 0; r < batch.shape()[0]; ++r) {
        const std::size_t k = rng.below(mode_count);
        batch(r, 0) = static_cast<float>(modes(k, 0) + mode_std * rng.normal());
        batch(r, 1) = static_cast<float>(modes(k, 1) + mode_std * rng.normal());
    }
}

struct Run {
    std::string objective;
    std::uint64_t seed = 0;
    xgan::ModeCoverage coverage;
    double seconds = 0;
    xgan::matrix<float> samples;
};

// Trains one objective from one seed; `Trainer` fixes the networks, optimizers and loss.
template <class Trainer>
Run train(const std::string& objective, typename Trainer::Options options, std::uint64_t seed, std::uint64_t steps,
          std::size_t batch, const xgan::matrix<double>& modes, xgan::Progress& progress, std::uint64_t& done) {
    options.seed = seed;
    Trainer trainer(options);
    xgan::Rng data_rng(seed + 1000);  // the real data's own stream: the same for every objective
    xgan::matrix<float> real({batch, 2});
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t step = 1; step <= steps; ++step) {
        draw_real(real, modes, data_rng);
        trainer.step(real);
        progress.update(++done, objective + " seed " + std::to_string(seed));
    }
    Run run;
    run.objective = objective;
    run.seed = seed;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.samples = trainer.sample(eval_samples);
    // A G that has diverged to infinities or NaNs covers nothing (mode_coverage refuses them).
    if (std::all_of(run.samples.begin(), run.samples.end(), [](float v) { return std::isfinite(v); })) {
        run.coverage = xgan::mode_coverage(run.samples, modes, mode_std);
    } else {
        std::fprintf(stderr, "06_eight_gaussians: %s, seed %llu: G's samples are not finite; 0 modes covered\n",
                     objective.c_str(), static_cast<unsigned long long>(seed));
        run.coverage.modes = mode_count;
        run.coverage.per_mode.assign(mode_count, 0);
    }
    return run;
}

Run train_objective(const std::string& objective, std::uint64_t seed, std::uint64_t steps, std::size_t batch,
                    const xgan::matrix<double>& modes, xgan::Progress& progress, std::uint64_t& done) {
    const xgan::Adam adam{.lr = 1e-3, .beta1 = 0.5, .beta2 = 0.999};
    const xgan::Adam adam_09{.lr = 1e-3, .beta1 = 0.5, .beta2 = 0.9};
    if (objective == "ns") {
        using T = xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::NonSaturatingLoss>;
        return train<T>(objective, {.generator_optimizer = adam, .discriminator_optimizer = adam}, seed, steps,
                        batch, modes, progress, done);
    }
    if (objective == "wgan") {
        using T = xgan::AdversarialTrainer<Generator, Critic, xgan::RMSprop, xgan::RMSprop, xgan::WassersteinLoss>;
        const xgan::RMSprop rmsprop{.lr = 5e-4};
        return train<T>(objective,
                        {.generator_optimizer = rmsprop, .discriminator_optimizer = rmsprop, .discriminator_steps = 5},
                        seed, steps, batch, modes, progress, done);
    }
    if (objective == "wgan-gp") {
        using T = xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::WassersteinGPLoss>;
        return train<T>(objective,
                        {.generator_optimizer = adam_09,
                         .discriminator_optimizer = adam_09,
                         .loss = {.lambda = 0.1},
                         .discriminator_steps = 5},
                        seed, steps, batch, modes, progress, done);
    }
    if (objective == "hinge") {
        using T = xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::HingeLoss>;
        return train<T>(objective, {.generator_optimizer = adam_09, .discriminator_optimizer = adam_09}, seed,
                        steps, batch, modes, progress, done);
    }
    if (objective == "hinge-sn") {
        using T = xgan::AdversarialTrainer<Generator, SpectralCritic, xgan::Adam, xgan::Adam, xgan::HingeLoss>;
        return train<T>(objective, {.generator_optimizer = adam_09, .discriminator_optimizer = adam_09}, seed,
                        steps, batch, modes, progress, done);
    }
    if (objective == "lsgan") {
        using T = xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::LeastSquaresLoss>;
        return train<T>(objective, {.generator_optimizer = adam, .discriminator_optimizer = adam}, seed, steps,
                        batch, modes, progress, done);
    }
    if (objective == "r1") {
        using T = xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::R1Loss<>>;
        return train<T>(objective,
                        {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = {.gamma = 0.1}}, seed,
                        steps, batch, modes, progress, done);
    }
    throw std::invalid_argument("unknown objective '" + objective + "'");
}

// "ns,wgan-gp" -> {"ns", "wgan-gp"}; "all" -> every objective. Throws on a name it does not know.
std::vector<std::string> parse_objectives(const std::string& list) {
    if (list == "all") return all_objectives;
    std::vector<std::string> names;
    std::stringstream in(list);
    for (std::string name; std::getline(in, name, ',');) {
        if (std::find(all_objectives.begin(), all_objectives.end(), name) == all_objectives.end()) {
            std::string known;
            for (const auto& o : all_objectives) known += (known.empty() ? "" : ", ") + o;
            throw std::invalid_argument("--objectives: unknown objective '" + name + "' (known: " + known +
                                        ", or all)");
        }
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    if (names.empty()) throw std::invalid_argument("--objectives: no objective named");
    return names;
}

void plot_samples(const Run& run, const xgan::matrix<double>& modes, std::uint64_t steps,
                  const std::filesystem::path& path) {
    // A scatter plot: the samples as one line broken by NaNs (each point alone shows as a dot).
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> xs, ys, mx, my;
    for (std::size_t r = 0; r < run.samples.shape()[0]; ++r) {
        xs.insert(xs.end(), {static_cast<double>(run.samples(r, 0)), nan});
        ys.insert(ys.end(), {static_cast<double>(run.samples(r, 1)), nan});
    }
    for (std::size_t k = 0; k < mode_count; ++k) {
        mx.insert(mx.end(), {modes(k, 0), nan});
        my.insert(my.end(), {modes(k, 1), nan});
    }
    char title[160];
    std::snprintf(title, sizeof title, "%s: %zu/8 modes, %.0f%% high quality", run.objective.c_str(),
                  run.coverage.covered, 100 * run.coverage.high_quality_share);
    xgan::PngPlot plot(480, 480);
    plot.title(title)
        .x_label("x (" + std::to_string(steps) + " steps, seed " + std::to_string(run.seed) + ")")
        .y_label("y")
        .x_range(-3, 3)
        .y_range(-3, 3)
        .legend(xgan::LegendPosition::none);
    plot.add_line(mx, my, {.colour = "#3182ce", .width = 0.5, .opacity = 0.35, .marker_radius = 9});
    plot.add_line(xs, ys, {.colour = "#c53030", .width = 0.5, .opacity = 0.8, .marker_radius = 1.2});
    plot.save(path);
}

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::CommandLine command_line(
        "8 Gaussians: each objective trained on a ring of 8 modes, scored by the modes it covers");
    std::uint64_t steps = 1000;
    std::uint64_t seeds = 3;
    std::uint64_t batch = 512;
    std::string objectives_list = "all";
    std::string output = "eight_gaussians";
    command_line.add_option("--steps", steps, "Generator steps per run").show_default().check_range(1, 100000000);
    command_line.add_option("--seeds", seeds, "Runs per objective, seeds 1, 2, ...")
        .show_default()
        .check_range(1, 1000);
    command_line.add_option("--batch", batch, "Real and fake samples per step").show_default().check_range(1, 65536);
    command_line
        .add_option("--objectives", objectives_list,
                    "Comma-separated objectives: ns, wgan, wgan-gp, hinge, hinge-sn, lsgan, r1, or all")
        .show_default();
    command_line.add_option("--output", output, "Folder for the plots and tables (created if missing)").show_default();
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;

    try {
        const std::vector<std::string> objectives = parse_objectives(objectives_list);
        const std::filesystem::path folder(output);
        if (std::filesystem::exists(folder) && !std::filesystem::is_directory(folder))
            throw std::invalid_argument("--output '" + output + "' is not a folder");
        std::filesystem::create_directories(folder);

        const xgan::matrix<double> modes = mode_means();
        std::printf("8 Gaussians on a circle of radius %g, std %g; G %zu -> %zu -> %zu -> 2, D 2 -> %zu -> %zu -> 1, "
                    "batch %zu\n%llu steps, %llu seed(s), scored on %zu samples (high quality: within 3 std)\n",
                    radius, mode_std, noise_size, hidden, hidden, hidden, hidden, static_cast<std::size_t>(batch),
                    static_cast<unsigned long long>(steps), static_cast<unsigned long long>(seeds), eval_samples);
        for (const auto& o : objectives) std::printf("  %-8s %s\n", o.c_str(), describe(o).c_str());
        std::printf("\n");
        std::fflush(stdout);

        xgan::Progress progress(steps * seeds * objectives.size(), std::cerr);
        std::uint64_t done = 0;
        std::vector<Run> runs;
        const auto start = std::chrono::steady_clock::now();
        for (const auto& objective : objectives)
            for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
                Run run = train_objective(objective, seed, steps, batch, modes, progress, done);
                if (seed == 1) plot_samples(run, modes, steps, folder / (objective + ".png"));
                run.samples = {};
                runs.push_back(std::move(run));
            }
        progress.finish();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        std::ofstream runs_csv(folder / "runs.csv");
        runs_csv << "objective,seed,modes_covered,high_quality_share,seconds\n";
        for (const Run& r : runs) {
            char line[200];
            std::snprintf(line, sizeof line, "%s,%llu,%zu,%.4f,%.2f\n", r.objective.c_str(),
                          static_cast<unsigned long long>(r.seed), r.coverage.covered,
                          r.coverage.high_quality_share, r.seconds);
            runs_csv << line;
        }

        std::ofstream table_csv(folder / "table.csv");
        std::ofstream table_md(folder / "table.md");
        table_csv << "objective,modes_covered,high_quality_share,min_modes,max_modes,seeds,seconds_per_run\n";
        table_md << "| objective | modes covered (of 8) | high-quality samples | modes, worst-best seed | s per run |\n"
                 << "|---|---|---|---|---|\n";
        std::printf("%-8s  %14s  %12s  %10s  %9s\n", "objective", "modes (of 8)", "high quality", "min-max", "s/run");
        for (const auto& objective : objectives) {
            double covered = 0, share = 0, secs = 0;
            std::size_t low = mode_count, high = 0, n = 0;
            for (const Run& r : runs)
                if (r.objective == objective) {
                    covered += static_cast<double>(r.coverage.covered);
                    share += r.coverage.high_quality_share;
                    secs += r.seconds;
                    low = std::min(low, r.coverage.covered);
                    high = std::max(high, r.coverage.covered);
                    ++n;
                }
            const double count = static_cast<double>(n);
            char line[300];
            std::snprintf(line, sizeof line, "%s,%.2f,%.4f,%zu,%zu,%zu,%.1f\n", objective.c_str(), covered / count,
                          share / count, low, high, n, secs / count);
            table_csv << line;
            std::snprintf(line, sizeof line, "| %s | %.1f | %.1f%% | %zu-%zu | %.0f |\n", objective.c_str(),
                          covered / count, 100 * share / count, low, high, secs / count);
            table_md << line;
            std::printf("%-9s  %14.1f  %11.1f%%  %6zu-%zu  %9.1f\n", objective.c_str(), covered / count,
                        100 * share / count, low, high, secs / count);
        }
        if (!runs_csv || !table_csv || !table_md) throw std::runtime_error("could not write the tables into " + output);
        std::printf("\n%zu runs in %.0f s; wrote %s/{table.md, table.csv, runs.csv} and a plot per objective\n",
                    runs.size(), seconds, output.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "06_eight_gaussians: %s\n", e.what());
        return 1;
    }
    return 0;
}
