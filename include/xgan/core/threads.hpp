// xgan::set_threads: how many threads xgan's own loops use: Adam's update of a large
// network, the activation and Dropout passes over large matrices, and the convolution
// layers, which share their groups of samples (and the weight gradient's chunks) among
// the threads (detail/conv_groups.hpp). BLAS products have their own threads, set by the
// BLAS library (OPENBLAS_NUM_THREADS): a convolution's products run inside xgan's
// threads, so a convolutional network is best run with the BLAS on one thread and
// set_threads(n); a fully connected one with the threads given to the BLAS
// (docs/reference/layers-conv.md, "Threads").
//
// The default is 1: nothing runs on another thread unless the program asks. The
// number changes no result: each loop is split into contiguous parts, and every
// element is computed by the same operations whichever thread runs it.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <xgan/config.hpp>

namespace xgan {

namespace detail {

// Worker threads that run the parts of one loop together with the calling thread.
// One process-wide instance; its workers sleep on a condition variable between loops.
class WorkerPool {
public:
    static WorkerPool& instance() {
        static WorkerPool pool;
        return pool;
    }

    WorkerPool() = default;
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    ~WorkerPool() { stop_workers(); }

    std::size_t threads() const { return threads_.load(std::memory_order_relaxed); }

    // Starts n - 1 workers (n >= 1), after the running loop, if any, has finished.
    void set_threads(std::size_t n) {
        std::lock_guard<std::mutex> calls(run_mutex_);
        stop_workers();
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = false;
        for (std::size_t i = 1; i < n; ++i) workers_.emplace_back([this, i, start = generation_] { work(i, start); });
        threads_.store(n, std::memory_order_relaxed);
    }

    // Calls part(i, parts) for every i in [0, parts), parts = threads(): part 0 on this
    // thread, the others on the workers; returns when all have returned. part must not
    // throw (an exception on a worker ends the program). Loops started from several
    // threads at once run one after the other.
    template <class Part>
    void run(Part& part) {
        std::lock_guard<std::mutex> calls(run_mutex_);
        const std::size_t parts = workers_.size() + 1;
        if (parts == 1) {
            part(std::size_t{0}, std::size_t{1});
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &call<Part>;
            context_ = &part;
            parts_ = parts;
            pending_ = parts - 1;
            ++generation_;
        }
        wake_.notify_all();
        call<Part>(&part, 0, parts);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
    }

private:
    template <class Part>
    static void call(void* part, std::size_t index, std::size_t parts) noexcept {
        (*static_cast<Part*>(part))(index, parts);
    }

    void work(std::size_t index, std::uint64_t seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            void (*job)(void*, std::size_t, std::size_t) noexcept = job_;
            void* context = context_;
            const std::size_t parts = parts_;
            lock.unlock();
            job(context, index, parts);
            lock.lock();
            if (--pending_ == 0) done_.notify_one();
        }
    }

    // Called with run_mutex_ held (or from the destructor).
    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
        threads_.store(1, std::memory_order_relaxed);
    }

    std::mutex run_mutex_;  // one loop (or resize) at a time
    std::mutex mutex_;      // guards everything below but workers_
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    std::atomic<std::size_t> threads_{1};
    void (*job_)(void*, std::size_t, std::size_t) noexcept = nullptr;
    void* context_ = nullptr;
    std::size_t parts_ = 1, pending_ = 0;
    std::uint64_t generation_ = 0;
    bool stopping_ = false;
};

// Loops shorter than this stay on the calling thread: waking a worker costs some
// microseconds, the time of about this many Adam updates.
inline constexpr std::size_t parallel_min_elements = std::size_t{1} << 16;

// Calls body(begin, end) on contiguous parts covering [0, n), on up to threads()
// threads; part boundaries are multiples of 64 elements (whole cache lines).
template <class Body>
void parallel_for(std::size_t n, Body&& body) {
    WorkerPool& pool = WorkerPool::instance();
    if (n < parallel_min_elements || pool.threads() == 1) {
        body(std::size_t{0}, n);
        return;
    }
    auto part = [&](std::size_t index, std::size_t parts) {
        const std::size_t blocks = (n + 63) / 64;
        const std::size_t begin = std::min(n, blocks * index / parts * 64);
        const std::size_t end = std::min(n, blocks * (index + 1) / parts * 64);
        if (begin < end) body(begin, end);
    };
    pool.run(part);
}

}  // namespace detail

// Sets how many threads xgan's own loops use (large element-wise loops, convolutions),
// counting the calling thread (1, the default: none other). Takes effect for the next
// loop; safe to call between training steps, not from inside one.
inline void set_threads(std::size_t n) {
    if (n == 0) XGAN_THROW(std::invalid_argument, "xgan::set_threads: the number of threads must be at least 1");
    detail::WorkerPool::instance().set_threads(n);
}

// The number set_threads set (1 by default).
inline std::size_t threads() { return detail::WorkerPool::instance().threads(); }

}  // namespace xgan
