// BatchNorm: normalises each feature of a vector over the batch (PyTorch's
// nn.BatchNorm1d), or each channel of an image over the batch, rows and columns
// (nn.BatchNorm2d), then scales and shifts it. Training mode uses the batch's statistics
// and folds them into running statistics; inference mode uses the running statistics.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <ratio>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/detail/channel_sums.hpp>

namespace xgan {

// How BatchNorm combines its batch's statistics with those of the other batches a step
// normalises together. LocalStatistics, the default, combines nothing: each process
// normalises its own rows. xgan::mpi::SyncStatistics (<xgan/distributed/sync_batch_norm.hpp>)
// combines them over the ranks of an MPI job (SyncBatchNorm). A reducer R provides
//   R::workspace<Features>        its scratch space, kept in the layer's cache
//   R::combine_statistics(ws, count, mean, m2)
//       on entry this batch's count of values per feature, and per feature their mean
//       and m2, the sum of squared deviations from that mean; on return the same three
//       for all the batches combined (the same on every rank)
//   R::sum_gradients(ws, sums)    per-feature sums (of dy and of dy xhat) on entry, their
//                                 totals over all the batches on return
struct LocalStatistics {
    template <std::size_t Features>
    struct workspace {};
    template <std::size_t Features>
    static void combine_statistics(workspace<Features>&, double&, std::span<double>, std::span<double>) {}
    template <std::size_t Features>
    static void sum_gradients(workspace<Features>&, std::span<double>) {}
};

template <class Momentum, class Epsilon, std::size_t Width, class T, class Reducer = LocalStatistics>
class BatchNormLayer {
public:
    using value_type = T;
    static constexpr std::size_t input_size = Width;
    static constexpr std::size_t output_size = Width;
    static constexpr std::size_t parameter_count = 2 * Width;
    static constexpr std::size_t buffer_count = 2 * Width;
    static constexpr double momentum = static_cast<double>(Momentum::num) / static_cast<double>(Momentum::den);
    static constexpr double epsilon = static_cast<double>(Epsilon::num) / static_cast<double>(Epsilon::den);
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        {"weight", 1, {Width, 0}, 0},
        {"bias", 1, {Width, 0}, Width},
    }};
    static constexpr std::array<parameter_block, 2> buffer_blocks{{
        {"running_mean", 1, {Width, 0}, 0},
        {"running_var", 1, {Width, 0}, Width},
    }};

    static std::string name() {
        return "BatchNorm(" + std::to_string(Width) + ", momentum " + std::to_string(Momentum::num) + "/" +
               std::to_string(Momentum::den) + ", eps " + std::to_string(Epsilon::num) + "/" +
               std::to_string(Epsilon::den) + ")";
    }

    struct cache_type {
        std::vector<T> mean = std::vector<T>(Width);     // statistics used by the last forward
        std::vector<T> inv_std = std::vector<T>(Width);  // 1 / sqrt(var + eps)
        std::vector<T> variance = std::vector<T>(Width); // the batch's biased variance
        std::size_t batch = 0;          // rows the statistics were taken over (all ranks' with a reducer)
        bool batch_statistics = false;  // training mode: normalised with the batch's own
        // per feature: the mean and m2 in forward, the sums of dy and dy xhat in backward
        mutable std::vector<double> sums = std::vector<double>(2 * Width);
        mutable typename Reducer::template workspace<Width> reducer{};
    };

    void initialize(std::span<T> params, Rng&) const {
        std::fill(params.begin(), params.begin() + Width, T(1));
        std::fill(params.begin() + Width, params.end(), T(0));
    }
    void initialize_buffers(std::span<T> buffers) const {
        std::fill(buffers.begin(), buffers.begin() + Width, T(0));
        std::fill(buffers.begin() + Width, buffers.end(), T(1));
    }

    void forward(std::span<const T> params, std::span<const T> buffers, const matrix<T>& x, matrix<T>& y,
                 cache_type& cache, const ForwardContext& context) const {
        const std::size_t batch = x.shape()[0];
        cache.batch = batch;
        cache.batch_statistics = context.mode == Mode::training;
        if (cache.batch_statistics) {
            const std::span<double> means(cache.sums.data(), Width), m2(cache.sums.data() + Width, Width);
            for (std::size_t j = 0; j < Width; ++j) {
                double sum = 0;
                for (std::size_t r = 0; r < batch; ++r) sum += static_cast<double>(x(r, j));
                const double mean = sum / static_cast<double>(batch);
                double squares = 0;
                for (std::size_t r = 0; r < batch; ++r) {
                    const double d = static_cast<double>(x(r, j)) - mean;
                    squares += d * d;
                }
                means[j] = mean;
                m2[j] = squares;
            }
            double count = static_cast<double>(batch);
            Reducer::combine_statistics(cache.reducer, count, means, m2);
            if (count < 2)
                XGAN_THROW(std::invalid_argument, "xgan::BatchNorm: training mode needs at least 2 rows per batch, got ",
                           count, " (use Mode::inference for single samples)");
            cache.batch = static_cast<std::size_t>(count);
            for (std::size_t j = 0; j < Width; ++j) {
                const double mean = means[j];
                const double variance = m2[j] / count;
                cache.mean[j] = static_cast<T>(mean);
                cache.variance[j] = static_cast<T>(variance);
                cache.inv_std[j] = static_cast<T>(1.0 / std::sqrt(variance + epsilon));
            }
        } else {
            for (std::size_t j = 0; j < Width; ++j) {
                cache.mean[j] = buffers[j];
                cache.inv_std[j] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(buffers[Width + j]) + epsilon));
            }
        }
        // y = (x - mean) a + beta, a = gamma inv_std (BatchNorm2DLayer's arithmetic)
        const T* gamma = params.data();
        const T* beta = params.data() + Width;
        for (std::size_t r = 0; r < batch; ++r)
            for (std::size_t j = 0; j < Width; ++j)
                y(r, j) = (x(r, j) - cache.mean[j]) * (gamma[j] * cache.inv_std[j]) + beta[j];
    }

    // Its inference code for xgan::export_header: the running statistics as forward uses
    // them in inference mode (the mean, and 1 / sqrt(var + eps) rounded to T), the same
    // arithmetic.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> buffers) const {
        std::vector<T> inv_std(Width);
        for (std::size_t j = 0; j < Width; ++j)
            inv_std[j] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(buffers[Width + j]) + epsilon));
        const std::string mean = out.constant("mean", buffers.first(Width));
        const std::string scale = out.constant("inv_std", std::span<const T>(inv_std));
        const std::string gamma = out.constant("weight", params.first(Width));
        const std::string beta = out.constant("bias", params.subspan(Width, Width));
        out.code(R"(for (std::size_t j = 0; j < $n; ++j) y[j] = (x[j] - $mean[j]) * ($gamma[j] * $inv_std[j]) + $beta[j];)",
                 {{"n", Width}, {"plane", std::size_t{1}}, {"mean", mean}, {"inv_std", scale}, {"gamma", gamma}, {"beta", beta}});
    }

    // "" unless the running statistics hold what no batch gives: a negative running
    // variance (an average of variances). Checkpoints refuse such a state on load and on
    // save (Sequential::fault names the layer).
    std::string fault(std::span<const T>, std::span<const T> buffers) const {
        for (std::size_t j = 0; j < Width; ++j)
            if (buffers[Width + j] < T(0)) {
                std::ostringstream text;
                text << "running_var[" << j << "] is " << buffers[Width + j] << " (a variance cannot be negative)";
                return text.str();
            }
        return {};
    }

    // running = (1 - momentum) running + momentum batch, with the unbiased batch variance.
    void update_buffers(std::span<T> buffers, const cache_type& cache) const {
        if (!cache.batch_statistics) return;
        const double n = static_cast<double>(cache.batch);
        for (std::size_t j = 0; j < Width; ++j) {
            buffers[j] = static_cast<T>((1 - momentum) * buffers[j] + momentum * cache.mean[j]);
            buffers[Width + j] =
                static_cast<T>((1 - momentum) * buffers[Width + j] + momentum * cache.variance[j] * n / (n - 1));
        }
    }

    // With batch statistics the mean and variance depend on every row:
    // dx = gamma inv_std / N (N dy - sum(dy) - xhat sum(dy xhat)), with xhat = (x - mean) inv_std.
    void backward_input(std::span<const T> params, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                        matrix<T>& dx, const cache_type& cache) const {
        const std::size_t batch = x.shape()[0];
        const T* gamma = params.data();
        if (!cache.batch_statistics) {
            for (std::size_t j = 0; j < Width; ++j) {
                const double scale = static_cast<double>(gamma[j]) * cache.inv_std[j];
                for (std::size_t r = 0; r < batch; ++r) dx(r, j) = static_cast<T>(dy(r, j) * scale);
            }
            return;
        }
        gradient_sums(x, dy, cache);
        input_gradient_from_sums(params, x, dy, dx, cache);
    }

    // dgamma += sum(dy xhat), dbeta += sum(dy)
    void accumulate_gradient(std::span<const T>, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                             std::span<T> grad, const cache_type& cache) const {
        gradient_sums(x, dy, cache);
        add_gradient_sums(grad, cache);
    }

    // Both backward passes in one call (Sequential::backward's choice where it needs both):
    // the same values as accumulate_gradient and backward_input, the sums over the batch
    // that both take computed once.
    void backward_with_gradient(std::span<const T> params, const matrix<T>& x, const matrix<T>& y,
                                const matrix<T>& dy, matrix<T>& dx, std::span<T> grad, const cache_type& cache) const {
        if (!cache.batch_statistics) {
            accumulate_gradient(params, x, y, dy, grad, cache);
            backward_input(params, x, y, dy, dx, cache);
            return;
        }
        gradient_sums(x, dy, cache);
        add_gradient_sums(grad, cache);
        input_gradient_from_sums(params, x, dy, dx, cache);
    }

