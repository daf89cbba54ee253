// The kernels of xgan/detail/kernels.hpp, written once and compiled once per
// instruction set: kernels.hpp includes this file (deliberately without an include
// guard) with XGAN_KERNEL_NS, XGAN_KERNEL_TARGET, XGAN_KERNEL_BYTES and XGAN_KERNEL_FMA
// defined. Include xgan/detail/kernels.hpp, never this file.
//
// Every function carries XGAN_KERNEL_TARGET, so in the avx2 namespace each one, and
// everything inlined into it, is compiled for AVX2 and FMA. No lambdas: a lambda would
// not inherit the target attribute.

#if !defined(XGAN_KERNEL_NS) || !defined(XGAN_KERNEL_BYTES) || !defined(XGAN_KERNEL_FMA)
#error "xgan/detail/kernels_impl.hpp is included by xgan/detail/kernels.hpp only"
#endif

#define XGAN_KERNEL_INLINE XGAN_KERNEL_TARGET __attribute__((always_inline)) inline

namespace xgan::detail::kernels::XGAN_KERNEL_NS {

// Widest vector of this instruction set, in elements of T.
template <class T>
inline constexpr std::size_t max_lanes = XGAN_KERNEL_BYTES / sizeof(T);
// One 16-byte register, in elements of T.
template <class T>
inline constexpr std::size_t half_lanes = 16 / sizeof(T);

// The vector width used along a row of N elements: the widest no longer than the row
// (1 = scalar code when even a 16-byte vector would not fit).
template <class T, std::size_t N>
inline constexpr std::size_t lanes_for = N >= max_lanes<T> ? max_lanes<T> : N >= half_lanes<T> ? half_lanes<T> : 1;

// The lanes a row of N elements occupies: N rounded up to whole vectors of lanes_for.
template <class T, std::size_t N>
inline constexpr std::size_t padded_width = (N + lanes_for<T, N> - 1) / lanes_for<T, N> * lanes_for<T, N>;

// ---- primitives ---------------------------------------------------------------------

template <class T, std::size_t L>
XGAN_KERNEL_INLINE vec<T, L> load(const T* p) {
    vec<T, L> v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class T, std::size_t L>
XGAN_KERNEL_INLINE void store(T* p, vec<T, L> v) {
    std::memcpy(p, &v, sizeof v);
}

template <class T, std::size_t L, std::size_t... I>
XGAN_KERNEL_INLINE vec<T, L> splat_lanes(T s, std::index_sequence<I...>) {
    return vec<T, L>{(static_cast<void>(I), s)...};
}

// s in every lane. Spelled as a vector initialiser (what _mm256_set1_ps is): GCC does
// not always turn a lane loop into one broadcast.
template <class T, std::size_t L>
XGAN_KERNEL_INLINE vec<T, L> splat(T s) {
    if constexpr (L == 1) return s;
    else return splat_lanes<T, L>(s, std::make_index_sequence<L>{});
}

// a * b + c: one fused operation (one rounding) when XGAN_KERNEL_FMA, otherwise a
// multiply and an add (two roundings). The x86 builtins below are what GCC's and
// Clang's <immintrin.h> wrap (_mm256_fmadd_ps, _mm256_sqrt_ps, ...), called directly
// because that header alone costs a translation unit 0.5-0.8 s to parse.
template <class T, std::size_t L>
XGAN_KERNEL_INLINE vec<T, L> madd(vec<T, L> a, vec<T, L> b, vec<T, L> c) {
#if XGAN_KERNEL_FMA
    if constexpr (L == 1) {
        if constexpr (std::is_same_v<T, float>) return __builtin_fmaf(a, b, c);
        else return __builtin_fma(a, b, c);
    } else if constexpr (sizeof(vec<T, L>) == 32) {
        if constexpr (std::is_same_v<T, float>) return __builtin_ia32_vfmaddps256(a, b, c);
        else return __builtin_ia32_vfmaddpd256(a, b, c);
    } else {
        static_assert(sizeof(vec<T, L>) == 16);
        if constexpr (std::is_same_v<T, float>) return __builtin_ia32_vfmaddps(a, b, c);
        else return __builtin_ia32_vfmaddpd(a, b, c);
    }
#else
    return a * b + c;
#endif
}

// Correctly rounded square root of each lane (as std::sqrt).
template <class T, std::size_t L>
XGAN_KERNEL_INLINE vec<T, L> vsqrt(vec<T, L> a) {
    if constexpr (L == 1) {
        return std::sqrt(a);
    }
#if XGAN_KERNELS_X86
    else if constexpr (sizeof(vec<T, L>) == 32) {
        if constexpr (std::is_same_v<T, float>) return __builtin_ia32_sqrtps256(a);
        else return __builtin_ia32_sqrtpd256(a);
    } else if constexpr (sizeof(vec<T, L>) == 16) {
        if constexpr (std::is_same_v<T, float>) return __builtin_ia32_sqrtps(a);
        else return __builtin_ia32_sqrtpd(a);
    }
#endif
    else {
        vec<T, L> r;
        for (std::size_t i = 0; i < L; ++i) r[i] = std::sqrt(a[i]);
        return r;
    }
}

template <class T, std::size_t L, std::size_t... I>
XGAN_KERNEL_INLINE vec<T, L / 2> lower_half(vec<T, L> v, std::index_sequence<I...>) {
    return __builtin_shufflevector(v, v, I...);
}
template <class T, std::size_t L, std::size_t... I>
XGAN_KERNEL_INLINE vec<T, L / 2> upper_half(vec<T, L> v, std::index_sequence<I...>) {
    return __builtin_shufflevector(v, v, (I + L / 2)...);
}

// The sum of the lanes, always in the same order: halves added pairwise, recursively.
template <class T, std::size_t L>
XGAN_KERNEL_INLINE T hsum(vec<T, L> v) {
    if constexpr (L == 1) {
        return v;
    } else if constexpr (L == 2) {
        return v[0] + v[1];
    } else {
        return hsum<T, L / 2>(lower_half<T, L>(v, std::make_index_sequence<L / 2>{}) +
                              upper_half<T, L>(v, std::make_index_sequence<L / 2>{}));
    }
}

// mask ? a : b lane by lane, mask being a comparison of vec<T, L> (bool when L = 1).
template <class T, std::size_t L, class Mask>
XGAN_KERNEL_INLINE vec<T, L> select(Mask mask, vec<T, L> a, vec<T, L> b) {
    if constexpr (L == 1) {
        return mask ? a : b;
    } else {
        using I = vec<std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>, L>;
        return (vec<T, L>)(((I)mask & (I)a) | (~(I)mask & (I)b));
    }
}

// Activations a Dense kernel can apply to its results in registers: the lane forms
// the Ops give (see output_gated_v), with the same values bit for bit, and their
// gradients taken from the activation's output y instead of its input x (valid because
// y > 0 exactly when x > 0 for these Ops).
template <class Op, class T, std::size_t L>
XGAN_KERNEL_INLINE vec<T, L> op_value(vec<T, L> x) {
    Op::template value_lanes<T>(x);
    return x;
}
template <class Op, class T, std::size_t L>
XGAN_KERNEL_INLINE vec<T, L> op_gradient_from_output(vec<T, L> y, vec<T, L> dy) {
    Op::template gradient_from_output_lanes<T>(y, dy);
    return dy;
}

// How a tile writes its results: as they are, through an activation, or (for the
// backward pass of an activation before this product) gated by that activation's
// output, read from the `row` argument, laid out like C.
struct plain {};
template <class Op>
struct activated {
    using op = Op;
};
template <class Op>
struct gated {
    using op = Op;
};

template <class Finish>
inline constexpr bool is_gated = false;
template <class Op>
inline constexpr bool is_gated<gated<Op>> = true;

// Stores acc at c, which is element `at` of C (and of the gate, for a gated Finish).
template <class T, std::size_t L, class Finish>
XGAN_KERNEL_INLINE void finish_store(T* c, vec<T, L> acc, const T* gate, std::size_t at) {
    if constexpr (std::is_same_v<Finish, plain>) {
        store<T, L>(c, acc);
    } else if constexpr (is_gated<Finish>) {
        using Op = typename Finish::op;
        store<T, L>(c, op_gradient_from_output<Op, T, L>(load<T, L>(gate + at), acc));
    } else {
        using Op = typename Finish::op;
        store<T, L>(c, op_value<Op, T, L>(acc));
    }
}

// ---- C = start + A B, vectorised along the rows of B and C -----------------------------
//
//   C[i, 0:N] = start_i + sum_{k < K} A(i, k) B[k, 0:N]     for i < M
//
// with A(i, k) = a[i * a_rs + k * a_ks] (so A may be read transposed), B and C row-major
// (leading dimensions ldb, ldc) and N fixed at compile time; `row` is the bias row for
// start::row, or the gate (laid out like C) for a gated Finish. Each output row is covered
// by vectors of L lanes at fixed offsets; when L does not divide N, the last vector is
// moved back to end at column N and overlaps the one before it. No lane reads or writes
// outside [0, N), and the overlapped columns are computed twice by identical operations,
// so storing both copies is harmless. (In accumulate mode the overlapping vectors always
// sit in the same tile, so both read C before either writes it.)
//
// A tile is MR rows by NB vectors held in registers across the whole K loop: each k
// loads NB vectors of B, broadcasts MR elements of A and issues MR * NB multiply-adds.
// Each C element is start + A(i,0)B(0,j) + A(i,1)B(1,j) + ... in order of k.

template <class T, std::size_t N, std::size_t L>
XGAN_KERNEL_INLINE constexpr std::array<std::size_t, (N + L - 1) / L> column_offsets() {
    constexpr std::size_t count = (N + L - 1) / L;
    std::array<std::size_t, count> offsets{};
    for (std::size_t v = 0; v < count; ++v) offsets[v] = v + 1 == count ? N - L : v * L;
    return offsets;
}

template <class T, std::size_t L, std::size_t MR, std::size_t NB, start Init, class Finish>
XGAN_KERNEL_INLINE void tile(std::size_t K, const T* XGAN_RESTRICT a, std::size_t a_rs, std::size_t a_ks,
                             const T* XGAN_RESTRICT b, std::size_t ldb, T* XGAN_RESTRICT c, std::size_t ldc,
                             const T* XGAN_RESTRICT row, const std::size_t* offsets) {
    using V = vec<T, L>;
    std::size_t off[NB];
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NB; ++v) off[v] = offsets[v];
    // Without this, the compiler hoists the loads of `row` (the same for every tile) out
    // of the loop over tiles and keeps them in vector registers the tile needs: spills.
    if constexpr (Init == start::row) asm("" : "+r"(row));

    V acc[MR][NB];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NB; ++v) {
            if constexpr (Init == start::zero) acc[r][v] = splat<T, L>(T(0));
            else if constexpr (Init == start::row) acc[r][v] = load<T, L>(row + off[v]);
            else acc[r][v] = load<T, L>(c + r * ldc + off[v]);
        }
    }
    for (std::size_t k = 0; k < K; ++k) {
        const T* XGAN_RESTRICT bk = b + k * ldb;
        const T* XGAN_RESTRICT ak = a + k * a_ks;
        V bv[NB];
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NB; ++v) bv[v] = load<T, L>(bk + off[v]);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            const V ar = splat<T, L>(ak[r * a_rs]);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NB; ++v) acc[r][v] = madd<T, L>(ar, bv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NB; ++v)
            finish_store<T, L, Finish>(c + r * ldc + off[v], acc[r][v], row, r * ldc + off[v]);
    }
}

