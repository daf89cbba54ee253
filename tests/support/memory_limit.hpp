// Runs a piece of a test in a child process with a bound on its memory, so a reader that
// would allocate without bound fails that child, not the test runner or the machine.
//
//   auto run = tests::run_with_memory_limit(256 << 20, [&] { xgan::idx::read(path); });
//   REQUIRE(run.exception_message.find("claims") != std::string::npos);
//   REQUIRE(run.peak_growth_bytes < (256 << 20));
//
// The child sets RLIMIT_AS to (its address space at the start + limit), so an allocation
// past the bound fails there with std::bad_alloc, reported as such. Under AddressSanitizer
// or ThreadSanitizer, whose shadow memory reserves terabytes of address space, no RLIMIT_AS
// is set; the peak resident growth (VmHWM, which counts pages touched) is still measured,
// so the same assertion on peak_growth_bytes holds in every configuration.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>

namespace tests {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool address_space_limit_applies = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool address_space_limit_applies = false;
#else
inline constexpr bool address_space_limit_applies = true;
#endif
#else
inline constexpr bool address_space_limit_applies = true;
#endif

struct limited_run {
    bool exited = false;             // the child ran to its end (returned or threw)
    bool threw = false;              // the callable threw
    bool bad_alloc = false;          // ... std::bad_alloc: it hit the limit
    std::string exception_message;   // what() of what it threw
    std::size_t peak_growth_bytes = 0;  // growth of the child's peak resident memory during the call
};

namespace detail {
// "VmHWM:    1234 kB" of /proc/self/status, in bytes; "VmSize" for the address space.
inline std::size_t proc_status_bytes(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(status, line))
        if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
            return static_cast<std::size_t>(std::stoull(line.substr(n + 1))) * 1024;
    return 0;
}
}  // namespace detail

// Runs `f` in a forked child whose memory is bounded by `limit_bytes` beyond what it has at
// the start, and reports how it ended. The child's output is not captured.
template <class F>
limited_run run_with_memory_limit(std::size_t limit_bytes, F&& f) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error("tests::run_with_memory_limit: pipe failed");
    std::fflush(nullptr);
    const pid_t child = fork();
    if (child < 0) throw std::runtime_error("tests::run_with_memory_limit: fork failed");
    if (child == 0) {
        close(pipe_fds[0]);
        std::string report;  // "<kind>\n<peak growth>\n<message>"
        // Reset the peak to the current resident size (Linux: "5" to clear_refs).
        { std::ofstream("/proc/self/clear_refs") << "5"; }
        const std::size_t rss_start = detail::proc_status_bytes("VmHWM");
        if constexpr (address_space_limit_applies) {
            const rlimit bound{detail::proc_status_bytes("VmSize") + limit_bytes,
                               detail::proc_status_bytes("VmSize") + limit_bytes};
            setrlimit(RLIMIT_AS, &bound);
        }
        char kind = 'r';
        std::string message;
        try {
            f();
        } catch (const std::bad_alloc& e) {
            kind = 'a';
            message = e.what();
        } catch (const std::exception& e) {
            kind = 'e';
            message = e.what();
        } catch (...) {
            kind = 'u';
        }
        const std::size_t hwm_after = detail::proc_status_bytes("VmHWM");
        report = std::string(1, kind) + "\n" + std::to_string(hwm_after > rss_start ? hwm_after - rss_start : 0) +
                 "\n" + message;
        std::size_t written = 0;
        while (written < report.size()) {
            const ssize_t w = write(pipe_fds[1], report.data() + written, report.size() - written);
            if (w <= 0) break;
            written += static_cast<std::size_t>(w);
        }
        close(pipe_fds[1]);
        _exit(0);
    }
    close(pipe_fds[1]);
    std::string report;
    char buffer[4096];
    for (ssize_t r; (r = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) report.append(buffer, static_cast<std::size_t>(r));
    close(pipe_fds[0]);
    int status = 0;
    waitpid(child, &status, 0);

    limited_run run;
    run.exited = WIFEXITED(status) && WEXITSTATUS(status) == 0 && report.size() >= 2;
    if (!run.exited) return run;
    const char kind = report[0];
    const std::size_t second = report.find('\n', 2);
    run.peak_growth_bytes = static_cast<std::size_t>(std::stoull(report.substr(2, second - 2)));
    run.exception_message = second == std::string::npos ? "" : report.substr(second + 1);
    run.threw = kind != 'r';
    run.bad_alloc = kind == 'a';
    return run;
}

}  // namespace tests
