// Must not compile: an activation whose Op has no name() cannot be recorded in a
// checkpoint's architecture (it would describe itself like any other activation).
#include <string>

#include <xgan/io/architecture.hpp>
#include <xgan/xgan.hpp>

struct square_op {
    template <class T> static T value(T x) { return x * x; }
    template <class T> static T gradient(T x, T, T dy) { return 2 * x * dy; }
};
struct Square : xgan::activation_spec<square_op> {};

int main() {
    const std::string text = xgan::describe<xgan::Sequential<xgan::Dense<3, 4>, Square, xgan::Dense<4, 1>>>();
    return text.empty() ? 1 : 0;
}
