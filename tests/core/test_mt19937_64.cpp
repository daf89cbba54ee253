// xgan::mt19937_64 (core/mt19937_64.hpp) against std::mt19937_64: the same outputs, states
// and text, through every mix of operator(), generate() and discard(); and the Rng
// functions that draw through generate(), against scalar references on std::mt19937_64.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <iterator>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <xgan/core/mt19937_64.hpp>
#include <xgan/core/random.hpp>
#include <xgan/detail/normal_kernel.hpp>

using namespace xgan;

namespace {

constexpr std::uint64_t seeds[] = {0u, 5489u, ~std::uint64_t{0}, 1u, 42u, 0x123456789ABCDEF0ull, 1ull << 63};

template <class Engine>
std::string text_of(const Engine& engine) {
    std::ostringstream out;
    out << engine;
    return out.str();
}

// The next `count` outputs of both engines are equal.
bool same_outputs(xgan::mt19937_64& ours, std::mt19937_64& theirs, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
        if (ours() != theirs()) return false;
    return true;
}

}  // namespace

TEST_CASE("xgan::mt19937_64 has the interface of a standard engine", "[mt19937_64]") {
    STATIC_REQUIRE(std::uniform_random_bit_generator<xgan::mt19937_64>);
    STATIC_REQUIRE(xgan::mt19937_64::min() == std::mt19937_64::min());
    STATIC_REQUIRE(xgan::mt19937_64::max() == std::mt19937_64::max());
    STATIC_REQUIRE(xgan::mt19937_64::state_size == std::mt19937_64::state_size);
    STATIC_REQUIRE(xgan::mt19937_64::word_size == std::mt19937_64::word_size);
    STATIC_REQUIRE(xgan::mt19937_64::shift_size == std::mt19937_64::shift_size);
    STATIC_REQUIRE(xgan::mt19937_64::mask_bits == std::mt19937_64::mask_bits);
    STATIC_REQUIRE(xgan::mt19937_64::xor_mask == std::mt19937_64::xor_mask);
    STATIC_REQUIRE(xgan::mt19937_64::tempering_b == std::mt19937_64::tempering_b);
    STATIC_REQUIRE(xgan::mt19937_64::tempering_c == std::mt19937_64::tempering_c);
    STATIC_REQUIRE(xgan::mt19937_64::default_seed == std::mt19937_64::default_seed);
    STATIC_REQUIRE(std::same_as<Rng::engine_type, xgan::mt19937_64>);

    // The standard's check value: the 10000th output of a default-constructed engine.
    xgan::mt19937_64 engine;
    engine.discard(9999);
    CHECK(engine() == 9981545732273789042ull);
    CHECK(xgan::mt19937_64() == xgan::mt19937_64(5489u));
}

TEST_CASE("xgan::mt19937_64 gives std::mt19937_64's outputs, drawn one by one or in blocks of any size",
          "[mt19937_64]") {
    // Block sizes that start and end anywhere in the 312-word state, run by operator() and
    // by generate() in turn (each size comes up both ways as the two cycles interleave).
    constexpr std::size_t sizes[] = {1, 311, 312, 313, 1000, 0, 2, 624, 7, 155, 157, 1249, 3};
    for (const std::uint64_t seed : seeds) {
        CAPTURE(seed);
        xgan::mt19937_64 ours(seed);
        std::mt19937_64 theirs(seed);
        std::size_t drawn = 0, round = 0;
        std::vector<std::uint64_t> block, expected;
        while (drawn < 20000) {
            const std::size_t count = sizes[round % std::size(sizes)];
            CAPTURE(drawn, count, round);
            expected.resize(count);
            for (auto& value : expected) value = theirs();
            block.assign(count + 1, 0xDEADBEEFu);  // one spare word: generate writes no further
            if (round % 2 == 0) {
                ours.generate(block.data(), count);
            } else {
                for (std::size_t i = 0; i < count; ++i) block[i] = ours();
            }
            REQUIRE(std::vector<std::uint64_t>(block.begin(), block.begin() + count) == expected);
            REQUIRE(block[count] == 0xDEADBEEFu);
            drawn += count;
            ++round;
        }
        CHECK(same_outputs(ours, theirs, 1000));
    }
}

TEST_CASE("xgan::mt19937_64 seed() restarts the sequence", "[mt19937_64]") {
    xgan::mt19937_64 ours(3);
    std::mt19937_64 theirs(7);
    ours.discard(500);
    ours.seed(7);
    CHECK(ours == xgan::mt19937_64(7));
    CHECK(same_outputs(ours, theirs, 1000));
    ours.seed();
    theirs.seed();
    CHECK(same_outputs(ours, theirs, 1000));
}

