// Conditional<Classes, Net>: a network that reads a class label with each sample. For a
// vector input its row is [x, onehot(y)]: Net's input size counts the Classes one-hot
// values. Net may read them as they are (a Dense layer: concatenated one-hot) or through a
// learned Embedding<Classes, Dim> (layers/embedding.hpp). For an image input (C + Classes,
// H, W) the condition is Classes constant planes after x's C channels, the labelled
// class's plane all ones and the others zeros (a conditional DCGAN's discriminator). The
// class count is part of the type, so the trainer refuses, at compile time, a generator
// and a discriminator that disagree on it or a conditional step without labels
// (docs/design/error-messages.md, 58 to 63).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <xgan/config.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

namespace detail {

template <std::size_t N>
struct condition_classes {};
template <std::size_t N>
struct network_input_size {};

// Catalogue entry 58: a vector input must hold the condition and at least one more value.
template <class Classes, class InputSize, bool VectorInput>
struct check_condition_fits {
    static constexpr bool holds = false;
};
template <std::size_t C, std::size_t N, bool V>
struct check_condition_fits<condition_classes<C>, network_input_size<N>, V> {
    static constexpr bool holds = !V || (C > 0 && N > C);
};

// Catalogue entry 62: an image input must hold the condition's planes and at least one
// channel more.
template <std::size_t N>
struct network_input_channels {};
template <class Classes, class Channels, bool ImageInput>
struct check_condition_channels {
    static constexpr bool holds = false;
};
template <std::size_t C, std::size_t N, bool I>
struct check_condition_channels<condition_classes<C>, network_input_channels<N>, I> {
    static constexpr bool holds = !I || (C > 0 && N > C);
};

// Where a row of a conditional input keeps its condition (after sample_size values): Classes
// one-hot values for a vector input, Classes planes of H x W values for an image.
template <std::size_t Classes, class InputShape>
struct condition_layout {
    static constexpr bool planes = InputShape::rank == 3;
    static constexpr std::size_t plane = planes ? InputShape::height * InputShape::width : 1;
    static constexpr std::size_t size = Classes * plane;

    // Writes the condition of `label` at `condition` (the row's values after the sample).
    template <class T>
    static void write(T* condition, std::size_t label) {
        std::fill_n(condition, size, T(0));
        std::fill_n(condition + label * plane, plane, T(1));
    }

    // The label whose condition starts at `condition` (written by write).
    template <class T>
    static std::size_t read(const T* condition) {
        std::size_t label = 0;
        for (std::size_t c = 1; c < Classes; ++c)
            if (condition[c * plane] > condition[label * plane]) label = c;
        return label;
    }
};

}  // namespace detail

// A network Net whose input ends in a one-hot condition over Classes classes, or for an
// image input in one constant plane per class. Everything of Net (forward, parameters,
// checkpoints) is unchanged; the type only records the count.
template <std::size_t Classes, Network Net>
struct Conditional : Net {
    using network_type = Net;
    static constexpr std::size_t classes = Classes;

private:
    using input_shape_type = typename Net::input_shape;
    using fits_check = detail::check_condition_fits<detail::condition_classes<Classes>,
                                                    detail::network_input_size<Net::input_size>,
                                                    input_shape_type::rank != 3>;
    static_assert(fits_check::holds,
                  "xgan::Conditional<Classes, Net>: Net's input is a vector [x, onehot(y)] of the sample (or noise) "
                  "and Classes one-hot values, so its input size must exceed Classes and Classes must be positive "
                  "(the numbers are in the note below: make Net's first layer read x's size + Classes values)");
    using channels_check = detail::check_condition_channels<detail::condition_classes<Classes>,
                                                            detail::network_input_channels<input_shape_type::channels>,
                                                            input_shape_type::rank == 3>;
    static_assert(channels_check::holds,
                  "xgan::Conditional<Classes, Net>: Net's input is an image (C + Classes) x H x W, the sample's C "
                  "channels followed by one constant plane per class, so its channels must exceed Classes and "
                  "Classes must be positive (the numbers are in the note below: make Net's first layer read the "
                  "sample's channels + Classes)");

    using layout = detail::condition_layout<Classes, input_shape_type>;

public:
    // Whether the condition is Classes planes of an image input (else one-hot values).
    static constexpr bool condition_planes = layout::planes;
    // How many values of a row hold the condition: Classes, or Classes x H x W for an image.
    static constexpr std::size_t condition_size = layout::size;
    // The values of a row besides the condition: the noise of a generator, the sample a
    // discriminator scores (an image's first C x H x W values, NCHW).
    static constexpr std::size_t sample_size =
        Net::input_size - (condition_size < Net::input_size ? condition_size : 0);

