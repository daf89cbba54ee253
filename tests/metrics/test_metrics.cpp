// <xgan/metrics.hpp>: the Frechet distance and feature statistics against NumPy/SciPy,
// the KS statistic against scipy.stats.kstest (tests/metrics/generate.py wrote
// tests/metrics/data/*.txt), mode coverage on placed samples, and the committed
// Fashion-MNIST classifier: its stated test accuracy and the order of its distances; and
// column_plot, which draws the distance the image examples log.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <xgan/io/image_dataset.hpp>
#include <xgan/io/training_plot.hpp>
#include <xgan/metrics.hpp>

#include "golden/golden_data.hpp"

namespace {

const std::string data_dir = XGAN_TEST_DATA_DIR "/data/";
const std::string classifier_path = XGAN_CLASSIFIER_PATH;

xt::xtensor<double, 2> as_matrix(const golden::block& b) {
    xt::xtensor<double, 2> m({b.rows, b.cols});
    std::copy(b.values.begin(), b.values.end(), m.begin());
    return m;
}

bool close(double a, double b, double rtol, double atol = 0) { return std::abs(a - b) <= atol + rtol * std::abs(b); }

}  // namespace

TEST_CASE("feature_statistics: the mean and the unbiased covariance, as numpy.mean and numpy.cov") {
    const auto golden = golden::data_file::load(data_dir + "frechet.txt");
    for (const std::string name : {"random", "singular", "fewer"}) {
        CAPTURE(name);
        const auto a = as_matrix(golden.get(name + ".a"));
        const xgan::FeatureStatistics s = xgan::feature_statistics(a);
        const golden::block& mean = golden.get(name + ".mean_a", 1, a.shape()[1]);
        const golden::block& cov = golden.get(name + ".cov_a", a.shape()[1], a.shape()[1]);
        REQUIRE(s.count == a.shape()[0]);
        REQUIRE(s.dimension() == a.shape()[1]);
        for (std::size_t i = 0; i < s.dimension(); ++i) REQUIRE(close(s.mean(i), mean.values[i], 1e-12, 1e-15));
        for (std::size_t i = 0; i < cov.values.size(); ++i)
            REQUIRE(close(s.covariance.data()[i], cov.values[i], 1e-10, 1e-13));
    }
}

// Against the exact distance (60-digit arithmetic on the same data) and SciPy's. Near a
// singular covariance the square roots of eigenvalues near 0 amplify rounding (an
// eigenvalue off by 1e-16 gives a root of 1e-8): SciPy's sqrtm of C1 C2 is 1.3e-8 relative
// off the exact value in the case "fewer" (5 samples in 8 dimensions); xgan, which takes
// eigenvalues below the numerical rank's threshold as 0, is exact to 1e-15 there and
// 4e-10 off in "singular" (an eigenvalue of 1e-12, genuinely not 0), as SciPy is.
TEST_CASE("frechet_distance equals the exact distance and SciPy's (pytorch-fid's), near-singular covariances included") {
    const auto golden = golden::data_file::load(data_dir + "frechet.txt");
    for (const std::string name : {"random", "singular", "fewer", "same"}) {
        CAPTURE(name);
        const auto a = as_matrix(golden.get(name + ".a"));
        const auto b = as_matrix(golden.get(name + ".b"));
        const double scipy = golden.scalar(name + ".distance"), exact = golden.scalar(name + ".exact");
        const double d = xgan::frechet_distance(a, b), reversed = xgan::frechet_distance(b, a);
        CAPTURE(d, reversed, exact, scipy, (d - exact) / exact, (reversed - exact) / exact);
        REQUIRE(close(d, exact, 1e-9, 1e-9));
        REQUIRE(close(reversed, exact, 1e-9, 1e-9));  // symmetric
        REQUIRE(close(d, scipy, 2e-8, 1e-9));
    }
}

