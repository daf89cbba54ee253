// im2col and col2im: the two data movements that turn a convolution into one matrix
// product. Conv2D's forward pass is im2col then a product; its input gradient a product
// then col2im. ConvTranspose2D is the same pair the other way round: its forward pass is
// Conv2D's input gradient and its input gradient Conv2D's forward pass.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <xgan/detail/channel_sums.hpp>

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

// For each kernel row ki (kernel column kj), the output rows (columns) whose input row
// (column) lies inside the image: valid_positions, once per geometry at compile time.
template <conv_geometry G>
inline constexpr auto valid_rows = [] {
    std::array<valid_range, G.kernel_h> ranges{};
    for (std::size_t k = 0; k < G.kernel_h; ++k) ranges[k] = valid_positions(G.out_h, G.height, G.stride_h, G.pad_h, k);
    return ranges;
}();
template <conv_geometry G>
inline constexpr auto valid_columns = [] {
    std::array<valid_range, G.kernel_w> ranges{};
    for (std::size_t k = 0; k < G.kernel_w; ++k) ranges[k] = valid_positions(G.out_w, G.width, G.stride_w, G.pad_w, k);
    return ranges;
}();

// One channel's zero-padded image split by column phase: with the padding, the image is
// (height + 2 pad_h) x (width + 2 pad_w), and phases[hp][p][m] holds its row hp, column
// m * stride_w + p. Kernel position (oh, ow) reads padded row oh * stride_h + ki and column
// ow * stride_w + kj, which is phase kj mod stride_w, index ow + kj / stride_w: every
// kernel column reads a run of out_w consecutive values from every row, with no edge cases
// (what falls in the padding reads, or in col2im collects, the zeros of the border). So
// im2col copies runs and col2im adds runs of known length instead of striding through
// every stride_w-th value. Used where phase_planes (below) does not apply and a channel's
// phases fit in 64 KB of stack; other geometries take the element-by-element loops.
template <conv_geometry G>
struct column_phases {
    static constexpr std::size_t stride = G.stride_w;
    static constexpr std::size_t padded_height = G.height + 2 * G.pad_h, padded_width = G.width + 2 * G.pad_w;
    static constexpr std::size_t length = (padded_width + stride - 1) / stride;  // values per phase row
    static constexpr std::size_t size = padded_height * stride * length;
    template <class T>
    static constexpr bool fits = size * sizeof(T) <= 65536;  // a channel of T on the stack

    // Where phase p of padded row hp begins.
    static constexpr std::size_t at(std::size_t hp, std::size_t p) { return (hp * stride + p) * length; }
    // Where image pixel (h, w) is.
    static constexpr std::size_t pixel(std::size_t h, std::size_t w) {
        return at(h + G.pad_h, (w + G.pad_w) % stride) + (w + G.pad_w) / stride;
    }
    // Where kernel row ki, column kj reads for kernel position (oh, 0).
    static constexpr std::size_t tap(std::size_t oh, std::size_t ki, std::size_t kj) {
        return at(oh * G.stride_h + ki, kj % stride) + kj / stride;
    }
};

// One axis of a geometry split by phase (index mod Stride) of the padded input: padded
// index q Stride + a is index q of phase a. Kernel tap k reads, for output 0, phase
// k mod Stride at index k / Stride, and for output o that index + o.
template <std::size_t Extent, std::size_t Stride, std::size_t Pad>
struct phase_axis {
    // Phase a's first index inside the image (not in the padding), and how many are inside.
    static constexpr std::size_t first(std::size_t a) { return Pad > a ? (Pad - a + Stride - 1) / Stride : 0; }
    static constexpr std::size_t count(std::size_t a) {
        const std::size_t end = Extent + Pad > a ? (Extent + Pad - a + Stride - 1) / Stride : 0;
        return end > first(a) ? end - first(a) : 0;
    }
    // The image index of phase a's i-th index inside the image.
    static constexpr std::size_t pixel(std::size_t a, std::size_t i) { return (first(a) + i) * Stride + a - Pad; }
    // Where tap k's output 0 lies relative to its phase's first index inside the image.
    static constexpr std::ptrdiff_t shift(std::size_t k) {
        return static_cast<std::ptrdiff_t>(k / Stride) - static_cast<std::ptrdiff_t>(first(k % Stride));
    }
};