private:
    // cache.sums: each feature's sum(dy), then each feature's sum(dy xhat), over this batch.
    static void gradient_sums(const matrix<T>& x, const matrix<T>& dy, const cache_type& cache) {
        const std::size_t batch = x.shape()[0];
        for (std::size_t j = 0; j < Width; ++j) {
            double sum_dy = 0, sum_dy_xhat = 0;
            for (std::size_t r = 0; r < batch; ++r) {
                const double xhat = (static_cast<double>(x(r, j)) - cache.mean[j]) * cache.inv_std[j];
                sum_dy += dy(r, j);
                sum_dy_xhat += dy(r, j) * xhat;
            }
            cache.sums[j] = sum_dy;
            cache.sums[Width + j] = sum_dy_xhat;
        }
    }
    // dgamma += sum(dy xhat), dbeta += sum(dy), from gradient_sums.
    static void add_gradient_sums(std::span<T> grad, const cache_type& cache) {
        for (std::size_t j = 0; j < Width; ++j) {
            grad[j] += static_cast<T>(cache.sums[Width + j]);
            grad[Width + j] += static_cast<T>(cache.sums[j]);
        }
    }
    // dx with batch statistics, from gradient_sums (summed over the processes first, for a
    // Reducer that spans several).
    void input_gradient_from_sums(std::span<const T> params, const matrix<T>& x, const matrix<T>& dy, matrix<T>& dx,
                                  const cache_type& cache) const {
        Reducer::sum_gradients(cache.reducer, std::span<double>(cache.sums));
        const std::size_t batch = x.shape()[0];
        const T* gamma = params.data();
        // Per feature, dx = dy a + (x - mean) b + shift: a = scale, b = -scale inv_std
        // sum(dy xhat) / N and shift = -scale sum(dy) / N, the coefficients in double, each
        // value in T (BatchNorm2DLayer's arithmetic).
        const double n = static_cast<double>(cache.batch);
        for (std::size_t j = 0; j < Width; ++j) {
            const double scale = static_cast<double>(gamma[j]) * cache.inv_std[j];
            const T mean = cache.mean[j], a = static_cast<T>(scale),
                    b = static_cast<T>(-scale * cache.inv_std[j] * cache.sums[Width + j] / n),
                    shift = static_cast<T>(-scale * cache.sums[j] / n);
            for (std::size_t r = 0; r < batch; ++r) dx(r, j) = dy(r, j) * a + (x(r, j) - mean) * b + shift;
        }
    }
};

