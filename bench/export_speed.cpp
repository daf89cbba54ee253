// Speed per sample of an exported generator (xgan::export_header) next to the network's
// own inference: the painting generator and the DCGAN generator, one sample per call and
// a batch of 64, on one thread (OPENBLAS_NUM_THREADS=1 is set by bench/run; set it
// yourself when running this alone). Prints microseconds per sample, the median of 7 runs.
//
//   xgan_export_speed [seconds per measurement, default 0.3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dcgan.hpp"  // written by xgan_export_headers at build time
#include "export_networks.hpp"
#include "painting.hpp"

namespace {

// Median over 7 runs of the time per call of f, each run repeating f for `budget` seconds.
template <class F>
double microseconds_per_call(F&& f, double budget) {
    std::vector<double> runs;
    for (int run = 0; run < 7; ++run) {
        const auto start = std::chrono::steady_clock::now();
        long calls = 0;
        double elapsed = 0;
        do {
            f();
            ++calls;
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        } while (elapsed < budget / 7);
        runs.push_back(1e6 * elapsed / static_cast<double>(calls));
    }
    std::sort(runs.begin(), runs.end());
    return runs[3];
}

volatile float sink = 0;  // keeps the results alive

template <class Net, class Input, class Output, class Work, class Generate>
void compare(const char* name, Generate generate, double budget) {
    Net inference(1);  // the seed export_headers.cpp exported
    inference.set_mode(xgan::Mode::inference);
    typename Net::Workspace one, batch;
    xgan::matrix<float> x1({1, Net::input_size}), x64({64, Net::input_size});
    xgan::Rng rng(2);
    for (auto& v : x1) v = static_cast<float>(rng.normal());
    for (auto& v : x64) v = static_cast<float>(rng.normal());
    Input in{};
    std::copy(x1.begin(), x1.end(), in.begin());
    Output out{};
    Work work{};

    const double exported = microseconds_per_call([&] { generate(in, out, work); sink = out[0]; }, budget);
    const double single = microseconds_per_call([&] { sink = inference.forward(one, x1)(0, 0); }, budget);
    const double batched = microseconds_per_call([&] { sink = inference.forward(batch, x64)(0, 0); }, budget) / 64;
    std::printf("%-10s %12.2f %16.2f %18.2f\n", name, exported, single, batched);
}

}  // namespace

int main(int argc, char** argv) {
    const double budget = argc > 1 ? std::atof(argv[1]) : 0.3;
    if (!(budget > 0)) {
        std::fprintf(stderr, "usage: xgan_export_speed [seconds per measurement > 0]\n");
        return 2;
    }
    std::printf("microseconds per sample (median of 7)\n%-10s %12s %16s %18s\n", "generator", "exported",
                "network, 1 row", "network, 64 rows");
    compare<export_bench::Painting, painting::input_type, painting::output_type, painting::workspace>(
        "painting", [](const auto& in, auto& out, auto& work) { painting::generate(in, out, work); }, budget);
    compare<export_bench::Dcgan, dcgan::input_type, dcgan::output_type, dcgan::workspace>(
        "dcgan", [](const auto& in, auto& out, auto& work) { dcgan::generate(in, out, work); }, budget);
}
