// Which instruction set xgan's kernels run, chosen once per process: the CPU's features
// (cpuid), overridden by XGAN_KERNELS in the environment. Kept apart from the kernels
// themselves so that code which only asks the choice (the normal-distribution loops,
// the Mersenne Twister, the layers) does not depend on them.
//
// XGAN_KERNELS: "generic" forces the 16-byte kernels, "blas" sends every Dense product
// to BLAS (detail::gemm) while the element-wise loops keep their best version; anything
// else ("auto", the default) uses AVX2 and FMA when the CPU has them.
#pragma once

#include <cstdlib>
#include <cstring>

#if defined(__GNUC__) || defined(__clang__)
#define XGAN_HAS_KERNELS 1
#else
#define XGAN_HAS_KERNELS 0
#endif

// On x86-64 the kernels call the compilers' vector builtins directly (no <immintrin.h>).
#if XGAN_HAS_KERNELS && defined(__x86_64__)
#define XGAN_KERNELS_X86 1
#else
#define XGAN_KERNELS_X86 0
#endif

// AVX2 is dispatched at run time unless the compilation target already guarantees it.
#if XGAN_KERNELS_X86 && defined(__AVX2__) && defined(__FMA__)
#define XGAN_KERNELS_AVX2_BUILTIN 1
#else
#define XGAN_KERNELS_AVX2_BUILTIN 0
#endif

// Whether the 16-byte Dense product kernels are compiled (see detail/kernels.hpp): on
// request on x86-64, always elsewhere.
#if XGAN_HAS_KERNELS && !XGAN_KERNELS_X86
#undef XGAN_GENERIC_DENSE_KERNELS
#define XGAN_GENERIC_DENSE_KERNELS 1
#elif !defined(XGAN_GENERIC_DENSE_KERNELS)
#define XGAN_GENERIC_DENSE_KERNELS 0
#endif

namespace xgan::detail::kernels {

// Which implementation the Dense products and element-wise loops use.
enum class path { blas, generic, avx2 };

namespace detail_dispatch {
struct choice {
    path products;  // what the Dense products use
    bool avx2;      // whether every kernel (products and element-wise loops) may use AVX2/FMA
};

inline choice choose() noexcept {
#if XGAN_KERNELS_AVX2_BUILTIN
    bool avx2 = true;
#elif XGAN_KERNELS_X86
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    bool avx2 = false;
#endif
    const char* forced = std::getenv("XGAN_KERNELS");
    if (forced != nullptr && std::strcmp(forced, "generic") == 0) avx2 = false;
    if (forced != nullptr && std::strcmp(forced, "blas") == 0) return {path::blas, avx2};
    if (avx2) return {path::avx2, true};
    return {XGAN_GENERIC_DENSE_KERNELS ? path::generic : path::blas, false};
}

inline const choice& chosen() noexcept {
    static const choice c = choose();
    return c;
}
}  // namespace detail_dispatch

// The implementation of the Dense products in force for this process (decided on first
// use): blas, generic or avx2.
inline path active_path() noexcept { return detail_dispatch::chosen().products; }

// Whether the products of small layers run on xgan's kernels in this process (not when
// XGAN_KERNELS=blas, or a CPU without the instructions they were compiled for, sends them
// to BLAS). Fusing a layer's product with its neighbours' passes needs them.
inline bool products_on_kernels() noexcept { return active_path() != path::blas; }

// Whether the kernels run their AVX2/FMA versions (also for the element-wise loops when
// the products go to BLAS).
inline bool avx2_active() noexcept { return detail_dispatch::chosen().avx2; }

inline const char* path_name(path p) noexcept {
    switch (p) {
        case path::blas: return "blas";
        case path::generic: return "generic";
        case path::avx2: return "avx2";
    }
    return "?";
}

}  // namespace xgan::detail::kernels
