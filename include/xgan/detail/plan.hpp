// The fusion plan of a network: which layer runs which pass, alone or as one step with
// its neighbours, decided at compile time from the concrete layer types. Sequential
// runs the plan; the rules it is built from live with the layers that provide them
// (layers/dense_fusion.hpp: a small Dense layer with the ReLU-like activation next to
// it). A layer without rules runs every pass alone, and a new layer needs none.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <tuple>
#include <utility>

namespace xgan::detail {

// What a layer L can run as one step with its neighbours. The primary template has no
// rules; a layer specialises it next to itself and may provide
//
//   template <class Next> static constexpr bool forward_with_next;
//       L and the layer Next after it run forward as one step (forward_pair).
//   template <class Next, class After> static constexpr bool forward_with_next_two;
//       L, Next and After run forward as one step (forward_triple); asked only where
//       forward_with_next<Next> holds.
//   template <class Prev> static constexpr bool backward_through_previous;
//       L's input-gradient pass runs through the layer Prev before it as well
//       (backward_input_through).
//   template <class Prev> static constexpr bool gradient_with_previous;
//       and L's parameter gradient in the same pass (backward_through_with_gradient);
//       asked only where backward_through_previous<Prev> holds.
//
// with the static members those steps call (T the scalar, x L's input, the others as
// named below):
//   forward_pair<Next>(layer, params, x, out)                  out: Next's output
//   forward_triple<Next, After>(layer, params, x, mid, after_params, out)
//                                                              mid: Next's output, out: After's
//   backward_input_through<Prev>(layer, params, a, dy, da)     a: Prev's output (L's input),
//                                                              dy: dLoss/dL's output, da: dLoss/dPrev's input
//   backward_through_with_gradient<Prev>(layer, params, a, dy, da, grad, assign)
//                                                              and L's parameter gradient,
//                                                              stored when assign, else added
// and, optionally, the passes L runs alone where a step of its own is planned but the
// products are not on the kernels (detail::kernels::products_on_kernels() is false), in
// place of its forward / backward_input / parameter gradient:
//   forward_alone(layer, params, x, y), backward_input_alone(layer, params, dy, dx),
//   parameter_gradient_alone(layer, x, dy, grad, assign).
//
// A rule that lets a step skip a value (below) promises that no pass reads it.
template <class L>
struct fusion_rule {};

// The rules' answers for a pair or triple of layer types (false where there is no rule).
template <class L, class Next>
constexpr bool fuses_forward() {
    if constexpr (requires {
                      { fusion_rule<L>::template forward_with_next<Next> } -> std::convertible_to<bool>;
                  })
        return fusion_rule<L>::template forward_with_next<Next>;
    else
        return false;
}
template <class L, class Next, class After>
constexpr bool fuses_forward_two() {
    if constexpr (requires {
                      { fusion_rule<L>::template forward_with_next_two<Next, After> } -> std::convertible_to<bool>;
                  })
        return fusion_rule<L>::template forward_with_next_two<Next, After>;
    else
        return false;
}
template <class L, class Prev>
constexpr bool fuses_backward() {
    if constexpr (requires {
                      { fusion_rule<L>::template backward_through_previous<Prev> } -> std::convertible_to<bool>;
                  })
        return fusion_rule<L>::template backward_through_previous<Prev>;
    else
        return false;
}
template <class L, class Prev>
constexpr bool fuses_gradient() {
    if constexpr (requires {
                      { fusion_rule<L>::template gradient_with_previous<Prev> } -> std::convertible_to<bool>;
                  })
        return fusion_rule<L>::template gradient_with_previous<Prev>;
    else
        return false;
}

// What layer i does in a forward pass. values[0] is the input, values[i + 1] layer i's output.
enum class forward_role : unsigned char {
    alone,   // its own forward: values[i] -> values[i + 1]
    pair,    // layers i and i + 1 in one step: values[i] -> values[i + 2]
    triple,  // layers i, i + 1 and i + 2 in one step: values[i] -> values[i + 2] and values[i + 3]
    second,  // done by the step of layer i - 1
    third,   // done by the step of layer i - 2
};

// What layer i does in a backward pass. gradients[j] is dLoss/dvalues[j].
enum class backward_role : unsigned char {
    alone,             // its parameter gradient, and gradients[i + 1] -> gradients[i]
    through_previous,  // its parameter gradient, and gradients[i + 1] -> gradients[i - 1]
                       // through layer i - 1 as well
    through_previous_with_gradient,  // both in one step
    done_by_next,      // layer i + 1's step passes the gradient through this layer
};

// The plan of the layers of Layers (a std::tuple of concrete layers) for a pass through
// layers [0, Stop):
//   forward[i], backward[i]   the role of layer i < Stop (alone for i >= Stop).
// Steps are chosen from the first layer up (forward) and from the last down (backward);
// a layer takes part in one step at most, and a triple is not formed when its third
// layer starts a pair itself.
//
// The contract of a plan with Sequential's Workspace:
//   - Every step stays inside [0, Stop), so values[Stop] (what forward<Stop> returns) is
//     always written.
//   - A pair or triple starting at layer i does not write values[i + 1] (its first
//     layer's output): it holds what a previous pass left there. The rule that forms the
//     step guarantees that no pass reads it (the backward pass of a ReLU-like layer i + 1
//     reads its output, not its input).
//   - A through_previous step at layer i does not write gradients[i].
//   - The steps run only where detail::kernels::products_on_kernels(); elsewhere every
//     layer runs alone (through its rule's *_alone members where it has them), and all
//     values and gradients are written. Either way the results are the same, bit for bit.
template <class Layers, std::size_t Stop>
struct fusion_plan;

template <class... L, std::size_t Stop>
struct fusion_plan<std::tuple<L...>, Stop> {
    static constexpr std::size_t count = sizeof...(L);
    static_assert(Stop <= count, "xgan::detail::fusion_plan: Stop counts layers and cannot exceed their number");

private:
    template <std::size_t I>
    using at = std::tuple_element_t<I, std::tuple<L...>>;

