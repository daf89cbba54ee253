// Register-blocked kernels for the small, compile-time-sized products of Dense layers,
// and the element-wise loops of activations and Adam, with run-time instruction-set
// dispatch (the choice itself is detail/cpu_dispatch.hpp's). See docs/performance.md for
// the design. The kernels know no layer: an activation Op opts into the fused products
// and vector loops through members of its own (output_gated_v, float_tanh_kernel_v).
//
// Every kernel is written once, in kernels_impl.hpp, on GCC/Clang vector extensions,
// and compiled twice into two namespaces:
//   kernels::generic  16-byte vectors, the compilation target's own instructions
//                     (SSE2 on baseline x86-64; NEON etc. elsewhere);
//   kernels::avx2     32-byte vectors and explicit fused multiply-adds, each function
//                     marked __attribute__((target("avx2,fma"))) (x86 only).
// The public entry points below pick one at run time, once per process (cpuid), so a
// baseline x86-64 build runs AVX2/FMA code on CPUs that have it. XGAN_KERNELS in the
// environment overrides the choice (detail/cpu_dispatch.hpp).
//
// On x86-64 the 16-byte Dense products are compiled only where
// XGAN_GENERIC_DENSE_KERNELS is defined to 1: Intel's Core and Xeon CPUs since Haswell
// (2013) and AMD's since Excavator (2015) have AVX2 and FMA, and the second copy of
// every product kernel would cost each translation unit about a third of its compile
// time. Without them, CPUs that lack AVX2 or FMA (older ones, some Atom, Celeron and
// Pentium models), and XGAN_KERNELS=generic, run the Dense products through BLAS; the
// element-wise loops keep their 16-byte versions. Elsewhere (ARM, ...) the 16-byte
// kernels are the only ones and always compiled. Define the macro the same way in
// every translation unit of a program. The test suite defines it, to check both
// kernel sets.
//
// Determinism: which path runs depends only on the CPU and XGAN_KERNELS, and each kernel
// performs a fixed sequence of floating-point operations (no threads, no reductions whose
// order depends on timing or alignment), so the same inputs give bit-identical outputs
// run to run. The two paths may differ from each other, and from BLAS, by rounding (the
// AVX2 path fuses multiply-adds).
#pragma once

#include <array>
#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include <xgan/config.hpp>
#include <xgan/detail/cpu_dispatch.hpp>

