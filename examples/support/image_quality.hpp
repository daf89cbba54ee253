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

#include "image_run.hpp"

namespace xgan_examples {

template <class T, std::size_t Latent>
class FcdMonitor {
public:
    // Loads the classifier and the training images' feature statistics, unless
    // --fcd-every is 0. Throws (naming the file) when the classifier cannot be read or
    // the images are not 28x28.
    FcdMonitor(const ImageRunSettings& s, const xgan::ImageDataset& data) : every_(s.fcd_every) {
        if (every_ == 0) return;
        fcd_.emplace(xgan::load_fashion_classifier(s.classifier), data);
        noise_.resize({s.fcd_samples, Latent});
        xgan::Rng(s.seed + 2).fill_normal(std::span<T>(noise_.data(), noise_.size()));
    }

    bool due(std::uint64_t step) const { return every_ > 0 && step % every_ == 0; }

    // The FCD of trainer.generate(the fixed noise), generated 500 samples at a time.
    template <class Trainer>
    double measure(Trainer& trainer) const {
        const std::size_t n = noise_.shape()[0], pixels = xgan::FashionClassifier::input_size;
        xgan::matrix<T> images({n, pixels}), chunk;
        for (std::size_t begin = 0; begin < n; begin += 500) {
            const std::size_t rows = std::min<std::size_t>(500, n - begin);
            chunk.resize({rows, Latent});
            std::copy_n(noise_.begin() + static_cast<std::ptrdiff_t>(begin * Latent), rows * Latent, chunk.begin());
            const auto samples = trainer.generate(chunk);
            std::copy(samples.begin(), samples.end(), images.begin() + static_cast<std::ptrdiff_t>(begin * pixels));
        }
        return (*fcd_)(images);
    }

private:
    std::uint64_t every_;
    std::optional<xgan::FrechetClassifierDistance> fcd_;
    xgan::matrix<T> noise_;
};

}  // namespace xgan_examples
