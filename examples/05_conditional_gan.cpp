// 05_conditional_gan: a conditional GAN on Fashion-MNIST (Mirza and Osindero, 2014):
// ask for a class, get a picture of it (docs/tutorial/conditional-gans.md).
//
// G reads 100 random numbers and the one-hot of a class (concatenated: Dense<110, 256>
// first); D reads the 784 pixels and the class through a learned embedding of 16 values
// (Embedding<10, 16>, PyTorch's nn.Embedding), then Dense layers with LeakyReLU(0.2) and
// Dropout(0.3). Each step trains D on --batch real images with their labels (labelled
// 0.9) and as many generated ones, whose classes the trainer draws uniformly, then G
// through the frozen D; Adam(lr 2e-4, beta1 0.5) for both.
//
// Every --grid-every steps (and at the last) it writes samples_<step>.png, a 10 x 10 grid
// with one row per class (T-shirt/top first, ankle boot last) from one fixed noise batch,
// and a checkpoint; the log's column agreement then holds the share of 1,000 fresh
// samples (100 per class) that the Fashion-MNIST classifier of the metrics
// (models/fashion_mnist_classifier.npz, 88.6% on the test set) puts in the class they
// were asked for. At the end it prints that share per class and overall, and fails (exit
// code 3) when the overall share is below --min-agreement percent. --resume continues a
// run from its checkpoint, with the same result as an uninterrupted run.
//
//   05_conditional_gan                               # 12,000 steps into conditional_gan/
//   05_conditional_gan --resume conditional_gan/checkpoint.npz --steps 20000
//   05_conditional_gan --overwrite --steps 200 --min-agreement 0

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <xgan/core/conditional.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/image_grid.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/io/training_plot.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/dropout.hpp>
#include <xgan/layers/embedding.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/metrics/fashion_classifier.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/trainer.hpp>

#include "support/command_line.hpp"
#include "support/image_gan_training.hpp"
#include "support/image_run.hpp"

namespace {

using namespace xgan;

constexpr std::size_t classes = 10;
constexpr std::size_t latent = 100;
constexpr std::size_t pixels = 784;

using Generator = Conditional<classes, Sequential<Dense<latent + classes, 256>, LeakyReLU, Dense<256, 512>, LeakyReLU,
                                                  Dense<512, pixels>, Tanh>>;
using Discriminator =
    Conditional<classes, Sequential<Input<pixels + classes>, Embedding<classes, 16>, Dense<pixels + 16, 512>, LeakyReLU,
                                    DropoutWithRate<3, 10>, Dense<512, 256>, LeakyReLU, DropoutWithRate<3, 10>,
                                    Dense<256, 1>, Sigmoid>>;
using Trainer = AdversarialTrainer<Generator, Discriminator, Adam, Adam, NonSaturatingLoss>;

// The share of samples the classifier puts in their requested class: per class, then overall.
struct Agreement {
    std::vector<double> per_class = std::vector<double>(classes);
    double overall = 0;
};

// 100 samples per class on fresh noise from its own Rng (the training's is untouched).
Agreement measure_agreement(Trainer& trainer, const FashionClassifier& classifier, std::uint64_t seed) {
    constexpr std::size_t per_class = 100;
    matrix<float> noise({per_class * classes, latent});
    Rng(seed).fill_normal(std::span<float>(noise.data(), noise.size()));
    std::vector<std::uint8_t> labels(per_class * classes);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i / per_class);
    const matrix<float> samples = trainer.generate(noise, labels);
    const matrix<float> scores = classifier.forward(samples);
    Agreement agreement;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const float* row = scores.data() + i * classes;
        const auto predicted = static_cast<std::size_t>(std::max_element(row, row + classes) - row);
        if (predicted == labels[i]) agreement.per_class[labels[i]] += 1.0 / per_class;
    }
    for (const double a : agreement.per_class) agreement.overall += a / classes;
    return agreement;
}

