// Weight initialisers for Dense. Each is a type, chosen in the stack:
// Dense<784, 256, init::XavierUniform>. The default reproduces PyTorch's nn.Linear.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include <xgan/core/random.hpp>

namespace xgan::init {

// PyTorch nn.Linear.reset_parameters: kaiming_uniform_(a = sqrt(5)) for the weight,
// which is U(-1/sqrt(in), 1/sqrt(in)), and the same bound for the bias.
struct TorchLinear {
    template <class T>
    static void initialize(std::span<T> weight, std::span<T> bias, std::size_t fan_in, std::size_t /*fan_out*/,
                           Rng& rng) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        rng.fill_uniform(weight, -bound, bound);
        rng.fill_uniform(bias, -bound, bound);
    }
};

// Glorot/Xavier uniform weight U(-a, a), a = sqrt(6 / (in + out)); zero bias (Keras' default).
struct XavierUniform {
    template <class T>
    static void initialize(std::span<T> weight, std::span<T> bias, std::size_t fan_in, std::size_t fan_out,
                           Rng& rng) {
        const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
        rng.fill_uniform(weight, -bound, bound);
        for (auto& b : bias) b = T(0);
    }
};

// He/Kaiming normal weight N(0, 2 / in), suited to ReLU stacks; zero bias.
struct KaimingNormal {
    template <class T>
    static void initialize(std::span<T> weight, std::span<T> bias, std::size_t fan_in, std::size_t /*fan_out*/,
                           Rng& rng) {
        rng.fill_normal(weight, 0.0, std::sqrt(2.0 / static_cast<double>(fan_in)));
        for (auto& b : bias) b = T(0);
    }
};

}  // namespace xgan::init
