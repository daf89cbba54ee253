// The dlib row of bench/run: W1 (the painting GAN), W2 (the MNIST MLP GAN) and W3 (the
// DCGAN) written with dlib's DNN API (Debian's libdlib-dev), timed by the shared harness
// (bench/harness). bench/README.md defines the workloads; this file implements exactly them.
//
// It is written the way dlib's own GAN example (examples/dnn_dcgan_train_ex.cpp) trains
// its DCGAN: G and D are two separate networks with their own vectors of adam solvers;
// D is trained with forward / back_propagate_error / update_parameters, and G is trained
// by back-propagating through D, taking D's input gradient (get_final_data_gradient())
// and feeding it to G's back_propagate_error, then G.update_parameters.
//
// Where this file departs from the example, and why:
// - No loss layer. W1's minimax losses and W2's BCE with real label 0.9 (one-sided label
//   smoothing) cannot be expressed with dlib's loss_binary_log (labels +-1, log loss on
//   the logit only); W3's BCE could, but is computed the same way as W2's. So the nets end without a loss layer, and without the final Sigmoid:
//   the losses and their gradients with respect to D's logit are computed here (the same
//   functions as BCE on sigmoid(logit), computed more accurately; bench/README.md allows
//   it), and the gradient goes in through back_propagate_error(input, gradient).
// - D's real and fake rows go through D as one batch (2B rows). A dlib layer overwrites
//   its parameter gradient on every backward pass (zero_gradients::no only concerns the
//   data gradients), so summing the gradients of two passes would need extra copies;
//   one batch gives the sum directly, with the same FLOPs.
// - D frozen during G's update: all of D's learning-rate multipliers are set to 0
//   (set_all_learning_rate_multipliers), which makes dlib's fc_ layer skip its parameter
//   gradient (fc_::backward and con_::backward compute it only when the multiplier is
//   non-zero; bn_ computes its two small ones anyway), and D's update_parameters is not
//   called in that phase. They are set back to 1 afterwards.
// - Dropout. dlib's dropout_ is not "inverted": in training it zeroes with probability
//   rate and does NOT scale the survivors by 1/(1-rate) (dlib instead scales by 1-rate at
//   inference, replacing dropout with multiply). Keras and PyTorch scale in training, so
//   each dropout here is followed by multiply_(1/(1-rate)) to give the same training
//   function. D stays in training mode during G's update, as the workload asks: dlib's
//   dropout is always active.
// - W3 (bench/README.md has the mapping and its differences): PyTorch's Conv2d(k 4,
//   stride 2, padding 1) is con_<n, 4, 4, 2, 2, 1, 1> and ConvTranspose2d(k 4, stride 2,
//   padding 1) is cont_<n, 4, 4, 2, 2, 1, 1>; dlib's con/cont aliases take no padding and
//   default it to 0 for stride 2, so cont<64, 4, 4, 2, 2> would give 7 -> 16, not 14.
//   Unflatten is extract<0, 128, 7, 7> (a copy, where PyTorch's is a view); Flatten is
//   implicit in fc. BatchNorm2d is bn_con with eps set to PyTorch's 1e-5 (dlib's default
//   is 1e-4); bn_ always normalises with the batch's statistics when a batch has more than
//   one sample (training mode). Its running statistics (not used in training) are dlib's
//   running average over a window of 100 batches, not an exponential average with
//   momentum 0.1. Initialisation is dlib's own default for every layer (the workload
//   allows each framework's default). A start-up check computes D's first convolution
//   and G's last transposed convolution with plain loops from the layers' parameters,
//   PyTorch's definitions (no kernel flip, symmetric padding), and compares.
//
// Adam: dlib's adam(weight_decay = 0, momentum1, momentum2), learning rate passed to
// update_parameters. One remaining difference from torch.optim.Adam: dlib adds eps = 1e-8
// to sqrt(v) before the bias correction (s = -lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)),
// torch after it (lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps)); i.e. dlib's eps is torch's
// eps / sqrt(1-b2^t): 31.6x larger at the first step, the same after a few thousand.
// The solvers' state is per computational layer (dlib's layout); the update is the
// same element-wise rule.
//
// Parameters: dlib's fc_ stores one tensor per layer, (fan_in + 1) x fan_out row-major:
// the weights as fan_in x fan_out (the transpose of torch's Linear.weight; output =
// input * W), then the fan_out biases. They are written explicitly after one forward pass
// has allocated them (W1: torch's nn.Linear default, U(+-1/sqrt(fan_in)) for weights and
// biases; W2: Keras' Glorot uniform weights, zero biases). At start-up the program checks
// the nets' forward pass against a plain-loop computation from those parameters
// ("forward_check_max_abs_err" in the JSON; above 1e-4 the program stops before timing).
//
// Threads: dlib does its matrix products through CBLAS (libdlib.so imports cblas_sgemm
// from libblas.so.3, on Debian the alternatives link, here OpenBLAS' pthread build).
// --threads N calls openblas_set_num_threads(N), looked up at run time, because dlib does
// not link libopenblas by name; the JSON says which library provides cblas_sgemm and
// whether the thread count could be set.
//
// Usage: xgan_bench_dlib [--workload painting|mnist|dcgan] [--threads N] [--steps N] [--repeats R]
//                        [--warmup W] [--seed S]
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/revision.h>

