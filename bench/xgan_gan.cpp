// xgan's side of bench/run: W1 (the painting GAN), W2 (the MNIST MLP GAN) and W3 (the
// DCGAN), timed by the shared harness (bench/harness). bench/README.md defines the
// workloads; the peers in bench/peers/ implement exactly the same networks, losses and
// settings.
//
// W1: G = Dense<5,128>-ReLU-Dense<128,15>, D = Dense<15,128>-ReLU-Dense<128,1>-Sigmoid,
//     batch 64, Adam(lr 1e-4) for both, MinimaxLoss.
// W2: G = Dense<100,256>-LReLU-Dense<256,512>-LReLU-Dense<512,1024>-LReLU-Dense<1024,784>-Tanh,
//     D = Dense<784,1024>-LReLU-Dropout(0.3)-Dense<1024,512>-LReLU-Dropout(0.3)-
//         Dense<512,256>-LReLU-Dropout(0.3)-Dense<256,1>-Sigmoid (LeakyReLU slope 0.2),
//     batch 128, Adam(lr 2e-4, beta1 0.5) for both, NonSaturatingLoss with real label 0.9.
// W3: G = Dense<100,6272>-Unflatten<128,7,7>-BatchNorm-ReLU-ConvTranspose2D<128,64,4,2,1>-
//         BatchNorm-ReLU-ConvTranspose2D<64,1,4,2,1>-Tanh (1x28x28),
//     D = Input<1,28,28>-Conv2D<1,64,4,2,1>-LReLU-Conv2D<64,128,4,2,1>-BatchNorm-LReLU-
//         Flatten-Dense<6272,1> (a logit), PyTorch's initialisation and BatchNorm2d settings,
//     batch 64, Adam(lr 2e-4, beta1 0.5) for both, NonSaturatingLoss with real label 1
//     (Example 04's networks and settings). With BatchNorm in D the trainer sends the real
//     and the fake batch through D as two passes (the same FLOPs as PyTorch's one pass of
//     128 rows; BatchNorm normalises each half with its own statistics).
// One step is AdversarialTrainer::step(real). Real batches are made before timing and
// cycled through, so that the timed loop is the training step alone.
//
// --threads N sets xgan::set_threads (Adam's update of W2's networks, W3's convolutions;
// W1's loops are below the size where a loop is split) and OpenBLAS's thread count for W1
// and W2. W3 keeps OpenBLAS on one thread: its convolutions run their products on xgan's
// threads (bench/run likewise sets OMP_NUM_THREADS=1 for oneDNN's products on W3).
//
// Built as xgan_bench_mpi (XGAN_BENCH_MPI, where xgan::mpi exists), the same steps run
// data-parallel under mpirun: N ranks of batch B / N each, whose optimizers average the
// gradients (mpi::Allreduce<Adam>), so that a step trains on the workload's batch B as
// one process does; rank 0 prints the result with the ranks and the bytes each rank
// sends per step in the ring allreduce (bench/run-mpi).
//
// Usage: xgan_bench [--workload painting|mnist|dcgan] [--threads N] [--steps N] [--repeats R]
//                   [--warmup W] [--seed S]
// (dcgan only where include/ has the image layers: bench/run --before builds this file
// against older trees.)

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/init/initializers.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/layers/dense.hpp>
// bench/run --before REV builds this file against older include/ trees, some without it.
#if __has_include(<xgan/core/threads.hpp>)
#include <xgan/core/threads.hpp>
#define XGAN_BENCH_HAS_SET_THREADS 1
#endif
#include <xgan/layers/dropout.hpp>
#ifdef XGAN_BENCH_PRODUCT_CLOCK
#include "product_clock.hpp"
#endif
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/losses/minimax.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/trainer.hpp>
#include <xgan/version.hpp>
#if __has_include(<xgan/layers/conv_transpose2d.hpp>) && __has_include(<xgan/layers/reshape.hpp>)
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/reshape.hpp>
#define XGAN_BENCH_HAS_DCGAN 1
#endif

#ifdef XGAN_BENCH_MPI
#include <xgan/distributed/mpi.hpp>
#endif

#include "harness/harness.hpp"

#if __has_include(<xgan/detail/kernels.hpp>)
#include <xgan/detail/kernels.hpp>
static std::string kernels_in_use() {
    return xgan::detail::kernels::path_name(xgan::detail::kernels::active_path());
}
#else
static std::string kernels_in_use() { return "none"; }
#endif

