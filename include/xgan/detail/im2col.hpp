// im2col and col2im: the two data movements that turn a convolution into one matrix
// product. Conv2D's forward pass is im2col then a product; its input gradient a product
// then col2im. ConvTranspose2D is the same pair the other way round: its forward pass is
// Conv2D's input gradient and its input gradient Conv2D's forward pass.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace xgan::detail {

// One convolution's sizes. The image is channels x height x width; the kernel, stride and
// padding are given per axis; out_h x out_w is the grid of kernel positions
// ((height + 2 pad_h - kernel_h) / stride_h + 1 for a convolution).
struct conv_geometry {
    std::size_t channels, height, width;
    std::size_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
    std::size_t out_h, out_w;

    // The column matrix is rows() x positions(): one row per (channel, kernel row, kernel
    // column), one column per kernel position (output pixel).
    constexpr std::size_t rows() const { return channels * kernel_h * kernel_w; }
    constexpr std::size_t positions() const { return out_h * out_w; }
    constexpr std::size_t image_size() const { return channels * height * width; }
};

// The kernel positions o in [0, out) whose input index o * stride - pad + k lies in
// [0, extent): [first, last).
struct valid_range {
    std::size_t first, last;
};
constexpr valid_range valid_positions(std::size_t out, std::size_t extent, std::size_t stride, std::size_t pad,
                                      std::size_t k) {
    // o * stride + k >= pad  and  o * stride + k < extent + pad
    const std::size_t first = k >= pad ? 0 : (pad - k + stride - 1) / stride;
    const std::size_t last = extent + pad > k ? std::min(out, (extent + pad - k - 1) / stride + 1) : 0;
    return {std::min(first, last), last};
}

// columns[(c, ki, kj), (oh, ow)] = image[c, oh * stride_h - pad_h + ki, ow * stride_w - pad_w + kj],
// 0 where that falls in the padding. Row r of the columns starts at columns + r * ld (ld >=
// positions(), so a batch's samples can sit side by side in one wide matrix).
template <class T>
void im2col(const conv_geometry& g, const T* image, T* columns, std::size_t ld) {
    const std::size_t ow_count = g.out_w;
    for (std::size_t c = 0; c < g.channels; ++c) {
        const T* plane = image + c * g.height * g.width;
        for (std::size_t ki = 0; ki < g.kernel_h; ++ki) {
            const valid_range rows = valid_positions(g.out_h, g.height, g.stride_h, g.pad_h, ki);
            for (std::size_t kj = 0; kj < g.kernel_w; ++kj) {
                const valid_range cols = valid_positions(g.out_w, g.width, g.stride_w, g.pad_w, kj);
                T* out = columns + ((c * g.kernel_h + ki) * g.kernel_w + kj) * ld;
                std::fill(out, out + rows.first * ow_count, T(0));
                for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
                    T* line = out + oh * ow_count;
                    const T* in = plane + (oh * g.stride_h + ki - g.pad_h) * g.width;
                    std::fill(line, line + cols.first, T(0));
                    if (g.stride_w == 1) {
                        const T* from = in + (cols.first + kj - g.pad_w);
                        std::copy(from, from + (cols.last - cols.first), line + cols.first);
                    } else {
                        for (std::size_t ow = cols.first; ow < cols.last; ++ow)
                            line[ow] = in[ow * g.stride_w + kj - g.pad_w];
                    }
                    std::fill(line + cols.last, line + ow_count, T(0));
                }
                std::fill(out + rows.last * ow_count, out + g.out_h * ow_count, T(0));
            }
        }
    }
}