// BatchNorm over the channels of an image shape In (PyTorch's nn.BatchNorm2d): each
// channel's mean and variance are taken over the batch, the rows and the columns, so a
// statistic sums batch x H x W values. Parameters weight and bias {C}; buffers
// running_mean and running_var {C} and num_batches_tracked, a scalar counting the
// training passes folded into them (PyTorch's int64, here a T: exact up to 2^24 in float).
template <class Momentum, class Epsilon, Shape In, class T, class Reducer = LocalStatistics>
class BatchNorm2DLayer {
public:
    using value_type = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr std::size_t channels = In::channels;
    static constexpr std::size_t plane = In::height * In::width;  // values per channel of one sample
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = In::size;
    static constexpr std::size_t parameter_count = 2 * channels;
    static constexpr std::size_t buffer_count = 2 * channels + 1;
    static constexpr double momentum = static_cast<double>(Momentum::num) / static_cast<double>(Momentum::den);
    static constexpr double epsilon = static_cast<double>(Epsilon::num) / static_cast<double>(Epsilon::den);
    static constexpr std::array<parameter_block, 2> parameter_blocks{{
        {"weight", 1, {channels, 0}, 0},
        {"bias", 1, {channels, 0}, channels},
    }};
    static constexpr std::array<parameter_block, 3> buffer_blocks{{
        {"running_mean", 1, {channels, 0}, 0},
        {"running_var", 1, {channels, 0}, channels},
        {"num_batches_tracked", 0, {}, 2 * channels},
    }};

