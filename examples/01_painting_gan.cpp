// 01_painting_gan: "the famous artist's paintings", the example the GAN tutorials
// behind xgan all start from (see docs/tutorial/painting-gan.md for a walk-through).
//
// The artist paints one kind of picture: a parabola a*x^2 + (a - 1) sampled at 15
// points on [-1, 1], with a drawn uniformly from [1, 2]. Every painting therefore
// lies between the lower bound x^2 (a = 1) and the upper bound 2x^2 + 1 (a = 2).
// The generator G never sees a painting: it turns 5 random numbers ("ideas") into
// 15 values and learns only from the discriminator D, which learns to tell the
// artist's paintings from G's. When training works, G paints curves inside the
// bounds with a spread like U(1, 2), and D can no longer tell: D(real) -> 0.5.
//
// Everything is as in the tutorials: batch 64, G = Dense(5->128), ReLU,
// Dense(128->15); D = Dense(15->128), ReLU, Dense(128->1), Sigmoid; Adam with
// learning rate 1e-4 for both; the original (saturating) minimax losses. It
// assumes nothing but xgan and CLI11; one seed fixes every random number, so a
// run is reproducible. At the end it writes an SVG of a few generated curves
// against the two bounds.
//
//   01_painting_gan                      # 5,000 steps, seed 1, painting.svg
//   01_painting_gan --steps 10000 --seed 7 --output run7.svg --every 1000

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

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

// The tutorials' constants.
constexpr std::size_t batch_size = 64;      // BATCH_SIZE
constexpr std::size_t n_ideas = 5;          // N_IDEAS: width of G's noise input
constexpr std::size_t art_components = 15;  // ART_COMPONENTS: points per painting
constexpr double learning_rate = 1e-4;

// The two networks are types: widths are checked when this compiles, and
// Generator::output_size == Discriminator::input_size is checked by the trainer.
using Generator = xgan::Sequential<xgan::Dense<n_ideas, 128>, xgan::ReLU, xgan::Dense<128, art_components>>;
using Discriminator =
    xgan::Sequential<xgan::Dense<art_components, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
// Adam for both networks and the minimax loss are the trainer's defaults.
using Trainer = xgan::AdversarialTrainer<Generator, Discriminator>;

// Means of the monitors over a stretch of steps.
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

struct Summary {
    double mean = 0, stddev = 0, min = 0, max = 0;
};

