// 02_sine_gan: the sine painting, the tutorials' second toy. The same two networks
// and the same training as 01_painting_gan, but the artist now paints one fixed
// curve, sin(pi x) at 15 points on [-1, 1], with a little noise (0.02 N(0, 1)) on
// every point. There is no spread to learn, only a shape: after ~10,000 steps the
// generated curves lie on the sine whatever the noise z, and D, unable to tell
// them from the real ones, outputs about 0.5 for both.
//
// Batch 64, G = Dense(5->128), ReLU, Dense(128->15); D = Dense(15->128), ReLU,
// Dense(128->1), Sigmoid; Adam with learning rate 1e-4 for both; minimax losses.
// One seed fixes every random number. At the end it writes an SVG of a few
// generated curves against sin(pi x).
//
//   02_sine_gan                          # 10,000 steps, seed 1, sine.svg
//   02_sine_gan --steps 20000 --output sine20k.svg

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/io/svg_plot.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/train/step_stats.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"

namespace {

constexpr std::size_t batch_size = 64;      // BATCH_SIZE
constexpr std::size_t n_ideas = 5;          // N_IDEAS
constexpr std::size_t art_components = 15;  // ART_COMPONENTS
constexpr double learning_rate = 1e-4;
constexpr double paint_noise = 0.02;        // std of the noise on each real point

using Generator = xgan::Sequential<xgan::Dense<n_ideas, 128>, xgan::ReLU, xgan::Dense<128, art_components>>;
using Discriminator =
    xgan::Sequential<xgan::Dense<art_components, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<Generator, Discriminator>;  // Adam, Adam, MinimaxLoss

struct Means {
    double d_accuracy = 0, d_score = 0, g_loss = 0;
    std::size_t count = 0;

    void add(const xgan::StepStats& s) {
        d_accuracy += s.d_accuracy;
        d_score += s.d_score;
        g_loss += s.g_loss;
        ++count;
    }
    double mean(double sum) const { return count == 0 ? 0.0 : sum / static_cast<double>(count); }
};

double sine(double x) { return std::sin(std::numbers::pi * x); }

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::CommandLine command_line("Sine GAN: G learns to paint sin(pi x) from noisy examples");
    std::uint64_t steps = 10000;
    std::uint64_t seed = 1;
    std::uint64_t every = 1000;
    std::string output = "sine.svg";
    command_line.add_option("--steps", steps, "Training steps (one D update, then one G update)")
        .show_default()
        .check_range(1, 100000000);
    command_line.add_option("--seed", seed, "Seed for initialisation, noise and the real paintings").show_default();
    command_line.add_option("--output", output, "SVG file to write the generated curves to").show_default();
    command_line.add_option("--every", every, "Print progress every this many steps (0: only the summary)")
        .show_default();
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;