// The last `rows` (< MR) rows: one tile of exactly that height.
template <class T, std::size_t L, std::size_t R, std::size_t NB, start Init, class Finish>
XGAN_KERNEL_INLINE void tail_tile(std::size_t rows, std::size_t K, const T* a, std::size_t a_rs, std::size_t a_ks,
                                  const T* b, std::size_t ldb, T* c, std::size_t ldc, const T* row,
                                  const std::size_t* offsets) {
    if constexpr (R > 0) {
        if (rows == R) tile<T, L, R, NB, Init, Finish>(K, a, a_rs, a_ks, b, ldb, c, ldc, row, offsets);
        else tail_tile<T, L, R - 1, NB, Init, Finish>(rows, K, a, a_rs, a_ks, b, ldb, c, ldc, row, offsets);
    }
}

// All M rows of one column block of NB vectors.
template <class T, std::size_t L, std::size_t MR, std::size_t NB, start Init, class Finish>
XGAN_KERNEL_INLINE void column_block(std::size_t M, std::size_t K, const T* a, std::size_t a_rs, std::size_t a_ks,
                                     const T* b, std::size_t ldb, T* c, std::size_t ldc, const T* row,
                                     const std::size_t* offsets) {
    // A gate is laid out like C and moves down with it; a bias row does not.
    constexpr std::size_t row_step = is_gated<Finish> ? 1 : 0;
    std::size_t i = 0;
    for (; i + MR <= M; i += MR)
        tile<T, L, MR, NB, Init, Finish>(K, a + i * a_rs, a_rs, a_ks, b, ldb, c + i * ldc, ldc,
                                         row + row_step * i * ldc, offsets);
    if (i < M)
        tail_tile<T, L, MR - 1, NB, Init, Finish>(M - i, K, a + i * a_rs, a_rs, a_ks, b, ldb, c + i * ldc, ldc,
                                                  row + row_step * i * ldc, offsets);
}

