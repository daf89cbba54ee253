// LayerNorm: normalises each sample over all its values (the features of a vector, or
// C x H x W of an image), then scales and shifts every value by its own weight and bias:
// PyTorch's nn.LayerNorm(normalized_shape) with elementwise_affine, normalized_shape the
// previous layer's output shape. No statistic crosses samples, so it behaves the same in
// training and inference and keeps no buffers. It also provides the second-order pass
// (backward_second_order) that a gradient penalty on a critic needs.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <ratio>
#include <span>
#include <string>
#include <vector>

#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// The concrete layer LayerNorm becomes after a layer whose output shape is In: N =
// In::size values per sample, weight and bias of shape In ({N} after a vector, {C, H, W}
// after an image, as PyTorch's state_dict has them).
template <class Epsilon, Shape In, class T>
class LayerNormLayer {
public:
    using value_type = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = In::size;
    static constexpr std::size_t parameter_count = 2 * In::size;
    static constexpr double epsilon = static_cast<double>(Epsilon::num) / static_cast<double>(Epsilon::den);
    static_assert(Epsilon::num > 0, "xgan::LayerNormWith<Epsilon>: epsilon must be > 0");

private:
    static constexpr std::array<std::size_t, 4> dims = [] {
        std::array<std::size_t, 4> d{};
        for (std::size_t i = 0; i < In::rank; ++i) d[i] = In::dims[i];
        return d;
    }();
    static constexpr std::size_t N = In::size;

public:
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        {"weight", In::rank, dims, 0},
        {"bias", In::rank, dims, N},
    }};

    // "LayerNorm(64, eps 1/100000)", "LayerNorm(8x4x4, eps 1/100000)"
    static std::string name() {
        std::string text = "LayerNorm(";
        for (std::size_t i = 0; i < In::rank; ++i) text += (i ? "x" : "") + std::to_string(In::dims[i]);
        return text + ", eps " + std::to_string(Epsilon::num) + "/" + std::to_string(Epsilon::den) + ")";
    }

    // PyTorch's initialisation: weight 1, bias 0.
    void initialize(std::span<T> params, Rng&) const {
        std::fill(params.begin(), params.begin() + N, T(1));
        std::fill(params.begin() + N, params.end(), T(0));
    }

    // y = (x - mean) / sqrt(var + eps) * weight + bias, row by row; mean and the biased
    // variance of the row's N values, accumulated in double.
    void forward(std::span<const T> params, const matrix<T>& x, matrix<T>& y) const {
        const T* gamma = params.data();
        const T* beta = params.data() + N;
        for (std::size_t r = 0, batch = x.shape()[0]; r < batch; ++r) {
            const T* in = x.data() + r * N;
            T* out = y.data() + r * N;
            const row_statistics s = statistics(in);
            for (std::size_t i = 0; i < N; ++i)
                out[i] = static_cast<T>((static_cast<double>(in[i]) - s.mean) * s.inv_std * gamma[i] + beta[i]);
        }
    }

    // Its inference code for xgan::export_header: forward's arithmetic (statistics in
    // double), one sample.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> /*buffers*/) const {
        const std::string gamma = out.constant("weight", params.first(N));
        const std::string beta = out.constant("bias", params.subspan(N, N));
        out.code(R"(double sum = 0;
for (std::size_t i = 0; i < $N; ++i) sum += static_cast<double>(x[i]);
const double mean = sum / static_cast<double>($N);
double squares = 0;
for (std::size_t i = 0; i < $N; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    squares += d * d;
}
const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>($N) + static_cast<double>($num) / static_cast<double>($den));
for (std::size_t i = 0; i < $N; ++i)
    y[i] = static_cast<scalar>((static_cast<double>(x[i]) - mean) * inv_std * $gamma[i] + $beta[i]);)",
                 {{"N", N},
                  {"num", static_cast<std::size_t>(Epsilon::num)},
                  {"den", static_cast<std::size_t>(Epsilon::den)},
                  {"gamma", gamma},
                  {"beta", beta}});
    }

    // Per row, with g = dy * weight, xhat the normalised input and means over the row:
    // dx = inv_std (g - mean(g) - xhat mean(g xhat)).
    void backward_input(std::span<const T> params, const matrix<T>& x, const matrix<T>& /*y*/, const matrix<T>& dy,
                        matrix<T>& dx) const {
        const T* gamma = params.data();
        const double n = static_cast<double>(N);
        for (std::size_t r = 0, batch = x.shape()[0]; r < batch; ++r) {
            const T* in = x.data() + r * N;
            const T* d = dy.data() + r * N;
            T* out = dx.data() + r * N;
            const row_statistics s = statistics(in);
            double sum_g = 0, sum_g_xhat = 0;
            for (std::size_t i = 0; i < N; ++i) {
                const double g = static_cast<double>(d[i]) * gamma[i];
                sum_g += g;
                sum_g_xhat += g * (static_cast<double>(in[i]) - s.mean) * s.inv_std;
            }
            const double mean_g = sum_g / n, mean_g_xhat = sum_g_xhat / n;
            for (std::size_t i = 0; i < N; ++i) {
                const double xhat = (static_cast<double>(in[i]) - s.mean) * s.inv_std;
                const double g = static_cast<double>(d[i]) * gamma[i];
                out[i] = static_cast<T>(s.inv_std * (g - mean_g - xhat * mean_g_xhat));
            }
        }
    }

    // dweight += sum over rows of dy xhat, dbias += sum over rows of dy.
    void accumulate_gradient(std::span<const T> /*params*/, const matrix<T>& x, const matrix<T>& /*y*/,
                             const matrix<T>& dy, std::span<T> grad) const {
        for (std::size_t r = 0, batch = x.shape()[0]; r < batch; ++r) {
            const T* in = x.data() + r * N;
            const T* d = dy.data() + r * N;
            const row_statistics s = statistics(in);
            for (std::size_t i = 0; i < N; ++i) {
                const double xhat = (static_cast<double>(in[i]) - s.mean) * s.inv_std;
                grad[i] += static_cast<T>(d[i] * xhat);
                grad[N + i] += d[i];
            }
        }
    }

    // The second-order pass (a gradient penalty's double backward). Given e = dP/d(dx),
    // the adjoint of backward_input's output, per row:
    //   e_out = J e = weight * inv_std (e - mean(e) - xhat mean(e xhat))     (dP/d(dy))
    //   grad_weight += dy * inv_std c,  c = e - mean(e) - xhat mean(e xhat)  (dP/dweight)
    //   x_adjoint += -(inv_std^2 / N) (xhat (A - 3 G E / N) + E (g - mean(g)) + G (e - mean(e)))
    // with g = dy * weight, G = sum(g xhat), E = sum(e xhat), A = sum(g (e - mean(e))):
    // the derivative of <e, dx> with respect to x. The bias takes no part in dx.
    void backward_second_order(std::span<const T> params, const matrix<T>& x, const matrix<T>& /*y*/,
                               const matrix<T>& dy, const matrix<T>& e, matrix<T>& e_out, matrix<T>& x_adjoint,
                               std::span<T> grad) const {
        const T* gamma = params.data();
        const double n = static_cast<double>(N);
        for (std::size_t r = 0, batch = x.shape()[0]; r < batch; ++r) {
            const T* in = x.data() + r * N;
            const T* d = dy.data() + r * N;
            const T* ee = e.data() + r * N;
            T* out = e_out.data() + r * N;
            T* adjoint = x_adjoint.data() + r * N;
            const row_statistics s = statistics(in);
            double sum_e = 0, sum_g = 0, G = 0, E = 0, sum_ge = 0;
            for (std::size_t i = 0; i < N; ++i) {
                const double xhat = (static_cast<double>(in[i]) - s.mean) * s.inv_std;
                const double g = static_cast<double>(d[i]) * gamma[i];
                sum_e += ee[i];
                sum_g += g;
                G += g * xhat;
                E += ee[i] * xhat;
                sum_ge += g * ee[i];
            }
            const double mean_e = sum_e / n, mean_g = sum_g / n;
            const double A = sum_ge - n * mean_g * mean_e;
            const double k = -s.inv_std * s.inv_std / n;
            for (std::size_t i = 0; i < N; ++i) {
                const double xhat = (static_cast<double>(in[i]) - s.mean) * s.inv_std;
                const double g = static_cast<double>(d[i]) * gamma[i];
                const double c = ee[i] - mean_e - xhat * E / n;
                out[i] = static_cast<T>(gamma[i] * s.inv_std * c);
                grad[i] += static_cast<T>(d[i] * s.inv_std * c);
                adjoint[i] += static_cast<T>(k * (xhat * (A - 3 * G * E / n) + E * (g - mean_g) + G * (ee[i] - mean_e)));
            }
        }
    }

private:
    struct row_statistics {
        double mean;
        double inv_std;  // 1 / sqrt(biased variance + eps)
    };
    static row_statistics statistics(const T* in) {
        double sum = 0;
        for (std::size_t i = 0; i < N; ++i) sum += static_cast<double>(in[i]);
        const double mean = sum / static_cast<double>(N);
        double squares = 0;
        for (std::size_t i = 0; i < N; ++i) {
            const double d = static_cast<double>(in[i]) - mean;
            squares += d * d;
        }
        return {mean, 1.0 / std::sqrt(squares / static_cast<double>(N) + epsilon)};
    }
};

// LayerNorm with epsilon as a std::ratio: LayerNormWith<std::ratio<1, 1000000>>.
template <class Epsilon>
struct LayerNormWith {
    template <Shape In, class T>
    using bind_to = LayerNormLayer<Epsilon, In, T>;
};

// LayerNorm with PyTorch's default eps 1e-5.
struct LayerNorm : LayerNormWith<std::ratio<1, 100000>> {};

}  // namespace xgan
