// Stochastic gradient descent with momentum, as PyTorch's torch.optim.SGD
// (the first step seeds the momentum buffer with the gradient itself).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
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

    template <class T>
    class state {
    public:
        explicit state(std::size_t parameter_count) : buffer_(parameter_count, T(0)) {}

        void step(const SGD& o, std::span<T> params, std::span<const T> grads) {
            if (params.size() != buffer_.size() || grads.size() != buffer_.size())
                XGAN_THROW(std::invalid_argument, "xgan::SGD: state sized for ", buffer_.size(), " parameters, got ",
                           params.size(), " parameters and ", grads.size(), " gradients");
            const T lr = static_cast<T>(o.lr), momentum = static_cast<T>(o.momentum);
            const T keep = static_cast<T>(1.0 - o.dampening);
            const bool first = steps_ == 0;
            ++steps_;
            for (std::size_t i = 0, n = buffer_.size(); i < n; ++i) {
                T d = grads[i];
                if (o.momentum != 0.0) {
                    buffer_[i] = first ? d : buffer_[i] * momentum + keep * d;
                    d = o.nesterov ? d + momentum * buffer_[i] : buffer_[i];
                }
                params[i] -= lr * d;
            }
        }

        std::uint64_t steps() const { return steps_; }
        void set_steps(std::uint64_t steps) { steps_ = steps; }

        // The per-parameter tensors, named as PyTorch's optimizer state_dict names them
        // (checkpoints save and restore them with steps()).
        std::array<std::pair<std::string_view, std::span<T>>, 1> named_tensors() { return {{{"momentum_buffer", buffer_}}}; }
        std::array<std::pair<std::string_view, std::span<const T>>, 1> named_tensors() const { return {{{"momentum_buffer", buffer_}}}; }
        std::span<T> momentum_buffer() { return buffer_; }

        friend bool operator==(const state&, const state&) = default;

    private:
        std::vector<T> buffer_;
        std::uint64_t steps_ = 0;
    };
};

}  // namespace xgan
