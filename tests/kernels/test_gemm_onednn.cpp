// detail::gemm with XGAN_GEMM_ONEDNN (the onednn product backend): float products through
// oneDNN's dnnl_sgemm, for every transposition, beta and padded leading dimension, against
// a sum written out here; its failures as exceptions; double still on CBLAS.
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/detail/blas.hpp>

#ifndef XGAN_GEMM_ONEDNN
#error "test_gemm_onednn is built with the onednn product backend (XGAN_GEMM_ONEDNN)"
#endif

namespace {
// rows x cols entries with row stride ld (>= cols); the padding holds NaN, which must not
// reach C.
template <class T>
std::vector<T> matrix_of(std::size_t rows, std::size_t cols, std::size_t ld, double phase) {
    std::vector<T> v(rows * ld, std::numeric_limits<T>::quiet_NaN());
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
            v[i * ld + j] = static_cast<T>(std::sin(1.7 * static_cast<double>(i * cols + j) + phase));
    return v;
}

template <class T>
void check_against_sum(bool transpose_a, bool transpose_b, double beta, double tolerance) {
    constexpr std::size_t m = 37, n = 29, k = 53, pad = 3;
    // op(A) is m x k, op(B) is k x n; the stored matrices are their transposes when asked.
    const std::size_t a_rows = transpose_a ? k : m, a_cols = transpose_a ? m : k;
    const std::size_t b_rows = transpose_b ? n : k, b_cols = transpose_b ? k : n;
    const std::size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    const auto a = matrix_of<T>(a_rows, a_cols, lda, 0.1);
    const auto b = matrix_of<T>(b_rows, b_cols, ldb, 0.7);
    const auto c0 = matrix_of<T>(m, n, ldc, 1.3);
    std::vector<T> c = c0;
    xgan::detail::gemm<T>(transpose_a, transpose_b, m, n, k, T(0.5), a.data(), lda, b.data(), ldb, static_cast<T>(beta),
                          c.data(), ldc);
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            long double want = 0;
            for (std::size_t p = 0; p < k; ++p)
                want += static_cast<long double>(transpose_a ? a[p * lda + i] : a[i * lda + p]) *
                        static_cast<long double>(transpose_b ? b[j * ldb + p] : b[p * ldb + j]);
            want = 0.5L * want + static_cast<long double>(beta) * static_cast<long double>(c0[i * ldc + j]);
            CHECK(static_cast<double>(c[i * ldc + j]) == Approx(static_cast<double>(want)).margin(tolerance));
        }
        for (std::size_t j = n; j < ldc; ++j) CHECK(std::isnan(c[i * ldc + j]));  // the padding is left alone
    }
}
}  // namespace

TEST_CASE("gemm, onednn backend: float products match the written-out sum, padded, every transposition",
          "[gemm][onednn]") {
    const bool transpose_a = GENERATE(false, true);
    const bool transpose_b = GENERATE(false, true);
    const double beta = GENERATE(0.0, 1.0, -0.5);
    // 53 terms of size <= 1 in float: a few ulps of the sum's magnitude.
    check_against_sum<float>(transpose_a, transpose_b, beta, 2e-5);
}

TEST_CASE("gemm, onednn backend: double products still match (CBLAS)", "[gemm][onednn]") {
    const bool transpose_a = GENERATE(false, true);
    const bool transpose_b = GENERATE(false, true);
    check_against_sum<double>(transpose_a, transpose_b, 1.0, 1e-12);
}

TEST_CASE("gemm, onednn backend: with beta = 0, C is not read (NaN there does not leak)", "[gemm][onednn]") {
    constexpr std::size_t m = 3, n = 4, k = 2;
    const auto a = matrix_of<float>(m, k, k, 0.2);
    const auto b = matrix_of<float>(k, n, n, 0.9);
    std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
    xgan::detail::gemm<float>(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    for (float x : c) CHECK(std::isfinite(x));
}

TEST_CASE("gemm, onednn backend: a failed dnnl_sgemm throws, naming the call", "[gemm][onednn]") {
    // A leading dimension of A below its row length (k = 4, lda = 2): oneDNN rejects it
    // (CBLAS would only print a warning and return).
    const std::vector<float> a(16, 1.0f), b(16, 1.0f);
    std::vector<float> c(16, 0.0f);
    try {
        xgan::detail::gemm<float>(false, false, 4, 4, 4, 1.0f, a.data(), 2, b.data(), 4, 0.0f, c.data(), 4);
        FAIL("no exception");
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        CHECK(what.find("xgan::detail::gemm: oneDNN's dnnl_sgemm failed") != std::string::npos);
        CHECK(what.find("invalid arguments") != std::string::npos);
        CHECK(what.find("lda 2") != std::string::npos);
    }
}
