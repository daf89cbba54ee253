// A public finite-difference gradient checker (after dlib's test_layer): compares the
// analytic gradients of a layer, a network or a loss with central differences in double
// precision. Use it on your own layers: check_layer_gradients<MyLayer>().
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/layer.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/second_order.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>

namespace xgan {

struct GradientCheckOptions {
    std::size_t batch = 3;        // rows of the random input batch
    Mode mode = Mode::training;   // the mode the network is checked in
    double step = 1e-6;           // central-difference step h
    double tolerance = 1e-6;      // largest accepted error (see GradientCheckResult)
    std::uint64_t seed = 1;       // parameters, inputs and upstream gradients
};

// error = |analytic - numerical| / max(1, |analytic|, |numerical|): relative for large
// derivatives, absolute for small ones.
struct GradientCheckResult {
    double max_error = 0;
    std::size_t checked = 0;     // number of derivatives compared
    std::string worst;           // which derivative had max_error, with both values
    bool passed = false;

    explicit operator bool() const { return passed; }
};

namespace detail {

inline double gradient_error(double analytic, double numerical) {
    return std::abs(analytic - numerical) / std::max({1.0, std::abs(analytic), std::abs(numerical)});
}

inline void record(GradientCheckResult& result, const std::string& what, double analytic, double numerical) {
    double error = gradient_error(analytic, numerical);
    if (std::isnan(error)) error = INFINITY;
    ++result.checked;
    if (result.worst.empty() || error > result.max_error) {
        result.max_error = error;
        result.worst = message(what, ": analytic ", analytic, ", numerical ", numerical);
    }
}

// Central difference of f with respect to x[i], restoring x[i].
inline double central_difference(const std::function<double()>& f, double& x, double h) {
    const double saved = x;
    x = saved + h;
    const double up = f();
    x = saved - h;
    const double down = f();
    x = saved;
    return (up - down) / (2 * h);
}

}  // namespace detail

// Checks dL/dparameters and dL/dinput of a double network, for L = sum(y * r) with
// random input x and random weights r.
template <std::floating_point T, class... Specs>
GradientCheckResult check_gradients(const BasicSequential<T, Specs...>& network, const GradientCheckOptions& options = {}) {
    static_assert(std::is_same_v<T, double>,
                  "xgan::check_gradients: check in double precision (rebind_scalar_t<Net, double>)");
    using Net = BasicSequential<T, Specs...>;
    Net net = network;
    net.set_mode(options.mode);
    Rng rng(options.seed);
    matrix<double> x({options.batch, Net::input_size});
    matrix<double> r({options.batch, Net::output_size});
    rng.fill_uniform(std::span<double>(x.data(), x.size()), -1.0, 1.0);
    rng.fill_uniform(std::span<double>(r.data(), r.size()), -1.0, 1.0);

    // Stateful layers see the same masks at every evaluation: the Rng restarts each time.
    Rng layer_rng(options.seed + 1);
    typename Net::Workspace ws;
    ws.rng = &layer_rng;
    auto objective = [&] {
        layer_rng = Rng(options.seed + 1);
        const auto& y = net.forward(ws, x);
        double sum = 0;
        for (std::size_t i = 0; i < y.size(); ++i) sum += y.data()[i] * r.data()[i];
        return sum;
    };

    objective();
    std::copy(r.begin(), r.end(), ws.gradients[Net::layer_count].begin());
    std::vector<double> gradient(Net::parameter_count, 0.0);
    net.backward(ws, gradient, true);
    const matrix<double> input_gradient = ws.gradients[0];

    GradientCheckResult result;
    const auto named = net.named_parameters();
    for (const auto& p : named)
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            const auto index = static_cast<std::size_t>(p.values.data() + i - net.parameters().data());
            const double numerical = detail::central_difference(objective, p.values[i], options.step);
            detail::record(result, detail::message("parameter ", p.name, "[", i, "]"), gradient[index], numerical);
        }
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double numerical = detail::central_difference(objective, x.data()[i], options.step);
        detail::record(result,
                       detail::message("input[", i / Net::input_size, ", ", i % Net::input_size, "]"),
                       input_gradient.data()[i], numerical);
    }
    result.passed = result.max_error <= options.tolerance;
    return result;
}

// Checks a network type: builds it in double from options.seed.
template <class Net>
GradientCheckResult check_gradients(const GradientCheckOptions& options = {}) {
    return check_gradients(rebind_scalar_t<Net, double>(options.seed), options);
}