// One channel's pixels split by row and column phase into stride_h x stride_w planes,
// each holding only the pixels inside the image, in rows of out_w values: plane (a, b) row
// i, column m is the pixel of row phase a's i-th and column phase b's m-th index inside the
// image. Kernel tap (ki, kj) then reads (im2col) or collects (col2im) its whole block of
// out_h x out_w entries as one run of consecutive values of plane (ki mod stride_h,
// kj mod stride_w), shifted by rows::shift(ki), columns::shift(kj): a block row that lies
// outside the plane is padding and is skipped, and an entry whose column falls off a
// plane row would land on the next or previous row, so it is set to 0 in the columns
// (it is padding too) before a run is added, or after a run is copied. Applies where each
// column phase has at most out_w pixels inside the image (stride-2 kernels of 4 with
// padding 1, "same" convolutions of stride 1); the other geometries take column_phases.
template <conv_geometry G>
struct phase_planes {
    using rows = phase_axis<G.height, G.stride_h, G.pad_h>;
    using columns = phase_axis<G.width, G.stride_w, G.pad_w>;
    static constexpr std::size_t width = G.out_w;  // values per plane row
    static constexpr bool applies = [] {
        for (std::size_t b = 0; b < G.stride_w; ++b)
            if (columns::count(b) > width) return false;
        return true;
    }();
    // Room before the first plane and after the last for runs shifted off their ends.
    static constexpr std::size_t margin = [] {
        std::size_t m = 0;
        for (std::size_t kj = 0; kj < G.kernel_w; ++kj) {
            const std::ptrdiff_t s = columns::shift(kj);
            m = std::max(m, static_cast<std::size_t>(s < 0 ? -s : s));
        }
        return m;
    }();
    static constexpr std::size_t size = 2 * margin + G.height * G.stride_w * width;
    template <class T>
    static constexpr bool fits = applies && size * sizeof(T) <= 65536;  // a channel of T on the stack

    // Where plane (a, b) begins: the planes of row phase a are rows::count(a) rows each.
    static constexpr std::size_t plane(std::size_t a, std::size_t b) {
        std::size_t before = 0;
        for (std::size_t p = 0; p < a; ++p) before += rows::count(p);
        return margin + (before * G.stride_w + b * rows::count(a)) * width;
    }

    // Tap (ki, kj)'s block: its output rows [first_row, last_row) lie inside the plane, from
    // plane offset `start` on; its columns [0, low) and [high, out_w) fall off a plane row.
    struct tap_run {
        std::size_t first_row, last_row;
        std::ptrdiff_t start;
        std::size_t low, high;
    };
    static constexpr tap_run tap(std::size_t ki, std::size_t kj) {
        const std::ptrdiff_t dr = rows::shift(ki), dc = columns::shift(kj);
        const auto clamp = [](std::ptrdiff_t v, std::ptrdiff_t lo, std::ptrdiff_t hi) {
            return static_cast<std::size_t>(std::min(std::max(v, lo), hi));
        };
        const std::ptrdiff_t out_h = static_cast<std::ptrdiff_t>(G.out_h), w = static_cast<std::ptrdiff_t>(width);
        const std::size_t first = clamp(-dr, 0, out_h);
        const std::size_t last = clamp(static_cast<std::ptrdiff_t>(rows::count(ki % G.stride_h)) - dr,
                                       static_cast<std::ptrdiff_t>(first), out_h);
        const std::ptrdiff_t start = first == last  // an empty run: anywhere inside
                                         ? static_cast<std::ptrdiff_t>(margin)
                                         : static_cast<std::ptrdiff_t>(plane(ki % G.stride_h, kj % G.stride_w)) +
                                               (static_cast<std::ptrdiff_t>(first) + dr) * w + dc;
        return {first, last, start, clamp(-dc, 0, w), clamp(w - dc, 0, w)};
    }
};

// Calls f(std::integral_constant<std::size_t, k>) for k = 0 .. N - 1, each k a constant.
template <std::size_t N, class F>
constexpr void for_each_constant(F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) { (f(std::integral_constant<std::size_t, K>{}), ...); }(
        std::make_index_sequence<N>{});
}

// Calls f(tap(ki, kj), ki, kj) for each kernel tap in row order (ki, then kj), the tap's
// run and both indices as constants.
template <conv_geometry G, class F>
constexpr void for_each_tap(F&& f) {
    using P = phase_planes<G>;
    for_each_constant<G.kernel_h>([&](auto ki) {
        for_each_constant<G.kernel_w>([&](auto kj) {
            constexpr typename P::tap_run run = P::tap(ki, kj);
            f(std::integral_constant<typename P::tap_run, run>{}, ki, kj);
        });
    });
}

