// oneDNN's dnnl_sgemm against OpenBLAS's cblas_sgemm on the matrix products of one
// training step of W2 (the MNIST MLP GAN, batch 128) and W3 (the DCGAN, batch 64), with
// the shapes, transposes and betas the layers pass to detail::gemm (include/xgan/layers/
// dense.hpp, conv2d.hpp, conv_transpose2d.hpp: a convolution's products over groups of
// detail::default_conv_group samples, one call per group), next to the core's AVX2 and
// AVX-512 FMA peaks from register-only multiply-add loops.
//
//   OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
//       build-bench/bench/xgan_gemm_backends [--workload mnist|dcgan|both] [--repeats R] [--group G]
//   (one command line; --group 0: each convolution product over the whole batch)
//
// Two timings per workload, each backend alternating with the other repetition by
// repetition (so both see the same drift of the machine), medians of R repetitions:
//   per product: the product alone, called repeatedly on warm operands;
//   per step:    the whole set in the step's order, each product on its own operands
//                (the cache traffic of a step), several steps per repetition.
// Debian's oneDNN runs on OpenMP: OMP_NUM_THREADS=1 makes it single-threaded, as
// OPENBLAS_NUM_THREADS=1 does OpenBLAS. DNNL_MAX_CPU_ISA=AVX2 holds oneDNN to its AVX2
// kernels (its default on this CPU is AVX-512).
//
// A convolution's product is timed per call and counted once per group (calls); the
// step's set makes every call. Products that the layers run on xgan's own kernels instead of detail::gemm (a Dense
// layer whose weights fit in 64 KiB: W3's Dense<6272, 1>, W2's Dense<256, 1>) are left
// out: a gemm backend does not change them. Their FLOPs are under 0.1 % of either step.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <immintrin.h>

#include <oneapi/dnnl/dnnl.h>
#include <xtensor-blas/xblas_config.hpp>
#include <xflens/cxxblas/drivers/cblas.h>

#include <xgan/detail/conv_groups.hpp>  // default_conv_group

extern "C" char* openblas_get_corename(void);

