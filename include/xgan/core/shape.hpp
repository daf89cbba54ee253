// xgan::shape<N...>: the compile-time shape of one sample as it flows between layers.
// shape<784> is a vector; shape<C, H, W> an image of C channels, H rows and W columns.
// A batch is always stored as rows {batch, shape::size}, each row in PyTorch's NCHW
// order (channel by channel, row by row), so a shape changes what a layer checks and
// computes, never how a batch is stored.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

namespace xgan {

template <std::size_t... N>
struct shape {
    static_assert(sizeof...(N) == 1 || sizeof...(N) == 3,
                  "xgan::shape: a sample is a vector shape<N> or an image shape<C, H, W>");

    static constexpr std::size_t rank = sizeof...(N);
    static constexpr std::size_t size = (N * ...);
    static constexpr std::array<std::size_t, rank> dims{N...};

    // An image's channels, height and width (a vector is one channel of 1 x N).
    static constexpr std::size_t channels = rank == 3 ? dims[0] : 1;
    static constexpr std::size_t height = rank == 3 ? dims[rank == 3 ? 1 : 0] : 1;
    static constexpr std::size_t width = dims[rank - 1];

    // "784" or "1x28x28".
    static std::string text() {
        std::string out;
        for (std::size_t i = 0; i < rank; ++i) {
            if (i > 0) out += 'x';
            out += std::to_string(dims[i]);
        }
        return out;
    }

    template <std::size_t... M>
    friend constexpr bool operator==(shape, shape<M...>) {
        return std::is_same_v<shape, shape<M...>>;
    }
};

namespace detail {
template <class S>
struct is_shape : std::false_type {};
template <std::size_t... N>
struct is_shape<shape<N...>> : std::true_type {};
}  // namespace detail

// True for xgan::shape<...>.
template <class S>
concept Shape = detail::is_shape<S>::value;

// An image shape, shape<C, H, W>.
template <class S>
concept ImageShape = Shape<S> && S::rank == 3;

// A vector shape, shape<N>.
template <class S>
concept VectorShape = Shape<S> && S::rank == 1;

}  // namespace xgan
