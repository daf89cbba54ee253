// The tutorials' toy data: "the famous artist's paintings" (curves a x^2 + a - 1 with
// a ~ U(1, 2), between the bounds x^2 and 2x^2 + 1) and the sine painting, plus the
// measures the examples and tests use to judge a generator's curves.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>

#include <xgan/config.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan::paintings {

// x of point j of n evenly spaced on [-1, 1] (the tutorials' PAINT_POINTS).
inline double paint_point(std::size_t j, std::size_t n) {
    return n == 1 ? 0.0 : -1.0 + 2.0 * static_cast<double>(j) / static_cast<double>(n - 1);
}

// Fills each row of `batch` {rows, points} with a x^2 + (a - 1), a ~ U(1, 2).
template <class T>
void artist_works(matrix<T>& batch, Rng& rng) {
    const std::size_t rows = batch.shape()[0], points = batch.shape()[1];
    for (std::size_t r = 0; r < rows; ++r) {
        const double a = rng.uniform(1.0, 2.0);
        for (std::size_t j = 0; j < points; ++j) {
            const double x = paint_point(j, points);
            batch(r, j) = static_cast<T>(a * x * x + (a - 1.0));
        }
    }
}

// Fills each row with sin(pi x) + noise_stddev * N(0, 1).
template <class T>
void sine_works(matrix<T>& batch, Rng& rng, double noise_stddev = 0.02) {
    const std::size_t rows = batch.shape()[0], points = batch.shape()[1];
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < points; ++j)
            batch(r, j) = static_cast<T>(std::sin(std::numbers::pi * paint_point(j, points)) + noise_stddev * rng.normal());
}

inline double lower_bound(double x) { return x * x; }
inline double upper_bound(double x) { return 2.0 * x * x + 1.0; }

// Share of rows lying entirely within [x^2 - margin, 2x^2 + 1 + margin].
template <class T>
double share_inside_band(const matrix<T>& curves, double margin) {
    const std::size_t rows = curves.shape()[0], points = curves.shape()[1];
    if (rows == 0) XGAN_THROW(std::invalid_argument, "xgan::paintings::share_inside_band: no curves");
    std::size_t inside = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        bool ok = true;
        for (std::size_t j = 0; j < points && ok; ++j) {
            const double x = paint_point(j, points), y = static_cast<double>(curves(r, j));
            ok = y >= lower_bound(x) - margin && y <= upper_bound(x) + margin;
        }
        inside += ok;
    }
    return static_cast<double>(inside) / static_cast<double>(rows);
}

// The a of the least-squares fit of a x^2 + (a - 1) to row r (for real data, a ~ U(1, 2)):
// minimising sum (y_j + 1 - a (x_j^2 + 1))^2 gives a = sum (y_j + 1)(x_j^2 + 1) / sum (x_j^2 + 1)^2.
template <class T>
double fitted_a(const matrix<T>& curves, std::size_t r) {
    const std::size_t points = curves.shape()[1];
    double num = 0, den = 0;
    for (std::size_t j = 0; j < points; ++j) {
        const double x = paint_point(j, points), basis = x * x + 1.0;
        num += (static_cast<double>(curves(r, j)) + 1.0) * basis;
        den += basis * basis;
    }
    return num / den;
}

}  // namespace xgan::paintings
