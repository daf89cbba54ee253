// Human-readable descriptions of layers, networks and optimizers, as checkpoints record
// them: "Sequential(Dense(5, 128), ReLU, Dense(128, 15))". A checkpoint loads only into
// a network with the same description. Specialise xgan::layer_description for a layer
// of your own to name it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <xgan/core/layer.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/layers/activation.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/dropout.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/optim/sgd.hpp>

namespace xgan {

// Layers not described otherwise: their sizes and parameter count.
template <class L>
struct layer_description {
    static std::string text() {
        return "Layer(" + std::to_string(L::input_size) + " -> " + std::to_string(L::output_size) + ", " +
               std::to_string(L::parameter_count) + " parameters)";
    }
};

template <std::size_t In, std::size_t Out, class T, class Init>
struct layer_description<DenseLayer<In, Out, T, Init>> {
    static std::string text() { return "Dense(" + std::to_string(In) + ", " + std::to_string(Out) + ")"; }
};

namespace detail {
template <class Op> struct activation_name { static std::string text() { return "Activation"; } };
template <> struct activation_name<relu_op> { static std::string text() { return "ReLU"; } };
template <> struct activation_name<sigmoid_op> { static std::string text() { return "Sigmoid"; } };
template <> struct activation_name<tanh_op> { static std::string text() { return "Tanh"; } };
template <std::intmax_t N, std::intmax_t D>
struct activation_name<leaky_relu_op<N, D>> {
    static std::string text() { return "LeakyReLU(" + std::to_string(N) + "/" + std::to_string(D) + ")"; }
};
}  // namespace detail

template <class Op, std::size_t Width, class T>
struct layer_description<Activation<Op, Width, T>> {
    static std::string text() { return detail::activation_name<Op>::text(); }
};

template <class Momentum, class Epsilon, std::size_t Width, class T>
struct layer_description<BatchNormLayer<Momentum, Epsilon, Width, T>> {
    static std::string text() {
        return "BatchNorm(" + std::to_string(Width) + ", momentum " + std::to_string(Momentum::num) + "/" +
               std::to_string(Momentum::den) + ", eps " + std::to_string(Epsilon::num) + "/" +
               std::to_string(Epsilon::den) + ")";
    }
};

template <std::intmax_t N, std::intmax_t D, std::size_t Width, class T>
struct layer_description<DropoutLayer<N, D, Width, T>> {
    static std::string text() { return "Dropout(" + std::to_string(N) + "/" + std::to_string(D) + ")"; }
};

// "Sequential(Dense(5, 128), ReLU, Dense(128, 15))"
template <Network Net>
std::string describe() {
    std::string text = "Sequential(";
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((text += (I ? ", " : "") + layer_description<typename Net::template layer_type<I>>::text()), ...);
    }(std::make_index_sequence<Net::layer_count>{});
    return text + ")";
}

template <class O>
struct optimizer_name {
    static std::string text() { return "Optimizer"; }
};
template <> struct optimizer_name<Adam> { static std::string text() { return "Adam"; } };
template <> struct optimizer_name<SGD> { static std::string text() { return "SGD"; } };

}  // namespace xgan