#include "harness/harness.hpp"

namespace {

// ---- the networks ------------------------------------------------------------------
// dlib writes nets output-first; the input tensors are made directly (N x features), so
// input<matrix<float>> only names the input type (to_tensor is called once, at set-up).
using Input = dlib::input<dlib::matrix<float>>;

namespace w1 {
constexpr std::size_t batch = 64, noise = 5, features = 15, real_batches = 64;
constexpr float lr = 1e-4f, beta1 = 0.9f, beta2 = 0.999f;
using G = dlib::fc<features, dlib::relu<dlib::fc<128, Input>>>;
using D = dlib::fc<1, dlib::relu<dlib::fc<128, Input>>>;  // the logit; Sigmoid is in the loss
}  // namespace w1

namespace w2 {
constexpr std::size_t batch = 128, noise = 100, features = 784, real_batches = 8;
constexpr float lr = 2e-4f, beta1 = 0.5f, beta2 = 0.999f;
constexpr float drop_rate = 0.3f, slope = 0.2f;
constexpr int real_label_percent = 90;  // real label 0.9: one-sided label smoothing
template <class S>
using lrelu = dlib::leaky_relu<S>;
// Dropout as Keras does it in training: drop with probability rate, scale by 1/(1-rate).
template <class S>
using drop = dlib::multiply<dlib::dropout<S>>;
using G = dlib::htan<dlib::fc<features, lrelu<dlib::fc<1024, lrelu<dlib::fc<512, lrelu<dlib::fc<256, Input>>>>>>>>;
using D = dlib::fc<1, drop<lrelu<dlib::fc<256, drop<lrelu<dlib::fc<512, drop<lrelu<dlib::fc<1024, Input>>>>>>>>>>;
}  // namespace w2

namespace w3 {
constexpr std::size_t batch = 64, noise = 100, side = 28, real_batches = 8;
constexpr float lr = 2e-4f, beta1 = 0.5f, beta2 = 0.999f, slope = 0.2f;
constexpr double bn_eps = 1e-5;  // PyTorch's BatchNorm2d default
constexpr int real_label_percent = 100;
// PyTorch's Conv2d(in, n, 4, stride=2, padding=1) and ConvTranspose2d(in, n, 4, stride=2, padding=1).
template <long n, class S>
using conv4s2 = dlib::add_layer<dlib::con_<n, 4, 4, 2, 2, 1, 1>, S>;
template <long n, class S>
using convt4s2 = dlib::add_layer<dlib::cont_<n, 4, 4, 2, 2, 1, 1>, S>;
// G: fc 100 -> 6272, viewed as 128 x 7 x 7 (extract), BN, ReLU, 7 -> 14, BN, ReLU, 14 -> 28, tanh.
using G = dlib::htan<convt4s2<1, dlib::relu<dlib::bn_con<convt4s2<64, dlib::relu<dlib::bn_con<
    dlib::extract<0, 128, 7, 7, dlib::fc<128 * 7 * 7, Input>>>>>>>>>;
// D: 28 -> 14, LReLU, 14 -> 7, BN, LReLU, fc 6272 -> 1 (the logit; fc flattens).
using D = dlib::fc<1, dlib::leaky_relu<dlib::bn_con<conv4s2<128, dlib::leaky_relu<conv4s2<64, Input>>>>>>;
}  // namespace w3

// Every fc layer of a net, input side first: (parameter tensor, fan_in, fan_out).
struct FcView {
    float* weights;  // fan_in x fan_out, row-major
    float* biases;   // fan_out
    std::size_t fan_in, fan_out;
};
template <class T>
struct is_fc : std::false_type {};
template <unsigned long N>
struct is_fc<dlib::fc_<N, dlib::FC_HAS_BIAS>> : std::true_type {};

template <class Net>
std::vector<FcView> fc_layers(Net& net) {
    std::vector<FcView> out;
    dlib::visit_computational_layers(net, [&](auto& layer) {
        if constexpr (is_fc<std::decay_t<decltype(layer)>>::value) {
            auto w = layer.get_weights();
            auto b = layer.get_biases();
            const std::size_t fan_out = layer.get_num_outputs();
            out.push_back({w.host(), b.host(), static_cast<std::size_t>(w.size()) / fan_out, fan_out});
            // The biases follow the weights in the one parameter tensor.
            if (b.host() != w.host() + w.size()) {
                std::fprintf(stderr, "xgan_bench_dlib: unexpected fc_ parameter layout\n");
                std::exit(1);
            }
        }
    });
    std::reverse(out.begin(), out.end());  // visit_computational_layers goes output-first
    return out;
}

enum class Init { torch_linear, glorot_uniform };

template <class Net>
void initialise(Net& net, Init init, std::mt19937_64& rng) {
    for (const FcView& fc : fc_layers(net)) {
        const double bound = init == Init::torch_linear ? 1.0 / std::sqrt(static_cast<double>(fc.fan_in))
                                                        : std::sqrt(6.0 / static_cast<double>(fc.fan_in + fc.fan_out));
        std::uniform_real_distribution<float> u(static_cast<float>(-bound), static_cast<float>(bound));
        for (std::size_t i = 0; i < fc.fan_in * fc.fan_out; ++i) fc.weights[i] = u(rng);
        const double bias_bound = init == Init::torch_linear ? bound : 0.0;
        std::uniform_real_distribution<float> ub(static_cast<float>(-bias_bound), static_cast<float>(bias_bound));
        for (std::size_t o = 0; o < fc.fan_out; ++o) fc.biases[o] = init == Init::torch_linear ? ub(rng) : 0.0f;
    }
}

// Plain-loop forward pass of one row through a chain of fc layers, with `hidden` after
// every fc but the last and `last` after the last: the reference for the start-up check.
template <class Hidden, class Last>
std::vector<double> reference_forward(const std::vector<FcView>& fcs, const float* row, Hidden hidden, Last last) {
    std::vector<double> x(row, row + fcs.front().fan_in);
    for (std::size_t l = 0; l < fcs.size(); ++l) {
        const FcView& fc = fcs[l];
        std::vector<double> y(fc.fan_out);
        for (std::size_t o = 0; o < fc.fan_out; ++o) {
            double s = fc.biases[o];
            for (std::size_t i = 0; i < fc.fan_in; ++i) s += x[i] * static_cast<double>(fc.weights[i * fc.fan_out + o]);
            y[o] = l + 1 < fcs.size() ? hidden(s) : last(s);
        }
        x = std::move(y);
    }
    return x;
}

// Runs `net` forward on `input` and returns the largest |difference| from the plain loops
// over the first `rows` rows.
template <class Net, class Hidden, class Last>
double check_forward(Net& net, const dlib::tensor& input, std::size_t rows, Hidden hidden, Last last) {
    const dlib::tensor& out = net.forward(input);
    const std::vector<FcView> fcs = fc_layers(net);
    const std::size_t in = fcs.front().fan_in, n_out = fcs.back().fan_out;
    double worst = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        const std::vector<double> ref = reference_forward(fcs, input.host() + r * in, hidden, last);
        for (std::size_t o = 0; o < n_out; ++o)
            worst = std::max(worst, std::abs(ref[o] - static_cast<double>(out.host()[r * n_out + o])));
    }
    return worst;
}