// RowsHint: M when it is a compile-time constant (a gradient's Out), else a large value.
template <class T, std::size_t N, std::size_t RowsHint, start Init, class Finish = plain>
XGAN_KERNEL_INLINE void gemm_rows(std::size_t M, std::size_t K, const T* a, std::size_t a_rs, std::size_t a_ks,
                                  const T* b, std::size_t ldb, T* c, std::size_t ldc, const T* row) {
    constexpr std::size_t L = lanes_for<T, N>;
    constexpr std::size_t NV = (N + L - 1) / L;
    constexpr tile_dims dims = tile_shape(NV, RowsHint);
    constexpr std::size_t MR = dims.rows, NB = dims.vectors;
    static_assert(NV == 1 || NB >= 2, "the overlapping last vector must share a tile with the one before it");
    static constexpr std::array<std::size_t, NV> offsets = column_offsets<T, N, L>();
    // Column blocks are counted from the right, so the last block (which holds the
    // overlapping vector, if any) is always a full one.
    constexpr std::size_t first = NV % NB;
    if constexpr (first != 0)
        column_block<T, L, MR, first, Init, Finish>(M, K, a, a_rs, a_ks, b, ldb, c, ldc, row, offsets.data());
    for (std::size_t v0 = first; v0 < NV; v0 += NB)
        column_block<T, L, MR, NB, Init, Finish>(M, K, a, a_rs, a_ks, b, ldb, c, ldc, row, offsets.data() + v0);
}

// ---- y = Finish(x w^T + bias) for a very short K, weights in registers ----------------
//
// The forward product of a Dense layer with at most narrow_k inputs (a generator's
// Dense<5, 128> on its noise): gemm_rows would reload the bias and the K weight vectors
// for every tile of rows. Here a block of NB output vectors keeps its K x NB weight
// vectors and NB bias vectors in registers for all the rows, and each row costs K
// broadcasts and K x NB multiply-adds. Each element is the same operations in the same
// order as gemm_rows<..., start::row, Finish> (bias, then the K products in order of k,
// then Finish), so the results are the same, bit for bit.

inline constexpr std::size_t narrow_k = 5;

template <class T, std::size_t L, std::size_t K, std::size_t NB, class Finish>
XGAN_KERNEL_INLINE void narrow_k_block(std::size_t M, const T* XGAN_RESTRICT x, const T* XGAN_RESTRICT wt,
                                       std::size_t ldw, const T* XGAN_RESTRICT bias, T* XGAN_RESTRICT y,
                                       const std::size_t* offsets) {
    using V = vec<T, L>;
    V w[K][NB], b[NB];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NB; ++v) {
        b[v] = load<T, L>(bias + offsets[v]);
#pragma GCC unroll 8
        for (std::size_t k = 0; k < K; ++k) w[k][v] = load<T, L>(wt + k * ldw + offsets[v]);
    }
    for (std::size_t i = 0; i < M; ++i) {
        V acc[NB];
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NB; ++v) acc[v] = b[v];
#pragma GCC unroll 8
        for (std::size_t k = 0; k < K; ++k) {
            const V xk = splat<T, L>(x[i * K + k]);
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NB; ++v) acc[v] = madd<T, L>(xk, w[k][v], acc[v]);
        }
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NB; ++v) finish_store<T, L, Finish>(y + i * ldw + offsets[v], acc[v], bias, 0);
    }
}

// y{M, N} = Finish(x{M, K} wt{K, N} + bias): the forward product of every Dense layer,
// from its transposed weights. Short K (at most narrow_k) runs narrow_k_block, the rest
// gemm_rows; both give the same results, bit for bit.
template <class T, std::size_t K, std::size_t N, class Finish = plain>
XGAN_KERNEL_INLINE void forward_rows(std::size_t M, const T* x, const T* wt, const T* bias, T* y) {
    static_assert(!is_gated<Finish>);
    if constexpr (K <= narrow_k) {
        constexpr std::size_t L = lanes_for<T, N>;
        constexpr std::size_t NV = (N + L - 1) / L;
        constexpr std::size_t NB = NV < 2 ? NV : 2;
        static constexpr std::array<std::size_t, NV> offsets = column_offsets<T, N, L>();
        // Stores only, so an overlapping last vector may sit in any block: it rewrites
        // the overlapped columns with the values they already hold.
        constexpr std::size_t first = NV % NB;
        if constexpr (first != 0) narrow_k_block<T, L, K, first, Finish>(M, x, wt, N, bias, y, offsets.data());
        for (std::size_t v0 = first; v0 < NV; v0 += NB)
            narrow_k_block<T, L, K, NB, Finish>(M, x, wt, N, bias, y, offsets.data() + v0);
    } else {
        gemm_rows<T, N, 64, start::row, Finish>(M, K, x, K, 1, wt, N, y, N, bias);
    }
}

