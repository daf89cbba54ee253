// The Frechet distance between two sets of feature vectors: the squared 2-Wasserstein
// distance between the Gaussians with their means and covariances (the "FID" formula),
//
//     d = |mu1 - mu2|^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2)).
//
//     const xgan::FeatureStatistics real = xgan::feature_statistics(real_features);  // {n, d}
//     const double d = xgan::frechet_distance(real, xgan::feature_statistics(fake_features));
//
// The trace of the square root, through LAPACK's symmetric eigensolver (dsyevd, as
// xtensor-blas's eigh exposes it): with S = C1^(1/2) from C1's eigendecomposition (its
// eigenvalues below its numerical rank's threshold taken as 0), C1 C2 = S (S C2) has the
// eigenvalues of (S C2) S = S C2 S, a symmetric positive semi-definite matrix, so
// tr((C1 C2)^(1/2)) is the sum of the square roots of S C2 S's eigenvalues (likewise). Every step is a symmetric
// eigenproblem, which LAPACK solves backward-stably; a singular or near-singular
// covariance (fewer samples than dimensions, a constant feature) costs no accuracy and
// needs no regularising offset, where the general square root of the non-symmetric
// C1 C2 (scipy.linalg.sqrtm, a Schur method) can return complex values there.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/tensor.hpp>

#include <xtensor-blas/xlinalg.hpp>

namespace xgan {

// The mean {d} and covariance {d, d} (unbiased: divided by count - 1, as numpy.cov) of
// `count` feature vectors of d values.
struct FeatureStatistics {
    xt::xtensor<double, 1> mean;
    xt::xtensor<double, 2> covariance;
    std::size_t count = 0;

    std::size_t dimension() const { return mean.size(); }
};

// The statistics of the rows of `features` {n, d}, n >= 2, accumulated in double.
// Throws std::invalid_argument on another rank, fewer than 2 rows, no columns, or a value
// that is not finite (naming its row and column).
template <class E>
FeatureStatistics feature_statistics(const xt::xexpression<E>& features) {
    const auto& f = features.derived_cast();
    if (f.dimension() != 2)
        XGAN_THROW(std::invalid_argument, "xgan::feature_statistics: the features must be a matrix {samples, ",
                   "dimensions}, got ", f.dimension(), " dimension(s)");
    const std::size_t n = f.shape()[0], d = f.shape()[1];
    if (n < 2 || d == 0)
        XGAN_THROW(std::invalid_argument, "xgan::feature_statistics: a covariance needs at least 2 samples of ",
                   "at least 1 dimension, got ", n, " x ", d);
    xt::xtensor<double, 2> x = xt::cast<double>(f);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j)
            if (!std::isfinite(x(i, j)))
                XGAN_THROW(std::invalid_argument, "xgan::feature_statistics: feature ", j, " of sample ", i, " is ",
                           x(i, j));
    FeatureStatistics s;
    s.count = n;
    s.mean = xt::mean(x, {0});
    x -= s.mean;  // broadcast over the rows
    s.covariance = xt::linalg::dot(xt::transpose(x), x) / static_cast<double>(n - 1);
    return s;
}

namespace detail {

// A symmetric matrix's exact symmetric part (products leave rounding asymmetries).
inline xt::xtensor<double, 2> symmetric_part(const xt::xtensor<double, 2>& m) {
    return (m + xt::transpose(m)) / 2.0;
}

// The eigenvalues of symmetric `m` below its numerical rank's threshold (numpy's
// matrix_rank: largest * size * epsilon) are rounding noise around 0 and count as 0:
// their square roots (1e-8 for a noise of 1e-16) would otherwise add to the trace.
inline double noise_floor(const xt::xtensor<double, 1>& eigenvalues) {
    double largest = 0;
    for (const double value : eigenvalues) largest = std::max(largest, std::abs(value));
    return largest * static_cast<double>(eigenvalues.size()) * std::numeric_limits<double>::epsilon();
}

}  // namespace detail

// tr((a b)^(1/2)) for symmetric positive semi-definite a and b, as the header says.
inline double trace_sqrt_product(const xt::xtensor<double, 2>& a, const xt::xtensor<double, 2>& b) {
    const auto [values, vectors] = xt::linalg::eigh(detail::symmetric_part(a));
    const double floor_a = detail::noise_floor(values);
    xt::xtensor<double, 2> scaled = vectors;  // columns times sqrt(eigenvalue)
    for (std::size_t j = 0; j < values.size(); ++j) {
        const double root = values(j) > floor_a ? std::sqrt(values(j)) : 0.0;
        for (std::size_t i = 0; i < scaled.shape()[0]; ++i) scaled(i, j) *= root;
    }
    const xt::xtensor<double, 2> sqrt_a = xt::linalg::dot(scaled, xt::transpose(vectors));
    const xt::xtensor<double, 2> middle =
        detail::symmetric_part(xt::linalg::dot(xt::linalg::dot(sqrt_a, b), sqrt_a));
    const xt::xtensor<double, 1> eigenvalues = xt::linalg::eigvalsh(middle);
    const double floor_middle = detail::noise_floor(eigenvalues);
    double trace = 0;
    for (const double value : eigenvalues) trace += value > floor_middle ? std::sqrt(value) : 0.0;
    return trace;
}

// The Frechet distance between the Gaussians of two feature statistics of the same
// dimension (std::invalid_argument otherwise). 0 for equal statistics; >= 0 always.
inline double frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b) {
    if (a.dimension() == 0 || a.dimension() != b.dimension() || a.covariance.shape()[0] != a.dimension() ||
        b.covariance.shape()[0] != b.dimension())
        XGAN_THROW(std::invalid_argument, "xgan::frechet_distance: the two sets of features have ", a.dimension(),
                   " and ", b.dimension(), " dimensions; they must have the same number, at least 1");
    double mean_term = 0;
    for (std::size_t i = 0; i < a.dimension(); ++i) mean_term += (a.mean(i) - b.mean(i)) * (a.mean(i) - b.mean(i));
    double traces = 0;
    for (std::size_t i = 0; i < a.dimension(); ++i) traces += a.covariance(i, i) + b.covariance(i, i);
    const double distance = mean_term + traces - 2 * trace_sqrt_product(a.covariance, b.covariance);
    return std::max(distance, 0.0);  // rounding can take an exact 0 a hair below
}

// The same from the feature vectors themselves, {n1, d} and {n2, d}.
template <class E1, class E2>
double frechet_distance(const xt::xexpression<E1>& a, const xt::xexpression<E2>& b) {
    return frechet_distance(feature_statistics(a), feature_statistics(b));
}

}  // namespace xgan
