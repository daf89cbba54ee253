// Adam's and SGD's updates stay the operations, in the order, they were before updates
// were computed out of place (so that one with a non-finite value can be refused): the
// old update written out element by element, 300 steps, bit for bit. Adam's on both
// kernel sets: the 16-byte one (a multiply and an add) and, where the CPU has it, the
// AVX2 one (fused multiply-adds, spelled std::fma here). Built with -ffp-contract=off
// (tests/optim/CMakeLists.txt), so that the written-out formulas have exactly the fused
// operations they spell.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include <xgan/optim/adam.hpp>
#include <xgan/optim/sgd.hpp>

namespace {

namespace k = xgan::detail::kernels;

// Irregular gradients of both signs and many magnitudes, some exactly zero.
template <class T>
std::vector<T> gradients(std::size_t n, int step) {
    std::vector<T> g(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double x = std::sin(1.7 * static_cast<double>(i) + 0.3 * step);
        g[i] = i % 13 == 5 ? T(0) : static_cast<T>(x * std::pow(10.0, static_cast<double>(i % 7) - 3));
    }
    return g;
}

template <class T>
bool same_bits(std::span<const T> a, std::span<const T> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// The coefficients Adam::state computes for step t.
template <class T>
k::adam_coefficients<T> coefficients(const xgan::Adam& o, std::uint64_t t) {
    const double correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
    const double correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
    return {static_cast<T>(o.beta1),
            static_cast<T>(1.0 - o.beta1),
            static_cast<T>(o.beta2),
            static_cast<T>(1.0 - o.beta2),
            static_cast<T>(-(o.lr / correction1)),
            static_cast<T>(std::sqrt(correction2)),
            static_cast<T>(o.eps)};
}

// The update as it was, in place, per element.
template <class T>
void old_adam(bool fused, std::vector<T>& p, const std::vector<T>& g, std::vector<T>& m, std::vector<T>& v,
              const k::adam_coefficients<T>& c) {
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (fused) {
            m[i] = std::fma(g[i], c.one_minus_beta1, m[i] * c.beta1);
            v[i] = std::fma(c.one_minus_beta2 * g[i], g[i], v[i] * c.beta2);
        } else {
            m[i] = g[i] * c.one_minus_beta1 + m[i] * c.beta1;
            v[i] = c.one_minus_beta2 * g[i] * g[i] + v[i] * c.beta2;
        }
        p[i] = p[i] + c.step_size * m[i] / (std::sqrt(v[i]) / c.correction2_sqrt + c.eps);
    }
}

// One kernel set's out-of-place update against the old one, 300 steps.
template <class T, class Kernel>
void check_kernel(bool fused, Kernel kernel) {
    const std::size_t n = 1001;  // whole vectors and a scalar tail
    const xgan::Adam o{.lr = 2e-3, .beta1 = 0.8, .beta2 = 0.99};  // not powers of 2: each product rounds
    std::vector<T> p(n), m(n), v(n), p_before(n), m_next(n), v_next(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(std::cos(static_cast<double>(i)));
    std::vector<T> old_p = p, old_m = m, old_v = v;
    for (int t = 1; t <= 300; ++t) {
        const std::vector<T> g = gradients<T>(n, t);
        const auto c = coefficients<T>(o, static_cast<std::uint64_t>(t));
        REQUIRE(kernel(n, p.data(), g.data(), m.data(), v.data(), p_before.data(), m_next.data(), v_next.data(), c));
        REQUIRE(same_bits<T>(p_before, old_p));  // the parameters it overwrote, kept
        m.swap(m_next);
        v.swap(v_next);
        old_adam<T>(fused, old_p, g, old_m, old_v, c);
        REQUIRE(same_bits<T>(p, old_p));
        REQUIRE(same_bits<T>(m, old_m));
        REQUIRE(same_bits<T>(v, old_v));
    }
}

}  // namespace

TEMPLATE_TEST_CASE("Adam's out-of-place kernels compute the in-place update's bits", "[optim][kernels]", float,
                   double) {
    using T = TestType;
    check_kernel<T>(false, [](auto... a) { return k::generic::adam_update<T>(a...); });
#if XGAN_KERNELS_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        check_kernel<T>(true, [](auto... a) { return k::avx2::adam_update<T>(a...); });
    else
        WARN("no AVX2/FMA on this CPU: the 16-byte kernels only");
#endif
}

TEMPLATE_TEST_CASE("Adam::state takes 300 steps with the in-place update's bits", "[optim]", float, double) {
    using T = TestType;
    const std::size_t n = 1001;
    const xgan::Adam o{.lr = 1e-3};
    xgan::Adam::state<T> state(n);
    std::vector<T> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(std::cos(static_cast<double>(i)));
    std::vector<T> old_p = p, old_m(n, T(0)), old_v(n, T(0));
    const bool fused = k::avx2_active();  // the path Adam::state runs
    for (int t = 1; t <= 300; ++t) {
        const std::vector<T> g = gradients<T>(n, t);
        state.step(o, p, g);
        old_adam<T>(fused, old_p, g, old_m, old_v, coefficients<T>(o, static_cast<std::uint64_t>(t)));
        REQUIRE(same_bits<T>(p, old_p));
        REQUIRE(same_bits<T>(state.first_moment(), old_m));
        REQUIRE(same_bits<T>(state.second_moment(), old_v));
    }
    CHECK(state.steps() == 300);
}

TEMPLATE_TEST_CASE("SGD::state takes 300 steps with the in-place update's bits", "[optim]", float, double) {
    using T = TestType;
    const std::size_t n = 1001;
    for (const xgan::SGD o : {xgan::SGD{.lr = 1e-2}, xgan::SGD{.lr = 1e-2, .momentum = 0.9, .dampening = 0.1},
                              xgan::SGD{.lr = 1e-2, .momentum = 0.8, .nesterov = true}}) {
        xgan::SGD::state<T> state(n);
        std::vector<T> p(n);
        for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(std::cos(static_cast<double>(i)));
        std::vector<T> old_p = p, old_buffer(n, T(0));
        const T lr = static_cast<T>(o.lr), momentum = static_cast<T>(o.momentum);
        const T keep = static_cast<T>(1.0 - o.dampening);
        for (int t = 1; t <= 300; ++t) {
            const std::vector<T> g = gradients<T>(n, t);
            state.step(o, p, g);
            for (std::size_t i = 0; i < n; ++i) {  // the old loop
                T d = g[i];
                if (o.momentum != 0.0) {
                    old_buffer[i] = t == 1 ? d : old_buffer[i] * momentum + keep * d;
                    d = o.nesterov ? d + momentum * old_buffer[i] : old_buffer[i];
                }
                old_p[i] -= lr * d;
            }
            REQUIRE(same_bits<T>(p, old_p));
            REQUIRE(same_bits<T>(state.momentum_buffer(), old_buffer));
        }
    }
}
