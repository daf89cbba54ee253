// fashion_classifier: trains the Fashion-MNIST classifier behind xgan's Frechet
// classifier distance (FCD), and prints the reference distances of the metrics page.
//
//   fashion_classifier train [OUT.npz] [EPOCHS]
//       Trains xgan::FashionClassifier (<xgan/metrics/fashion_classifier.hpp>) with xgan:
//       softmax cross-entropy (its gradient written below), Adam(lr 1e-3), batches of 100,
//       EPOCHS (20) passes over the 60,000 training images in an order drawn from seed 1;
//       measures the accuracy on the 10,000 test images and writes both to OUT.npz
//       (models/fashion_mnist_classifier.npz). Deterministic for one BLAS.
//   fashion_classifier reference [CLASSIFIER.npz] [SAMPLES]
//       Prints the FCD against the 60,000 training images of: the first SAMPLES (10,000)
//       test images, SAMPLES other training images (the last ones, also in the reference),
//       SAMPLES images of uniform noise in [-1, 1], and SAMPLES all-black images plus noise.
//   fashion_classifier score SAMPLES.npy [CLASSIFIER.npz]
//       Prints the FCD against the 60,000 training images of the images in SAMPLES.npy
//       (float32 {n, 784} in [-1, 1], as numpy.save writes them): another program's samples,
//       such as tools/mnist_mlp_gan_torch.py's.
//
// Both read Fashion-MNIST from Debian's dataset-fashion-mnist package.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/npy.hpp>
#include <xgan/metrics.hpp>
#include <xgan/optim/adam.hpp>

namespace {

using xgan::FashionClassifier;
using xgan::matrix;

// All images of a dataset as one batch {n, 784} in [-1, 1] (rows [begin, begin + count)).
matrix<float> all_images(const xgan::ImageDataset& data, std::size_t begin = 0, std::size_t count = SIZE_MAX) {
    count = std::min(count, data.size() - begin);
    matrix<float> x({count, data.sample_size()});
    for (std::size_t i = 0; i < count; ++i) {
        const auto pixels = data.image(begin + i);
        for (std::size_t c = 0; c < pixels.size(); ++c) x(i, c) = xgan::ImageDataset::scale(pixels[c]);
    }
    return x;
}

// The share of images whose largest class score is their label.
double accuracy(const FashionClassifier& net, const xgan::ImageDataset& data) {
    const matrix<float> logits = net.forward(all_images(data));
    std::size_t right = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < 10; ++k)
            if (logits(i, k) > logits(i, best)) best = k;
        right += best == data.labels()[i] ? 1 : 0;
    }
    return static_cast<double>(right) / static_cast<double>(data.size());
}

// Mean softmax cross-entropy of logits {b, 10} against labels, and its gradient with
// respect to the logits: (softmax - one_hot) / b.
double cross_entropy(const matrix<float>& logits, std::span<const std::uint8_t> labels, matrix<float>& gradient) {
    const std::size_t b = logits.shape()[0], k = logits.shape()[1];
    double loss = 0;
    for (std::size_t i = 0; i < b; ++i) {
        float top = logits(i, 0);
        for (std::size_t j = 1; j < k; ++j) top = std::max(top, logits(i, j));
        double sum = 0;
        for (std::size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(logits(i, j) - top));
        loss += std::log(sum) - static_cast<double>(logits(i, labels[i]) - top);
        for (std::size_t j = 0; j < k; ++j) {
            const double p = std::exp(static_cast<double>(logits(i, j) - top)) / sum;
            gradient(i, j) = static_cast<float>((p - (j == labels[i] ? 1.0 : 0.0)) / static_cast<double>(b));
        }
    }
    return loss / static_cast<double>(b);
}

