// The Box-Muller transform behind Rng::normal and Rng::fill_normal, with xgan's own
// logarithm, sine and cosine, so that it vectorises and gives the same values on every
// machine.
//
//   (u, a) in (0, 1] x [0, 1)  ->  r = sqrt(-2 log u),  (r cos 2 pi a, r sin 2 pi a)
//
// In double (normal(), fill_normal<double>): fdlibm's e_log.c, k_sin.c and k_cos.c
// polynomials (FreeBSD msun), within 1 ulp, two lanes per SSE2 register.
// In float (fill_normal<float>): fdlibm's e_logf.c and FreeBSD's k_sinf.c / k_cosf.c
// polynomials evaluated in float (within a few float ulps), four lanes per register.
// Both are written branch-free (selects and bit operations instead of ifs) on a scalar
// or a vector type, using only IEEE-754 +, -, *, / and sqrt, which are correctly rounded
// everywhere. So the results are a fixed function of the inputs: the same with any
// compiler, standard library or CPU, vectorised or not (unless the compiler is allowed
// to contract a * b + c into fused multiply-adds, e.g. GCC with -march=haswell and GNU
// extensions, which may change the last bit).
//
// fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
// Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this software is freely granted,
// provided that this notice is preserved.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <xgan/config.hpp>
#include <xgan/detail/cpu_dispatch.hpp>

#if defined(__GNUC__) || defined(__clang__)
#define XGAN_NORMAL_VECTOR 1
#else
#define XGAN_NORMAL_VECTOR 0
#endif

namespace xgan::detail::normal {

#if XGAN_NORMAL_VECTOR
typedef double double2 __attribute__((vector_size(16)));
typedef std::uint64_t uint2 __attribute__((vector_size(16)));
#endif

// ---- the same operations on scalars and on vectors ------------------------------------

inline std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }
inline double from_bits(std::uint64_t b) { return std::bit_cast<double>(b); }
// All ones where a < b.
inline std::uint64_t less(double a, double b) { return a < b ? ~std::uint64_t{0} : std::uint64_t{0}; }
inline double root(double x) { return std::sqrt(x); }

#if XGAN_NORMAL_VECTOR
inline uint2 bits(double2 x) { return (uint2)x; }
inline double2 from_bits(uint2 b) { return (double2)b; }
inline uint2 less(double2 a, double2 b) { return (uint2)(a < b); }
inline double2 root(double2 x) {
#if defined(__x86_64__)
    return _mm_sqrt_pd(x);
#else
    return double2{std::sqrt(x[0]), std::sqrt(x[1])};
#endif
}
#endif

// mask ? a : b, bit by bit (mask lanes are all ones or all zeros).
template <class V, class U>
inline V select(U mask, V a, V b) {
    return from_bits((mask & bits(a)) | (~mask & bits(b)));
}

// Natural logarithm of x in [2^-53, 1] (fdlibm e_log.c without the special cases).
template <class V>
inline V log_unit(V x) {
    constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                     Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                     Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                     Lg7 = 1.479819860511658591e-01;
    constexpr double sqrt2 = 1.41421356237309504880;
    constexpr std::uint64_t mantissa = 0x000FFFFFFFFFFFFFull, one = 0x3FF0000000000000ull,
                            magic = 0x4330000000000000ull;  // 2^52
    const auto b = bits(x);
    // x = 2^k m, m in [1, 2); then m in [sqrt(2)/2, sqrt(2)) by halving the large ones.
    V m = from_bits((b & mantissa) | one);
    const auto big = less(V{} + sqrt2, m);
    m = select(big, m * 0.5, m);
    // k as a double, exactly: the biased exponent e read as 2^52 + e, minus 2^52 + 1023.
    const V k = (from_bits((b >> 52) | magic) - (0x1.0p52 + 1023.0)) + select(big, V{} + 1.0, V{} + 0.0);
    const V f = m - 1.0;
    const V s = f / (2.0 + f);
    const V z = s * s;
    const V w = z * z;
    const V t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    const V t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    const V R = t2 + t1;
    const V hfsq = 0.5 * f * f;
    return k * ln2_hi - ((hfsq - (s * (hfsq + R) + k * ln2_lo)) - f);
}