int train(const xgan_examples::ImageRunSettings& s, const std::string& labels_path, unsigned min_agreement) {
    const std::filesystem::path out = s.output;
    const auto checkpoint = out / "checkpoint.npz";
    ImageDataset data(s.data, labels_path);
    data.check_input_size(Discriminator::sample_size);
    data.check_classes<Discriminator>();
    const std::size_t batches_per_epoch = data.batches_per_epoch(s.batch);
    if (batches_per_epoch == 0)
        throw std::invalid_argument(s.data + " holds fewer images than one batch of " + std::to_string(s.batch));
    const std::uint64_t total_steps = s.epochs > 0 ? s.epochs * batches_per_epoch : s.steps;
    const FashionClassifier classifier = load_fashion_classifier(s.classifier);

    const Adam adam{.lr = 2e-4, .beta1 = 0.5};
    Trainer trainer({.generator_optimizer = adam,
                     .discriminator_optimizer = adam,
                     .loss = NonSaturatingLoss{.real_label = 0.9},
                     .seed = s.seed});
    if (!s.resume.empty()) {
        load_checkpoint(trainer, s.resume);
        std::printf("resumed %s at step %llu\n", s.resume.c_str(), static_cast<unsigned long long>(trainer.steps()));
    }
    // The data order follows from the seed and the step count (as in Examples 03 and 04).
    matrix<float> real({s.batch, pixels});
    std::vector<std::uint8_t> labels(s.batch);
    Rng order_rng = xgan_examples::epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
    for (std::uint64_t i = 0; i < trainer.steps() % batches_per_epoch; ++i) data.next_batch(real, labels, order_rng);

    // The grid: one fixed noise batch, row c asking for class c.
    matrix<float> grid_noise({classes * classes, latent});
    Rng(s.seed + 1).fill_normal(std::span<float>(grid_noise.data(), grid_noise.size()));
    std::vector<std::uint8_t> grid_labels(classes * classes);
    for (std::size_t i = 0; i < grid_labels.size(); ++i) grid_labels[i] = static_cast<std::uint8_t>(i / classes);

    std::printf("%s: %zu images of %zux%zu with labels, %zu batches of %zu per epoch\n", s.data.c_str(), data.size(),
                data.rows(), data.cols(), batches_per_epoch, s.batch);
    std::printf("G %s, %zu parameters\nD %s, %zu parameters\n", describe<Generator>().c_str(),
                Generator::parameter_count, describe<Discriminator>().c_str(), Discriminator::parameter_count);

    if (s.overwrite) xgan_examples::delete_previous_run(out);
    std::filesystem::create_directories(out);
    CsvLog log(out / "log.csv", {"agreement"});
    log.truncate_after(trainer.steps());
    Progress progress(total_steps, std::cerr, {.start_step = trainer.steps(), .label = "training"});
    std::filesystem::path last_grid;
    double last_agreement = std::numeric_limits<double>::quiet_NaN();
    while (trainer.steps() < total_steps) {
        if (trainer.steps() % batches_per_epoch == 0)
            order_rng = xgan_examples::epoch_rng(s.seed, trainer.steps() / batches_per_epoch);
        data.next_batch(real, labels, order_rng);
        const StepStats stats = trainer.step(real, labels);
        const bool due = stats.step % s.grid_every == 0 || stats.step == total_steps;
        const double agreement = due ? measure_agreement(trainer, classifier, s.seed + 2).overall
                                     : std::numeric_limits<double>::quiet_NaN();
        if (due) last_agreement = agreement;
        log.append(stats, {agreement});
        char extra[96];
        std::snprintf(extra, sizeof extra, "D(real) %.3f  G loss %.3f  agreement %.1f%%", stats.d_accuracy,
                      stats.g_loss, 100 * last_agreement);
        progress.update(stats.step, extra);
        if (due) {
            char name[64];
            std::snprintf(name, sizeof name, "samples_%06llu.png", static_cast<unsigned long long>(stats.step));
            last_grid = out / name;
            save_image_grid(last_grid, trainer.generate(grid_noise, grid_labels), data.rows(), data.cols(), classes, {},
                            {.scale = 2});
            save_checkpoint(trainer, checkpoint);
        }
    }
    progress.finish();
    save_training_plot(out / "training.png", read_csv_log(out / "log.csv"), {.title = "Conditional GAN on Fashion-MNIST"});

    const Agreement final_agreement = measure_agreement(trainer, classifier, s.seed + 2);
    std::printf("classifier agreement with the requested class (100 samples each):\n");
    for (std::size_t c = 0; c < classes; ++c)
        std::printf("  %-12s %5.1f%%\n", std::string(fashion_mnist::class_names[c]).c_str(),
                    100 * final_agreement.per_class[c]);
    std::printf("agreement: %.1f%% of 1000 samples (target %u%%)\n", 100 * final_agreement.overall, min_agreement);
    if (!last_grid.empty())
        std::printf("wrote %s (one row per class), %s, %s and %s\n", last_grid.string().c_str(),
                    (out / "training.png").string().c_str(), (out / "log.csv").string().c_str(),
                    checkpoint.string().c_str());
    if (100 * final_agreement.overall < min_agreement) {
        std::fprintf(stderr, "05_conditional_gan: agreement %.1f%% is below --min-agreement %u%%\n",
                     100 * final_agreement.overall, min_agreement);
        return 3;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    xgan_examples::ImageRunSettings s;
    s.data = std::string(fashion_mnist::train_images);
    s.steps = 12000;
    s.batch = 64;
    s.output = "conditional_gan";
    s.grid_every = 1000;
    std::string labels = std::string(fashion_mnist::train_labels);
    unsigned min_agreement = 80;
    xgan_examples::CommandLine command_line("Conditional GAN on Fashion-MNIST: a 10 x 10 grid, one row per class");
    xgan_examples::add_image_run_options(command_line, s, "initialisation, noise, labels, dropout and data order");
    command_line.add_option("--labels", labels, "IDX labels file of --data (raw or .gz)").show_default();
    command_line
        .add_option("--min-agreement", min_agreement,
                    "Exit with code 3 when the classifier agrees with fewer than this percent of the requested classes")
        .show_default()
        .check_range(0, 100);
    if (const auto exit_code = command_line.parse(argc, argv)) return *exit_code;
    return xgan_examples::run_image_example(argc, argv, s, "05_conditional_gan",
                                            [&] { return train(s, labels, min_agreement); });
}
