// Stochastic gradient descent with momentum, as PyTorch's torch.optim.SGD
// (the first step seeds the momentum buffer with the gradient itself).
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

struct SGD {
    double lr = 1e-2;
    double momentum = 0.0;
    double dampening = 0.0;
    bool nesterov = false;

    // Throws std::invalid_argument naming the first setting outside its range: lr and
    // momentum finite and >= 0, dampening in [0, 1], and for nesterov a momentum > 0
    // with dampening 0 (PyTorch's rules, which leave dampening unbounded).
    void validate() const {
        if (!(std::isfinite(lr) && lr >= 0))
            XGAN_THROW(std::invalid_argument, "xgan::SGD: lr is ", lr, "; it must be finite and >= 0");
        if (!(std::isfinite(momentum) && momentum >= 0))
            XGAN_THROW(std::invalid_argument, "xgan::SGD: momentum is ", momentum, "; it must be finite and >= 0");
        if (!(dampening >= 0 && dampening <= 1))
            XGAN_THROW(std::invalid_argument, "xgan::SGD: dampening is ", dampening, "; it must be in [0, 1]");
        if (nesterov && (momentum == 0 || dampening != 0))
            XGAN_THROW(std::invalid_argument, "xgan::SGD: nesterov needs a momentum > 0 and dampening 0, got momentum ",
                       momentum, " and dampening ", dampening);
    }

    template <class T>
    class state {
    public:
        explicit state(std::size_t parameter_count)
            : buffer_{std::vector<T>(parameter_count, T(0)), std::vector<T>(parameter_count, T(0))},
              scratch_(parameter_count) {}

        // One update; throws std::runtime_error, changing nothing, where try_step refuses it.
        void step(const SGD& o, std::span<T> params, std::span<const T> grads) {
            if (!try_step(o, params, grads))
                XGAN_THROW(std::runtime_error, "xgan::SGD: ", refusal(grads),
                           "; this update was not applied (check the learning rate and the gradients)");
        }

        // One update, or none: when a gradient, a new parameter or a new momentum buffer
        // value would not be finite, returns false with params and the state unchanged
        // (refusal() says why). Throws std::invalid_argument, changing nothing, on
        // settings outside their ranges (SGD::validate) or spans of another size.
        [[nodiscard]] bool try_step(const SGD& o, std::span<T> params, std::span<const T> grads) {
            o.validate();
            if (params.size() != scratch_.size() || grads.size() != scratch_.size())
                XGAN_THROW(std::invalid_argument, "xgan::SGD: state sized for ", scratch_.size(), " parameters, got ",
                           params.size(), " parameters and ", grads.size(), " gradients");
            const T lr = static_cast<T>(o.lr), momentum = static_cast<T>(o.momentum);
            const T keep = static_cast<T>(1.0 - o.dampening);
            const bool first = steps_ == 0;
            // The new buffer goes to the other one, the old parameters to scratch_ as they
            // are overwritten; kept only when every new value is finite (as Adam's).
            const std::vector<T>& buffer = buffer_[live_];
            std::vector<T>& buffer_next = buffer_[1 - live_];
            bool finite = true;
            wrote_buffer_ = o.momentum != 0.0;
            for (std::size_t i = 0, n = scratch_.size(); i < n; ++i) {
                T d = grads[i];
                if (o.momentum != 0.0) {
                    buffer_next[i] = first ? d : buffer[i] * momentum + keep * d;
                    d = o.nesterov ? d + momentum * buffer_next[i] : buffer_next[i];
                    finite &= std::isfinite(buffer_next[i]);
                }
                scratch_[i] = params[i];
                params[i] -= lr * d;
                finite &= std::isfinite(params[i]) && std::isfinite(grads[i]);
            }
            if (!finite) {
                std::swap_ranges(params.begin(), params.end(), scratch_.begin());
                return false;
            }
            if (wrote_buffer_) live_ = 1 - live_;  // without momentum the buffer is not written
            ++steps_;
            return true;
        }

        // Why the last try_step, given these same gradients, returned false: the first
        // non-finite gradient, or else the first parameter whose new value, or new
        // momentum buffer value, is not finite.
        XGAN_COLD std::string refusal(std::span<const T> grads) const {
            for (std::size_t i = 0; i < grads.size(); ++i)
                if (!std::isfinite(grads[i])) return detail::message("the gradient of parameter ", i, " is ", grads[i]);
            const std::vector<T>& buffer_next = buffer_[1 - live_];
            for (std::size_t i = 0; i < scratch_.size(); ++i) {
                const T gradient = i < grads.size() ? grads[i] : T(0);
                if (wrote_buffer_ && (!std::isfinite(scratch_[i]) || !std::isfinite(buffer_next[i])))
                    return detail::message("at parameter ", i, " (gradient ", gradient, ") the update gives the value ",
                                           scratch_[i], ", momentum_buffer ", buffer_next[i]);
                if (!wrote_buffer_ && !std::isfinite(scratch_[i]))
                    return detail::message("at parameter ", i, " (gradient ", gradient, ") the update gives the value ",
                                           scratch_[i]);
            }
            return "no value of the last update was non-finite";
        }

        // "" when every value could come from a run (a finite momentum buffer); otherwise
        // the first that could not, e.g. "momentum_buffer[3] is nan". Checkpoints refuse
        // a state with a fault.
        std::string fault() const {
            const std::vector<T>& buffer = buffer_[live_];
            for (std::size_t i = 0; i < buffer.size(); ++i)
                if (!std::isfinite(buffer[i])) return detail::message("momentum_buffer[", i, "] is ", buffer[i]);
            return {};
        }

        std::uint64_t steps() const { return steps_; }
        void set_steps(std::uint64_t steps) { steps_ = steps; }

        // The per-parameter tensors, named as PyTorch's optimizer state_dict names them
        // (checkpoints save and restore them with steps()).
        std::array<std::pair<std::string_view, std::span<T>>, 1> named_tensors() {
            return {{{"momentum_buffer", buffer_[live_]}}};
        }
        std::array<std::pair<std::string_view, std::span<const T>>, 1> named_tensors() const {
            return {{{"momentum_buffer", buffer_[live_]}}};
        }
        std::span<T> momentum_buffer() { return buffer_[live_]; }

        // Same step count and momentum buffer (the buffer of a refused update does not count).
        friend bool operator==(const state& a, const state& b) {
            return a.steps_ == b.steps_ && a.buffer_[a.live_] == b.buffer_[b.live_];
        }

    private:
        // buffer_[live_] holds the momentum buffer; an update with momentum writes the
        // other, which becomes live when the update is kept. scratch_: the parameters
        // before an update; after a refused one, the values it would have given them.
        std::array<std::vector<T>, 2> buffer_;
        std::vector<T> scratch_;
        std::size_t live_ = 0;
        bool wrote_buffer_ = false;  // whether the last update wrote the other buffer (momentum != 0)
        std::uint64_t steps_ = 0;
    };
};

}  // namespace xgan