// ---- the losses, on D's logits -------------------------------------------------------
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

// W1, the minimax losses as the tutorial writes them, from the logit l (D = sigmoid(l)):
//   D: -mean(log D(x) + log(1 - D(G(z)))) = mean softplus(-l_real) + mean softplus(l_fake)
//   G:  mean(log(1 - D(G(z))))            = -mean softplus(l_fake)
struct Minimax {
    // logits: B real rows then B fake rows; grad gets d loss / d logit.
    static double d_loss(const float* logits, float* grad, std::size_t b) {
        const double inv = 1.0 / static_cast<double>(b);
        double loss = 0;
        for (std::size_t i = 0; i < b; ++i) {
            loss += softplus(-logits[i]);
            grad[i] = static_cast<float>((sigmoid(logits[i]) - 1.0) * inv);
        }
        for (std::size_t i = b; i < 2 * b; ++i) {
            loss += softplus(logits[i]);
            grad[i] = static_cast<float>(sigmoid(logits[i]) * inv);
        }
        return loss * inv;
    }
    static double g_loss(const float* logits, float* grad, std::size_t b) {
        const double inv = 1.0 / static_cast<double>(b);
        double loss = 0;
        for (std::size_t i = 0; i < b; ++i) {
            loss -= softplus(logits[i]);
            grad[i] = static_cast<float>(-sigmoid(logits[i]) * inv);
        }
        return loss * inv;
    }
};