    static std::string name() {
        return "BatchNorm2D(" + std::to_string(channels) + ", momentum " + std::to_string(Momentum::num) + "/" +
               std::to_string(Momentum::den) + ", eps " + std::to_string(Epsilon::num) + "/" +
               std::to_string(Epsilon::den) + ")";
    }

    struct cache_type {
        std::vector<T> mean = std::vector<T>(channels);      // statistics used by the last forward
        std::vector<T> inv_std = std::vector<T>(channels);   // 1 / sqrt(var + eps)
        std::vector<T> variance = std::vector<T>(channels);  // the batch's biased variance
        std::size_t count = 0;  // values per channel in the last forward: batch x H x W (all ranks' with a reducer)
        bool batch_statistics = false;  // training mode: normalised with the batch's own
        // per channel: the mean and m2 in forward, the sums of dy and dy xhat in backward
        mutable std::vector<double> sums = std::vector<double>(2 * channels);
        // per channel, backward_input's dx = dy a + (x - mean) b + shift: a, then b, then shift
        mutable std::vector<T> coefficients = std::vector<T>(3 * channels);
        mutable typename Reducer::template workspace<channels> reducer{};
    };

    void initialize(std::span<T> params, Rng&) const {
        std::fill(params.begin(), params.begin() + channels, T(1));
        std::fill(params.begin() + channels, params.end(), T(0));
    }
    void initialize_buffers(std::span<T> buffers) const {
        std::fill(buffers.begin(), buffers.begin() + channels, T(0));
        std::fill(buffers.begin() + channels, buffers.begin() + 2 * channels, T(1));
        buffers[2 * channels] = T(0);
    }

