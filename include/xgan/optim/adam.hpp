// Adam (Kingma & Ba), computed exactly as PyTorch 1.13's torch.optim.Adam does
// (single-tensor path, float arithmetic per element, bias corrections in double).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/threads.hpp>
#include <xgan/detail/kernels.hpp>

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
            const detail::kernels::adam_coefficients<T> c{beta1,
                                                          one_minus_beta1,
                                                          beta2,
                                                          one_minus_beta2,
                                                          static_cast<T>(-(o.lr / correction1)),
                                                          static_cast<T>(std::sqrt(correction2)),
                                                          static_cast<T>(o.eps)};
            // Per element (vectorised, AVX2 where available; see detail/kernels_impl.hpp):
            //   m = m beta1 + g (1 - beta1),  v = v beta2 + (1 - beta2) g g,
            //   p = p + step_size m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
            // Large networks split it over xgan::threads() threads (core/threads.hpp).
            T* const p = params.data();
            const T* const g = grads.data();
            detail::parallel_for(m_.size(), [&](std::size_t begin, std::size_t end) {
                detail::kernels::adam_update<T>(end - begin, p + begin, g + begin, m_.data() + begin, v_.data() + begin,
                                                c);
            });
        }

        std::uint64_t steps() const { return steps_; }
        void set_steps(std::uint64_t steps) { steps_ = steps; }

        // The per-parameter tensors, named as PyTorch's optimizer state_dict names them
        // (checkpoints save and restore them with steps()).
        std::array<std::pair<std::string_view, std::span<T>>, 2> named_tensors() { return {{{"exp_avg", m_}, {"exp_avg_sq", v_}}}; }
        std::array<std::pair<std::string_view, std::span<const T>>, 2> named_tensors() const { return {{{"exp_avg", m_}, {"exp_avg_sq", v_}}}; }
        std::span<T> first_moment() { return m_; }
        std::span<T> second_moment() { return v_; }

        friend bool operator==(const state&, const state&) = default;

    private:
        std::vector<T> m_, v_;
        std::uint64_t steps_ = 0;
    };
};

}  // namespace xgan
