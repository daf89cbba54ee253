// libtorch's row of bench/run: W1 (the painting GAN), W2 (the MNIST MLP GAN) and W3 (the
// DCGAN) in libtorch's C++ API, timed by the shared harness (bench/harness). bench/README.md
// defines the workloads; this is the C++ twin of bench/peers/torch_gan.py (the same
// modules, initialisation, losses and order of operations) and does the same work as
// xgan's row (bench/xgan_gan.cpp).
//
// W1: G = Linear(5,128)-ReLU-Linear(128,15), D = Linear(15,128)-ReLU-Linear(128,1)-Sigmoid,
//     batch 64, nn::Linear's default initialisation, Adam(lr 1e-4) for both, the minimax
//     losses as the tutorials write them (on D's probabilities):
//       D_loss = -mean(log D(x) + log(1 - D(G(z)))),  G_loss = mean(log(1 - D(G(z)))).
// W2: G = Linear(100,256)-LReLU-Linear(256,512)-LReLU-Linear(512,1024)-LReLU-Linear(1024,784)-Tanh,
//     D = Linear(784,1024)-LReLU-Dropout(0.3)-Linear(1024,512)-LReLU-Dropout(0.3)-
//         Linear(512,256)-LReLU-Dropout(0.3)-Linear(256,1)[-Sigmoid] (LeakyReLU slope 0.2),
//     batch 128, Keras' Dense initialisation (Xavier-uniform weights, zero biases),
//     Adam(lr 2e-4, betas (0.5, 0.999)) for both, binary cross-entropy:
//       D_loss = mean BCE(D(x), 0.9) + mean BCE(D(G(z)), 0),  G_loss = mean BCE(D(G(z)), 1).
//     D's Sigmoid is folded into the loss (D returns logits; binary_cross_entropy_with_logits,
//     the fused and numerically stable form of the same function). Real and fake rows go
//     through D as one batch of 256.
// W3: G = Linear(100,6272)-Unflatten(128,7,7)-BatchNorm2d(128)-ReLU-ConvTranspose2d(128,64,4,2,1)-
//         BatchNorm2d(64)-ReLU-ConvTranspose2d(64,1,4,2,1)-Tanh (1x28x28),
//     D = Conv2d(1,64,4,2,1)-LReLU-Conv2d(64,128,4,2,1)-BatchNorm2d(128)-LReLU-Flatten-Linear(6272,1),
//     batch 64, libtorch's default initialisation (PyTorch's), Adam(lr 2e-4, betas (0.5, 0.999))
//     for both, BCE with logits, real label 1:
//       D_loss = mean BCE(D(x), 1) + mean BCE(D(G(z)), 0),  G_loss = mean BCE(D(G(z)), 1).
//     Both nets stay in training mode (BatchNorm with the batch's statistics); real and
//     fake images go through D as one batch of 128.
// One step: a D update on a real batch and G(z) (fakes made under NoGradGuard, so G is not
// differentiated), then a G update through D on fresh noise with D frozen
// (requires_grad_(false): no gradient, no update; in W2 still in training mode, so
// dropout is active). Gradients are reset to undefined tensors (PyTorch's
// zero_grad(set_to_none=True); libtorch 1.13's Optimizer::zero_grad() can only zero them).
// Real batches are made before timing and cycled through.
//
// --threads N calls torch::set_num_threads(N) (ATen's OpenMP pool). It does not govern the
// BLAS behind nn::Linear (Debian: OpenBLAS through libblas.so.3, with its own threads), so
// bench/run also exports OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and OMP_WAIT_POLICY=PASSIVE
// (bench/README.md, Threads).
//
// allocations_per_step counts global operator new only (the harness replaces it): tensor
// objects, autograd nodes, small vectors. Tensor storage comes from c10's CPU allocator
// (posix_memalign) and is not counted.
//
// Usage: xgan_bench_libtorch [--workload painting|mnist|dcgan] [--threads N] [--steps N]
//                            [--repeats R] [--warmup W] [--seed S]
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/torch.h>
#include <torch/version.h>

