// SpectralNorm<Layer>: a Dense or Conv2D layer whose weight is divided by an estimate of
// its largest singular value (Miyato et al. 2018), computed as PyTorch 1.13's
// torch.nn.utils.spectral_norm(module) with its defaults (n_power_iterations 1, eps
// 1e-12, dim 0): the weight as a matrix {out, rest}, one power iteration per
// training-mode forward pass from the stored u, sigma = u^T W v, and W / sigma in the
// wrapped layer's passes. Inference uses the stored u and v without iterating.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/second_order.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/dense.hpp>

namespace xgan {

template <class L>
class SpectralNormLayer;

namespace detail {
// Layers whose weight SpectralNorm can normalise: a "weight" block at offset 0 whose
// first dimension is the output (PyTorch's dim 0), followed by the other parameters.
template <class L>
struct spectral_norm_supported : std::false_type {};
template <std::size_t In, std::size_t Out, class T, class Init>
struct spectral_norm_supported<DenseLayer<In, Out, T, Init>> : std::true_type {};
template <std::size_t InC, std::size_t OutC, std::size_t KH, std::size_t KW, std::size_t SH, std::size_t SW,
          std::size_t PH, std::size_t PW, std::size_t H, std::size_t W, class T>
struct spectral_norm_supported<Conv2DLayer<InC, OutC, KH, KW, SH, SW, PH, PW, H, W, T>> : std::true_type {};

// The rule SpectralNorm<S> adds to S's own, checked where the stack is formed (the
// compiler prints the position and the layer next to the message; catalogue entry 50).
template <class Position, class Layer>
struct check_spectral_norm_layer {
    static_assert(spectral_norm_supported<Layer>::value,
                  "xgan::SpectralNorm<Layer>: Layer must be a Dense or a Conv2D (a weight whose first dimension is "
                  "the output, normalised as PyTorch's spectral_norm with dim 0)");
};

// S's own input check, where it has one.
template <class S, class Position, class In>
struct own_input_check {};
template <class S, class Position, class In>
    requires requires { typename S::template check_input<Position, In>; }
struct own_input_check<S, Position, In> : S::template check_input<Position, In> {};

// SpectralNormLayer<L> after the same rule, for specifications with a size of their own
// (whose size rule stays the stack's: they take no check_input).
template <class L>
struct spectral_norm_of {
    static_assert(spectral_norm_supported<L>::value,
                  "xgan::SpectralNorm<Layer>: Layer must be a Dense or a Conv2D (a weight whose first dimension is "
                  "the output, normalised as PyTorch's spectral_norm with dim 0)");
    using type = SpectralNormLayer<L>;
};
}  // namespace detail

// The concrete layer: the wrapped layer L's passes with its weight replaced by W / sigma.
// Parameters as L's, the weight named "weight_orig" (PyTorch's state_dict order: "bias",
// then "weight_orig"); buffers "weight_u" {out} and "weight_v" {rest}. L is a DenseLayer or
// a Conv2DLayer (SpectralNorm's check_input says so where a stack is formed).
template <class L>
class SpectralNormLayer {

public:
    using value_type = typename L::value_type;
    using layer_type = L;
    using T = value_type;
    using input_shape = input_shape_t<L>;
    using output_shape = output_shape_t<L>;
    static constexpr std::size_t input_size = L::input_size;
    static constexpr std::size_t output_size = L::output_size;
    static constexpr std::size_t parameter_count = L::parameter_count;
    static constexpr parameter_block weight_block = L::parameter_blocks[0];
    static constexpr std::size_t rows = weight_block.shape[0];            // out
    static constexpr std::size_t columns = weight_block.size() / rows;    // in (x kh x kw)
    static constexpr std::size_t weight_count = rows * columns;
    static constexpr std::size_t buffer_count = rows + columns;
    static constexpr double eps = 1e-12;

private:
    static_assert(weight_block.name == std::string_view("weight") && weight_block.offset == 0 &&
                      L::parameter_blocks.size() == 2 && L::parameter_blocks[1].name == std::string_view("bias") &&
                      buffer_count_v<L> == 0,
                  "xgan::SpectralNormLayer<L>: L's parameters must be a weight at offset 0 and a bias, and L must "
                  "keep no buffers");

public:
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        L::parameter_blocks[1],  // "bias"
        {"weight_orig", weight_block.rank, weight_block.shape, 0},
    }};
    static constexpr std::array<parameter_block, 2> buffer_blocks{{
        {"weight_u", 1, {rows, 0, 0, 0}, 0},
        {"weight_v", 1, {columns, 0, 0, 0}, rows},
    }};

    static std::string name() { return "SpectralNorm(" + layer_name<L>() + ")"; }

    struct cache_type {
        cache_of_t<L> inner{};
        std::vector<T> weight = std::vector<T>(parameter_count);  // W / sigma, then L's other parameters
        std::vector<T> u = std::vector<T>(rows);                  // the u and v sigma was computed with
        std::vector<T> v = std::vector<T>(columns);
        double sigma = 1;
        bool iterated = false;  // training mode: u and v are new, for update_buffers
        mutable std::vector<T> gradient = std::vector<T>(parameter_count);  // L's gradient for W / sigma
        std::vector<double> wtu = std::vector<double>(columns), wv = std::vector<double>(rows);  // W^T u, W v
    };

    // L's own initialisation of the weight and bias.
    void initialize(std::span<T> params, Rng& rng) const { layer_.initialize(params, rng); }

    // u and v: unit vectors of standard normal draws, as spectral_norm draws them when it
    // wraps a module (here from a fixed seed: the buffers are drawn without the network's Rng).
    void initialize_buffers(std::span<T> buffers) const {
        Rng rng{0x5eC7'2A1ull};
        std::vector<double> draws(buffer_count);
        for (double& d : draws) d = rng.normal();
        normalize(std::span<const double>(draws).first(rows), buffers.first(rows));
        normalize(std::span<const double>(draws).subspan(rows), buffers.subspan(rows, columns));
    }

    // Training: v = normalize(W^T u), u = normalize(W v) from the stored u (the new ones
    // go to the cache; update_buffers stores them); inference: the stored u and v. Then
    // sigma = u^T W v and L's forward pass with W / sigma.
    void forward(std::span<const T> params, std::span<const T> buffers, const matrix<T>& x, matrix<T>& y,
                 cache_type& cache, const ForwardContext& context) const {
        const T* w = params.data();
        std::copy(buffers.begin(), buffers.begin() + rows, cache.u.begin());
        std::copy(buffers.begin() + rows, buffers.end(), cache.v.begin());
        cache.iterated = context.mode == Mode::training;
        if (cache.iterated) {
            std::vector<double>& wtu = cache.wtu;
            std::vector<double>& wv = cache.wv;
            std::fill(wtu.begin(), wtu.end(), 0.0);
            std::fill(wv.begin(), wv.end(), 0.0);
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < columns; ++j)
                    wtu[j] += static_cast<double>(w[i * columns + j]) * cache.u[i];
            normalize(std::span<const double>(wtu), std::span<T>(cache.v));
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < columns; ++j)
                    wv[i] += static_cast<double>(w[i * columns + j]) * cache.v[j];
            normalize(std::span<const double>(wv), std::span<T>(cache.u));
        }
        const double sigma = sigma_of(w, cache.u, cache.v);
        cache.sigma = sigma;
        for (std::size_t k = 0; k < weight_count; ++k) cache.weight[k] = static_cast<T>(w[k] / sigma);
        std::copy(params.begin() + weight_count, params.end(), cache.weight.begin() + weight_count);
        if constexpr (stateful_layer<L>)
            layer_.forward(std::span<const T>(cache.weight), std::span<const T>(), x, y, cache.inner, context);
        else
            layer_.forward(std::span<const T>(cache.weight), x, y);
    }

    // The u and v of the last training-mode forward pass become the stored ones.
    void update_buffers(std::span<T> buffers, const cache_type& cache) const {
        if (!cache.iterated) return;
        std::copy(cache.u.begin(), cache.u.end(), buffers.begin());
        std::copy(cache.v.begin(), cache.v.end(), buffers.begin() + rows);
    }

    // L's input gradient with W / sigma.
    void backward_input(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& y, const matrix<T>& dy,
                        matrix<T>& dx, const cache_type& cache) const {
        if constexpr (stateful_layer<L>)
            layer_.backward_input(std::span<const T>(cache.weight), x, y, dy, dx, cache.inner);
        else
            layer_.backward_input(std::span<const T>(cache.weight), x, y, dy, dx);
    }

    // With G = dL/d(W / sigma) (L's weight gradient), u and v held constant as PyTorch's
    // autograd holds them: dL/dW = (G - <G, W / sigma> u v^T) / sigma. The bias's
    // gradient is L's.
    void accumulate_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& y,
                             const matrix<T>& dy, std::span<T> grad, const cache_type& cache) const {
        std::vector<T>& g = cache.gradient;
        std::fill(g.begin(), g.end(), T(0));
        if constexpr (stateful_layer<L>)
            layer_.accumulate_gradient(std::span<const T>(cache.weight), x, y, dy, std::span<T>(g), cache.inner);
        else
            layer_.accumulate_gradient(std::span<const T>(cache.weight), x, y, dy, std::span<T>(g));
        add_through_sigma(g, grad, cache);
    }

    // The second-order pass (a gradient penalty's double backward; core/second_order.hpp):
    // L's with W / sigma, whose parameter part reaches W through sigma as in
    // accumulate_gradient. L is linear in x, so nothing is added to x_adjoint.
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& y,
                               const matrix<T>& dy, const matrix<T>& e, matrix<T>& e_out, matrix<T>& x_adjoint,
                               std::span<T> grad, const cache_type& cache) const
        requires second_order_layer<L>
    {
        std::vector<T>& g = cache.gradient;
        std::fill(g.begin(), g.end(), T(0));
        detail::layer_second_order(layer_, std::span<const T>(cache.weight), x, y, dy, e, e_out, x_adjoint,
                                   std::span<T>(g), cache.inner);
        add_through_sigma(g, grad, cache);
    }

    // "" unless u or v holds a value that is not finite. Checkpoints refuse such a state.
    std::string fault(std::span<const T>, std::span<const T> buffers) const {
        for (std::size_t k = 0; k < buffer_count; ++k)
            if (!std::isfinite(buffers[k])) {
                std::ostringstream text;
                text << (k < rows ? "weight_u[" : "weight_v[") << (k < rows ? k : k - rows) << "] is " << buffers[k];
                return text.str();
            }
        return {};
    }

    // The stored sigma of a forward pass (for tests and monitoring).
    static double sigma(const cache_type& cache) { return cache.sigma; }

    // Its inference code for xgan::export_header: L's, with W / sigma from the stored u
    // and v (the weight inference mode uses) written as L's weight.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> buffers) const
        requires requires(const L& layer, Writer& writer, std::span<const T> p) { layer.export_code(writer, p, p); }
    {
        std::vector<T> weight(params.begin(), params.end());
        const double sigma = sigma_of(params.data(), buffers.first(rows), buffers.subspan(rows, columns));
        for (std::size_t k = 0; k < weight_count; ++k) weight[k] = static_cast<T>(params[k] / sigma);
        layer_.export_code(out, std::span<const T>(weight), std::span<const T>());
    }