// im2col_rows on whole channels [first_channel, last_channel), through phase planes.
template <conv_geometry G, class T>
void im2col_planes(const T* image, T* columns, std::size_t ld, std::size_t first_channel, std::size_t last_channel) {
    using P = phase_planes<G>;
    constexpr std::size_t width = P::width, positions = G.positions();
    T planes[P::size];
    std::fill(planes, planes + P::size, T(0));  // each channel writes the pixels; the rest stays 0
    for (std::size_t c = first_channel; c < last_channel; ++c) {
        const T* image_plane = image + c * G.height * G.width;
        for_each_constant<G.stride_h>([&](auto a) {
            for (std::size_t i = 0; i < P::rows::count(a); ++i) {
                const T* from = image_plane + P::rows::pixel(a, i) * G.width;
                for_each_constant<G.stride_w>([&](auto b) {
                    T* to = planes + P::plane(a, b) + i * width;
                    for (std::size_t m = 0; m < P::columns::count(b); ++m) to[m] = from[P::columns::pixel(b, m)];
                });
            }
        });
        T* channel = columns + (c - first_channel) * G.kernel_h * G.kernel_w * ld;
        for_each_tap<G>([&](auto tap, auto ki, auto kj) {
            constexpr typename P::tap_run run = decltype(tap)::value;
            T* out = channel + (ki * G.kernel_w + kj) * ld;
            const T* in = planes + run.start;
            constexpr std::size_t from = run.first_row * width, to = run.last_row * width;
            std::fill(out, out + from, T(0));
            for (std::size_t i = 0; i < to - from; ++i) out[from + i] = in[i];
            std::fill(out + to, out + positions, T(0));
            for (std::size_t oh = run.first_row; oh < run.last_row; ++oh) {
                for (std::size_t ow = 0; ow < run.low; ++ow) out[oh * width + ow] = T(0);
                for (std::size_t ow = run.high; ow < width; ++ow) out[oh * width + ow] = T(0);
            }
        });
    }
}

// col2im through phase planes; sets the entries of `columns` that fall in the padding to 0.
template <conv_geometry G, class T>
void col2im_planes(T* columns, std::size_t ld, T* image, const T* bias) {
    using P = phase_planes<G>;
    constexpr std::size_t width = P::width;
    T planes[P::size];
    for (std::size_t c = 0; c < G.channels; ++c) {
        std::fill(planes, planes + P::size, T(0));
        T* channel = columns + c * G.kernel_h * G.kernel_w * ld;
        for_each_tap<G>([&](auto tap, auto ki, auto kj) {
            constexpr typename P::tap_run run = decltype(tap)::value;
            T* in = channel + (ki * G.kernel_w + kj) * ld;
            for (std::size_t oh = run.first_row; oh < run.last_row; ++oh) {
                for (std::size_t ow = 0; ow < run.low; ++ow) in[oh * width + ow] = T(0);
                for (std::size_t ow = run.high; ow < width; ++ow) in[oh * width + ow] = T(0);
            }
            T* out = planes + run.start;
            constexpr std::size_t from = run.first_row * width, to = run.last_row * width;
            for (std::size_t i = 0; i < to - from; ++i) out[i] += in[from + i];
        });
        T* image_plane = image + c * G.height * G.width;
        const T shift = bias == nullptr ? T(0) : bias[c];
        for_each_constant<G.stride_h>([&](auto a) {
            for (std::size_t i = 0; i < P::rows::count(a); ++i) {
                T* to = image_plane + P::rows::pixel(a, i) * G.width;
                for_each_constant<G.stride_w>([&](auto b) {
                    const T* from = planes + P::plane(a, b) + i * width;
                    for (std::size_t m = 0; m < P::columns::count(b); ++m)
                        to[P::columns::pixel(b, m)] = bias == nullptr ? from[m] : from[m] + shift;
                });
            }
        });
    }
}

// im2col_rows (below) on rows [first_row, last_row) of the element-by-element form.
template <conv_geometry G, class T>
void im2col_each(const T* image, T* columns, std::size_t ld, std::size_t first_row, std::size_t last_row) {
    constexpr std::size_t ow_count = G.out_w, kernel = G.kernel_h * G.kernel_w;
    for (std::size_t r = first_row; r < last_row; ++r) {
        const std::size_t c = r / kernel, ki = r % kernel / G.kernel_w, kj = r % G.kernel_w;
        const T* plane = image + c * G.height * G.width;
        const valid_range rows = valid_rows<G>[ki], cols = valid_columns<G>[kj];
        T* out = columns + (r - first_row) * ld;
        std::fill(out, out + rows.first * ow_count, T(0));
        for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
            T* line = out + oh * ow_count;
            const T* in = plane + (oh * G.stride_h + ki - G.pad_h) * G.width;
            std::fill(line, line + cols.first, T(0));
            for (std::size_t ow = cols.first; ow < cols.last; ++ow) line[ow] = in[ow * G.stride_w + kj - G.pad_w];
            std::fill(line + cols.last, line + ow_count, T(0));
        }
        std::fill(out + rows.last * ow_count, out + G.out_h * ow_count, T(0));
    }
}

