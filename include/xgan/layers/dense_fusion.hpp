// The fusion rules of a Dense layer (detail/plan.hpp): a small DenseLayer runs as one
// step with an element-wise activation next to it whose gradient reads off its output
// (ReLU, LeakyReLU with a slope >= 0: detail::kernels::output_gated_v), and forward with
// the small Dense layer after that activation too. See docs/performance.md, "Dense
// fused with ReLU". Included by layers/dense.hpp.
#pragma once

#include <cstddef>
#include <span>

#include <xgan/core/tensor.hpp>
#include <xgan/detail/plan.hpp>
#include <xgan/layers/dense.hpp>

namespace xgan::detail {

// The element-wise Op of an activation layer A (A::op), void for other layers.
template <class A>
struct activation_op {
    using type = void;
};
template <class A>
    requires requires { typename A::op; }
struct activation_op<A> {
    using type = typename A::op;
};
template <class A>
using activation_op_t = typename activation_op<A>::type;

template <std::size_t In, std::size_t Out, class T, class Init>
struct fusion_rule<DenseLayer<In, Out, T, Init>> {
    using layer = DenseLayer<In, Out, T, Init>;

    // (Dense, activation): the activation is applied to the products in registers, and
    // the Dense output is not stored. Its gradient reads off its output, so no pass
    // needs that output.
    template <class Next>
    static constexpr bool forward_with_next = layer::template fuses_with<activation_op_t<Next>>;
    // (Dense, activation, Dense): the second product reads the activation a chunk of
    // rows at a time, from L1.
    template <class Next, class After>
    static constexpr bool forward_with_next_two = layer::template fuses_with_then<activation_op_t<Next>, After>;
    // (activation, Dense) backward: the activation's gradient is applied as the input
    // gradient is stored, reading the gate off the activation's output (this layer's input).
    template <class Prev>
    static constexpr bool backward_through_previous = layer::template fuses_with<activation_op_t<Prev>>;
    // For Dense<In, 1>: the parameter gradient in the same pass over that input.
    template <class Prev>
    static constexpr bool gradient_with_previous = backward_through_previous<Prev> && layer::fuses_gradient_pass;

    template <class Next>
    static void forward_pair(const layer& dense, std::span<const T> params, const matrix<T>& x, matrix<T>& out) {
        dense.template forward_activated<activation_op_t<Next>>(params, x, out);
    }
    template <class Next, class After>
    static void forward_triple(const layer& dense, std::span<const T> params, const matrix<T>& x, matrix<T>& mid,
                               std::span<const T> after_params, matrix<T>& out) {
        dense.template forward_activated_then<activation_op_t<Next>, After>(params, x, mid, after_params, out);
    }
    template <class Prev>
    static void backward_input_through(const layer& dense, std::span<const T> params, const matrix<T>& a,
                                       const matrix<T>& dy, matrix<T>& da) {
        dense.template backward_input_gated<activation_op_t<Prev>>(params, a, dy, da);
    }
    template <class Prev>
    static void backward_through_with_gradient(const layer& dense, std::span<const T> params, const matrix<T>& a,
                                               const matrix<T>& dy, matrix<T>& da, std::span<T> grad, bool assign) {
        dense.template backward_input_gated_with_gradient<activation_op_t<Prev>>(params, a, dy, da, grad, assign);
    }

    // With the products off the kernels, a layer planned into a step runs alone through
    // BLAS, so that its kernels are never compiled.
    static void forward_alone(const layer& dense, std::span<const T> params, const matrix<T>& x, matrix<T>& y) {
        dense.forward_with_blas(params, x, y);
    }
    static void backward_input_alone(const layer& dense, std::span<const T> params, const matrix<T>& dy,
                                     matrix<T>& dx) {
        dense.backward_input_with_blas(params, dy, dx);
    }
    static void parameter_gradient_alone(const layer& dense, const matrix<T>& x, const matrix<T>& dy,
                                         std::span<T> grad, bool assign) {
        dense.parameter_gradient_with_blas(x, dy, grad, assign);
    }
};

}  // namespace xgan::detail
