// The Optimizer concept. An optimizer type holds its settings (Adam{.lr = 1e-4});
// its nested state<T> holds what it keeps per parameter and applies one update.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

namespace xgan {

template <class O, class T = float>
concept Optimizer = std::copy_constructible<O> && std::constructible_from<typename O::template state<T>, std::size_t> &&
    requires(const O& settings, typename O::template state<T>& state, std::span<T> params, std::span<const T> grads) {
        state.step(settings, params, grads);
    };

// An optimizer whose state can refuse an update: try_step applies it and returns true,
// or, when a parameter or a value of the state would not be finite, returns false with
// the parameters and the state unchanged (Adam, SGD). The trainer relies on it to leave
// a refused update unapplied without a copy of either (see docs/reference/optim.md).
template <class O, class T = float>
concept refusing_optimizer = Optimizer<O, T> &&
    requires(const O& settings, typename O::template state<T>& state, std::span<T> params, std::span<const T> grads) {
        { state.try_step(settings, params, grads) } -> std::same_as<bool>;
    };

}  // namespace xgan
