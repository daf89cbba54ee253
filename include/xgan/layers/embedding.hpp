// Embedding<Classes, Dim>: a learned vector per class, for conditional networks
// (core/conditional.hpp). Its input row is [x, onehot(y)]: x (any width, possibly none)
// passes through, the last Classes values are replaced by their product with the weight,
// which for a one-hot condition is row y of the weight, PyTorch's nn.Embedding lookup.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>

#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// The concrete layer of Embedding<Classes, Dim> after a vector of Pass + Classes values:
// y = [x_pass, c W] with W stored {Classes, Dim} row-major as nn.Embedding's "weight".
// Linear in its input, so any c (not only a one-hot) has a gradient: the checker's
// numerical gradient applies unchanged.
template <std::size_t Pass, std::size_t Classes, std::size_t Dim, class T>
class EmbeddingLayer {
public:
    using value_type = T;
    static constexpr std::size_t input_size = Pass + Classes;
    static constexpr std::size_t output_size = Pass + Dim;
    static constexpr std::size_t parameter_count = Classes * Dim;
    static constexpr std::array<parameter_block, 1> parameter_blocks{{{"weight", 2, {Classes, Dim}, 0}}};

    static std::string name() {
        return "Embedding(" + std::to_string(Classes) + ", " + std::to_string(Dim) + ", after " +
               std::to_string(Pass) + ")";
    }

    // N(0, 1), as nn.Embedding.
    void initialize(std::span<T> params, Rng& rng) const { rng.fill_normal(params); }

    // y = [x_pass, c W]
    void forward(std::span<const T> params, const matrix<T>& x, matrix<T>& y) const {
        const std::size_t batch = x.shape()[0];
        const T* in = x.data();
        T* out = y.data();
        for (std::size_t r = 0; r < batch; ++r) {
            std::copy_n(in + r * input_size, Pass, out + r * output_size);
            T* e = out + r * output_size + Pass;
            std::fill_n(e, Dim, T(0));
            const T* c = in + r * input_size + Pass;
            for (std::size_t k = 0; k < Classes; ++k) {
                if (c[k] == T(0)) continue;  // a one-hot row reads one row of W
                const T* w = params.data() + k * Dim;
                for (std::size_t j = 0; j < Dim; ++j) e[j] += c[k] * w[j];
            }
        }
    }

    // dx = [dy_pass, dy_e W^T]
    void backward_input(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& /*y*/,
                        const matrix<T>& dy, matrix<T>& dx) const {
        const std::size_t batch = dy.shape()[0];
        const T* d = dy.data();
        T* out = dx.data();
        for (std::size_t r = 0; r < batch; ++r) {
            std::copy_n(d + r * output_size, Pass, out + r * input_size);
            const T* de = d + r * output_size + Pass;
            for (std::size_t k = 0; k < Classes; ++k) {
                const T* w = params.data() + k * Dim;
                T sum = 0;
                for (std::size_t j = 0; j < Dim; ++j) sum += de[j] * w[j];
                out[r * input_size + Pass + k] = sum;
            }
        }
    }

    // dW += c^T dy_e: each row's gradient goes to the rows of W its condition selects.
    void accumulate_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& /*y*/,
                             const matrix<T>& dy, std::span<T> grad) const {
        const std::size_t batch = x.shape()[0];
        for (std::size_t r = 0; r < batch; ++r) {
            const T* c = x.data() + r * input_size + Pass;
            const T* de = dy.data() + r * output_size + Pass;
            for (std::size_t k = 0; k < Classes; ++k) {
                if (c[k] == T(0)) continue;
                T* g = grad.data() + k * Dim;
                for (std::size_t j = 0; j < Dim; ++j) g[j] += c[k] * de[j];
            }
        }
    }

    // The second-order pass (docs/design/layer-concept.md): the layer is linear in x, so
    // e_out is the same map applied to e, and dW += e_c^T dy_e.
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& y,
                               const matrix<T>& dy, const matrix<T>& e, matrix<T>& e_out, matrix<T>& /*x_adjoint*/,
                               std::span<T> grad) const {
        forward(params, e, e_out);
        accumulate_gradient(params, e, y, dy, grad);
    }
};

// Embedding<Classes, Dim>, as written in a stack: after a vector of Pass + Classes values
// whose last Classes are a one-hot condition (Conditional<Classes, ...>), it outputs
// Pass + Dim values, the condition replaced by its class's learned vector.
template <std::size_t Classes, std::size_t Dim>
struct Embedding {
    // (an input narrower than Classes binds to a layer of its width, so that check_input's
    // message is the only one)
    template <Shape In, class T>
    using bind_to = EmbeddingLayer<(In::size >= Classes ? In::size - Classes : 0), (In::size >= Classes ? Classes : In::size),
                                   std::max<std::size_t>(Dim, 1), T>;

    template <Shape In>
    static constexpr bool accepts = Classes > 0 && Dim > 0 && VectorShape<In> && In::size >= Classes;

    template <class Position, Shape In>
    struct check_input {
        static_assert(Classes > 0 && Dim > 0, "xgan::Embedding<Classes, Dim>: both sizes must be positive");
        static_assert(Classes == 0 || Dim == 0 || accepts<In>,
                      "xgan::Embedding<Classes, Dim>: the input must be a vector ending in the Classes values of a "
                      "one-hot condition (the previous layer's output shape is shown after the layer_index; put the "
                      "embedding first in a Conditional<Classes, ...> network, whose input is [x, onehot(y)])");
    };
};

}  // namespace xgan