Summary summarise(const std::vector<double>& v) {
    Summary s;
    s.min = *std::min_element(v.begin(), v.end());
    s.max = *std::max_element(v.begin(), v.end());
    for (const double x : v) s.mean += x;
    s.mean /= static_cast<double>(v.size());
    for (const double x : v) s.stddev += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(s.stddev / static_cast<double>(v.size()));
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::CommandLine command_line("Painting GAN: G learns to paint the curves a*x^2 + (a - 1), a ~ U(1, 2)");
    std::uint64_t steps = 5000;
    std::uint64_t seed = 1;
    std::uint64_t every = 500;
    std::string output = "painting.svg";
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
        Trainer trainer(options);  // draws G's, then D's initial weights from the seed

        std::printf("Painting GAN: G %zu -> 128 -> %zu (%zu parameters), D %zu -> 128 -> 1 (%zu parameters)\n",
                    Generator::input_size, Generator::output_size, Generator::parameter_count,
                    Discriminator::input_size, Discriminator::parameter_count);
        std::printf("batch %zu, Adam lr %g for both, minimax loss, seed %llu, %llu steps\n\n", batch_size,
                    learning_rate, static_cast<unsigned long long>(seed), static_cast<unsigned long long>(steps));
        if (every > 0)
            std::printf("%7s  %10s  %9s  %8s   (means over the last %llu steps)\n%7s  %10s  %9s  %8s\n", "step",
                        "D accuracy", "D score", "G loss", static_cast<unsigned long long>(every), "goal", "0.500",
                        "-1.386", "-0.693");

        // One batch of real paintings per step, drawn from the trainer's own Rng so
        // that the seed fixes the whole run.
        xgan::matrix<float> real_batch({batch_size, art_components});
        const std::uint64_t tail = std::min<std::uint64_t>(100, steps);
        Means interval, last;
        const auto start = std::chrono::steady_clock::now();
        for (std::uint64_t step = 1; step <= steps; ++step) {
            xgan::paintings::artist_works(real_batch, trainer.rng());
            const xgan::StepStats stats = trainer.step(real_batch);
            interval.add(stats);
            if (step > steps - tail) last.add(stats);
            if (every > 0 && (step % every == 0 || step == steps)) {
                std::printf("%7llu  %10.3f  %9.3f  %8.3f\n", static_cast<unsigned long long>(step),
                            interval.mean(interval.d_accuracy), interval.mean(interval.d_score),
                            interval.mean(interval.g_loss));
                std::fflush(stdout);
                interval = {};
            }
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        // Judge G on 1,000 fresh curves.
        constexpr std::size_t n_samples = 1000;
        const xgan::matrix<float> samples = trainer.sample(n_samples);
        const double inside = xgan::paintings::share_inside_band(samples, 0.1);

        // The a of each generated curve (least-squares fit of a*x^2 + (a - 1)), and how
        // far the curve is from that parabola (RMS over its 15 points).
        std::vector<double> a(n_samples);
        double residual = 0;
        for (std::size_t r = 0; r < n_samples; ++r) {
            a[r] = xgan::paintings::fitted_a(samples, r);
            for (std::size_t j = 0; j < art_components; ++j) {
                const double x = xgan::paintings::paint_point(j, art_components);
                const double d = static_cast<double>(samples(r, j)) - (a[r] * x * x + a[r] - 1.0);
                residual += d * d;
            }
        }
        residual = std::sqrt(residual / static_cast<double>(n_samples * art_components));
        const Summary s = summarise(a);

        constexpr std::size_t bins = 5;
        std::array<std::size_t, bins> histogram{};
        std::size_t below = 0, above = 0;
        for (const double v : a) {
            if (v < 1.0) ++below;
            else if (v > 2.0) ++above;
            else histogram[std::min(bins - 1, static_cast<std::size_t>((v - 1.0) * bins))] += 1;
        }

        std::printf("\nTrained %llu steps in %.1f s (%.2f ms per step).\n", static_cast<unsigned long long>(steps),
                    seconds, 1000.0 * seconds / static_cast<double>(steps));
        std::printf("Last %llu steps: mean D(real) %.3f (-> 0.5), mean D score %.3f (-> -1.386)\n",
                    static_cast<unsigned long long>(tail), last.mean(last.d_accuracy), last.mean(last.d_score));
        std::printf("Of %zu generated curves, %.1f%% lie fully inside [x^2 - 0.1, 2x^2 + 1.1].\n", n_samples,
                    100.0 * inside);
        std::printf("Fitted a of the generated curves (real paintings: a ~ U(1, 2)); RMS distance from the fit %.3f\n",
                    residual);
        std::printf("  mean %.3f (U(1,2): 1.500)   std %.3f (0.289)   min %.3f   max %.3f\n", s.mean, s.stddev, s.min,
                    s.max);
        std::printf("  histogram over [1, 2] (U(1,2) would put %zu in each bin):\n", n_samples / bins);
        for (std::size_t b = 0; b < bins; ++b) {
            const double lo = 1.0 + static_cast<double>(b) / bins, hi = lo + 1.0 / bins;
            std::printf("    [%.1f, %.1f%c %4zu  %s\n", lo, hi, b + 1 == bins ? ']' : ')', histogram[b],
                        std::string((histogram[b] + 5) / 10, '#').c_str());
        }
        std::printf("    below 1: %zu   above 2: %zu\n", below, above);

        // The picture: a few generated curves against the two bounds, as the tutorials draw it.
        constexpr std::size_t shown = 8;
        std::printf("The picture's %zu curves, fitted a:", shown);
        for (std::size_t r = 0; r < shown; ++r) std::printf(" %.2f", a[r]);
        std::printf("\n");
        std::vector<double> xs(art_components), lower(art_components), upper(art_components);
        for (std::size_t j = 0; j < art_components; ++j) {
            xs[j] = xgan::paintings::paint_point(j, art_components);
            lower[j] = xgan::paintings::lower_bound(xs[j]);
            upper[j] = xgan::paintings::upper_bound(xs[j]);
        }
        double y_low = -0.2, y_high = 3.2;  // the bounds' range, widened to show strays
        for (std::size_t r = 0; r < shown; ++r)
            for (std::size_t j = 0; j < art_components; ++j) {
                y_low = std::min(y_low, static_cast<double>(samples(r, j)) - 0.1);
                y_high = std::max(y_high, static_cast<double>(samples(r, j)) + 0.1);
            }

        char note[120];
        std::snprintf(note, sizeof note, "%.1f%% of %zu generated curves inside the bounds (\u00b10.1)",
                      100.0 * inside, n_samples);
        // D score = -D_loss is never positive; print it with a typographic minus.
        char subtitle[240];
        std::snprintf(subtitle, sizeof subtitle,
                      "D accuracy %.3f (\u2192 0.5) \u00b7 D score \u2212%.3f (\u2192 \u22121.386), means of the last %llu "
                      "steps\n%s",
                      last.mean(last.d_accuracy), -last.mean(last.d_score), static_cast<unsigned long long>(tail), note);

        xgan::SvgPlot plot;
        plot.title("Painting GAN after " + std::to_string(steps) + " steps (seed " + std::to_string(seed) + ")")
            .subtitle(subtitle)
            .x_label("x")
            .y_label("painting value")
            .x_range(-1.0, 1.0)
            .y_range(y_low, y_high)
            .legend(xgan::LegendPosition::top_center);
        plot.add_line(xs, upper, {.colour = "#2b6cb0", .width = 2.5, .dashed = true, .label = "upper bound 2x\u00b2 + 1"});
        plot.add_line(xs, lower, {.colour = "#dd6b20", .width = 2.5, .dashed = true, .label = "lower bound x\u00b2"});
        for (std::size_t r = 0; r < shown; ++r) {
            std::vector<double> curve(art_components);
            for (std::size_t j = 0; j < art_components; ++j) curve[j] = static_cast<double>(samples(r, j));
            plot.add_line(xs, curve,
                          {.colour = "#2f855a",
                           .width = 1.6,
                           .label = r == 0 ? "G(z): " + std::to_string(shown) + " generated paintings" : "",
                           .opacity = 0.75,
                           .marker_radius = 2.5});
        }
        plot.save(output);
        std::printf("\nWrote %s\n", output.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "01_painting_gan: %s\n", e.what());
        return 1;
    }
    return 0;
}
