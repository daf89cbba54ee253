// 07_export_painting: train the painting GAN of Example 01, then export its generator as
// one C++ header that needs nothing but the standard library (xgan::export_header,
// docs/reference/io-export-header.md). Example 07_exported_curves includes only that
// header and paints with it: a game, a plugin or a microcontroller project can do the
// same, with no xgan, xtensor or BLAS.
//
// The header holds G's 2,703 parameters as constexpr arrays, exactly (hexadecimal float
// literals), and painting::generate(std::array<float, 5>) -> std::array<float, 15>, the
// network's inference pass. To compare the two programs, both print G's curve for the
// same noise vector (0.5, -0.5, 1, 0, -1): they agree to about 1e-7 (the Dense layers'
// sums run in another order than the kernels' or BLAS's).
//
//   07_export_painting                                   # 5,000 steps, painting_generator.hpp
//   07_export_painting --steps 2000 --output my/art.hpp --namespace art

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iterator>
#include <string>

#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/export_header.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"

namespace {

// Example 01's networks and settings.
using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Discriminator = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<Generator, Discriminator>;
constexpr std::size_t batch_size = 64;

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::CommandLine command_line("Train the painting GAN and export its generator as a C++ header");
    std::uint64_t steps = 5000;
    std::uint64_t seed = 1;
    std::string output = "painting_generator.hpp";
    std::string space = "painting";
    command_line.add_option("--steps", steps, "Training steps (one D update, then one G update)")
        .show_default()
        .check_range(0, 100000000);
    command_line.add_option("--seed", seed, "Seed for initialisation, noise and the real paintings").show_default();
    command_line.add_option("--output", output, "The header to write").show_default();
    command_line.add_option("--namespace", space, "The header's namespace").show_default();
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;

    try {
        Trainer::Options options;
        options.seed = seed;
        options.generator_optimizer.lr = 1e-4;
        options.discriminator_optimizer.lr = 1e-4;
        Trainer trainer(options);
        xgan::matrix<float> real_batch({batch_size, Generator::output_size});
        for (std::uint64_t step = 1; step <= steps; ++step) {
            xgan::paintings::artist_works(real_batch, trainer.rng());
            trainer.step(real_batch);
        }
        const xgan::matrix<float> inside_check = trainer.sample(1000);
        std::printf("Trained %llu steps: %.1f%% of 1,000 curves lie inside the bounds (+-0.1)\n",
                    static_cast<unsigned long long>(steps), 100.0 * xgan::paintings::share_inside_band(inside_check, 0.1));

        xgan::export_options export_options;
        export_options.name = "generate";
        export_options.namespace_name = space;
        xgan::export_header(trainer.generator(), output, export_options);
        std::printf("Wrote %s: %s::generate(std::array<float, 5>) -> std::array<float, 15>\n", output.c_str(),
                    space.c_str());

        xgan::matrix<float> noise({1, Generator::input_size});
        const float fixed[] = {0.5f, -0.5f, 1.0f, 0.0f, -1.0f};
        std::copy(std::begin(fixed), std::end(fixed), noise.begin());
        const xgan::matrix<float> curve = trainer.generate(noise);
        std::printf("G's curve for the noise (0.5, -0.5, 1, 0, -1):\n");
        for (std::size_t j = 0; j < Generator::output_size; ++j) std::printf(" %.6f", static_cast<double>(curve(0, j)));
        std::printf("\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "07_export_painting: %s\n", e.what());
        return 1;
    }
}
