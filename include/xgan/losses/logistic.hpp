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
template <class T>
T bce_with_logits(T l, T t) {
    return softplus(l) - t * l;
}

// Its derivative with respect to l.
template <class T>
T bce_with_logits_gradient(T l, T t) {
    return sigmoid(l) - t;
}

}  // namespace xgan::detail