TEST_CASE("xgan::mt19937_64 discard skips as std::mt19937_64's does", "[mt19937_64]") {
    constexpr unsigned long long skips[] = {0, 1, 2, 155, 156, 311, 312, 313, 624, 1000, 5000};
    constexpr std::size_t starts[] = {0, 1, 311, 312, 313, 700};
    for (const std::size_t start : starts) {
        for (const unsigned long long skip : skips) {
            CAPTURE(start, skip);
            xgan::mt19937_64 ours(99), by_calls(99);
            std::mt19937_64 theirs(99);
            ours.discard(start);
            theirs.discard(start);
            for (std::size_t i = 0; i < start; ++i) by_calls();
            ours.discard(skip);
            theirs.discard(skip);
            for (unsigned long long i = 0; i < skip; ++i) by_calls();
            CHECK(ours == by_calls);
#ifdef __GLIBCXX__
            CHECK(text_of(ours) == text_of(theirs));  // the same state, index included
#endif
            CHECK(same_outputs(ours, theirs, 700));
        }
    }
}

TEST_CASE("xgan::mt19937_64 engines are equal when their states are", "[mt19937_64]") {
    xgan::mt19937_64 a(5), b(5), c(6);
    CHECK(a == b);
    CHECK_FALSE(a == c);
    a();
    CHECK_FALSE(a == b);  // same words, different index
    b();
    CHECK(a == b);
    // One engine tempered the block into its own buffer, the other straight into the
    // caller's: the states are the same, and so are the engines.
    xgan::mt19937_64 blocks(8), calls(8);
    std::vector<std::uint64_t> out(624);
    blocks.generate(out.data(), 624);
    for (int i = 0; i < 624; ++i) calls();
    CHECK(blocks == calls);
    CHECK(blocks() == calls());
    CHECK(blocks == calls);
    // Equal state words but another index are not equal.
    xgan::mt19937_64 early(9), late(9);
    early.discard(10);
    late.discard(11);
    CHECK_FALSE(early == late);
    const xgan::mt19937_64 copy = late;
    CHECK(copy == late);
}

TEST_CASE("xgan::mt19937_64 text round-trips, and continues the same sequence", "[mt19937_64]") {
    for (const std::size_t drawn : {std::size_t{0}, std::size_t{1}, std::size_t{311}, std::size_t{312},
                                    std::size_t{313}, std::size_t{1000}}) {
        CAPTURE(drawn);
        xgan::mt19937_64 original(2024), restored(1);
        original.discard(drawn);
        std::stringstream text;
        text << original;
        text >> restored;
        CHECK_FALSE(text.fail());
        CHECK(restored == original);
        for (int i = 0; i < 1000; ++i) REQUIRE(restored() == original());
    }
}

#ifdef __GLIBCXX__
TEST_CASE("xgan::mt19937_64 reads and writes libstdc++'s std::mt19937_64 text byte for byte", "[mt19937_64]") {
    for (const std::uint64_t seed : seeds) {
        for (const std::size_t drawn : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{311},
                                        std::size_t{312}, std::size_t{313}, std::size_t{3001}}) {
            CAPTURE(seed, drawn);
            xgan::mt19937_64 ours(seed);
            std::mt19937_64 theirs(seed);
            for (std::size_t i = 0; i < drawn; ++i) ours(), theirs();
            const std::string text = text_of(theirs);
            REQUIRE(text_of(ours) == text);

            // std's text into ours, and ours into std: both continue the same sequence.
            xgan::mt19937_64 ours_from_std(77);
            std::mt19937_64 std_from_ours(77);
            std::istringstream(text) >> ours_from_std;
            std::istringstream(text_of(ours)) >> std_from_ours;
            CHECK(ours_from_std == ours);
            CHECK(std_from_ours == theirs);
            std::vector<std::uint64_t> block(500);
            ours_from_std.generate(block.data(), block.size());
            for (const std::uint64_t value : block) REQUIRE(value == std_from_ours());
        }
    }

    // The formatting is the engine's own: whatever the stream's flags, fill and width,
    // the text is std's, and the stream's flags and fill are restored.
    xgan::mt19937_64 ours(11);
    std::mt19937_64 theirs(11);
    ours.discard(20);
    theirs.discard(20);
    std::ostringstream a, b;
    for (std::ostringstream* out : {&a, &b}) {
        *out << std::hex << std::showbase << std::uppercase << std::internal << std::setfill('*') << std::setw(30);
    }
    a << ours << ' ' << 255;
    b << theirs << ' ' << 255;
    CHECK(a.str() == b.str());
    CHECK(a.str().substr(a.str().size() - 5) == " 0XFF");
    CHECK(a.fill() == '*');

    // Wide streams too.
    std::wostringstream wa, wb;
    wa << ours;
    wb << theirs;
    CHECK(wa.str() == wb.str());
    xgan::mt19937_64 wide(1);
    std::wistringstream(wa.str()) >> wide;
    CHECK(wide == ours);
}
#endif