// Checks one layer: a concrete Layer (in double), or a specification bound to `Width`
// (needed only for specifications that take the previous width, e.g. <ReLU, 7>).
template <class L, std::size_t Width = 0>
GradientCheckResult check_layer_gradients(const GradientCheckOptions& options = {}) {
    if constexpr (Layer<L>) {
        static_assert(std::is_same_v<typename L::value_type, double>,
                      "xgan::check_layer_gradients: check a concrete layer in double precision");
        return check_gradients(BasicSequential<double, L>(options.seed), options);
    } else {
        static_assert(Width > 0 || sized_spec<L>,
                      "xgan::check_layer_gradients<Spec, Width>: give the width for a layer that takes the "
                      "previous layer's width, e.g. check_layer_gradients<ReLU, 8>()");
        using bound = bind_layer_t<L, (Width > 0 ? Width : required_input_size_v<L>), double>;
        return check_gradients(BasicSequential<double, bound>(options.seed), options);
    }
}

// Checks one layer specification bound to the input shape In, e.g.
// check_layer_gradients<Conv2D<3, 4, 3, 2, 1>, shape<3, 7, 6>>().
template <class L, Shape In>
GradientCheckResult check_layer_gradients(const GradientCheckOptions& options = {}) {
    return check_gradients(BasicSequential<double, bind_layer_to_t<L, In, double>>(options.seed), options);
}

// Checks the second-order pass of the one layer of a double network against central
// differences of its first-order pass: for random x, dy and e (uniform in [-1, 1]) and
// S = sum(e * backward_input(x, dy)), e_out must be dS/ddy, what the pass adds to x_adjoint
// dS/dx (through y = forward(x) as well) and what it adds to grad dS/dparams.
template <class... Specs>
GradientCheckResult check_second_order(const BasicSequential<double, Specs...>& network,
                                       const GradientCheckOptions& options = {}) {
    using Net = BasicSequential<double, Specs...>;
    static_assert(Net::layer_count == 1, "xgan::check_second_order: give a network of exactly one layer");
    using L = typename Net::template layer_type<0>;
    constexpr bool has_second_order_pass = second_order_layer<L>;
    static_assert(has_second_order_pass,
                  "xgan::check_second_order: the layer has no second-order pass (backward_second_order)");
    Net net = network;
    net.set_mode(options.mode);
    Rng rng(options.seed);
    matrix<double> x({options.batch, L::input_size}), dy({options.batch, L::output_size}),
        e({options.batch, L::input_size});
    for (matrix<double>* m : {&x, &dy, &e}) rng.fill_uniform(std::span<double>(m->data(), m->size()), -1.0, 1.0);

    Rng layer_rng(options.seed + 1);
    typename Net::Workspace ws;
    ws.rng = &layer_rng;
    auto objective = [&] {  // S = sum(e * dx)
        layer_rng = Rng(options.seed + 1);
        net.forward(ws, x);
        std::copy(dy.begin(), dy.end(), ws.gradients[1].begin());
        const matrix<double>& dx = net.backward_input(ws);
        double sum = 0;
        for (std::size_t i = 0; i < dx.size(); ++i) sum += dx.data()[i] * e.data()[i];
        return sum;
    };
    objective();

    // The pass adds to x_adjoint and grad: start them from random values and subtract those.
    matrix<double> e_out({options.batch, L::output_size}), x_adjoint({options.batch, L::input_size});
    std::vector<double> grad(Net::parameter_count);
    rng.fill_uniform(std::span<double>(x_adjoint.data(), x_adjoint.size()), -1.0, 1.0);
    rng.fill_uniform(std::span<double>(grad), -1.0, 1.0);
    const matrix<double> adjoint_start = x_adjoint;
    const std::vector<double> grad_start = grad;
    if constexpr (second_order_layer<L>)  // else the static_assert above is the one error
        detail::layer_second_order(net.template layer<0>(), std::span<const double>(net.template parameters_of<0>()),
                                   ws.values[0], ws.values[1], dy, e, e_out, x_adjoint, std::span<double>(grad),
                                   std::get<0>(ws.caches));

    GradientCheckResult result;
    for (std::size_t i = 0; i < dy.size(); ++i)
        detail::record(result,
                       detail::message("e_out[", i / L::output_size, ", ", i % L::output_size, "] (dS/ddy)"),
                       e_out.data()[i], detail::central_difference(objective, dy.data()[i], options.step));
    for (std::size_t i = 0; i < x.size(); ++i)
        detail::record(result,
                       detail::message("x_adjoint[", i / L::input_size, ", ", i % L::input_size, "] (dS/dx)"),
                       x_adjoint.data()[i] - adjoint_start.data()[i],
                       detail::central_difference(objective, x.data()[i], options.step));
    for (const auto& p : net.named_parameters())
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            const auto index = static_cast<std::size_t>(p.values.data() + i - net.parameters().data());
            detail::record(result, detail::message("parameter ", p.name, "[", i, "] (dS/dparams)"),
                           grad[index] - grad_start[index],
                           detail::central_difference(objective, p.values[i], options.step));
        }
    result.passed = result.max_error <= options.tolerance;
    return result;
}