// gb{N} = dy[0] + dy[1] + ... + dy[M - 1] (Init = start::zero) or gb + dy[0] + ... (start::
// accumulate), the column sums of dy{M, N} in row order: a bias gradient. The sums of
// NB vectors at a time stay in registers over all the rows (a loop over memory would
// load and store every sum once per row).
template <class T, std::size_t L, std::size_t NB, start Init>
XGAN_KERNEL_INLINE void column_sums_block(std::size_t M, std::size_t N, const T* XGAN_RESTRICT dy, T* XGAN_RESTRICT gb,
                                          const std::size_t* offsets) {
    using V = vec<T, L>;
    V acc[NB];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NB; ++v) {
        acc[v] = load<T, L>(dy + offsets[v]);
        if constexpr (Init == start::accumulate) acc[v] = load<T, L>(gb + offsets[v]) + acc[v];
    }
    for (std::size_t r = 1; r < M; ++r) {
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NB; ++v) acc[v] = acc[v] + load<T, L>(dy + r * N + offsets[v]);
    }
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NB; ++v) store<T, L>(gb + offsets[v], acc[v]);
}

template <class T, std::size_t N, start Init>
XGAN_KERNEL_INLINE void column_sums(std::size_t M, const T* dy, T* gb) {
    static_assert(Init == start::accumulate || Init == start::zero);
    constexpr std::size_t L = lanes_for<T, N>;
    constexpr std::size_t NV = (N + L - 1) / L;
    constexpr std::size_t NB = NV < 8 ? NV : 8;
    static constexpr std::array<std::size_t, NV> offsets = column_offsets<T, N, L>();
    // Each block reads gb before writing it, and an overlapping last vector shares the
    // last block with the vector before it, so accumulation reads no updated column.
    constexpr std::size_t first = NV % NB;
    if constexpr (first != 0) column_sums_block<T, L, first, Init>(M, N, dy, gb, offsets.data());
    for (std::size_t v0 = first; v0 < NV; v0 += NB) column_sums_block<T, L, NB, Init>(M, N, dy, gb, offsets.data() + v0);
}

// ---- C = A B^T + bias for very narrow outputs, vectorised along K ----------------------
//
//   C[i, j] = (sum_{k < K} A[i, k] B[j, k]) + bias[j]       for i < M, j < N
//
// with A {M, K} and B {N, K} row-major and K, N fixed at compile time. Used when N is
// too narrow to fill a vector (a discriminator's Dense<128, 1>). Each dot product is
// summed in L interleaved partial sums over k, then the lanes are added by hsum, then
// the K % L remaining products, then the bias: always in that order.

template <class T, std::size_t K, std::size_t N, std::size_t L, std::size_t MR>
XGAN_KERNEL_INLINE void dot_tile(const T* XGAN_RESTRICT a, const T* XGAN_RESTRICT b, const T* XGAN_RESTRICT bias,
                                 T* XGAN_RESTRICT c) {
    using V = vec<T, L>;
    constexpr std::size_t KV = K / L;
    V acc[MR][N];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 16
        for (std::size_t n = 0; n < N; ++n) acc[r][n] = splat<T, L>(T(0));
    }
    for (std::size_t kv = 0; kv < KV; ++kv) {
        V bv[N];
#pragma GCC unroll 16
        for (std::size_t n = 0; n < N; ++n) bv[n] = load<T, L>(b + n * K + kv * L);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            const V av = load<T, L>(a + r * K + kv * L);
#pragma GCC unroll 16
            for (std::size_t n = 0; n < N; ++n) acc[r][n] = madd<T, L>(av, bv[n], acc[r][n]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 16
        for (std::size_t n = 0; n < N; ++n) {
            T s = hsum<T, L>(acc[r][n]);
            for (std::size_t k = KV * L; k < K; ++k) s = madd<T, 1>(a[r * K + k], b[n * K + k], s);
            c[r * N + n] = s + bias[n];
        }
    }
}

template <class T, std::size_t K, std::size_t N, std::size_t L, std::size_t R>
XGAN_KERNEL_INLINE void dot_tail(std::size_t rows, const T* a, const T* b, const T* bias, T* c) {
    if constexpr (R > 0) {
        if (rows == R) dot_tile<T, K, N, L, R>(a, b, bias, c);
        else dot_tail<T, K, N, L, R - 1>(rows, a, b, bias, c);
    }
}

template <class T, std::size_t K, std::size_t N>
XGAN_KERNEL_INLINE void gemm_dot(std::size_t M, const T* a, const T* b, const T* bias, T* c) {
    constexpr std::size_t L = lanes_for<T, K>;
    // MR * N accumulators, N vectors of B and one of A: at most 8 + 3 + 1 registers.
    constexpr std::size_t MR = N >= 8 ? 1 : 8 / N;
    std::size_t i = 0;
    for (; i + MR <= M; i += MR) dot_tile<T, K, N, L, MR>(a + i * K, b, bias, c + i * N);
    if (i < M) dot_tail<T, K, N, L, MR - 1>(M - i, a + i * K, b, bias, c + i * N);
}

// ---- transposition --------------------------------------------------------------------