// W2 and W3, binary cross-entropy BCE(l, y) = softplus(l) - y l (= -[y log s + (1-y) log(1-s)],
// s = sigmoid(l)), d/dl = s - y, real label y = real_label_percent / 100 (W2 0.9, W3 1):
//   D: mean BCE(l_real, y) + mean BCE(l_fake, 0);  G: mean BCE(l_fake, 1).
template <int real_label_percent>
struct NonSaturating {
    static double d_loss(const float* logits, float* grad, std::size_t b) {
        const double inv = 1.0 / static_cast<double>(b), y = real_label_percent / 100.0;
        double loss = 0;
        for (std::size_t i = 0; i < b; ++i) {
            loss += softplus(logits[i]) - y * logits[i];
            grad[i] = static_cast<float>((sigmoid(logits[i]) - y) * inv);
        }
        for (std::size_t i = b; i < 2 * b; ++i) {
            loss += softplus(logits[i]);
            grad[i] = static_cast<float>(sigmoid(logits[i]) * inv);
        }
        return loss * inv;
    }
    static double g_loss(const float* logits, float* grad, std::size_t b) {
        const double inv = 1.0 / static_cast<double>(b);
        double loss = 0;
        for (std::size_t i = 0; i < b; ++i) {
            loss += softplus(-logits[i]);
            grad[i] = static_cast<float>((sigmoid(logits[i]) - 1.0) * inv);
        }
        return loss * inv;
    }
};

// ---- one GAN: the two nets, their solvers, the step ------------------------------------
// The shape of one sample of D's input (a row of features: {features, 1, 1}; an image:
// {channels, rows, columns}).
struct SampleShape {
    long long k, nr, nc;
    std::size_t size() const { return static_cast<std::size_t>(k * nr * nc); }
};

template <class G, class D, class Loss>
class Gan {
public:
    Gan(std::size_t batch, std::size_t noise, SampleShape sample, float lr, float beta1, float beta2,
        std::uint64_t seed)
        : batch_(batch),
          features_(sample.size()),
          lr_(lr),
          g_solvers_(G::num_computational_layers, dlib::adam(0.0f, beta1, beta2)),
          d_solvers_(D::num_computational_layers, dlib::adam(0.0f, beta1, beta2)),
          rnd_(seed) {
        z_.set_size(static_cast<long long>(batch), static_cast<long long>(noise));
        d_in_.set_size(static_cast<long long>(2 * batch), sample.k, sample.nr, sample.nc);
        // to_tensor once so that the input layers know their sample expansion factor (1).
        dlib::resizable_tensor scratch;
        const dlib::matrix<float> g_sample = dlib::zeros_matrix<float>(static_cast<long>(noise), 1);
        const dlib::matrix<float> d_sample = dlib::zeros_matrix<float>(static_cast<long>(features_), 1);
        g_.to_tensor(&g_sample, &g_sample + 1, scratch);
        d_.to_tensor(&d_sample, &d_sample + 1, scratch);
    }

    G& generator() { return g_; }
    D& discriminator() { return d_; }
    dlib::resizable_tensor& noise_tensor() { return z_; }

    // Allocates the parameters (dlib does it on the first forward pass).
    void allocate() {
        z_ = 0;
        d_.forward(g_.forward(z_));
    }

