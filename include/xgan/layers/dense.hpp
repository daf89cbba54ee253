// Dense<In, Out>: y = x W^T + b, with W stored {Out, In} as in PyTorch's nn.Linear.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/detail/blas.hpp>
#include <xgan/detail/kernels.hpp>
#include <xgan/init/initializers.hpp>

namespace xgan {

template <std::size_t In, std::size_t Out, class T, class Init>
class DenseLayer;

namespace detail {
// Whether L is a DenseLayer whose products run on xgan's kernels.
template <class L>
struct small_dense_layer : std::false_type {};
template <std::size_t In, std::size_t Out, class T, class Init>
struct small_dense_layer<DenseLayer<In, Out, T, Init>>
    : std::bool_constant<kernels::small_dense_v<T, In, Out>> {};
}  // namespace detail

// The concrete layer that Dense<In, Out, Init> becomes in a network of scalar T.
template <std::size_t In, std::size_t Out, class T, class Init = init::TorchLinear>
class DenseLayer {
public:
    using value_type = T;
    using initializer = Init;
    static constexpr std::size_t input_size = In;
    static constexpr std::size_t output_size = Out;
    static constexpr std::size_t parameter_count = Out * In + Out;
    // Small layers (the painting GAN's) use xgan's own register-blocked kernels, sized
    // at compile time; large ones (MNIST's) BLAS. See detail/kernels.hpp.
    static constexpr bool small = detail::kernels::small_dense_v<T, In, Out>;
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        {"weight", 2, {Out, In}, 0},
        {"bias", 1, {Out}, Out * In},
    }};

    static std::string name() { return "Dense(" + std::to_string(In) + ", " + std::to_string(Out) + ")"; }

    void initialize(std::span<T> params, Rng& rng) const {
        Init::initialize(params.first(Out * In), params.subspan(Out * In, Out), In, Out, rng);
    }

    // y = x W^T + b
    void forward(std::span<const T> params, const matrix<T>& x, matrix<T>& y) const {
        const std::size_t batch = x.shape()[0];
        const T* bias = params.data() + Out * In;
        if constexpr (small) {
            if (detail::kernels::products_on_kernels()) {
                detail::kernels::dense_forward<In, Out, T>(batch, x.data(), params.data(), bias, y.data());
                return;
            }
        }
        forward_with_blas(params, x, y);
    }

    // forward, always through BLAS.
    void forward_with_blas(std::span<const T> params, const matrix<T>& x, matrix<T>& y) const {
        const std::size_t batch = x.shape()[0];
        const T* bias = params.data() + Out * In;
        T* out = y.data();
        for (std::size_t r = 0; r < batch; ++r)
            for (std::size_t j = 0; j < Out; ++j) out[r * Out + j] = bias[j];
        detail::gemm<T>(false, true, batch, Out, In, T(1), x.data(), In, params.data(), In, T(1), out, Out);
    }

    // Its inference code for xgan::export_header (io/export_header.hpp): y = x W^T + b, each
    // output's products summed in order from 0, then its bias added (as forward_with_blas).
    // The weight is written input by input (W^T) so that the inner loop runs over outputs.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> /*buffers*/) const {
        const std::string weight = out.constant_transposed("weight", params.first(Out * In), Out, In);
        const std::string bias = out.constant("bias", params.subspan(Out * In, Out));
        out.code(R"(for (std::size_t j = 0; j < $Out; ++j) y[j] = 0;
for (std::size_t k = 0; k < $In; ++k) {
    const scalar* w = $weight + k * $Out;
    const scalar v = x[k];
    for (std::size_t j = 0; j < $Out; ++j) y[j] += w[j] * v;
}
for (std::size_t j = 0; j < $Out; ++j) y[j] += $bias[j];)",
                 {{"In", In}, {"Out", Out}, {"weight", weight}, {"bias", bias}});
    }

    // dx = dy W
    void backward_input(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& /*y*/,
                        const matrix<T>& dy, matrix<T>& dx) const {
        const std::size_t batch = dy.shape()[0];
        if constexpr (small) {
            if (detail::kernels::products_on_kernels()) {
                detail::kernels::dense_backward_input<In, Out, T>(batch, dy.data(), params.data(), dx.data());
                return;
            }
        }
        backward_input_with_blas(params, dy, dx);
    }

    // backward_input, always through BLAS.
    void backward_input_with_blas(std::span<const T> params, const matrix<T>& dy, matrix<T>& dx) const {
        detail::gemm<T>(false, false, dy.shape()[0], In, Out, T(1), dy.data(), Out, params.data(), In, T(0),
                        dx.data(), In);
    }

    // dW += dy^T x, db += column sums of dy
    void accumulate_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& /*y*/,
                             const matrix<T>& dy, std::span<T> grad) const {
        parameter_gradient<false>(x, dy, grad);
    }

    // dW = dy^T x, db = column sums of dy: accumulate_gradient into a zeroed gradient
    // without zeroing it first (Sequential::backward calls it for GradientMode::overwrite).
    void assign_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& /*y*/,
                         const matrix<T>& dy, std::span<T> grad) const {
        parameter_gradient<true>(x, dy, grad);
    }

    // The second-order pass (docs/design/layer-concept.md): dx = dy W is linear in x, so
    // e_out = e W^T (forward without the bias), dW += dy^T e, and nothing for the bias
    // or x_adjoint.
    static constexpr bool second_order_curvature = false;
    void backward_second_order(std::span<const T> params, const matrix<T>& /*x*/, const matrix<T>& /*y*/,
                               const matrix<T>& dy, const matrix<T>& e, matrix<T>& e_out, matrix<T>& /*x_adjoint*/,
                               std::span<T> grad) const {
        const std::size_t batch = e.shape()[0];
        detail::gemm<T>(false, true, batch, Out, In, T(1), e.data(), In, params.data(), In, T(0), e_out.data(), Out);
        detail::gemm<T>(true, false, Out, In, batch, T(1), dy.data(), Out, e.data(), In, T(1), grad.data(), In);
    }

    // ---- Fused with a ReLU-like activation (the fusion plan of a network does this:
    // layers/dense_fusion.hpp, detail/plan.hpp; docs/performance.md, "Dense fused with
    // ReLU") ----

    // Whether this layer can run fused with an activation Op next to it: when its
    // products use xgan's kernels (compile time: small enough; run time:
    // detail::kernels::products_on_kernels()) and Op's gradient reads off its output
    // (detail::kernels::output_gated_v: ReLU, LeakyReLU with a slope >= 0). When the
    // kernels are off, a fused pair runs forward_with_blas / backward_input_with_blas
    // and the activation's own pass, so the unfused kernels of such a layer are never
    // compiled.
    template <class Op>
    static constexpr bool fuses_with = small && detail::kernels::output_gated_v<Op>;

    // a = Op(x W^T + b): forward, then Op's forward, in one pass that never stores
    // x W^T + b. Bit for bit the results of the two separate passes.
    template <class Op>
        requires fuses_with<Op>
    void forward_activated(std::span<const T> params, const matrix<T>& x, matrix<T>& a) const {
        detail::kernels::dense_forward_activated<In, Out, Op, T>(x.shape()[0], x.data(), params.data(),
                                                                  params.data() + Out * In, a.data());
    }

    // Whether this layer, an activation Op and the Dense layer Next after it can run as
    // one call (forward_activated_then): this pair fuses, its output is at least one
    // 16-byte vector wide, and Next is small too.
    template <class Op, class Next>
    static constexpr bool fuses_with_then =
        fuses_with<Op> && Out * sizeof(T) >= 16 && detail::small_dense_layer<Next>::value;

    // a = Op(x W^T + b) as forward_activated, then y = a W_next^T + b_next (Next's
    // forward), a chunk of rows at a time so that Next reads a from L1. Bit for bit
    // the separate passes.
    template <class Op, class Next>
        requires fuses_with_then<Op, Next>
    void forward_activated_then(std::span<const T> params, const matrix<T>& x, matrix<T>& a,
                                std::span<const T> next_params, matrix<T>& y) const {
        detail::kernels::dense_forward_activated_then_dense<In, Out, Next::output_size, Op, T>(
            x.shape()[0], x.data(), params.data(), params.data() + Out * In, a.data(), next_params.data(),
            next_params.data() + Next::output_size * Out, y.data());
    }

    // For an activation Op before this layer, with output a (this layer's input):
    // Op's gradient of dy W, i.e. backward_input, then Op's backward pass, in one pass
    // that never stores dy W and reads the gate off a. Bit for bit the separate passes.
    template <class Op>
        requires fuses_with<Op>
    void backward_input_gated(std::span<const T> params, const matrix<T>& a, const matrix<T>& dy,
                              matrix<T>& da) const {
        detail::kernels::dense_backward_input_gated<In, Out, Op, T>(dy.shape()[0], dy.data(), params.data(), a.data(),
                                                                     da.data());
    }

    // For Out = 1 (a discriminator's last layer): backward_input_gated and the parameter
    // gradient (stored when `assign`, else added) in one pass over a, which both read;
    // bit for bit the two separate calls.
    static constexpr bool fuses_gradient_pass = small && Out == 1;
    template <class Op>
        requires(fuses_with<Op> && fuses_gradient_pass)
    void backward_input_gated_with_gradient(std::span<const T> params, const matrix<T>& a, const matrix<T>& dy,
                                            matrix<T>& da, std::span<T> grad, bool assign) const {
        using detail::kernels::start;
        const auto pass = assign ? &detail::kernels::dense_backward_gated_one_output<In, Op, T, start::zero>
                                 : &detail::kernels::dense_backward_gated_one_output<In, Op, T, start::accumulate>;
        pass(dy.shape()[0], dy.data(), params.data(), a.data(), da.data(), grad.data(), grad.data() + In);
    }

    // The parameter gradient (stored when `assign`, else added), always through BLAS.
    void parameter_gradient_with_blas(const matrix<T>& x, const matrix<T>& dy, std::span<T> grad, bool assign) const {
        const std::size_t batch = dy.shape()[0];
        detail::gemm<T>(true, false, Out, In, batch, T(1), dy.data(), Out, x.data(), In, assign ? T(0) : T(1),
                        grad.data(), In);
        T* XGAN_RESTRICT bias = grad.data() + Out * In;
        const T* XGAN_RESTRICT d = dy.data();
        std::size_t r = 0;
        if (assign) {
            for (std::size_t j = 0; j < Out; ++j) bias[j] = d[j];
            r = 1;
        }
        for (; r < batch; ++r)
            for (std::size_t j = 0; j < Out; ++j) bias[j] += d[r * Out + j];
    }

private:
    template <bool Assign>
    void parameter_gradient(const matrix<T>& x, const matrix<T>& dy, std::span<T> grad) const {
        using detail::kernels::start;
        if constexpr (small) {
            if (detail::kernels::products_on_kernels()) {
                detail::kernels::dense_accumulate_gradient<In, Out, T, Assign ? start::zero : start::accumulate>(
                    dy.shape()[0], x.data(), dy.data(), grad.data(), grad.data() + Out * In);
                return;
            }
        }
        parameter_gradient_with_blas(x, dy, grad, Assign);
    }
};

// Dense<In, Out>: a fully connected layer, as written in a stack.
// Init chooses the initialiser (init::TorchLinear, init::XavierUniform, init::KaimingNormal).
template <std::size_t In, std::size_t Out, class Init = init::TorchLinear>
struct Dense {
    static_assert(In > 0 && Out > 0, "xgan::Dense<In, Out>: both sizes must be positive");
    static constexpr std::size_t input_size = In;
    static constexpr std::size_t output_size = Out;

    template <std::size_t /*PreviousWidth*/, class T>
    using bind = DenseLayer<In, Out, T, Init>;
};

}  // namespace xgan

#include <xgan/layers/dense_fusion.hpp>