// dst[c * ldd + r] = src[r * lds + c] for an L x L block, in registers.
template <class T, std::size_t L>
XGAN_KERNEL_INLINE void transpose_block(const T* XGAN_RESTRICT src, std::size_t lds, T* XGAN_RESTRICT dst,
                                        std::size_t ldd) {
    using V = vec<T, L>;
    if constexpr (L == 2) {
        const V r0 = load<T, 2>(src), r1 = load<T, 2>(src + lds);
        store<T, 2>(dst, __builtin_shufflevector(r0, r1, 0, 2));
        store<T, 2>(dst + ldd, __builtin_shufflevector(r0, r1, 1, 3));
    } else if constexpr (L == 4) {
        const V r0 = load<T, 4>(src), r1 = load<T, 4>(src + lds), r2 = load<T, 4>(src + 2 * lds),
                r3 = load<T, 4>(src + 3 * lds);
        const V t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
        const V t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
        store<T, 4>(dst, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
        store<T, 4>(dst + ldd, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
        store<T, 4>(dst + 2 * ldd, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
        store<T, 4>(dst + 3 * ldd, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
    } else {
        static_assert(L == 8);
        V r[8];
#pragma GCC unroll 8
        for (std::size_t i = 0; i < 8; ++i) r[i] = load<T, 8>(src + i * lds);
        V t[8];
#pragma GCC unroll 4
        for (std::size_t i = 0; i < 8; i += 2) {
            t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
            t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
        }
        V u[8];
#pragma GCC unroll 2
        for (std::size_t i = 0; i < 8; i += 4) {
            u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
            u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
        }
#pragma GCC unroll 4
        for (std::size_t i = 0; i < 4; ++i) {
            store<T, 8>(dst + i * ldd, __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11));
            store<T, 8>(dst + (i + 4) * ldd, __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15));
        }
    }
}

// dst{Cols, Rows} = src{Rows, Cols}^T, by L x L blocks; when L does not divide a side,
// the last block along it is moved back to end at the edge and overlaps the one before
// (rewriting the same values).
template <class T, std::size_t Rows, std::size_t Cols>
XGAN_KERNEL_INLINE void transpose(const T* XGAN_RESTRICT src, T* XGAN_RESTRICT dst) {
    constexpr std::size_t L = lanes_for<T, (Rows < Cols ? Rows : Cols)>;
    if constexpr (L == 1) {
        for (std::size_t r = 0; r < Rows; ++r)
            for (std::size_t c = 0; c < Cols; ++c) dst[c * Rows + r] = src[r * Cols + c];
    } else {
        constexpr std::array<std::size_t, (Rows + L - 1) / L> row_offsets = column_offsets<T, Rows, L>();
        constexpr std::array<std::size_t, (Cols + L - 1) / L> col_offsets = column_offsets<T, Cols, L>();
        for (const std::size_t r : row_offsets)
            for (const std::size_t c : col_offsets) transpose_block<T, L>(src + r * Cols + c, Cols, dst + c * Rows + r, Rows);
    }
}

// One block of NB vectors (at offsets off) of dense_backward_gated_one_output.
template <class T, std::size_t L, std::size_t NB, class Op, start Init>
XGAN_KERNEL_INLINE void gated_gradient_block(std::size_t batch, const T* XGAN_RESTRICT dy, const T* XGAN_RESTRICT w,
                                             const T* XGAN_RESTRICT y, T* XGAN_RESTRICT d, T* XGAN_RESTRICT gw,
                                             std::size_t ld, const std::size_t* off) {
    using V = vec<T, L>;
    V wv[NB], acc[NB];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NB; ++v) {
        wv[v] = load<T, L>(w + off[v]);
        if constexpr (Init == start::zero) acc[v] = splat<T, L>(T(0));
        else acc[v] = load<T, L>(gw + off[v]);
    }
    for (std::size_t r = 0; r < batch; ++r) {
        const V scale = splat<T, L>(dy[r]);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NB; ++v) {
            const V yv = load<T, L>(y + r * ld + off[v]);
            store<T, L>(d + r * ld + off[v], op_gradient_from_output<Op, T, L>(yv, scale * wv[v]));
            acc[v] = madd<T, L>(scale, yv, acc[v]);
        }
    }
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NB; ++v) store<T, L>(gw + off[v], acc[v]);
}

// ---- Dense<In, Out> -----------------------------------------------------------------

// y{batch, Out} = x{batch, In} w{Out, In}^T + bias
template <std::size_t In, std::size_t Out, class T>
XGAN_KERNEL_TARGET void dense_forward(std::size_t batch, const T* x, const T* w, const T* bias, T* y) {
    if constexpr (Out < half_lanes<T>) {
        // Too narrow to vectorise along the output: dot products along In instead.
        gemm_dot<T, In, Out>(batch, x, w, bias, y);
    } else {
        // Vectorised along the output, which needs w^T {In, Out}: transposed here, on
        // the stack (at most small_dense_bytes), once per call for all rows.
        alignas(64) T wt[In * Out];
        transpose<T, Out, In>(w, wt);
        forward_rows<T, In, Out>(batch, x, wt, bias, y);
    }
}

// dx{batch, In} = dy{batch, Out} w{Out, In}
template <std::size_t In, std::size_t Out, class T>
XGAN_KERNEL_TARGET void dense_backward_input(std::size_t batch, const T* XGAN_RESTRICT dy, const T* XGAN_RESTRICT w,
                                             T* XGAN_RESTRICT dx) {
    if constexpr (Out == 1) {
        // An outer product: each row of dx is dy[r] w (the products a 1-deep sum would give).
        for (std::size_t r = 0; r < batch; ++r) {
            const T scale = dy[r];
            T* XGAN_RESTRICT row = dx + r * In;
            for (std::size_t i = 0; i < In; ++i) row[i] = scale * w[i];
        }
    } else {
        gemm_rows<T, In, 64, start::zero>(batch, Out, dy, Out, 1, w, In, dx, In, nullptr);
    }
}