extern "C" void openblas_set_num_threads(int);

namespace {

using namespace xgan;

// The workloads' optimizer: Adam, or the same averaged over the ranks.
#ifdef XGAN_BENCH_MPI
using BenchAdam = mpi::Allreduce<Adam>;
BenchAdam bench_adam(const Adam& adam) { return {.inner = adam}; }
#else
using BenchAdam = Adam;
BenchAdam bench_adam(const Adam& adam) { return adam; }
#endif

namespace w1 {
using G = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
using D = Sequential<Dense<15, 128>, ReLU, Dense<128, 1>, Sigmoid>;
using Trainer = AdversarialTrainer<G, D, BenchAdam, BenchAdam, MinimaxLoss>;
}  // namespace w1

namespace w2 {
template <std::size_t In, std::size_t Out>
using KerasDense = Dense<In, Out, init::XavierUniform>;
using Dropout3 = DropoutWithRate<3, 10>;
using G = Sequential<KerasDense<100, 256>, LeakyReLU, KerasDense<256, 512>, LeakyReLU, KerasDense<512, 1024>,
                     LeakyReLU, KerasDense<1024, 784>, Tanh>;
using D = Sequential<KerasDense<784, 1024>, LeakyReLU, Dropout3, KerasDense<1024, 512>, LeakyReLU, Dropout3,
                     KerasDense<512, 256>, LeakyReLU, Dropout3, KerasDense<256, 1>, Sigmoid>;
using Trainer = AdversarialTrainer<G, D, BenchAdam, BenchAdam, NonSaturatingLoss>;
}  // namespace w2

#ifdef XGAN_BENCH_HAS_DCGAN
namespace w3 {
using G = Sequential<Dense<100, 128 * 7 * 7>, Unflatten<128, 7, 7>, BatchNorm, ReLU, ConvTranspose2D<128, 64, 4, 2, 1>,
                     BatchNorm, ReLU, ConvTranspose2D<64, 1, 4, 2, 1>, Tanh>;
using D = Sequential<Input<1, 28, 28>, Conv2D<1, 64, 4, 2, 1>, LeakyReLU, Conv2D<64, 128, 4, 2, 1>, BatchNorm,
                     LeakyReLU, Flatten, Dense<128 * 7 * 7, 1>>;
using Trainer = AdversarialTrainer<G, D, BenchAdam, BenchAdam, NonSaturatingLoss>;
}  // namespace w3
#endif

std::string version_string() {
    return std::to_string(XGAN_VERSION_MAJOR) + "." + std::to_string(XGAN_VERSION_MINOR) + "." +
           std::to_string(XGAN_VERSION_PATCH);
}

// A checksum of the parameters, so that runs can be compared for bit-identity.
template <class Net>
std::uint64_t fingerprint(const Net& net, std::uint64_t h) {
    for (const float p : net.parameters()) {
        std::uint32_t bits;
        std::memcpy(&bits, &p, sizeof bits);
        h = (h ^ bits) * 0x100000001b3ull;  // FNV-1a over 32-bit words
    }
    return h;
}

template <class Trainer>
int run_benchmark(const bench::Settings& settings, typename Trainer::Options options,
                  const std::vector<matrix<float>>& reals) {
    options.seed = settings.seed;
    Trainer trainer(options);
#ifdef XGAN_BENCH_MPI
    mpi::prepare(trainer, settings.seed);
#endif
    std::size_t next = 0, steps_run = 0;
    StepStats stats;
    const bench::Measurement m = bench::measure(settings, [&](std::size_t steps) {
        for (std::size_t s = 0; s < steps; ++s) {
            stats = trainer.step(reals[next]);
#ifdef XGAN_BENCH_MPI
            mpi::average_buffers(trainer);  // W3's BatchNorm running statistics: 643 values
#endif
            next = (next + 1) % reals.size();
        }
        steps_run += steps;
    });
#ifdef XGAN_BENCH_PRODUCT_CLOCK
    // Over every step run, warm-up included: the products' share of a step's time.
    const bench::ProductClock clock = bench::product_clock();
    const double step_ms = 1e3 / m.median(), product_ms = 1e3 * clock.seconds / static_cast<double>(steps_run);
    std::fprintf(stderr, "products (cblas_sgemm, %ld calls a step): %.2f ms a step of %.2f ms (median rate); the rest %.2f ms\n",
                 clock.calls / static_cast<long>(steps_run), product_ms, step_ms, step_ms - product_ms);
#else
    (void)steps_run;
#endif
    const std::uint64_t fp =
        fingerprint(trainer.discriminator(), fingerprint(trainer.generator(), 0xcbf29ce484222325ull));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fp));
    bench::Fields fields{{"kernels", bench::quoted(kernels_in_use())}, {"parameter_fingerprint", bench::quoted(hex)}};
