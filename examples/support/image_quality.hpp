// The quality number Examples 03 and 04 log while they train: the Frechet classifier
// distance (FCD, <xgan/metrics.hpp>) of G's samples to the training images, every
// --fcd-every steps, from --fcd-samples samples of one fixed noise batch (seed + 2, apart
// from the training's Rng and the grids' noise), so that successive values compare and a
// resumed run logs what an uninterrupted one does. Lower is better; values compare only
// at one --fcd-samples. The classifier is xgan's Fashion-MNIST one (--classifier): on
// other 28x28 images (MNIST digits) the number still falls as G improves, but its scale
// is not the reference page's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include <xgan/core/random.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/metrics/fashion_classifier.hpp>

#include "image_gan_training.hpp"
#include "image_run.hpp"

namespace xgan_examples {

// Holds the classifier, the training images' statistics and the fixed noise.
class FcdMonitor {
public:
    // Loads the classifier and the training images' feature statistics, unless
    // --fcd-every is 0. Throws (naming the file) when the classifier cannot be read or
    // the images are not 28x28. latent: the generator's noise size.
    FcdMonitor(const ImageRunSettings& s, const xgan::ImageDataset& data, std::size_t latent)
        : every_(s.fcd_every), latent_(latent) {
        if (every_ == 0) return;
        fcd_.emplace(xgan::load_fashion_classifier(s.classifier), data);
        noise_.resize({s.fcd_samples, latent});
        xgan::Rng(s.seed + 2).fill_normal(std::span<float>(noise_.data(), noise_.size()));
    }

    bool due(std::uint64_t step) const { return every_ > 0 && step % every_ == 0; }

    // The FCD of gan.generate(the fixed noise), generated 500 samples at a time.
    double measure(ImageGan& gan) const {
        const std::size_t n = noise_.shape()[0], pixels = xgan::FashionClassifier::input_size;
        xgan::matrix<float> images({n, pixels}), chunk;
        for (std::size_t begin = 0; begin < n; begin += 500) {
            const std::size_t rows = std::min<std::size_t>(500, n - begin);
            chunk.resize({rows, latent_});
            std::copy_n(noise_.begin() + static_cast<std::ptrdiff_t>(begin * latent_), rows * latent_, chunk.begin());
            const xgan::matrix<float> samples = gan.generate(chunk);
            std::copy(samples.begin(), samples.end(), images.begin() + static_cast<std::ptrdiff_t>(begin * pixels));
        }
        return (*fcd_)(images);
    }

private:
    std::uint64_t every_;
    std::size_t latent_;
    std::optional<xgan::FrechetClassifierDistance> fcd_;
    xgan::matrix<float> noise_;
};

}  // namespace xgan_examples
