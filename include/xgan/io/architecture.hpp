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

// How a checkpoint records a layer: the layer's own name() ("Dense(5, 128)", "ReLU",
// "Conv2D(1, 64, k4, s2, p1)"; xgan::layer_name). Specialise it to name a layer of your
// own that has no name().
template <class L>
struct layer_description {
    static std::string text() { return layer_name<L>(); }
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
