// Checks xgan's Dense kernels, activation loops and Adam against plain reference loops
// (long double sums) for many shapes and batch sizes, in float and double, on the
// implementation XGAN_KERNELS selects (CTest runs it once per path, and so does
// bench/run before timing). Also checks that repeated calls give bit-identical results.
// Built with XGAN_GENERIC_DENSE_KERNELS=1, so that x86-64 has the 16-byte Dense
// kernels to check too; XGAN_KERNELS=generic or blas must then get exactly that path.
//
// Exit status 0 when every check passes; prints one line per failure otherwise.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include <xgan/core/tensor.hpp>
#include <xgan/detail/kernels.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/optim/adam.hpp>

namespace {

int failures = 0;
int checks = 0;

template <class T>
const char* type_name() {
    return sizeof(T) == 4 ? "float" : "double";
}

template <class T>
void fill(std::vector<T>& v, std::mt19937_64& g) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (auto& x : v) x = static_cast<T>(u(g));
}

// |got - want| <= tol * scale, with scale the sum of |terms| (the usual GEMM error bound).
template <class T>
void expect_close(const char* what, std::size_t in, std::size_t out, std::size_t batch, std::size_t index, T got,
                  long double want, long double scale, std::size_t depth) {
    ++checks;
    const long double eps = sizeof(T) == 4 ? 0x1.0p-24L : 0x1.0p-53L;
    const long double tol = 4.0L * static_cast<long double>(depth + 2) * eps * (scale + 1e-30L);
    const long double err = std::fabs(static_cast<long double>(got) - want);
    if (!(err <= tol)) {
        if (++failures <= 20)
            std::printf("FAIL %s<%zu,%zu,%s> batch %zu element %zu: got %.9Lg want %.9Lg (error %.3Lg > %.3Lg)\n",
                        what, in, out, type_name<T>(), batch, index, static_cast<long double>(got), want, err, tol);
    }
}

template <std::size_t In, std::size_t Out, class T>
void check_dense(std::size_t batch, std::mt19937_64& g) {
    using layer_type = xgan::DenseLayer<In, Out, T>;
    const layer_type layer;
    std::vector<T> params(layer_type::parameter_count);
    fill(params, g);
    xgan::matrix<T> x({batch, In}), y({batch, Out}), dy({batch, Out}), dx({batch, In});
    std::vector<T> xs(batch * In), dys(batch * Out);
    fill(xs, g);
    fill(dys, g);
    std::copy(xs.begin(), xs.end(), x.begin());
    std::copy(dys.begin(), dys.end(), dy.begin());
    const T* w = params.data();
    const T* b = params.data() + In * Out;

    // forward: y = x W^T + b
    layer.forward(params, x, y);
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t j = 0; j < Out; ++j) {
            long double sum = b[j], scale = std::fabs(static_cast<long double>(b[j]));
            for (std::size_t k = 0; k < In; ++k) {
                const long double p = static_cast<long double>(x(r, k)) * w[j * In + k];
                sum += p;
                scale += std::fabs(p);
            }
            expect_close<T>("forward", In, Out, batch, r * Out + j, y(r, j), sum, scale, In);
        }
    xgan::matrix<T> y2({batch, Out});
    layer.forward(params, x, y2);
    ++checks;
    if (std::memcmp(y.data(), y2.data(), y.size() * sizeof(T)) != 0) {
        ++failures;
        std::printf("FAIL forward<%zu,%zu,%s> batch %zu: two calls differ\n", In, Out, type_name<T>(), batch);
    }

    // backward_input: dx = dy W
    layer.backward_input(params, x, y, dy, dx);
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t k = 0; k < In; ++k) {
            long double sum = 0, scale = 0;
            for (std::size_t j = 0; j < Out; ++j) {
                const long double p = static_cast<long double>(dy(r, j)) * w[j * In + k];
                sum += p;
                scale += std::fabs(p);
            }
            expect_close<T>("backward_input", In, Out, batch, r * In + k, dx(r, k), sum, scale, Out);
        }

    // accumulate_gradient: grad += [dy^T x, column sums of dy], onto a non-zero start
    std::vector<T> grad(layer_type::parameter_count), start(layer_type::parameter_count);
    fill(start, g);
    grad = start;
    layer.accumulate_gradient(params, x, y, dy, grad);
    for (std::size_t j = 0; j < Out; ++j) {
        for (std::size_t k = 0; k < In; ++k) {
            long double sum = start[j * In + k], scale = std::fabs(sum);
            for (std::size_t r = 0; r < batch; ++r) {
                const long double p = static_cast<long double>(dy(r, j)) * x(r, k);
                sum += p;
                scale += std::fabs(p);
            }
            expect_close<T>("gradient.weight", In, Out, batch, j * In + k, grad[j * In + k], sum, scale, batch);
        }
        long double sum = start[In * Out + j], scale = std::fabs(sum);
        for (std::size_t r = 0; r < batch; ++r) {
            sum += dy(r, j);
            scale += std::fabs(static_cast<long double>(dy(r, j)));
        }
        expect_close<T>("gradient.bias", In, Out, batch, j, grad[In * Out + j], sum, scale, batch);
    }
}

