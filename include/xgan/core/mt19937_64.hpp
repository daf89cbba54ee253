// xgan::mt19937_64: the 64-bit Mersenne Twister of the C++ standard, with the same output
// sequence and the same text format as std::mt19937_64, but twisting and tempering a whole
// block of 312 words at a time on vector registers. It is Rng's engine.
//
// Why not std::mt19937_64: libstdc++'s engine twists one word at a time and tempers each
// output as it is drawn, which cost 3-7% of a training step (dropout masks and noise
// take hundreds of thousands of draws per step). This engine keeps the 312 state words
// of the standard's definition ([rand.eng.mers]) and, next to them, their 312 tempered
// outputs, computed together after each twist two lanes per SSE2 register (four per AVX2
// register when the CPU has it and xgan's kernels use it, see detail/cpu_dispatch.hpp); so
// operator() is a load, and generate() copies or writes whole blocks. Integer operations
// only: every path gives exactly the standard's sequence.
//
//   - Same sequence: xgan::mt19937_64(s) and std::mt19937_64(s) give the same outputs
//     for every seed s, through operator(), generate() and discard() mixed in any way.
//   - Same text: operator<< writes what libstdc++ writes for std::mt19937_64 (the 312
//     state words, then the index of the next word, separated by single spaces), and
//     operator>> reads it, so engine states (checkpoints) move between the two either way.
//     Unlike libstdc++, operator>> leaves the engine unchanged and sets failbit when the
//     text is malformed, truncated, or has an index above 312.
//   - Not provided: seeding from a seed sequence (std::seed_seq), which xgan does not use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <string>

#include <xgan/detail/cpu_dispatch.hpp>

#if defined(__GNUC__) || defined(__clang__)
#define XGAN_MT_VECTOR 1
#else
#define XGAN_MT_VECTOR 0
#endif

namespace xgan {

namespace detail::mt {

inline constexpr std::size_t n = 312;  // state words
inline constexpr std::size_t m = 156;  // shift size
inline constexpr std::uint64_t upper_mask = ~std::uint64_t{0} << 31;
inline constexpr std::uint64_t lower_mask = ~upper_mask;
inline constexpr std::uint64_t a = 0xB5026F5AA96619E9ull;
inline constexpr std::uint64_t d = 0x5555555555555555ull, b = 0x71D67FFFEDA60000ull, c = 0xFFF7EEE000000000ull;
inline constexpr std::size_t u = 29, s = 17, t = 37, l = 43;

// One word of the twist: the new x[k] from the old x[k] (its top bit), x[k + 1] (its
// low 63 bits) and `far` (x[k + m] or the new x[k + m - n]).
inline std::uint64_t twist_word(std::uint64_t current, std::uint64_t next, std::uint64_t far) {
    const std::uint64_t y = (current & upper_mask) | (next & lower_mask);
    return far ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & a);
}

inline std::uint64_t temper(std::uint64_t z) {
    z ^= (z >> u) & d;
    z ^= (z << s) & b;
    z ^= (z << t) & c;
    return z ^ (z >> l);
}

// The standard's twist, one word at a time (the reference the vector versions follow).
inline void twist_scalar(std::uint64_t* x) {
    for (std::size_t k = 0; k < n - m; ++k) x[k] = twist_word(x[k], x[k + 1], x[k + m]);
    for (std::size_t k = n - m; k < n - 1; ++k) x[k] = twist_word(x[k], x[k + 1], x[k + m - n]);
    x[n - 1] = twist_word(x[n - 1], x[0], x[m - 1]);
}

inline void temper_scalar(const std::uint64_t* in, std::uint64_t* out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) out[i] = temper(in[i]);
}

#if XGAN_MT_VECTOR
// The twist and the tempering on vectors of L words (V). Each word's new value depends on
// the old x[k + 1] and on x[k + m] (old, for k < n - m) or the new x[k + m - n] (for
// n - m <= k < n - 1), so a vector of L consecutive words is computed at once as long as
// it reads x[k + 1 .. k + L] before storing x[k .. k + L - 1]: the first n - m = 156
// words in whole vectors, the next 155 in whole vectors and a scalar tail, and x[n - 1]
// (which needs the new x[0]) last. Always inlined into twist_sse2 / twist_avx2, so they
// are compiled for their caller's instruction set.
template <class V, std::size_t L>
__attribute__((always_inline)) inline void twist_vector(std::uint64_t* x) {
    const V upper = V{} + upper_mask, lower = V{} + lower_mask, matrix = V{} + a, one = V{} + 1, zero = V{};
    V current, next, far;
    std::size_t k = 0;
    for (; k < n - m; k += L) {
        std::memcpy(&current, x + k, sizeof(V));
        std::memcpy(&next, x + k + 1, sizeof(V));
        std::memcpy(&far, x + k + m, sizeof(V));
        const V y = (current & upper) | (next & lower);
        const V result = far ^ (y >> 1) ^ ((zero - (y & one)) & matrix);
        std::memcpy(x + k, &result, sizeof(V));
    }
    for (; k + L <= n - 1; k += L) {
        std::memcpy(&current, x + k, sizeof(V));
        std::memcpy(&next, x + k + 1, sizeof(V));
        std::memcpy(&far, x + k + m - n, sizeof(V));
        const V y = (current & upper) | (next & lower);
        const V result = far ^ (y >> 1) ^ ((zero - (y & one)) & matrix);
        std::memcpy(x + k, &result, sizeof(V));
    }
    for (; k < n - 1; ++k) x[k] = twist_word(x[k], x[k + 1], x[k + m - n]);
    x[n - 1] = twist_word(x[n - 1], x[0], x[m - 1]);
}