// cos 2 pi a and sin 2 pi a for a in [0, 1): a = n/4 + t/(2 pi) with n an integer and
// |t| <= pi/4, then fdlibm's kernels on t and a quarter-turn rotation by n.
template <class V>
inline void cos_sin_turn(V a, V& c, V& s) {
    constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                     S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                     S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
    constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                     C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                     C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
    constexpr double pio2 = 1.57079632679489661923;
    constexpr double shifter = 0x1.8p52;  // adding it rounds to an integer, kept in the low bits
    const V q = a * 4.0;                   // exact
    const V shifted = q + shifter;
    const auto n = bits(shifted);          // low two bits: round(q) mod 4
    const V t = (q - (shifted - shifter)) * pio2;  // q - round(q) is exact, in [-1/2, 1/2]

    const V z = t * t;
    const V w = z * z;
    const V rs = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    const V sin_t = t + z * t * (S1 + z * rs);
    const V rc = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    const V hz = 0.5 * z;
    const V one_minus_hz = 1.0 - hz;
    const V cos_t = one_minus_hz + (((1.0 - one_minus_hz) - hz) + z * rc);

    // Rotate by n quarter turns: swap for odd n, then cos < 0 for n = 1, 2 and sin < 0 for n = 2, 3.
    const decltype(n) zero{};
    const auto odd = zero - (n & 1);
    const V cos_a = select(odd, sin_t, cos_t);
    const V sin_a = select(odd, cos_t, sin_t);
    c = from_bits(bits(cos_a) ^ (((n + 1) & 2) << 62));
    s = from_bits(bits(sin_a) ^ ((n & 2) << 62));
}

// r cos 2 pi a and r sin 2 pi a with r = sqrt(-2 log u).
template <class V>
inline void box_muller(V u, V a, V& x, V& y) {
    const V r = root(-2.0 * log_unit(u));
    V c, s;
    cos_sin_turn(a, c, s);
    x = r * c;
    y = r * s;
}

// box_muller on arrays of n pairs: x[i], y[i] from u[i], a[i]. Lane by lane the same
// operations as the scalar box_muller, so the results do not depend on n or alignment.
inline void box_muller(std::size_t n, const double* u, const double* a, double* x, double* y) {
    std::size_t i = 0;
#if XGAN_NORMAL_VECTOR
    for (const std::size_t full = n - n % 2; i < full; i += 2) {
        double2 uv, av, xv, yv;
        std::memcpy(&uv, u + i, sizeof uv);
        std::memcpy(&av, a + i, sizeof av);
        box_muller(uv, av, xv, yv);
        std::memcpy(x + i, &xv, sizeof xv);
        std::memcpy(y + i, &yv, sizeof yv);
    }
#endif
    for (; i < n; ++i) box_muller(u[i], a[i], x[i], y[i]);
}

// ---- float: compiled per instruction set (normal_float_impl.hpp) ------------------------

// 4 lanes: SSE2 on x86-64, the target's own 16-byte vectors elsewhere.
namespace generic {
#define XGAN_NORMAL_NS generic
#define XGAN_NORMAL_TARGET
#define XGAN_NORMAL_LANES 4
#include <xgan/detail/normal_float_impl.hpp>
#undef XGAN_NORMAL_NS
#undef XGAN_NORMAL_TARGET
#undef XGAN_NORMAL_LANES
}  // namespace generic

#if XGAN_KERNELS_X86
// 8 lanes, for CPUs with AVX2. No FMA: the products and sums stay separately rounded.
namespace avx2 {
#define XGAN_NORMAL_NS avx2
#define XGAN_NORMAL_TARGET __attribute__((target("avx2")))
#define XGAN_NORMAL_LANES 8
#include <xgan/detail/normal_float_impl.hpp>
#undef XGAN_NORMAL_NS
#undef XGAN_NORMAL_TARGET
#undef XGAN_NORMAL_LANES
}  // namespace avx2
#endif

// x[p] and y[p], the two normals of pair p < count, from one engine draw each (see
// Rng::fill_normal): bit for bit the same on both paths, which the choice of
// detail/cpu_dispatch.hpp picks between.
inline void normals_from_draws(std::size_t count, const std::uint64_t* draws, float* x, float* y) {
#if XGAN_KERNELS_X86
    if (kernels::avx2_active()) return avx2::normals_from_draws(count, draws, x, y);
#endif
    generic::normals_from_draws(count, draws, x, y);
}

}  // namespace xgan::detail::normal