    void step(const dlib::tensor& real) {
        const std::size_t b = batch_;
        // 1. D update on the real batch and G(z), G not differentiated.
        rnd_.fill_gaussian(z_);
        const dlib::tensor& fake = g_.forward(z_);
        std::memcpy(d_in_.host(), real.host(), b * features_ * sizeof(float));
        std::memcpy(d_in_.host() + b * features_, fake.host(), b * features_ * sizeof(float));
        const dlib::tensor& logits = d_.forward(d_in_);
        grad_.copy_size(logits);
        d_loss = Loss::d_loss(logits.host(), grad_.host(), b);
        d_.back_propagate_error(d_in_, grad_);
        d_.update_parameters(d_solvers_, lr_);

        // 2. G update through D on fresh noise; D frozen (no parameter gradient, no
        //    update) but in training mode.
        dlib::set_all_learning_rate_multipliers(d_, 0);
        rnd_.fill_gaussian(z_);
        const dlib::tensor& fake2 = g_.forward(z_);
        const dlib::tensor& logits2 = d_.forward(fake2);
        grad_.copy_size(logits2);
        g_loss = Loss::g_loss(logits2.host(), grad_.host(), b);
        d_.back_propagate_error(fake2, grad_);
        g_.back_propagate_error(z_, d_.get_final_data_gradient());
        g_.update_parameters(g_solvers_, lr_);
        dlib::set_all_learning_rate_multipliers(d_, 1);
    }

    double d_loss = 0, g_loss = 0;

private:
    std::size_t batch_, features_;
    float lr_;
    G g_;
    D d_;
    std::vector<dlib::adam> g_solvers_, d_solvers_;
    dlib::tt::tensor_rand rnd_;
    dlib::resizable_tensor z_, d_in_, grad_;
};

// ---- BLAS ----------------------------------------------------------------------------
struct BlasInfo {
    std::string library = "unknown";  // the file that provides cblas_sgemm
    bool threads_set = false;
    int threads = -1;  // openblas_get_num_threads() after setting, -1 if not OpenBLAS
};

template <class F>
F lookup(const char* name) {
    void* p = dlsym(RTLD_DEFAULT, name);
    F f = nullptr;
    static_assert(sizeof f == sizeof p);
    std::memcpy(&f, &p, sizeof f);
    return f;
}

BlasInfo set_blas_threads(int threads) {
    BlasInfo info;
    if (void* sgemm = dlsym(RTLD_DEFAULT, "cblas_sgemm")) {
        Dl_info where{};
        if (dladdr(sgemm, &where) != 0 && where.dli_fname != nullptr) info.library = where.dli_fname;
    }
    const auto set = lookup<void (*)(int)>("openblas_set_num_threads");
    const auto get = lookup<int (*)()>("openblas_get_num_threads");
    if (set != nullptr) {
        set(threads);
        info.threads_set = true;
    } else {
        std::fprintf(stderr, "xgan_bench_dlib: openblas_set_num_threads not found; BLAS threads not set\n");
    }
    if (get != nullptr) info.threads = get();
    return info;
}

std::string version_string() {
    return std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION);
}

template <class Gan>
int run_benchmark(const bench::Settings& settings, Gan& gan, const std::vector<dlib::resizable_tensor>& reals,
                  double forward_check, const BlasInfo& blas, bench::Fields extra) {
    // float sums of at most a few thousand terms land within 1e-6 of the double loops; a
    // layer that computed another function (a flipped kernel, other padding) misses by O(1).
    if (!(forward_check <= 1e-4)) {
        std::fprintf(stderr, "xgan_bench_dlib: the nets' forward pass differs from the plain loops by %g\n",
                     forward_check);
        return 1;
    }
    std::size_t next = 0;
    const bench::Measurement m = bench::measure(settings, [&](std::size_t steps) {
        for (std::size_t s = 0; s < steps; ++s) {
            gan.step(reals[next]);
            next = (next + 1) % reals.size();
        }
    });
    char check[32];
    std::snprintf(check, sizeof check, "%.3g", forward_check);
    extra.push_back({"forward_check_max_abs_err", check});
    extra.push_back({"blas_library", bench::quoted(blas.library)});
    extra.push_back({"blas_threads", std::to_string(blas.threads)});
    bench::print_result(settings, "dlib", version_string(), m, gan.d_loss, gan.g_loss, extra);
    if (!std::isfinite(gan.d_loss) || !std::isfinite(gan.g_loss)) return 1;
    return 0;
}

