// RMSprop, computed as PyTorch 1.13's torch.optim.RMSprop does (single-tensor path,
// float arithmetic per element in PyTorch's order of operations): weight decay,
// momentum and the centered variant included.
#pragma once

#include <algorithm>
#include <array>
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

namespace xgan {

struct RMSprop {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double weight_decay = 0.0;
    double momentum = 0.0;
    bool centered = false;

    // Throws std::invalid_argument naming the first setting outside its range: lr,
    // weight_decay and momentum finite and >= 0, alpha in [0, 1], eps finite and > 0
    // (PyTorch's rules, but for eps = 0, with which a parameter whose gradients have all
    // been 0 becomes 0 / 0, and for alpha > 1, which makes the average of squares negative).
    void validate() const {
        if (!(std::isfinite(lr) && lr >= 0))
            XGAN_THROW(std::invalid_argument, "xgan::RMSprop: lr is ", lr, "; it must be finite and >= 0");
        if (!(alpha >= 0 && alpha <= 1))
            XGAN_THROW(std::invalid_argument, "xgan::RMSprop: alpha is ", alpha, "; it must be in [0, 1]");
        if (!(std::isfinite(eps) && eps > 0))
            XGAN_THROW(std::invalid_argument, "xgan::RMSprop: eps is ", eps, "; it must be finite and > 0");
        if (!(std::isfinite(weight_decay) && weight_decay >= 0))
            XGAN_THROW(std::invalid_argument, "xgan::RMSprop: weight_decay is ", weight_decay,
                       "; it must be finite and >= 0");
        if (!(std::isfinite(momentum) && momentum >= 0))
            XGAN_THROW(std::invalid_argument, "xgan::RMSprop: momentum is ", momentum, "; it must be finite and >= 0");
    }

    template <class T>
    class state {
    public:
        explicit state(std::size_t parameter_count)
            : square_avg_{std::vector<T>(parameter_count, T(0)), std::vector<T>(parameter_count, T(0))},
              momentum_buffer_{std::vector<T>(parameter_count, T(0)), std::vector<T>(parameter_count, T(0))},
              grad_avg_{std::vector<T>(parameter_count, T(0)), std::vector<T>(parameter_count, T(0))},
              scratch_(parameter_count) {}

        // One update; throws std::runtime_error, changing nothing, where try_step refuses it.
        void step(const RMSprop& o, std::span<T> params, std::span<const T> grads) {
            if (!try_step(o, params, grads))
                XGAN_THROW(std::runtime_error, "xgan::RMSprop: ", refusal(grads),
                           "; this update was not applied (check the learning rate and the gradients)");
        }

        // One update, or none: when a gradient, a new parameter or a new value of the
        // state would not be finite, returns false with params and the state unchanged
        // (refusal() says why). Throws std::invalid_argument, changing nothing, on
        // settings outside their ranges (RMSprop::validate) or spans of another size.
        [[nodiscard]] bool try_step(const RMSprop& o, std::span<T> params, std::span<const T> grads) {
            o.validate();
            const std::size_t n = scratch_.size();
            if (params.size() != n || grads.size() != n)
                XGAN_THROW(std::invalid_argument, "xgan::RMSprop: state sized for ", n, " parameters, got ",
                           params.size(), " parameters and ", grads.size(), " gradients");
            // PyTorch's scalars, each rounded to T as its CPU kernels round them.
            const T alpha = static_cast<T>(o.alpha), one_minus_alpha = static_cast<T>(1.0 - o.alpha);
            const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
            const T momentum = static_cast<T>(o.momentum), minus_lr = static_cast<T>(-o.lr);
            const bool decay = o.weight_decay != 0, with_momentum = o.momentum > 0;
            const std::size_t next = 1 - live_;
            const std::vector<T>& sq = square_avg_[live_];
            const std::vector<T>& ga = grad_avg_[live_];
            const std::vector<T>& buf = momentum_buffer_[live_];
            std::vector<T>& sq_next = square_avg_[next];
            std::vector<T>& ga_next = grad_avg_[next];
            std::vector<T>& buf_next = momentum_buffer_[next];
            bool finite = true;
            // Per element, as _single_tensor_rmsprop:
            //   g = g + weight_decay p;  square_avg = square_avg alpha + ((1 - alpha) g) g
            //   centered: grad_avg = grad_avg alpha + (1 - alpha) g,
            //             avg = sqrt(square_avg + (-grad_avg) grad_avg) + eps
            //   else:     avg = sqrt(square_avg) + eps
            //   momentum: buf = buf momentum + g / avg,  p = p + (-lr) buf
            //   else:     p = p + ((-lr) g) / avg
            // The new state goes to the other buffers and the old parameters to scratch_
            // (kept only when every new value is finite, as Adam's). Buffers a setting
            // leaves unused keep their values.
            for (std::size_t i = 0; i < n; ++i) {
                T g = grads[i];
                finite &= std::isfinite(g);
                if (decay) g = g + weight_decay * params[i];
                const T s = sq[i] * alpha + one_minus_alpha * g * g;
                sq_next[i] = s;
                T avg;
                if (o.centered) {
                    const T a = ga[i] * alpha + one_minus_alpha * g;
                    ga_next[i] = a;
                    avg = std::sqrt(s + T(-1) * a * a) + eps;
                    finite &= std::isfinite(a);
                } else {
                    ga_next[i] = ga[i];
                    avg = std::sqrt(s) + eps;
                }
                scratch_[i] = params[i];
                if (with_momentum) {
                    const T b = buf[i] * momentum + g / avg;
                    buf_next[i] = b;
                    params[i] = params[i] + minus_lr * b;
                    finite &= std::isfinite(b);
                } else {
                    buf_next[i] = buf[i];
                    params[i] = params[i] + minus_lr * g / avg;
                }
                finite &= std::isfinite(s) && std::isfinite(params[i]);
            }
            if (!finite) {
                std::swap_ranges(params.begin(), params.end(), scratch_.begin());
                return false;
            }
            live_ = next;
            ++steps_;
            return true;
        }

