// Compile-time shape checks. Each check is a class template whose arguments carry the
// numbers; holds<Check> says whether its rule holds. The networks and the trainer
// static_assert holds<...> in their own bodies, so g++ and clang++ print the rule right
// after "required from here" (the user's line) and the numbers in the note under it
// ("'holds<check_layer_input<layer_index<2>, previous_output_size<128>,
// this_input_size<64>>>' evaluates to false").
#pragma once

#include <cstddef>
#include <type_traits>

namespace xgan::detail {

template <std::size_t I> struct layer_index {};
template <std::size_t N> struct previous_output_size {};
template <std::size_t N> struct this_input_size {};
template <std::size_t N> struct generator_output_size {};
template <std::size_t N> struct discriminator_input_size {};
template <std::size_t N> struct discriminator_output_size {};

// Whether a check's rule holds; one of another kind, or void (no check), holds.
template <class Check>
inline constexpr bool holds = true;

// The layer at layer_index<I> reads Input values; the one before it makes Previous.
template <class Index, class Previous, class Input>
struct check_layer_input {};
template <std::size_t I, std::size_t Previous, std::size_t Input>
inline constexpr bool holds<check_layer_input<layer_index<I>, previous_output_size<Previous>, this_input_size<Input>>> =
    Previous == Input || Input == 0;  // 0: a layer taking the previous width (an activation)

// The same rule where a shape is an image: shapes must be equal, not just their sizes.
template <class S> struct previous_output_shape {};
template <class S> struct this_input_shape {};

template <class Index, class Previous, class Input>
struct check_layer_shape {};
template <std::size_t I, class Previous, class Input>
inline constexpr bool holds<check_layer_shape<layer_index<I>, previous_output_shape<Previous>, this_input_shape<Input>>> =
    std::is_same_v<Previous, Input>;

// A layer without an input rule (an activation) fits any shape.
template <class Index>
struct no_check {};

template <class GeneratorOut, class DiscriminatorIn>
struct check_gan_sizes {};
template <std::size_t G, std::size_t D>
inline constexpr bool holds<check_gan_sizes<generator_output_size<G>, discriminator_input_size<D>>> = G == D;

// The same where either shape is an image: the shapes must be equal.
template <class S> struct generator_output_shape {};
template <class S> struct discriminator_input_shape {};

template <class GeneratorOut, class DiscriminatorIn>
struct check_gan_shapes {};
template <class G, class D>
inline constexpr bool holds<check_gan_shapes<generator_output_shape<G>, discriminator_input_shape<D>>> =
    std::is_same_v<G, D>;

template <class DiscriminatorOut>
struct check_discriminator_output {};
template <std::size_t D>
inline constexpr bool holds<check_discriminator_output<discriminator_output_size<D>>> = D == 1;

// A batch's rank, when its type fixes it (xtensor<T, N>; SIZE_MAX for xarray, known at run
// time only), against the rank of one sample: rows {batch, size}, or images {batch, C, H, W}.
template <std::size_t N> struct batch_rank {};
template <std::size_t N> struct sample_rank {};
template <class Batch, class Sample>
struct check_batch_rank {};
template <std::size_t B, std::size_t S>
inline constexpr bool holds<check_batch_rank<batch_rank<B>, sample_rank<S>>> =
    B == static_cast<std::size_t>(-1) || B == 2 || (S == 3 && B == 4);

// The first check of kind Kind among Checks whose rule does not hold, or void.
template <template <class...> class Kind, class Check>
inline constexpr bool is_check_of = false;
template <template <class...> class Kind, class... A>
inline constexpr bool is_check_of<Kind, Kind<A...>> = true;

template <template <class...> class Kind, class... Checks>
struct first_failing {
    using type = void;
};
template <template <class...> class Kind, class Check, class... Rest>
struct first_failing<Kind, Check, Rest...>
    : std::conditional_t<is_check_of<Kind, Check> && !holds<Check>, std::type_identity<Check>,
                         first_failing<Kind, Rest...>> {};

}  // namespace xgan::detail