template <class V, std::size_t L>
__attribute__((always_inline)) inline void temper_vector(const std::uint64_t* in, std::uint64_t* out,
                                                         std::size_t count) {
    const V dv = V{} + d, bv = V{} + b, cv = V{} + c;
    // The tail's length bounded by L - 1 in a form GCC sees (with `i + L <= count` as
    // the loop condition, -O3 warns that the tail might run 2^61 times).
    const std::size_t full = count - count % L;
    std::size_t i = 0;
    for (; i < full; i += L) {
        V z;
        std::memcpy(&z, in + i, sizeof(V));
        z ^= (z >> u) & dv;
        z ^= (z << s) & bv;
        z ^= (z << t) & cv;
        z ^= z >> l;
        std::memcpy(out + i, &z, sizeof(V));
    }
    for (; i < count; ++i) out[i] = temper(in[i]);
}

typedef std::uint64_t uint64x2 __attribute__((vector_size(16)));

inline void twist_sse2(std::uint64_t* x) { twist_vector<uint64x2, 2>(x); }
inline void temper_sse2(const std::uint64_t* in, std::uint64_t* out, std::size_t count) {
    temper_vector<uint64x2, 2>(in, out, count);
}
#endif

#if XGAN_KERNELS_X86
typedef std::uint64_t uint64x4 __attribute__((vector_size(32)));

__attribute__((target("avx2"))) inline void twist_avx2(std::uint64_t* x) { twist_vector<uint64x4, 4>(x); }
__attribute__((target("avx2"))) inline void temper_avx2(const std::uint64_t* in, std::uint64_t* out,
                                                        std::size_t count) {
    temper_vector<uint64x4, 4>(in, out, count);
}
#endif

// The best twist and tempering for this CPU (the choice of detail/cpu_dispatch.hpp).
inline void twist(std::uint64_t* x) {
#if XGAN_KERNELS_X86
    if (kernels::avx2_active()) return twist_avx2(x);
#endif
#if XGAN_MT_VECTOR
    twist_sse2(x);
#else
    twist_scalar(x);
#endif
}

inline void temper(const std::uint64_t* in, std::uint64_t* out, std::size_t count) {
#if XGAN_KERNELS_X86
    if (kernels::avx2_active()) return temper_avx2(in, out, count);
#endif
#if XGAN_MT_VECTOR
    temper_sse2(in, out, count);
#else
    temper_scalar(in, out, count);
#endif
}

}  // namespace detail::mt