#include "harness/harness.hpp"

namespace {

namespace nn = torch::nn;
using torch::Tensor;

std::string version_string() {
#ifdef TORCH_VERSION
    return TORCH_VERSION;
#else
    return "unknown";
#endif
}

// Sets every gradient of the optimizer's parameters to an undefined tensor, so that the
// next backward writes fresh gradients instead of accumulating into zeroed ones
// (PyTorch's optimizer.zero_grad(set_to_none=True)).
void zero_grad_to_none(torch::optim::Optimizer& optimizer) {
    for (auto& group : optimizer.param_groups())
        for (auto& p : group.params()) p.mutable_grad().reset();
}

void set_requires_grad(std::vector<Tensor>& parameters, bool on) {
    for (auto& p : parameters) p.requires_grad_(on);
}

// Layer order. Each nn::Linear draws its initial weights from the global generator when
// it is constructed, so the networks are built one push_back per layer, G first, in the
// order of torch_gan.py: with the same seed both then start from the same weights (and
// draw the same noise). Sequential(Linear(..), ReLU(), Linear(..)) would not do: the
// arguments of one call are evaluated in an unspecified order (GCC: last first).

// One workload: its real batches and its training step (returns the step's losses, as
// tensors, so that the loop reads them only once per run).
struct Workload {
    std::vector<Tensor> reals;
    std::function<std::pair<Tensor, Tensor>(const Tensor& real)> step;
};

// W1. The step captures the modules (module holders are shared handles) and the
// optimizers (through shared_ptr: std::function wants a copyable callable).
Workload painting() {
    constexpr std::int64_t batch = 64, n_ideas = 5, art_components = 15, real_batches = 64;
    // One push_back per layer, in order (see the note on layer order above).
    nn::Sequential G, D;
    G->push_back(nn::Linear(n_ideas, 128));
    G->push_back(nn::ReLU());
    G->push_back(nn::Linear(128, art_components));
    D->push_back(nn::Linear(art_components, 128));
    D->push_back(nn::ReLU());
    D->push_back(nn::Linear(128, 1));
    D->push_back(nn::Sigmoid());
    auto opt_G = std::make_shared<torch::optim::Adam>(G->parameters(), torch::optim::AdamOptions(1e-4));
    auto opt_D = std::make_shared<torch::optim::Adam>(D->parameters(), torch::optim::AdamOptions(1e-4));

    Workload w;
    const Tensor points = torch::linspace(-1, 1, art_components).unsqueeze(0);
    for (std::int64_t i = 0; i < real_batches; ++i) {
        const Tensor a = torch::empty({batch, 1}).uniform_(1, 2);
        w.reals.push_back(a * points.pow(2) + (a - 1));
    }

    w.step = [=, d_params = D->parameters()](const Tensor& real) mutable {
        // D update: real batch and G(z); G is not differentiated here.
        Tensor fake;
        {
            torch::NoGradGuard no_grad;
            fake = G->forward(torch::randn({batch, n_ideas}));
        }
        const Tensor prob_real = D->forward(real);
        Tensor prob_fake = D->forward(fake);
        Tensor d_loss = -torch::mean(torch::log(prob_real) + torch::log(1.0 - prob_fake));
        zero_grad_to_none(*opt_D);
        d_loss.backward();
        opt_D->step();

        // G update through D (frozen: its parameters receive no gradient) on fresh noise.
        set_requires_grad(d_params, false);
        prob_fake = D->forward(G->forward(torch::randn({batch, n_ideas})));
        Tensor g_loss = torch::mean(torch::log(1.0 - prob_fake));
        zero_grad_to_none(*opt_G);
        g_loss.backward();
        opt_G->step();
        set_requires_grad(d_params, true);
        return std::pair{d_loss, g_loss};
    };
    return w;
}

// nn::Linear initialised like Keras' Dense: Xavier (Glorot) uniform weight, zero bias.
nn::Linear keras_dense(std::int64_t in, std::int64_t out) {
    nn::Linear layer(in, out);  // draws nn::Linear's default first, as in torch_gan.py
    nn::init::xavier_uniform_(layer->weight);
    nn::init::zeros_(layer->bias);
    return layer;
}

nn::LeakyReLU leaky_relu() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }

// W2.
Workload mnist() {
    constexpr std::int64_t batch = 128, noise = 100, pixels = 784, real_batches = 8;
    // One push_back per layer, in order (see the note on layer order above).
    nn::Sequential G, D;
    G->push_back(keras_dense(noise, 256));
    G->push_back(leaky_relu());
    G->push_back(keras_dense(256, 512));
    G->push_back(leaky_relu());
    G->push_back(keras_dense(512, 1024));
    G->push_back(leaky_relu());
    G->push_back(keras_dense(1024, pixels));
    G->push_back(nn::Tanh());
    // D's logits; the Sigmoid is inside binary_cross_entropy_with_logits.
    D->push_back(keras_dense(pixels, 1024));
    D->push_back(leaky_relu());
    D->push_back(nn::Dropout(0.3));
    D->push_back(keras_dense(1024, 512));
    D->push_back(leaky_relu());
    D->push_back(nn::Dropout(0.3));
    D->push_back(keras_dense(512, 256));
    D->push_back(leaky_relu());
    D->push_back(nn::Dropout(0.3));
    D->push_back(keras_dense(256, 1));
    G->train();
    D->train();  // also during G's update: dropout stays active, as in Keras' combined model
    const auto adam = torch::optim::AdamOptions(2e-4).betas({0.5, 0.999});
    auto opt_G = std::make_shared<torch::optim::Adam>(G->parameters(), adam);
    auto opt_D = std::make_shared<torch::optim::Adam>(D->parameters(), adam);

    Workload w;
    for (std::int64_t i = 0; i < real_batches; ++i) w.reals.push_back(torch::empty({batch, pixels}).uniform_(-1, 1));
    const Tensor real_labels = torch::full({batch, 1}, 0.9);  // one-sided label smoothing
    const Tensor fake_labels = torch::zeros({batch, 1});
    const Tensor generator_labels = torch::ones({batch, 1});  // the non-saturating loss
    namespace F = torch::nn::functional;

    w.step = [=, d_params = D->parameters()](const Tensor& real) mutable {
        // D update on the real rows and G(z) as one batch; G is not differentiated here.
        Tensor fake;
        {
            torch::NoGradGuard no_grad;
            fake = G->forward(torch::randn({batch, noise}));
        }
        Tensor logits = D->forward(torch::cat({real, fake}));
        Tensor d_loss = F::binary_cross_entropy_with_logits(logits.slice(0, 0, batch), real_labels) +
                        F::binary_cross_entropy_with_logits(logits.slice(0, batch), fake_labels);
        zero_grad_to_none(*opt_D);
        d_loss.backward();
        opt_D->step();

        // G update through D (frozen: its parameters receive no gradient; still in
        // training mode) on fresh noise.
        set_requires_grad(d_params, false);
        logits = D->forward(G->forward(torch::randn({batch, noise})));
        Tensor g_loss = F::binary_cross_entropy_with_logits(logits, generator_labels);
        zero_grad_to_none(*opt_G);
        g_loss.backward();
        opt_G->step();
        set_requires_grad(d_params, true);
        return std::pair{d_loss, g_loss};
    };
    return w;
}