    template <std::size_t I>
    static constexpr bool pair_at() {
        if constexpr (I + 1 < Stop) return fuses_forward<at<I>, at<I + 1>>();
        else return false;
    }
    template <std::size_t I>
    static constexpr bool triple_at() {
        if constexpr (I + 2 < Stop) {
            if constexpr (fuses_forward<at<I>, at<I + 1>>()) return fuses_forward_two<at<I>, at<I + 1>, at<I + 2>>();
            else return false;
        } else {
            return false;
        }
    }
    template <std::size_t I>
    static constexpr bool through_at() {
        if constexpr (I > 0 && I < Stop) return fuses_backward<at<I>, at<(I > 0 ? I - 1 : 0)>>();
        else return false;
    }
    template <std::size_t I>
    static constexpr bool gradient_at() {
        if constexpr (through_at<I>()) return fuses_gradient<at<I>, at<I - 1>>();
        else return false;
    }

    template <std::size_t... I>
    static constexpr std::array<forward_role, count> make_forward(std::index_sequence<I...>) {
        constexpr std::array<bool, count> pair{pair_at<I>()...};
        constexpr std::array<bool, count> triple{triple_at<I>()...};
        std::array<forward_role, count> roles{};
        for (std::size_t i = 0; i < Stop;) {
            if (triple[i] && !pair[i + 2]) {
                roles[i] = forward_role::triple;
                roles[i + 1] = forward_role::second;
                roles[i + 2] = forward_role::third;
                i += 3;
            } else if (pair[i]) {
                roles[i] = forward_role::pair;
                roles[i + 1] = forward_role::second;
                i += 2;
            } else {
                ++i;
            }
        }
        return roles;
    }

    template <std::size_t... I>
    static constexpr std::array<backward_role, count> make_backward(std::index_sequence<I...>) {
        constexpr std::array<bool, count> through{through_at<I>()...};
        constexpr std::array<bool, count> gradient{gradient_at<I>()...};
        std::array<backward_role, count> roles{};
        for (std::size_t i = Stop; i > 0;) {
            --i;
            if (through[i]) {
                roles[i] = gradient[i] ? backward_role::through_previous_with_gradient : backward_role::through_previous;
                roles[i - 1] = backward_role::done_by_next;
                --i;
            }
        }
        return roles;
    }

public:
    static constexpr std::array<forward_role, count> forward = make_forward(std::index_sequence_for<L...>{});
    static constexpr std::array<backward_role, count> backward = make_backward(std::index_sequence_for<L...>{});
};

}  // namespace xgan::detail
