// Sequential<Layers...>: a network whose layers, widths and parameter count are
// fixed at compile time; only the batch size is chosen at run time.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/second_order.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/detail/cpu_dispatch.hpp>
#include <xgan/detail/plan.hpp>
#include <xgan/detail/shape_check.hpp>

namespace xgan {

namespace detail {

// Binds each specification to the shape the previous layer produces.
template <class T, class In, class... Specs>
struct bind_stack {
    using type = std::tuple<>;
};

template <class T, class In, class Spec, class... Rest>
struct bind_stack<T, In, Spec, Rest...> {
    using layer = bind_layer_to_t<Spec, In, T>;
    using type = decltype(std::tuple_cat(std::declval<std::tuple<layer>>(),
                                         std::declval<typename bind_stack<T, output_shape_t<layer>, Rest...>::type>()));
};

template <class T, class In, class SpecTuple>
struct bind_stack_tuple;
template <class T, class In, class... Specs>
struct bind_stack_tuple<T, In, std::tuple<Specs...>> : bind_stack<T, In, Specs...> {};

// The specifications that become layers: all but a leading Input<...>.
template <class... Specs>
struct layer_specs {
    using type = std::tuple<Specs...>;
};
template <std::size_t... N, class... Rest>
struct layer_specs<Input<N...>, Rest...> {
    using type = std::tuple<Rest...>;
};

// A stack holds at least one layer: Input<...> alone is not a network.
template <class... Specs>
concept stack_has_a_layer_after_input = std::tuple_size_v<typename layer_specs<Specs...>::type> > 0;

template <class Layers>
struct caches_of;
template <class... L>
struct caches_of<std::tuple<L...>> {
    using type = std::tuple<cache_of_t<L>...>;
};

template <class First>
struct first_layer_fixes_input {
    static_assert(!std::is_void_v<fixed_input_shape_t<First>>,
                  "xgan::Sequential: the first layer must fix the input size (e.g. Dense<In, Out>, or start the "
                  "stack with xgan::Input<C, H, W>); activations, Conv2D and pooling take their input shape from "
                  "the layer before them");
};

// The shape of the network's input: what its first specification fixes (shape<1> when
// it fixes none, which first_layer_fixes_input reports).
template <class First>
using stack_input_shape_t =
    std::conditional_t<std::is_void_v<fixed_input_shape_t<First>>, shape<1>, fixed_input_shape_t<First>>;

template <class T, class... Specs>
using bound_stack_t = typename bind_stack_tuple<T, stack_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>,
                                                typename layer_specs<Specs...>::type>::type;

// Whether specification Spec accepts input of shape In: its own rule (Spec::accepts<In>)
// where it has one, else equality with the shape it fixes; specifications that take
// any shape (activations) accept all.
template <class Spec, class In>
constexpr bool spec_accepts() {
    if constexpr (requires { Spec::template accepts<In>; })
        return Spec::template accepts<In>;
    else if constexpr (!std::is_void_v<fixed_input_shape_t<Spec>>)
        return std::is_same_v<fixed_input_shape_t<Spec>, In>;
    else
        return true;
}

// The check of the layer at Position (layer_index<I>) against the previous output
// shape In: the specification's own check_input<Position, In> (a struct whose
// static_asserts name its rule), else the size or shape rule of shape_check.hpp.
template <class Position, class In, class Spec>
struct input_check {
    using type = no_check<Position>;
};
template <class Position, class In, class Spec>
    requires(!requires { typename Spec::template check_input<Position, In>; } &&
             !std::is_void_v<fixed_input_shape_t<Spec>>)
struct input_check<Position, In, Spec> {
    using fixed = fixed_input_shape_t<Spec>;
    using type = std::conditional_t<
        In::rank == 1 && fixed::rank == 1,
        check_layer_input<Position, previous_output_size<In::size>, this_input_size<fixed::size>>,
        check_layer_shape<Position, previous_output_shape<In>, this_input_shape<fixed>>>;
};
template <class Position, class In, class Spec>
    requires requires { typename Spec::template check_input<Position, In>; }
struct input_check<Position, In, Spec> {
    using type = typename Spec::template check_input<Position, In>;
};

template <class Layer, class In>
struct previous_shape {
    using type = output_shape_t<Layer>;
};

// The input check of layer I of a stack whose input is In.
template <std::size_t I, class In, class Layers, class Specs>
using input_check_t = typename input_check<
    layer_index<I>,
    typename std::conditional_t<I == 0, std::type_identity<In>,
                                previous_shape<std::tuple_element_t<(I > 0 ? I - 1 : 0), Layers>, In>>::type,
    std::tuple_element_t<I, Specs>>::type;

// The size and shape rules of shape_check.hpp are static_asserts in Sequential's body,
// which name the first misfit; a specification's own check_input<Position, In> (its
// static_asserts name its rule) is a base of Sequential, checked before anything else.
// The first layer whose accepts<In> refuses its input has its check_input as a direct
// base of Sequential, so that the compiler's chain from the user's line to the rule is
// one step (catalogue, "How to read a shape error"); check_stack instantiates the other
// layers' check_input (Skip, that layer's index, is left out of it).
template <class Check>
struct as_base {
    using type = Check;
};
template <class Position, class Previous, class Input>
struct as_base<check_layer_input<Position, Previous, Input>> {
    using type = no_check<Position>;
};
template <class Position, class Previous, class Input>
struct as_base<check_layer_shape<Position, Previous, Input>> {
    using type = no_check<Position>;
};

// The shape entering layer I of a stack whose input is In.
template <std::size_t I, class In, class Layers>
using stack_input_of_t =
    typename std::conditional_t<I == 0, std::type_identity<In>,
                                previous_shape<std::tuple_element_t<(I > 0 ? I - 1 : 0), Layers>, In>>::type;

// Whether layer I has a check_input of its own whose accepts<In> refuses its input.
template <std::size_t I, class In, class Layers, class Specs>
constexpr bool refuses_input() {
    using Spec = std::tuple_element_t<I, Specs>;
    using Previous = stack_input_of_t<I, In, Layers>;
    if constexpr (requires { typename Spec::template check_input<layer_index<I>, Previous>; })
        return !spec_accepts<Spec, Previous>();
    else
        return false;
}

// The index of the first such layer, or SIZE_MAX.
template <class In, class Layers, class Specs, std::size_t... I>
constexpr std::size_t first_refusal_index(std::index_sequence<I...>) {
    std::size_t first = static_cast<std::size_t>(-1);
    ((first == static_cast<std::size_t>(-1) && refuses_input<I, In, Layers, Specs>() ? first = I : first), ...);
    return first;
}

struct no_refusal {};

// That layer's check_input, or no_refusal.
template <std::size_t Index, class In, class Layers, class Specs>
struct first_refusal {
    using type = input_check_t<Index, In, Layers, Specs>;
};
template <class In, class Layers, class Specs>
struct first_refusal<static_cast<std::size_t>(-1), In, Layers, Specs> {
    using type = no_refusal;
};

template <class In, class Layers, class Specs, std::size_t Skip = first_refusal_index<In, Layers, Specs>(
                                                   std::make_index_sequence<std::tuple_size_v<Layers>>{}),
          class Indices = std::make_index_sequence<std::tuple_size_v<Layers>>>
struct check_stack;
template <class In, class Layers, class Specs, std::size_t Skip, std::size_t... I>
struct check_stack<In, Layers, Specs, Skip, std::index_sequence<I...>>
    : std::conditional_t<I == Skip, no_check<layer_index<I>>,
                         typename as_base<input_check_t<I, In, Layers, Specs>>::type>... {};

// The first check of kind Kind (check_layer_input, check_layer_shape) that fails in the
// stack T, Specs..., or void; void too when the first layer fixes no input shape.
template <template <class...> class Kind, class In, class Layers, class Specs,
          class Indices = std::make_index_sequence<std::tuple_size_v<Layers>>>
struct first_misfit;
template <template <class...> class Kind, class In, class Layers, class Specs, std::size_t... I>
struct first_misfit<Kind, In, Layers, Specs, std::index_sequence<I...>>
    : first_failing<Kind, input_check_t<I, In, Layers, Specs>...> {};

template <template <class...> class Kind, class T, class... Specs>
using first_misfit_t = typename std::conditional_t<
    std::is_void_v<fixed_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>>, std::type_identity<void>,
    first_misfit<Kind, stack_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>, bound_stack_t<T, Specs...>,
                 typename layer_specs<Specs...>::type>>::type;

// The checks of stack T, Specs... once its first layer fixes an input shape.
template <class T, class... Specs>
using stack_check_t = check_stack<stack_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>,
                                  bound_stack_t<T, Specs...>, typename layer_specs<Specs...>::type>;
// The check_input of its first layer refusing its input, or no_refusal (also when the first
// layer fixes no input shape: first_layer_fixes_input is then the one error).
template <bool FixesInput, class T, class... Specs>
struct stack_first_refusal {
    using type = no_refusal;
};
template <class T, class... Specs>
struct stack_first_refusal<true, T, Specs...> {
    using In = stack_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>;
    using Layers = bound_stack_t<T, Specs...>;
    using LayerSpecs = typename layer_specs<Specs...>::type;
    using type = typename first_refusal<first_refusal_index<In, Layers, LayerSpecs>(
                                            std::make_index_sequence<std::tuple_size_v<Layers>>{}),
                                        In, Layers, LayerSpecs>::type;
};
template <class T, class... Specs>
using stack_first_refusal_t = typename stack_first_refusal<
    !std::is_void_v<fixed_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>>, T, Specs...>::type;

}  // namespace detail

// What Sequential::backward does with the parameter gradient it is handed.
enum class GradientMode {
    accumulate,  // adds this pass's gradient (to sum the passes over several batches)
    overwrite,   // replaces what is there: as accumulating into zeros, without zeroing first
};

// One named parameter tensor of a network, in PyTorch state_dict naming: "0.weight".
template <class T>
struct named_parameter {
    std::string name;
    std::vector<std::size_t> shape;
    std::span<T> values;
};

// A network of scalar T. Usually spelled Sequential<...> (float); BasicSequential<double, ...>
// runs the same stack in double precision (the gradient checker does).
template <std::floating_point T, layer_spec... Specs>
    requires(sizeof...(Specs) > 0 && detail::stack_has_a_layer_after_input<Specs...>)
class BasicSequential
    // Check adjacent shapes only once the first layer fixes one (else that is the one error):
    // the first layer refusing its input first, at the user's line, then the others.
    : detail::stack_first_refusal_t<T, Specs...>,
      std::conditional_t<!std::is_void_v<fixed_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>>,
                         detail::stack_check_t<T, Specs...>,
                         detail::first_layer_fixes_input<std::tuple_element_t<0, std::tuple<Specs...>>>> {
public:
    using value_type = T;
    using layers_type = detail::bound_stack_t<T, Specs...>;
    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers_type>;

    static constexpr std::size_t layer_count = std::tuple_size_v<layers_type>;

    // Adjacent layers must fit; the note under a failure shows the first misfit's numbers.
    using first_size_misfit_ = detail::first_misfit_t<detail::check_layer_input, T, Specs...>;
    static_assert(detail::holds<first_size_misfit_>,
                  "xgan::Sequential: a layer's input size must equal the previous layer's output size "
                  "(layer_index counts from 0; change the Dense<In, Out> at that position or the one before it)");
    using first_shape_misfit_ = detail::first_misfit_t<detail::check_layer_shape, T, Specs...>;
    static_assert(detail::holds<first_shape_misfit_>,
                  "xgan::Sequential: a layer's input shape must equal the previous layer's output shape "
                  "(layer_index counts from 0; shapes are C x H x W or a vector; a Dense layer takes a vector: put "
                  "xgan::Flatten before it, and xgan::Unflatten<C, H, W> after it to return to images)");

    // The shape of one sample entering the network, and leaving it: shape<784> or
    // shape<1, 28, 28> (core/shape.hpp). Rows of a batch hold input_shape::size values.
    using input_shape = detail::stack_input_shape_t<std::tuple_element_t<0, std::tuple<Specs...>>>;
    using output_shape = output_shape_t<layer_type<layer_count - 1>>;
    // The shape of values[I] of a Workspace: the input for I = 0, else layer I - 1's output.
    template <std::size_t I>
        requires(I <= layer_count)
    using value_shape = typename std::conditional_t<I == 0, std::type_identity<input_shape>,
                                                    detail::output_shape_of<layer_type<(I > 0 ? I - 1 : 0)>>>::type;

private:
    template <std::size_t... I>
    static constexpr bool all_scalars_match(std::index_sequence<I...>) {
        return (std::is_same_v<typename layer_type<I>::value_type, T> && ...);
    }
    static_assert(all_scalars_match(std::make_index_sequence<layer_count>{}),
                  "xgan::Sequential: a concrete layer in the stack uses another scalar type than the network");

    template <std::size_t... I>
    static constexpr std::array<std::size_t, layer_count + 1> make_widths(std::index_sequence<I...>) {
        return {layer_type<I>::input_size..., layer_type<layer_count - 1>::output_size};
    }
    template <std::size_t... I>
    static constexpr std::array<std::size_t, layer_count + 1> make_offsets(std::index_sequence<I...>) {
        std::array<std::size_t, layer_count + 1> offsets{};
        std::size_t running = 0;
        ((offsets[I] = running, running += layer_type<I>::parameter_count), ...);
        offsets[layer_count] = running;
        return offsets;
    }
    template <std::size_t... I>
    static constexpr std::array<std::size_t, layer_count + 1> make_buffer_offsets(std::index_sequence<I...>) {
        std::array<std::size_t, layer_count + 1> offsets{};
        std::size_t running = 0;
        ((offsets[I] = running, running += buffer_count_v<layer_type<I>>), ...);
        offsets[layer_count] = running;
        return offsets;
    }

public:
    // widths[i] is the input width of layer i; widths[layer_count] the network's output width.
    static constexpr std::array<std::size_t, layer_count + 1> widths =
        make_widths(std::make_index_sequence<layer_count>{});
    // Layer i's parameters are parameters()[offsets[i], offsets[i + 1]).
    static constexpr std::array<std::size_t, layer_count + 1> offsets =
        make_offsets(std::make_index_sequence<layer_count>{});

    // Layer i's buffers (running statistics) are buffers()[buffer_offsets[i], buffer_offsets[i + 1]).
    static constexpr std::array<std::size_t, layer_count + 1> buffer_offsets =
        make_buffer_offsets(std::make_index_sequence<layer_count>{});

    static constexpr std::size_t input_size = widths.front();
    static constexpr std::size_t output_size = widths.back();
    static_assert(input_size == input_shape::size);
    static constexpr std::size_t parameter_count = offsets.back();
    static constexpr std::size_t buffer_count = buffer_offsets.back();

    // Activations and their gradients for one batch size. Reused across steps, it
    // makes forward and backward allocation-free once sized; only a change of batch
    // size reallocates.
    class Workspace {
    public:
        // Sizes every buffer for `batch` rows (no-op when already so).
        void resize(std::size_t batch) {
            for (std::size_t i = 0; i <= layer_count; ++i) {
                if (values[i].shape()[0] != batch || values[i].shape()[1] != widths[i]) {
                    values[i].resize({batch, widths[i]});
                    gradients[i].resize({batch, widths[i]});
                }
            }
        }
        std::size_t batch_size() const { return values[0].shape()[0]; }

        // The network's input, {batch, input_size}; fill it, then call forward(ws).
        matrix<T>& input() { return values[0]; }
        const matrix<T>& output() const { return values[layer_count]; }

        // values[0] is the input, values[i + 1] the output of layer i. One exception: a
        // step of the fusion plan that runs layer i with the layers after it (a small
        // Dense layer and the ReLU or LeakyReLU after it) does not write layer i's own
        // output values[i + 1] (detail/plan.hpp; docs/performance.md).
        std::array<matrix<T>, layer_count + 1> values;
        // gradients[i] = dLoss / dvalues[i], except, likewise, the gradient that a
        // step through two layers passes over (between a ReLU-like activation and the
        // small Dense layer after it).
        std::array<matrix<T>, layer_count + 1> gradients;
        // What stateful layers keep from forward for backward (Dropout's mask, ...).
        typename detail::caches_of<layers_type>::type caches;
        // Draws Dropout's masks in training mode; the trainer points it at its own Rng.
        Rng* rng = nullptr;
        // Set by draw_masks: the next forward pass uses the masks drawn there (and clears it).
        bool masks_drawn = false;
        // The penalty pass's buffers (input_gradient_penalty), sized by its first call at a
        // batch size and empty until then: tangents[i] = dP/dgradients[i], adjoints[i] =
        // dP/dvalues[i] from the second-order terms and the layers above.
        std::array<matrix<T>, layer_count + 1> tangents;
        std::array<matrix<T>, layer_count + 1> adjoints;
    };

    // An initialised network: from the default seed, a seed, or a caller's Rng.
    BasicSequential() : BasicSequential(Rng{}) {}
    explicit BasicSequential(std::uint64_t seed) : BasicSequential(Rng{seed}) {}
    explicit BasicSequential(Rng&& rng) : BasicSequential(rng) {}
    explicit BasicSequential(Rng& rng) : parameters_(parameter_count), buffers_(buffer_count) { initialize(rng); }

    // Re-draws every parameter, layer by layer, from rng, and resets every buffer.
    void initialize(Rng& rng) {
        for_each_index([&]<std::size_t I>() {
            if constexpr (layer_type<I>::parameter_count > 0) std::get<I>(layers_).initialize(parameters_of<I>(), rng);
            if constexpr (buffer_count_v<layer_type<I>> > 0) std::get<I>(layers_).initialize_buffers(buffers_of<I>());
        });
    }

    // Training (the default) or inference; only stateful layers (BatchNorm, Dropout) care.
    void set_mode(Mode mode) { mode_ = mode; }
    Mode mode() const { return mode_; }

    std::span<T, parameter_count> parameters() { return std::span<T, parameter_count>(parameters_.data(), parameter_count); }
    std::span<const T, parameter_count> parameters() const {
        return std::span<const T, parameter_count>(parameters_.data(), parameter_count);
    }

    // Layer I's own slice of the parameters.
    template <std::size_t I>
    std::span<T, layer_type<I>::parameter_count> parameters_of() {
        return std::span<T, layer_type<I>::parameter_count>(parameters_.data() + offsets[I], layer_type<I>::parameter_count);
    }
    template <std::size_t I>
    std::span<const T, layer_type<I>::parameter_count> parameters_of() const {
        return std::span<const T, layer_type<I>::parameter_count>(parameters_.data() + offsets[I],
                                                                 layer_type<I>::parameter_count);
    }

    // Persistent values that are not trained (BatchNorm's running statistics).
    std::span<T, buffer_count> buffers() { return std::span<T, buffer_count>(buffers_.data(), buffer_count); }
    std::span<const T, buffer_count> buffers() const {
        return std::span<const T, buffer_count>(buffers_.data(), buffer_count);
    }
    template <std::size_t I>
    std::span<T, buffer_count_v<layer_type<I>>> buffers_of() {
        return std::span<T, buffer_count_v<layer_type<I>>>(buffers_.data() + buffer_offsets[I],
                                                          buffer_count_v<layer_type<I>>);
    }
    template <std::size_t I>
    std::span<const T, buffer_count_v<layer_type<I>>> buffers_of() const {
        return std::span<const T, buffer_count_v<layer_type<I>>>(buffers_.data() + buffer_offsets[I],
                                                                buffer_count_v<layer_type<I>>);
    }

    template <std::size_t I>
    layer_type<I>& layer() { return std::get<I>(layers_); }
    template <std::size_t I>
    const layer_type<I>& layer() const { return std::get<I>(layers_); }

    // Every parameter tensor, named as PyTorch's nn.Sequential state_dict names it.
    std::vector<named_parameter<T>> named_parameters() {
        return named_blocks<T>(parameters_.data(), offsets, [](auto* l) { return parameter_blocks_of<std::remove_pointer_t<decltype(l)>>(); });
    }
    std::vector<named_parameter<const T>> named_parameters() const {
        return named_blocks<const T>(parameters_.data(), offsets, [](auto* l) { return parameter_blocks_of<std::remove_pointer_t<decltype(l)>>(); });
    }
    // Every buffer tensor ("1.running_mean", ...), likewise.
    std::vector<named_parameter<T>> named_buffers() {
        return named_blocks<T>(buffers_.data(), buffer_offsets, [](auto* l) { return buffer_blocks_of<std::remove_pointer_t<decltype(l)>>(); });
    }
    std::vector<named_parameter<const T>> named_buffers() const {
        return named_blocks<const T>(buffers_.data(), buffer_offsets, [](auto* l) { return buffer_blocks_of<std::remove_pointer_t<decltype(l)>>(); });
    }

    // "" unless a layer's parameters or buffers hold what no training run leaves there (a
    // negative running variance, ...), else the first such fault prefixed with the layer's
    // state_dict index: "1.running_var[3] is -0.5 (a variance cannot be negative)". Layers
    // say so through an optional member fault(parameters, buffers) (BatchNorm has one).
    std::string fault() const {
        std::string found;
        for_each_index([&]<std::size_t I>() {
            if constexpr (requires(const layer_type<I>& l, std::span<const T> p, std::span<const T> b) {
                              { l.fault(p, b) } -> std::convertible_to<std::string>;
                          }) {
                if (found.empty()) {
                    std::string fault = std::get<I>(layers_).fault(parameters_of<I>(), buffers_of<I>());
                    if (!fault.empty()) found = std::to_string(I) + "." + fault;
                }
            }
        });
        return found;
    }

    // Inference on a batch {batch, input_size}; returns {batch, output_size}.
    // Allocates its own buffers: for repeated calls use forward(workspace, x).
    template <class E>
    matrix<T> forward(const xt::xexpression<E>& x) const {
        Workspace workspace;
        return forward(workspace, x);
    }

    // Forward pass into `workspace`, returning its output (valid until the next call).
    template <std::size_t Stop = layer_count, class E>
    const matrix<T>& forward(Workspace& workspace, const xt::xexpression<E>& x) const {
        const auto& input = x.derived_cast();
        check_input(input);
        workspace.resize(input.shape()[0]);
        if (input.dimension() == 2)
            workspace.input() = input;
        else  // {batch, C, H, W}: the same values in the same (row-major NCHW) order
            std::copy(input.begin(), input.end(), workspace.input().begin());
        return forward<Stop>(workspace);
    }

    // Forward pass from the input already in workspace.input(), through layers [0, Stop),
    // in the network's mode. Stop < layer_count stops early: the trainer reads a
    // discriminator's logits this way. Const: buffers are read, not updated (see update_buffers).
    template <std::size_t Stop = layer_count>
    const matrix<T>& forward(Workspace& workspace) const {
        static_assert(Stop <= layer_count, "xgan::Sequential: Stop counts layers and cannot exceed layer_count");
        if (workspace.batch_size() == 0)
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the batch is empty (0 rows)");
        const ForwardContext context{mode_, workspace.rng, workspace.masks_drawn};
        workspace.masks_drawn = false;
        using plan = detail::fusion_plan<layers_type, Stop>;
        const bool fuse = detail::kernels::products_on_kernels();
        for_each_index<Stop>([&]<std::size_t I>() {
            constexpr detail::forward_role role = plan::forward[I];
            if constexpr (role == detail::forward_role::alone) {
                layer_forward<I>(workspace, context);
            } else if (fuse) {
                const auto& layer = std::get<I>(layers_);
                if constexpr (role == detail::forward_role::triple)  // writes values[I + 2] and values[I + 3]
                    rule_of<I>::template forward_triple<layer_type<I + 1>, layer_type<I + 2>>(
                        layer, parameters_of<I>(), workspace.values[I], workspace.values[I + 2], parameters_of<I + 2>(),
                        workspace.values[I + 3]);
                else if constexpr (role == detail::forward_role::pair)  // writes values[I + 2]
                    rule_of<I>::template forward_pair<layer_type<I + 1>>(layer, parameters_of<I>(), workspace.values[I],
                                                                         workspace.values[I + 2]);
                // second, third: done by the step's first layer
            } else {
                layer_forward_alone<I>(workspace, context);
            }
        });
        return workspace.values[Stop];
    }

    // In training mode, draws from workspace.rng the random masks that the first Stop
    // layers' forward pass would draw for rows [begin, end) of the workspace's batch,
    // layer by layer; the next forward(workspace) then uses them instead of drawing.
    // Called for consecutive row ranges with other draws in between, it reproduces
    // what separate forward passes over those ranges would have drawn (the trainer runs
    // a discriminator's real and fake rows as one batch this way). Every row of the
    // batch must have its masks drawn before that forward pass. A no-op in inference mode.
    template <std::size_t Stop = layer_count>
    void draw_masks(Workspace& workspace, std::size_t begin, std::size_t end) const {
        static_assert(Stop <= layer_count, "xgan::Sequential: Stop counts layers and cannot exceed layer_count");
        const std::size_t rows = workspace.batch_size();
        if (begin > end || end > rows)
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::draw_masks: rows [", begin, ", ", end,
                       ") are not within the workspace's batch of ", rows);
        if (mode_ != Mode::training) return;
        for_each_index<Stop>([&]<std::size_t I>() {
            if constexpr (mask_drawing_layer<layer_type<I>>) {
                if (workspace.rng == nullptr)
                    XGAN_THROW(std::logic_error, "xgan::Sequential::draw_masks: set Workspace::rng first");
                std::get<I>(layers_).draw_masks(std::get<I>(workspace.caches), rows, begin, end, *workspace.rng);
            }
        });
        workspace.masks_drawn = true;
    }

    // After a training-mode forward(workspace): lets stateful layers fold what they saw
    // into their buffers (BatchNorm's running statistics). A no-op in inference mode.
    template <std::size_t Stop = layer_count>
    void update_buffers(const Workspace& workspace) {
        if (mode_ != Mode::training) return;
        for_each_index<Stop>([&]<std::size_t I>() {
            if constexpr (stateful_layer<layer_type<I>>)
                std::get<I>(layers_).update_buffers(buffers_of<I>(), std::get<I>(workspace.caches));
        });
    }

    // Backward pass from workspace.gradients[Stop] (set by the caller, typically a loss)
    // through layers [0, Stop) after forward<Stop>: adds dLoss/dparameters to `gradient`
    // (GradientMode::overwrite: stores it there) and, if `input_gradient`, leaves
    // dLoss/dinput in workspace.gradients[0].
    template <std::size_t Stop = layer_count>
    void backward(Workspace& workspace, std::span<T> gradient, bool input_gradient = false,
                  GradientMode mode = GradientMode::accumulate) const {
        static_assert(Stop <= layer_count, "xgan::Sequential: Stop counts layers and cannot exceed layer_count");
        if (gradient.size() != parameter_count)
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::backward: the gradient holds ", gradient.size(),
                       " values but the network has ", parameter_count, " parameters");
        // Layers [Stop, layer_count) take no part: their gradient is zero.
        if (mode == GradientMode::overwrite) std::fill(gradient.begin() + offsets[Stop], gradient.end(), T(0));
        using plan = detail::fusion_plan<layers_type, Stop>;
        const bool fuse = detail::kernels::products_on_kernels();
        for_each_index_reversed<Stop>([&]<std::size_t I>() {
            constexpr detail::backward_role role = plan::backward[I];
            if constexpr (role == detail::backward_role::done_by_next) {
                if (fuse) return;  // the layer after this one passed the gradient through it
            }
            if constexpr (role == detail::backward_role::through_previous_with_gradient) {
                const auto& layer = std::get<I>(layers_);
                const std::span<T> grad = gradient.subspan(offsets[I], layer_type<I>::parameter_count);
                const bool assign = mode == GradientMode::overwrite;
                if (fuse) {  // both gradients in one step, through layer I - 1 into gradients[I - 1]
                    rule_of<I>::template backward_through_with_gradient<layer_type<I - 1>>(
                        layer, parameters_of<I>(), workspace.values[I], workspace.gradients[I + 1],
                        workspace.gradients[I - 1], grad, assign);
                } else {  // alone; layer I - 1's pass follows
                    layer_parameter_gradient_alone<I>(workspace, grad, mode);
                    layer_backward_input_alone<I>(workspace);
                }
                return;
            }
            if constexpr (layer_type<I>::parameter_count > 0 && combined_backward_layer<layer_type<I>> &&
                          role == detail::backward_role::alone) {
                if (I > 0 || input_gradient) {  // both passes in the layer's one call
                    const std::span<T> grad = gradient.subspan(offsets[I], layer_type<I>::parameter_count);
                    if (mode == GradientMode::overwrite) std::fill(grad.begin(), grad.end(), T(0));
                    std::get<I>(layers_).backward_with_gradient(
                        parameters_of<I>(), workspace.values[I], workspace.values[I + 1], workspace.gradients[I + 1],
                        workspace.gradients[I], grad, std::get<I>(workspace.caches));
                    return;
                }
            }
            if constexpr (layer_type<I>::parameter_count > 0)
                layer_parameter_gradient<I>(workspace, gradient.subspan(offsets[I], layer_type<I>::parameter_count),
                                            mode);
            if (I > 0 || input_gradient) layer_backward_input<I, Stop>(workspace, fuse);
        });
    }