namespace xgan::detail::kernels {

// True for an activation Op that dense_forward_activated and dense_backward_input_gated
// can fuse into a Dense layer: the Op says its gradient can be read off its output
// (static constexpr bool gated_by_output = true: y > 0 exactly when x > 0) and gives
// its lane form, which the kernels apply in registers:
//   template <class T, class V> static void value_lanes(V& x)                x = value(x)
//   template <class T, class V> static void gradient_from_output_lanes(const V& y, V& dy)
//                                                    dy = gradient(x, y, dy), from y alone
// on V = T or a GCC/Clang vector of T, written with operators only (no calls, so that
// they inline into every instruction set's kernels) and marked [[gnu::always_inline]];
// bit for bit the Op's scalar value and gradient (layers/relu.hpp, leaky_relu.hpp).
template <class Op>
concept output_gated = requires {
    { Op::gated_by_output } -> std::convertible_to<bool>;
} && Op::gated_by_output;
template <class Op>
inline constexpr bool output_gated_v = output_gated<Op>;

// True for an Op whose float values come from the kernels' own correctly rounded tanh
// loop (static constexpr bool float_tanh_kernel = true; layers/tanh.hpp) rather than
// from Op::value element by element.
template <class Op>
concept float_tanh_kernel = requires {
    { Op::float_tanh_kernel } -> std::convertible_to<bool>;
} && Op::float_tanh_kernel;
template <class Op>
inline constexpr bool float_tanh_kernel_v = float_tanh_kernel<Op>;

// How a product's output tile starts: from zero, from a row vector repeated on every
// row (a bias), or from the output's current contents (accumulation).
enum class start { zero, row, accumulate };

// The per-step constants of one Adam update (see optim/adam.hpp).
template <class T>
struct adam_coefficients {
    T beta1, one_minus_beta1, beta2, one_minus_beta2;
    T step_size;         // -lr / (1 - beta1^t)
    T correction2_sqrt;  // sqrt(1 - beta2^t)
    T eps;
};

// A Dense<In, Out> product is computed by the kernels below when its weight matrix takes
// at most 64 KiB (128 x 128 floats, 128 x 64 doubles), which is also the most stack a
// kernel call uses for its transposed copies; larger layers (an MNIST 784 x 1024, say)
// go to BLAS, whose cache blocking wins once the operands outgrow L1 (at 128 x 128 x 64
// the two are level on an AVX2 machine).
inline constexpr std::size_t small_dense_bytes = 64 * 1024;

template <class T, std::size_t In, std::size_t Out>
inline constexpr bool small_dense_v = XGAN_HAS_KERNELS && (std::is_same_v<T, float> || std::is_same_v<T, double>) &&
                                      In * Out * sizeof(T) <= small_dense_bytes;

template <class T, std::size_t Lanes>
struct vector_of {
    typedef T type __attribute__((vector_size(Lanes * sizeof(T))));
};
template <class T>
struct vector_of<T, 1> {
    using type = T;
};
// Lanes elements of T in one register (Lanes = 1: T itself).
template <class T, std::size_t Lanes>
using vec = typename vector_of<T, Lanes>::type;

// The register tile of the row kernels: `rows` rows of C by `vectors` vectors.
struct tile_dims {
    std::size_t rows;
    std::size_t vectors;
};

// Tile for rows of `vectors` vectors when C has `rows_hint` rows (or more). Registers
// needed: rows * vectors accumulators + vectors of B + 1 broadcast, kept within 15 of
// the 16 vector registers of SSE2 and AVX2. 6 x 2 is the classic AVX2 micro-kernel
// (6 x 16 floats): 12 multiply-adds per 2 loads and 6 broadcasts.
constexpr tile_dims tile_shape(std::size_t vectors, std::size_t rows_hint) {
    if (rows_hint >= 6) return vectors >= 2 ? tile_dims{6, 2} : tile_dims{12, 1};
    const std::size_t rows = rows_hint == 0 ? 1 : rows_hint;
    const std::size_t fit = 14 / (rows + 1);
    return {rows, fit < vectors ? fit : vectors};
}

}  // namespace xgan::detail::kernels

#if XGAN_HAS_KERNELS
#define XGAN_KERNEL_NS generic
#define XGAN_KERNEL_TARGET
#define XGAN_KERNEL_BYTES 16
#define XGAN_KERNEL_FMA 0
#include <xgan/detail/kernels_impl.hpp>
#undef XGAN_KERNEL_NS
#undef XGAN_KERNEL_TARGET
#undef XGAN_KERNEL_BYTES
#undef XGAN_KERNEL_FMA
#endif

#if XGAN_KERNELS_X86
#define XGAN_KERNEL_NS avx2
#define XGAN_KERNEL_TARGET __attribute__((target("avx2,fma")))
#define XGAN_KERNEL_BYTES 32
#define XGAN_KERNEL_FMA 1
#include <xgan/detail/kernels_impl.hpp>
#undef XGAN_KERNEL_NS
#undef XGAN_KERNEL_TARGET
#undef XGAN_KERNEL_BYTES
#undef XGAN_KERNEL_FMA
#endif