TEST_CASE("xgan::mt19937_64 reading malformed text sets failbit and changes nothing", "[mt19937_64]") {
    xgan::mt19937_64 source(31337);
    source.discard(100);
    const std::string good = text_of(source);
    std::vector<std::string> words;
    {
        std::istringstream split(good);
        for (std::string w; split >> w;) words.push_back(w);
    }
    REQUIRE(words.size() == 313);
    REQUIRE(words.back() == "100");
    const auto join = [](const std::vector<std::string>& parts) {
        std::string out;
        for (const auto& p : parts) out += p + ' ';
        return out;
    };

    std::vector<std::pair<std::string, std::string>> bad;
    bad.emplace_back("empty", "");
    bad.emplace_back("only spaces", "   ");
    bad.emplace_back("truncated to 100 words", join(std::vector<std::string>(words.begin(), words.begin() + 100)));
    bad.emplace_back("no index", join(std::vector<std::string>(words.begin(), words.end() - 1)));
    auto garbage = words;
    garbage[150] = "abc";
    bad.emplace_back("a word that is not a number", join(garbage));
    auto too_big = words;
    too_big[7] = "18446744073709551616";  // 2^64
    bad.emplace_back("a word of 65 bits", join(too_big));
    auto index_313 = words;
    index_313.back() = "313";
    bad.emplace_back("index 313", join(index_313));
    auto huge_index = words;
    huge_index.back() = "18446744073709551615";
    bad.emplace_back("index 2^64 - 1", join(huge_index));

    for (const auto& [what, text] : bad) {
        CAPTURE(what);
        xgan::mt19937_64 engine(5);
        engine.discard(400);
        const xgan::mt19937_64 before = engine;
        std::istringstream in(text);
        in >> engine;
        CHECK(in.fail());
        CHECK(engine == before);
        xgan::mt19937_64 expected = before;
        for (int i = 0; i < 400; ++i) REQUIRE(engine() == expected());
    }

    // The well-formed text with index 312 (a fresh block) and with index 0 loads.
    for (const char* index : {"312", "0"}) {
        auto edited = words;
        edited.back() = index;
        xgan::mt19937_64 engine(5);
        std::istringstream in(join(edited));
        in >> engine;
        CHECK_FALSE(in.fail());
        CHECK(text_of(engine) == join(edited).substr(0, join(edited).size() - 1));
    }
    // The stream's flags are restored after reading.
    std::istringstream in(good);
    in >> std::hex >> std::noskipws;
    xgan::mt19937_64 engine;
    in >> engine;
    CHECK_FALSE(in.fail());
    CHECK(engine == source);
    CHECK((in.flags() & std::ios_base::basefield) == std::ios_base::hex);
    CHECK_FALSE(in.flags() & std::ios_base::skipws);
}

TEST_CASE("xgan::mt19937_64's twist and tempering are the same on every instruction set", "[mt19937_64]") {
    // The process uses one path (detail/kernels.hpp's choice); compare all of them here.
    std::mt19937_64 fill(123);
    for (int round = 0; round < 20; ++round) {
        std::uint64_t state[312], scalar[312], tempered_scalar[312], tempered[312];
        for (auto& w : state) w = fill();
        if (round == 0)
            for (auto& w : state) w = 0;  // degenerate, but well defined
        std::copy(std::begin(state), std::end(state), scalar);
        detail::mt::twist_scalar(scalar);
        detail::mt::temper_scalar(scalar, tempered_scalar, 312);
#if XGAN_MT_VECTOR
        {
            std::uint64_t x[312];
            std::copy(std::begin(state), std::end(state), x);
            detail::mt::twist_sse2(x);
            CHECK(std::equal(std::begin(x), std::end(x), std::begin(scalar)));
            detail::mt::temper_sse2(x, tempered, 312);
            CHECK(std::equal(std::begin(tempered), std::end(tempered), std::begin(tempered_scalar)));
        }
#endif
#if XGAN_KERNELS_X86
        if (__builtin_cpu_supports("avx2")) {
            std::uint64_t x[312];
            std::copy(std::begin(state), std::end(state), x);
            detail::mt::twist_avx2(x);
            CHECK(std::equal(std::begin(x), std::end(x), std::begin(scalar)));
            detail::mt::temper_avx2(x, tempered, 312);
            CHECK(std::equal(std::begin(tempered), std::end(tempered), std::begin(tempered_scalar)));
            // Odd counts leave a scalar tail.
            std::uint64_t partial[312] = {};
            detail::mt::temper_avx2(x + 5, partial, 303);
            CHECK(std::equal(partial, partial + 303, tempered_scalar + 5));
            CHECK(partial[303] == 0);
        }
#endif
    }
}