// y{batch, Out} = Op::value(x w^T + bias): a Dense layer and the activation after it, in
// one pass that never stores the pre-activation values (same results, bit for bit, as
// dense_forward then activation_forward).
template <std::size_t In, std::size_t Out, class Op, class T>
XGAN_KERNEL_TARGET void dense_forward_activated(std::size_t batch, const T* x, const T* w, const T* bias, T* y) {
    if constexpr (Out < half_lanes<T>) {
        gemm_dot<T, In, Out>(batch, x, w, bias, y);
        T* XGAN_RESTRICT out = y;
        for (std::size_t e = 0; e < batch * Out; ++e) out[e] = Op::value(out[e]);
    } else {
        alignas(64) T wt[In * Out];
        transpose<T, Out, In>(w, wt);
        forward_rows<T, In, Out, activated<Op>>(batch, x, wt, bias, y);
    }
}

// h{batch, Mid} = Op::value(x w1^T + b1), then y{batch, Out} = h w2^T + b2: a Dense
// layer, its activation and the Dense layer after them, as dense_forward_activated<In,
// Mid, Op> then dense_forward<Mid, Out>, but a chunk of rows at a time, so that the
// second product reads the chunk of h just written while it is still in L1 (a 128-row h
// of 128 floats is twice L1's size). Each element is computed by the same operations, so
// the results are those of the two calls, bit for bit. Stack: both transposed weights
// (at most 2 x small_dense_bytes).
template <std::size_t In, std::size_t Mid, std::size_t Out, class Op, class T>
XGAN_KERNEL_TARGET void dense_forward_activated_then_dense(std::size_t batch, const T* x, const T* w1, const T* b1,
                                                           T* h, const T* w2, const T* b2, T* y) {
    static_assert(Mid >= half_lanes<T>, "the first layer's output runs through gemm_rows");
    // A multiple of the 6-row tiles of gemm_rows and of the 8-row tiles of gemm_dot.
    constexpr std::size_t chunk = 24;
    alignas(64) T wt1[In * Mid];
    transpose<T, Mid, In>(w1, wt1);
    constexpr bool narrow = Out < half_lanes<T>;
    alignas(64) T wt2[narrow ? 1 : Mid * Out];
    if constexpr (!narrow) transpose<T, Out, Mid>(w2, wt2);
    for (std::size_t r0 = 0; r0 < batch; r0 += chunk) {
        const std::size_t rows = batch - r0 < chunk ? batch - r0 : chunk;
        forward_rows<T, In, Mid, activated<Op>>(rows, x + r0 * In, wt1, b1, h + r0 * Mid);
        if constexpr (narrow)
            gemm_dot<T, Mid, Out>(rows, h + r0 * Mid, w2, b2, y + r0 * Out);
        else
            forward_rows<T, Mid, Out>(rows, h + r0 * Mid, wt2, b2, y + r0 * Out);
    }
}

// d{batch, In} = Op::gradient(x, y, dy w) for the activation before this Dense layer
// (input x, output y {batch, In}), from y alone: dense_backward_input then
// activation_backward in one pass that never stores dy w (same results, bit for bit).
template <std::size_t In, std::size_t Out, class Op, class T>
XGAN_KERNEL_TARGET void dense_backward_input_gated(std::size_t batch, const T* XGAN_RESTRICT dy,
                                                   const T* XGAN_RESTRICT w, const T* XGAN_RESTRICT y,
                                                   T* XGAN_RESTRICT d) {
    if constexpr (Out == 1) {
        constexpr std::size_t L = lanes_for<T, In>;
        constexpr std::array<std::size_t, (In + L - 1) / L> offsets = column_offsets<T, In, L>();
        for (std::size_t r = 0; r < batch; ++r) {
            const vec<T, L> scale = splat<T, L>(dy[r]);
            for (const std::size_t o : offsets)
                store<T, L>(d + r * In + o, op_gradient_from_output<Op, T, L>(
                                                load<T, L>(y + r * In + o), scale * load<T, L>(w + o)));
        }
    } else {
        gemm_rows<T, In, 64, start::zero, gated<Op>>(batch, Out, dy, Out, 1, w, In, d, In, y);
    }
}

// For Out = 1 (a discriminator's last Dense layer after a ReLU-like Op):
// dense_backward_input_gated<In, 1, Op> and dense_accumulate_gradient<In, 1, T, Init>
// in one pass over y, which is both the activation's output (the gate) and this layer's
// input (x of the weight gradient). Vectors along In are taken NB at a time (counted
// from the right, so that an overlapping last vector shares a block with the one before
// it), and for each block the rows in order: each d element is the same select of
// dy[r] w, each gw element the same chain of multiply-adds over the rows, as the two
// separate passes compute, bit for bit.
template <std::size_t In, class Op, class T, start Init>
XGAN_KERNEL_TARGET void dense_backward_gated_one_output(std::size_t batch, const T* XGAN_RESTRICT dy,
                                                        const T* XGAN_RESTRICT w, const T* XGAN_RESTRICT y,
                                                        T* XGAN_RESTRICT d, T* XGAN_RESTRICT gw, T* XGAN_RESTRICT gb) {
    static_assert(Init == start::accumulate || Init == start::zero);
    constexpr std::size_t L = lanes_for<T, In>;
    constexpr std::size_t NV = (In + L - 1) / L;
    constexpr std::size_t NB = NV < 4 ? NV : 4;
    static constexpr std::array<std::size_t, NV> offsets = column_offsets<T, In, L>();
    constexpr std::size_t first = NV % NB;
    if constexpr (first != 0) gated_gradient_block<T, L, first, Op, Init>(batch, dy, w, y, d, gw, In, offsets.data());
    for (std::size_t v0 = first; v0 < NV; v0 += NB)
        gated_gradient_block<T, L, NB, Op, Init>(batch, dy, w, y, d, gw, In, offsets.data() + v0);
    T bias = Init == start::zero ? dy[0] : *gb + dy[0];
    for (std::size_t r = 1; r < batch; ++r) bias += dy[r];
    *gb = bias;
}

