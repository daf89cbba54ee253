// The sgemm ceiling of bench/run's table: OpenBLAS alone, doing exactly the matrix
// products one training step of W1 or W2 needs, with nothing else in between. Its
// steps/s is what an implementation would reach if every FLOP ran at sgemm speed and
// everything else (activations, loss, optimizer, noise, dropout masks) were free.
//
// Per Dense layer In -> Out, row-major, batch rows B, W stored Out x In (PyTorch's layout):
//   forward         Y[B,Out]  = X[B,In]   * W^T   (m=B,   n=Out, k=In)
//   weight gradient dW[Out,In] = dY^T      * X     (m=Out, n=In,  k=B)
//   input gradient  dX[B,In]  = dY[B,Out] * W     (m=B,   n=In,  k=Out)
// One step (bench/README.md):
//   D update: G forward on B noise rows; D forward, weight gradients and input gradients
//             (all but D's first layer) on 2B rows (B real and B fake, concatenated);
//   G update: G forward and D forward on B rows; D input gradients on all layers (D's
//             weights are frozen); G weight gradients, and input gradients on all but
//             G's first layer.
// The biases' FLOPs (O(B * Out)) are not counted anywhere in the table.
//
// Built with XGAN_CEILING_TWO_PASS_D (xgan_sgemm_ceiling_two_pass), D's update runs as
// two passes of B rows (real, then fake) instead of one of 2B: what splitting D's
// update costs OpenBLAS (docs/performance.md, "Real and fake rows in one pass").
//
// Usage: xgan_sgemm_ceiling [--workload painting|mnist] [--threads N] [--steps N] ...
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include <xgan/detail/blas.hpp>

#include "harness/harness.hpp"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);

namespace {

struct Layer {
    std::size_t in, out;
};

struct Product {
    bool transpose_a, transpose_b;
    std::size_t m, n, k;
};

// The products of one step for generator layers g and discriminator layers d.
std::vector<Product> step_products(const std::vector<Layer>& g, const std::vector<Layer>& d, std::size_t batch) {
    std::vector<Product> products;
    auto forward = [&](const std::vector<Layer>& net, std::size_t rows) {
        for (const Layer& l : net) products.push_back({false, true, rows, l.out, l.in});
    };
    auto weight_gradients = [&](const std::vector<Layer>& net, std::size_t rows) {
        for (const Layer& l : net) products.push_back({true, false, l.out, l.in, rows});
    };
    auto input_gradients = [&](const std::vector<Layer>& net, std::size_t rows, bool first_layer) {
        for (std::size_t i = first_layer ? 0 : 1; i < net.size(); ++i)
            products.push_back({false, false, rows, net[i].in, net[i].out});
    };
    // D update
    forward(g, batch);
#ifdef XGAN_CEILING_TWO_PASS_D
    for (int pass = 0; pass < 2; ++pass) {
        forward(d, batch);
        weight_gradients(d, batch);
        input_gradients(d, batch, false);
    }
#else
    forward(d, 2 * batch);
    weight_gradients(d, 2 * batch);
    input_gradients(d, 2 * batch, false);
#endif
    // G update
    forward(g, batch);
    forward(d, batch);
    input_gradients(d, batch, true);
    weight_gradients(g, batch);
    input_gradients(g, batch, false);
    return products;
}

}  // namespace

int main(int argc, char** argv) {
    const bench::Settings settings = bench::parse_settings(argc, argv, "xgan_sgemm_ceiling");
    openblas_set_num_threads(settings.threads);
    const std::size_t batch = bench::batch_of(settings);
    const std::vector<Product> products =
        settings.workload == "painting"
            ? step_products({{5, 128}, {128, 15}}, {{15, 128}, {128, 1}}, batch)
            : step_products({{100, 256}, {256, 512}, {512, 1024}, {1024, 784}},
                            {{784, 1024}, {1024, 512}, {512, 256}, {256, 1}}, batch);

    // Separate operands per product, so that the run sees the cache traffic a step does.
    std::vector<std::vector<float>> a, b, c;
    double flop = 0;
    for (const Product& p : products) {
        a.emplace_back(p.m * p.k, 0.01f);
        b.emplace_back(p.k * p.n, 0.02f);
        c.emplace_back(p.m * p.n, 0.0f);
        flop += 2.0 * static_cast<double>(p.m * p.n * p.k);
    }
    auto run = [&](std::size_t steps) {
        for (std::size_t s = 0; s < steps; ++s) {
            for (std::size_t i = 0; i < products.size(); ++i) {
                const Product& p = products[i];
                const std::size_t lda = p.transpose_a ? p.m : p.k, ldb = p.transpose_b ? p.k : p.n;
                xgan::detail::gemm<float>(p.transpose_a, p.transpose_b, p.m, p.n, p.k, 1.0f, a[i].data(), lda,
                                          b[i].data(), ldb, 0.0f, c[i].data(), p.n);
            }
        }
    };
    bench::Settings timed = settings;
    if (timed.workload == "mnist" && timed.steps == 20) timed.steps = 40;  // cheaper than a real step
    const bench::Measurement m = bench::measure(timed, run);
    char flop_text[32], gflops_text[32];
    std::snprintf(flop_text, sizeof flop_text, "%.0f", flop);
    std::snprintf(gflops_text, sizeof gflops_text, "%.2f", flop * m.median() * 1e-9);
    bench::print_result(timed, "sgemm", openblas_get_corename(), m, 0.0, 0.0,
                        {{"flop_per_step", flop_text},
                         {"gflops_median", gflops_text},
                         {"products_per_step", std::to_string(products.size())},
                         {"openblas_config", bench::quoted(openblas_get_config())}});
    return 0;
}