// ---- W3's start-up check ---------------------------------------------------------------
// PyTorch's definitions, in plain loops over NCHW tensors, k x k kernels, stride s, padding p:
//   Conv2d:          out[n,o,y,x] = b[o] + sum_{i,u,v} in[n,i,s y-p+u, s x-p+v] W[o,i,u,v]
//   ConvTranspose2d: out[n,o,s y-p+u, s x-p+v] += in[n,i,y,x] W[i,o,u,v], plus b[o]
// Each returns the output as doubles, NCHW.
std::vector<double> reference_conv(const dlib::tensor& in, const float* w, const float* bias, long out_k, long k,
                                   long s, long p, long out_nr, long out_nc) {
    const long n_k = in.k(), nr = in.nr(), nc = in.nc();
    std::vector<double> out(static_cast<std::size_t>(in.num_samples() * out_k * out_nr * out_nc));
    std::size_t at = 0;
    for (long n = 0; n < in.num_samples(); ++n)
        for (long o = 0; o < out_k; ++o)
            for (long y = 0; y < out_nr; ++y)
                for (long x = 0; x < out_nc; ++x) {
                    double sum = bias[o];
                    for (long i = 0; i < n_k; ++i)
                        for (long u = 0; u < k; ++u)
                            for (long v = 0; v < k; ++v) {
                                const long iy = s * y - p + u, ix = s * x - p + v;
                                if (iy < 0 || iy >= nr || ix < 0 || ix >= nc) continue;
                                sum += static_cast<double>(in.host()[((n * n_k + i) * nr + iy) * nc + ix]) *
                                       static_cast<double>(w[((o * n_k + i) * k + u) * k + v]);
                            }
                    out[at++] = sum;
                }
    return out;
}

std::vector<double> reference_conv_transpose(const dlib::tensor& in, const float* w, const float* bias, long out_k,
                                             long k, long s, long p, long out_nr, long out_nc) {
    const long n_k = in.k(), nr = in.nr(), nc = in.nc();
    std::vector<double> out(static_cast<std::size_t>(in.num_samples() * out_k * out_nr * out_nc));
    for (long n = 0; n < in.num_samples(); ++n)
        for (long o = 0; o < out_k; ++o) {
            double* plane = out.data() + (n * out_k + o) * out_nr * out_nc;
            for (long q = 0; q < out_nr * out_nc; ++q) plane[q] = bias[o];
            for (long i = 0; i < n_k; ++i)
                for (long y = 0; y < nr; ++y)
                    for (long x = 0; x < nc; ++x) {
                        const double v_in = in.host()[((n * n_k + i) * nr + y) * nc + x];
                        for (long u = 0; u < k; ++u)
                            for (long v = 0; v < k; ++v) {
                                const long oy = s * y - p + u, ox = s * x - p + v;
                                if (oy < 0 || oy >= out_nr || ox < 0 || ox >= out_nc) continue;
                                plane[oy * out_nc + ox] += v_in * static_cast<double>(w[((i * out_k + o) * k + u) * k + v]);
                            }
                    }
        }
    return out;
}

double max_abs_difference(const std::vector<double>& ref, const dlib::tensor& out) {
    if (ref.size() != out.size()) {
        std::fprintf(stderr, "xgan_bench_dlib: W3 check: %zu reference values, %zu outputs\n", ref.size(),
                     static_cast<std::size_t>(out.size()));
        std::exit(1);
    }
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
        worst = std::max(worst, std::abs(ref[i] - static_cast<double>(out.host()[i])));
    return worst;
}