// The fused Dense + activation kernels against the separate passes, bit for bit.
template <std::size_t In, std::size_t Out, class Op, class T>
void check_fused(const char* name, std::size_t batch, std::mt19937_64& g) {
    namespace k = xgan::detail::kernels;
    std::vector<T> params(In * Out + Out), x(batch * In), dy(batch * Out);
    fill(params, g);
    fill(x, g);
    fill(dy, g);
    const T* w = params.data();
    const T* b = params.data() + In * Out;
    if (batch * Out > 3) {  // some exact zeros among the pre-activations
        params[In * Out] = T(0);
        for (std::size_t k2 = 0; k2 < In; ++k2) x[k2] = T(0);
    }

    // forward: Op(x w^T + b)
    std::vector<T> pre(batch * Out), separate(batch * Out), fused(batch * Out);
    if constexpr (k::small_dense_v<T, In, Out>) {
        if (k::active_path() != k::path::blas) k::dense_forward<In, Out, T>(batch, x.data(), w, b, pre.data());
        else return;
    } else {
        return;
    }
    k::activation_forward<Op, T>(pre.size(), pre.data(), separate.data());
    k::dense_forward_activated<In, Out, Op, T>(batch, x.data(), w, b, fused.data());
    ++checks;
    if (std::memcmp(separate.data(), fused.data(), fused.size() * sizeof(T)) != 0) {
        ++failures;
        std::printf("FAIL dense_forward_activated<%zu,%zu,%s,%s> batch %zu differs from the separate passes\n", In,
                    Out, name, type_name<T>(), batch);
    }

    // backward through the activation before the Dense: its input a, output Op(a)
    std::vector<T> a(batch * In), ya(batch * In), d_post(batch * In), d_separate(batch * In), d_fused(batch * In);
    fill(a, g);
    a[0] = T(0);
    if (a.size() > 1) a[1] = -T(0);
    if (a.size() > 2) a[2] = std::numeric_limits<T>::quiet_NaN();
    k::activation_forward<Op, T>(a.size(), a.data(), ya.data());
    k::dense_backward_input<In, Out, T>(batch, dy.data(), w, d_post.data());
    k::activation_backward<Op, T>(a.size(), a.data(), ya.data(), d_post.data(), d_separate.data());
    k::dense_backward_input_gated<In, Out, Op, T>(batch, dy.data(), w, ya.data(), d_fused.data());
    ++checks;
    if (std::memcmp(d_separate.data(), d_fused.data(), d_fused.size() * sizeof(T)) != 0) {
        ++failures;
        std::printf("FAIL dense_backward_input_gated<%zu,%zu,%s,%s> batch %zu differs from the separate passes\n", In,
                    Out, name, type_name<T>(), batch);
    }
}

template <std::size_t In, std::size_t Out>
void check_shape(std::mt19937_64& g) {
    for (const std::size_t batch : {1, 2, 5, 6, 7, 12, 13, 64, 65}) {
        check_dense<In, Out, float>(batch, g);
        check_dense<In, Out, double>(batch, g);
        check_fused<In, Out, xgan::detail::relu_op, float>("relu", batch, g);
        check_fused<In, Out, xgan::detail::relu_op, double>("relu", batch, g);
        check_fused<In, Out, xgan::detail::leaky_relu_op<1, 5>, float>("leaky_relu", batch, g);
        check_fused<In, Out, xgan::detail::leaky_relu_op<1, 100>, double>("leaky_relu", batch, g);
    }
}