namespace {

using clock_type = std::chrono::steady_clock;

// One call of detail::gemm: C[m, n] = op(A) op(B) + beta C, row-major.
struct Product {
    std::string name;
    bool transpose_a, transpose_b;
    std::size_t m, n, k;
    float beta;
    std::size_t calls = 1;  // a convolution's: one per group of samples
    double flop() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

enum class Backend { openblas, onednn };

struct Operands {
    std::vector<float> a, b, c;
};

Operands make_operands(const Product& p, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    Operands o{std::vector<float>(p.m * p.k), std::vector<float>(p.k * p.n), std::vector<float>(p.m * p.n)};
    for (float& x : o.a) x = u(rng);
    for (float& x : o.b) x = u(rng);
    for (float& x : o.c) x = 0.01f * u(rng);
    return o;
}

void call(Backend backend, const Product& p, Operands& o) {
    const std::size_t lda = p.transpose_a ? p.m : p.k, ldb = p.transpose_b ? p.k : p.n, ldc = p.n;
    if (backend == Backend::openblas) {
        const auto i = [](std::size_t v) { return static_cast<CBLAS_INT>(v); };
        cblas_sgemm(CblasRowMajor, p.transpose_a ? CblasTrans : CblasNoTrans, p.transpose_b ? CblasTrans : CblasNoTrans,
                    i(p.m), i(p.n), i(p.k), 1.0f, o.a.data(), i(lda), o.b.data(), i(ldb), p.beta, o.c.data(), i(ldc));
        return;
    }
    const auto d = [](std::size_t v) { return static_cast<dnnl_dim_t>(v); };
    const dnnl_status_t status =
        dnnl_sgemm(p.transpose_a ? 'T' : 'N', p.transpose_b ? 'T' : 'N', d(p.m), d(p.n), d(p.k), 1.0f, o.a.data(),
                   d(lda), o.b.data(), d(ldb), p.beta, o.c.data(), d(ldc));
    if (status != dnnl_success) throw std::runtime_error("dnnl_sgemm failed on " + p.name);
}

// The three products of each layer kind, as the layers pass them.
struct Dense {
    std::string name;
    std::size_t in, out;
    Product forward(std::size_t rows) const {  // y = x W^T + (bias already in y)
        return {name + " forward", false, true, rows, out, in, 1.0f};
    }
    Product input_gradient(std::size_t rows) const {  // dx = dy W
        return {name + " input grad", false, false, rows, in, out, 0.0f};
    }
    Product weight_gradient(std::size_t rows, bool accumulate) const {  // dW (+)= dy^T x
        return {name + " weight grad", true, false, out, in, rows, accumulate ? 1.0f : 0.0f};
    }
};

// Conv2D<InC, OutC, k>: rows = InC k k; one call per group of g samples, g * output
// positions columns.
struct Conv {
    std::string name;
    std::size_t in, out, kernel, positions;
    std::size_t rows() const { return in * kernel * kernel; }
    Product forward(std::size_t batch, std::size_t g) const {  // Y = W Col
        return {name + " forward", false, false, out, g * positions, rows(), 0.0f, batch / g};
    }
    Product input_gradient(std::size_t batch, std::size_t g) const {  // dCol = W^T dY
        return {name + " input grad", true, false, rows(), g * positions, out, 0.0f, batch / g};
    }
    Product weight_gradient(std::size_t batch, std::size_t g) const {  // dW += dY Col^T
        return {name + " weight grad", false, true, out, rows(), g * positions, 1.0f, batch / g};
    }
};

// ConvTranspose2D<InC, OutC, k>: rows = OutC k k; one call per group, g * input positions
// columns.
struct ConvT {
    std::string name;
    std::size_t in, out, kernel, positions;
    std::size_t rows() const { return out * kernel * kernel; }
    Product forward(std::size_t batch, std::size_t g) const {  // Col = W^T X
        return {name + " forward", true, false, rows(), g * positions, in, 0.0f, batch / g};
    }
    Product input_gradient(std::size_t batch, std::size_t g) const {  // dX = W im2col(dY)
        return {name + " input grad", false, false, in, g * positions, rows(), 0.0f, batch / g};
    }
    Product weight_gradient(std::size_t batch, std::size_t g) const {  // dW += X im2col(dY)^T
        return {name + " weight grad", false, true, in, rows(), g * positions, 1.0f, batch / g};
    }
};

// W3, batch 64. G = Dense<100,6272> ... ConvT<128,64,4,2,1> (7x7 in) ... ConvT<64,1,4,2,1> (14x14 in);
// D = Conv<1,64,4,2,1> (14x14 out) ... Conv<64,128,4,2,1> (7x7 out) ... Dense<6272,1> (xgan's kernels).
// D's update: G forward, then D on the real and the fake batch as two passes of 64 (BatchNorm in
// D), gradients accumulated; no input gradient for D's first layer. G's update: G and D forward,
// D's input gradients through every layer, G's weight gradients, G's input gradients but the first.
std::vector<Product> dcgan_products(std::size_t group) {
    constexpr std::size_t b = 64;
    const std::size_t g = group == xgan::detail::all_samples ? b : group;
    const Dense g1{"G Dense<100,6272>", 100, 6272};
    const ConvT g2{"G ConvT<128,64>", 128, 64, 4, 7 * 7}, g3{"G ConvT<64,1>", 64, 1, 4, 14 * 14};
    const Conv d1{"D Conv<1,64>", 1, 64, 4, 14 * 14}, d2{"D Conv<64,128>", 64, 128, 4, 7 * 7};
    std::vector<Product> p;
    auto g_forward = [&] {
        p.push_back(g1.forward(b));
        p.push_back(g2.forward(b, g));
        p.push_back(g3.forward(b, g));
    };
    g_forward();
    for (int pass = 0; pass < 2; ++pass) {
        p.push_back(d1.forward(b, g));
        p.push_back(d2.forward(b, g));
        p.push_back(d2.input_gradient(b, g));
        p.push_back(d2.weight_gradient(b, g));
        p.push_back(d1.weight_gradient(b, g));
    }
    g_forward();
    p.push_back(d1.forward(b, g));
    p.push_back(d2.forward(b, g));
    p.push_back(d2.input_gradient(b, g));
    p.push_back(d1.input_gradient(b, g));
    p.push_back(g3.input_gradient(b, g));
    p.push_back(g3.weight_gradient(b, g));
    p.push_back(g2.input_gradient(b, g));
    p.push_back(g2.weight_gradient(b, g));
    p.push_back(g1.weight_gradient(b, false));
    return p;
}

// W2, batch 128: G = 100-256-512-1024-784, D = 784-1024-512-256 (-1 on xgan's kernels).
// D's update on 256 rows (real and fake in one pass), G's on 128.
std::vector<Product> mnist_products() {
    constexpr std::size_t b = 128;
    const std::vector<Dense> g{{"G Dense<100,256>", 100, 256},
                               {"G Dense<256,512>", 256, 512},
                               {"G Dense<512,1024>", 512, 1024},
                               {"G Dense<1024,784>", 1024, 784}};
    const std::vector<Dense> d{{"D Dense<784,1024>", 784, 1024}, {"D Dense<1024,512>", 1024, 512}, {"D Dense<512,256>", 512, 256}};
    std::vector<Product> p;
    for (const Dense& l : g) p.push_back(l.forward(b));
    for (const Dense& l : d) p.push_back(l.forward(2 * b));
    for (std::size_t i = d.size(); i-- > 0;) {
        p.push_back(d[i].weight_gradient(2 * b, false));
        if (i > 0) p.push_back(d[i].input_gradient(2 * b));
    }
    for (const Dense& l : g) p.push_back(l.forward(b));
    for (const Dense& l : d) p.push_back(l.forward(b));
    for (std::size_t i = d.size(); i-- > 0;) p.push_back(d[i].input_gradient(b));
    for (std::size_t i = g.size(); i-- > 0;) {
        p.push_back(g[i].weight_gradient(b, false));
        if (i > 0) p.push_back(g[i].input_gradient(b));
    }
    return p;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

double load_average() {
    std::ifstream in("/proc/loadavg");
    double load = -1;
    in >> load;
    return load;
}

// Register-only multiply-adds: 12 independent chains, enough to cover the FMA latency on
// two pipes; 2 FLOP per lane per instruction. Twelve named variables, not an array, so
// that the compiler keeps every chain in a register.
#define XGAN_FMA_CHAINS(V, set1, fmadd, add)                                                        \
    V a0 = set1(1.0f), a1 = set1(1.0001f), a2 = set1(1.0002f), a3 = set1(1.0003f), a4 = set1(1.0004f), \
      a5 = set1(1.0005f), a6 = set1(1.0006f), a7 = set1(1.0007f), a8 = set1(1.0008f), a9 = set1(1.0009f),  \
      a10 = set1(1.001f), a11 = set1(1.0011f);                                                        \
    const V b = set1(0.9999999f), c = set1(1e-7f);                                                   \
    for (std::size_t r = 0; r < rounds; ++r) {                                                       \
        a0 = fmadd(a0, b, c), a1 = fmadd(a1, b, c), a2 = fmadd(a2, b, c), a3 = fmadd(a3, b, c);       \
        a4 = fmadd(a4, b, c), a5 = fmadd(a5, b, c), a6 = fmadd(a6, b, c), a7 = fmadd(a7, b, c);       \
        a8 = fmadd(a8, b, c), a9 = fmadd(a9, b, c), a10 = fmadd(a10, b, c), a11 = fmadd(a11, b, c);   \
        asm volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));                \
        asm volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));              \
    }                                                                                                \
    a0 = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));                          \
    a0 = add(a0, add(add(a8, a9), add(a10, a11)))

