// The two large convolutions of W3 (DCGAN, batch 64, float): D's Conv2D<64, 128, 4, 2, 1>
// on 64 x 14 x 14 and G's ConvTranspose2D<128, 64, 4, 2, 1> on 128 x 7 x 7, each pass
// (forward, weight gradient, input gradient) timed alone.
//
// Built twice: xgan_conv_timing times the layers as they compute, in Winograd form
// (detail/winograd.hpp); xgan_conv_timing_im2col is built with XGAN_CONV_NO_WINOGRAD and
// times the im2col form with its products run one per sample ("group 1"), over groups of
// 4, 8 or 16 samples side by side, or over the whole batch ("group 64"); the layers' Group
// template argument (detail/conv_groups.hpp). docs/reference/layers-conv.md has the
// figures. Run on one thread, on a quiet machine:
//
//   OPENBLAS_NUM_THREADS=1 build-bench/bench/xgan_conv_timing --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//   (one command line; the same for xgan_conv_timing_im2col)
//
// GFLOP/s counts 2 per multiply-add of the im2col form's product for each pass (the
// Winograd form does fewer): the rate at which a pass gets through the convolution. Built
// where Google Benchmark (libbenchmark-dev) is installed.
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>

namespace {

constexpr std::size_t batch = 64;
using Conv = xgan::bind_layer_to_t<xgan::Conv2D<64, 128, 4, 2, 1>, xgan::shape<64, 14, 14>, float>;
using ConvT = xgan::bind_layer_to_t<xgan::ConvTranspose2D<128, 64, 4, 2, 1>, xgan::shape<128, 7, 7>, float>;

enum class pass { forward, weight_gradient, input_gradient };

// One product's multiply-adds, times 2: the same for the three passes of a layer.
template <class L>
constexpr double flop() {
    return 2.0 * static_cast<double>(batch) * static_cast<double>(L::weight_count) *
           static_cast<double>(L::geometry.positions());
}

template <class L, std::size_t Group, pass Pass>
void run(benchmark::State& state) {
    xgan::Rng rng(1);
    const L layer;
    std::vector<float> params(L::parameter_count), grad(L::parameter_count);
    layer.initialize(params, rng);
    xgan::matrix<float> x({batch, L::input_size}), y({batch, L::output_size}), dy({batch, L::output_size}),
        dx({batch, L::input_size});
    rng.fill_normal(std::span<float>(x.data(), x.size()), 0.0, 1.0);
    rng.fill_normal(std::span<float>(dy.data(), dy.size()), 0.0, 1.0);
    typename L::cache_type cache;
    const xgan::ForwardContext context{};
    const std::span<const float> p(params);
    layer.template forward<Group>(p, {}, x, y, cache, context);  // sizes the scratch
    for (auto _ : state) {
        if constexpr (Pass == pass::forward)
            layer.template forward<Group>(p, {}, x, y, cache, context);
        else if constexpr (Pass == pass::weight_gradient)
            layer.accumulate_gradient(p, x, y, dy, grad, cache);
        else
            layer.backward_input(p, x, y, dy, dx, cache);
        benchmark::DoNotOptimize(y.data());
        benchmark::DoNotOptimize(dx.data());
        benchmark::DoNotOptimize(grad.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(flop<L>() * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

template <class L, pass Pass, std::size_t... Group>
void register_pass(const std::string& name, std::index_sequence<Group...>) {
    (benchmark::RegisterBenchmark((name + "/group " + std::to_string(Group == 0 ? batch : Group)).c_str(),
                                  run<L, Group, Pass>)
         ->Unit(benchmark::kMillisecond),
     ...);
}

// "<layer>/<pass>/group <n>" for each pass and group size (0: the whole batch), or
// "<layer>/<pass>/winograd" for a layer in Winograd form (which takes no group size).
template <class L>
void register_layer(const std::string& name) {
    if constexpr (L::uses_winograd) {
        const auto add = [&]<pass Pass>(const std::string& pass_name) {
            benchmark::RegisterBenchmark((name + "/" + pass_name + "/winograd").c_str(), run<L, 8, Pass>)
                ->Unit(benchmark::kMillisecond);
        };
        add.template operator()<pass::forward>("forward");
        add.template operator()<pass::weight_gradient>("weight_gradient");
        add.template operator()<pass::input_gradient>("input_gradient");
        return;
    }
    using groups = std::index_sequence<1, 4, 8, 16, xgan::detail::all_samples>;
    register_pass<L, pass::forward>(name + "/forward", groups{});
    register_pass<L, pass::weight_gradient>(name + "/weight_gradient", groups{});
    register_pass<L, pass::input_gradient>(name + "/input_gradient", groups{});
}

}  // namespace

int main(int argc, char** argv) {
    register_layer<Conv>("Conv2D<64, 128, 4, 2, 1> on 64x14x14");
    register_layer<ConvT>("ConvTranspose2D<128, 64, 4, 2, 1> on 128x7x7");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
