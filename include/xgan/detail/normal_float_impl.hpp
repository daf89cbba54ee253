// The float Box-Muller transform of fill_normal<float>, written once and compiled once
// per instruction set: normal_kernel.hpp includes this file (deliberately without an
// include guard) inside namespace xgan::detail::normal::XGAN_NORMAL_NS with
//   XGAN_NORMAL_TARGET  the function attribute of that instruction set (empty, or
//                       target("avx2"): AVX2 without FMA, so that no a * b + c is fused);
//   XGAN_NORMAL_LANES   floats per vector (4: SSE2 and baseline targets; 8: AVX2);
// and the helpers bits, from_bits, less, root and select declared in that namespace for
// float, the uint32 vectors and the float vectors of that width. Include
// xgan/detail/normal_kernel.hpp, never this file.
//
// Every function carries XGAN_NORMAL_TARGET and is written on a template V (a float or
// a vector of floats) with only IEEE +, -, *, / and sqrt, lane by lane; so each lane's
// result is the same in every copy, at every width, and in the scalar tail.

#if !defined(XGAN_NORMAL_NS) || !defined(XGAN_NORMAL_LANES)
#error "xgan/detail/normal_float_impl.hpp is included by xgan/detail/normal_kernel.hpp only"
#endif

#define XGAN_NORMAL_INLINE XGAN_NORMAL_TARGET __attribute__((always_inline)) inline

// ---- the same operations on a float and on a vector of floats ----------------------------

#if XGAN_NORMAL_VECTOR
typedef float floats __attribute__((vector_size(4 * XGAN_NORMAL_LANES)));
typedef std::uint32_t uints __attribute__((vector_size(4 * XGAN_NORMAL_LANES)));
#endif

XGAN_NORMAL_INLINE std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }
XGAN_NORMAL_INLINE float from_bits(std::uint32_t b) { return std::bit_cast<float>(b); }
// All ones where a < b.
XGAN_NORMAL_INLINE std::uint32_t less(float a, float b) { return a < b ? ~std::uint32_t{0} : std::uint32_t{0}; }
XGAN_NORMAL_INLINE float root(float x) { return std::sqrt(x); }

#if XGAN_NORMAL_VECTOR
XGAN_NORMAL_INLINE uints bits(floats x) { return (uints)x; }
XGAN_NORMAL_INLINE floats from_bits(uints b) { return (floats)b; }
XGAN_NORMAL_INLINE uints less(floats a, floats b) { return (uints)(a < b); }
// Correctly rounded square root of each lane.
XGAN_NORMAL_INLINE floats root(floats x) {
#if defined(__x86_64__) && XGAN_NORMAL_LANES == 8
    return __builtin_ia32_sqrtps256(x);
#elif defined(__x86_64__)
    return __builtin_ia32_sqrtps(x);
#else
    floats r;
    for (int i = 0; i < XGAN_NORMAL_LANES; ++i) r[i] = std::sqrt(x[i]);
    return r;
#endif
}
#endif

// mask ? a : b, bit by bit (mask lanes are all ones or all zeros).
template <class V, class U>
XGAN_NORMAL_INLINE V select(U mask, V a, V b) {
    return from_bits((mask & bits(a)) | (~mask & bits(b)));
}

// ---- the transform -------------------------------------------------------------------------

// log u for u = 1 - d in [2^-32, 1], given both u and d (each rounded to float from exact
// values): fdlibm e_logf.c, except that near 1, where u - 1 would have lost the low bits
// of d to rounding, f = u - 1 is taken as -d.
template <class V>
XGAN_NORMAL_INLINE V log_unit_f(V u, V d) {
    constexpr float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f;
    constexpr float Lg1 = 0xaaaaaa.0p-24f, Lg2 = 0xccce13.0p-25f, Lg3 = 0x91e9ee.0p-25f, Lg4 = 0xf89e26.0p-26f;
    constexpr float sqrt2 = 1.41421356237f, half_sqrt2 = 0.707106781187f;
    constexpr std::uint32_t mantissa = 0x007FFFFFu, one = 0x3F800000u, magic = 0x4B000000u;  // 2^23
    const auto b = bits(u);
    V m = from_bits((b & mantissa) | one);
    const auto big = less(V{} + sqrt2, m);
    m = select(big, m * 0.5f, m);
    const V k = (from_bits((b >> 23) | magic) - (0x1.0p23f + 127.0f)) + select(big, V{} + 1.0f, V{} + 0.0f);
    const auto near_one = less(V{} + half_sqrt2, u);  // then k = 0 and m = u
    const V f = select(near_one, V{} - d, m - 1.0f);
    const V dk = select(near_one, V{} + 0.0f, k);
    const V s = f / (2.0f + f);
    const V z = s * s;
    const V w = z * z;
    const V R = z * (Lg1 + w * Lg3) + w * (Lg2 + w * Lg4);
    const V hfsq = 0.5f * f * f;
    return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
}

