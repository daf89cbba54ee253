// The second-order pass of a layer (double backward): what a penalty on a network's input
// gradient needs to reach the parameters (WGAN-GP, R1). See docs/design/layer-concept.md,
// "The second-order pass".
#pragma once

#include <span>

#include <xgan/core/layer.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// A layer with a second-order pass. With x its input, y = f(x), dy the output gradient of
// the first backward pass, dx = J(x)^T dy (backward_input) and e = dP/d(dx) for a scalar P:
//   backward_second_order(params, x, y, dy, e, e_out, x_adjoint, grad)   (+ cache, last, if stateful)
// writes e_out = dP/d(dy) = J(x) e, adds to x_adjoint the part of dP/dx that comes through
// J's dependence on x, and adds dP/dparams (through dx) to grad.
template <class L>
concept second_order_layer =
    Layer<L> &&
    ((!stateful_layer<L> &&
      requires(const L& layer, std::span<const typename L::value_type> params,
               const matrix<typename L::value_type>& in, matrix<typename L::value_type>& out,
               std::span<typename L::value_type> grad) {
          layer.backward_second_order(params, in, in, in, in, out, out, grad);
      }) ||
     (stateful_layer<L> &&
      requires(const L& layer, std::span<const typename L::value_type> params,
               const matrix<typename L::value_type>& in, matrix<typename L::value_type>& out,
               std::span<typename L::value_type> grad, const typename L::cache_type& cache) {
          layer.backward_second_order(params, in, in, in, in, out, out, grad, cache);
      }));

// Whether a layer's second-order pass can add to x_adjoint: false for layers that declare
// `static constexpr bool second_order_curvature = false` (those linear in x, or
// piecewise linear: Dense, convolutions, pooling, ReLU); true otherwise.
template <class L>
constexpr bool second_order_curvature_v = [] {
    if constexpr (requires { L::second_order_curvature; })
        return static_cast<bool>(L::second_order_curvature);
    else
        return true;
}();

namespace detail {

// Calls the layer's second-order pass with its cache when it has one.
template <class L, class C>
void layer_second_order(const L& layer, std::span<const typename L::value_type> params,
                        const matrix<typename L::value_type>& x, const matrix<typename L::value_type>& y,
                        const matrix<typename L::value_type>& dy, const matrix<typename L::value_type>& e,
                        matrix<typename L::value_type>& e_out, matrix<typename L::value_type>& x_adjoint,
                        std::span<typename L::value_type> grad, const C& cache) {
    if constexpr (stateful_layer<L>)
        layer.backward_second_order(params, x, y, dy, e, e_out, x_adjoint, grad, cache);
    else
        layer.backward_second_order(params, x, y, dy, e, e_out, x_adjoint, grad);
}

// The check a penalty on the input gradient makes of each layer: the compiler prints the
// position and the layer's type next to the message.
template <class Position, class L>
struct check_second_order_layer {
    static constexpr bool has_second_order_pass = second_order_layer<L>;
    static_assert(has_second_order_pass,
                  "xgan::Sequential::input_gradient_penalty: every layer of the critic needs a second-order pass "
                  "(backward_second_order), and the layer after layer_index has none; Dense, Conv2D, "
                  "ConvTranspose2D, pooling, Upsample2D, Flatten, Unflatten and activations whose Op has "
                  "second_derivative have one, BatchNorm and Dropout do not (use LayerNorm in a critic)");
};

}  // namespace detail

}  // namespace xgan
