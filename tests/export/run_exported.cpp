// Runs an exported header (included with -include, namespace EXPORT_NS) on the inputs of
// its data file and compares with the network's own outputs there: every output within
// the file's tolerance, |exported - network| <= tolerance (1 + |network|), bit for bit
// when it is 0. Built with nothing but the standard library on the include path.
//
//   run_exported <name>.txt
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef EXPORT_NS
#error "define EXPORT_NS, the exported header's namespace"
#endif

namespace exported = EXPORT_NS;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: run_exported <data file>\n");
        return 2;
    }
    std::FILE* file = std::fopen(argv[1], "r");
    if (file == nullptr) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    char word[64];
    const auto next = [&]() -> double {
        if (std::fscanf(file, "%63s", word) != 1) {
            std::fprintf(stderr, "%s ends early\n", argv[1]);
            std::exit(2);
        }
        return std::strtod(word, nullptr);
    };
    const auto samples = static_cast<std::size_t>(next());
    const auto in = static_cast<std::size_t>(next());
    const auto out = static_cast<std::size_t>(next());
    const double tolerance = next();
    if (in != exported::input_size || out != exported::output_size) {
        std::fprintf(stderr, "%s is for %zu -> %zu, the header for %zu -> %zu\n", argv[1], in, out,
                     exported::input_size, exported::output_size);
        return 1;
    }
    std::size_t identical = 0, outside = 0;
    double largest = 0;
    exported::workspace work;
    for (std::size_t s = 0; s < samples; ++s) {
        exported::input_type x;
        for (auto& v : x) v = static_cast<exported::scalar>(next());
        exported::output_type y;
        exported::generate(x, y, work);
        const exported::output_type again = exported::generate(x);
        for (std::size_t i = 0; i < out; ++i) {
            const double expected = next();
            const double got = static_cast<double>(y[i]);
            const double error = std::fabs(got - expected);
            identical += std::memcmp(&y[i], &again[i], sizeof y[i]) == 0 &&
                         static_cast<double>(static_cast<exported::scalar>(expected)) == got;
            largest = error > largest ? error : largest;
            if (!(error <= tolerance * (1 + std::fabs(expected)))) {
                if (outside < 5)
                    std::fprintf(stderr, "sample %zu, output %zu: exported %a, network %a (error %g)\n", s, i, got,
                                 expected, error);
                ++outside;
            }
        }
    }
    std::fclose(file);
    std::printf("%zu of %zu outputs bit for bit, largest difference %g (tolerance %g relative to 1 + |value|)\n",
                identical, samples * out, largest, tolerance);
    if (outside > 0) {
        std::fprintf(stderr, "%zu outputs outside the tolerance\n", outside);
        return 1;
    }
    return 0;
}