TEST_CASE("frechet_distance: a shift of the mean adds its squared length; float features are read as double") {
    const auto golden = golden::data_file::load(data_dir + "frechet.txt");
    const auto a = as_matrix(golden.get("random.a"));
    xt::xtensor<double, 2> shifted = a;
    for (std::size_t i = 0; i < a.shape()[0]; ++i) shifted(i, 0) += 3, shifted(i, 4) -= 4;
    REQUIRE(close(xgan::frechet_distance(a, shifted), 25, 1e-9));
    const xt::xtensor<float, 2> f = xt::cast<float>(a);
    REQUIRE(xgan::frechet_distance(f, a) < 1e-5);
}

TEST_CASE("frechet_distance and feature_statistics refuse what is not two sets of feature vectors") {
    const xt::xtensor<double, 2> a = {{0, 1}, {2, 3}, {4, 6}};
    const xt::xtensor<double, 2> three = {{0, 1, 2}, {2, 3, 1}};
    REQUIRE_THROWS_WITH(xgan::frechet_distance(a, three), Catch::Contains("2 and 3 dimensions"));
    const xt::xtensor<double, 2> one = {{1, 2}};
    REQUIRE_THROWS_WITH(xgan::feature_statistics(one), Catch::Contains("at least 2 samples"));
    const xt::xtensor<double, 1> flat = {1, 2, 3};
    REQUIRE_THROWS_WITH(xgan::feature_statistics(flat), Catch::Contains("got 1 dimension"));
    xt::xtensor<double, 2> bad = a;
    bad(2, 1) = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_WITH(xgan::feature_statistics(bad), Catch::Contains("feature 1 of sample 2 is nan"));
}

TEST_CASE("ks_statistic equals scipy.stats.kstest's statistic") {
    const auto golden = golden::data_file::load(data_dir + "ks.txt");
    const auto check = [&](const std::string& name, auto cdf) {
        CAPTURE(name);
        const golden::block& x = golden.get(name + ".x");
        REQUIRE(close(xgan::ks_statistic(x.values, cdf), golden.scalar(name + ".statistic"), 1e-12, 1e-15));
        const std::vector<float> as_float(x.values.begin(), x.values.end());  // float samples work too
        REQUIRE(close(xgan::ks_statistic(as_float, cdf), golden.scalar(name + ".statistic"), 1e-5, 1e-6));
    };
    check("normal_shifted", xgan::normal_cdf(0, 1));
    check("normal_fit", xgan::normal_cdf(0.3, 1.2));
    check("uniform", [](double x) { return std::clamp(x, 0.0, 1.0); });
    check("single", xgan::normal_cdf());
}

TEST_CASE("ks_statistic refuses no samples, non-finite samples and a CDF outside [0, 1]") {
    const std::vector<double> none;
    REQUIRE_THROWS_WITH(xgan::ks_statistic(none, xgan::normal_cdf()), Catch::Contains("no samples"));
    const std::vector<double> nan = {0.5, std::numeric_limits<double>::quiet_NaN()};
    REQUIRE_THROWS_WITH(xgan::ks_statistic(nan, xgan::normal_cdf()), Catch::Contains("sample 1 is nan"));
    const std::vector<double> x = {0.5, 2};
    REQUIRE_THROWS_WITH(xgan::ks_statistic(x, [](double v) { return v; }), Catch::Contains("outside [0, 1]"));
    REQUIRE_THROWS_WITH(xgan::normal_cdf(0, 0), Catch::Contains("std > 0"));
}