int run_dcgan(const bench::Settings& settings, const BlasInfo& blas, std::mt19937_64& data_rng) {
    using namespace w3;
    // Stand-in images, 1 x 28 x 28, uniform in [-1, 1] like the scaled pixels.
    std::vector<dlib::resizable_tensor> reals;
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (std::size_t r = 0; r < real_batches; ++r) {
        reals.emplace_back(static_cast<long long>(batch), 1, static_cast<long long>(side), static_cast<long long>(side));
        float* p = reals.back().host();
        for (std::size_t i = 0; i < reals.back().size(); ++i) p[i] = u(data_rng);
    }
    using Dcgan = Gan<G, D, NonSaturating<real_label_percent>>;
    Dcgan gan(batch, noise, {1, static_cast<long long>(side), static_cast<long long>(side)}, lr, beta1, beta2,
              settings.seed);
    const auto set_bn = [](dlib::bn_<dlib::CONV_MODE>& l) {
        l = dlib::bn_<dlib::CONV_MODE>(l.get_running_stats_window_size(), bn_eps);
    };
    dlib::visit_computational_layers(gan.generator(), set_bn);
    dlib::visit_computational_layers(gan.discriminator(), set_bn);
    dlib::visit_computational_layers(gan.discriminator(), [](dlib::leaky_relu_& l) { l = dlib::leaky_relu_(slope); });
    int lrelus = 0, bns = 0;
    dlib::visit_computational_layers(gan.discriminator(), [&](dlib::leaky_relu_& l) { lrelus += l.get_alpha() == slope; });
    const auto count_bn = [&](dlib::bn_<dlib::CONV_MODE>& l) { bns += l.get_eps() == bn_eps; };
    dlib::visit_computational_layers(gan.generator(), count_bn);
    dlib::visit_computational_layers(gan.discriminator(), count_bn);
    if (lrelus != 2 || bns != 3) {
        std::fprintf(stderr, "xgan_bench_dlib: layer settings did not take (%d LeakyReLU 0.2, %d BatchNorm eps 1e-5)\n",
                     lrelus, bns);
        return 1;
    }
    gan.allocate();  // dlib's default initialisation, drawn when the layers are set up

    // The shapes PyTorch's layers give: G 100 -> 128x7x7 -> 64x14x14 -> 1x28x28, D -> 64x14x14 -> 128x7x7 -> 1.
    G& g = gan.generator();
    D& d = gan.discriminator();
    gan.noise_tensor() = 0;
    const dlib::tensor& image = g.forward(gan.noise_tensor());
    const auto shape_is = [](const dlib::tensor& t, long k, long nr, long nc) {
        return t.k() == k && t.nr() == nr && t.nc() == nc;
    };
    d.forward(reals.front());
    if (!shape_is(image, 1, 28, 28) || !shape_is(dlib::layer<4>(g).get_output(), 64, 14, 14) ||
        !shape_is(dlib::layer<7>(g).get_output(), 128, 7, 7) || !shape_is(dlib::layer<4>(d).get_output(), 64, 14, 14) ||
        !shape_is(dlib::layer<1>(d).get_output(), 128, 7, 7) || !shape_is(d.get_output(), 1, 1, 1)) {
        std::fprintf(stderr, "xgan_bench_dlib: W3's layers do not give PyTorch's shapes (G's output %lldx%lldx%lld)\n",
                     image.k(), image.nr(), image.nc());
        return 1;
    }

    // D's first convolution (in place under its LeakyReLU) and G's last transposed
    // convolution (under tanh), against the plain loops, on fresh noise and a real batch.
    dlib::tt::tensor_rand check_rnd(settings.seed + 2);
    check_rnd.fill_gaussian(gan.noise_tensor());
    g.forward(gan.noise_tensor());
    const auto& last = dlib::layer<1>(g).layer_details();
    const float* last_w = last.get_layer_params().host();
    std::vector<double> ref = reference_conv_transpose(dlib::layer<2>(g).get_output(), last_w,
                                                       last_w + 64 * 1 * 4 * 4, 1, 4, 2, 1, 28, 28);
    for (double& v : ref) v = std::tanh(v);
    double err = max_abs_difference(ref, g.get_output());
    d.forward(reals.front());
    const auto& first = dlib::layer<5>(d).layer_details();
    const float* first_w = first.get_layer_params().host();
    ref = reference_conv(reals.front(), first_w, first_w + 64 * 1 * 4 * 4, 64, 4, 2, 1, 14, 14);
    for (double& v : ref) v = v > 0 ? v : static_cast<double>(slope) * v;
    err = std::max(err, max_abs_difference(ref, dlib::layer<4>(d).get_output()));
    return run_benchmark(settings, gan, reals, err, blas, {});
}

}  // namespace

