// What a layer is: the Layer concept, parameter blocks, and how a layer
// specification written in a stack (Dense<5, 128>, ReLU) becomes a concrete layer.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include <string>

#include <xgan/core/random.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

// One named tensor inside a layer's flat parameter vector, in PyTorch's layout:
// Dense's "weight" is {out, in} row-major at offset 0, its "bias" {out} after it;
// Conv2D's "weight" is {out, in, kh, kw}. Rank 0 is a scalar (BatchNorm2d's
// num_batches_tracked).
struct parameter_block {
    std::string_view name;
    std::size_t rank;                  // 0 to 4
    std::array<std::size_t, 4> shape;  // shape[rank...] is unused
    std::size_t offset;                // into the layer's parameter span

    constexpr std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i) n *= shape[i];
        return n;
    }
};

// Training or inference: switched for a whole network (Sequential::set_mode). Only
// layers with state (BatchNorm, Dropout) behave differently.
enum class Mode { training, inference };

// What a stateful layer's forward pass may need besides its input.
struct ForwardContext {
    Mode mode = Mode::training;
    Rng* rng = nullptr;  // for Dropout's masks in training; never null in training mode
    // The layers' random masks for this batch were drawn beforehand, row range by row
    // range (Sequential::draw_masks): use them instead of drawing.
    bool masks_drawn = false;
};

namespace detail {
template <class L>
concept simple_layer_passes =
    requires(const L& layer, std::span<const typename L::value_type> params, const matrix<typename L::value_type>& x,
             const matrix<typename L::value_type>& y, const matrix<typename L::value_type>& dy,
             matrix<typename L::value_type>& out) {
        layer.forward(params, x, out);
        layer.backward_input(params, x, y, dy, out);
    };

template <class L>
concept stateful_layer_passes =
    requires(const L& layer, std::span<const typename L::value_type> params,
             std::span<const typename L::value_type> buffers, std::span<typename L::value_type> mutable_buffers,
             const matrix<typename L::value_type>& x, const matrix<typename L::value_type>& y,
             const matrix<typename L::value_type>& dy, matrix<typename L::value_type>& out,
             typename L::cache_type& cache, const typename L::cache_type& const_cache, const ForwardContext& context) {
        layer.forward(params, buffers, x, out, cache, context);
        layer.backward_input(params, x, y, dy, out, const_cache);
        layer.update_buffers(mutable_buffers, const_cache);
    };
}  // namespace detail

// A concrete layer: fixed widths, a scalar type, and the two passes.
//   forward(params, x, y)            y = f(x), x is {batch, input_size}, y is {batch, output_size}
//   backward_input(params, x, y, dy, dx)   dx = dL/dx given dy = dL/dy
// A layer with parameters (parameter_count > 0) also provides
//   accumulate_gradient(params, x, y, dy, grad)   grad += dL/dparams
//   initialize(params, rng)
//   parameter_blocks                 a constexpr array of parameter_block
// A layer with state (BatchNorm, Dropout) has a cache_type (what forward keeps for
// backward, one per Workspace) and buffer_count persistent non-trained values
// (running statistics, named by buffer_blocks); its passes take them:
//   forward(params, buffers, x, y, cache, context)
//   backward_input(params, x, y, dy, dx, cache)
//   accumulate_gradient(params, x, y, dy, grad, cache)
//   update_buffers(buffers, cache)   after a training forward of a network that may change
// See docs/design/layer-concept.md.
template <class L>
concept Layer = std::default_initializable<L> && std::floating_point<typename L::value_type> &&
    requires {
        { L::input_size } -> std::convertible_to<std::size_t>;
        { L::output_size } -> std::convertible_to<std::size_t>;
        { L::parameter_count } -> std::convertible_to<std::size_t>;
    } &&
    (detail::simple_layer_passes<L> || detail::stateful_layer_passes<L>) &&
    (L::parameter_count == 0 ||
     requires(L& layer, std::span<typename L::value_type> mutable_params, Rng& rng) {
         layer.initialize(mutable_params, rng);
         { L::parameter_blocks.size() } -> std::convertible_to<std::size_t>;
     });

// True for layers with a cache and buffers (the stateful pass signatures).
template <class L>
concept stateful_layer = requires { typename L::cache_type; };

// The shape of one sample entering and leaving a concrete layer: its input_shape and
// output_shape when it declares them (image layers do), else the vectors
// shape<input_size> and shape<output_size>.
namespace detail {
template <class L>
struct input_shape_of {
    using type = shape<L::input_size>;
};
template <class L>
    requires requires { typename L::input_shape; }
struct input_shape_of<L> {
    using type = typename L::input_shape;
};
template <class L>
struct output_shape_of {
    using type = shape<L::output_size>;
};
template <class L>
    requires requires { typename L::output_shape; }
struct output_shape_of<L> {
    using type = typename L::output_shape;
};
}  // namespace detail
template <class L>
using input_shape_t = typename detail::input_shape_of<L>::type;
template <class L>
using output_shape_t = typename detail::output_shape_of<L>::type;

// A layer specification that takes its input shape from the previous layer: ReLU,
// BatchNorm, Conv2D, MaxPool2D, ... provide
// `template <Shape In, class T> using bind_to = ...` (the concrete layer after a layer
// whose output shape is In).
template <class S>
concept shape_binding_spec = requires { typename S::template bind_to<shape<1, 1, 1>, float>; };

// A layer specification that takes its width from the previous layer, as specifications
// written before shapes existed do: `template <std::size_t Width, class T> using bind`.
template <class S>
concept width_preserving_spec =
    (shape_binding_spec<S> || requires { typename S::template bind<1, float>; }) && !requires { S::input_size; };