        // Why the last try_step, given these same gradients, returned false: the first
        // non-finite gradient, or else the first parameter whose new value or new state
        // is not all finite, e.g. "at parameter 12 (gradient 3e+20) the update gives the
        // value 0.5, square_avg inf, momentum_buffer 0, grad_avg 0".
        XGAN_COLD std::string refusal(std::span<const T> grads) const {
            const std::size_t next = 1 - live_;
            for (std::size_t i = 0; i < grads.size(); ++i)
                if (!std::isfinite(grads[i])) return detail::message("the gradient of parameter ", i, " is ", grads[i]);
            for (std::size_t i = 0; i < scratch_.size(); ++i)
                if (!std::isfinite(scratch_[i]) || !std::isfinite(square_avg_[next][i]) ||
                    !std::isfinite(momentum_buffer_[next][i]) || !std::isfinite(grad_avg_[next][i]))
                    return detail::message("at parameter ", i, " (gradient ", i < grads.size() ? grads[i] : T(0),
                                           ") the update gives the value ", scratch_[i], ", square_avg ",
                                           square_avg_[next][i], ", momentum_buffer ", momentum_buffer_[next][i],
                                           ", grad_avg ", grad_avg_[next][i]);
            return "no value of the last update was non-finite";
        }

        // "" when every value could come from a run (finite buffers, an average of squares
        // >= 0); otherwise the first that could not, e.g. "square_avg[3] is -0.5 (an
        // average of squares cannot be negative)". Checkpoints refuse a state with a fault.
        std::string fault() const {
            const std::vector<T>& sq = square_avg_[live_];
            for (std::size_t i = 0; i < sq.size(); ++i) {
                if (!std::isfinite(sq[i])) return detail::message("square_avg[", i, "] is ", sq[i]);
                if (sq[i] < 0)
                    return detail::message("square_avg[", i, "] is ", sq[i],
                                           " (an average of squares cannot be negative)");
            }
            const std::vector<T>& buf = momentum_buffer_[live_];
            for (std::size_t i = 0; i < buf.size(); ++i)
                if (!std::isfinite(buf[i])) return detail::message("momentum_buffer[", i, "] is ", buf[i]);
            const std::vector<T>& ga = grad_avg_[live_];
            for (std::size_t i = 0; i < ga.size(); ++i)
                if (!std::isfinite(ga[i])) return detail::message("grad_avg[", i, "] is ", ga[i]);
            return {};
        }

        std::uint64_t steps() const { return steps_; }
        void set_steps(std::uint64_t steps) { steps_ = steps; }

        // The per-parameter tensors, named as PyTorch's optimizer state_dict names them
        // (checkpoints save and restore them with steps()). All three always: those the
        // settings leave unused (momentum_buffer without momentum, grad_avg unless
        // centered) stay 0, where PyTorch's state has no entry.
        std::array<std::pair<std::string_view, std::span<T>>, 3> named_tensors() {
            return {{{"square_avg", square_avg_[live_]},
                     {"momentum_buffer", momentum_buffer_[live_]},
                     {"grad_avg", grad_avg_[live_]}}};
        }
        std::array<std::pair<std::string_view, std::span<const T>>, 3> named_tensors() const {
            return {{{"square_avg", square_avg_[live_]},
                     {"momentum_buffer", momentum_buffer_[live_]},
                     {"grad_avg", grad_avg_[live_]}}};
        }
        std::span<T> square_avg() { return square_avg_[live_]; }
        std::span<T> momentum_buffer() { return momentum_buffer_[live_]; }
        std::span<T> grad_avg() { return grad_avg_[live_]; }

        // Same step count and buffers (those of a refused update do not count).
        friend bool operator==(const state& a, const state& b) {
            return a.steps_ == b.steps_ && a.square_avg_[a.live_] == b.square_avg_[b.live_] &&
                   a.momentum_buffer_[a.live_] == b.momentum_buffer_[b.live_] &&
                   a.grad_avg_[a.live_] == b.grad_avg_[b.live_];
        }

    private:
        // Two buffers each: [live_] holds the state; an update writes the others, which
        // become live when it is kept. scratch_: the parameters before an update; after
        // a refused one, the values it would have given them.
        std::array<std::vector<T>, 2> square_avg_, momentum_buffer_, grad_avg_;
        std::vector<T> scratch_;
        std::size_t live_ = 0;
        std::uint64_t steps_ = 0;
    };
};

// How checkpoints name it (xgan/io/architecture.hpp declares the template).
template <class O>
struct optimizer_name;
template <>
struct optimizer_name<RMSprop> {
    static std::string text() { return "RMSprop"; }
};

}  // namespace xgan