int main(int argc, char** argv) try {
    const bench::Settings settings =
        bench::parse_settings(argc, argv, "xgan_bench_dlib", {"painting", "mnist", "dcgan"});
    const BlasInfo blas = set_blas_threads(settings.threads);
    // dlib seeds its layers' own generators (dropout masks, default initialisation) from
    // std::rand().
    std::srand(static_cast<unsigned>(settings.seed));
    std::mt19937_64 init_rng(settings.seed);
    std::mt19937_64 data_rng(settings.seed + 1);
    std::vector<dlib::resizable_tensor> reals;

    if (settings.workload == "painting") {
        using namespace w1;
        // Paintings a x^2 + a - 1, a ~ U(1, 2), at 15 points evenly spaced on [-1, 1].
        std::uniform_real_distribution<float> ua(1.0f, 2.0f);
        for (std::size_t r = 0; r < real_batches; ++r) {
            reals.emplace_back(static_cast<long long>(batch), static_cast<long long>(features));
            float* p = reals.back().host();
            for (std::size_t i = 0; i < batch; ++i) {
                const float a = ua(data_rng);
                for (std::size_t j = 0; j < features; ++j) {
                    const float x = -1.0f + 2.0f * static_cast<float>(j) / static_cast<float>(features - 1);
                    p[i * features + j] = a * x * x + a - 1.0f;
                }
            }
        }
        Gan<G, D, Minimax> gan(batch, noise, {static_cast<long long>(features), 1, 1}, lr, beta1, beta2,
                               settings.seed);
        gan.allocate();
        initialise(gan.generator(), Init::torch_linear, init_rng);
        initialise(gan.discriminator(), Init::torch_linear, init_rng);
        const auto relu = [](double v) { return std::max(v, 0.0); };
        const auto identity = [](double v) { return v; };
        dlib::tt::tensor_rand check_rnd(settings.seed + 2);
        check_rnd.fill_gaussian(gan.noise_tensor());
        const double err = std::max(check_forward(gan.generator(), gan.noise_tensor(), batch, relu, identity),
                                    check_forward(gan.discriminator(), reals.front(), batch, relu, identity));
        return run_benchmark(settings, gan, reals, err, blas, {});
    }

    if (settings.workload == "dcgan") return run_dcgan(settings, blas, data_rng);

    using namespace w2;
    // Stand-in images, uniform in [-1, 1] like the scaled pixels.
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (std::size_t r = 0; r < real_batches; ++r) {
        reals.emplace_back(static_cast<long long>(batch), static_cast<long long>(features));
        float* p = reals.back().host();
        for (std::size_t i = 0; i < batch * features; ++i) p[i] = u(data_rng);
    }
    Gan<G, D, NonSaturating<real_label_percent>> gan(batch, noise, {static_cast<long long>(features), 1, 1}, lr, beta1, beta2,
                                     settings.seed);
    dlib::visit_computational_layers(gan.generator(), [](dlib::leaky_relu_& l) { l = dlib::leaky_relu_(slope); });
    dlib::visit_computational_layers(gan.discriminator(), [](dlib::leaky_relu_& l) { l = dlib::leaky_relu_(slope); });
    dlib::visit_computational_layers(gan.discriminator(), [](dlib::dropout_& l) { l = dlib::dropout_(drop_rate); });
    dlib::visit_computational_layers(gan.discriminator(),
                                     [](dlib::multiply_& l) { l = dlib::multiply_(1.0f / (1.0f - drop_rate)); });
    // Check that the settings took: every LeakyReLU 0.2, every dropout 0.3 followed by 1/0.7.
    int lrelus = 0, drops = 0, scales = 0;
    const auto count = [&](auto& net) {
        dlib::visit_computational_layers(net, [&](dlib::leaky_relu_& l) { lrelus += l.get_alpha() == slope; });
        dlib::visit_computational_layers(net, [&](dlib::dropout_& l) { drops += l.get_drop_rate() == drop_rate; });
        dlib::visit_computational_layers(
            net, [&](dlib::multiply_& l) { scales += l.get_multiply_value() == 1.0f / (1.0f - drop_rate); });
    };
    count(gan.generator());
    count(gan.discriminator());
    if (lrelus != 6 || drops != 3 || scales != 3) {
        std::fprintf(stderr, "xgan_bench_dlib: layer settings did not take (%d LeakyReLU 0.2, %d dropout 0.3, %d x1/0.7)\n",
                     lrelus, drops, scales);
        return 1;
    }
    gan.allocate();
    initialise(gan.generator(), Init::glorot_uniform, init_rng);
    initialise(gan.discriminator(), Init::glorot_uniform, init_rng);
    const auto leaky = [](double v) { return v > 0 ? v : static_cast<double>(slope) * v; };
    const auto tanh_ = [](double v) { return std::tanh(v); };
    dlib::tt::tensor_rand check_rnd(settings.seed + 2);
    check_rnd.fill_gaussian(gan.noise_tensor());
    // (D has dropout in every forward pass, so only G is checked here; W1 checks a D-shaped net.)
    const double err = check_forward(gan.generator(), gan.noise_tensor(), 4, leaky, tanh_);
    char rate[16];
    std::snprintf(rate, sizeof rate, "%.2f", static_cast<double>(drop_rate));
    return run_benchmark(settings, gan, reals, err, blas, {{"dropout_rate", rate}});
} catch (const std::exception& e) {
    std::fprintf(stderr, "xgan_bench_dlib: %s\n", e.what());
    return 1;
}