    // Backward pass for the input gradient only: the parameters receive nothing, so a
    // const network (a frozen discriminator) can pass gradients on to the generator.
    template <std::size_t Stop = layer_count>
    const matrix<T>& backward_input(Workspace& workspace) const {
        static_assert(Stop <= layer_count, "xgan::Sequential: Stop counts layers and cannot exceed layer_count");
        using plan = detail::fusion_plan<layers_type, Stop>;
        const bool fuse = detail::kernels::products_on_kernels();
        for_each_index_reversed<Stop>([&]<std::size_t I>() {
            if constexpr (plan::backward[I] == detail::backward_role::done_by_next) {
                if (fuse) return;  // the layer after this one passed the gradient through it
            }
            layer_backward_input<I, Stop>(workspace, fuse);
        });
        return workspace.gradients[0];
    }

    // The penalty pass (double backward) for a penalty P on the input gradient. Runs the
    // layers (unfused) on workspace.input() of workspace.batch_size() rows, and the input
    // gradient g = d(sum of outputs)/dinput (row i: the gradient of sample i's outputs,
    // which for a one-output critic is grad_x D(x_i)); calls
    //     T penalty(const matrix<T>& g, matrix<T>& dP_dg)   // returns P, writes dP/dg
    // and adds dP/dparameters to `gradient` (GradientMode::overwrite: stores it there).
    // Returns P. After it, workspace.values hold the forward pass and gradients[0] g.
    // Every layer must have a second-order pass (second_order_layer; a compile error names
    // the first that lacks one). No allocation after the first call at a batch size.
    template <class Penalty>
    T input_gradient_penalty(Workspace& workspace, Penalty&& penalty, std::span<T> gradient,
                             GradientMode mode = GradientMode::accumulate) const {
        check_second_order(std::make_index_sequence<layer_count>{});
        if (gradient.size() != parameter_count)
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::input_gradient_penalty: the gradient holds ",
                       gradient.size(), " values but the network has ", parameter_count, " parameters");
        const std::size_t batch = workspace.batch_size();
        if (batch == 0)
            XGAN_THROW(std::invalid_argument,
                       "xgan::Sequential::input_gradient_penalty: the batch is empty (0 rows; resize the workspace "
                       "and fill its input first)");
        for (std::size_t i = 0; i <= layer_count; ++i)
            if (workspace.tangents[i].shape()[0] != batch || workspace.tangents[i].shape()[1] != widths[i]) {
                workspace.tangents[i].resize({batch, widths[i]});
                workspace.adjoints[i].resize({batch, widths[i]});
            }