namespace {

template <class T>
bool same_bits(T x, T y) {
    return std::memcmp(&x, &y, sizeof(T)) == 0;
}

template <class T>
void check_bernoulli(T hit, T miss) {
    constexpr std::size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 511, 512, 513, 623, 624, 625, 1023, 1025, 5001};
    for (const std::uint64_t seed : {std::uint64_t{3}, std::uint64_t{0}, ~std::uint64_t{0}}) {
        std::vector<std::uint64_t> thresholds = {0,           1,          0x7FFFFFFFu,           0x80000000u,
                                                 1288490189u, 0xFFFFFFFFu, std::uint64_t{1} << 32, (1ull << 32) + 5};
        // Halves the fills below will compare, as thresholds and plus one: a value equal
        // to the threshold is a miss, one below it a hit.
        std::mt19937_64 peek(seed);
        peek.discard(seed % 300);
        for (int i = 0; i < 3; ++i) {
            const std::uint64_t draw = peek();
            for (const std::uint64_t half : {draw & 0xFFFFFFFFu, draw >> 32}) {
                thresholds.push_back(half);
                thresholds.push_back(half + 1);
            }
        }
        for (const std::size_t n : lengths) {
            for (const std::uint64_t threshold : thresholds) {
                for (const std::size_t offset : {std::size_t{0}, std::size_t{1}}) {  // unaligned output too
                    CAPTURE(seed, n, threshold, offset);
                    Rng rng(seed);
                    rng.engine().discard(seed % 300);  // start inside a block
                    std::mt19937_64 reference(seed);
                    reference.discard(seed % 300);
                    std::vector<T> out(n + offset + 1, T(7));
                    rng.fill_bernoulli(std::span<T>(out.data() + offset, n), threshold, hit, miss);

                    std::vector<T> expected(n);
                    for (std::size_t i = 0; i < n; i += 2) {
                        const std::uint64_t draw = reference();
                        expected[i] = (draw & 0xFFFFFFFFu) < threshold ? hit : miss;
                        if (i + 1 < n) expected[i + 1] = (draw >> 32) < threshold ? hit : miss;
                    }
                    bool same = true;
                    for (std::size_t i = 0; i < n; ++i) same = same && same_bits(out[offset + i], expected[i]);
                    CHECK(same);
                    CHECK((offset == 0 || same_bits(out[0], T(7))));
                    CHECK(same_bits(out[offset + n], T(7)));  // nothing written past the end
                    CHECK(rng.engine()() == reference());     // the same number of draws taken
                }
            }
        }
    }
}

}  // namespace

TEST_CASE("Rng::fill_bernoulli equals a scalar reference on std::mt19937_64", "[mt19937_64][random]") {
    check_bernoulli<float>(0.0f, 1.25f);    // Dropout's pattern: dropped 0, kept 1 / (1 - rate)
    check_bernoulli<float>(-0.0f, 3.0f);   // hit and miss copied bit for bit
    check_bernoulli<double>(2.5, -0.0);
    check_bernoulli<std::int32_t>(1, -1);  // the 4- and 8-byte paths are not just for floats
    check_bernoulli<std::uint64_t>(~std::uint64_t{0}, 1);
    check_bernoulli<std::uint8_t>(1, 0);   // other sizes: the scalar loop
}