// W3.
Workload dcgan() {
    constexpr std::int64_t batch = 64, noise = 100, real_batches = 8;
    // One push_back per layer, in order (see the note on layer order above).
    nn::Sequential G, D;
    G->push_back(nn::Linear(noise, 128 * 7 * 7));
    G->push_back(nn::Unflatten(nn::UnflattenOptions(1, {128, 7, 7})));
    G->push_back(nn::BatchNorm2d(128));
    G->push_back(nn::ReLU());
    G->push_back(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1)));
    G->push_back(nn::BatchNorm2d(64));
    G->push_back(nn::ReLU());
    G->push_back(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(64, 1, 4).stride(2).padding(1)));
    G->push_back(nn::Tanh());
    // D's logit; the Sigmoid is inside binary_cross_entropy_with_logits.
    D->push_back(nn::Conv2d(nn::Conv2dOptions(1, 64, 4).stride(2).padding(1)));
    D->push_back(leaky_relu());
    D->push_back(nn::Conv2d(nn::Conv2dOptions(64, 128, 4).stride(2).padding(1)));
    D->push_back(nn::BatchNorm2d(128));
    D->push_back(leaky_relu());
    D->push_back(nn::Flatten());
    D->push_back(nn::Linear(128 * 7 * 7, 1));
    G->train();
    D->train();  // also during G's update: BatchNorm normalises with the batch's statistics
    const auto adam = torch::optim::AdamOptions(2e-4).betas({0.5, 0.999});
    auto opt_G = std::make_shared<torch::optim::Adam>(G->parameters(), adam);
    auto opt_D = std::make_shared<torch::optim::Adam>(D->parameters(), adam);

    Workload w;
    for (std::int64_t i = 0; i < real_batches; ++i) w.reals.push_back(torch::empty({batch, 1, 28, 28}).uniform_(-1, 1));
    const Tensor real_labels = torch::ones({batch, 1});
    const Tensor fake_labels = torch::zeros({batch, 1});
    namespace F = torch::nn::functional;

    w.step = [=, d_params = D->parameters()](const Tensor& real) mutable {
        // D update on the real and the fake images as one batch; G is not differentiated here.
        Tensor fake;
        {
            torch::NoGradGuard no_grad;
            fake = G->forward(torch::randn({batch, noise}));
        }
        Tensor logits = D->forward(torch::cat({real, fake}));
        Tensor d_loss = F::binary_cross_entropy_with_logits(logits.slice(0, 0, batch), real_labels) +
                        F::binary_cross_entropy_with_logits(logits.slice(0, batch), fake_labels);
        zero_grad_to_none(*opt_D);
        d_loss.backward();
        opt_D->step();

        // G update through D (frozen: its parameters receive no gradient; still in
        // training mode) on fresh noise, the non-saturating loss.
        set_requires_grad(d_params, false);
        logits = D->forward(G->forward(torch::randn({batch, noise})));
        Tensor g_loss = F::binary_cross_entropy_with_logits(logits, real_labels);
        zero_grad_to_none(*opt_G);
        g_loss.backward();
        opt_G->step();
        set_requires_grad(d_params, true);
        return std::pair{d_loss, g_loss};
    };
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    const bench::Settings settings =
        bench::parse_settings(argc, argv, "xgan_bench_libtorch", {"painting", "mnist", "dcgan"});
    torch::set_num_threads(settings.threads);
    torch::manual_seed(settings.seed);  // then G, D and the real batches, as torch_gan.py
    Workload w = settings.workload == "painting" ? painting() : settings.workload == "mnist" ? mnist() : dcgan();

    std::size_t next = 0;
    Tensor d_loss, g_loss;
    const bench::Measurement m = bench::measure(settings, [&](std::size_t steps) {
        for (std::size_t s = 0; s < steps; ++s) {
            std::tie(d_loss, g_loss) = w.step(w.reals[next]);
            next = (next + 1) % w.reals.size();
        }
    });
    bench::print_result(settings, "libtorch", version_string(), m, d_loss.item<double>(), g_loss.item<double>(),
                        {{"allocations_counted", bench::quoted("operator new only, not tensor storage")}});
    return 0;
}
