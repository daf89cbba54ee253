// 07_exported_curves: paints with the generator that 07_export_painting exported, and
// includes nothing of xgan: only the exported header and the standard library. The build
// runs 07_export_painting first (a short training run) to write that header.
//
// It prints the curve for the noise vector 07_export_painting also prints, then a few
// curves from fresh noise (std::normal_distribution: the generator learned from standard
// normal noise), each with the a of the parabola a x^2 + (a - 1) that fits it best:
// a trained generator paints with a in [1, 2], like the artist.
//
//   07_exported_curves           # 8 curves, seed 1
//   07_exported_curves 20 7      # 20 curves, seed 7

#include <array>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "painting_generator.hpp"

namespace {

// Where the 15 points of a painting lie: evenly from -1 to 1 (as xgan::paintings).
double point(std::size_t j) { return -1.0 + 2.0 * static_cast<double>(j) / (painting::output_size - 1); }

// The least-squares a of a x^2 + (a - 1) = a (x^2 + 1) - 1 through the curve.
double fitted_a(const painting::output_type& curve) {
    double num = 0, den = 0;
    for (std::size_t j = 0; j < curve.size(); ++j) {
        const double basis = point(j) * point(j) + 1.0;
        num += basis * (static_cast<double>(curve[j]) + 1.0);
        den += basis * basis;
    }
    return num / den;
}

void print(const painting::output_type& curve) {
    for (const float v : curve) std::printf(" %9.6f", static_cast<double>(v));
    std::printf("   a = %.3f\n", fitted_a(curve));
}

}  // namespace

int main(int argc, char** argv) {
    const long count = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 8;
    const unsigned long seed = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1;
    if (argc > 3 || count < 1 || count > 100000) {
        std::fprintf(stderr, "usage: 07_exported_curves [curves (1 to 100000), default 8] [seed, default 1]\n");
        return 2;
    }

    std::printf("The exported generator's curve for the noise (0.5, -0.5, 1, 0, -1):\n");
    print(painting::generate(painting::input_type{0.5f, -0.5f, 1.0f, 0.0f, -1.0f}));

    std::printf("\n%ld curves from fresh noise (seed %lu), x from -1 to 1:\n", count, seed);
    std::mt19937_64 engine(seed);
    std::normal_distribution<float> normal;
    painting::workspace work;  // the values between layers, reused
    for (long i = 0; i < count; ++i) {
        painting::input_type noise;
        for (float& v : noise) v = normal(engine);
        painting::output_type curve;
        painting::generate(noise, curve, work);
        print(curve);
    }
}
