// The Frechet classifier distance (FCD) of Fashion-MNIST images: the Frechet distance
// (metrics/frechet.hpp) between the features that a small Fashion-MNIST classifier,
// trained with xgan, computes for real and for generated images, so that the quality of
// a generator's samples is a number computed from C++ alone (FID's idea, with a network
// made for 28x28 clothes in place of Inception).
//
//     const auto classifier = xgan::load_fashion_classifier("fashion_mnist_classifier.npz");
//     const xgan::FrechetClassifierDistance fcd(classifier, real_images);  // {n, 784} in [-1, 1]
//     const double quality = fcd(generated_images);                        // lower is better
//
// The classifier, FashionClassifier, reads images as Example 03's generator writes them
// (784 pixels in [-1, 1]: pixel / 127.5 - 1) and its features are the 64 values after its
// second ReLU, the layer before the class scores. Its weights are models/
// fashion_mnist_classifier.npz in xgan's source (installed in share/xgan/), written by
// tools/train_fashion_classifier.cpp with its test accuracy (docs/reference/metrics.md).
// FCD values compare only at equal sample counts (the estimate falls as they grow).
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include <xgan/config.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/metrics/frechet.hpp>

namespace xgan {

// 784 pixels -> 96 -> 64 (the features) -> 10 class scores (logits).
using FashionClassifier = Sequential<Dense<784, 96>, ReLU, Dense<96, 64>, ReLU, Dense<64, 10>>;
// Layers [0, fashion_feature_layers) compute the features.
inline constexpr std::size_t fashion_feature_layers = 4;
inline constexpr std::size_t fashion_feature_size = 64;

// What a classifier file holds beside the weights.
struct FashionClassifierInfo {
    double test_accuracy = 0;  // on the 10,000 Fashion-MNIST test images, measured when saved
};

// Writes `net` and `info` as an .npz: "architecture" (describe<FashionClassifier>()),
// "test_accuracy" and the weights under their state_dict names ("0.weight", ...).
inline void save_fashion_classifier(const FashionClassifier& net, const FashionClassifierInfo& info,
                                    const std::filesystem::path& path) {
    npz::writer out;
    out.add_string("architecture", describe<FashionClassifier>());
    out.add("test_accuracy", {}, &info.test_accuracy, 1);
    for (const auto& p : net.named_parameters()) out.add(p.name, p.shape, p.values.data(), p.values.size());
    out.save(path);
}

// Reads a file save_fashion_classifier wrote. Throws checkpoint_error naming the file and
// the entry when it is missing, of another architecture, shape or type, or not finite.
inline FashionClassifier load_fashion_classifier(const std::filesystem::path& path,
                                                 FashionClassifierInfo* info = nullptr) {
    const npz::reader file(path);
    const detail::checkpoint_reader in(file);
    const std::string found = in.text("architecture");
    if (found != describe<FashionClassifier>())
        XGAN_THROW(checkpoint_error, file.where(), ": the classifier is ", found, " but xgan::FashionClassifier is ",
                   describe<FashionClassifier>());
    FashionClassifier net;
    for (const auto& p : net.named_parameters()) in.values(p.name, p.shape, p.values);
    if (info) in.values("test_accuracy", {}, std::span<double>(&info->test_accuracy, 1));
    return net;
}

// The features {n, 64} of images {n, 784}, computed in batches of at most `batch` rows.
template <class E>
matrix<float> fashion_features(const FashionClassifier& net, const xt::xexpression<E>& images,
                               std::size_t batch = 1000) {
    const auto& x = images.derived_cast();
    if (x.dimension() != 2 || x.shape()[1] != FashionClassifier::input_size || x.shape()[0] == 0)
        XGAN_THROW(std::invalid_argument, "xgan::fashion_features: the images must be a batch {n, 784} with n >= 1",
                   x.dimension() == 2 ? detail::message(", got {", x.shape()[0], ", ", x.shape()[1], "}")
                                      : detail::message(", got ", x.dimension(), " dimension(s)"));
    if (batch == 0) XGAN_THROW(std::invalid_argument, "xgan::fashion_features: batch is 0");
    const std::size_t n = x.shape()[0];
    matrix<float> features({n, fashion_feature_size});
    typename FashionClassifier::Workspace workspace;
    for (std::size_t begin = 0; begin < n; begin += batch) {
        const std::size_t rows = std::min(batch, n - begin);
        workspace.resize(rows);
        auto& in = workspace.input();
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < FashionClassifier::input_size; ++c)
                in(r, c) = static_cast<float>(x(begin + r, c));
        const matrix<float>& out = net.forward<fashion_feature_layers>(workspace);
        std::copy(out.begin(), out.end(), features.begin() + static_cast<std::ptrdiff_t>(begin * fashion_feature_size));
    }
    return features;
}

// The feature statistics of the first `count` images of `data` (all of them by default),
// their features computed 5,000 images at a time. Throws std::invalid_argument unless
// the images are 28x28 and there are at least 2.
inline FeatureStatistics fashion_feature_statistics(const FashionClassifier& net, const ImageDataset& data,
                                                    std::size_t count = std::numeric_limits<std::size_t>::max()) {
    count = std::min(count, data.size());
    if (data.rows() != 28 || data.cols() != 28 || count < 2)
        XGAN_THROW(std::invalid_argument, "xgan::fashion_feature_statistics: the classifier reads 28x28 images, ",
                   data.images_source(), " holds ", count, " of ", data.rows(), "x", data.cols(),
                   count < 2 ? " (a covariance needs at least 2)" : "");
    matrix<float> features({count, fashion_feature_size});
    constexpr std::size_t chunk = 5000;
    matrix<float> images;
    for (std::size_t begin = 0; begin < count; begin += chunk) {
        const std::size_t rows = std::min(chunk, count - begin);
        images.resize({rows, FashionClassifier::input_size});
        for (std::size_t r = 0; r < rows; ++r) {
            const auto pixels = data.image(begin + r);
            for (std::size_t c = 0; c < pixels.size(); ++c) images(r, c) = ImageDataset::scale(pixels[c]);
        }
        const matrix<float> part = fashion_features(net, images);
        std::copy(part.begin(), part.end(), features.begin() + static_cast<std::ptrdiff_t>(begin * fashion_feature_size));
    }
    return feature_statistics(features);
}

// The FCD against one set of real images, whose feature statistics it computes once.
class FrechetClassifierDistance {
public:
    template <class E>
    FrechetClassifierDistance(FashionClassifier classifier, const xt::xexpression<E>& real_images)
        : net_(std::move(classifier)), reference_(feature_statistics(fashion_features(net_, real_images))) {}
    // Against the first `count` images of a dataset (all by default; see fashion_feature_statistics).
    FrechetClassifierDistance(FashionClassifier classifier, const ImageDataset& real,
                              std::size_t count = std::numeric_limits<std::size_t>::max())
        : net_(std::move(classifier)), reference_(fashion_feature_statistics(net_, real, count)) {}

    // The distance of `images` {n >= 2, 784} in [-1, 1] to the real images.
    template <class E>
    double operator()(const xt::xexpression<E>& images) const {
        return frechet_distance(reference_, feature_statistics(fashion_features(net_, images)));
    }

    const FeatureStatistics& reference() const { return reference_; }
    const FashionClassifier& classifier() const { return net_; }

private:
    FashionClassifier net_;
    FeatureStatistics reference_;
};

}  // namespace xgan