// im2col_rows on whole channels [first_channel, last_channel), through column phases.
template <conv_geometry G, class T>
void im2col_phased(const T* image, T* columns, std::size_t ld, std::size_t first_channel, std::size_t last_channel) {
    using P = column_phases<G>;
    T phases[P::size];
    std::fill(phases, phases + P::size, T(0));  // the border; each channel writes the rest
    for (std::size_t c = first_channel; c < last_channel; ++c) {
        const T* plane = image + c * G.height * G.width;
        for (std::size_t h = 0; h < G.height; ++h)
            for (std::size_t w = 0; w < G.width; ++w) phases[P::pixel(h, w)] = plane[h * G.width + w];
        T* channel = columns + (c - first_channel) * G.kernel_h * G.kernel_w * ld;
        for (std::size_t ki = 0; ki < G.kernel_h; ++ki)
            for_each_constant<G.kernel_w>([&](auto kj) {
                T* out = channel + (ki * G.kernel_w + kj) * ld;
                for (std::size_t oh = 0; oh < G.out_h; ++oh) {
                    const T* in = phases + P::tap(oh, ki, kj);
                    T* line = out + oh * G.out_w;
                    for (std::size_t ow = 0; ow < G.out_w; ++ow) line[ow] = in[ow];
                }
            });
    }
}

// columns[(c, ki, kj), (oh, ow)] = image[c, oh * stride_h - pad_h + ki, ow * stride_w - pad_w + kj],
// 0 where that falls in the padding, for the rows (c, ki, kj) numbered [first_row, last_row):
// row r is written at columns + (r - first_row) * ld (ld >= positions(), so a batch's
// samples can sit side by side in one wide matrix). A range of rows lets several threads
// each lay out their own share of one matrix. The geometry is a template argument, so
// that strides, extents and the padding's ranges are constants in the loops.
template <conv_geometry G, class T>
void im2col_rows(const T* image, T* columns, std::size_t ld, std::size_t first_row, std::size_t last_row) {
    constexpr std::size_t kernel = G.kernel_h * G.kernel_w;
    if constexpr (phase_planes<G>::template fits<T> || column_phases<G>::template fits<T>) {
        const std::size_t first_channel = (first_row + kernel - 1) / kernel, last_channel = last_row / kernel;
        if (first_channel < last_channel) {
            const std::size_t whole_first = first_channel * kernel, whole_last = last_channel * kernel;
            im2col_each<G>(image, columns, ld, first_row, whole_first);
            T* whole = columns + (whole_first - first_row) * ld;
            if constexpr (phase_planes<G>::template fits<T>)
                im2col_planes<G>(image, whole, ld, first_channel, last_channel);
            else
                im2col_phased<G>(image, whole, ld, first_channel, last_channel);
            im2col_each<G>(image, columns + (whole_last - first_row) * ld, ld, whole_last, last_row);
            return;
        }
    }
    im2col_each<G>(image, columns, ld, first_row, last_row);
}

// Every row of the columns: im2col_rows over [0, rows()).
template <conv_geometry G, class T>
void im2col(const T* image, T* columns, std::size_t ld) {
    im2col_rows<G>(image, columns, ld, 0, G.rows());
}

