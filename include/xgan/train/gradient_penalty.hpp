// Penalties on a critic's input gradient, and the pass that gives their gradient with
// respect to the critic's parameters (a double backward through the critic):
// WGAN-GP's lambda (||grad_x D(x)|| - 1)^2 and R1's gamma/2 ||grad_x D(x)||^2.
// See docs/reference/train-gradient-penalty.md.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>

#include <xgan/config.hpp>
#include <xgan/core/conditional.hpp>
#include <xgan/core/second_order.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// WGAN-GP's penalty (Gulrajani et al. 2017): lambda * mean over samples of
// (||g_i|| - target)^2, g_i the input gradient of sample i. Where ||g_i|| = 0 its
// derivative is taken as 0, as PyTorch's norm does.
struct GradientNormPenalty {
    double lambda = 10;
    double target = 1;

    template <class T>
    T operator()(const matrix<T>& g, matrix<T>& dP_dg) const {
        const std::size_t batch = g.shape()[0], width = g.shape()[1];
        const T scale = T(lambda) / T(batch);
        T total = 0;
        for (std::size_t r = 0; r < batch; ++r) {
            const T* row = g.data() + r * width;
            T* out = dP_dg.data() + r * width;
            T squares = 0;
            for (std::size_t k = 0; k < width; ++k) squares += row[k] * row[k];
            const T norm = std::sqrt(squares), gap = norm - T(target);
            total += gap * gap;
            const T factor = norm > T(0) ? T(2) * scale * gap / norm : T(0);
            for (std::size_t k = 0; k < width; ++k) out[k] = factor * row[k];
        }
        return scale * total;
    }
};

// R1's penalty (Mescheder et al. 2018), on real data: gamma / 2 * mean over samples of ||g_i||^2.
struct R1Penalty {
    double gamma = 10;

    template <class T>
    T operator()(const matrix<T>& g, matrix<T>& dP_dg) const {
        const std::size_t batch = g.shape()[0];
        const T scale = T(gamma) / T(2 * batch);
        T total = 0;
        for (std::size_t k = 0; k < g.size(); ++k) {
            total += g.data()[k] * g.data()[k];
            dP_dg.data()[k] = T(2) * scale * g.data()[k];
        }
        return scale * total;
    }
};

// A penalty on the input gradient: P = penalty(g, dP_dg) returns P and writes dP/dg.
template <class P, class T>
concept input_gradient_penalty = requires(const P& penalty, const matrix<T>& g, matrix<T>& dP_dg) {
    { penalty(g, dP_dg) } -> std::convertible_to<T>;
};

// The penalty of `critic` on the batch x (its rows, or {batch, C, H, W} images) and its
// gradient with respect to the critic's parameters, added to `gradient` (or stored there
// with GradientMode::overwrite); returns the penalty. The input gradient of sample i is
// grad_x of the sum of its outputs (D(x_i) for a one-output critic). `workspace` is the
// critic's; the pass allocates nothing after its first call at a batch size. Every layer
// of the critic must have a second-order pass: a compile error names the first that has none.
template <class T, class... Specs, class E, input_gradient_penalty<T> Penalty>
T gradient_penalty(const BasicSequential<T, Specs...>& critic, typename BasicSequential<T, Specs...>::Workspace& workspace,
                   const xt::xexpression<E>& x, const Penalty& penalty, std::span<T> gradient,
                   GradientMode mode = GradientMode::accumulate) {
    return critic.input_gradient_penalty(workspace, x, penalty, gradient, mode);
}

// The same for a conditional critic (core/conditional.hpp), x's rows holding their
// condition: the penalty sees the gradient with respect to each row's sample only (its
// condition's values are zero in g), as conditional WGAN-GP implementations take it.
template <std::size_t Classes, class Net, class E, input_gradient_penalty<typename Net::value_type> Penalty>
typename Net::value_type gradient_penalty(const Conditional<Classes, Net>& critic, typename Net::Workspace& workspace,
                                          const xt::xexpression<E>& x, const Penalty& penalty,
                                          std::span<typename Net::value_type> gradient,
                                          GradientMode mode = GradientMode::accumulate) {
    using T = typename Net::value_type;
    using C = Conditional<Classes, Net>;
    const detail::sample_gradient_penalty<Penalty, T> on_samples{penalty, workspace.gradients[0], C::sample_size,
                                                                 Net::input_size};
    return critic.input_gradient_penalty(workspace, x, on_samples, gradient, mode);
}

}  // namespace xgan