namespace xgan::detail::kernels {

#if XGAN_KERNELS_X86
#define XGAN_KERNEL_DISPATCH(...)              \
    do {                                       \
        if (avx2_active()) avx2::__VA_ARGS__;  \
        else generic::__VA_ARGS__;             \
    } while (false)
#else
#define XGAN_KERNEL_DISPATCH(...) generic::__VA_ARGS__
#endif

// The Dense products: reached only when active_path() is not blas, so without the
// 16-byte product kernels, only on the avx2 path.
#if XGAN_GENERIC_DENSE_KERNELS
#define XGAN_DENSE_DISPATCH(...) XGAN_KERNEL_DISPATCH(__VA_ARGS__)
#else
#define XGAN_DENSE_DISPATCH(...) avx2::__VA_ARGS__
#endif

#if XGAN_HAS_KERNELS

// y{batch, Out} = x{batch, In} w{Out, In}^T + bias{Out}
template <std::size_t In, std::size_t Out, class T>
void dense_forward(std::size_t batch, const T* x, const T* w, const T* bias, T* y) {
    XGAN_DENSE_DISPATCH(dense_forward<In, Out, T>(batch, x, w, bias, y));
}

// dx{batch, In} = dy{batch, Out} w{Out, In}
template <std::size_t In, std::size_t Out, class T>
void dense_backward_input(std::size_t batch, const T* dy, const T* w, T* dx) {
    XGAN_DENSE_DISPATCH(dense_backward_input<In, Out, T>(batch, dy, w, dx));
}

// A Dense layer fused with the ReLU-like activation next to it (output_gated_v<Op>), for
// a network that skips the activation's own pass; the results equal the separate passes
// bit for bit, but the intermediate matrix is never written.
//   y{batch, Out} = Op::value(x w^T + bias)                        (Dense, then Op)
template <std::size_t In, std::size_t Out, class Op, class T>
    requires output_gated_v<Op>
void dense_forward_activated(std::size_t batch, const T* x, const T* w, const T* bias, T* y) {
    XGAN_DENSE_DISPATCH(dense_forward_activated<In, Out, Op, T>(batch, x, w, bias, y));
}
//   h{batch, Mid} = Op::value(x w1^T + b1), y{batch, Out} = h w2^T + b2   (Dense, Op, Dense)
template <std::size_t In, std::size_t Mid, std::size_t Out, class Op, class T>
    requires output_gated_v<Op>
void dense_forward_activated_then_dense(std::size_t batch, const T* x, const T* w1, const T* b1, T* h, const T* w2,
                                        const T* b2, T* y) {
    XGAN_DENSE_DISPATCH(dense_forward_activated_then_dense<In, Mid, Out, Op, T>(batch, x, w1, b1, h, w2, b2, y));
}
//   d{batch, In} = Op's backward pass applied to dy w{Out, In}, given Op's output
//   y{batch, In}                                                    (Op, then Dense)
template <std::size_t In, std::size_t Out, class Op, class T>
    requires output_gated_v<Op>
void dense_backward_input_gated(std::size_t batch, const T* dy, const T* w, const T* y, T* d) {
    XGAN_DENSE_DISPATCH(dense_backward_input_gated<In, Out, Op, T>(batch, dy, w, y, d));
}
//   For Out = 1: that, and gw{1, In} (+)= dy^T y, gb (+)= sum of dy (Init as for
//   dense_accumulate_gradient), in one pass over y, which is also the layer's input.
template <std::size_t In, class Op, class T, start Init>
    requires output_gated_v<Op>
void dense_backward_gated_one_output(std::size_t batch, const T* dy, const T* w, const T* y, T* d, T* gw, T* gb) {
    XGAN_DENSE_DISPATCH(dense_backward_gated_one_output<In, Op, T, Init>(batch, dy, w, y, d, gw, gb));
}

// gw{Out, In} += dy^T x, gb{Out} += column sums of dy (Init = start::accumulate), or
// gw = dy^T x, gb = the column sums (Init = start::zero)
template <std::size_t In, std::size_t Out, class T, start Init = start::accumulate>
void dense_accumulate_gradient(std::size_t batch, const T* x, const T* dy, T* gw, T* gb) {
    XGAN_DENSE_DISPATCH(dense_accumulate_gradient<In, Out, T, Init>(batch, x, dy, gw, gb));
}

// out[i] = Op::value(in[i])
template <class Op, class T>
void activation_forward(std::size_t n, const T* in, T* out) {
    XGAN_KERNEL_DISPATCH(activation_forward<Op, T>(n, in, out));
}

// dx[i] = Op::gradient(x[i], y[i], dy[i])
template <class Op, class T>
void activation_backward(std::size_t n, const T* x, const T* y, const T* dy, T* dx) {
    XGAN_KERNEL_DISPATCH(activation_backward<Op, T>(n, x, y, dy, dx));
}

// One Adam update of n parameters (see optim/adam.hpp for the formula) that the caller
// can take back: reads the parameters p, gradients g and moments m, v; writes the new
// moments to m_next, v_next, copies p to p_old and overwrites p with the new parameters
// (seven separate arrays). Returns whether every new value is finite; when not, the
// caller restores p from p_old and keeps m and v.
template <class T>
bool adam_update(std::size_t n, T* p, const T* g, const T* m, const T* v, T* p_old, T* m_next, T* v_next,
                 const adam_coefficients<T>& c) {
#if XGAN_KERNELS_X86
    if (avx2_active()) return avx2::adam_update<T>(n, p, g, m, v, p_old, m_next, v_next, c);
#endif
    return generic::adam_update<T>(n, p, g, m, v, p_old, m_next, v_next, c);
}

#else  // !XGAN_HAS_KERNELS: plain loops (Dense then always uses BLAS; small_dense_v is false)

// Declared so that callers compile; only reachable behind small_dense_v, which is false here.
template <class T>
inline constexpr bool no_kernels = false;
template <std::size_t In, std::size_t Out, class T>
void dense_forward(std::size_t, const T*, const T*, const T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}
template <std::size_t In, std::size_t Out, class T>
void dense_backward_input(std::size_t, const T*, const T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}
template <std::size_t In, std::size_t Out, class T, start Init = start::accumulate>
void dense_accumulate_gradient(std::size_t, const T*, const T*, T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}
template <std::size_t In, std::size_t Out, class Op, class T>
void dense_forward_activated(std::size_t, const T*, const T*, const T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}
template <std::size_t In, std::size_t Out, class Op, class T>
void dense_backward_input_gated(std::size_t, const T*, const T*, const T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}
template <std::size_t In, std::size_t Mid, std::size_t Out, class Op, class T>
void dense_forward_activated_then_dense(std::size_t, const T*, const T*, const T*, T*, const T*, const T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}
template <std::size_t In, class Op, class T, start Init>
void dense_backward_gated_one_output(std::size_t, const T*, const T*, const T*, T*, T*, T*) {
    static_assert(no_kernels<T>, "xgan: Dense kernels need GCC or Clang vector extensions");
}

template <class Op, class T>
void activation_forward(std::size_t n, const T* XGAN_RESTRICT in, T* XGAN_RESTRICT out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = Op::value(in[i]);
}

template <class Op, class T>
void activation_backward(std::size_t n, const T* XGAN_RESTRICT x, const T* XGAN_RESTRICT y, const T* XGAN_RESTRICT dy,
                         T* XGAN_RESTRICT dx) {
    for (std::size_t i = 0; i < n; ++i) dx[i] = Op::gradient(x[i], y[i], dy[i]);
}

template <class T>
bool adam_update(std::size_t n, T* XGAN_RESTRICT p, const T* XGAN_RESTRICT g, const T* XGAN_RESTRICT m,
                 const T* XGAN_RESTRICT v, T* XGAN_RESTRICT p_old, T* XGAN_RESTRICT m_next, T* XGAN_RESTRICT v_next,
                 const adam_coefficients<T>& c) {
    bool finite = true;
    for (std::size_t i = 0; i < n; ++i) {
        m_next[i] = g[i] * c.one_minus_beta1 + m[i] * c.beta1;
        v_next[i] = c.one_minus_beta2 * g[i] * g[i] + v[i] * c.beta2;
        p_old[i] = p[i];
        p[i] = p[i] + c.step_size * m_next[i] / (std::sqrt(v_next[i]) / c.correction2_sqrt + c.eps);
        finite &= std::isfinite(p[i]) && std::isfinite(v_next[i]);
    }
    return finite;
}

#endif  // XGAN_HAS_KERNELS

#undef XGAN_KERNEL_DISPATCH
#undef XGAN_DENSE_DISPATCH

}  // namespace xgan::detail::kernels