private:
    // sigma = u . (W v), in double from u and v as stored in T.
    static double sigma_of(const T* w, std::span<const T> u, std::span<const T> v) {
        double sigma = 0;
        for (std::size_t i = 0; i < rows; ++i) {
            double row = 0;
            for (std::size_t j = 0; j < columns; ++j) row += static_cast<double>(w[i * columns + j]) * v[j];
            sigma += row * u[i];
        }
        return sigma;
    }

    // grad += g taken back through W / sigma with u and v held:
    // (g_W - <g_W, W / sigma> u v^T) / sigma for the weight, g itself for the bias.
    static void add_through_sigma(std::span<const T> g, std::span<T> grad, const cache_type& cache) {
        double inner = 0;
        for (std::size_t k = 0; k < weight_count; ++k)
            inner += static_cast<double>(g[k]) * static_cast<double>(cache.weight[k]);
        const double sigma = cache.sigma;
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < columns; ++j) {
                const std::size_t k = i * columns + j;
                grad[k] += static_cast<T>((g[k] - inner * cache.u[i] * cache.v[j]) / sigma);
            }
        for (std::size_t k = weight_count; k < parameter_count; ++k) grad[k] += g[k];
    }

    // out = x / max(|x|, eps), PyTorch's F.normalize.
    template <class U>
    static void normalize(std::span<const U> x, std::span<T> out) {
        double squares = 0;
        for (const U value : x) squares += static_cast<double>(value) * static_cast<double>(value);
        const double norm = std::max(std::sqrt(squares), eps);
        for (std::size_t k = 0; k < x.size(); ++k) out[k] = static_cast<T>(static_cast<double>(x[k]) / norm);
    }

    [[no_unique_address]] L layer_{};
};

// SpectralNorm<Dense<In, Out>> or SpectralNorm<Conv2D<...>> (Conv2DRect too), as written
// in a stack: the specification's own rules, bound to SpectralNormLayer.
template <class S>
struct SpectralNorm;

template <class S>
    requires sized_spec<S>
struct SpectralNorm<S> : S {
    template <std::size_t Width, class T>
    using bind = typename detail::spectral_norm_of<typename S::template bind<Width, T>>::type;
};

template <class S>
    requires(!sized_spec<S> && shape_binding_spec<S>)
struct SpectralNorm<S> : S {
    template <Shape In, class T>
    using bind_to = SpectralNormLayer<typename S::template bind_to<In, T>>;
    template <class Position, class In>
    struct check_input : detail::own_input_check<S, Position, In>,
                         detail::check_spectral_norm_layer<Position, typename S::template bind_to<In, float>> {};
};

}  // namespace xgan