// cos 2 pi a and sin 2 pi a for a in [0, 1]: a = n/4 + t/(2 pi) with n an integer and
// |t| <= pi/4, FreeBSD's k_sinf.c and k_cosf.c polynomials (coefficients rounded to
// float) on t, then a quarter-turn rotation by n.
template <class V>
XGAN_NORMAL_INLINE void cos_sin_turn_f(V a, V& c, V& s) {
    constexpr float S1 = -0x15555554cbac77.0p-55f, S2 = 0x111110896efbb2.0p-59f, S3 = -0x1a00f9e2cae774.0p-65f,
                    S4 = 0x16cd878c3b46a7.0p-71f;
    constexpr float C0 = -0x1ffffffd0c5e81.0p-54f, C1 = 0x155553e1053a42.0p-57f, C2 = -0x16c087e80f1e27.0p-62f,
                    C3 = 0x199342e0ee5069.0p-68f;
    constexpr float pio2 = 1.57079632679f;
    constexpr float shifter = 0x1.8p23f;  // adding it rounds to an integer, kept in the low bits
    const V q = a * 4.0f;                  // exact
    const V shifted = q + shifter;
    const auto n = bits(shifted);          // low two bits: round(q) mod 4
    const V t = (q - (shifted - shifter)) * pio2;

    const V z = t * t;
    const V w = z * z;
    const V zt = z * t;
    const V sin_t = (t + zt * (S1 + z * S2)) + zt * w * (S3 + z * S4);
    const V cos_t = ((1.0f + z * C0) + w * C1) + (w * z) * (C2 + z * C3);

    // Rotate by n quarter turns: swap for odd n, then cos < 0 for n = 1, 2 and sin < 0 for n = 2, 3.
    const decltype(n) zero{};
    const auto odd = zero - (n & 1);
    const V cos_a = select(odd, sin_t, cos_t);
    const V sin_a = select(odd, cos_t, sin_t);
    c = from_bits(bits(cos_a) ^ (((n + 1) & 2) << 30));
    s = from_bits(bits(sin_a) ^ ((n & 2) << 30));
}

// The float transform: u = 1 - d, angle a; x = r cos 2 pi a, y = r sin 2 pi a with
// r = sqrt(-2 log u).
template <class V>
XGAN_NORMAL_INLINE void box_muller_f(V u, V d, V a, V& x, V& y) {
    const V r = root(-2.0f * log_unit_f(u, d));
    V c, s;
    cos_sin_turn_f(a, c, s);
    x = r * c;
    y = r * s;
}

// The inputs of one pair from one 64-bit engine draw: its high 32 bits h give
// d = h 2^-32 and u = 1 - d = (2^32 - h) 2^-32, its low 32 bits the angle a, each
// rounded once to float. (Rounding 2^32 - h, at most 2^32, to float and scaling by the
// power of two 2^-32 is rounding u itself.)
XGAN_NORMAL_INLINE void pair_inputs(std::uint64_t draw, float& u, float& d, float& a) {
    const std::uint64_t high = draw >> 32;
    d = static_cast<float>(high) * 0x1.0p-32f;
    u = static_cast<float>((std::uint64_t{1} << 32) - high) * 0x1.0p-32f;
    a = static_cast<float>(draw & 0xFFFFFFFFu) * 0x1.0p-32f;
}

// The same for a vector of draws given as their high and low halves. No vector
// instruction converts unsigned 32-bit integers to float before AVX-512, so each value
// is split into 16-bit halves, converted exactly, and summed: one rounding of the exact
// sum, the same float as the direct conversion.
#if XGAN_NORMAL_VECTOR
template <class V, class U>
XGAN_NORMAL_INLINE V unsigned_to_float(U v) {
    typedef std::int32_t signed_lanes __attribute__((vector_size(sizeof(V))));
    return __builtin_convertvector((signed_lanes)(v >> 16), V) * 65536.0f +
           __builtin_convertvector((signed_lanes)(v & 0xFFFFu), V);
}
#endif

// x[p], y[p] for pairs p < count, from draws[p] (pair_inputs, then box_muller_f), whole
// vectors of XGAN_NORMAL_LANES pairs first, then the rest one by one.
XGAN_NORMAL_TARGET inline void normals_from_draws(std::size_t count, const std::uint64_t* XGAN_RESTRICT draws,
                                                  float* XGAN_RESTRICT x, float* XGAN_RESTRICT y) {
    std::size_t p = 0;
#if XGAN_NORMAL_VECTOR
    constexpr std::size_t L = XGAN_NORMAL_LANES;
    using V = floats;
    using U = uints;
    const std::size_t full = count - count % L;
    for (; p < full; p += L) {
        U high, low;
#pragma GCC unroll 8
        for (std::size_t j = 0; j < L; ++j) {
            high[j] = static_cast<std::uint32_t>(draws[p + j] >> 32);
            low[j] = static_cast<std::uint32_t>(draws[p + j]);
        }
        const V d = unsigned_to_float<V>(high) * 0x1.0p-32f;
        // 2^32 - h wraps to 0 for h = 0, where u = 1.
        const U complement = U{} - high;
        const V u = select(less(V{}, unsigned_to_float<V>(complement)), unsigned_to_float<V>(complement) * 0x1.0p-32f,
                           V{} + 1.0f);
        const V a = unsigned_to_float<V>(low) * 0x1.0p-32f;
        V xv, yv;
        box_muller_f(u, d, a, xv, yv);
        std::memcpy(x + p, &xv, sizeof xv);
        std::memcpy(y + p, &yv, sizeof yv);
    }
#endif
    for (; p < count; ++p) {
        float u, d, a;
        pair_inputs(draws[p], u, d, a);
        box_muller_f(u, d, a, x[p], y[p]);
    }
}

#undef XGAN_NORMAL_INLINE
