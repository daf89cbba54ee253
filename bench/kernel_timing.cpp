// Each kernel of one W1 step (the painting GAN, batch 64), timed alone on the step's
// shapes with warm operands, next to a loop of register-only multiply-adds that gives
// this core's FMA peak in the same run. Says how close each kernel comes to the
// peak when nothing else runs, and, run with repetitions interleaved, how much the
// same work swings with the machine:
//
//   build-bench/bench/xgan_kernel_timing --benchmark_repetitions=30
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   (one command line)
//
// prints per kernel the mean, median, spread, slowest and fastest of 30 repetitions,
// in time per call and in GFLOP/s of the Dense products (2 per multiply-add), to set
// against the FMA loop's GFLOP/s in the same run. Built where Google Benchmark
// (libbenchmark-dev) is installed; bench/README.md.
#include <algorithm>
#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>

#include <xgan/detail/kernels.hpp>
#include <xgan/layers/relu.hpp>

namespace {

namespace k = xgan::detail::kernels;
using relu = xgan::detail::relu_op;

constexpr std::size_t batch = 64;

// Irregular values in [-1, 1], about half of them negative (so ReLU gates both ways).
std::vector<float> values(std::size_t count, unsigned seed) {
    std::vector<float> v(count);
    unsigned state = seed * 2654435761u + 1;
    for (auto& x : v) {
        state = state * 1664525u + 1013904223u;
        x = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
    }
    return v;
}

// The FMA peak: 12 independent chains of 8-lane multiply-adds in registers (enough to
// cover the instruction's latency on both of a core's FMA pipes), no memory traffic.
#if XGAN_KERNELS_X86
__attribute__((target("avx2,fma"), noinline)) void fma_loop(std::size_t rounds, float* sink) {
    using V = float __attribute__((vector_size(32)));
    V a[12];
    for (int i = 0; i < 12; ++i) a[i] = V{} + 1.0f + static_cast<float>(i) * 1e-7f;
    const V b = V{} + 0.9999999f, c = V{} + 1e-7f;
    for (std::size_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) a[i] = __builtin_ia32_vfmaddps256(a[i], b, c);
        asm volatile("" : : "x"(a[0]));
    }
    for (int i = 1; i < 12; ++i) a[0] += a[i];
    *sink = a[0][0];
}

void BM_fma_peak(benchmark::State& state) {
    constexpr std::size_t rounds = 4096;
    float sink = 0;
    for (auto _ : state) fma_loop(rounds, &sink);
    benchmark::DoNotOptimize(sink);
    const double flop = 12.0 * 16.0 * rounds;
    state.counters["GFLOP/s"] =
        benchmark::Counter(flop * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
#endif

// Times `body` and reports its GFLOP/s for `flop` per call.
template <class Body>
void run(benchmark::State& state, double flop, Body body) {
    for (auto _ : state) {
        body();
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(flop * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

double dense_flop(std::size_t rows, std::size_t in, std::size_t out) { return 2.0 * static_cast<double>(rows * in * out); }

// The networks' operands, shared by all benchmarks.
struct Operands {
    std::vector<float> z = values(batch * 5, 1), real = values(2 * batch * 15, 2);
    std::vector<float> g_w1 = values(128 * 5, 3), g_b1 = values(128, 4), g_w2 = values(15 * 128, 5), g_b2 = values(15, 6);
    std::vector<float> d_w1 = values(128 * 15, 7), d_b1 = values(128, 8), d_w2 = values(128, 9), d_b2 = values(1, 10);
    std::vector<float> h = values(2 * batch * 128, 11), dh = values(2 * batch * 128, 12);
    std::vector<float> dy15 = values(batch * 15, 13), dlogit = values(2 * batch, 14);
    std::vector<float> out = std::vector<float>(2 * batch * 128), gw = std::vector<float>(128 * 15), gb = std::vector<float>(128);
};
Operands& operands() {
    static Operands o;
    return o;
}

// D's Dense, ReLU, Dense to the logits, in one call: 128 rows (real and fake, D's update)
// and 64 (G's update).
void BM_D_forward(benchmark::State& state) {
    auto& o = operands();
    const auto rows = static_cast<std::size_t>(state.range(0));
    run(state, dense_flop(rows, 15, 128) + dense_flop(rows, 128, 1), [&] {
        k::dense_forward_activated_then_dense<15, 128, 1, relu, float>(rows, o.real.data(), o.d_w1.data(), o.d_b1.data(),
                                                                       o.h.data(), o.d_w2.data(), o.d_b2.data(),
                                                                       o.out.data());
    });
}

// G's Dense, ReLU, Dense in one call (64 rows, twice per step).
void BM_G_forward(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(batch, 5, 128) + dense_flop(batch, 128, 15), [&] {
        k::dense_forward_activated_then_dense<5, 128, 15, relu, float>(batch, o.z.data(), o.g_w1.data(), o.g_b1.data(),
                                                                       o.h.data(), o.g_w2.data(), o.g_b2.data(),
                                                                       o.out.data());
    });
}

// D's last layer after its ReLU: the gated input gradient and the weight gradient in one
// pass (128 rows, D's update).
void BM_D_last_gradients(benchmark::State& state) {
    auto& o = operands();
    run(state, 2 * dense_flop(2 * batch, 128, 1), [&] {
        k::dense_backward_gated_one_output<128, relu, float, k::start::zero>(
            2 * batch, o.dlogit.data(), o.d_w2.data(), o.h.data(), o.out.data(), o.gw.data(), o.gb.data());
    });
}

// D's last layer in G's update: the gated input gradient alone (64 rows; D's
// parameters are frozen there).
void BM_D_last_input_gradient(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(batch, 128, 1), [&] {
        k::dense_backward_input_gated<128, 1, relu, float>(batch, o.dlogit.data(), o.d_w2.data(), o.h.data(),
                                                           o.out.data());
    });
}

// D's first weight gradient (128 rows, D's update).
void BM_D_first_weight_gradient(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(2 * batch, 15, 128), [&] {
        k::dense_accumulate_gradient<15, 128, float, k::start::zero>(2 * batch, o.real.data(), o.dh.data(), o.gw.data(),
                                                                     o.gb.data());
    });
}

// D's first input gradient (64 rows, G's update).
void BM_D_first_input_gradient(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(batch, 15, 128),
        [&] { k::dense_backward_input<15, 128, float>(batch, o.dh.data(), o.d_w1.data(), o.out.data()); });
}

// G's second layer: its weight gradient and the gated input gradient into G's ReLU.
void BM_G_second_weight_gradient(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(batch, 128, 15), [&] {
        k::dense_accumulate_gradient<128, 15, float, k::start::zero>(batch, o.h.data(), o.dy15.data(), o.gw.data(),
                                                                     o.gb.data());
    });
}
void BM_G_second_input_gradient(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(batch, 128, 15), [&] {
        k::dense_backward_input_gated<128, 15, relu, float>(batch, o.dy15.data(), o.g_w2.data(), o.h.data(),
                                                            o.out.data());
    });
}

