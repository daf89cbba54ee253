// Must not compile: an activation whose Op does not spell its formula in C++ cannot be exported.
#include <string>

#include <xgan/io/export_header.hpp>
#include <xgan/xgan.hpp>

struct square_op {
    static std::string name() { return "Square"; }
    template <class T> static T value(T x) { return x * x; }
    template <class T> static T gradient(T x, T, T dy) { return 2 * x * dy; }
};
struct Square : xgan::activation_spec<square_op> {};

int main() {
    const xgan::Sequential<xgan::Dense<3, 4>, Square> generator;
    xgan::export_header(generator, "generator.hpp");
}