    try {
        Trainer::Options options;
        options.seed = seed;
        options.generator_optimizer.lr = learning_rate;
        options.discriminator_optimizer.lr = learning_rate;
        Trainer trainer(options);

        std::printf("Sine GAN: G %zu -> 128 -> %zu, D %zu -> 128 -> 1; real data sin(pi x) + %g N(0, 1)\n",
                    Generator::input_size, Generator::output_size, Discriminator::input_size, paint_noise);
        std::printf("batch %zu, Adam lr %g for both, minimax loss, seed %llu, %llu steps\n\n", batch_size,
                    learning_rate, static_cast<unsigned long long>(seed), static_cast<unsigned long long>(steps));
        if (every > 0)
            std::printf("%7s  %10s  %9s  %8s  %12s   (means over the last %llu steps; |G - sine| now, on 64 "
                        "fixed z)\n%7s  %10s  %9s  %8s  %12s\n",
                        "step", "D accuracy", "D score", "G loss", "|G - sine|", static_cast<unsigned long long>(every),
                        "goal", "0.500", "-1.386", "-0.693", "~0.016");

        xgan::matrix<float> real_batch({batch_size, art_components});
        const std::uint64_t tail = std::min<std::uint64_t>(100, steps);
        Means interval, last;

        // Progress also shows mean |G(z) - sin(pi x)| on a fixed batch of noise. It has its
        // own Rng, so watching more or less often does not change the training run.
        xgan::matrix<float> probe_noise({batch_size, n_ideas});
        xgan::Rng probe_rng(seed + 1);
        probe_rng.fill_normal(std::span<float>(probe_noise.data(), probe_noise.size()));
        auto distance_to_sine = [&] {
            const xgan::matrix<float> probe = trainer.generator().forward(probe_noise);
            double sum = 0;
            for (std::size_t r = 0; r < batch_size; ++r)
                for (std::size_t j = 0; j < art_components; ++j)
                    sum += std::abs(static_cast<double>(probe(r, j)) -
                                    sine(xgan::paintings::paint_point(j, art_components)));
            return sum / static_cast<double>(batch_size * art_components);
        };

        const auto start = std::chrono::steady_clock::now();
        double sampling_seconds = 0;
        for (std::uint64_t step = 1; step <= steps; ++step) {
            xgan::paintings::sine_works(real_batch, trainer.rng(), paint_noise);
            const xgan::StepStats stats = trainer.step(real_batch);
            interval.add(stats);
            if (step > steps - tail) last.add(stats);
            if (every > 0 && (step % every == 0 || step == steps)) {
                const auto t0 = std::chrono::steady_clock::now();
                const double distance = distance_to_sine();
                sampling_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::printf("%7llu  %10.3f  %9.3f  %8.3f  %12.3f\n", static_cast<unsigned long long>(step),
                            interval.mean(interval.d_accuracy), interval.mean(interval.d_score),
                            interval.mean(interval.g_loss), distance);
                std::fflush(stdout);
                interval = {};
            }
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() - sampling_seconds;

        constexpr std::size_t n_samples = 1000;
        const xgan::matrix<float> samples = trainer.sample(n_samples);
        double distance = 0, worst = 0;
        for (std::size_t r = 0; r < n_samples; ++r)
            for (std::size_t j = 0; j < art_components; ++j) {
                const double d = std::abs(static_cast<double>(samples(r, j)) -
                                          sine(xgan::paintings::paint_point(j, art_components)));
                distance += d;
                worst = std::max(worst, d);
            }
        distance /= static_cast<double>(n_samples * art_components);

        std::printf("\nTrained %llu steps in %.1f s (%.2f ms per step).\n", static_cast<unsigned long long>(steps),
                    seconds, 1000.0 * seconds / static_cast<double>(steps));
        std::printf("Last %llu steps: mean D(real) %.3f (-> 0.5), mean D score %.3f (-> -1.386)\n",
                    static_cast<unsigned long long>(tail), last.mean(last.d_accuracy), last.mean(last.d_score));
        std::printf("Over %zu generated curves: mean |G(z) - sin(pi x)| %.4f, largest %.3f\n", n_samples, distance,
                    worst);
        std::printf("  (a real painting's noise alone gives E|0.02 N(0,1)| = %.4f)\n",
                    paint_noise * std::sqrt(2.0 / std::numbers::pi));

        // The picture: generated curves on top of the sine.
        constexpr std::size_t shown = 8;
        constexpr std::size_t fine = 201;  // the sine drawn smoothly, not only at 15 points
        std::vector<double> xs(art_components), sine_x(fine), sine_y(fine);
        for (std::size_t j = 0; j < art_components; ++j) xs[j] = xgan::paintings::paint_point(j, art_components);
        for (std::size_t i = 0; i < fine; ++i) {
            sine_x[i] = xgan::paintings::paint_point(i, fine);
            sine_y[i] = sine(sine_x[i]);
        }
        double y_low = -1.3, y_high = 1.3;
        for (std::size_t r = 0; r < shown; ++r)
            for (std::size_t j = 0; j < art_components; ++j) {
                y_low = std::min(y_low, static_cast<double>(samples(r, j)) - 0.1);
                y_high = std::max(y_high, static_cast<double>(samples(r, j)) + 0.1);
            }

        char note[120];
        std::snprintf(note, sizeof note, "mean |G(z) \u2212 sin(\u03c0x)| = %.3f over %zu curves", distance,
                      n_samples);
        // D score = -D_loss is never positive; print it with a typographic minus.
        char subtitle[240];
        std::snprintf(subtitle, sizeof subtitle,
                      "D accuracy %.3f (\u2192 0.5) \u00b7 D score \u2212%.3f (\u2192 \u22121.386), means of the last %llu "
                      "steps\n%s",
                      last.mean(last.d_accuracy), -last.mean(last.d_score), static_cast<unsigned long long>(tail), note);

        xgan::SvgPlot plot;
        plot.title("Sine GAN after " + std::to_string(steps) + " steps (seed " + std::to_string(seed) + ")")
            .subtitle(subtitle)
            .x_label("x")
            .y_label("painting value")
            .x_range(-1.0, 1.0)
            .y_range(y_low, y_high)
            .legend(xgan::LegendPosition::top_left);
        // A wide, pale sine under thin generated curves: where they match, they run inside it.
        plot.add_line(sine_x, sine_y, {.colour = "#3182ce", .width = 9, .label = "sin(\u03c0x)", .opacity = 0.3});
        for (std::size_t r = 0; r < shown; ++r) {
            std::vector<double> curve(art_components);
            for (std::size_t j = 0; j < art_components; ++j) curve[j] = static_cast<double>(samples(r, j));
            plot.add_line(xs, curve,
                          {.colour = "#c53030",
                           .width = 1.4,
                           .label = r == 0 ? "G(z): " + std::to_string(shown) + " generated paintings" : "",
                           .opacity = 0.7,
                           .marker_radius = 2.5});
        }
        plot.save(output);
        std::printf("\nWrote %s\n", output.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "02_sine_gan: %s\n", e.what());
        return 1;
    }
    return 0;
}
