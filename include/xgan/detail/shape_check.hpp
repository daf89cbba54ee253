// Compile-time shape checks. Each check is a class template whose arguments carry
// the numbers, so the compiler prints them next to the message
// (".. In instantiation of check_layer_input<layer_index<2>, previous_output_size<128>,
// this_input_size<64>> ... static assertion failed: xgan::Sequential: ...").
#pragma once

#include <cstddef>

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

template <class GeneratorOut, class DiscriminatorIn>
struct check_gan_sizes;

template <std::size_t G, std::size_t D>
struct check_gan_sizes<generator_output_size<G>, discriminator_input_size<D>> {
    static_assert(G == D,
                  "xgan::AdversarialTrainer: the generator's output size must equal the discriminator's input "
                  "size (the discriminator scores what the generator makes)");
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