// Checks one layer's second-order pass: a concrete double Layer, or a specification bound
// to `Width` (check_layer_second_order<Tanh, 7>()) ...
template <class L, std::size_t Width = 0>
GradientCheckResult check_layer_second_order(const GradientCheckOptions& options = {}) {
    if constexpr (Layer<L>) {
        static_assert(std::is_same_v<typename L::value_type, double>,
                      "xgan::check_layer_second_order: check a concrete layer in double precision");
        return check_second_order(BasicSequential<double, L>(options.seed), options);
    } else {
        static_assert(Width > 0 || sized_spec<L>,
                      "xgan::check_layer_second_order<Spec, Width>: give the width for a layer that takes the "
                      "previous layer's width, e.g. check_layer_second_order<Tanh, 8>()");
        using bound = bind_layer_t<L, (Width > 0 ? Width : required_input_size_v<L>), double>;
        return check_second_order(BasicSequential<double, bound>(options.seed), options);
    }
}

// ... or bound to the input shape In: check_layer_second_order<Conv2D<3, 4, 3, 2, 1>, shape<3, 7, 6>>().
template <class L, Shape In>
GradientCheckResult check_layer_second_order(const GradientCheckOptions& options = {}) {
    return check_second_order(BasicSequential<double, bind_layer_to_t<L, In, double>>(options.seed), options);
}

// Checks the parameter gradient of a penalty on a double network's input gradient
// (Sequential::input_gradient_penalty: the double backward) against central differences
// of P(parameters) = penalty(g), g the input gradient of the sum of the outputs, computed
// by forward and backward_input, at a random input batch (uniform in [-1, 1]).
template <class Penalty, class... Specs>
GradientCheckResult check_penalty_gradients(const BasicSequential<double, Specs...>& network, const Penalty& penalty,
                                            const GradientCheckOptions& options = {}) {
    using Net = BasicSequential<double, Specs...>;
    Net net = network;
    net.set_mode(options.mode);
    Rng rng(options.seed);
    matrix<double> x({options.batch, Net::input_size});
    rng.fill_uniform(std::span<double>(x.data(), x.size()), -1.0, 1.0);

    Rng layer_rng(options.seed + 1);
    typename Net::Workspace ws;
    ws.rng = &layer_rng;
    matrix<double> scratch({options.batch, Net::input_size});
    auto objective = [&] {
        layer_rng = Rng(options.seed + 1);
        net.forward(ws, x);
        std::fill(ws.gradients[Net::layer_count].begin(), ws.gradients[Net::layer_count].end(), 1.0);
        return static_cast<double>(penalty(net.backward_input(ws), scratch));
    };

    std::vector<double> gradient(Net::parameter_count, 0.0);
    layer_rng = Rng(options.seed + 1);
    const double value = net.input_gradient_penalty(ws, x, penalty, std::span<double>(gradient));

    GradientCheckResult result;
    detail::record(result, "the penalty's value", value, objective());
    for (const auto& p : net.named_parameters())
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            const auto index = static_cast<std::size_t>(p.values.data() + i - net.parameters().data());
            detail::record(result, detail::message("parameter ", p.name, "[", i, "]"), gradient[index],
                           detail::central_difference(objective, p.values[i], options.step));
        }
    result.passed = result.max_error <= options.tolerance;
    return result;
}

// Checks a GAN loss's gradients with respect to the logits, for both players, at
// random logits spread over [-spread, spread].
template <class GanLoss>
GradientCheckResult check_loss_gradients(const GanLoss& loss, const GradientCheckOptions& options = {},
                                         double spread = 6.0) {
    Rng rng(options.seed);
    matrix<double> real({options.batch, 1}), fake({options.batch, 1});
    rng.fill_uniform(std::span<double>(real.data(), real.size()), -spread, spread);
    rng.fill_uniform(std::span<double>(fake.data(), fake.size()), -spread, spread);
    matrix<double> real_gradient(real.shape()), fake_gradient(fake.shape()), scratch_real(real.shape()),
        scratch_fake(fake.shape());

    GradientCheckResult result;
    loss.discriminator(real, fake, real_gradient, fake_gradient);
    auto d_loss = [&] { return loss.discriminator(real, fake, scratch_real, scratch_fake); };
    for (std::size_t i = 0; i < real.size(); ++i) {
        detail::record(result, detail::message("discriminator loss d/d real logit ", i), real_gradient.data()[i],
                       detail::central_difference(d_loss, real.data()[i], options.step));
        detail::record(result, detail::message("discriminator loss d/d fake logit ", i), fake_gradient.data()[i],
                       detail::central_difference(d_loss, fake.data()[i], options.step));
    }
    loss.generator(fake, fake_gradient);
    auto g_loss = [&] { return loss.generator(fake, scratch_fake); };
    for (std::size_t i = 0; i < fake.size(); ++i)
        detail::record(result, detail::message("generator loss d/d fake logit ", i), fake_gradient.data()[i],
                       detail::central_difference(g_loss, fake.data()[i], options.step));
    result.passed = result.max_error <= options.tolerance;
    return result;
}

}  // namespace xgan