        // The first pass: forward, then the input gradient from ones at the output.
        const ForwardContext context{mode_, workspace.rng, workspace.masks_drawn};
        workspace.masks_drawn = false;
        for_each_index([&]<std::size_t I>() { layer_forward<I>(workspace, context); });
        std::fill(workspace.gradients[layer_count].begin(), workspace.gradients[layer_count].end(), T(1));
        for_each_index_reversed([&]<std::size_t I>() {
            layer_backward_input_into<I>(workspace.gradients[I + 1], workspace.gradients[I], workspace);
        });

        const T value = penalty(std::as_const(workspace.gradients[0]), workspace.tangents[0]);
        if (mode == GradientMode::overwrite) std::fill(gradient.begin(), gradient.end(), T(0));

        // Tangents up: e_{i+1} = J_i e_i, with each layer's second-order terms.
        for (auto& adjoint : workspace.adjoints) std::fill(adjoint.begin(), adjoint.end(), T(0));
        for_each_index([&]<std::size_t I>() {
            if constexpr (second_order_layer<layer_type<I>>)  // else check_second_order has said so
                detail::layer_second_order(std::get<I>(layers_), parameters_of<I>(), workspace.values[I],
                                           workspace.values[I + 1], workspace.gradients[I + 1],
                                           workspace.tangents[I], workspace.tangents[I + 1], workspace.adjoints[I],
                                           gradient.subspan(offsets[I], layer_type<I>::parameter_count),
                                           std::get<I>(workspace.caches));
        });

