// Kernels that compute the same values as another kernel by a faster schedule must give
// its results bit for bit (the training step's results may not depend on which one
// runs): the register-held weights of forward_rows for short K against gemm_rows, and
// the register-held column sums of a bias gradient against the row-order loop they
// replace. Both instruction sets: the 16-byte code everywhere, the AVX2/FMA code where
// the CPU has it.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
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
    }

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

}  // namespace

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
