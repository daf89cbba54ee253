// Per-channel sums over a batch of NCHW rows in a fixed order, in double: BatchNorm's
// statistics and gradients (layers/batch_norm.hpp) and the convolutions' bias gradients
// (detail/im2col.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

namespace xgan::detail {

// K sums for each channel of a batch of `rows` NCHW rows of `channels` planes of Plane
// values: term(c, x[i], y[i]) returns K terms for the values at the same place i of x and
// y in channel c, and done(c, sums) receives channel c's K sums.
//
// Each sum is kept as 8 partial sums (lane i mod 8 of each plane, over the rows in order)
// added together in a fixed order at the end: one chain of dependent double additions
// would run at a fraction of the core's speed, 8 independent ones vectorise, and the order
// of the additions is fixed, so the result is too. The rows are read in order, a block of
// channels at a time, so memory streams instead of jumping a row's length for each plane.
template <std::size_t K, std::size_t Plane, class T, class Term, class Done>
void channel_sums(std::size_t rows, std::size_t channels, const T* x, const T* y, Term term, Done done) {
    constexpr std::size_t lanes = 8, whole = Plane / lanes * lanes, block = 32;
    const std::size_t row_size = channels * Plane;
    for (std::size_t first = 0; first < channels; first += block) {
        const std::size_t count = std::min(block, channels - first);
        std::array<std::array<std::array<double, lanes>, K>, block> partial{};
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < count; ++j) {
                const std::size_t c = first + j;
                const T* a = x + r * row_size + c * Plane;
                const T* b = y + r * row_size + c * Plane;
                std::array<std::array<double, lanes>, K>& p = partial[j];
                for (std::size_t i = 0; i < whole; i += lanes)
                    for (std::size_t lane = 0; lane < lanes; ++lane) {
                        const std::array<double, K> t = term(c, a[i + lane], b[i + lane]);
                        for (std::size_t k = 0; k < K; ++k) p[k][lane] += t[k];
                    }
                for (std::size_t lane = 0; lane < Plane - whole; ++lane) {
                    const std::array<double, K> t = term(c, a[whole + lane], b[whole + lane]);
                    for (std::size_t k = 0; k < K; ++k) p[k][lane] += t[k];
                }
            }
        for (std::size_t j = 0; j < count; ++j) {
            std::array<double, K> sums{};
            for (std::size_t k = 0; k < K; ++k)
                for (std::size_t lane = 0; lane < lanes; ++lane) sums[k] += partial[j][k][lane];
            done(first + j, sums);
        }
    }
}

}  // namespace xgan::detail
