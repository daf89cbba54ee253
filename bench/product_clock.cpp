// For xgan_bench_product_clock: a cblas_sgemm that times the call and forwards it to
// the next definition in link order (OpenBLAS's), found with dlsym(RTLD_NEXT). The
// executable's own definition comes first, so every product xgan computes through
// BLAS passes through here; xgan_gan.cpp prints the total per step.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <dlfcn.h>

#include "product_clock.hpp"

namespace {
using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                          int);
double seconds = 0;
long calls = 0;

sgemm_fn next_sgemm() {
    static const sgemm_fn next = [] {
        void* symbol = dlsym(RTLD_NEXT, "cblas_sgemm");
        if (symbol == nullptr) {
            std::fprintf(stderr, "xgan_bench_product_clock: no cblas_sgemm after this one (%s)\n", dlerror());
            std::exit(2);
        }
        return reinterpret_cast<sgemm_fn>(symbol);
    }();
    return next;
}
}  // namespace

// The CBLAS enums are passed as int, which is how every C ABI passes them.
extern "C" void cblas_sgemm(int order, int transpose_a, int transpose_b, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    const sgemm_fn next = next_sgemm();
    const auto start = std::chrono::steady_clock::now();
    next(order, transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++calls;
}

namespace bench {
ProductClock product_clock() { return {seconds, calls}; }
}  // namespace bench