// G's first weight gradient (Dense<5, 128>).
void BM_G_first_weight_gradient(benchmark::State& state) {
    auto& o = operands();
    run(state, dense_flop(batch, 5, 128), [&] {
        k::dense_accumulate_gradient<5, 128, float, k::start::zero>(batch, o.z.data(), o.dh.data(), o.gw.data(),
                                                                    o.gb.data());
    });
}

// Adam on one network's parameters (D: 2,177 values, G: 2,703; no FLOP counter: bound
// by a square root and two divisions per value), as Adam::state runs it: the old
// parameters kept aside, the new moments in a second pair of buffers, swapped in.
void BM_adam(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    std::vector<float> p = values(count, 20), g = values(count, 21), m(count), v(count), p_old(count),
                       m_next(count), v_next(count);
    const k::adam_coefficients<float> c{0.9f, 0.1f, 0.999f, 0.001f, -1e-4f, 0.03f, 1e-8f};
    for (auto _ : state) {
        const bool finite = k::adam_update<float>(p.size(), p.data(), g.data(), m.data(), v.data(), p_old.data(),
                                                  m_next.data(), v_next.data(), c);
        benchmark::DoNotOptimize(finite);
        m.swap(m_next);
        v.swap(v_next);
        benchmark::ClobberMemory();
    }
}

// With repetitions, besides mean, median and spread: the slowest and the fastest
// repetition (for time; for GFLOP/s "min" is then the slowest rate and "max" the fastest).
void with_extremes(benchmark::internal::Benchmark* b) {
    b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
        ->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

}  // namespace

#if XGAN_KERNELS_X86
BENCHMARK(BM_fma_peak)->Apply(with_extremes);
#endif
BENCHMARK(BM_D_forward)->Arg(128)->Arg(64)->Apply(with_extremes);
BENCHMARK(BM_G_forward)->Apply(with_extremes);
BENCHMARK(BM_D_last_gradients)->Apply(with_extremes);
BENCHMARK(BM_D_last_input_gradient)->Apply(with_extremes);
BENCHMARK(BM_D_first_weight_gradient)->Apply(with_extremes);
BENCHMARK(BM_D_first_input_gradient)->Apply(with_extremes);
BENCHMARK(BM_G_second_weight_gradient)->Apply(with_extremes);
BENCHMARK(BM_G_second_input_gradient)->Apply(with_extremes);
BENCHMARK(BM_G_first_weight_gradient)->Apply(with_extremes);
BENCHMARK(BM_adam)->Arg(2177)->Arg(2703)->Apply(with_extremes);

BENCHMARK_MAIN();
