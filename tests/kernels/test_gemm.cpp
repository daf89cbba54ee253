// detail::gemm: the CBLAS call for float and double, and the plain loop other element
// types (long double) take, against each other and against a sum written out here.
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/detail/blas.hpp>

namespace {
// A row-major m x n matrix with distinct, irregular entries.
template <class T>
std::vector<T> matrix_of(std::size_t rows, std::size_t cols, double phase) {
    std::vector<T> v(rows * cols);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(std::sin(1.7 * static_cast<double>(i) + phase));
    return v;
}
}  // namespace

TEST_CASE("gemm: CBLAS and the loop for other types agree, for every transposition", "[gemm]") {
    const bool transpose_a = GENERATE(false, true);
    const bool transpose_b = GENERATE(false, true);
    const double beta = GENERATE(0.0, 1.0, -0.5);
    constexpr std::size_t m = 7, n = 5, k = 9;
    // op(A) is m x k, op(B) is k x n; the stored matrices are their transposes when asked.
    const std::size_t lda = transpose_a ? m : k, ldb = transpose_b ? k : n;
    const auto a = matrix_of<double>(transpose_a ? k : m, transpose_a ? m : k, 0.1);
    const auto b = matrix_of<double>(transpose_b ? n : k, transpose_b ? k : n, 0.7);
    const auto c0 = matrix_of<double>(m, n, 1.3);

    std::vector<double> c = c0;
    xgan::detail::gemm<double>(transpose_a, transpose_b, m, n, k, 0.5, a.data(), lda, b.data(), ldb, beta, c.data(),
                               n);

    const std::vector<long double> al(a.begin(), a.end()), bl(b.begin(), b.end());
    std::vector<long double> cl(c0.begin(), c0.end());
    xgan::detail::gemm<long double>(transpose_a, transpose_b, m, n, k, 0.5L, al.data(), lda, bl.data(), ldb,
                                    static_cast<long double>(beta), cl.data(), n);

    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            long double want = 0;
            for (std::size_t p = 0; p < k; ++p)
                want += static_cast<long double>(transpose_a ? a[p * lda + i] : a[i * lda + p]) *
                        (transpose_b ? b[j * ldb + p] : b[p * ldb + j]);
            want = 0.5L * want + static_cast<long double>(beta) * c0[i * n + j];
            CHECK(static_cast<double>(cl[i * n + j]) == Approx(static_cast<double>(want)).margin(1e-15));
            CHECK(c[i * n + j] == Approx(static_cast<double>(want)).margin(1e-12));
        }
}

TEST_CASE("gemm: with beta = 0, C is not read (NaN there does not leak), as in BLAS", "[gemm]") {
    constexpr std::size_t m = 3, n = 4, k = 2;
    const auto a = matrix_of<long double>(m, k, 0.2);
    const auto b = matrix_of<long double>(k, n, 0.9);
    std::vector<long double> c(m * n, std::numeric_limits<long double>::quiet_NaN());
    xgan::detail::gemm<long double>(false, false, m, n, k, 1.0L, a.data(), k, b.data(), n, 0.0L, c.data(), n);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            CHECK(c[i * n + j] == a[i * k] * b[j] + a[i * k + 1] * b[n + j]);

    std::vector<float> cf(m * n, std::numeric_limits<float>::quiet_NaN());
    const std::vector<float> af(a.begin(), a.end()), bf(b.begin(), b.end());
    xgan::detail::gemm<float>(false, false, m, n, k, 1.0f, af.data(), k, bf.data(), n, 0.0f, cf.data(), n);
    for (float v : cf) CHECK(std::isfinite(v));
}
