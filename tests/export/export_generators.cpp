// Exports the generators whose headers the export tests compile on their own: the painting
// GAN's (Example 01), Example 03's MLP with BatchNorm, Example 04's DCGAN, the painting
// generator in double with decimal literals, and small stacks that cover every other
// layer. For each it writes <name>.hpp and <name>.txt: fixed inputs, the network's own
// inference outputs for them (hexadecimal, exact) and how closely the exported code must
// match them (run_exported.cpp reads it).
//
//   export_generators <folder>      (created if need be)
//
// Weights are xgan's initialisation from fixed seeds; BatchNorm's running statistics come
// from a few training-mode passes over random batches, so they are not the trivial 0 and 1.
#include <cstdio>
#include <filesystem>
#include <ratio>
#include <string>

#include <xgan/io/export_header.hpp>
#include <xgan/xgan.hpp>

using namespace xgan;

namespace {

using KerasBatchNorm = BatchNormWith<std::ratio<1, 100>, std::ratio<1, 1000>>;

using Painting = Sequential<Dense<5, 128>, ReLU, Dense<128, 15>>;
using PaintingDouble = BasicSequential<double, Dense<5, 128>, ReLU, Dense<128, 15>>;
using Mnist = Sequential<Dense<100, 256, init::XavierUniform>, KerasBatchNorm, LeakyReLU,
                         Dense<256, 512, init::XavierUniform>, KerasBatchNorm, LeakyReLU,
                         Dense<512, 1024, init::XavierUniform>, KerasBatchNorm, LeakyReLU,
                         Dense<1024, 784, init::XavierUniform>, Tanh>;
using Dcgan = Sequential<Dense<100, 128 * 7 * 7>, Unflatten<128, 7, 7>, BatchNorm, ReLU, ConvTranspose2D<128, 64, 4, 2, 1>,
                         BatchNorm, ReLU, ConvTranspose2D<64, 1, 4, 2, 1>, Tanh>;
// No sums of products: the exported code repeats the library's arithmetic exactly.
using ExactLayers = Sequential<Input<2, 4, 6>, BatchNorm, LeakyReLUWithSlope<1, 100>, MaxPool2D<2>, Upsample2D<2>,
                               AvgPool2D<2, 1>, Sigmoid, DropoutWithRate<1, 4>, Flatten, Tanh, Unflatten<2, 3, 5>, ReLU>;
// The convolutions in their other forms.
using ConvLayers = Sequential<Input<1, 6, 6>, Conv2D<1, 3, 3, 1, 1>, ReLU, Conv2DRect<3, 2, 2, 3, 1, 2, 0, 1>,
                              ConvTranspose2D<2, 2, 3, 2, 1, 1>, BatchNorm, Flatten, Dense<120, 4>, Sigmoid,
                              Dropout>;
// The normalisations: SpectralNorm exports W / sigma from its u and v (here iterated by the
// warm-up passes), LayerNorm its statistics in double as forward computes them.
using NormLayers = Sequential<Input<2, 4, 4>, SpectralNorm<Conv2D<2, 3, 3, 1, 1>>, LayerNorm, LeakyReLU, Flatten,
                              SpectralNorm<Dense<48, 6>>, LayerNormWith<std::ratio<1, 1000>>, Tanh>;

template <class Net>
void warm_running_statistics(Net& net, Rng& rng) {
    using T = typename Net::value_type;
    typename Net::Workspace workspace;
    workspace.rng = &rng;
    for (int pass = 0; pass < 3; ++pass) {
        matrix<T> x({8, Net::input_size});
        for (auto& v : x) v = static_cast<T>(rng.normal() * 1.5 + 0.3);
        net.forward(workspace, x);
        net.update_buffers(workspace);
    }
    net.set_mode(Mode::inference);
}

// Writes <folder>/<name>.hpp and <name>.txt; `exact` asks for every output bit for bit,
// else |exported - network| <= tolerance (1 + |network|).
template <class Net>
bool export_case(const std::string& folder, const std::string& name, std::uint64_t seed, double tolerance,
                 export_options options = {}) {
    using T = typename Net::value_type;
    Rng rng(seed);
    Net net(rng);
    warm_running_statistics(net, rng);
    options.namespace_name = name;
    export_header(net, folder + "/" + name + ".hpp", options);

    constexpr std::size_t samples = 4;
    matrix<T> x({samples, Net::input_size});
    for (auto& v : x) v = static_cast<T>(rng.normal());
    const matrix<T> y = net.forward(x);
    std::FILE* file = std::fopen((folder + "/" + name + ".txt").c_str(), "w");
    if (file == nullptr) {
        std::fprintf(stderr, "cannot write %s/%s.txt\n", folder.c_str(), name.c_str());
        return false;
    }
    std::fprintf(file, "%zu %zu %zu %a\n", samples, Net::input_size, Net::output_size, tolerance);
    for (std::size_t r = 0; r < samples; ++r) {
        for (std::size_t i = 0; i < Net::input_size; ++i) std::fprintf(file, "%a\n", static_cast<double>(x(r, i)));
        for (std::size_t i = 0; i < Net::output_size; ++i) std::fprintf(file, "%a\n", static_cast<double>(y(r, i)));
    }
    std::fclose(file);
    std::printf("%s: %zu parameters, %s -> %s\n", name.c_str(), Net::parameter_count, Net::input_shape::text().c_str(),
                Net::output_shape::text().c_str());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: export_generators <folder>\n");
        return 2;
    }
    const std::string folder = argv[1];
    std::filesystem::create_directories(folder);
    // Tolerances: the products' sums run in another order than BLAS's and the kernels'
    // (docs/reference/io-export-header.md, "Bit for bit or close").
    bool ok = export_case<Painting>(folder, "painting", 1, 1e-6);
    export_options decimal;
    decimal.literals = export_literals::decimal;
    ok = ok && export_case<PaintingDouble>(folder, "painting_double", 2, 1e-14, decimal);
    ok = ok && export_case<Mnist>(folder, "mnist", 3, 1e-5);
    ok = ok && export_case<Dcgan>(folder, "dcgan", 4, 1e-5);
    ok = ok && export_case<ExactLayers>(folder, "exact_layers", 5, 0.0);
    ok = ok && export_case<ConvLayers>(folder, "conv_layers", 6, 1e-6);
    ok = ok && export_case<NormLayers>(folder, "norm_layers", 7, 1e-6);
    return ok ? 0 : 1;
}