        // Adjoints down from the highest layer with second-order terms: adjoints[i] =
        // J_i^T adjoints[i + 1] + (its own terms), and dP/dparams of layer i through its output.
        for_each_index_reversed([&]<std::size_t I>() {
            if constexpr (curvature_above(I + 1)) {
                if constexpr (layer_type<I>::parameter_count > 0)
                    layer_accumulate_gradient_from<I>(workspace.adjoints[I + 1],
                                                      gradient.subspan(offsets[I], layer_type<I>::parameter_count),
                                                      workspace);
                if constexpr (I > 0 && curvature_above(I)) {
                    layer_backward_input_into<I>(workspace.adjoints[I + 1], workspace.tangents[I], workspace);
                    auto& adjoint = workspace.adjoints[I];
                    const auto& through = workspace.tangents[I];
                    for (std::size_t k = 0; k < adjoint.size(); ++k) adjoint.data()[k] += through.data()[k];
                }
            }
        });
        return value;
    }

    // The same on the batch x ({batch, input_size}, or {batch, C, H, W} for an image input).
    template <class Penalty, class E>
    T input_gradient_penalty(Workspace& workspace, const xt::xexpression<E>& x, Penalty&& penalty,
                             std::span<T> gradient, GradientMode mode = GradientMode::accumulate) const {
        const auto& input = x.derived_cast();
        check_input(input);
        workspace.resize(input.shape()[0]);
        std::copy(input.begin(), input.end(), workspace.input().begin());
        return input_gradient_penalty(workspace, std::forward<Penalty>(penalty), gradient, mode);
    }

    // Same parameters and buffers, bit for bit.
    friend bool operator==(const BasicSequential& a, const BasicSequential& b) {
        return a.parameters_ == b.parameters_ && a.buffers_ == b.buffers_;
    }