    void forward(std::span<const T> params, std::span<const T> buffers, const matrix<T>& x, matrix<T>& y,
                 cache_type& cache, const ForwardContext& context) const {
        const std::size_t batch = x.shape()[0];
        cache.count = batch * plane;
        cache.batch_statistics = context.mode == Mode::training;
        if (cache.batch_statistics) {
            const std::span<double> means(cache.sums.data(), channels), m2(cache.sums.data() + channels, channels);
            const double n = static_cast<double>(cache.count);
            detail::channel_sums<1, plane>(
                batch, channels, x.data(), x.data(),
                [](std::size_t, T v, T) { return std::array<double, 1>{static_cast<double>(v)}; },
                [&](std::size_t c, const std::array<double, 1>& sum) { means[c] = sum[0] / n; });
            detail::channel_sums<1, plane>(
                batch, channels, x.data(), x.data(),
                [&](std::size_t c, T v, T) {
                    const double d = static_cast<double>(v) - means[c];
                    return std::array<double, 1>{d * d};
                },
                [&](std::size_t c, const std::array<double, 1>& sum) { m2[c] = sum[0]; });
            double count = n;
            Reducer::combine_statistics(cache.reducer, count, means, m2);
            if (count < 2)
                XGAN_THROW(std::invalid_argument, "xgan::BatchNorm2D: training mode needs at least 2 values per "
                           "channel (batch x H x W), got ", batch, " x ", In::height, " x ", In::width,
                           " (use Mode::inference for a single 1 x 1 sample)");
            cache.count = static_cast<std::size_t>(count);
            for (std::size_t c = 0; c < channels; ++c) {
                const double mean = means[c];
                const double variance = m2[c] / count;
                cache.mean[c] = static_cast<T>(mean);
                cache.variance[c] = static_cast<T>(variance);
                cache.inv_std[c] = static_cast<T>(1.0 / std::sqrt(variance + epsilon));
            }
        } else {
            for (std::size_t c = 0; c < channels; ++c) {
                cache.mean[c] = buffers[c];
                cache.inv_std[c] =
                    static_cast<T>(1.0 / std::sqrt(static_cast<double>(buffers[channels + c]) + epsilon));
            }
        }
        // y = (x - mean) a + beta per channel, a = gamma inv_std (x - mean first: a large mean
        // cancels there, exactly, and not in the product)
        const T* gamma = params.data();
        const T* beta = params.data() + channels;
        for (std::size_t r = 0; r < batch; ++r)  // row by row: memory streams
            for (std::size_t c = 0; c < channels; ++c) {
                const T mean = cache.mean[c], a = gamma[c] * cache.inv_std[c], shift = beta[c];
                const T* in = x.data() + r * input_size + c * plane;
                T* out = y.data() + r * input_size + c * plane;
                for (std::size_t i = 0; i < plane; ++i) out[i] = (in[i] - mean) * a + shift;
            }
    }