    // Writes the condition of `label` (below Classes, unchecked) at `condition`, a row's
    // values after its sample_size first ones; condition_label reads it back.
    template <class T>
    static void write_condition(T* condition, std::size_t label) { layout::write(condition, label); }
    template <class T>
    static std::size_t condition_label(const T* condition) { return layout::template read<T>(condition); }

    using Net::Net;
    Conditional() = default;
    explicit Conditional(Net net) : Net(std::move(net)) {}

    Net& network() { return *this; }
    const Net& network() const { return *this; }
};

// The class count of a conditional network; 0 for any other.
template <class N>
inline constexpr std::size_t conditional_classes_v = 0;
template <std::size_t Classes, class Net>
inline constexpr std::size_t conditional_classes_v<Conditional<Classes, Net>> = Classes;

// How many values of an input row hold the condition (Conditional::condition_size); 0
// for a network that is not conditional.
template <class N>
inline constexpr std::size_t condition_size_v = 0;
template <std::size_t Classes, class Net>
inline constexpr std::size_t condition_size_v<Conditional<Classes, Net>> = Conditional<Classes, Net>::condition_size;

// Whether a conditional network's condition is planes of an image input.
template <class N>
inline constexpr bool condition_planes_v = false;
template <std::size_t Classes, class Net>
inline constexpr bool condition_planes_v<Conditional<Classes, Net>> = Conditional<Classes, Net>::condition_planes;

namespace detail {

// Throws naming the first label that is not below `classes`.
template <class Label>
void check_labels(const char* who, std::span<const Label> labels, std::size_t classes) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if constexpr (std::is_signed_v<Label>)
            if (labels[i] < 0)
                XGAN_THROW(std::invalid_argument, who, ": label ", static_cast<long long>(labels[i]), " at row ", i,
                           " is negative");
        if (static_cast<unsigned long long>(labels[i]) >= classes)
            XGAN_THROW(std::invalid_argument, who, ": label ", static_cast<unsigned long long>(labels[i]), " at row ",
                       i, " is not below the class count ", classes);
    }
}

// Writes rows of [values, onehot(label)]: `values` rows of `width` (its row r starting at
// values + r * stride), each followed by the one-hot of its label, into out.
template <class T, class Label>
void write_conditioned_rows(T* out, const T* values, std::size_t width, std::size_t stride,
                            std::span<const Label> labels, std::size_t classes) {
    const std::size_t row = width + classes;
    for (std::size_t r = 0; r < labels.size(); ++r) {
        std::copy_n(values + r * stride, width, out + r * row);
        std::fill_n(out + r * row + width, classes, T(0));
        out[r * row + width + static_cast<std::size_t>(labels[r])] = T(1);
    }
}

// A penalty on the input gradient of a conditional critic with respect to its rows'
// first `sample` values only (conditional WGAN-GP, R1): zeroes the condition's columns
// of the input gradient g (gradient, the same matrix the penalty pass hands over), calls
// the penalty, and zeroes dP/dg there, so the condition contributes neither to P nor to
// its gradient.
template <class P, class T>
struct sample_gradient_penalty {
    const P& penalty;
    matrix<T>& gradient;
    std::size_t sample, width;

    T operator()(const matrix<T>& g, matrix<T>& dP_dg) const {
        const std::size_t rows = gradient.shape()[0];
        for (std::size_t r = 0; r < rows; ++r)
            std::fill_n(gradient.data() + r * width + sample, width - sample, T(0));
        const T value = penalty(g, dP_dg);
        for (std::size_t r = 0; r < rows; ++r)
            std::fill_n(dP_dg.data() + r * width + sample, width - sample, T(0));
        return value;
    }
};

}  // namespace detail

// The input rows of Conditional<Classes, ...> for rows of x {n, w} and n labels: {n, w +
// Classes} holding [x_r, onehot(labels[r])]. Throws on a label not below Classes or a
// count that does not match x's rows.
template <std::size_t Classes, class E, class Label>
matrix<typename E::value_type> with_condition(const xt::xexpression<E>& x, std::span<const Label> labels) {
    using T = typename E::value_type;
    const matrix<T> rows = x.derived_cast();
    if (rows.dimension() != 2)
        XGAN_THROW(std::invalid_argument, "xgan::with_condition: x must be {n, width}, got ", rows.dimension(),
                   " dimension(s)");
    if (rows.shape()[0] != labels.size())
        XGAN_THROW(std::invalid_argument, "xgan::with_condition: x has ", rows.shape()[0], " rows but ", labels.size(),
                   " labels were given");
    detail::check_labels("xgan::with_condition", labels, Classes);
    const std::size_t width = rows.shape()[1];
    matrix<T> out({rows.shape()[0], width + Classes});
    detail::write_conditioned_rows(out.data(), rows.data(), width, width, labels, Classes);
    return out;
}

}  // namespace xgan