__attribute__((target("avx2,fma"), noinline)) float fma_avx2(std::size_t rounds) {
    XGAN_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps);
    return _mm256_cvtss_f32(a0);
}

__attribute__((target("avx512f"), noinline)) float fma_avx512(std::size_t rounds) {
    XGAN_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps);
    float lanes[16];
    _mm512_storeu_ps(lanes, a0);
    return lanes[0] + lanes[15];
}
#undef XGAN_FMA_CHAINS

// GFLOP/s of a loop, the fastest of `repeats` runs of about 50 ms (a peak: a run that
// shared the core with another process is slower, never faster).
template <class Loop>
double peak(Loop loop, double lanes, int repeats) {
    constexpr std::size_t rounds = 1u << 22;
    std::vector<double> rates;
    volatile float sink = 0;
    for (int r = 0; r < repeats; ++r) {
        const auto start = clock_type::now();
        sink = sink + loop(rounds);
        rates.push_back(12.0 * 2.0 * lanes * static_cast<double>(rounds) / seconds_since(start) * 1e-9);
    }
    return *std::max_element(rates.begin(), rates.end());
}

void run_workload(const std::string& workload, const std::vector<Product>& products, int repeats) {
    std::mt19937 rng(42);
    std::vector<Operands> operands;
    double step_flop = 0;
    for (const Product& p : products) {
        operands.push_back(make_operands(p, rng));
        step_flop += p.flop() * static_cast<double>(p.calls);
    }
    // Both backends compute the same products: each from the same C, compared element-wise.
    double worst = 0;
    for (std::size_t i = 0; i < products.size(); ++i) {
        Operands blas = operands[i], dnnl = operands[i];
        call(Backend::openblas, products[i], blas);
        call(Backend::onednn, products[i], dnnl);
        double scale = 0, diff = 0;
        for (std::size_t e = 0; e < blas.c.size(); ++e) {
            scale = std::max(scale, static_cast<double>(std::abs(blas.c[e])));
            diff = std::max(diff, static_cast<double>(std::abs(blas.c[e] - dnnl.c[e])));
        }
        worst = std::max(worst, diff / scale);
    }
    if (!(worst < 1e-5)) throw std::runtime_error("OpenBLAS and oneDNN disagree: relative difference " + std::to_string(worst));

    const Backend backends[2] = {Backend::openblas, Backend::onednn};
    for (Backend be : backends)
        for (std::size_t i = 0; i < products.size(); ++i) call(be, products[i], operands[i]);  // warm-up, JIT

    std::printf("\n== %s: %zu products through detail::gemm, %.4f GFLOP a step; largest difference between the "
                "backends %.1e of the largest element\n",
                workload.c_str(), products.size(), step_flop * 1e-9, worst);
    std::printf("%-30s %2s %2s %6s %6s %6s %4s %5s %9s %9s %9s %6s\n", "product", "tA", "tB", "M", "N", "K", "beta",
                "calls", "MFLOP", "OpenBLAS", "oneDNN", "ratio");
    double sum_blas = 0, sum_dnnl = 0;  // seconds per step, summing the per-product medians
    for (std::size_t i = 0; i < products.size(); ++i) {
        const Product& p = products[i];
        const double flop = p.flop() * static_cast<double>(p.calls);
        // Calls per timing: about 2 ms of OpenBLAS.
        const auto probe = clock_type::now();
        call(Backend::openblas, p, operands[i]);
        const double once = std::max(seconds_since(probe), 1e-7);
        const std::size_t calls = std::max<std::size_t>(1, static_cast<std::size_t>(2e-3 / once));
        std::vector<double> seconds[2];
        for (int r = 0; r < repeats; ++r)
            for (int j = 0; j < 2; ++j) {
                const int b = (r % 2 == 0) ? j : 1 - j;
                const auto start = clock_type::now();
                for (std::size_t c = 0; c < calls; ++c) call(backends[b], p, operands[i]);
                seconds[b].push_back(seconds_since(start) / static_cast<double>(calls));
            }
        const double t_blas = median(seconds[0]), t_dnnl = median(seconds[1]);
        sum_blas += t_blas * static_cast<double>(p.calls);
        sum_dnnl += t_dnnl * static_cast<double>(p.calls);
        std::printf("%-30s %2s %2s %6zu %6zu %6zu %4.0f %5zu %9.2f %9.1f %9.1f %6.2f\n", p.name.c_str(),
                    p.transpose_a ? "T" : "N", p.transpose_b ? "T" : "N", p.m, p.n, p.k, static_cast<double>(p.beta),
                    p.calls, flop * 1e-6, p.flop() / t_blas * 1e-9, p.flop() / t_dnnl * 1e-9, t_blas / t_dnnl);
    }
    std::printf("%-30s %51.2f %9.1f %9.1f %6.2f   (GFLOP/s; ratio = OpenBLAS time / oneDNN time)\n",
                "sum of the products alone", step_flop * 1e-6, step_flop / sum_blas * 1e-9, step_flop / sum_dnnl * 1e-9,
                sum_blas / sum_dnnl);

    // Whole steps: every product once, in order, on its own operands; about 0.3 s a repetition.
    const auto probe = clock_type::now();
    for (std::size_t i = 0; i < products.size(); ++i)
        for (std::size_t c = 0; c < products[i].calls; ++c) call(Backend::openblas, products[i], operands[i]);
    const std::size_t steps = std::max<std::size_t>(1, static_cast<std::size_t>(0.3 / seconds_since(probe)));
    std::vector<double> seconds[2];
    double load_max = 0;
    for (int r = 0; r < repeats; ++r) {
        load_max = std::max(load_max, load_average());
        for (int j = 0; j < 2; ++j) {
            const int b = (r % 2 == 0) ? j : 1 - j;
            const auto start = clock_type::now();
            for (std::size_t s = 0; s < steps; ++s)
                for (std::size_t i = 0; i < products.size(); ++i)
                    for (std::size_t c = 0; c < products[i].calls; ++c) call(backends[b], products[i], operands[i]);
            seconds[b].push_back(seconds_since(start) / static_cast<double>(steps));
        }
    }
    const double t_blas = median(seconds[0]), t_dnnl = median(seconds[1]);
    std::printf("%-30s %51.2f %9.1f %9.1f %6.2f   (%zu steps x %d repetitions each; 1-min load <= %.2f)\n",
                "whole step's product set", step_flop * 1e-6, step_flop / t_blas * 1e-9, step_flop / t_dnnl * 1e-9,
                t_blas / t_dnnl, steps, repeats, load_max);
    std::printf("   step's products: OpenBLAS %.2f ms (min %.2f, max %.2f), oneDNN %.2f ms (min %.2f, max %.2f)\n",
                t_blas * 1e3, *std::min_element(seconds[0].begin(), seconds[0].end()) * 1e3,
                *std::max_element(seconds[0].begin(), seconds[0].end()) * 1e3, t_dnnl * 1e3,
                *std::min_element(seconds[1].begin(), seconds[1].end()) * 1e3,
                *std::max_element(seconds[1].begin(), seconds[1].end()) * 1e3);
}