TEST_CASE("mode_coverage: samples within 3 std of their nearest mode are of high quality; covered modes have them") {
    // 8 modes on a ring of radius 2 (Unrolled GAN's 2-D mixture), std 0.02: 3 std = 0.06.
    xt::xtensor<double, 2> modes({8, 2});
    for (std::size_t k = 0; k < 8; ++k) {
        const double angle = 2 * 3.141592653589793 * static_cast<double>(k) / 8;
        modes(k, 0) = 2 * std::cos(angle), modes(k, 1) = 2 * std::sin(angle);
    }
    std::vector<std::vector<double>> rows;
    for (int i = 0; i < 10; ++i) rows.push_back({modes(0, 0) + 0.05, modes(0, 1)});  // mode 0, within 0.06
    for (int i = 0; i < 3; ++i) rows.push_back({modes(3, 0), modes(3, 1) - 0.059});  // mode 3, within
    for (int i = 0; i < 5; ++i) rows.push_back({modes(5, 0) + 0.07, modes(5, 1)});   // near mode 5, too far
    for (int i = 0; i < 2; ++i) rows.push_back({0, 0});                              // between all modes
    xt::xtensor<double, 2> samples({rows.size(), 2});
    for (std::size_t i = 0; i < rows.size(); ++i) samples(i, 0) = rows[i][0], samples(i, 1) = rows[i][1];

    const xgan::ModeCoverage c = xgan::mode_coverage(samples, modes, 0.02);
    REQUIRE(c.modes == 8);
    REQUIRE(c.covered == 2);
    REQUIRE(c.high_quality_share == Approx(13.0 / 20.0));
    REQUIRE(c.per_mode == std::vector<std::size_t>{10, 0, 0, 3, 0, 0, 0, 0});
    REQUIRE(xgan::mode_coverage(samples, modes, 0.02, {.min_samples = 4}).covered == 1);
    REQUIRE(xgan::mode_coverage(samples, modes, 0.02, {.within = 4}).covered == 3);  // 0.08 reaches mode 5's

    // 1-D: a mixture of N(-2, 0.1) and N(2, 0.1), samples all at one mode.
    const xt::xtensor<double, 2> modes_1d = {{-2}, {2}};
    const xt::xtensor<float, 2> left = {{-2.1f}, {-1.65f}, {-2.2f}};  // -1.65: 3.5 std off
    const xgan::ModeCoverage one = xgan::mode_coverage(left, modes_1d, 0.1);
    REQUIRE(one.covered == 1);
    REQUIRE(one.high_quality_share == Approx(2.0 / 3.0));
}

TEST_CASE("mode_coverage refuses shapes that do not fit, std <= 0 and non-finite samples") {
    const xt::xtensor<double, 2> modes = {{0, 0}, {1, 1}};
    const xt::xtensor<double, 2> three = {{0, 0, 0}};
    REQUIRE_THROWS_WITH(xgan::mode_coverage(three, modes, 1), Catch::Contains("d = 3 and 2"));
    REQUIRE_THROWS_WITH(xgan::mode_coverage(modes, modes, 0), Catch::Contains("std is 0"));
    xt::xtensor<double, 2> nan = modes;
    nan(1, 0) = std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_WITH(xgan::mode_coverage(nan, modes, 1), Catch::Contains("sample 1 holds inf"));
    REQUIRE_THROWS_WITH(xgan::mode_coverage(modes, modes, 1, {.min_samples = 0}), Catch::Contains("min_samples"));
}

namespace {

// Whether Debian's dataset-fashion-mnist is installed. CI installs it (scripts/install-deps),
// so there its absence fails the test; elsewhere the test is skipped with a warning.
bool fashion_mnist_installed() {
    if (std::filesystem::exists(xgan::fashion_mnist::test_images) &&
        std::filesystem::exists(xgan::fashion_mnist::test_labels))
        return true;
    const char* ci = std::getenv("CI");
    if (ci && *ci && std::string_view(ci) != "false" && std::string_view(ci) != "0")
        FAIL(xgan::fashion_mnist::test_images << " is not installed, and CI=" << ci
                                              << " requires it: apt-get install dataset-fashion-mnist");
    WARN("skipped: " << xgan::fashion_mnist::test_images
                     << " is not installed (apt-get install dataset-fashion-mnist)");
    return false;
}

xgan::matrix<float> images(const xgan::ImageDataset& data, std::size_t begin, std::size_t count) {
    xgan::matrix<float> x({count, data.sample_size()});
    for (std::size_t i = 0; i < count; ++i) {
        const auto pixels = data.image(begin + i);
        for (std::size_t c = 0; c < pixels.size(); ++c) x(i, c) = xgan::ImageDataset::scale(pixels[c]);
    }
    return x;
}

}  // namespace

