// How the convolution layers (layers/conv2d.hpp, layers/conv_transpose2d.hpp) walk a
// batch: in groups of samples whose im2col columns sit side by side in one product, and,
// with xgan::set_threads(n > 1), with the work shared among n threads.
//
// Two ways of sharing, both leaving every result bit for bit what one thread computes:
// - passes whose outputs belong to samples (forward, input gradient) give each thread
//   whole groups: a group is computed by exactly the same calls whichever thread runs it;
// - the weight gradient, a sum over the whole batch, is computed in fixed chunks of its
//   columns (rows of the im2col matrix, weight_gradient_chunk at a time), each summed
//   over every group in order by one product per group; threads take whole chunks. The
//   chunks are the same on any number of threads, so each is the same sequence of calls
//   (splitting one product's columns differently changes its rounding in OpenBLAS).
// Each thread's products then run on one BLAS thread (docs/reference/layers-conv.md, "Threads").
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include <xgan/core/threads.hpp>
#include <xgan/detail/im2col.hpp>

namespace xgan::detail {

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

// Samples [start, start + n) of a batch of rows, each `channels` x Positions values, as
// {channels, n Positions} in `scratch` (samples_to_channels); the sample itself for n = 1.
template <std::size_t Positions, class T>
const T* group_by_channel(const T* rows, std::size_t start, std::size_t n, std::size_t channels,
                          std::vector<T>& scratch) {
    const T* first = rows + start * channels * Positions;
    if (n == 1) return first;
    T* out = grow_to(scratch, channels * n * Positions);
    samples_to_channels<Positions>(n, channels, first, out);
    return out;
}

// The number of groups in a batch.
constexpr std::size_t group_count(std::size_t group, std::size_t batch) {
    const std::size_t stride = group_stride(group, batch);
    return stride == 0 ? 0 : (batch + stride - 1) / stride;
}

// How many rows of the im2col matrix (columns of the weight gradient) one chunk of the
// weight gradient covers: wide enough that splitting costs the products little (DCGAN's
// 64 -> 128 convolution has 1,024 rows: two chunks), narrow enough to give two threads a
// share of the large layers.
inline constexpr std::size_t weight_gradient_chunk = 512;

// The number of chunks of `rows` rows.
constexpr std::size_t chunk_count(std::size_t rows) {
    return (rows + weight_gradient_chunk - 1) / weight_gradient_chunk;
}

// A convolution layer's scratch: for each thread, room for one group's columns and one
// group's values by channel. Grown by reserve() on the calling thread, so that the threads'
// shares never allocate (and a failed allocation throws where it can be caught).
template <class T>
struct conv_scratch {
    std::vector<std::vector<T>> columns, by_channel;

    void reserve(std::size_t parts, std::size_t columns_size, std::size_t by_channel_size) {
        if (columns.size() < parts) {
            columns.resize(parts);
            by_channel.resize(parts);
        }
        for (std::size_t p = 0; p < parts; ++p) {
            grow_to(columns[p], columns_size);
            grow_to(by_channel[p], by_channel_size);
        }
    }
};

// How many shares `count` independent pieces of work make: xgan::threads(), at most count
// (at least 1).
inline std::size_t share_count(std::size_t count) {
    return std::max<std::size_t>(1, std::min(WorkerPool::instance().threads(), count));
}

// Calls body(share, begin, end) for `shares` contiguous ranges [begin, end) covering
// [0, count), share 0 on this thread and the others on xgan's workers, and returns when all
// have returned. body must not throw (see WorkerPool::run) nor allocate what it could fail
// to get: reserve scratch before.
template <class Body>
void for_each_share(std::size_t count, std::size_t shares, Body&& body) {
    if (shares <= 1) {
        body(std::size_t{0}, std::size_t{0}, count);
        return;
    }
    auto part = [&](std::size_t index, std::size_t parts) {
        // The pool runs `parts` calls: with fewer shares, the last calls have none; with
        // more (threads changed since share_count, which set_threads forbids during a
        // step), a call takes every share congruent to its index.
        for (std::size_t share = index; share < shares; share += parts) {
            const std::size_t begin = count * share / shares, end = count * (share + 1) / shares;
            if (begin < end) body(share, begin, end);
        }
    };
    WorkerPool::instance().run(part);
}

// The shares a pass over whole groups of a batch makes (share_count of the groups).
inline std::size_t group_shares(std::size_t group, std::size_t batch) {
    return share_count(group_count(group, batch));
}

// Calls body(share, start, n) for every group [start, start + n) of a batch, `shares`
// threads each taking whole groups in order (for_each_share).
template <class Body>
void for_each_group(std::size_t group, std::size_t batch, std::size_t shares, Body&& body) {
    const std::size_t stride = group_stride(group, batch);
    for_each_share(group_count(group, batch), shares, [&](std::size_t share, std::size_t first, std::size_t last) {
        for (std::size_t start = first * stride; start < std::min(batch, last * stride); start += stride)
            body(share, start, group_size(group, batch, start));
    });
}

// Rows [first, last) of an im2col matrix of `rows` rows that chunk `chunk` covers.
struct row_range {
    std::size_t first, last;
};
constexpr row_range chunk_rows(std::size_t chunk, std::size_t rows) {
    const std::size_t first = chunk * weight_gradient_chunk;
    return {first, std::min(rows, first + weight_gradient_chunk)};
}

}  // namespace xgan::detail
