// Numerically stable pieces of the logistic losses, written on logits l with
// D = sigmoid(l):  -log D = softplus(-l),  -log(1 - D) = softplus(l).
// They stay finite however far the discriminator saturates.
#pragma once

#include <cmath>

namespace xgan::detail {

// log(1 + exp(x)) without overflow.
template <class T>
T softplus(T x) {
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
}

template <class T>
T sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

// Binary cross-entropy of logit l against target probability t:
// -(t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))) = softplus(l) - t l.
// Grouped as (max(l, 0) - t l) + log1p(exp(-|l|)) so that for t = 1 and large l the
// cancellation happens before the tiny log1p term is added (else it is lost).
template <class T>
T bce_with_logits(T l, T t) {
    return ((l > T(0) ? l : T(0)) - t * l) + std::log1p(std::exp(-std::abs(l)));
}

// Its derivative with respect to l.
// For l > 0, sigmoid(l) - t = (1 - t) - sigmoid(-l): exact where sigmoid(l) rounds to 1.
template <class T>
T bce_with_logits_gradient(T l, T t) {
    return l > T(0) ? (T(1) - t) - sigmoid(-l) : sigmoid(l) - t;
}

}  // namespace xgan::detail
