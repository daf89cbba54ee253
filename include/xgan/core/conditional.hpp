// Conditional<Classes, Net>: a network that reads a class label with each sample. Its
// input row is [x, onehot(y)]: Net's input size counts the Classes one-hot values. Net may
// read them as they are (a Dense layer: concatenated one-hot) or through a learned
// Embedding<Classes, Dim> (layers/embedding.hpp). The class count is part of the type, so
// the trainer refuses, at compile time, a generator and a discriminator that disagree on
// it or a conditional step without labels (docs/design/error-messages.md, 58 to 61).
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

// Catalogue entry 58: the input must hold the condition and at least one more value.
template <class Classes, class InputSize, bool VectorInput>
struct check_condition_fits {
    static constexpr bool holds = false;
};
template <std::size_t C, std::size_t N, bool V>
struct check_condition_fits<condition_classes<C>, network_input_size<N>, V> {
    static constexpr bool holds = C > 0 && V && N > C;
};

}  // namespace detail

// A network Net whose input ends in a one-hot condition over Classes classes. Everything
// of Net (forward, parameters, checkpoints) is unchanged; the type only records the count.
template <std::size_t Classes, Network Net>
struct Conditional : Net {
    using network_type = Net;
    static constexpr std::size_t classes = Classes;

private:
    using fits_check = detail::check_condition_fits<detail::condition_classes<Classes>,
                                                    detail::network_input_size<Net::input_size>,
                                                    Net::input_shape::rank == 1>;
    static_assert(fits_check::holds,
                  "xgan::Conditional<Classes, Net>: Net's input is a vector [x, onehot(y)] of the sample (or noise) "
                  "and Classes one-hot values, so its input size must exceed Classes and Classes must be positive "
                  "(the numbers are in the note below: make Net's first layer read x's size + Classes values)");

public:
    // The values of a row besides the condition: the noise of a generator, the sample a
    // discriminator scores.
    static constexpr std::size_t sample_size = Net::input_size - (Classes < Net::input_size ? Classes : 0);

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