// The committed weights: small, and as accurate on the 10,000 test images as the file
// (and docs/reference/metrics.md) says.
TEST_CASE("the committed Fashion-MNIST classifier is small and has its stated test accuracy") {
    REQUIRE(std::filesystem::file_size(classifier_path) < 400 * 1024);
    if (!fashion_mnist_installed()) return;
    xgan::FashionClassifierInfo info;
    const xgan::FashionClassifier net = xgan::load_fashion_classifier(classifier_path, &info);
    const xgan::ImageDataset test(xgan::fashion_mnist::test_images, xgan::fashion_mnist::test_labels);
    const xgan::matrix<float> logits = net.forward(images(test, 0, test.size()));
    std::size_t right = 0;
    for (std::size_t i = 0; i < test.size(); ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < 10; ++k)
            if (logits(i, k) > logits(i, best)) best = k;
        right += best == test.labels()[i] ? 1 : 0;
    }
    const double accuracy = static_cast<double>(right) / static_cast<double>(test.size());
    CAPTURE(accuracy, info.test_accuracy);
    REQUIRE(std::abs(accuracy - info.test_accuracy) <= 0.002);  // 20 images: another BLAS may round differently
    REQUIRE(accuracy > 0.86);
}

TEST_CASE("FrechetClassifierDistance: real images are near real images, noise and half-erased images far") {
    if (!fashion_mnist_installed()) return;
    const xgan::ImageDataset test(xgan::fashion_mnist::test_images);
    const xgan::FrechetClassifierDistance fcd(xgan::load_fashion_classifier(classifier_path), images(test, 0, 5000));
    REQUIRE(fcd.reference().count == 5000);
    REQUIRE(fcd.reference().dimension() == xgan::fashion_feature_size);
    const double real = fcd(images(test, 5000, 2000));
    xgan::Rng rng(3);
    xgan::matrix<float> noise({2000, std::size_t{784}});
    for (float& v : noise) v = static_cast<float>(rng.uniform(-1, 1));
    const double noisy = fcd(noise);
    xgan::matrix<float> blank = images(test, 5000, 2000);
    for (std::size_t i = 0; i < blank.shape()[0]; ++i)
        for (std::size_t c = 392; c < 784; ++c) blank(i, c) = -1;  // the lower half erased
    const double half = fcd(blank);
    CAPTURE(real, half, noisy);
    REQUIRE(real < 0.1 * half);
    REQUIRE(real < 0.1 * noisy);
    REQUIRE(fcd(images(test, 0, 2000)) < real);  // images in the reference are nearer still
}

TEST_CASE("load_fashion_classifier refuses another network's file, naming it") {
    const auto path = std::filesystem::temp_directory_path() / "xgan_test_metrics_other.npz";
    xgan::npz::writer out;
    out.add_string("architecture", "Sequential(Dense(784, 10))");
    out.save(path);
    REQUIRE_THROWS_WITH(xgan::load_fashion_classifier(path),
                        Catch::Contains("xgan_test_metrics_other.npz") &&
                            Catch::Contains("the classifier is Sequential(Dense(784, 10))"));
    std::filesystem::remove(path);
}

TEST_CASE("column_plot draws a logged column such as the examples' fcd, and names the columns a log has") {
    xgan::TrainingLog log;
    log.extra_columns = {"lr", "fcd"};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::uint64_t step = 1; step <= 6; ++step) {
        xgan::LogRow row;
        row.stats.step = step;
        row.extra = {1e-3, step % 3 == 0 ? 100.0 / static_cast<double>(step) : nan};
        log.rows.push_back(row);
    }
    const auto path = std::filesystem::temp_directory_path() / "xgan_test_metrics_fcd.png";
    xgan::save_column_plot(path, log, "fcd");
    REQUIRE(std::filesystem::file_size(path) > 1000);
    std::filesystem::remove(path);
    REQUIRE_THROWS_WITH(xgan::column_plot(log, "FCD"), Catch::Contains("no column 'FCD'") &&
                                                           Catch::Contains("its extra columns are: lr, fcd"));
}
