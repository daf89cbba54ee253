// A conditional GAN's step allocates nothing after the first, as any GAN's
// (tests/train/test_no_allocation.cpp, whose counting operator new this repeats): the
// real labels' buffer and the one-hot rows are sized once.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/xgan.hpp>

namespace {

std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0}, deallocations{0};

void* allocate(std::size_t size) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}

void* allocate(std::size_t size, std::align_val_t alignment) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    // aligned_alloc takes a size that is a multiple of the alignment.
    const auto align = static_cast<std::size_t>(alignment);
    const std::size_t rounded = size == 0 ? align : (size + align - 1) / align * align;
    if (void* p = std::aligned_alloc(align, rounded)) return p;
    throw std::bad_alloc();
}

void deallocate(void* p) noexcept {
    if (p != nullptr && counting.load(std::memory_order_relaxed))
        deallocations.fetch_add(1, std::memory_order_relaxed);
    std::free(p);
}

// Hides a pointer from the optimiser, which may otherwise drop a new-expression whose
// result is deleted unused (C++14 allows it), and the control below would count nothing.
template <class P>
P* escape(P* p) {
    asm volatile("" : : "g"(p) : "memory");
    return p;
}

struct Counts {
    std::size_t allocations, deallocations;
};

// Runs f with the counters open and returns what it allocated and freed.
template <class F>
Counts count_allocations(F&& f) {
    allocations = 0;
    deallocations = 0;
    counting = true;
    f();
    counting = false;
    return {allocations.load(), deallocations.load()};
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t alignment) { return allocate(size, alignment); }
void* operator new[](std::size_t size, std::align_val_t alignment) { return allocate(size, alignment); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return allocate(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return allocate(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    try {
        return allocate(size, alignment);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    try {
        return allocate(size, alignment);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }

using namespace xgan;

namespace {

template <class G, class D>
Counts conditional_step_allocations() {
    AdversarialTrainer<G, D> trainer({.seed = 1, .discriminator_steps = 2});
    matrix<float> real({16, D::sample_size});
    std::vector<std::uint8_t> labels(16);
    Rng data(2);
    auto draw = [&] {
        for (std::size_t r = 0; r < 16; ++r) {
            labels[r] = static_cast<std::uint8_t>(data.below(G::classes));
            for (std::size_t k = 0; k < D::sample_size; ++k) real(r, k) = static_cast<float>(data.uniform(-1, 1));
        }
    };
    draw();
    trainer.step(real, labels);  // sizes the workspaces
    return count_allocations([&] {
        for (int s = 0; s < 3; ++s) {
            draw();
            trainer.step(real, labels);
        }
    });
}

}  // namespace

TEST_CASE("a conditional GAN's step allocates nothing after the first", "[allocation][trainer]") {
    constexpr std::size_t K = 4;
    using G = Conditional<K, Sequential<Dense<8 + K, 32>, ReLU, Dense<32, 15>>>;
    SECTION("one-hot concatenated, joint discriminator pass") {
        using D = Conditional<K, Sequential<Dense<15 + K, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>>;
        const Counts c = conditional_step_allocations<G, D>();
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("embedding, D with BatchNorm (two passes)") {
        using D = Conditional<K, Sequential<Input<15 + K>, Embedding<K, 6>, Dense<21, 32>, BatchNorm, LeakyReLU,
                                            Dense<32, 1>, Sigmoid>>;
        const Counts c = conditional_step_allocations<G, D>();
        CHECK(c.allocations == 0);
        CHECK(c.deallocations == 0);
    }
    SECTION("control: the first step is counted") {
        using D = Conditional<K, Sequential<Dense<15 + K, 32>, LeakyReLU, Dense<32, 1>, Sigmoid>>;
        AdversarialTrainer<G, D> trainer({.seed = 1});
        matrix<float> real({16, 15}, 0.5f);
        const std::vector<std::uint8_t> labels(16, 1);
        const Counts c = count_allocations([&] { trainer.step(real, labels); });
        CHECK(c.allocations > 0);
    }
}
