// The sgemm ceiling of bench/run's table: OpenBLAS alone, doing exactly the matrix
// products one training step of W1, W2 or W3 needs, with nothing else in between. Its
// steps/s is what an implementation would reach if every FLOP ran at sgemm speed and
// everything else (activations, loss, optimizer, noise, dropout masks, BatchNorm, im2col
// and col2im) were free.
//
// Per Dense layer In -> Out, row-major, batch rows B, W stored Out x In (PyTorch's layout):
//   forward         Y[B,Out]  = X[B,In]   * W^T   (m=B,   n=Out, k=In)
//   weight gradient dW[Out,In] = dY^T      * X     (m=Out, n=In,  k=B)
//   input gradient  dX[B,In]  = dY[B,Out] * W     (m=B,   n=In,  k=Out)
// Per Conv2d Cin -> Cout, kernel k x k, output Ho x Wo, done as im2col products over the
// whole batch, N = B Ho Wo columns, Col = im2col(X) of Cin k k rows, W stored Cout x Cin k k:
//   forward         Y[Cout,N]       = W * Col           (m=Cout,     n=N,        k=Cin k k)
//   weight gradient dW[Cout,Cin k k] = dY * Col^T        (m=Cout,     n=Cin k k,  k=N)
//   input gradient  dCol[Cin k k,N] = W^T * dY, col2im  (m=Cin k k,  n=N,        k=Cout)
// Per ConvTranspose2d Cin -> Cout (the adjoint of a Conv2d Cout -> Cin), input Hi x Wi,
// N = B Hi Wi, W stored Cin x Cout k k (PyTorch's layout):
//   forward         Col[Cout k k,N] = W^T * X, col2im   (m=Cout k k, n=N,        k=Cin)
//   weight gradient dW[Cin,Cout k k] = X * im2col(dY)^T  (m=Cin,      n=Cout k k, k=N)
//   input gradient  dX[Cin,N]       = W * im2col(dY)    (m=Cin,      n=N,        k=Cout k k)
// One step (bench/README.md):
//   D update: G forward on B noise rows; D forward, weight gradients and input gradients
//             (all but D's first layer) on 2B rows (B real and B fake, concatenated);
//   G update: G forward and D forward on B rows; D input gradients on all layers (D's
//             weights are frozen); G weight gradients, and input gradients on all but
//             G's first layer.
// The biases' FLOPs (O(B * Out)), BatchNorm's, and im2col's copies are not counted
// anywhere in the table: flop_per_step is the products' alone.
//
// Built with XGAN_CEILING_TWO_PASS_D (xgan_sgemm_ceiling_two_pass), D's update runs as
// two passes of B rows (real, then fake) instead of one of 2B: what splitting D's
// update costs OpenBLAS (docs/performance.md, "Real and fake rows in one pass").
//
// Usage: xgan_sgemm_ceiling [--workload painting|mnist|dcgan] [--threads N] [--steps N] ...
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

struct Product {
    bool transpose_a, transpose_b;
    std::size_t m, n, k;
};

// One layer with parameters: its three products for a batch of `rows` samples.
struct Layer {
    enum Kind { dense, conv, conv_transpose } kind;
    std::size_t in, out;             // features (dense) or channels (conv)
    std::size_t kernel = 0;          // k of a k x k kernel
    std::size_t pixels_per_row = 1;  // conv: output pixels Ho Wo; conv_transpose: input pixels Hi Wi

    Product forward(std::size_t rows) const {
        const std::size_t cols = rows * pixels_per_row, kk = kernel * kernel;
        switch (kind) {
            case conv: return {false, false, out, cols, in * kk};
            case conv_transpose: return {true, false, out * kk, cols, in};
            default: return {false, true, rows, out, in};
        }
    }
    Product weight_gradient(std::size_t rows) const {
        const std::size_t cols = rows * pixels_per_row, kk = kernel * kernel;
        switch (kind) {
            case conv: return {false, true, out, in * kk, cols};
            case conv_transpose: return {false, true, in, out * kk, cols};
            default: return {true, false, out, in, rows};
        }
    }
    Product input_gradient(std::size_t rows) const {
        const std::size_t cols = rows * pixels_per_row, kk = kernel * kernel;
        switch (kind) {
            case conv: return {true, false, in * kk, cols, out};
            case conv_transpose: return {false, false, in, cols, out * kk};
            default: return {false, false, rows, in, out};
        }
    }
};