    // Its inference code for xgan::export_header: the running statistics as forward uses
    // them in inference mode (the mean, and 1 / sqrt(var + eps) rounded to T), the same
    // arithmetic.
    template <class Writer>
    void export_code(Writer& out, std::span<const T> params, std::span<const T> buffers) const {
        std::vector<T> inv_std(channels);
        for (std::size_t j = 0; j < channels; ++j)
            inv_std[j] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(buffers[channels + j]) + epsilon));
        const std::string mean = out.constant("mean", buffers.first(channels));
        const std::string scale = out.constant("inv_std", std::span<const T>(inv_std));
        const std::string gamma = out.constant("weight", params.first(channels));
        const std::string beta = out.constant("bias", params.subspan(channels, channels));
        out.code(R"(for (std::size_t c = 0; c < $n; ++c)
    for (std::size_t i = c * $plane; i < (c + 1) * $plane; ++i)
        y[i] = (x[i] - $mean[c]) * ($gamma[c] * $inv_std[c]) + $beta[c];)",
                 {{"n", channels}, {"plane", plane}, {"mean", mean}, {"inv_std", scale}, {"gamma", gamma}, {"beta", beta}});
    }

    // "" unless the buffers hold what no training run leaves there: a negative running
    // variance, or a num_batches_tracked that is not a count (negative or fractional).
    std::string fault(std::span<const T>, std::span<const T> buffers) const {
        std::ostringstream text;
        for (std::size_t c = 0; c < channels; ++c)
            if (buffers[channels + c] < T(0)) {
                text << "running_var[" << c << "] is " << buffers[channels + c] << " (a variance cannot be negative)";
                return text.str();
            }
        const T tracked = buffers[2 * channels];
        if (!(tracked >= T(0)) || std::floor(tracked) != tracked) {
            text << "num_batches_tracked is " << tracked << " (a count of training passes: 0, 1, 2, ...)";
            return text.str();
        }
        return {};
    }

    // running = (1 - momentum) running + momentum batch, with the unbiased batch variance
    // (n / (n - 1), n = batch x H x W); one more batch tracked.
    void update_buffers(std::span<T> buffers, const cache_type& cache) const {
        if (!cache.batch_statistics) return;
        const double n = static_cast<double>(cache.count);
        for (std::size_t c = 0; c < channels; ++c) {
            buffers[c] = static_cast<T>((1 - momentum) * buffers[c] + momentum * cache.mean[c]);
            buffers[channels + c] =
                static_cast<T>((1 - momentum) * buffers[channels + c] + momentum * cache.variance[c] * n / (n - 1));
        }
        buffers[2 * channels] += T(1);
    }

    // As BatchNormLayer, per channel with N = batch x H x W:
    // dx = gamma inv_std / N (N dy - sum(dy) - xhat sum(dy xhat)).
    void backward_input(std::span<const T> params, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                        matrix<T>& dx, const cache_type& cache) const {
        const std::size_t batch = x.shape()[0];
        const T* gamma = params.data();
        if (!cache.batch_statistics) {
            for (std::size_t c = 0; c < channels; ++c) {
                const double scale = static_cast<double>(gamma[c]) * cache.inv_std[c];
                for (std::size_t r = 0; r < batch; ++r) {
                    const T* g = dy.data() + r * input_size + c * plane;
                    T* d = dx.data() + r * input_size + c * plane;
                    for (std::size_t i = 0; i < plane; ++i) d[i] = static_cast<T>(g[i] * scale);
                }
            }
            return;
        }
        gradient_sums(x, dy, cache, [&](std::size_t c, const std::array<double, 2>& sums) {
            cache.sums[c] = sums[0];
            cache.sums[channels + c] = sums[1];
        });
        input_gradient_from_sums(params, x, dy, dx, cache);
    }

    // dgamma += sum(dy xhat), dbeta += sum(dy), each over batch x H x W
    void accumulate_gradient(std::span<const T>, const matrix<T>& x, const matrix<T>&, const matrix<T>& dy,
                             std::span<T> grad, const cache_type& cache) const {
        gradient_sums(x, dy, cache, [&](std::size_t c, const std::array<double, 2>& sums) {
            grad[c] += static_cast<T>(sums[1]);
            grad[channels + c] += static_cast<T>(sums[0]);
        });
    }

    // As BatchNormLayer's: both backward passes in one call, the sums over dy taken once.
    void backward_with_gradient(std::span<const T> params, const matrix<T>& x, const matrix<T>& y,
                                const matrix<T>& dy, matrix<T>& dx, std::span<T> grad, const cache_type& cache) const {
        if (!cache.batch_statistics) {
            accumulate_gradient(params, x, y, dy, grad, cache);
            backward_input(params, x, y, dy, dx, cache);
            return;
        }
        gradient_sums(x, dy, cache, [&](std::size_t c, const std::array<double, 2>& sums) {
            grad[c] += static_cast<T>(sums[1]);
            grad[channels + c] += static_cast<T>(sums[0]);
            cache.sums[c] = sums[0];
            cache.sums[channels + c] = sums[1];
        });
        input_gradient_from_sums(params, x, dy, dx, cache);
    }