private:
    template <class E>
    static void check_input(const E& x) {
        using rank_check = detail::check_batch_rank<detail::batch_rank<xt::get_rank<E>::value>,
                                                    detail::sample_rank<input_shape::rank>>;
        static_assert(detail::holds<rank_check>,
                      "xgan::Sequential: a batch is 2-D, {batch, input_size}, one sample per row (or {batch, C, H, W} "
                      "for an image input); a 1-D tensor x holding one sample is the batch "
                      "xt::view(x, xt::newaxis(), xt::all())");
        if constexpr (input_shape::rank == 3) {
            if (x.dimension() == 4) {
                const auto& s = x.shape();
                if (s[1] != input_shape::channels || s[2] != input_shape::height || s[3] != input_shape::width)
                    XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the input's images are ", s[1], "x",
                               s[2], "x", s[3], " but the network's input shape is ", input_shape::text(),
                               " (C x H x W)");
                if (s[0] == 0)
                    XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the batch is empty (0 rows)");
                return;
            }
            if (x.dimension() != 2)
                XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the input must be a batch {batch, ",
                           input_shape::channels, ", ", input_shape::height, ", ", input_shape::width,
                           "} or its rows {batch, ", input_size, "}, got ", x.dimension(), " dimensions");
        } else if (x.dimension() != 2) {
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the input must be a 2-D batch {batch, ",
                       input_size, "}, got ", x.dimension(), " dimensions");
        }
        if (x.shape()[1] != input_size)
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the input has ", x.shape()[1],
                       " columns but the network's input size is ", input_size,
                       input_shape::rank == 3 ? " (" + input_shape::text() + ", NCHW)" : std::string());
        if (x.shape()[0] == 0)
            XGAN_THROW(std::invalid_argument, "xgan::Sequential::forward: the batch is empty (0 rows)");
    }

    template <std::size_t Count = layer_count, class F>
    static void for_each_index(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(
            std::make_index_sequence<Count>{});
    }
    template <std::size_t Count = layer_count, class F>
    static void for_each_index_reversed(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<Count - 1 - I>(), ...); }(
            std::make_index_sequence<Count>{});
    }

    // The penalty pass's compile-time check: one check_second_order_layer per layer.
    template <std::size_t... I>
    static void check_second_order(std::index_sequence<I...>) {
        (static_cast<void>(sizeof(detail::check_second_order_layer<detail::layer_index<I>, layer_type<I>>)), ...);
    }
    // Whether a layer at or above `first` has second-order terms for its input
    // (second_order_curvature_v): below the highest such layer, the adjoints are zero.
    static constexpr bool curvature_above(std::size_t first) {
        return [first]<std::size_t... I>(std::index_sequence<I...>) {
            return ((I >= first && second_order_curvature_v<layer_type<I>>) || ...);
        }(std::make_index_sequence<layer_count>{});
    }
    // Layer I's own backward_input from `dy` (its output's gradient) into `dx`.
    template <std::size_t I>
    void layer_backward_input_into(const matrix<T>& dy, matrix<T>& dx, Workspace& workspace) const {
        const auto& layer = std::get<I>(layers_);
        if constexpr (stateful_layer<layer_type<I>>)
            layer.backward_input(parameters_of<I>(), workspace.values[I], workspace.values[I + 1], dy, dx,
                                 std::get<I>(workspace.caches));
        else
            layer.backward_input(parameters_of<I>(), workspace.values[I], workspace.values[I + 1], dy, dx);
    }
    // Layer I's accumulate_gradient for the output gradient `dy`.
    template <std::size_t I>
    void layer_accumulate_gradient_from(const matrix<T>& dy, std::span<T> grad, Workspace& workspace) const {
        const auto& layer = std::get<I>(layers_);
        if constexpr (stateful_layer<layer_type<I>>)
            layer.accumulate_gradient(parameters_of<I>(), workspace.values[I], workspace.values[I + 1], dy, grad,
                                      std::get<I>(workspace.caches));
        else
            layer.accumulate_gradient(parameters_of<I>(), workspace.values[I], workspace.values[I + 1], dy, grad);
    }

    // The fusion rules of layer I (detail/plan.hpp, detail::fusion_rule).
    template <std::size_t I>
    using rule_of = detail::fusion_rule<layer_type<I>>;

    template <std::size_t I>
    void layer_forward(Workspace& workspace, const ForwardContext& context) const {
        const auto& layer = std::get<I>(layers_);
        if constexpr (stateful_layer<layer_type<I>>)
            layer.forward(parameters_of<I>(), buffers_of<I>(), workspace.values[I], workspace.values[I + 1],
                          std::get<I>(workspace.caches), context);
        else
            layer.forward(parameters_of<I>(), workspace.values[I], workspace.values[I + 1]);
    }
    // Layer I of a planned step, run alone because the products are off the kernels
    // (XGAN_KERNELS=blas): through its rule's *_alone members where it has them.
    template <std::size_t I>
    void layer_forward_alone(Workspace& workspace, const ForwardContext& context) const {
        if constexpr (requires {
                          rule_of<I>::forward_alone(std::get<I>(layers_), parameters_of<I>(), workspace.values[I],
                                                    workspace.values[I + 1]);
                      })
            rule_of<I>::forward_alone(std::get<I>(layers_), parameters_of<I>(), workspace.values[I],
                                      workspace.values[I + 1]);
        else
            layer_forward<I>(workspace, context);
    }
    template <std::size_t I>
    void layer_backward_input_alone(Workspace& workspace) const {
        if constexpr (requires {
                          rule_of<I>::backward_input_alone(std::get<I>(layers_), parameters_of<I>(),
                                                           workspace.gradients[I + 1], workspace.gradients[I]);
                      })
            rule_of<I>::backward_input_alone(std::get<I>(layers_), parameters_of<I>(), workspace.gradients[I + 1],
                                             workspace.gradients[I]);
        else
            layer_backward_input_own<I>(workspace);
    }
    template <std::size_t I>
    void layer_parameter_gradient_alone(Workspace& workspace, std::span<T> grad, GradientMode mode) const {
        if constexpr (requires {
                          rule_of<I>::parameter_gradient_alone(std::get<I>(layers_), workspace.values[I],
                                                               workspace.gradients[I + 1], grad, true);
                      })
            rule_of<I>::parameter_gradient_alone(std::get<I>(layers_), workspace.values[I], workspace.gradients[I + 1],
                                                 grad, mode == GradientMode::overwrite);
        else
            layer_parameter_gradient<I>(workspace, grad, mode);
    }

    template <std::size_t I>
    void layer_parameter_gradient(Workspace& workspace, std::span<T> grad, GradientMode mode) const {
        const auto& layer = std::get<I>(layers_);
        if constexpr (requires {
                          layer.assign_gradient(parameters_of<I>(), workspace.values[I], workspace.values[I + 1],
                                                workspace.gradients[I + 1], grad);
                      }) {
            if (mode == GradientMode::overwrite) {
                layer.assign_gradient(parameters_of<I>(), workspace.values[I], workspace.values[I + 1],
                                      workspace.gradients[I + 1], grad);
                return;
            }
        }
        // Layers without assign_gradient accumulate into zeros.
        if (mode == GradientMode::overwrite) std::fill(grad.begin(), grad.end(), T(0));
        if constexpr (stateful_layer<layer_type<I>>)
            layer.accumulate_gradient(parameters_of<I>(), workspace.values[I], workspace.values[I + 1],
                                      workspace.gradients[I + 1], grad, std::get<I>(workspace.caches));
        else
            layer.accumulate_gradient(parameters_of<I>(), workspace.values[I], workspace.values[I + 1],
                                      workspace.gradients[I + 1], grad);
    }

    // Layer I's input-gradient pass in backward<Stop> (or backward_input<Stop>, where a
    // through_previous_with_gradient step has no gradient to take): through layer I - 1
    // as well when the plan says so and the products are on the kernels.
    template <std::size_t I, std::size_t Stop>
    void layer_backward_input(Workspace& workspace, bool fuse) const {
        constexpr detail::backward_role role = detail::fusion_plan<layers_type, Stop>::backward[I];
        if constexpr (role == detail::backward_role::through_previous ||
                      role == detail::backward_role::through_previous_with_gradient) {
            if (fuse)  // through this layer and layer I - 1, into gradients[I - 1]
                rule_of<I>::template backward_input_through<layer_type<I - 1>>(
                    std::get<I>(layers_), parameters_of<I>(), workspace.values[I], workspace.gradients[I + 1],
                    workspace.gradients[I - 1]);
            else  // alone (XGAN_KERNELS=blas); layer I - 1's pass follows
                layer_backward_input_alone<I>(workspace);
            return;
        }
        layer_backward_input_own<I>(workspace);
    }
    template <std::size_t I>
    void layer_backward_input_own(Workspace& workspace) const {
        const auto& layer = std::get<I>(layers_);
        if constexpr (stateful_layer<layer_type<I>>)
            layer.backward_input(parameters_of<I>(), workspace.values[I], workspace.values[I + 1],
                                 workspace.gradients[I + 1], workspace.gradients[I], std::get<I>(workspace.caches));
        else
            layer.backward_input(parameters_of<I>(), workspace.values[I], workspace.values[I + 1],
                                 workspace.gradients[I + 1], workspace.gradients[I]);
    }

    // Names the blocks that blocks_of(layer*) lists for each layer, in a flat vector at `data`.
    template <class U, class BlocksOf>
    std::vector<named_parameter<U>> named_blocks(U* data, const std::array<std::size_t, layer_count + 1>& starts,
                                                 BlocksOf blocks_of) const {
        std::vector<named_parameter<U>> result;
        for_each_index([&]<std::size_t I>() {
            for (const parameter_block& block : blocks_of(static_cast<layer_type<I>*>(nullptr))) {
                std::vector<std::size_t> shape(block.shape.begin(), block.shape.begin() + block.rank);
                result.push_back({std::to_string(I) + "." + std::string(block.name), std::move(shape),
                                  std::span<U>(data + starts[I] + block.offset, block.size())});
            }
        });
        return result;
    }

    [[no_unique_address]] layers_type layers_{};
    std::vector<T> parameters_;
    std::vector<T> buffers_;
    Mode mode_ = Mode::training;
};