template <class Op, class T>
void check_activation(const char* name, std::mt19937_64& g) {
    const std::size_t n = 1003;
    std::vector<T> x(n), y(n), dy(n), dx(n);
    fill(x, g);
    fill(dy, g);
    x[0] = T(0);
    x[1] = -T(0);
    xgan::detail::kernels::activation_forward<Op, T>(n, x.data(), y.data());
    xgan::detail::kernels::activation_backward<Op, T>(n, x.data(), y.data(), dy.data(), dx.data());
    for (std::size_t i = 0; i < n; ++i) {
        ++checks;
        const T fy = Op::value(x[i]), fdx = Op::gradient(x[i], y[i], dy[i]);
        if (std::memcmp(&fy, &y[i], sizeof(T)) != 0 || std::memcmp(&fdx, &dx[i], sizeof(T)) != 0) {
            ++failures;
            std::printf("FAIL %s<%s> element %zu differs from the scalar operation\n", name, type_name<T>(), i);
            return;
        }
    }
}

template <class T>
void check_adam(std::mt19937_64& g) {
    const std::size_t n = 1001;
    std::vector<T> p(n), grad(n);
    fill(p, g);
    const std::vector<T> p0 = p;
    xgan::Adam settings{.lr = 1e-3};
    xgan::Adam::state<T> state(n);
    std::vector<long double> m(n, 0), v(n, 0), ref(p.begin(), p.end());
    for (int step = 1; step <= 5; ++step) {
        fill(grad, g);
        state.step(settings, p, grad);
        const long double c1 = 1 - std::pow(0.9L, step), c2 = 1 - std::pow(0.999L, step);
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = 0.9L * m[i] + 0.1L * grad[i];
            v[i] = 0.999L * v[i] + 0.001L * grad[i] * grad[i];
            ref[i] -= 1e-3L / c1 * m[i] / (std::sqrt(v[i]) / std::sqrt(c2) + 1e-8L);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const long double moved = std::fabs(ref[i] - p0[i]);
        // Rounding of the parameter itself, and a relative error on the accumulated update.
        expect_close<T>("adam", n, 5, 1, i, p[i], ref[i], std::fabs(ref[i]) + 64 * moved, 16);
    }
}

}  // namespace

int main() {
    namespace k = xgan::detail::kernels;
    const char* requested = std::getenv("XGAN_KERNELS");
    if (requested != nullptr && (std::strcmp(requested, "generic") == 0 || std::strcmp(requested, "blas") == 0) &&
        std::strcmp(requested, k::path_name(k::active_path())) != 0) {
        std::printf("FAIL XGAN_KERNELS=%s, but the Dense products use the %s path (is XGAN_GENERIC_DENSE_KERNELS=1 "
                    "defined?)\n",
                    requested, k::path_name(k::active_path()));
        return 1;
    }
    std::mt19937_64 g(12345);
    check_shape<1, 1>(g);
    check_shape<1, 7>(g);
    check_shape<2, 3>(g);
    check_shape<3, 2>(g);
    check_shape<3, 100>(g);
    check_shape<100, 3>(g);
    check_shape<4, 4>(g);
    check_shape<5, 128>(g);
    check_shape<7, 9>(g);
    check_shape<9, 7>(g);
    check_shape<15, 128>(g);
    check_shape<128, 15>(g);
    check_shape<128, 1>(g);
    check_shape<16, 16>(g);
    check_shape<17, 33>(g);
    check_shape<33, 17>(g);
    check_shape<64, 64>(g);
    check_shape<100, 128>(g);
    check_shape<128, 128>(g);
    check_shape<200, 100>(g);  // above the kernel size limit: BLAS
    check_activation<xgan::detail::relu_op, float>("relu", g);
    check_activation<xgan::detail::relu_op, double>("relu", g);
    check_activation<xgan::detail::leaky_relu_op<1, 5>, float>("leaky_relu", g);
    check_adam<float>(g);
    check_adam<double>(g);
    std::printf("kernel_check (%s kernels): %d checks, %d failures\n",
                xgan::detail::kernels::path_name(xgan::detail::kernels::active_path()), checks, failures);
    return failures == 0 ? 0 : 1;
}
