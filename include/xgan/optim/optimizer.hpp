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

}  // namespace xgan