int train(const std::string& out, std::uint64_t epochs) {
    namespace fm = xgan::fashion_mnist;
    xgan::ImageDataset train_set(fm::train_images, fm::train_labels);
    const xgan::ImageDataset test_set(fm::test_images, fm::test_labels);
    constexpr std::size_t batch = 100;
    xgan::Rng rng(1);
    FashionClassifier net(rng);
    const xgan::Adam adam{.lr = 1e-3};
    xgan::Adam::state<float> state(FashionClassifier::parameter_count);
    std::vector<float> gradient(FashionClassifier::parameter_count);
    FashionClassifier::Workspace ws;
    ws.resize(batch);
    std::vector<std::uint8_t> labels(batch);
    const std::size_t batches = train_set.batches_per_epoch(batch);
    for (std::uint64_t epoch = 1; epoch <= epochs; ++epoch) {
        double loss = 0;
        for (std::size_t step = 0; step < batches; ++step) {
            train_set.next_batch(ws.input(), labels, rng);
            net.forward(ws);
            loss += cross_entropy(ws.output(), labels, ws.gradients[FashionClassifier::layer_count]);
            net.backward(ws, gradient, false, xgan::GradientMode::overwrite);
            state.step(adam, net.parameters(), gradient);
        }
        std::printf("epoch %2llu: mean training loss %.4f, test accuracy %.4f\n",
                    static_cast<unsigned long long>(epoch), loss / static_cast<double>(batches),
                    accuracy(net, test_set));
        std::fflush(stdout);
    }
    const xgan::FashionClassifierInfo info{.test_accuracy = accuracy(net, test_set)};
    xgan::save_fashion_classifier(net, info, out);
    std::printf("wrote %s: test accuracy %.4f (%zu parameters)\n", out.c_str(), info.test_accuracy,
                FashionClassifier::parameter_count);
    return 0;
}

int reference(const std::string& classifier, std::size_t samples) {
    namespace fm = xgan::fashion_mnist;
    const xgan::ImageDataset train_set(fm::train_images);
    const xgan::ImageDataset test_set(fm::test_images);
    samples = std::min(samples, test_set.size());
    const xgan::FrechetClassifierDistance fcd(xgan::load_fashion_classifier(classifier), train_set);
    std::printf("FCD against the %zu training images, %zu samples each:\n", train_set.size(), samples);
    std::printf("  test images            %8.3f\n", fcd(all_images(test_set, 0, samples)));
    std::printf("  training images        %8.3f\n", fcd(all_images(train_set, train_set.size() - samples, samples)));
    xgan::Rng rng(7);
    matrix<float> noise({samples, std::size_t{784}});
    for (float& v : noise) v = static_cast<float>(rng.uniform(-1, 1));
    std::printf("  uniform noise          %8.3f\n", fcd(noise));
    matrix<float> dark({samples, std::size_t{784}});
    for (float& v : dark) v = -1 + static_cast<float>(rng.uniform(0, 0.1));
    std::printf("  black, noise 0.1       %8.3f\n", fcd(dark));
    return 0;
}

int score(const std::string& samples_path, const std::string& classifier) {
    std::ifstream in(samples_path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + samples_path);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const xgan::npy::array a = xgan::npy::decode(bytes, samples_path);
    if (a.dtype != "<f4" || a.shape.size() != 2 || a.shape[1] != 784 || a.shape[0] < 2)
        throw std::runtime_error(samples_path + ": expected float32 samples {n >= 2, 784}, got " + a.dtype + " of " +
                                 std::to_string(a.shape.size()) + " dimension(s)");
    matrix<float> x({a.shape[0], a.shape[1]});
    std::memcpy(x.data(), a.data.data(), x.size() * sizeof(float));
    const xgan::ImageDataset train_set(xgan::fashion_mnist::train_images);
    const xgan::FrechetClassifierDistance fcd(xgan::load_fashion_classifier(classifier), train_set);
    std::printf("%s: FCD %.3f (%zu samples, against the %zu training images)\n", samples_path.c_str(), fcd(x),
                a.shape[0], train_set.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!args.empty() && args[0] == "train" && args.size() <= 3)
            return train(args.size() > 1 ? args[1] : "fashion_mnist_classifier.npz",
                         args.size() > 2 ? std::stoull(args[2]) : 20);
        if (!args.empty() && args[0] == "reference" && args.size() <= 3)
            return reference(args.size() > 1 ? args[1] : "fashion_mnist_classifier.npz",
                             args.size() > 2 ? std::stoull(args[2]) : 10000);
        if (!args.empty() && args[0] == "score" && (args.size() == 2 || args.size() == 3))
            return score(args[1], args.size() > 2 ? args[2] : "fashion_mnist_classifier.npz");
        std::fprintf(stderr, "usage: fashion_classifier train [OUT.npz] [EPOCHS]\n"
                             "       fashion_classifier reference [CLASSIFIER.npz] [SAMPLES]\n"
                             "       fashion_classifier score SAMPLES.npy [CLASSIFIER.npz]\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fashion_classifier: %s\n", e.what());
        return 1;
    }
}
