// W1, the painting GAN, timed: G = Dense<5,128>-ReLU-Dense<128,15>,
// D = Dense<15,128>-ReLU-Dense<128,1>-Sigmoid, batch 64, Adam lr 1e-4 for both,
// MinimaxLoss. One step is AdversarialTrainer::step(real).
//
// Prints one JSON line (machine-readable) and one human-readable line:
// median steps/s over the repetitions with min-max, heap allocations per timed
// step (global operator new is replaced below and counted during the timed
// steps only) and peak RSS (getrusage).
//
// Usage: xgan_bench_painting [--steps N] [--repeats R] [--warmup W] [--seed S]
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/losses/minimax.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/train/trainer.hpp>

// Which implementation the Dense products use (also builds against xgan trees that
// predate the kernels, to measure them).
#if __has_include(<xgan/detail/kernels.hpp>)
#include <xgan/detail/kernels.hpp>
static const char* kernels_in_use() {
    return xgan::detail::kernels::path_name(xgan::detail::kernels::active_path());
}
#else
static const char* kernels_in_use() { return "none"; }
#endif

// ---- heap allocation counting ------------------------------------------------
// Every form of global operator new funnels into counted_alloc; counting is
// switched on only around the timed steps.
namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};

void* counted_alloc(std::size_t size, std::size_t alignment, bool nothrow) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (size == 0) size = 1;
    void* p = nullptr;
    if (alignment <= alignof(std::max_align_t)) {
        p = std::malloc(size);
    } else {
        // aligned_alloc wants a size that is a multiple of the alignment.
        p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    }
    if (p == nullptr && !nothrow) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0, false); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0, false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0, true); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0, true); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a), false); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a), false); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, static_cast<std::size_t>(a), true);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return counted_alloc(n, static_cast<std::size_t>(a), true);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using G = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using D = xgan::Sequential<xgan::Dense<15, 128>, xgan::ReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;
using Trainer = xgan::AdversarialTrainer<G, D, xgan::Adam, xgan::Adam, xgan::MinimaxLoss>;

constexpr std::size_t batch = 64;
// Real batches are drawn before timing and cycled through, so that the timed loop
// is the training step alone (bench/painting_torch.py does the same).
constexpr std::size_t real_batches = 64;

struct Settings {
    std::size_t steps = 2000;
    std::size_t repeats = 7;
    std::size_t warmup = 500;
    std::uint64_t seed = 1;
};

std::size_t parse_count(const char* text, const char* flag) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0') {
        std::fprintf(stderr, "xgan_bench_painting: %s wants a number, got '%s'\n", flag, text);
        std::exit(2);
    }
    return static_cast<std::size_t>(value);
}

Settings parse(int argc, char** argv) {
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "usage: xgan_bench_painting [--steps N] [--repeats R] [--warmup W] [--seed S]\n");
            std::exit(2);
        }
        const char* value = argv[++i];
        if (arg == "--steps") s.steps = parse_count(value, "--steps");
        else if (arg == "--repeats") s.repeats = parse_count(value, "--repeats");
        else if (arg == "--warmup") s.warmup = parse_count(value, "--warmup");
        else if (arg == "--seed") s.seed = parse_count(value, "--seed");
        else {
            std::fprintf(stderr, "xgan_bench_painting: unknown option %s\n", arg.c_str());
            std::exit(2);
        }
    }
    if (s.steps == 0 || s.repeats == 0) {
        std::fprintf(stderr, "xgan_bench_painting: --steps and --repeats must be positive\n");
        std::exit(2);
    }
    return s;
}

// CPU time of this thread: unlike wall time, it does not count time the scheduler
// gave to other processes, so it is the steadier figure on a shared machine.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
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

}  // namespace

int main(int argc, char** argv) {
    const Settings settings = parse(argc, argv);

    Trainer::Options options;
    options.generator_optimizer.lr = 1e-4;
    options.discriminator_optimizer.lr = 1e-4;
    options.seed = settings.seed;
    Trainer trainer(options);

    xgan::Rng data_rng(settings.seed + 1);
    std::vector<xgan::matrix<float>> reals;
    for (std::size_t i = 0; i < real_batches; ++i) {
        reals.emplace_back(xgan::matrix<float>::shape_type{batch, 15});
        xgan::paintings::artist_works(reals.back(), data_rng);
    }

    std::size_t next = 0;
    xgan::StepStats stats;
    auto run = [&](std::size_t steps) {
        for (std::size_t s = 0; s < steps; ++s) {
            stats = trainer.step(reals[next]);
            next = (next + 1) % real_batches;
        }
    };

    run(settings.warmup == 0 ? 1 : settings.warmup);

    std::vector<double> rates, cpu_rates;
    std::uint64_t counted = 0;
    for (std::size_t r = 0; r < settings.repeats; ++r) {
        allocations.store(0);
        counting.store(true);
        const double cpu_start = thread_cpu_seconds();
        const auto start = std::chrono::steady_clock::now();
        run(settings.steps);
        const auto stop = std::chrono::steady_clock::now();
        const double cpu_stop = thread_cpu_seconds();
        counting.store(false);
        cpu_rates.push_back(static_cast<double>(settings.steps) / (cpu_stop - cpu_start));
        counted += allocations.load();
        const double seconds = std::chrono::duration<double>(stop - start).count();
        rates.push_back(static_cast<double>(settings.steps) / seconds);
    }
    std::vector<double> sorted = rates;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::sort(cpu_rates.begin(), cpu_rates.end());
    const double cpu_median = cpu_rates[cpu_rates.size() / 2];
    const double per_step =
        static_cast<double>(counted) / static_cast<double>(settings.steps * settings.repeats);

    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const long peak_rss_kib = usage.ru_maxrss;  // kilobytes on Linux

    const std::uint64_t fp = fingerprint(trainer.discriminator(), fingerprint(trainer.generator(), 0xcbf29ce484222325ull));

    std::printf(
        "{\"benchmark\":\"painting\",\"implementation\":\"xgan\",\"batch\":%zu,\"steps\":%zu,\"repeats\":%zu,"
        "\"warmup\":%zu,\"steps_per_s_median\":%.1f,\"steps_per_s_min\":%.1f,\"steps_per_s_max\":%.1f,"
        "\"cpu_steps_per_s_median\":%.1f,\"kernels\":\"%s\",\"allocations_per_step\":%.4f,\"allocations_total\":%llu,\"peak_rss_kib\":%ld,"
        "\"final_d_loss\":%.6f,\"final_g_loss\":%.6f,\"parameter_fingerprint\":\"%016llx\"}\n",
        batch, settings.steps, settings.repeats, settings.warmup, median, sorted.front(), sorted.back(), cpu_median,
        kernels_in_use(), per_step,
        static_cast<unsigned long long>(counted), peak_rss_kib, stats.d_loss, stats.g_loss,
        static_cast<unsigned long long>(fp));
    std::printf("xgan painting GAN [kernels: %s]: %.0f steps/s median (min %.0f, max %.0f) over %zu x %zu steps "
                "[%.0f steps per CPU-second]; %.4f heap allocations/step; peak RSS %.1f MiB\n",
                kernels_in_use(), median, sorted.front(),
                sorted.back(), settings.repeats, settings.steps, cpu_median, per_step,
                static_cast<double>(peak_rss_kib) / 1024.0);
    return 0;
}