TEST_CASE("Rng::fill_normal<float> equals a scalar reference on std::mt19937_64", "[mt19937_64][random]") {
    constexpr std::size_t lengths[] = {0, 1, 2, 3, 5, 127, 128, 129, 130, 623, 624, 625, 1001, 5000};
    for (const std::uint64_t seed : {std::uint64_t{2}, std::uint64_t{5489}, ~std::uint64_t{0}}) {
        for (const std::size_t n : lengths) {
            for (const auto& [mean, stddev] : {std::pair{0.0, 1.0}, std::pair{0.5, 2.0}, std::pair{-0.0, 1.0}}) {
                CAPTURE(seed, n, mean, stddev);
                Rng rng(seed);
                rng.engine().discard(seed % 200);
                std::mt19937_64 reference(seed);
                reference.discard(seed % 200);
                std::vector<float> out(n);
                rng.fill_normal(std::span<float>(out), mean, stddev);

                std::vector<float> expected(n);
                for (std::size_t i = 0; i < n; i += 2) {
                    const std::uint64_t draw = reference();
                    const std::uint64_t high = draw >> 32;
                    const float d = static_cast<float>(high) * 0x1.0p-32f;
                    const float u = static_cast<float>((std::uint64_t{1} << 32) - high) * 0x1.0p-32f;
                    const float a = static_cast<float>(draw & 0xFFFFFFFFu) * 0x1.0p-32f;
                    float x, y;
                    detail::normal::generic::box_muller_f(u, d, a, x, y);
                    expected[i] = static_cast<float>(mean + stddev * static_cast<double>(x));
                    if (i + 1 < n) expected[i + 1] = static_cast<float>(mean + stddev * static_cast<double>(y));
                }
                bool same = true;
                for (std::size_t i = 0; i < n; ++i) same = same && same_bits(out[i], expected[i]);
                CHECK(same);
                CHECK(rng.engine()() == reference());
            }
        }
    }
}

TEST_CASE("the float Box-Muller transform is the same on every instruction set", "[mt19937_64][random]") {
    // The process uses one path (detail/kernels.hpp's choice); compare all of them, lane by
    // lane, against the scalar transform on draws spelled out with static_cast. The
    // edges: h = 0 (u = 1, where 2^32 - h does not fit in 32 bits), h = 2^32 - 1 (the
    // smallest u), halves that need all 24 bits of a float and more (rounding), angles at
    // the quarter turns.
    std::vector<std::uint64_t> draws = {0,
                                        0xFFFFFFFFFFFFFFFFull,
                                        0x00000000FFFFFFFFull,
                                        0xFFFFFFFF00000000ull,
                                        0x0000000180000000ull,
                                        0x00FFFFFF40000000ull,
                                        0x01000001C0000000ull,
                                        0xFFFFFF7FFFFFFF7Full,
                                        0x8000000000000001ull};
    std::mt19937_64 fill(77);
    while (draws.size() < 4099) draws.push_back(fill());
    const std::size_t count = draws.size();
    std::vector<float> expected_x(count), expected_y(count);
    for (std::size_t p = 0; p < count; ++p) {
        const std::uint64_t high = draws[p] >> 32;
        const float d = static_cast<float>(high) * 0x1.0p-32f;
        const float u = static_cast<float>((std::uint64_t{1} << 32) - high) * 0x1.0p-32f;
        const float a = static_cast<float>(draws[p] & 0xFFFFFFFFu) * 0x1.0p-32f;
        detail::normal::generic::box_muller_f(u, d, a, expected_x[p], expected_y[p]);
    }
    auto matches = [&](const std::vector<float>& x, const std::vector<float>& y, std::size_t n) {
        for (std::size_t p = 0; p < n; ++p)
            if (!same_bits(x[p], expected_x[p]) || !same_bits(y[p], expected_y[p])) return false;
        return true;
    };
    // Every count up to 20 covers each length of the scalar tail after whole vectors.
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{4}, std::size_t{7},
                          std::size_t{8}, std::size_t{9}, std::size_t{15}, std::size_t{20}, count}) {
        CAPTURE(n);
        std::vector<float> x(count, 7.0f), y(count, 7.0f);
        detail::normal::generic::normals_from_draws(n, draws.data(), x.data(), y.data());
        CHECK(matches(x, y, n));
        CHECK((n == count || (x[n] == 7.0f && y[n] == 7.0f)));  // nothing written past n
#if XGAN_KERNELS_X86
        if (__builtin_cpu_supports("avx2")) {
            std::fill(x.begin(), x.end(), 7.0f);
            std::fill(y.begin(), y.end(), 7.0f);
            detail::normal::avx2::normals_from_draws(n, draws.data(), x.data(), y.data());
            CHECK(matches(x, y, n));
            CHECK((n == count || (x[n] == 7.0f && y[n] == 7.0f)));
        }
#endif
    }
}
