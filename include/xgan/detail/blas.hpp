// The one matrix product xgan needs, on raw row-major buffers: the system's CBLAS
// (OpenBLAS here) for float and double, through the CBLAS declarations that
// xtensor-blas ships with its cxxblas bindings (xflens/cxxblas/drivers/cblas.h). Only
// those are included: xtensor-blas's xblas.hpp and the cxxblas templates behind
// cxxblas::gemm would cost every translation unit about half a second of parsing for
// this one call.
// Raw pointers keep the hot path free of temporaries and views.
//
// With XGAN_GEMM_ONEDNN defined (CMake: -DXGAN_GEMM_BACKEND=onednn), float products go to
// oneDNN's dnnl_sgemm instead, whose AVX-512 kernels run on CPUs where OpenBLAS is held to
// its AVX2 ones (docs/performance.md, "Product backends"); double stays on CBLAS. oneDNN
// takes its thread count from OpenMP (OMP_NUM_THREADS), not from OpenBLAS's.
#pragma once

#include <cstddef>
#include <type_traits>

#ifdef XGAN_GEMM_ONEDNN
#include <stdexcept>

#include <oneapi/dnnl/dnnl.h>

#include <xgan/config.hpp>
#endif

#include <xtensor-blas/xblas_config.hpp>  // HAVE_CBLAS, unless XTENSOR_USE_FLENS_BLAS
#ifdef HAVE_CBLAS
#include <xflens/cxxblas/drivers/cblas.h>  // cblas_sgemm, cblas_dgemm
#endif

namespace xgan::detail {

// C[m, n] = alpha * op(A) * op(B) + beta * C, all row-major; op(X) is X or X^T. As in
// BLAS, C is not read when beta is 0. Other element types than float and double (long
// double), or a build without CBLAS, take the definition: one dot product per element.
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
#ifdef XGAN_GEMM_ONEDNN
    if constexpr (std::is_same_v<T, float>) {
        const auto dim = [](std::size_t i) { return static_cast<dnnl_dim_t>(i); };
        const dnnl_status_t status = dnnl_sgemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', dim(m), dim(n), dim(k),
                                                alpha, a, dim(lda), b, dim(ldb), beta, c, dim(ldc));
        if (status != dnnl_success)
            XGAN_THROW(std::runtime_error, "xgan::detail::gemm: oneDNN's dnnl_sgemm failed with status ",
                       static_cast<int>(status), status == dnnl_invalid_arguments ? " (invalid arguments)" : "",
                       " on C[", m, ", ", n, "] = op(A) op(B), k = ", k, ", transposes ", transpose_a ? "T" : "N",
                       transpose_b ? "T" : "N", ", lda ", lda, ", ldb ", ldb, ", ldc ", ldc);
        return;
    }
#endif
#ifdef HAVE_CBLAS
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        const auto index = [](std::size_t i) { return static_cast<CBLAS_INT>(i); };
        const CBLAS_TRANSPOSE op_a = transpose_a ? CblasTrans : CblasNoTrans;
        const CBLAS_TRANSPOSE op_b = transpose_b ? CblasTrans : CblasNoTrans;
        if constexpr (std::is_same_v<T, float>)
            cblas_sgemm(CblasRowMajor, op_a, op_b, index(m), index(n), index(k), alpha, a, index(lda), b, index(ldb),
                        beta, c, index(ldc));
        else
            cblas_dgemm(CblasRowMajor, op_a, op_b, index(m), index(n), index(k), alpha, a, index(lda), b, index(ldb),
                        beta, c, index(ldc));
        return;
    }
#endif
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            T sum = T(0);
            for (std::size_t p = 0; p < k; ++p)
                sum += (transpose_a ? a[p * lda + i] : a[i * lda + p]) * (transpose_b ? b[j * ldb + p] : b[p * ldb + j]);
            T& out = c[i * ldc + j];
            out = beta == T(0) ? alpha * sum : alpha * sum + beta * out;
        }
}

}  // namespace xgan::detail