// gw{Out, In} += dy^T x, gb{Out} += column sums of dy (each in order of the batch rows);
// with Init = start::zero, gw = dy^T x and gb = the column sums (the same operations
// without the leading "0 +").
template <std::size_t In, std::size_t Out, class T, start Init>
XGAN_KERNEL_TARGET void dense_accumulate_gradient(std::size_t batch, const T* x, const T* dy, T* gw, T* gb) {
    static_assert(Init == start::accumulate || Init == start::zero);
    if constexpr (4 * In * padded_width<T, Out> < 3 * Out * padded_width<T, In> &&
                  2 * In * Out * sizeof(T) <= small_dense_bytes) {
        // Rows of In elements would leave over a quarter more vector lanes idle than rows
        // of Out (a generator's Dense<5, 128>: 5 of 8 lanes busy): compute
        // gw^T = x^T dy {In, Out} instead, then add its transpose.
        // Each element is then gw + (its sum over the batch, in batch order).
        alignas(64) T product[In * Out];
        gemm_rows<T, Out, In, start::zero>(In, batch, x, 1, In, dy, Out, product, Out, nullptr);
        if constexpr (Init == start::zero) {
            transpose<T, In, Out>(product, gw);
        } else {
            alignas(64) T transposed[Out * In];
            transpose<T, In, Out>(product, transposed);
            T* XGAN_RESTRICT out = gw;
            for (std::size_t e = 0; e < Out * In; ++e) out[e] += transposed[e];
        }
    } else {
        gemm_rows<T, In, Out, Init>(Out, batch, dy, 1, Out, x, In, gw, In, nullptr);
    }
    column_sums<T, Out, Init>(batch, dy, gb);
}

// ---- element-wise loops -----------------------------------------------------------

// tanh of the D floats of x (D = the doubles one vector holds), evaluated in double
// lanes, where the rounding to float is the only error that matters (within 1 ulp of
// the exact tanh; tests/layers/test_layers.cpp):
//   a = min(|x|, 10)                  (tanh(x) rounds to +-1 in float from about |x| = 9.01 on)
//   e = exp(2a) = 2^k p(r),  k = round(2a / ln 2),  r = 2a - k ln 2 in [-0.35, 0.35],
//       p = the Taylor polynomial of degree 11 (error below 1e-14)
//   tanh(a) = (e - 1) / (e + 1)       for a >= 2^-10,
//           = a - a^3/3 + 2a^5/15 - 17a^7/315   below (where e - 1 would cancel)
//   result  = that with the sign of x (so -0 stays -0; NaN stays NaN).
// Both branches are computed in every lane and one is selected. Each product that meets
// a sum is one madd (fused on the AVX2/FMA path), spelled out rather than left to the
// compiler's contraction. Over all 2^32 floats this gives the results of the scalar
// loop it replaced, bit for bit, built with GCC or Clang.
template <std::size_t D>
XGAN_KERNEL_INLINE vec<double, D> splat_double(double value) {
    return splat<double, D>(value);
}

template <std::size_t D>
XGAN_KERNEL_INLINE vec<float, D> tanh_lanes(vec<float, D> x) {
    constexpr auto c = splat_double<D>;
    using VD = vec<double, D>;
    using VI = vec<std::int64_t, D>;
    using VF = vec<float, D>;
    using VS = vec<std::int32_t, D>;
    const VD ax = (VD)((VI)__builtin_convertvector(x, VD) & splat<std::int64_t, D>(INT64_MAX));  // |x|
    const VD a = select<double, D>(c(10.0) < ax, c(10.0), ax);  // min(|x|, 10); NaN stays NaN
    const VD y = a + a;
    const VD shifted = madd<double, D>(y, c(0x1.71547652b82fep0), c(0x1.8p52));  // round(y / ln 2) in the low bits
    const VD k = shifted - c(0x1.8p52);
    VD r = madd<double, D>(-k, c(0x1.62e42fefa3800p-1), y);  // ln 2, hi + lo
    r = madd<double, D>(-k, c(0x1.ef35793c76730p-45), r);
    VD p = c(1.0 / 39916800.0);
    p = madd<double, D>(p, r, c(1.0 / 3628800.0));
    p = madd<double, D>(p, r, c(1.0 / 362880.0));
    p = madd<double, D>(p, r, c(1.0 / 40320.0));
    p = madd<double, D>(p, r, c(1.0 / 5040.0));
    p = madd<double, D>(p, r, c(1.0 / 720.0));
    p = madd<double, D>(p, r, c(1.0 / 120.0));
    p = madd<double, D>(p, r, c(1.0 / 24.0));
    p = madd<double, D>(p, r, c(1.0 / 6.0));
    p = madd<double, D>(p, r, c(0.5));
    p = madd<double, D>(p, r, c(1.0));
    p = madd<double, D>(p, r, c(1.0));
    // 2^k from the exponent bits (0 <= k <= 29 here); e = p 2^k is exact.
    const VI k_bits = (VI)shifted - (VI)c(0x1.8p52);
    const VD scale = (VD)((k_bits + splat<std::int64_t, D>(1023)) << 52);
    const VD large = madd<double, D>(p, scale, c(-1.0)) / madd<double, D>(p, scale, c(1.0));
    const VD a2 = a * a;
    const VD small =
        madd<double, D>(a * a2, madd<double, D>(a2, madd<double, D>(a2, c(-17.0 / 315.0), c(2.0 / 15.0)), c(-1.0 / 3.0)), a);
    const VF t = __builtin_convertvector(select<double, D>(a < c(0x1p-10), small, large), VF);
    const VS sign = splat<std::int32_t, D>(INT32_MIN);
    return (VF)(((VS)t & ~sign) | ((VS)x & sign));
}

XGAN_KERNEL_TARGET inline void tanh_forward(std::size_t n, const float* XGAN_RESTRICT in, float* XGAN_RESTRICT out) {
    constexpr std::size_t D = XGAN_KERNEL_BYTES / sizeof(double);
    std::size_t i = 0;
    for (; i + D <= n; i += D) store<float, D>(out + i, tanh_lanes<D>(load<float, D>(in + i)));
    if (i < n) {
        float a[D] = {}, b[D];
        for (std::size_t j = 0; i + j < n; ++j) a[j] = in[i + j];
        store<float, D>(b, tanh_lanes<D>(load<float, D>(a)));
        for (std::size_t j = 0; i + j < n; ++j) out[i + j] = b[j];
    }
}

