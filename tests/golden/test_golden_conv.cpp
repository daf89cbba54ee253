// Golden-value tests for the image layers: xgan against numbers PyTorch 1.13 computed offline
// (tests/golden/generate.py wrote tests/golden/data/conv.txt; torch is not needed here).
// Each case is a BasicSequential<double, Input<C, H, W>, ...> built like the nn.Sequential
// that generate.py ran; its parameters and buffers are loaded by their state_dict names
// through named_parameters() / named_buffers(), which must list exactly PyTorch's tensors
// with PyTorch's shapes. Then one training step (forward, backward with dy, update_buffers)
// must give PyTorch's y, dx, parameter gradients and buffers; the BatchNorm2d case also runs
// in inference mode afterwards.
//
// Tolerance: 1e-12, float64, element by element, relative to max(|expected|, floor), the
// floor being the root mean square of the expected block. Both sides evaluate the same sums
// of products in double, only in another order (im2col + BLAS in PyTorch), so they differ by
// a few roundings of the terms, ~1e-15 of the terms' size (sums here have at most ~100
// terms). Relative to the element itself that is unbounded where a sum cancels to near zero,
// hence the floor: an element far smaller than its neighbours is held to 1e-12 of their
// typical size. A wrong index or formula moves elements by O(1) of that size, 1e12 times the
// tolerance. An independent evaluation of every case in double (plain loops over the
// definitions, no BLAS) is within 1.2e-15 of PyTorch's numbers measured this way, while its
// plain relative error reaches 1.4e-10 at one cancelling element (batchnorm2d's eval.y);
// xgan's layers are within 1.3e-15 (XGAN_GOLDEN_REPORT=1). Where a whole gradient is zero
// in exact arithmetic (a convolution's bias before BatchNorm2d: BatchNorm removes each
// channel's mean), the file gives the size of the terms that cancel (scale.grad.<p>) as the
// floor instead.
// Set XGAN_GOLDEN_REPORT=1 to print the worst error of every comparison.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <xgan/xgan.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>

#include "golden_data.hpp"

namespace {

constexpr double rtol = 1e-12;

// CHECKs that every element of `got` is within rtol of `expected`, measured as described at
// the top of this file. `scale`, when not empty, gives each element's floor instead of the
// block's root mean square. A failure names the comparison, the worst element and up to eight
// offending elements with their expected and obtained values.
void check_close(const std::string& what, std::span<const double> expected, std::span<const double> got,
                 std::span<const double> scale = {}) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    REQUIRE((scale.empty() || scale.size() == expected.size()));
    double squares = 0;
    for (double e : expected) squares += e * e;
    const double rms = expected.empty() ? 0.0 : std::sqrt(squares / static_cast<double>(expected.size()));
    double worst = -1;
    std::size_t worst_index = 0, offenders = 0;
    std::ostringstream listing;
    listing << std::setprecision(17);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double floor = scale.empty() ? rms : scale[i];
        const double denominator = std::max(std::abs(expected[i]), floor);
        double e = expected[i] == got[i] ? 0.0
                   : denominator > 0    ? std::abs(got[i] - expected[i]) / denominator
                                        : std::numeric_limits<double>::infinity();
        if (std::isnan(e)) e = std::numeric_limits<double>::infinity();
        if (e > worst) {
            worst = e;
            worst_index = i;
        }
        if (e > rtol && offenders++ < 8)
            listing << "\n  [" << i << "] expected " << expected[i] << ", got " << got[i] << " (error " << e << ")";
    }
    worst = std::max(worst, 0.0);  // an empty block
    if (std::getenv("XGAN_GOLDEN_REPORT") != nullptr)
        std::printf("%-62s worst error %.3g (index %zu)\n", what.c_str(), worst, worst_index);
    std::ostringstream message;
    message << std::setprecision(17) << what << ": worst error " << worst << " at index " << worst_index;
    if (!expected.empty())
        message << " (expected " << expected[worst_index] << ", got " << got[worst_index] << ")";
    message << ", tolerance " << rtol << " relative to max(|expected|, ";
    if (scale.empty())
        message << "the block's rms " << rms << "); ";
    else
        message << "the file's scale); ";
    message << offenders << " of " << expected.size() << " elements beyond it" << listing.str();
    INFO(message.str());
    CHECK(worst <= rtol);
}

xgan::matrix<double> to_matrix(const golden::block& b) {
    xgan::matrix<double> m({b.rows, b.cols});
    std::copy(b.values.begin(), b.values.end(), m.begin());
    return m;
}

