// Adam (Kingma & Ba), computed exactly as PyTorch 1.13's torch.optim.Adam does
// (single-tensor path, float arithmetic per element, bias corrections in double).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
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

    // Throws std::invalid_argument naming the first setting outside its range: lr finite
    // and >= 0, beta1 and beta2 in [0, 1), eps finite and > 0 (PyTorch's rules, but for
    // eps = 0, with which a parameter whose gradients have all been 0 becomes 0 / 0).
    void validate() const {
        if (!(std::isfinite(lr) && lr >= 0))
            XGAN_THROW(std::invalid_argument, "xgan::Adam: lr is ", lr, "; it must be finite and >= 0");
        if (!(beta1 >= 0 && beta1 < 1))
            XGAN_THROW(std::invalid_argument, "xgan::Adam: beta1 is ", beta1, "; it must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1))
            XGAN_THROW(std::invalid_argument, "xgan::Adam: beta2 is ", beta2, "; it must be in [0, 1)");
        if (!(std::isfinite(eps) && eps > 0))
            XGAN_THROW(std::invalid_argument, "xgan::Adam: eps is ", eps, "; it must be finite and > 0");
    }

    template <class T>
    class state {
    public:
        explicit state(std::size_t parameter_count)
            : m_{std::vector<T>(parameter_count, T(0)), std::vector<T>(parameter_count, T(0))},
              v_{std::vector<T>(parameter_count, T(0)), std::vector<T>(parameter_count, T(0))},
              scratch_(parameter_count) {}

        // One update; throws std::runtime_error, changing nothing, where try_step refuses it.
        void step(const Adam& o, std::span<T> params, std::span<const T> grads) {
            if (!try_step(o, params, grads))
                XGAN_THROW(std::runtime_error, "xgan::Adam: ", refusal(grads),
                           "; this update was not applied (check the learning rate and the gradients)");
        }

        // One update, or none: when a gradient, a new parameter or a new moment would not
        // be finite, returns false with params and the state unchanged (refusal() says
        // why). Throws std::invalid_argument, changing nothing, on settings outside their
        // ranges (Adam::validate) or spans of another size.
        [[nodiscard]] bool try_step(const Adam& o, std::span<T> params, std::span<const T> grads) {
            o.validate();
            if (params.size() != scratch_.size() || grads.size() != scratch_.size())
                XGAN_THROW(std::invalid_argument, "xgan::Adam: state sized for ", scratch_.size(), " parameters, got ",
                           params.size(), " parameters and ", grads.size(), " gradients");
            const std::uint64_t t = steps_ + 1;
            const T beta1 = static_cast<T>(o.beta1), one_minus_beta1 = static_cast<T>(1.0 - o.beta1);
            const T beta2 = static_cast<T>(o.beta2), one_minus_beta2 = static_cast<T>(1.0 - o.beta2);
            const double correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
            const double correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
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
            // with the new moments in the other pair of buffers and the old parameters kept
            // in scratch_ as they are overwritten. Kept (every new value finite): the
            // buffers swap roles, nothing is copied. Refused: the parameters come back
            // from scratch_, which keeps the refused values for refusal(). Large networks
            // split it over xgan::threads() threads (core/threads.hpp).
            const std::size_t next = 1 - live_;
            T* const p = params.data();
            const T* const g = grads.data();
            std::atomic<bool> non_finite{false};
            detail::parallel_for(scratch_.size(), [&](std::size_t begin, std::size_t end) {
                if (!detail::kernels::adam_update<T>(end - begin, p + begin, g + begin, m_[live_].data() + begin,
                                                     v_[live_].data() + begin, scratch_.data() + begin,
                                                     m_[next].data() + begin, v_[next].data() + begin, c))
                    non_finite.store(true, std::memory_order_relaxed);
            });
            if (non_finite.load(std::memory_order_relaxed)) {
                std::swap_ranges(params.begin(), params.end(), scratch_.begin());
                return false;
            }
            live_ = next;
            steps_ = t;
            return true;
        }

        // Why the last try_step, given these same gradients, returned false: the first
        // non-finite gradient ("the gradient of parameter 3 is nan"), or else the first
        // parameter whose new value or new moments are not all finite, e.g. "at parameter
        // 12 (gradient 3e+20) the update gives the value 0.5, exp_avg 3e+19, exp_avg_sq inf".
        XGAN_COLD std::string refusal(std::span<const T> grads) const {
            const std::size_t next = 1 - live_;
            for (std::size_t i = 0; i < grads.size(); ++i)
                if (!std::isfinite(grads[i])) return detail::message("the gradient of parameter ", i, " is ", grads[i]);
            for (std::size_t i = 0; i < scratch_.size(); ++i)
                if (!std::isfinite(scratch_[i]) || !std::isfinite(m_[next][i]) || !std::isfinite(v_[next][i]))
                    return detail::message("at parameter ", i, " (gradient ", i < grads.size() ? grads[i] : T(0),
                                           ") the update gives the value ", scratch_[i], ", exp_avg ", m_[next][i],
                                           ", exp_avg_sq ", v_[next][i]);
            return "no value of the last update was non-finite";
        }

        // "" when every value could come from a run (finite moments, second moments >= 0);
        // otherwise the first that could not, e.g. "exp_avg_sq[12] is -0.5 (a second
        // moment cannot be negative)". Checkpoints refuse a state with a fault.
        std::string fault() const {
            const std::vector<T>& m = m_[live_];
            const std::vector<T>& v = v_[live_];
            for (std::size_t i = 0; i < m.size(); ++i)
                if (!std::isfinite(m[i])) return detail::message("exp_avg[", i, "] is ", m[i]);
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (!std::isfinite(v[i])) return detail::message("exp_avg_sq[", i, "] is ", v[i]);
                if (v[i] < 0)
                    return detail::message("exp_avg_sq[", i, "] is ", v[i], " (a second moment cannot be negative)");
            }
            return {};
        }

        std::uint64_t steps() const { return steps_; }
        void set_steps(std::uint64_t steps) { steps_ = steps; }

        // The per-parameter tensors, named as PyTorch's optimizer state_dict names them
        // (checkpoints save and restore them with steps()).
        std::array<std::pair<std::string_view, std::span<T>>, 2> named_tensors() {
            return {{{"exp_avg", m_[live_]}, {"exp_avg_sq", v_[live_]}}};
        }
        std::array<std::pair<std::string_view, std::span<const T>>, 2> named_tensors() const {
            return {{{"exp_avg", m_[live_]}, {"exp_avg_sq", v_[live_]}}};
        }
        std::span<T> first_moment() { return m_[live_]; }
        std::span<T> second_moment() { return v_[live_]; }

        // Same step count and moments (the buffers of a refused update do not count).
        friend bool operator==(const state& a, const state& b) {
            return a.steps_ == b.steps_ && a.m_[a.live_] == b.m_[b.live_] && a.v_[a.live_] == b.v_[b.live_];
        }

    private:
        // Two buffers per moment: m_[live_] and v_[live_] hold the state; an update
        // writes the others, which become live when it is kept. scratch_: the parameters
        // before an update; after a refused one, the values it would have given them.
        std::array<std::vector<T>, 2> m_, v_;
        std::vector<T> scratch_;
        std::size_t live_ = 0;
        std::uint64_t steps_ = 0;
    };
};

}  // namespace xgan