// The adjoint of im2col: image = 0, then every column entry is added back to the pixel it
// was read from (entries that fell in the padding are dropped).
template <class T>
void col2im(const conv_geometry& g, const T* columns, std::size_t ld, T* image) {
    std::fill(image, image + g.image_size(), T(0));
    const std::size_t ow_count = g.out_w;
    for (std::size_t c = 0; c < g.channels; ++c) {
        T* plane = image + c * g.height * g.width;
        for (std::size_t ki = 0; ki < g.kernel_h; ++ki) {
            const valid_range rows = valid_positions(g.out_h, g.height, g.stride_h, g.pad_h, ki);
            for (std::size_t kj = 0; kj < g.kernel_w; ++kj) {
                const valid_range cols = valid_positions(g.out_w, g.width, g.stride_w, g.pad_w, kj);
                const T* in = columns + ((c * g.kernel_h + ki) * g.kernel_w + kj) * ld;
                for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
                    const T* line = in + oh * ow_count;
                    T* out = plane + (oh * g.stride_h + ki - g.pad_h) * g.width;
                    for (std::size_t ow = cols.first; ow < cols.last; ++ow)
                        out[ow * g.stride_w + kj - g.pad_w] += line[ow];
                }
            }
        }
    }
}

// Between a batch stored sample by sample, {batch, channels, positions} (NCHW rows), and
// the same values channel by channel, {channels, batch * positions} (the layout of one
// product over the whole batch).
template <class T>
void samples_to_channels(std::size_t batch, std::size_t channels, std::size_t positions, const T* samples,
                         T* by_channel) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
            const T* from = samples + (b * channels + c) * positions;
            std::copy(from, from + positions, by_channel + (c * batch + b) * positions);
        }
}
template <class T>
void channels_to_samples(std::size_t batch, std::size_t channels, std::size_t positions, const T* by_channel,
                         T* samples) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
            const T* from = by_channel + (c * batch + b) * positions;
            std::copy(from, from + positions, samples + (b * channels + c) * positions);
        }
}

// out[b, c, :] += bias[c] over a batch of NCHW rows of `channels` planes of `positions` values.
template <class T>
void add_channel_bias(std::size_t batch, std::size_t channels, std::size_t positions, const T* bias, T* out) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
            T* plane = out + (b * channels + c) * positions;
            const T value = bias[c];
            for (std::size_t i = 0; i < positions; ++i) plane[i] += value;
        }
}

// sums[c] += the sum of every value of channel c over a batch of NCHW rows (a bias's gradient).
template <class T>
void add_channel_sums(std::size_t batch, std::size_t channels, std::size_t positions, const T* values, T* sums) {
    for (std::size_t c = 0; c < channels; ++c) {
        T sum = T(0);
        for (std::size_t b = 0; b < batch; ++b) {
            const T* plane = values + (b * channels + c) * positions;
            for (std::size_t i = 0; i < positions; ++i) sum += plane[i];
        }
        sums[c] += sum;
    }
}

// How many samples a convolution layer puts side by side in one product: their columns
// form one matrix {rows, samples * positions}, and the product's result is transposed
// back to NCHW. 1 is one product per sample; all_samples one product over the whole
// batch. In between, the columns of a group stay in cache while the product is large
// enough for BLAS to run near its peak (layers/conv2d.hpp says which value and why).
inline constexpr std::size_t all_samples = 0;
inline constexpr std::size_t default_conv_group = 8;

// How far one group reaches: `group` samples, or the whole batch for all_samples.
constexpr std::size_t group_stride(std::size_t group, std::size_t batch) {
    return group == all_samples ? batch : group;
}

// The number of samples in the group that starts at `start`.
constexpr std::size_t group_size(std::size_t group, std::size_t batch, std::size_t start) {
    return std::min(group_stride(group, batch), batch - start);
}

// v's storage for `size` values: grows on the first pass at a batch size, not after.
template <class T>
T* grow_to(std::vector<T>& v, std::size_t size) {
    if (v.size() < size) v.resize(size);
    return v.data();
}

// Samples [start, start + n) of a batch of rows, each `channels` x `positions` values, as
// {channels, n positions} in `scratch` (samples_to_channels); the sample itself for n = 1.
template <class T>
const T* group_by_channel(const T* rows, std::size_t start, std::size_t n, std::size_t channels,
                          std::size_t positions, std::vector<T>& scratch) {
    const T* first = rows + start * channels * positions;
    if (n == 1) return first;
    T* out = grow_to(scratch, channels * n * positions);
    samples_to_channels(n, channels, positions, first, out);
    return out;
}

}  // namespace xgan::detail
