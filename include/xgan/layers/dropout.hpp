// Dropout: in training mode zeroes each value with probability Rate and scales the
// rest by 1 / (1 - Rate) (inverted dropout, as PyTorch); in inference mode the identity.
// Masks are drawn from the Rng of the forward pass (the trainer's, so one seed
// reproduces them).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <xgan/config.hpp>
#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/core/threads.hpp>

namespace xgan {

template <std::intmax_t Numerator, std::intmax_t Denominator, std::size_t Width, class T, class Shape = shape<Width>>
class DropoutLayer {
public:
    static_assert(Denominator > 0 && Numerator >= 0 && Numerator < Denominator,
                  "xgan::DropoutWithRate<Num, Den>: the rate Num / Den must lie in [0, 1)");
    using value_type = T;
    using input_shape = Shape;
    using output_shape = Shape;
    static constexpr std::size_t input_size = Width;
    static constexpr std::size_t output_size = Width;
    static constexpr std::size_t parameter_count = 0;
    static constexpr double rate = static_cast<double>(Numerator) / static_cast<double>(Denominator);

    static_assert(Denominator < (std::intmax_t{1} << 47), "xgan::DropoutWithRate<Num, Den>: Den must be below 2^47");
    static constexpr std::uint64_t drop_threshold =
        Rng::bernoulli_threshold(static_cast<std::uint64_t>(Numerator), static_cast<std::uint64_t>(Denominator));

    static std::string name() { return "Dropout(" + std::to_string(Numerator) + "/" + std::to_string(Denominator) + ")"; }

    struct cache_type {
        matrix<T> mask;  // 0 or 1 / (1 - rate) per value of the last training forward
        bool active = false;
    };

    void forward(std::span<const T>, std::span<const T>, const matrix<T>& x, matrix<T>& y, cache_type& cache,
                 const ForwardContext& context) const {
        cache.active = context.mode == Mode::training && Numerator > 0;
        if (!cache.active) {
            std::copy(x.begin(), x.end(), y.begin());
            return;
        }
        if (context.masks_drawn) {
            if (cache.mask.shape() != x.shape())
                XGAN_THROW(std::logic_error, "xgan::Dropout: the masks drawn beforehand are for ", cache.mask.shape()[0],
                           " rows, the batch has ", x.shape()[0], " (call draw_masks after resizing the workspace)");
        } else {
            if (context.rng == nullptr)
                XGAN_THROW(std::logic_error, "xgan::Dropout: training mode needs an Rng for the masks (set "
                           "Workspace::rng, or switch the network to Mode::inference)");
            draw_masks(cache, x.shape()[0], 0, x.shape()[0], *context.rng);
        }
        multiply(x.size(), x.data(), cache.mask.data(), y.data());
    }

    // Its inference code for xgan::export_header: the identity (inference mode).
    template <class Writer>
    void export_code(Writer& out, std::span<const T>, std::span<const T>) const {
        out.code("for (std::size_t i = 0; i < $n; ++i) y[i] = x[i];", {{"n", Width}});
    }

    // Draws the masks of rows [begin, end) of a batch of `rows` rows, as a training
    // forward pass over just those rows would: forward with ForwardContext::masks_drawn
    // then uses them. Drawing a batch's rows in parts, with other draws in between,
    // reproduces what separate forward passes over the parts would have drawn.
    void draw_masks(cache_type& cache, std::size_t rows, std::size_t begin, std::size_t end, Rng& rng) const {
        if constexpr (Numerator == 0) return;  // forward draws nothing either
        if (cache.mask.shape()[0] != rows || cache.mask.shape()[1] != Width) cache.mask.resize({rows, Width});
        // Dropped with probability Numerator / Denominator, to within 2^-32: one engine
        // draw gives the masks of two values (Rng::fill_bernoulli).
        const T keep = static_cast<T>(1.0 / (1.0 - rate));
        rng.fill_bernoulli(std::span<T>(cache.mask.data() + begin * Width, (end - begin) * Width), drop_threshold, T(0),
                           keep);
    }

    void backward_input(std::span<const T>, const matrix<T>&, const matrix<T>&, const matrix<T>& dy, matrix<T>& dx,
                        const cache_type& cache) const {
        if (!cache.active) {
            std::copy(dy.begin(), dy.end(), dx.begin());
            return;
        }
        multiply(dy.size(), dy.data(), cache.mask.data(), dx.data());
    }

    void update_buffers(std::span<T>, const cache_type&) const {}

private:
    // out = a * b element by element, large matrices split over xgan::set_threads threads.
    static void multiply(std::size_t n, const T* a, const T* b, T* out) {
        detail::parallel_for(n, [a, b, out](std::size_t begin, std::size_t end) {
            const T* XGAN_RESTRICT x = a + begin;
            const T* XGAN_RESTRICT y = b + begin;
            T* XGAN_RESTRICT z = out + begin;
            for (std::size_t i = 0; i < end - begin; ++i) z[i] = x[i] * y[i];
        });
    }
};

// Dropout with rate Numerator / Denominator: DropoutWithRate<3, 10> drops 30%.
template <std::intmax_t Numerator, std::intmax_t Denominator>
struct DropoutWithRate {
    template <Shape In, class T>
    using bind_to = DropoutLayer<Numerator, Denominator, In::size, T, In>;
    template <std::size_t Width, class T>
    using bind = DropoutLayer<Numerator, Denominator, Width, T>;
};

// Dropout with PyTorch's default rate, 0.5.
struct Dropout : DropoutWithRate<1, 2> {};

}  // namespace xgan