// The activation loops. The ReLU-like Ops (output_gated_v) run in vector lanes with
// their own lane forms, which give the scalar Op's results bit for bit (also for -0 and
// NaN); their backward pass reads the gate off the output y, which is positive exactly
// where x is, and never reads x. Float Tanh (float_tanh_kernel_v) runs tanh_forward above. Other Ops (Sigmoid: a call into libm)
// run the scalar Op element by element.
template <class Op, class T>
XGAN_KERNEL_TARGET void activation_forward(std::size_t n, const T* XGAN_RESTRICT in, T* XGAN_RESTRICT out) {
    if constexpr (float_tanh_kernel_v<Op> && std::is_same_v<T, float>) {
        tanh_forward(n, in, out);
        return;
    }
    std::size_t i = 0;
    if constexpr (output_gated_v<Op>) {
        constexpr std::size_t L = max_lanes<T>;
        for (; i + L <= n; i += L) store<T, L>(out + i, op_value<Op, T, L>(load<T, L>(in + i)));
    }
    for (; i < n; ++i) out[i] = Op::value(in[i]);
}

template <class Op, class T>
XGAN_KERNEL_TARGET void activation_backward(std::size_t n, const T* XGAN_RESTRICT x, const T* XGAN_RESTRICT y,
                                            const T* XGAN_RESTRICT dy, T* XGAN_RESTRICT dx) {
    if constexpr (output_gated_v<Op>) {
        // x is not read: after a Dense layer fused with this activation it was never
        // written (see BasicSequential::forward).
        constexpr std::size_t L = max_lanes<T>;
        std::size_t i = 0;
        for (; i + L <= n; i += L)
            store<T, L>(dx + i,
                        op_gradient_from_output<Op, T, L>(load<T, L>(y + i), load<T, L>(dy + i)));
        for (; i < n; ++i) dx[i] = op_gradient_from_output<Op, T, 1>(y[i], dy[i]);
    } else {
        for (std::size_t i = 0; i < n; ++i) dx[i] = Op::gradient(x[i], y[i], dy[i]);
    }
}

// The lanes of x whose exponent bits are all ones (infinities and NaN): all bits set in
// such a lane, none in the others. Integer operations only (an and, a compare), which
// the Adam loop below has execution ports to spare for.
template <class T, std::size_t L>
XGAN_KERNEL_INLINE vec<std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>, L> non_finite_lanes(vec<T, L> x) {
    using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    constexpr I exponent = std::bit_cast<I>(std::numeric_limits<T>::infinity());
    if constexpr (L == 1) {
        return (std::bit_cast<I>(x) & exponent) == exponent ? I{-1} : I{0};
    } else {
        using VI = vec<I, L>;
        const VI e = splat<I, L>(exponent);
        return (VI)(((VI)x & e) == e);
    }
}

// Adam, per element, the same operations in vector lanes and in the scalar tail:
//   m = g (1 - beta1) + m beta1            (fused when XGAN_KERNEL_FMA, like PyTorch's add_(alpha))
//   v = ((1 - beta2) g) g + v beta2        (likewise)
//   p = p + (step_size m) / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Refusable: the new moments go to m_next and v_next, the old parameters to p_old before
// p is overwritten, and the lanes where the new p or v is not finite are ORed into
// non_finite. The new m needs no check of its own: a non-finite m makes p non-finite
// (it is the numerator of p's step), and a non-finite g makes v non-finite.
template <class T, std::size_t L, class Flags>
XGAN_KERNEL_INLINE void adam_lanes(T* p, const T* g, const T* m, const T* v, T* p_old, T* m_next, T* v_next,
                                   const adam_coefficients<T>& c, Flags& non_finite) {
    using V = vec<T, L>;
    const V gi = load<T, L>(g);
    const V mi = madd<T, L>(gi, splat<T, L>(c.one_minus_beta1), load<T, L>(m) * splat<T, L>(c.beta1));
    const V vi = madd<T, L>(splat<T, L>(c.one_minus_beta2) * gi, gi, load<T, L>(v) * splat<T, L>(c.beta2));
    const V denom = vsqrt<T, L>(vi) / splat<T, L>(c.correction2_sqrt) + splat<T, L>(c.eps);
    const V pi = load<T, L>(p);
    const V p_new = pi + splat<T, L>(c.step_size) * mi / denom;
    non_finite |= non_finite_lanes<T, L>(p_new) | non_finite_lanes<T, L>(vi);
    store<T, L>(p_old, pi);
    store<T, L>(p, p_new);
    store<T, L>(m_next, mi);
    store<T, L>(v_next, vi);
}

// Returns whether every new value is finite.
template <class T>
XGAN_KERNEL_TARGET bool adam_update(std::size_t n, T* XGAN_RESTRICT p, const T* XGAN_RESTRICT g,
                                    const T* XGAN_RESTRICT m, const T* XGAN_RESTRICT v, T* XGAN_RESTRICT p_old,
                                    T* XGAN_RESTRICT m_next, T* XGAN_RESTRICT v_next, const adam_coefficients<T>& c) {
    using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    constexpr std::size_t L = max_lanes<T>;
    vec<I, L> lanes = splat<I, L>(I{0});
    I tail = 0;
    std::size_t i = 0;
    for (; i + L <= n; i += L)
        adam_lanes<T, L>(p + i, g + i, m + i, v + i, p_old + i, m_next + i, v_next + i, c, lanes);
    for (; i < n; ++i) adam_lanes<T, 1>(p + i, g + i, m + i, v + i, p_old + i, m_next + i, v_next + i, c, tail);
    for (std::size_t lane = 0; lane < L; ++lane) tail |= lanes[lane];
    return tail == 0;
}

}  // namespace xgan::detail::kernels::XGAN_KERNEL_NS

#undef XGAN_KERNEL_INLINE
