// Compile-time shape checks. Each check is a class template whose arguments carry
// the numbers, so the compiler prints them next to the message
// (".. In instantiation of check_layer_input<layer_index<2>, previous_output_size<128>,
// this_input_size<64>> ... static assertion failed: xgan::Sequential: ...").
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

template <class Index, class Previous, class Input>
struct check_layer_input;

template <std::size_t I, std::size_t Previous, std::size_t Input>
struct check_layer_input<layer_index<I>, previous_output_size<Previous>, this_input_size<Input>> {
    static_assert(Previous == Input,
                  "xgan::Sequential: a layer's input size must equal the previous layer's output size "
                  "(layer_index counts from 0; change the Dense<In, Out> at that position or the one before it)");
};

// Layers that take their width from the previous one (activations) always fit.
template <std::size_t I, std::size_t Previous>
struct check_layer_input<layer_index<I>, previous_output_size<Previous>, this_input_size<0>> {};

// The same rule where a shape is an image: shapes must be equal, not just their sizes.
template <class S> struct previous_output_shape {};
template <class S> struct this_input_shape {};

template <class Index, class Previous, class Input>
struct check_layer_shape;

template <std::size_t I, class Previous, class Input>
struct check_layer_shape<layer_index<I>, previous_output_shape<Previous>, this_input_shape<Input>> {
    static_assert(std::is_same_v<Previous, Input>,
                  "xgan::Sequential: a layer's input shape must equal the previous layer's output shape "
                  "(layer_index counts from 0; shapes are C x H x W or a vector; a Dense layer takes a vector: put "
                  "xgan::Flatten before it, and xgan::Unflatten<C, H, W> after it to return to images)");
};

// A layer without an input rule (an activation) fits any shape.
template <class Index>
struct no_check {};

template <class GeneratorOut, class DiscriminatorIn>
struct check_gan_sizes;

template <std::size_t G, std::size_t D>
struct check_gan_sizes<generator_output_size<G>, discriminator_input_size<D>> {
    static_assert(G == D,
                  "xgan::AdversarialTrainer: the generator's output size must equal the discriminator's input "
                  "size (the discriminator scores what the generator makes)");
};

// The same where either shape is an image: the shapes must be equal.
template <class S> struct generator_output_shape {};
template <class S> struct discriminator_input_shape {};

template <class GeneratorOut, class DiscriminatorIn>
struct check_gan_shapes;

template <class G, class D>
struct check_gan_shapes<generator_output_shape<G>, discriminator_input_shape<D>> {
    static_assert(std::is_same_v<G, D>,
                  "xgan::AdversarialTrainer: the generator's output shape must equal the discriminator's input "
                  "shape (C x H x W; end the generator with xgan::Unflatten<C, H, W> or start the discriminator "
                  "with xgan::Flatten to make them agree)");
};

template <class DiscriminatorOut>
struct check_discriminator_output;

template <std::size_t D>
struct check_discriminator_output<discriminator_output_size<D>> {
    static_assert(D == 1,
                  "xgan::AdversarialTrainer: the discriminator must end in one output per sample "
                  "(e.g. Dense<128, 1>, Sigmoid)");
};

}  // namespace xgan::detail