#ifdef XGAN_BENCH_MPI
    // Per step: one allreduce of D's gradient per D update, one of G's.
    using G = typename Trainer::generator_type;
    using D = typename Trainer::discriminator_type;
    const int ranks = mpi::size();
    const double bytes = static_cast<double>(options.discriminator_steps) *
                             mpi::ring_allreduce_bytes<float>(D::parameter_count, ranks) +
                         mpi::ring_allreduce_bytes<float>(G::parameter_count, ranks);
    fields.push_back({"ranks", std::to_string(ranks)});
    fields.push_back({"gradient_values", std::to_string(G::parameter_count + D::parameter_count)});
    fields.push_back({"allreduce_bytes_per_step", std::to_string(static_cast<long long>(bytes))});
    mpi::check_replicas(trainer);
    if (mpi::rank() != 0) return 0;
#endif
    bench::print_result(settings, "xgan", version_string(), m, stats.d_loss, stats.g_loss, fields);
    return 0;
}

}  // namespace

// Each rank's rows of every batch (all of them in one process).
std::vector<matrix<float>> shard(const std::vector<matrix<float>>& batches) {
#ifdef XGAN_BENCH_MPI
    std::vector<matrix<float>> mine(batches.size());
    for (std::size_t i = 0; i < batches.size(); ++i) mpi::take_shard(batches[i], mine[i]);
    return mine;
#else
    return batches;
#endif
}

int run(int argc, char** argv) {
#ifdef XGAN_BENCH_HAS_DCGAN
    const bench::Settings settings = bench::parse_settings(argc, argv, "xgan_bench", {"painting", "mnist", "dcgan"});
#else
    const bench::Settings settings = bench::parse_settings(argc, argv, "xgan_bench");
#endif
    // W3's convolutions share their groups of samples among xgan's threads, each product on
    // one BLAS thread (docs/reference/layers-conv.md, "Threads"); W1 and W2 give the threads to the BLAS.
    openblas_set_num_threads(settings.workload == "dcgan" ? 1 : settings.threads);
#ifdef XGAN_BENCH_HAS_SET_THREADS
    xgan::set_threads(static_cast<std::size_t>(settings.threads));
#endif
    Rng data_rng(settings.seed + 1);
    std::vector<matrix<float>> reals;

    if (settings.workload == "painting") {
        for (std::size_t i = 0; i < 64; ++i) {
            reals.emplace_back(matrix<float>::shape_type{64, 15});
            paintings::artist_works(reals.back(), data_rng);
        }
        w1::Trainer::Options options;
        options.generator_optimizer = bench_adam({.lr = 1e-4});
        options.discriminator_optimizer = bench_adam({.lr = 1e-4});
        return run_benchmark<w1::Trainer>(settings, options, shard(reals));
    }

    // W2 and W3: stand-in images, uniform in [-1, 1] like the scaled pixels (the data's
    // values do not change the work done).
    const std::size_t batch = bench::batch_of(settings);
    for (std::size_t i = 0; i < 8; ++i) {
        reals.emplace_back(matrix<float>::shape_type{batch, 784});
        for (float& x : reals.back()) x = static_cast<float>(2.0 * data_rng.uniform() - 1.0);
    }
    const BenchAdam adam = bench_adam({.lr = 2e-4, .beta1 = 0.5});
#ifdef XGAN_BENCH_HAS_DCGAN
    if (settings.workload == "dcgan")
        return run_benchmark<w3::Trainer>(
            settings, {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = NonSaturatingLoss{}},
            shard(reals));
#endif
    return run_benchmark<w2::Trainer>(
        settings, {.generator_optimizer = adam, .discriminator_optimizer = adam, .loss = NonSaturatingLoss{.real_label = 0.9}},
        shard(reals));
}

int main(int argc, char** argv) {
#ifdef XGAN_BENCH_MPI
    xgan::mpi::Environment environment(argc, argv);
    return xgan::mpi::run([&] { return run(argc, argv); });
#else
    return run(argc, argv);
#endif
}