// The adjoint of im2col: each pixel the sum of the column entries read from it, added to
// 0 in the order of their rows (channel, kernel row, kernel column); entries that fell in
// the padding are dropped. Through phase planes or column phases where they fit (the sums
// are added in the same order, so the values are the same; phase planes set entries that
// fell in the padding to 0, so `columns` is scratch). With a bias (G.channels values), each
// pixel of channel c is that sum + bias[c], in the same pass.
template <conv_geometry G, class T>
void col2im(T* columns, std::size_t ld, T* image, const T* bias = nullptr) {
    constexpr std::size_t ow_count = G.out_w;
    if constexpr (phase_planes<G>::template fits<T>) {
        col2im_planes<G>(columns, ld, image, bias);
        return;
    } else if constexpr (column_phases<G>::template fits<T>) {
        using P = column_phases<G>;
        T phases[P::size];
        for (std::size_t c = 0; c < G.channels; ++c) {
            std::fill(phases, phases + P::size, T(0));
            const T* channel = columns + c * G.kernel_h * G.kernel_w * ld;
            for (std::size_t ki = 0; ki < G.kernel_h; ++ki)
                for_each_constant<G.kernel_w>([&](auto kj) {
                    const T* in = channel + (ki * G.kernel_w + kj) * ld;
                    for (std::size_t oh = 0; oh < G.out_h; ++oh) {
                        const T* line = in + oh * G.out_w;
                        T* out = phases + P::tap(oh, ki, kj);
                        for (std::size_t ow = 0; ow < G.out_w; ++ow) out[ow] += line[ow];
                    }
                });
            T* plane = image + c * G.height * G.width;
            const T shift = bias == nullptr ? T(0) : bias[c];
            for (std::size_t h = 0; h < G.height; ++h)
                for (std::size_t w = 0; w < G.width; ++w) {
                    const T sum = phases[P::pixel(h, w)];
                    plane[h * G.width + w] = bias == nullptr ? sum : sum + shift;
                }
        }
        return;
    }
    std::fill(image, image + G.image_size(), T(0));
    for (std::size_t c = 0; c < G.channels; ++c) {
        T* plane = image + c * G.height * G.width;
        for (std::size_t ki = 0; ki < G.kernel_h; ++ki) {
            const valid_range rows = valid_rows<G>[ki];
            for (std::size_t kj = 0; kj < G.kernel_w; ++kj) {
                const valid_range cols = valid_columns<G>[kj];
                const T* in = columns + ((c * G.kernel_h + ki) * G.kernel_w + kj) * ld;
                for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
                    const T* line = in + oh * ow_count;
                    T* out = plane + (oh * G.stride_h + ki - G.pad_h) * G.width;
                    for (std::size_t ow = cols.first; ow < cols.last; ++ow)
                        out[ow * G.stride_w + kj - G.pad_w] += line[ow];
                }
            }
        }
        if (bias != nullptr)
            for (std::size_t i = 0; i < G.height * G.width; ++i) plane[i] += bias[c];
    }
}

// Between a batch stored sample by sample, {batch, channels, Positions} (NCHW rows), and
// the same values channel by channel, {channels, batch * Positions} (the layout of one
// product over the whole batch). Positions is a template argument so that each plane's
// copy is a loop of known length, not a library call per plane.
template <std::size_t Positions, class T>
void samples_to_channels(std::size_t batch, std::size_t channels, const T* samples, T* by_channel) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
            const T* from = samples + (b * channels + c) * Positions;
            T* to = by_channel + (c * batch + b) * Positions;
            for (std::size_t i = 0; i < Positions; ++i) to[i] = from[i];
        }
}
// The other way; with a bias, out[b, c, :] = by_channel[c, b, :] + bias[c] (the same
// additions as a copy followed by add_channel_bias, in one pass).
template <std::size_t Positions, class T>
void channels_to_samples(std::size_t batch, std::size_t channels, const T* by_channel, T* samples,
                         const T* bias = nullptr) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
            const T* from = by_channel + (c * batch + b) * Positions;
            T* to = samples + (b * channels + c) * Positions;
            if (bias == nullptr) {
                for (std::size_t i = 0; i < Positions; ++i) to[i] = from[i];
            } else {
                const T value = bias[c];
                for (std::size_t i = 0; i < Positions; ++i) to[i] = from[i] + value;
            }
        }
}

// out[b, c, :] += bias[c] over a batch of NCHW rows of `channels` planes of Positions values.
template <std::size_t Positions, class T>
void add_channel_bias(std::size_t batch, std::size_t channels, const T* bias, T* out) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < channels; ++c) {
            T* plane = out + (b * channels + c) * Positions;
            const T value = bias[c];
            for (std::size_t i = 0; i < Positions; ++i) plane[i] += value;
        }
}

// sums[c] += the sum of every value of channel c over a batch of NCHW rows (a bias's
// gradient), summed in double in channel_sums' fixed order.
template <std::size_t Positions, class T>
void add_channel_sums(std::size_t batch, std::size_t channels, const T* values, T* sums) {
    channel_sums<1, Positions>(
        batch, channels, values, values, [](std::size_t, T v, T) { return std::array<double, 1>{static_cast<double>(v)}; },
        [sums](std::size_t c, const std::array<double, 1>& sum) { sums[c] += static_cast<T>(sum[0]); });
}

}  // namespace xgan::detail