Layer dense(std::size_t in, std::size_t out) { return {Layer::dense, in, out}; }
// A k x k convolution producing `pixels` output pixels per sample.
Layer conv(std::size_t in, std::size_t out, std::size_t k, std::size_t pixels) {
    return {Layer::conv, in, out, k, pixels};
}
// A k x k transposed convolution reading `pixels` input pixels per sample.
Layer conv_transpose(std::size_t in, std::size_t out, std::size_t k, std::size_t pixels) {
    return {Layer::conv_transpose, in, out, k, pixels};
}

// The products of one step for generator layers g and discriminator layers d.
std::vector<Product> step_products(const std::vector<Layer>& g, const std::vector<Layer>& d, std::size_t batch) {
    std::vector<Product> products;
    auto forward = [&](const std::vector<Layer>& net, std::size_t rows) {
        for (const Layer& l : net) products.push_back(l.forward(rows));
    };
    auto weight_gradients = [&](const std::vector<Layer>& net, std::size_t rows) {
        for (const Layer& l : net) products.push_back(l.weight_gradient(rows));
    };
    auto input_gradients = [&](const std::vector<Layer>& net, std::size_t rows, bool first_layer) {
        for (std::size_t i = first_layer ? 0 : 1; i < net.size(); ++i) products.push_back(net[i].input_gradient(rows));
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

std::vector<Product> workload_products(const std::string& workload, std::size_t batch) {
    if (workload == "painting") return step_products({dense(5, 128), dense(128, 15)}, {dense(15, 128), dense(128, 1)}, batch);
    if (workload == "mnist")
        return step_products({dense(100, 256), dense(256, 512), dense(512, 1024), dense(1024, 784)},
                             {dense(784, 1024), dense(1024, 512), dense(512, 256), dense(256, 1)}, batch);
    // W3: G = Linear(100, 128*7*7), [BN, ReLU], ConvT(128->64, 4, s2, p1) 7x7 -> 14x14,
    //     [BN, ReLU], ConvT(64->1, 4, s2, p1) 14x14 -> 28x28, [Tanh];
    //     D = Conv(1->64, 4, s2, p1) 28x28 -> 14x14, [LReLU], Conv(64->128, 4, s2, p1)
    //     14x14 -> 7x7, [BN, LReLU], Linear(128*7*7, 1).
    return step_products({dense(100, 128 * 7 * 7), conv_transpose(128, 64, 4, 7 * 7), conv_transpose(64, 1, 4, 14 * 14)},
                         {conv(1, 64, 4, 14 * 14), conv(64, 128, 4, 7 * 7), dense(128 * 7 * 7, 1)}, batch);
}

}  // namespace

int main(int argc, char** argv) {
    const bench::Settings settings = bench::parse_settings(argc, argv, "xgan_sgemm_ceiling", {"painting", "mnist", "dcgan"});
    openblas_set_num_threads(settings.threads);
    const std::size_t batch = bench::batch_of(settings);
    const std::vector<Product> products = workload_products(settings.workload, batch);

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
    char flop_text[32], gflop_text[32], gflops_text[32];
    std::snprintf(flop_text, sizeof flop_text, "%.0f", flop);
    std::snprintf(gflop_text, sizeof gflop_text, "%.4f", flop * 1e-9);
    std::snprintf(gflops_text, sizeof gflops_text, "%.2f", flop * m.median() * 1e-9);
    bench::print_result(timed, "sgemm", openblas_get_corename(), m, 0.0, 0.0,
                        {{"flop_per_step", flop_text},
                         {"gflop_per_step", gflop_text},
                         {"gflops_median", gflops_text},
                         {"products_per_step", std::to_string(products.size())},
                         {"openblas_config", bench::quoted(openblas_get_config())}});
    return 0;
}
