// The networks export_speed compares with their exported headers (export_headers.cpp
// writes those): Example 01's painting generator and Example 04's DCGAN generator.
#pragma once

#include <xgan/xgan.hpp>

namespace export_bench {
using namespace xgan;
using Painting = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
using Dcgan = Sequential<Dense<100, 128 * 7 * 7>, Unflatten<128, 7, 7>, BatchNorm, ReLU, ConvTranspose2D<128, 64, 4, 2, 1>,
                         BatchNorm, ReLU, ConvTranspose2D<64, 1, 4, 2, 1>, Tanh>;
}  // namespace export_bench
