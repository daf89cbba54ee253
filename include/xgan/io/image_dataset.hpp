// Image datasets from IDX files (MNIST, Fashion-MNIST): pixels scaled to [-1, 1] and
// served in shuffled minibatches, one pass over the data per epoch.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/idx.hpp>

namespace xgan {

// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
namespace fashion_mnist {
inline constexpr std::string_view directory = "/usr/share/datasets/fashion-mnist";
inline constexpr std::string_view train_images = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
inline constexpr std::string_view train_labels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
inline constexpr std::string_view test_images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
inline constexpr std::string_view test_labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
// The name of each label value 0..9.
inline constexpr std::array<std::string_view, 10> class_names = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}  // namespace fashion_mnist

namespace detail {

// Fisher-Yates: every permutation equally likely, a fixed function of the Rng's state.
inline void shuffle(std::span<std::size_t> values, Rng& rng) {
    for (std::size_t i = values.size(); i > 1; --i) {
        const auto j = static_cast<std::size_t>(rng.below(i));
        std::swap(values[i - 1], values[j]);
    }
}

}  // namespace detail

// N images of rows x cols unsigned-byte pixels, optionally with N labels (any byte
// values), served as minibatches {batch, rows * cols} of pixel / 127.5 - 1 in [-1, 1].
//
// Epochs: each epoch visits the images in a fresh Fisher-Yates order drawn from the Rng
// passed to next_batch, each image at most once. An epoch ends after the batch that leaves
// fewer unused images than its own row count; those last N % batch images of the epoch's
// order are dropped, so every batch is full and no batch straddles two epochs.
class ImageDataset {
public:
    // Reads images (3 dimensions: count x rows x cols) and, if given, labels (1 dimension).
    explicit ImageDataset(const std::filesystem::path& images) : ImageDataset(read_idx(images)) {}
    ImageDataset(const std::filesystem::path& images, const std::filesystem::path& labels)
        : ImageDataset(read_idx(images), read_idx(labels)) {}

    // From parsed IDX arrays; their `source` names them in error messages.
    explicit ImageDataset(idx_array images, std::optional<idx_array> labels = std::nullopt)
        : images_(std::move(images)), labels_(std::move(labels)) {
        check_array(images_);
        if (images_.rank() != 3)
            XGAN_THROW(dataset_error, "xgan::ImageDataset: ", images_.source,
                       ": expected images (3 dimensions: count x rows x columns), the file has ", images_.rank(),
                       images_.rank() == 1 ? " dimension" : " dimensions", " (", detail::idx::shape_text(images_.shape),
                       ")", images_.rank() == 1 ? "; is it a labels file?" : "");
        if (labels_) {
            check_array(*labels_);
            if (labels_->rank() != 1)
                XGAN_THROW(dataset_error, "xgan::ImageDataset: ", labels_->source,
                           ": expected labels (1 dimension: count), the file has ", labels_->rank(), " dimensions (",
                           detail::idx::shape_text(labels_->shape), ")");
            if (labels_->shape[0] != images_.shape[0])
                XGAN_THROW(dataset_error, "xgan::ImageDataset: ", labels_->source, " holds ", labels_->shape[0],
                           labels_->shape[0] == 1 ? " label" : " labels", " but ", images_.source, " holds ",
                           images_.shape[0], images_.shape[0] == 1 ? " image" : " images");
        }
        order_.resize(size());
        std::iota(order_.begin(), order_.end(), std::size_t{0});
    }

    std::size_t size() const { return images_.shape[0]; }
    std::size_t rows() const { return images_.shape[1]; }
    std::size_t cols() const { return images_.shape[2]; }
    // Values per sample: the width of a batch.
    std::size_t sample_size() const { return rows() * cols(); }
    const std::string& images_source() const { return images_.source; }

    bool has_labels() const { return labels_.has_value(); }
    // All labels, in file order (empty without labels).
    std::span<const std::uint8_t> labels() const {
        return labels_ ? std::span<const std::uint8_t>(labels_->data) : std::span<const std::uint8_t>{};
    }
    // Image i's raw pixels, row by row.
    std::span<const std::uint8_t> image(std::size_t i) const {
        if (i >= size())
            XGAN_THROW(std::out_of_range, "xgan::ImageDataset::image: index ", i, " out of range (", size(), " images)");
        return std::span<const std::uint8_t>(images_.data).subspan(i * sample_size(), sample_size());
    }

    // The value a pixel becomes in a batch: 0 -> -1, 255 -> 1.
    template <std::floating_point T = float>
    static constexpr T scale(std::uint8_t pixel) {
        return static_cast<T>(pixel) / T(127.5) - T(1);
    }

    // Throws dataset_error unless a network reading `input_size` values per sample fits these images.
    void check_input_size(std::size_t input_size) const {
        if (input_size != sample_size())
            XGAN_THROW(dataset_error, "xgan::ImageDataset: the network reads ", input_size, " values per sample but ",
                       images_.source, " holds ", rows(), "x", cols(), " = ", sample_size(), "-pixel images");
    }
    // The same for a network type: check_input_size<Discriminator>().
    template <class Net>
        requires requires {
            { Net::input_size } -> std::convertible_to<std::size_t>;
        }
    void check_input_size() const {
        check_input_size(static_cast<std::size_t>(Net::input_size));
    }

