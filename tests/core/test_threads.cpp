// xgan::set_threads: large element-wise loops split over threads, with the same results.
#include <cstddef>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/core/random.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/optim/adam.hpp>

using namespace xgan;

namespace {
// Restores one thread however a test ends.
struct OneThreadAfterwards {
    ~OneThreadAfterwards() { set_threads(1); }
};
}  // namespace

TEST_CASE("set_threads takes at least one thread", "[threads]") {
    CHECK(threads() == 1);
    CHECK_THROWS_WITH(set_threads(0), "xgan::set_threads: the number of threads must be at least 1");
    CHECK(threads() == 1);
}

TEST_CASE("parallel_for covers every index once, in parts of whole cache lines", "[threads]") {
    const OneThreadAfterwards restore;
    const std::size_t n = GENERATE(std::size_t{10}, detail::parallel_min_elements,
                                   detail::parallel_min_elements * 3 + 17);
    const std::size_t count = GENERATE(std::size_t{1}, std::size_t{2}, std::size_t{3});
    set_threads(count);
    REQUIRE(threads() == count);

    // Written by the workers (each part its own indices); checked afterwards, on this
    // thread, since Catch2's assertions are not thread-safe.
    std::vector<std::uint8_t> visits(n, 0);
    std::vector<std::thread::id> owner(n);
    detail::parallel_for(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            ++visits[i];
            owner[i] = std::this_thread::get_id();
        }
    });
    std::size_t once = 0, changes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        once += visits[i] == 1;
        if (i > 0 && owner[i] != owner[i - 1]) {
            ++changes;
            CHECK(i % 64 == 0);
        }
    }
    CHECK(once == n);
    // Short loops stay on the calling thread; long ones use every thread.
    CHECK(changes == (n < detail::parallel_min_elements ? 0 : count - 1));
}

TEST_CASE("Adam gives the same parameters and moments on any number of threads", "[threads][optim]") {
    const OneThreadAfterwards restore;
    const std::size_t n = 3 * detail::parallel_min_elements + 5;
    Rng rng(12);
    std::vector<float> start(n), gradient(n);
    rng.fill_normal(std::span<float>(start));

    auto train = [&](std::size_t count) {
        set_threads(count);
        std::vector<float> p = start;
        Adam::state<float> state(n);
        Rng g(13);
        for (int step = 0; step < 3; ++step) {
            g.fill_normal(std::span<float>(gradient));
            state.step(Adam{.lr = 1e-2}, std::span<float>(p), std::span<const float>(gradient));
        }
        return std::make_pair(p, state);
    };
    const auto one = train(1);
    const auto three = train(3);
    CHECK(one.first != start);
    CHECK(one.first == three.first);
    CHECK(one.second == three.second);
}