class mt19937_64 {
public:
    using result_type = std::uint64_t;
    static constexpr std::size_t word_size = 64;
    static constexpr std::size_t state_size = detail::mt::n;
    static constexpr std::size_t shift_size = detail::mt::m;
    static constexpr std::size_t mask_bits = 31;
    static constexpr result_type xor_mask = detail::mt::a;
    static constexpr std::size_t tempering_u = detail::mt::u;
    static constexpr result_type tempering_d = detail::mt::d;
    static constexpr std::size_t tempering_s = detail::mt::s;
    static constexpr result_type tempering_b = detail::mt::b;
    static constexpr std::size_t tempering_t = detail::mt::t;
    static constexpr result_type tempering_c = detail::mt::c;
    static constexpr std::size_t tempering_l = detail::mt::l;
    static constexpr result_type initialization_multiplier = 6364136223846793005ull;
    static constexpr result_type default_seed = 5489u;

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }

    mt19937_64() : mt19937_64(default_seed) {}
    explicit mt19937_64(result_type value) { seed(value); }

    void seed(result_type value = default_seed) {
        state_[0] = value;
        for (std::size_t i = 1; i < state_size; ++i) {
            const std::uint64_t previous = state_[i - 1];
            state_[i] = (previous ^ (previous >> (word_size - 2))) * initialization_multiplier + i;
        }
        index_ = state_size;
    }

    result_type operator()() {
        if (index_ >= state_size) refill();
        return output_[index_++];
    }

    // The next `count` outputs, the same as `count` calls of operator().
    void generate(result_type* out, std::size_t count) {
        while (count > 0) {
            if (index_ >= state_size) {
                if (count >= state_size) {
                    // A whole block: tempered straight into `out` (output_ stays stale,
                    // which index_ == state_size says).
                    detail::mt::twist(state_);
                    detail::mt::temper(state_, out, state_size);
                    out += state_size;
                    count -= state_size;
                    continue;
                }
                refill();
            }
            const std::size_t available = state_size - index_;
            const std::size_t take = count < available ? count : available;
            std::memcpy(out, output_ + index_, take * sizeof(result_type));
            index_ += take;
            out += take;
            count -= take;
        }
    }

    // Skips `count` outputs, like `count` calls of operator() (and like libstdc++, which
    // gives the same state).
    void discard(unsigned long long count) {
        bool twisted = false;
        while (count > state_size - index_) {
            count -= state_size - index_;
            detail::mt::twist(state_);
            index_ = 0;
            twisted = true;
        }
        index_ += static_cast<std::size_t>(count);
        if (twisted && index_ < state_size) detail::mt::temper(state_ + index_, output_ + index_, state_size - index_);
    }

    // Equal when the states are: the same 312 words and the same index (as std's engine).
    friend bool operator==(const mt19937_64& x, const mt19937_64& y) {
        return x.index_ == y.index_ && std::memcmp(x.state_, y.state_, sizeof x.state_) == 0;
    }

    // "" for a state a seeded engine can be in, else what is wrong with it. The twist reads
    // the top 33 bits of state word 0 and all 311 others (the standard's 19937 bits of
    // state); when they are all zero, so is every output after this block, and no seed
    // leads there (the sequence of any other state has period 2^19937 - 1). operator>>
    // accepts such a state, as the standard's engine does; checkpoints refuse it.
    std::string fault() const {
        if (index_ > state_size)
            return "position " + std::to_string(index_) + " is past the " + std::to_string(state_size) + " state words";
        if ((state_[0] & detail::mt::upper_mask) != 0) return {};
        for (std::size_t i = 1; i < state_size; ++i)
            if (state_[i] != 0) return {};
        return "its 19937 bits of state (the top 33 bits of word 0 and words 1 to 311) are all zero, so it "
               "would draw nothing but zeros";
    }

    // libstdc++'s format: the state words and the index, each followed by a space but the
    // last, in decimal, left-adjusted with space fill (so a width set on the stream pads
    // the first word, as with std::mt19937_64). The stream's flags and fill are restored.
    template <class CharT, class Traits>
    friend std::basic_ostream<CharT, Traits>& operator<<(std::basic_ostream<CharT, Traits>& os, const mt19937_64& x) {
        using ios_base = typename std::basic_ostream<CharT, Traits>::ios_base;
        const typename ios_base::fmtflags flags = os.flags();
        const CharT fill = os.fill();
        const CharT space = os.widen(' ');
        os.flags(ios_base::dec | ios_base::fixed | ios_base::left);
        os.fill(space);
        for (std::size_t i = 0; i < state_size; ++i) os << x.state_[i] << space;
        os << x.index_;
        os.flags(flags);
        os.fill(fill);
        return os;
    }

    // Reads what operator<< (or libstdc++'s std::mt19937_64) writes. On failure (a missing
    // or malformed number, or an index above state_size) sets failbit and leaves `x`
    // unchanged. The stream's flags are restored.
    template <class CharT, class Traits>
    friend std::basic_istream<CharT, Traits>& operator>>(std::basic_istream<CharT, Traits>& is, mt19937_64& x) {
        using ios_base = typename std::basic_istream<CharT, Traits>::ios_base;
        const typename ios_base::fmtflags flags = is.flags();
        is.flags(ios_base::dec | ios_base::skipws);
        std::uint64_t words[state_size];
        for (std::size_t i = 0; i < state_size; ++i) is >> words[i];
        std::size_t index = 0;
        is >> index;
        is.flags(flags);
        if (is.fail()) return is;
        if (index > state_size) {
            is.setstate(ios_base::failbit);
            return is;
        }
        std::memcpy(x.state_, words, sizeof words);
        x.index_ = index;
        if (index < state_size) detail::mt::temper(x.state_ + index, x.output_ + index, state_size - index);
        return is;
    }

private:
    // Twists the state into its next block and tempers all of it.
    void refill() {
        detail::mt::twist(state_);
        detail::mt::temper(state_, output_, state_size);
        index_ = 0;
    }

    // The standard's state: x_i, ..., x_{i+n-1}, and the index of the next output.
    alignas(32) std::uint64_t state_[state_size];
    // Invariant: output_[j] is the tempered state_[j] for every j >= index_ (nothing
    // when index_ == state_size: the next draw twists first).
    alignas(32) std::uint64_t output_[state_size] = {};
    std::size_t index_ = state_size;
};

}  // namespace xgan