// A specification that fixes its own input size (Dense<In, Out>).
template <class S>
concept sized_spec = requires {
    typename S::template bind<1, float>;
    { S::input_size } -> std::convertible_to<std::size_t>;
};

// Input<C, H, W> (or Input<N>): written first in a stack, fixes the shape of the
// network's input. It is not a layer: the layer after it is layer 0, "0.weight".
template <std::size_t... N>
struct Input {
    using shape_type = shape<N...>;
};

namespace detail {
template <class S>
struct is_input : std::false_type {};
template <std::size_t... N>
struct is_input<Input<N...>> : std::true_type {};
}  // namespace detail
template <class S>
concept input_spec = detail::is_input<S>::value;

// Anything that may appear in a Sequential: a specification, or a concrete Layer.
template <class S>
concept layer_spec = sized_spec<S> || width_preserving_spec<S> || Layer<S> || input_spec<S>;

// A stateful layer whose random masks can be drawn ahead of its forward pass (Dropout):
// draw_masks(cache, rows, begin, end, rng) draws those of rows [begin, end) of a batch
// of `rows` rows as a pass over just those rows would, and a forward pass with
// ForwardContext::masks_drawn uses them (docs/design/layer-concept.md).
template <class L>
concept mask_drawing_layer = stateful_layer<L> && requires(const L& layer, typename L::cache_type& cache, Rng& rng,
                                                           std::size_t n) { layer.draw_masks(cache, n, n, n, rng); };

// A stateful layer whose two backward passes share work and that runs them as one call:
// backward_with_gradient(params, x, y, dy, dx, grad, cache) writes dx exactly as
// backward_input and adds to grad exactly what accumulate_gradient adds
// (docs/design/layer-concept.md). BatchNorm: both passes need the same sums over dy.
template <class L>
concept combined_backward_layer =
    stateful_layer<L> && requires(const L& layer, std::span<const typename L::value_type> params,
                                  const matrix<typename L::value_type>& m, matrix<typename L::value_type>& dx,
                                  std::span<typename L::value_type> grad, const typename L::cache_type& cache) {
        layer.backward_with_gradient(params, m, m, m, dx, grad, cache);
    };

namespace detail {

template <class S, class In, class T>
struct bind_layer {
    using type = S;  // already a concrete layer
};

template <class S, class In, class T>
    requires(!shape_binding_spec<S> && requires { typename S::template bind<In::size, T>; })
struct bind_layer<S, In, T> {
    using type = typename S::template bind<In::size, T>;
};

template <class S, class In, class T>
    requires shape_binding_spec<S>
struct bind_layer<S, In, T> {
    using type = typename S::template bind_to<In, T>;
};

}  // namespace detail

// The concrete layer a specification becomes after a layer whose output shape is In.
template <class S, Shape In, class T>
using bind_layer_to_t = typename detail::bind_layer<S, In, T>::type;

// The same after a layer of output width `Width` (a vector).
template <class S, std::size_t Width, class T>
using bind_layer_t = bind_layer_to_t<S, shape<Width>, T>;

// The input size a specification demands, or 0 when it takes the previous shape.
template <class S>
constexpr std::size_t required_input_size_v = [] {
    if constexpr (input_spec<S>)
        return S::shape_type::size;
    else if constexpr (sized_spec<S> || (Layer<S> && !width_preserving_spec<S>))
        return static_cast<std::size_t>(S::input_size);
    else
        return std::size_t{0};
}();

// The input shape a specification fixes (Input<C, H, W>, Dense<In, Out>, a concrete
// layer), or void when it takes the previous shape.
namespace detail {
template <class S>
struct fixed_input_shape {
    using type = void;
};
template <class S>
    requires input_spec<S>
struct fixed_input_shape<S> {
    using type = typename S::shape_type;
};
template <class S>
    requires(!input_spec<S> && (sized_spec<S> || (Layer<S> && !width_preserving_spec<S>)))
struct fixed_input_shape<S> {
    using type = input_shape_t<S>;
};
}  // namespace detail
template <class S>
using fixed_input_shape_t = typename detail::fixed_input_shape<S>::type;

// How a layer names itself in architecture records and summaries: its static name()
// ("Dense(5, 128)", "Conv2D(1, 64, k4, s2, p1)"), else its sizes and parameter count.
template <class L>
std::string layer_name() {
    if constexpr (requires {
                      { L::name() } -> std::convertible_to<std::string>;
                  })
        return std::string(L::name());
    else
        return "Layer(" + std::to_string(L::input_size) + " -> " + std::to_string(L::output_size) + ", " +
               std::to_string(L::parameter_count) + " parameters)";
}

// Persistent non-trained values of a layer (BatchNorm's running statistics); 0 for most.
template <class L>
constexpr std::size_t buffer_count_v = [] {
    if constexpr (requires { L::buffer_count; })
        return static_cast<std::size_t>(L::buffer_count);
    else
        return std::size_t{0};
}();

template <class L>
constexpr auto buffer_blocks_of() {
    if constexpr (buffer_count_v<L> == 0)
        return std::array<parameter_block, 0>{};
    else
        return L::buffer_blocks;
}

// What a layer keeps from forward for backward (an empty struct for most layers).
struct no_cache {};
template <class L>
struct cache_of {
    using type = no_cache;
};
template <stateful_layer L>
struct cache_of<L> {
    using type = typename L::cache_type;
};
template <class L>
using cache_of_t = typename cache_of<L>::type;

// The parameter blocks of a concrete layer (empty for layers without parameters).
template <class L>
constexpr auto parameter_blocks_of() {
    if constexpr (L::parameter_count == 0)
        return std::array<parameter_block, 0>{};
    else
        return L::parameter_blocks;
}

}  // namespace xgan