    // Throws dataset_error unless every label is below `classes` (a conditional network's
    // class count: Conditional<Classes, ...>), naming the first that is not, and its index.
    void check_classes(std::size_t classes) const {
        if (!labels_)
            XGAN_THROW(dataset_error, "xgan::ImageDataset: ", images_.source,
                       " was loaded without labels; a conditional network needs the labels file too");
        const std::vector<std::uint8_t>& values = labels_->data;
        for (std::size_t i = 0; i < values.size(); ++i)
            if (values[i] >= classes)
                XGAN_THROW(dataset_error, "xgan::ImageDataset: ", labels_->source, ": label ", unsigned{values[i]},
                           " at index ", i, " is not below the class count ", classes);
    }
    // The same for a network type: check_classes<Discriminator>() (conditional_classes_v).
    template <class Net>
        requires requires {
            { Net::classes } -> std::convertible_to<std::size_t>;
        }
    void check_classes() const {
        check_classes(static_cast<std::size_t>(Net::classes));
    }

    // Full batches of `batch_size` rows per epoch.
    std::size_t batches_per_epoch(std::size_t batch_size) const { return batch_size == 0 ? 0 : size() / batch_size; }

    // Fills every row of `batch` {rows, sample_size()} with the next images of this epoch's
    // order, scaled to [-1, 1]; starts a new epoch (a new order drawn from rng) when needed.
    // Allocates nothing.
    template <std::floating_point T>
    void next_batch(matrix<T>& batch, Rng& rng) {
        fill(batch, nullptr, rng, "xgan::ImageDataset::next_batch");
    }
    // The same, and labels[r] = the label of the image in row r.
    template <std::floating_point T>
    void next_batch(matrix<T>& batch, std::span<std::uint8_t> labels, Rng& rng) {
        const char* who = "xgan::ImageDataset::next_batch";
        if (!labels_) XGAN_THROW(std::invalid_argument, who, ": ", images_.source, " was loaded without labels");
        if (labels.size() != batch.shape()[0])
            XGAN_THROW(std::invalid_argument, who, ": the batch has ", batch.shape()[0], " rows but the label span ",
                       labels.size(), " elements");
        fill(batch, labels.data(), rng, who);
    }

    // Completed epochs.
    std::size_t epoch() const { return epoch_; }
    // Batches drawn since construction (or rewind).
    std::size_t step() const { return step_; }
    // Images of the current epoch's order already served.
    std::size_t position() const { return started_ ? position_ : 0; }
    // The current epoch's order of image indices (file order before the first batch).
    std::span<const std::size_t> order() const { return order_; }
    // Back to the state after construction: epoch 0, step 0, file order.
    void rewind() {
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        epoch_ = step_ = position_ = 0;
        started_ = false;
    }

private:
    static void check_array(const idx_array& array) {
        if (array.type != idx_type::unsigned_byte || array.rank() == 0 || array.size() != array.data.size())
            XGAN_THROW(dataset_error, "xgan::ImageDataset: ", array.source,
                       ": inconsistent idx_array (element type, shape and data size disagree)");
        for (const std::size_t d : array.shape)
            if (d == 0) XGAN_THROW(dataset_error, "xgan::ImageDataset: ", array.source, ": a dimension is 0");
    }

    template <class T>
    void fill(matrix<T>& batch, std::uint8_t* labels, Rng& rng, const char* who) {
        const std::size_t n = batch.shape()[0], width = batch.shape()[1];
        if (width != sample_size())
            XGAN_THROW(std::invalid_argument, who, ": the batch has ", width, " columns but ", images_.source, " holds ",
                       rows(), "x", cols(), " = ", sample_size(), "-pixel images");
        if (n == 0) XGAN_THROW(std::invalid_argument, who, ": the batch is empty (0 rows)");
        if (n > size())
            XGAN_THROW(std::invalid_argument, who, ": a batch of ", n, " rows needs at least ", n, " images, ",
                       images_.source, " holds ", size());
        if (started_ && position_ + n > size()) end_epoch();  // a larger batch than the last one
        if (!started_) {
            std::iota(order_.begin(), order_.end(), std::size_t{0});
            detail::shuffle(order_, rng);
            position_ = 0;
            started_ = true;
        }
        T table[256];
        for (unsigned v = 0; v < 256; ++v) table[v] = scale<T>(static_cast<std::uint8_t>(v));
        T* out = batch.data();
        for (std::size_t r = 0; r < n; ++r) {
            const std::size_t index = order_[position_ + r];
            const std::uint8_t* pixels = images_.data.data() + index * width;
            for (std::size_t k = 0; k < width; ++k) out[r * width + k] = table[pixels[k]];
            if (labels) labels[r] = labels_->data[index];
        }
        position_ += n;
        ++step_;
        if (position_ + n > size()) end_epoch();
    }

    void end_epoch() {
        ++epoch_;
        started_ = false;
    }

    idx_array images_;
    std::optional<idx_array> labels_;
    std::vector<std::size_t> order_;
    std::size_t epoch_ = 0, step_ = 0, position_ = 0;
    bool started_ = false;  // order_ holds the current epoch's shuffle
};

}  // namespace xgan