std::span<const double> elements(const xgan::matrix<double>& m) { return std::span<const double>(m.data(), m.size()); }

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text = "{";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "}";
}

// Copies <name>.<kind>.<tensor> into each named tensor after checking its shape against
// <name>.shape.<tensor> (absent for a rank-0 tensor). With `count_index` into <name>.counts,
// also checks that xgan lists as many tensors and values as PyTorch's state_dict: together
// with every xgan name being found in the file, the two lists of names are then equal.
template <class Named>
void load_named(const golden::data_file& data, const std::string& name, const std::string& kind, Named&& named,
                std::size_t value_count, std::size_t count_index) {
    const golden::block& counts = data.get(name + ".counts", 1, 4);
    INFO(name << ": xgan's " << kind << " tensors against PyTorch's state_dict");
    CHECK(static_cast<double>(named.size()) == counts.values[count_index]);
    CHECK(static_cast<double>(value_count) == counts.values[count_index + 2]);
    std::size_t copied = 0;
    for (auto& p : named) {
        INFO(kind << " '" << p.name << "', xgan shape " << shape_text(p.shape));
        const std::string shape_name = name + ".shape." + p.name;
        if (p.shape.empty()) {
            CHECK_FALSE(data.contains(shape_name));  // PyTorch's is rank 0 too
        } else {
            const golden::block& shape = data.get(shape_name, 1, p.shape.size());
            for (std::size_t d = 0; d < p.shape.size(); ++d) CHECK(static_cast<double>(p.shape[d]) == shape.values[d]);
        }
        const golden::block& b = data.get(name + "." + kind + "." + p.name);
        REQUIRE(b.values.size() == p.values.size());
        std::copy(b.values.begin(), b.values.end(), p.values.begin());
        copied += p.values.size();
    }
    CHECK(copied == value_count);
}

// One pass on <prefix>.x in the network's current mode: forward, then backward with
// <prefix>.dy, compared with <prefix>.y, <prefix>.dx and <prefix>.grad.<p>. In training
// mode the buffers are then updated and compared with <name>.buffer_after.<b>.
template <class Net>
void check_pass(Net& net, const golden::data_file& data, const std::string& name, const std::string& prefix) {
    const golden::block& x = data.get(prefix + ".x");
    REQUIRE(x.cols == Net::input_size);
    const std::size_t batch = x.rows;
    const golden::block& y = data.get(prefix + ".y", batch, Net::output_size);
    const golden::block& dy = data.get(prefix + ".dy", batch, Net::output_size);
    const golden::block& dx = data.get(prefix + ".dx", batch, Net::input_size);

    check_close(prefix + ": forward(x)", y.all(), elements(net.forward(to_matrix(x))));

    typename Net::Workspace ws;
    net.forward(ws, to_matrix(x));
    check_close(prefix + ": forward(ws, x)", y.all(), elements(ws.output()));

    ws.gradients[Net::layer_count] = to_matrix(dy);
    // NaN everywhere first: GradientMode::overwrite must write every element.
    std::vector<double> grad(Net::parameter_count, std::numeric_limits<double>::quiet_NaN());
    net.backward(ws, std::span<double>(grad), /*input_gradient=*/true, xgan::GradientMode::overwrite);
    check_close(prefix + ": dx", dx.all(), elements(ws.gradients[0]));

    for (const auto& p : std::as_const(net).named_parameters()) {
        const auto offset = static_cast<std::size_t>(p.values.data() - net.parameters().data());
        const golden::block& expected = data.get(prefix + ".grad." + p.name);
        const std::string scale_name = prefix + ".scale.grad." + p.name;
        const std::span<const double> scale =
            data.contains(scale_name) ? data.get(scale_name, 1, p.values.size()).all() : std::span<const double>{};
        check_close(prefix + ": grad " + p.name, expected.all(),
                    std::span<const double>(grad).subspan(offset, p.values.size()), scale);
    }

    if (net.mode() == xgan::Mode::training && Net::buffer_count > 0) {
        net.update_buffers(ws);
        for (const auto& b : std::as_const(net).named_buffers())
            check_close(name + ": " + b.name + " after the step", data.get(name + ".buffer_after." + b.name).all(),
                        std::span<const double>(b.values.data(), b.values.size()));
    }
}

