// Kernels that compute the same values as another kernel by a faster schedule must give
// its results bit for bit (the training step's results may not depend on which one
// runs): the register-held weights of forward_rows for short K against gemm_rows, the
// register-held column sums of a bias gradient against the row-order loop they
// replace, and float Tanh's vector lanes against its formula written out for one value.
// Both instruction sets: the 16-byte code everywhere, the AVX2/FMA code where the CPU
// has it. Built with -ffp-contract=off (tests/kernels/CMakeLists.txt), so that the
// written-out formula has exactly the fused operations it spells with std::fma.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/detail/kernels.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/relu.hpp>

namespace {

namespace k = xgan::detail::kernels;

// Irregular values of both signs, some exactly zero (where ReLU and its gate switch).
template <class T>
std::vector<T> values(std::size_t count, double phase) {
    std::vector<T> v(count);
    for (std::size_t i = 0; i < count; ++i) {
        const double s = std::sin(2.3 * static_cast<double>(i) + phase) * (1.0 + 0.37 * static_cast<double>(i % 5));
        v[i] = i % 11 == 3 ? T(0) : static_cast<T>(s);
    }
    return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Op: the activation applied to the products (void: none).
template <class Op, class Plain, template <class> class Activated>
using finish_for = std::conditional_t<std::is_void_v<Op>, Plain, Activated<Op>>;

// Entry points compiled for the instruction set of namespace NS: forward_rows
// (narrow_k_block when K <= narrow_k), gemm_rows with start::row, column_sums.
#define XGAN_TEST_FORWARD_ROWS(NS, TARGET)                                                                  \
    template <class T, std::size_t K, std::size_t N, class Op>                                           \
    TARGET void forward_rows_##NS(std::size_t m, const T* x, const T* wt, const T* bias, T* y) {         \
        using finish = finish_for<Op, k::NS::plain, k::NS::activated>;                                   \
        k::NS::forward_rows<T, K, N, finish>(m, x, wt, bias, y);                                         \
    }                                                                                                    \
    template <class T, std::size_t K, std::size_t N, class Op>                                           \
    TARGET void gemm_rows_##NS(std::size_t m, const T* x, const T* wt, const T* bias, T* y) {            \
        using finish = finish_for<Op, k::NS::plain, k::NS::activated>;                                   \
        k::NS::gemm_rows<T, N, 64, k::start::row, finish>(m, K, x, K, 1, wt, N, y, N, bias);             \
    }                                                                                                    \
    template <class T, std::size_t N, k::start Init>                                                     \
    TARGET void column_sums_##NS(std::size_t m, const T* dy, T* gb) {                                    \
        k::NS::column_sums<T, N, Init>(m, dy, gb);                                                       \
    }                                                                                                    \
    TARGET void tanh_##NS(std::size_t n, const float* in, float* out) { k::NS::tanh_forward(n, in, out); }

XGAN_TEST_FORWARD_ROWS(generic, )
#if XGAN_KERNELS_X86
XGAN_TEST_FORWARD_ROWS(avx2, __attribute__((target("avx2,fma"))))
#endif

