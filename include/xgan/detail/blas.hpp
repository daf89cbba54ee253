// The one matrix product xgan needs, on raw row-major buffers, through
// xtensor-blas's cxxblas bindings (which call the system's CBLAS, OpenBLAS here).
// Raw pointers keep the hot path free of temporaries and views.
#pragma once

#include <cstddef>

#include <xtensor-blas/xblas.hpp>

namespace xgan::detail {

// C[m, n] = alpha * op(A) * op(B) + beta * C, all row-major; op(X) is X or X^T.
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    using index = xt::blas_index_t;
    cxxblas::gemm<index>(cxxblas::StorageOrder::RowMajor,
                         transpose_a ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans,
                         transpose_b ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans, static_cast<index>(m),
                         static_cast<index>(n), static_cast<index>(k), alpha, a, static_cast<index>(lda), b,
                         static_cast<index>(ldb), beta, c, static_cast<index>(ldc));
}

}  // namespace xgan::detail