// The whole case <name>: parameters and buffers loaded by name, a training step, and, when the
// file has <name>.eval.x, a pass in inference mode with the updated buffers.
template <class Net>
void check_case(const golden::data_file& data, const std::string& name) {
    Net net;
    load_named(data, name, "param", net.named_parameters(), Net::parameter_count, 0);
    load_named(data, name, "buffer", net.named_buffers(), Net::buffer_count, 1);
    net.set_mode(xgan::Mode::training);
    check_pass(net, data, name, name);
    if (data.contains(name + ".eval.x")) {
        net.set_mode(xgan::Mode::inference);
        check_pass(net, data, name, name + ".eval");
    }
}

golden::data_file load() { return golden::data_file::load(golden::data_path("conv.txt")); }

template <std::size_t... N>
using Input = xgan::Input<N...>;
template <class... Specs>
using Net = xgan::BasicSequential<double, Specs...>;

}  // namespace

TEST_CASE("Conv2D matches nn.Conv2d: output, input and parameter gradients", "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<3, 7, 6>, xgan::Conv2D<3, 4, 3, 2, 1>>>(data, "conv_k3_s2_p1");
    check_case<Net<Input<2, 5, 7>, xgan::Conv2D<2, 5, 3>>>(data, "conv_k3");
    check_case<Net<Input<1, 8, 8>, xgan::Conv2D<1, 2, 4, 2, 1>>>(data, "conv_k4_s2_p1");
}

TEST_CASE("ConvTranspose2D matches nn.ConvTranspose2d: output, input and parameter gradients", "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<3, 4, 5>, xgan::ConvTranspose2D<3, 2, 4, 2, 1>>>(data, "convt_k4_s2_p1");
    check_case<Net<Input<2, 3, 3>, xgan::ConvTranspose2D<2, 3, 3, 2, 1, 1>>>(data, "convt_k3_s2_p1_op1");
    check_case<Net<Input<2, 4, 3>, xgan::ConvTranspose2D<2, 2, 3>>>(data, "convt_k3");
}

TEST_CASE("Convolutions in Winograd form match PyTorch: output, input and parameter gradients", "[golden][conv]") {
    using Conv = Net<Input<4, 5, 7>, xgan::Conv2D<4, 16, 4, 2, 1>>;
    using ConvT = Net<Input<16, 3, 2>, xgan::ConvTranspose2D<16, 4, 4, 2, 1>>;
    STATIC_REQUIRE(Conv::layer_type<0>::uses_winograd);
    STATIC_REQUIRE(ConvT::layer_type<0>::uses_winograd);
    const auto data = load();
    check_case<Conv>(data, "conv_winograd_k4_s2_p1");
    check_case<ConvT>(data, "convt_winograd_k4_s2_p1");
}

TEST_CASE("MaxPool2D matches nn.MaxPool2d: output and input gradient", "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<3, 6, 5>, xgan::MaxPool2D<2>>>(data, "maxpool_k2");
    check_case<Net<Input<2, 7, 7>, xgan::MaxPool2D<3, 2>>>(data, "maxpool_k3_s2");
}

TEST_CASE("AvgPool2D matches nn.AvgPool2d: output and input gradient", "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<3, 6, 5>, xgan::AvgPool2D<2>>>(data, "avgpool_k2");
    check_case<Net<Input<2, 7, 7>, xgan::AvgPool2D<3, 2>>>(data, "avgpool_k3_s2");
}

TEST_CASE("Upsample2D matches nn.Upsample(mode='nearest'): output and input gradient", "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<3, 3, 4>, xgan::Upsample2D<2>>>(data, "upsample_x2");
    check_case<Net<Input<1, 2, 3>, xgan::Upsample2D<3>>>(data, "upsample_x3");
}

TEST_CASE("BatchNorm on images matches nn.BatchNorm2d: training step, running statistics, then inference",
          "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<3, 4, 5>, xgan::BatchNorm>>(data, "batchnorm2d");
}

TEST_CASE("A convolutional discriminator matches PyTorch: Conv2D, BatchNorm, LeakyReLU, Flatten, Dense",
          "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<1, 8, 8>, xgan::Conv2D<1, 4, 4, 2, 1>, xgan::BatchNorm, xgan::LeakyReLU, xgan::Flatten,
                   xgan::Dense<64, 1>>>(data, "discriminator");
}

TEST_CASE("A convolutional generator matches PyTorch: Dense, Unflatten, BatchNorm, ReLU, ConvTranspose2D, Tanh",
          "[golden][conv]") {
    const auto data = load();
    check_case<Net<Input<6>, xgan::Dense<6, 36>, xgan::Unflatten<4, 3, 3>, xgan::BatchNorm, xgan::ReLU,
                   xgan::ConvTranspose2D<4, 2, 4, 2, 1>, xgan::Tanh>>(data, "generator");
}
