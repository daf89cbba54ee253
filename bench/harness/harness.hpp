// The measuring harness every C++ benchmark in bench/ shares (xgan and the C++ peers),
// so that all rows of bench/run's table are timed, counted and printed the same way.
//
// - parse_settings: the common command line,
//     --workload painting|mnist|dcgan  --threads N  --steps N  --repeats R  --warmup W  --seed S
//   with per-workload defaults (painting: 7 x 2000 steps after 500; mnist: 5 x 20 after 3;
//   dcgan: 5 x 10 after 2). A program accepts only the workloads it implements (its
//   `workloads` argument); asked for another, it exits with status 2, which bench/run
//   reads as "this row does not have that workload".
// - measure: runs the warm-up, then the repetitions, timing each with a steady clock and
//   counting heap allocations (global operator new, replaced in harness.cpp) and minor
//   page faults (getrusage) during the timed steps only.
// - print_result: one JSON line on stdout (bench/run reads it) and one line for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Settings {
    std::string workload = "painting";  // "painting" (W1), "mnist" (W2) or "dcgan" (W3)
    int threads = 1;
    std::size_t steps = 0;  // 0: the workload's default
    std::size_t repeats = 0;
    std::size_t warmup = 0;
    std::uint64_t seed = 1;
    bool warmup_given = false;
};

// Parses the common flags; prints usage and exits with status 2 on anything else,
// including a workload not in `workloads` (the ones the program implements).
Settings parse_settings(int argc, char** argv, const char* program,
                        const std::vector<std::string>& workloads = {"painting", "mnist"});

struct Measurement {
    std::vector<double> steps_per_second;  // one per repetition
    double allocations_per_step = 0;
    // Minor page faults per timed step, the whole process (getrusage): pages the kernel
    // had to map and zero because the allocator gave memory back between steps.
    double minor_faults_per_step = 0;
    double median() const;
    double min() const;
    double max() const;
};

// run(n) performs n training steps.
Measurement measure(const Settings& settings, const std::function<void(std::size_t)>& run);

// Peak resident set size of this process so far, KiB.
long peak_rss_kib();

// Extra JSON fields, already encoded: {"name", "\"text\""} or {"name", "1.5"}.
using Fields = std::vector<std::pair<std::string, std::string>>;
std::string quoted(const std::string& text);

// Batch size of the workload: 64 for painting and dcgan, 128 for mnist.
std::size_t batch_of(const Settings& settings);

void print_result(const Settings& settings, const std::string& implementation, const std::string& version,
                  const Measurement& m, double final_d_loss, double final_g_loss, const Fields& extra = {});

}  // namespace bench
