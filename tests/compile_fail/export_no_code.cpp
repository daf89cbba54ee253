// Must not compile: a layer of the user's own that writes no inference code cannot be exported.
#include <span>

#include <xgan/io/export_header.hpp>
#include <xgan/xgan.hpp>

struct Doubler {  // y = 2 x, a complete layer except for export_code
    using value_type = float;
    static constexpr std::size_t input_size = 4, output_size = 4, parameter_count = 0;
    void forward(std::span<const float>, const xgan::matrix<float>& x, xgan::matrix<float>& y) const { y = 2.0f * x; }
    void backward_input(std::span<const float>, const xgan::matrix<float>&, const xgan::matrix<float>&,
                        const xgan::matrix<float>& dy, xgan::matrix<float>& dx) const {
        dx = 2.0f * dy;
    }
};

int main() {
    const xgan::Sequential<xgan::Dense<3, 4>, Doubler> generator;
    xgan::export_header(generator, "generator.hpp");
}