bool has_avx2() {
#if XGAN_KERNELS_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

template <class T, std::size_t K, std::size_t N, class Op>
void check_forward_rows(std::size_t m) {
    const auto x = values<T>(m * K, 0.3), wt = values<T>(K * N, 1.1), bias = values<T>(N, 2.9);
    const auto run = [&](auto kernel) {
        std::vector<T> y(m * N, T(-7));
        kernel(m, x.data(), wt.data(), bias.data(), y.data());
        return y;
    };
    INFO("K = " << K << ", N = " << N << ", rows = " << m << ", " << sizeof(T) * 8 << "-bit");
    const auto want = run(gemm_rows_generic<T, K, N, Op>);
    CHECK(same_bits(run(forward_rows_generic<T, K, N, Op>), want));
#if XGAN_KERNELS_X86
    if (has_avx2()) {
        const auto want_avx2 = run(gemm_rows_avx2<T, K, N, Op>);
        CHECK(same_bits(run(forward_rows_avx2<T, K, N, Op>), want_avx2));
    }
#endif
}

template <class T, std::size_t K, class Op>
void check_forward_rows_widths() {
    for (const std::size_t m : {1, 5, 6, 7, 64}) {
        check_forward_rows<T, K, 1, Op>(m);
        check_forward_rows<T, K, 3, Op>(m);
        check_forward_rows<T, K, 8, Op>(m);
        check_forward_rows<T, K, 15, Op>(m);
        check_forward_rows<T, K, 24, Op>(m);
        check_forward_rows<T, K, 128, Op>(m);
    }
}

// The loop column_sums replaced, with the same start: dy[0] (+ gb before it), then each
// further row in order.
template <class T, k::start Init>
std::vector<T> column_sums_in_row_order(std::size_t m, std::size_t n, const std::vector<T>& dy, std::vector<T> gb) {
    for (std::size_t j = 0; j < n; ++j) gb[j] = Init == k::start::zero ? dy[j] : gb[j] + dy[j];
    for (std::size_t r = 1; r < m; ++r)
        for (std::size_t j = 0; j < n; ++j) gb[j] += dy[r * n + j];
    return gb;
}

template <class T, std::size_t N, k::start Init>
void check_column_sums(std::size_t m) {
    const auto dy = values<T>(m * N, 0.8);
    const auto gb0 = values<T>(N, 4.2);
    const auto want = column_sums_in_row_order<T, Init>(m, N, dy, gb0);
    const auto run = [&](auto kernel) {
        std::vector<T> gb = gb0;
        kernel(m, dy.data(), gb.data());
        return gb;
    };
    INFO("N = " << N << ", rows = " << m << ", " << (Init == k::start::zero ? "stored" : "accumulated"));
    CHECK(same_bits(run(column_sums_generic<T, N, Init>), want));
#if XGAN_KERNELS_X86
    if (has_avx2()) CHECK(same_bits(run(column_sums_avx2<T, N, Init>), want));
#endif
}

template <class T, k::start Init>
void check_column_sums_widths() {
    for (const std::size_t m : {1, 2, 64, 129}) {
        check_column_sums<T, 1, Init>(m);
        check_column_sums<T, 3, Init>(m);
        check_column_sums<T, 15, Init>(m);
        check_column_sums<T, 72, Init>(m);
        check_column_sums<T, 128, Init>(m);
        check_column_sums<T, 131, Init>(m);
    }
}

// kernels_impl.hpp's tanh formula for one float, written out: `fused` says whether each
// product that meets a sum is one fused operation (the AVX2/FMA kernels) or a product
// rounded before the sum (the 16-byte kernels).
float tanh_formula(float x, bool fused) {
    const auto madd = [fused](double a, double b, double c) {
        if (fused) return std::fma(a, b, c);
        const double product = a * b;
        return product + c;
    };
    if (std::isnan(x)) return x;  // (the lanes give a NaN; kk below must be a number)
    const double a = std::min(std::fabs(static_cast<double>(x)), 10.0);
    const double y = a + a;
    const double shifted = madd(y, 0x1.71547652b82fep0, 0x1.8p52);
    const double kk = shifted - 0x1.8p52;
    double r = madd(-kk, 0x1.62e42fefa3800p-1, y);
    r = madd(-kk, 0x1.ef35793c76730p-45, r);
    double p = 1.0 / 39916800.0;
    for (const double coefficient : {1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                                     1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0})
        p = madd(p, r, coefficient);
    const double scale = std::ldexp(1.0, static_cast<int>(kk));
    const double large = madd(p, scale, -1.0) / madd(p, scale, 1.0);
    const double a2 = a * a;
    const double small = madd(a * a2, madd(a2, madd(a2, -17.0 / 315.0, 2.0 / 15.0), -1.0 / 3.0), a);
    return std::copysign(static_cast<float>(a < 0x1p-10 ? small : large), x);
}

template <class Kernel>
void check_tanh(Kernel kernel, bool fused) {
    // Every 4,099th bit pattern (both signs, zeros, subnormals, all exponents, infinities
    // and NaNs), then the edges: the switch between the two formulas at 2^-10 and the
    // clamp at 10. 1,047,824 values: not a multiple of the lanes, so the tail runs too.
    std::vector<float> x;
    for (std::uint64_t bits = 0; bits < (std::uint64_t{1} << 32); bits += 4099) {
        const auto b = static_cast<std::uint32_t>(bits);
        float v;
        std::memcpy(&v, &b, sizeof v);
        x.push_back(v);
    }
    for (const float edge : {0x1p-10f, 10.0f, 9.01f, 0.0f}) {
        float below = edge, above = edge;
        for (int i = 0; i < 8; ++i) {
            x.push_back(below), x.push_back(-below), x.push_back(above), x.push_back(-above);
            below = std::nextafter(below, 0.0f), above = std::nextafter(above, 20.0f);
        }
    }
    x.push_back(std::numeric_limits<float>::quiet_NaN());
    x.push_back(-std::numeric_limits<float>::infinity());
    x.resize(x.size() / 8 * 8 + 3, 0.75f);
    std::vector<float> y(x.size());
    kernel(x.size(), x.data(), y.data());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const float want = tanh_formula(x[i], fused);
        const bool same = std::isnan(want) ? std::isnan(y[i]) : std::memcmp(&want, &y[i], sizeof want) == 0;
        if (!same && ++differ <= 5) FAIL_CHECK("tanh(" << x[i] << ") = " << y[i] << ", the formula gives " << want);
    }
    CHECK(differ == 0);
}

}  // namespace

TEST_CASE("float Tanh's vector lanes compute its formula, bit for bit", "[kernels]") {
    SECTION("16-byte kernels: every product rounded") { check_tanh(tanh_generic, false); }
#if XGAN_KERNELS_X86
    SECTION("AVX2/FMA kernels: every product that meets a sum fused") {
        if (has_avx2()) check_tanh(tanh_avx2, true);
        else SUCCEED("no AVX2/FMA on this CPU");
    }
#endif
}

TEST_CASE("forward products with K <= narrow_k: weights in registers give gemm_rows's bits", "[kernels]") {
    using relu = xgan::detail::relu_op;
    using leaky = xgan::detail::leaky_relu_op<1, 5>;
    SECTION("float, plain") {
        check_forward_rows_widths<float, 1, void>();
        check_forward_rows_widths<float, 2, void>();
        check_forward_rows_widths<float, 5, void>();
    }
    SECTION("float, with ReLU and LeakyReLU") {
        check_forward_rows_widths<float, 5, relu>();
        check_forward_rows_widths<float, 3, leaky>();
    }
    SECTION("double") {
        check_forward_rows_widths<double, 5, void>();
        check_forward_rows_widths<double, 4, relu>();
    }
}

TEST_CASE("bias gradients summed in registers give the row-order loop's bits", "[kernels]") {
    SECTION("float") {
        check_column_sums_widths<float, k::start::zero>();
        check_column_sums_widths<float, k::start::accumulate>();
    }
    SECTION("double") {
        check_column_sums_widths<double, k::start::zero>();
        check_column_sums_widths<double, k::start::accumulate>();
    }
}
