// What a layer is: the Layer concept, parameter blocks, and how a layer
// specification written in a stack (Dense<5, 128>, ReLU) becomes a concrete layer.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include <xgan/core/random.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// One named tensor inside a layer's flat parameter vector, in PyTorch's layout:
// Dense's "weight" is {out, in} row-major at offset 0, its "bias" {out} after it.
struct parameter_block {
    std::string_view name;
    std::size_t rank;                 // 1 or 2
    std::array<std::size_t, 2> shape;  // shape[1] is unused when rank == 1
    std::size_t offset;               // into the layer's parameter span

    constexpr std::size_t size() const { return rank == 1 ? shape[0] : shape[0] * shape[1]; }
};

// A concrete layer: fixed widths, a scalar type, and the two passes.
//   forward(params, x, y)            y = f(x), x is {batch, input_size}, y is {batch, output_size}
//   backward_input(params, x, y, dy, dx)   dx = dL/dx given dy = dL/dy
// A layer with parameters (parameter_count > 0) also provides
//   accumulate_gradient(params, x, y, dy, grad)   grad += dL/dparams
//   initialize(params, rng)
//   parameter_blocks                 a constexpr array of parameter_block
// See docs/design/layer-concept.md.
template <class L>
concept Layer = std::default_initializable<L> && std::floating_point<typename L::value_type> &&
    requires {
        { L::input_size } -> std::convertible_to<std::size_t>;
        { L::output_size } -> std::convertible_to<std::size_t>;
        { L::parameter_count } -> std::convertible_to<std::size_t>;
    } &&
    requires(const L& layer, std::span<const typename L::value_type> params,
             const matrix<typename L::value_type>& x, const matrix<typename L::value_type>& y,
             const matrix<typename L::value_type>& dy, matrix<typename L::value_type>& out) {
        layer.forward(params, x, out);
        layer.backward_input(params, x, y, dy, out);
    } &&
    (L::parameter_count == 0 ||
     requires(const L& layer, std::span<const typename L::value_type> params,
              std::span<typename L::value_type> mutable_params, const matrix<typename L::value_type>& x,
              const matrix<typename L::value_type>& y, const matrix<typename L::value_type>& dy, Rng& rng) {
         layer.accumulate_gradient(params, x, y, dy, mutable_params);
         layer.initialize(mutable_params, rng);
         { L::parameter_blocks.size() } -> std::convertible_to<std::size_t>;
     });

// A layer specification that takes its width from the previous layer:
// ReLU, Sigmoid, ... provide `template <std::size_t Width, class T> using bind = ...`.
template <class S>
concept width_preserving_spec = requires { typename S::template bind<1, float>; } && !requires { S::input_size; };

// A specification that fixes its own input size (Dense<In, Out>).
template <class S>
concept sized_spec = requires {
    typename S::template bind<1, float>;
    { S::input_size } -> std::convertible_to<std::size_t>;
};

// Anything that may appear in a Sequential: a specification, or a concrete Layer.
template <class S>
concept layer_spec = sized_spec<S> || width_preserving_spec<S> || Layer<S>;

namespace detail {

template <class S, std::size_t Width, class T>
struct bind_layer {
    using type = S;  // already a concrete layer
};

template <class S, std::size_t Width, class T>
    requires requires { typename S::template bind<Width, T>; }
struct bind_layer<S, Width, T> {
    using type = typename S::template bind<Width, T>;
};

}  // namespace detail

// The concrete layer a specification becomes after a layer of output width `Width`.
template <class S, std::size_t Width, class T>
using bind_layer_t = typename detail::bind_layer<S, Width, T>::type;

// The input size a specification demands, or 0 when it takes the previous width.
template <class S>
constexpr std::size_t required_input_size_v = [] {
    if constexpr (sized_spec<S> || (Layer<S> && !width_preserving_spec<S>))
        return static_cast<std::size_t>(S::input_size);
    else
        return std::size_t{0};
}();

// The parameter blocks of a concrete layer (empty for layers without parameters).
template <class L>
constexpr auto parameter_blocks_of() {
    if constexpr (L::parameter_count == 0)
        return std::array<parameter_block, 0>{};
    else
        return L::parameter_blocks;
}

}  // namespace xgan
