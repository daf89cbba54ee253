// Tensor aliases used throughout xgan, and the xtensor include shim.
#pragma once

#include <cstddef>

// xtensor 0.26 moved its headers into sub-folders; 0.24/0.25 keep them flat.
#if __has_include(<xtensor/containers/xtensor.hpp>)
#include <xtensor/containers/xadapt.hpp>
#include <xtensor/containers/xtensor.hpp>
#else
#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>
#endif

namespace xgan {

// A batch: one sample per row, shape {batch, width}.
template <class T>
using matrix = xt::xtensor<T, 2>;

// A flat parameter or gradient vector.
template <class T>
using vector = xt::xtensor<T, 1>;

}  // namespace xgan
