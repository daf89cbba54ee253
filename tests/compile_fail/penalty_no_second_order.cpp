// Must not compile: a gradient penalty on a critic with a layer that has no second-order
// pass (here an activation whose Op gives no second_derivative).
#include <span>
#include <vector>

#include <xgan/train/gradient_penalty.hpp>
#include <xgan/xgan.hpp>

struct cube_op {
    static std::string name() { return "Cube"; }
    template <class T> static T value(T x) { return x * x * x; }
    template <class T> static T gradient(T x, T, T dy) { return 3 * x * x * dy; }
};
struct Cube : xgan::activation_spec<cube_op> {};

int main() {
    using Critic = xgan::Sequential<xgan::Dense<2, 4>, Cube, xgan::Dense<4, 1>>;
    const Critic critic;
    Critic::Workspace ws;
    std::vector<float> gradient(Critic::parameter_count);
    const xgan::matrix<float> x({3, 2});
    return critic.input_gradient_penalty(ws, x, xgan::GradientNormPenalty{}, std::span<float>(gradient)) > 0 ? 0 : 1;
}
