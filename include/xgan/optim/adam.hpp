// Adam (Kingma & Ba), computed exactly as PyTorch 1.13's torch.optim.Adam does
// (single-tensor path, float arithmetic per element, bias corrections in double).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include <xgan/config.hpp>

namespace xgan {

struct Adam {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;

    template <class T>
    class state {
    public:
        explicit state(std::size_t parameter_count) : m_(parameter_count, T(0)), v_(parameter_count, T(0)) {}

        void step(const Adam& o, std::span<T> params, std::span<const T> grads) {
            if (params.size() != m_.size() || grads.size() != m_.size())
                XGAN_THROW(std::invalid_argument, "xgan::Adam: state sized for ", m_.size(), " parameters, got ",
                           params.size(), " parameters and ", grads.size(), " gradients");
            ++steps_;
            const T beta1 = static_cast<T>(o.beta1), one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
            const T beta2 = static_cast<T>(o.beta2), one_minus_beta2 = static_cast<T>(1.0 - o.beta2);
            const double correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(steps_));
            const double correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(steps_));
            const T step_size = static_cast<T>(-(o.lr / correction1));
            const T correction2_sqrt = static_cast<T>(std::sqrt(correction2));
            const T eps = static_cast<T>(o.eps);
            T* p = params.data();
            const T* g = grads.data();
            T* m = m_.data();
            T* v = v_.data();
            for (std::size_t i = 0, n = m_.size(); i < n; ++i) {
                m[i] = m[i] * beta1 + g[i] * one_minus_beta1;
                v[i] = v[i] * beta2 + one_minus_beta2 * g[i] * g[i];
                const T denom = std::sqrt(v[i]) / correction2_sqrt + eps;
                p[i] = p[i] + step_size * m[i] / denom;
            }
        }

        std::uint64_t steps() const { return steps_; }
        std::span<T> first_moment() { return m_; }
        std::span<T> second_moment() { return v_; }

        friend bool operator==(const state&, const state&) = default;

    private:
        std::vector<T> m_, v_;
        std::uint64_t steps_ = 0;
    };
};

}  // namespace xgan
