#include "harness.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>

// ---- heap allocation counting ------------------------------------------------
// Every form of global operator new funnels into counted_alloc; counting is switched
// on only around the timed steps. (Allocations made with malloc directly, as a C
// library may, are not seen.)
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

namespace bench {
namespace {

std::string joined(const std::vector<std::string>& names, const char* separator) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : separator) + n;
    return out;
}

[[noreturn]] void usage(const char* program, const std::vector<std::string>& workloads, const char* problem,
                        const char* detail) {
    std::fprintf(stderr, "%s: %s%s\n", program, problem, detail);
    std::fprintf(stderr,
                 "usage: %s [--workload %s] [--threads N] [--steps N] [--repeats R] [--warmup W] "
                 "[--seed S]\n",
                 program, joined(workloads, "|").c_str());
    std::exit(2);
}

long minor_faults() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

std::uint64_t parse_count(const char* program, const char* text, const char* flag) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == '-') {
        std::fprintf(stderr, "%s: %s wants a non-negative whole number, got '%s'\n", program, flag, text);
        std::exit(2);
    }
    return value;
}

}  // namespace

Settings parse_settings(int argc, char** argv, const char* program, const std::vector<std::string>& workloads) {
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage(program, workloads, "missing value after ", arg.c_str());
        const char* value = argv[++i];
        if (arg == "--workload") s.workload = value;
        else if (arg == "--threads") s.threads = static_cast<int>(parse_count(program, value, "--threads"));
        else if (arg == "--steps") s.steps = parse_count(program, value, "--steps");
        else if (arg == "--repeats") s.repeats = parse_count(program, value, "--repeats");
        else if (arg == "--warmup") s.warmup = parse_count(program, value, "--warmup"), s.warmup_given = true;
        else if (arg == "--seed") s.seed = parse_count(program, value, "--seed");
        else usage(program, workloads, "unknown option ", arg.c_str());
    }
    if (std::find(workloads.begin(), workloads.end(), s.workload) == workloads.end()) {
        const std::string problem = "--workload must be " + joined(workloads, " or ") + " here, got ";
        usage(program, workloads, problem.c_str(), s.workload.c_str());
    }
    if (s.threads < 1) usage(program, workloads, "--threads must be at least 1", "");
    // Defaults: a few seconds a repetition on one core of the reference machine.
    struct Defaults {
        std::size_t steps, repeats, warmup;
    };
    const Defaults d = s.workload == "painting" ? Defaults{2000, 7, 500}
                       : s.workload == "mnist"  ? Defaults{20, 5, 3}
                                                : Defaults{10, 5, 2};
    if (s.steps == 0) s.steps = d.steps;
    if (s.repeats == 0) s.repeats = d.repeats;
    if (!s.warmup_given) s.warmup = d.warmup;
    return s;
}

std::size_t batch_of(const Settings& settings) { return settings.workload == "mnist" ? 128 : 64; }

double Measurement::median() const {
    std::vector<double> sorted = steps_per_second;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
}
double Measurement::min() const { return *std::min_element(steps_per_second.begin(), steps_per_second.end()); }
double Measurement::max() const { return *std::max_element(steps_per_second.begin(), steps_per_second.end()); }

Measurement measure(const Settings& settings, const std::function<void(std::size_t)>& run) {
    if (settings.warmup > 0) run(settings.warmup);
    Measurement m;
    std::uint64_t counted = 0;
    long faults = 0;
    for (std::size_t r = 0; r < settings.repeats; ++r) {
        allocations.store(0);
        const long faults_before = minor_faults();
        counting.store(true);
        const auto start = std::chrono::steady_clock::now();
        run(settings.steps);
        const auto stop = std::chrono::steady_clock::now();
        counting.store(false);
        faults += minor_faults() - faults_before;
        counted += allocations.load();
        m.steps_per_second.push_back(static_cast<double>(settings.steps) /
                                     std::chrono::duration<double>(stop - start).count());
    }
    const double steps = static_cast<double>(settings.steps * settings.repeats);
    m.allocations_per_step = static_cast<double>(counted) / steps;
    m.minor_faults_per_step = static_cast<double>(faults) / steps;
    return m;
}

// This program's own peak: VmHWM, the high-water mark of its address space. Not
// getrusage's ru_maxrss, which Linux carries across exec: started from a Python parent
// (bench/alternate.py), it would report the parent's 15 MiB.
long peak_rss_kib() {
    if (std::FILE* status = std::fopen("/proc/self/status", "r")) {
        char line[256];
        long kib = -1;
        while (std::fgets(line, sizeof line, status) != nullptr)
            if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
        std::fclose(status);
        if (kib >= 0) return kib;
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // kilobytes on Linux
}

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

void print_result(const Settings& s, const std::string& implementation, const std::string& version,
                  const Measurement& m, double final_d_loss, double final_g_loss, const Fields& extra) {
    std::printf("{\"benchmark\":%s,\"implementation\":%s,\"version\":%s,\"threads\":%d,\"batch\":%zu,"
                "\"steps\":%zu,\"repeats\":%zu,\"warmup\":%zu,\"steps_per_s_median\":%.3f,\"steps_per_s_min\":%.3f,"
                "\"steps_per_s_max\":%.3f,\"allocations_per_step\":%.4f,\"peak_rss_kib\":%ld,"
                "\"final_d_loss\":%.6f,\"final_g_loss\":%.6f,\"minor_faults_per_step\":%.1f",
                quoted(s.workload).c_str(), quoted(implementation).c_str(), quoted(version).c_str(), s.threads,
                batch_of(s), s.steps, s.repeats, s.warmup, m.median(), m.min(), m.max(), m.allocations_per_step,
                peak_rss_kib(), final_d_loss, final_g_loss, m.minor_faults_per_step);
    // Every repetition in the order run: the machine's swings show as runs of slow ones.
    std::printf(",\"steps_per_s_each\":[");
    for (std::size_t r = 0; r < m.steps_per_second.size(); ++r)
        std::printf("%s%.3f", r == 0 ? "" : ",", m.steps_per_second[r]);
    std::printf("]");
    for (const auto& [name, value] : extra) std::printf(",%s:%s", quoted(name).c_str(), value.c_str());
    std::printf("}\n");
    std::printf("%s %s %s, %d thread(s): %.1f steps/s median (min %.1f, max %.1f) over %zu x %zu steps; "
                "%.4f heap allocations/step; peak RSS %.1f MiB\n",
                implementation.c_str(), version.c_str(), s.workload.c_str(), s.threads, m.median(), m.min(), m.max(),
                s.repeats, s.steps, m.allocations_per_step, static_cast<double>(peak_rss_kib()) / 1024.0);
    std::fflush(stdout);
}

}  // namespace bench