const char* isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
        case dnnl_cpu_isa_avx2: return "AVX2";
        case dnnl_cpu_isa_avx512_core: return "AVX-512 (avx512_core)";
        case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 (avx512_core_vnni)";
        case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 (avx512_core_bf16)";
        case dnnl_cpu_isa_avx512_core_amx: return "AVX-512 (avx512_core_amx)";
        case dnnl_cpu_isa_avx2_vnni: return "AVX2 (avx2_vnni)";
        default: return "other";
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string workload = "both";
    int repeats = 11;
    std::size_t group = xgan::detail::default_conv_group;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--workload" && i + 1 < argc) {
            workload = argv[++i];
        } else if (arg == "--repeats" && i + 1 < argc) {
            repeats = std::atoi(argv[++i]);
        } else if (arg == "--group" && i + 1 < argc) {
            group = static_cast<std::size_t>(std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: xgan_gemm_backends [--workload mnist|dcgan|both] [--repeats R] [--group G]\n");
            return 2;
        }
    }
    if ((workload != "mnist" && workload != "dcgan" && workload != "both") || repeats < 1 || 64 % std::max<std::size_t>(group, 1) != 0) {
        std::fprintf(stderr, "xgan_gemm_backends: --workload must be mnist, dcgan or both, --repeats at least 1, --group "
                             "0 (the whole batch) or a divisor of 64\n");
        return 2;
    }
    const dnnl_version_t* v = dnnl_version();
    const char* omp = std::getenv("OMP_NUM_THREADS");
    const char* blas_threads = std::getenv("OPENBLAS_NUM_THREADS");
    std::printf("OpenBLAS core: %s (OPENBLAS_NUM_THREADS=%s); oneDNN %d.%d.%d, CPU runtime %s, ISA %s "
                "(OMP_NUM_THREADS=%s); 1-min load %.2f\n",
                openblas_get_corename(), blas_threads ? blas_threads : "unset", v->major, v->minor, v->patch,
                v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "not OpenMP", isa_name(dnnl_get_effective_cpu_isa()),
                omp ? omp : "unset", load_average());
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        std::printf("FMA peak, register-only loop, 12 chains: AVX2 (8 lanes) %.1f GFLOP/s", peak(fma_avx2, 8, 15));
    if (__builtin_cpu_supports("avx512f")) std::printf(", AVX-512 (16 lanes) %.1f GFLOP/s", peak(fma_avx512, 16, 15));
    std::printf("\n");
    try {
        const std::string w3 = "W3 dcgan, batch 64, convolution products over " +
                               (group == xgan::detail::all_samples ? std::string("the whole batch")
                                                                   : "groups of " + std::to_string(group) + " samples");
        if (workload != "mnist") run_workload(w3, dcgan_products(group), repeats);
        if (workload != "dcgan") run_workload("W2 mnist, batch 128", mnist_products(), repeats);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "xgan_gemm_backends: %s\n", e.what());
        return 1;
    }
    return 0;
}