private:
    // dx with batch statistics from cache.sums, each channel's sum(dy) then each channel's
    // sum(dy xhat) over this batch (summed over the processes first, for a Reducer that
    // spans several).
    void input_gradient_from_sums(std::span<const T> params, const matrix<T>& x, const matrix<T>& dy, matrix<T>& dx,
                                  const cache_type& cache) const {
        Reducer::sum_gradients(cache.reducer, std::span<double>(cache.sums));
        const std::size_t batch = x.shape()[0];
        const T* gamma = params.data();
        // Per channel, dx = dy a + (x - mean) b + shift: a = scale, b = -scale inv_std
        // sum(dy xhat) / N and shift = -scale sum(dy) / N, the coefficients in double, each
        // value in T.
        const double n = static_cast<double>(cache.count);
        T* a = cache.coefficients.data();
        T* b = a + channels;
        T* shift = b + channels;
        for (std::size_t c = 0; c < channels; ++c) {
            const double scale = static_cast<double>(gamma[c]) * cache.inv_std[c];
            a[c] = static_cast<T>(scale);
            b[c] = static_cast<T>(-scale * cache.inv_std[c] * cache.sums[channels + c] / n);
            shift[c] = static_cast<T>(-scale * cache.sums[c] / n);
        }
        for (std::size_t r = 0; r < batch; ++r)  // row by row: memory streams
            for (std::size_t c = 0; c < channels; ++c) {
                const T mean = cache.mean[c], ac = a[c], bc = b[c], sc = shift[c];
                const T* in = x.data() + r * input_size + c * plane;
                const T* g = dy.data() + r * input_size + c * plane;
                T* d = dx.data() + r * input_size + c * plane;
                for (std::size_t i = 0; i < plane; ++i) d[i] = g[i] * ac + (in[i] - mean) * bc + sc;
            }
    }

    // Each channel's sum(dy) and sum(dy xhat) over the batch, rows and columns, passed to
    // done(c, {sum(dy), sum(dy xhat)}).
    template <class Done>
    static void gradient_sums(const matrix<T>& x, const matrix<T>& dy, const cache_type& cache, Done done) {
        const T* mean = cache.mean.data();
        const T* inv_std = cache.inv_std.data();
        detail::channel_sums<2, plane>(
            x.shape()[0], channels, x.data(), dy.data(),
            [mean, inv_std](std::size_t c, T v, T g) {
                const double xhat = (static_cast<double>(v) - static_cast<double>(mean[c])) *
                                    static_cast<double>(inv_std[c]);
                return std::array<double, 2>{static_cast<double>(g), static_cast<double>(g) * xhat};
            },
            done);
    }
};

// BatchNorm with momentum and epsilon as std::ratio: BatchNormWith<std::ratio<1, 100>, std::ratio<1, 1000>>
// is Keras' BatchNormalization (its momentum 0.99 is PyTorch's 0.01). After a vector it
// normalises each feature (BatchNormLayer, nn.BatchNorm1d), after an image each channel
// (BatchNorm2DLayer, nn.BatchNorm2d). Reducer: LocalStatistics above (xgan::mpi::SyncBatchNorm
// passes its own).
template <class Momentum, class Epsilon, class Reducer = LocalStatistics>
struct BatchNormWith {
    template <Shape In, class T>
    using bind_to = std::conditional_t<ImageShape<In>, BatchNorm2DLayer<Momentum, Epsilon, In, T, Reducer>,
                                       BatchNormLayer<Momentum, Epsilon, In::size, T, Reducer>>;
    template <std::size_t Width, class T>
    using bind = BatchNormLayer<Momentum, Epsilon, Width, T, Reducer>;
};

// BatchNorm with PyTorch's defaults: momentum 0.1, eps 1e-5.
struct BatchNorm : BatchNormWith<std::ratio<1, 10>, std::ratio<1, 100000>> {};

}  // namespace xgan