// A float network: Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>.
template <layer_spec... Specs>
using Sequential = BasicSequential<float, Specs...>;

// The same stack in another scalar type.
template <class Net, class U>
struct rebind_scalar;
template <class T, class... Specs, class U>
struct rebind_scalar<BasicSequential<T, Specs...>, U> {
    using type = BasicSequential<U, Specs...>;
};
template <class Net, class U>
using rebind_scalar_t = typename rebind_scalar<Net, U>::type;

// True when Specs... form a valid stack; lets tests check rejection without a failing build.
template <class... Specs>
inline constexpr bool composable = [] {
    if constexpr (sizeof...(Specs) == 0 || !(layer_spec<Specs> && ...)) {
        return false;
    } else {
        using first = std::tuple_element_t<0, std::tuple<Specs...>>;
        using specs = typename detail::layer_specs<Specs...>::type;
        if constexpr (std::is_void_v<fixed_input_shape_t<first>> || std::tuple_size_v<specs> == 0) {
            return false;
        } else {
            using in = detail::stack_input_shape_t<first>;
            using layers = typename detail::bind_stack_tuple<float, in, specs>::type;
            return []<std::size_t... I>(std::index_sequence<I...>) {
                return (detail::spec_accepts<std::tuple_element_t<I, specs>,
                                             typename std::conditional_t<
                                                 I == 0, std::type_identity<in>,
                                                 detail::output_shape_of<std::tuple_element_t<(I > 0 ? I - 1 : 0), layers>>>::type>() &&
                        ...);
            }(std::make_index_sequence<std::tuple_size_v<specs>>{});
        }
    }
}();

namespace detail {
// Whether N is a Sequential known to be a Network without instantiating it. Under g++
// `using Trainer = AdversarialTrainer<G, D>;` then instantiates neither, so a shape
// error in G or D names the line that uses Trainer, not the alias. clang++ treats a
// class whose static_assert failed as having no members, so there G is checked (and
// instantiated) at the alias, as before, rather than failing again inside the trainer.
template <class N>
inline constexpr bool known_sequential = false;
#ifndef __clang__
template <class T, class... Specs>
inline constexpr bool known_sequential<BasicSequential<T, Specs...>> = true;
#endif
}  // namespace detail

// A network xgan can train: the members Sequential provides.
template <class N>
concept Network = detail::known_sequential<N> || requires {
    typename N::value_type;
    typename N::Workspace;
    { N::input_size } -> std::convertible_to<std::size_t>;
    { N::output_size } -> std::convertible_to<std::size_t>;
    { N::parameter_count } -> std::convertible_to<std::size_t>;
    { N::layer_count } -> std::convertible_to<std::size_t>;
};

}  // namespace xgan
