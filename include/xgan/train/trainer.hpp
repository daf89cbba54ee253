// AdversarialTrainer<G, D>: one step = k discriminator updates on a real and a fake
// batch, then one generator update through the frozen discriminator.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/conditional.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/detail/shape_check.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/losses/critic_batches.hpp>
#include <xgan/losses/gradient_penalty_losses.hpp>
#include <xgan/losses/hinge.hpp>
#include <xgan/losses/least_squares.hpp>
#include <xgan/losses/loss.hpp>
#include <xgan/losses/minimax.hpp>
#include <xgan/losses/objective.hpp>
#include <xgan/losses/wasserstein.hpp>
#include <xgan/optim/adam.hpp>
#include <xgan/optim/optimizer.hpp>
#include <xgan/train/step_stats.hpp>

namespace xgan {

// How many leading layers of D produce its logits: all but a final Sigmoid (on vectors
// or images).
template <Network D>
inline constexpr std::size_t logit_layer_count_v =
    sigmoid_layer_v<typename D::template layer_type<D::layer_count - 1>> ? D::layer_count - 1 : D::layer_count;

// Whether each row of a batch goes through D's first Count layers on its own: every
// layer is stateless, or keeps no buffers and draws its random masks ahead of its
// forward pass (Dropout: Sequential::draw_masks). BatchNorm's batch statistics tie the
// rows of a batch together, and a layer that draws during its forward pass could not
// draw the two batches' masks in the order two passes draw them.
template <Network D, std::size_t Count>
inline constexpr bool rows_independent_layers_v = []<std::size_t... I>(std::index_sequence<I...>) {
    return ((!stateful_layer<typename D::template layer_type<I>> ||
             (buffer_count_v<typename D::template layer_type<I>> == 0 &&
              mask_drawing_layer<typename D::template layer_type<I>>)) &&
            ...);
}(std::make_index_sequence<Count>{});

namespace detail {

struct no_output_check {};

// A conditional GAN (core/conditional.hpp): the class counts of G and D (0 for a network
// that is not Conditional) must agree (catalogue entry 60).
template <std::size_t N>
struct generator_classes {};
template <std::size_t N>
struct discriminator_classes {};
template <class GClasses, class DClasses>
struct check_condition_classes {};
template <class GClasses, class DClasses>
inline constexpr bool holds<check_condition_classes<GClasses, DClasses>> = false;
template <std::size_t G, std::size_t D>
inline constexpr bool holds<check_condition_classes<generator_classes<G>, discriminator_classes<D>>> = G == D;

// What D scores besides its condition: the width of a real or generated sample.
template <Network D>
inline constexpr std::size_t scored_size_v =
    D::input_size - (condition_size_v<D> < D::input_size ? condition_size_v<D> : 0);

// Whether G's output and D's input are compared by size: both vectors, or D conditional
// on a vector input (the vector [x, onehot(y)], x any shape G flattens).
template <Network G, Network D>
inline constexpr bool compare_sizes_v =
    (output_shape_t<G>::rank == 1 && input_shape_t<D>::rank == 1) ||
    (conditional_classes_v<D> > 0 && !condition_planes_v<D>);

// A conditional D on images (C + Classes) x H x W reads G's output C x H x W with the
// condition's Classes planes after it (catalogue entry 63).
template <class GeneratorOut, class DiscriminatorIn, class DClasses>
struct check_conditional_image_shapes {};
template <class GeneratorOut, class DiscriminatorIn, class DClasses>
inline constexpr bool holds<check_conditional_image_shapes<GeneratorOut, DiscriminatorIn, DClasses>> = false;
template <class S, std::size_t C, std::size_t H, std::size_t W, std::size_t K>
inline constexpr bool holds<check_conditional_image_shapes<generator_output_shape<S>,
                                                           discriminator_input_shape<shape<C, H, W>>,
                                                           discriminator_classes<K>>> =
    std::is_same_v<S, shape<(C > K ? C - K : 0), H, W>>;

// The check of G's output against D's input: by size, by shape, or for a conditional D on
// images by shape with the condition's planes.
template <Network G, Network D>
using gan_io_check_t = std::conditional_t<
    compare_sizes_v<G, D>,
    check_gan_sizes<generator_output_size<G::output_size>, discriminator_input_size<scored_size_v<D>>>,
    std::conditional_t<condition_planes_v<D>,
                       check_conditional_image_shapes<generator_output_shape<output_shape_t<G>>,
                                                      discriminator_input_shape<input_shape_t<D>>,
                                                      discriminator_classes<conditional_classes_v<D>>>,
                       check_gan_shapes<generator_output_shape<output_shape_t<G>>,
                                        discriminator_input_shape<input_shape_t<D>>>>>;
struct no_penalty_check {};
struct no_penalty_output_check {};

// The rules a loss's declarations (losses/objective.hpp) put on D: a loss reading
// critic scores refuses a final Sigmoid; a loss reading logits refuses logits that come
// out of a bounded layer (ReLU, Tanh, a second Sigmoid); an input-gradient penalty
// refuses a final Sigmoid and layers that mix samples (BatchNorm).
template <Network D, class L>
struct check_objective
    : std::conditional_t<
          loss_reads_v<L> == CriticOutput::score,
          check_score_critic<L, typename D::template layer_type<D::layer_count - 1>>,
          std::conditional_t<(logit_layer_count_v<D> > 0),
                             check_logit_output<L, layer_index<logit_layer_count_v<D> - 1>,
                                                typename D::template layer_type<
                                                    (logit_layer_count_v<D> > 0 ? logit_layer_count_v<D> - 1 : 0)>>,
                             no_output_check>>,
      std::conditional_t<penalises_input_gradient_v<L>,
                         check_penalty_output<L, typename D::template layer_type<D::layer_count - 1>>,
                         no_penalty_output_check>,
      std::conditional_t<penalises_input_gradient_v<L>, check_penalty_critic<D>, no_penalty_check> {};

// Whether none of values[0, n) is infinite or NaN: whose exponent bits are all ones.
template <class U>
bool all_finite(const U* values, std::size_t n) {
    using Bits = std::conditional_t<sizeof(U) == 4, std::uint32_t, std::uint64_t>;
    static_assert(std::numeric_limits<U>::is_iec559 && sizeof(U) == sizeof(Bits) && std::is_floating_point_v<U>);
    constexpr Bits exponent = std::bit_cast<Bits>(std::numeric_limits<U>::infinity());
    Bits non_finite = 0;
    for (std::size_t i = 0; i < n; ++i)
        non_finite |= static_cast<Bits>((std::bit_cast<Bits>(values[i]) & exponent) == exponent);
    return non_finite == 0;
}

// Checks optimizer settings that can check themselves (Adam::validate, SGD::validate);
// a user optimizer's settings without validate() are taken as they are.
template <class O>
void validate_settings(const O& settings) {
    if constexpr (requires { settings.validate(); }) settings.validate();
}

// Applies one optimizer update to a network's N parameters, or refuses it with the
// parameters and the optimizer's state unchanged when a value would not be finite.
// A refusing_optimizer (Adam, SGD) refuses by itself (try_step), and nothing is kept
// here. For another optimizer, this keeps a copy of the parameters, and of the state
// when its type can be copied, taken before each update and put back when a parameter
// is not finite after it (the state's own values cannot be checked; a state that cannot
// be copied is left as the update left it).
template <class O, class T, std::size_t N>
class guarded_update {
public:
    using state_type = typename O::template state<T>;

    // "" when the update was applied, otherwise why it was refused.
    std::string apply(const O& settings, state_type& state, std::span<T> params, std::span<const T> grads) {
        if constexpr (refusing_optimizer<O, T>) {
            if (state.try_step(settings, params, grads)) return {};
            if constexpr (requires { state.refusal(grads); }) return state.refusal(grads);
            else return "the optimizer refused it";
        } else {
            std::copy(params.begin(), params.end(), copies_.params.begin());
            if constexpr (copyable) {
                if (copies_.state) *copies_.state = state;
                else copies_.state.emplace(state);
            }
            state.step(settings, params, grads);
            if (all_finite(params.data(), params.size())) return {};
            std::size_t i = 0;
            while (std::isfinite(params[i])) ++i;
            std::string why = detail::message("parameter ", i, " became ", params[i], " (gradient ", grads[i], ")");
            std::copy(copies_.params.begin(), copies_.params.end(), params.begin());
            if constexpr (copyable) state = *copies_.state;
            else why += "; the optimizer's state, which cannot be copied, was not restored";
            return why;
        }
    }

private:
    static constexpr bool copyable = std::is_copy_constructible_v<state_type> && std::is_copy_assignable_v<state_type>;
    struct copies {
        std::vector<T> params = std::vector<T>(N);
        std::optional<state_type> state;  // from the first update on: a copy-assignment then reuses its storage
    };
    struct none {};
    [[no_unique_address]] std::conditional_t<refusing_optimizer<O, T>, none, copies> copies_;
};

}  // namespace detail

template <Network G, Network D, class GeneratorOptimizer = Adam, class DiscriminatorOptimizer = Adam,
          class GanLoss = MinimaxLoss>
class AdversarialTrainer : detail::check_objective<D, GanLoss> {
public:
    using generator_type = G;
    using discriminator_type = D;
    using value_type = typename G::value_type;
    using T = value_type;

private:
    // G's output must be what D reads, and D must end in one score per sample. The checks
    // are static_asserts here, at the user's line; the note under a failure shows the numbers.
    // No base class states them again: bases are formed before this body, so a base's
    // failure would come first, through a longer chain (value_type above completes G
    // here, and a bad G's own rule is then one step from the user's line).
    static constexpr bool vector_io = detail::compare_sizes_v<G, D>;
    using gan_sizes_check =
        std::conditional_t<vector_io,
                           detail::check_gan_sizes<detail::generator_output_size<G::output_size>,
                                                   detail::discriminator_input_size<detail::scored_size_v<D>>>,
                           void>;
    using gan_shapes_check = std::conditional_t<vector_io || condition_planes_v<D>, void, detail::gan_io_check_t<G, D>>;
    using conditional_shapes_check = std::conditional_t<condition_planes_v<D>, detail::gan_io_check_t<G, D>, void>;
    using discriminator_output_check =
        detail::check_discriminator_output<detail::discriminator_output_size<D::output_size>>;
    static_assert(detail::holds<gan_sizes_check>,
                  "xgan::AdversarialTrainer: the generator's output size must equal the discriminator's input "
                  "size (the discriminator scores what the generator makes)");
    static_assert(detail::holds<gan_shapes_check>,
                  "xgan::AdversarialTrainer: the generator's output shape must equal the discriminator's input "
                  "shape (C x H x W; end the generator with xgan::Unflatten<C, H, W> or start the discriminator "
                  "with xgan::Flatten to make them agree)");
    static_assert(detail::holds<conditional_shapes_check>,
                  "xgan::AdversarialTrainer: a conditional discriminator on images reads the generator's output "
                  "C x H x W followed by one constant plane per class, so its input must be (C + Classes) x H x W "
                  "(the shapes and Classes are in the note below: end the generator with xgan::Unflatten<C, H, W> "
                  "of the discriminator's channels less Classes)");
    using condition_check = detail::check_condition_classes<detail::generator_classes<conditional_classes_v<G>>,
                                                            detail::discriminator_classes<conditional_classes_v<D>>>;
    static_assert(detail::holds<condition_check>,
                  "xgan::AdversarialTrainer: a conditional GAN's generator and discriminator both read the "
                  "condition: make both Conditional<Classes, ...> with the same Classes, or neither (the class "
                  "counts are in the note below; 0 is a network that is not Conditional)");
    static_assert(detail::holds<discriminator_output_check>,
                  "xgan::AdversarialTrainer: the discriminator must end in one output per sample "
                  "(e.g. Dense<128, 1>, Sigmoid)");

public:

    static_assert(std::is_same_v<typename D::value_type, T>,
                  "xgan::AdversarialTrainer: the generator and the discriminator must use the same scalar type");
    static_assert(Optimizer<GeneratorOptimizer, T>,
                  "xgan::AdversarialTrainer: the generator's optimizer must model xgan::Optimizer (e.g. Adam, SGD)");
    static_assert(Optimizer<DiscriminatorOptimizer, T>,
                  "xgan::AdversarialTrainer: the discriminator's optimizer must model xgan::Optimizer (e.g. Adam, SGD)");
    static_assert(Loss<GanLoss, T>,
                  "xgan::AdversarialTrainer: the loss must model xgan::Loss (e.g. MinimaxLoss, NonSaturatingLoss)");

    // The class count of a conditional GAN (core/conditional.hpp), 0 otherwise. Then G's
    // input rows are [z, onehot(y)] and D's [x, onehot(y)], or for a D on images x's
    // channels and one constant plane per class; step takes the real batch's labels, and
    // the trainer draws each fake sample's label uniformly from its Rng.
    static constexpr std::size_t classes = conditional_classes_v<G>;
    static constexpr bool conditional = classes > 0;
    // The width of a real sample (a row of the real batch): D's input without the condition.
    static constexpr std::size_t sample_size = detail::scored_size_v<D>;

    // What the loss reads from D (losses/objective.hpp): logits or raw critic scores.
    static constexpr CriticOutput loss_reads = loss_reads_v<GanLoss>;

    // What the loss reads is the output of D's first logit_layers layers: all but a
    // final Sigmoid for a loss reading logits, all of them for critic scores.
    static constexpr std::size_t logit_layers =
        loss_reads == CriticOutput::logit ? logit_layer_count_v<D> : D::layer_count;

    // Whether a discriminator update sends the real and the fake rows through D as one
    // batch of 2 x batch rows (real rows first): when no row's result in D's logit
    // layers depends on the other rows (no BatchNorm; rows_independent_layers_v). One
    // forward and one backward pass instead of two of each, with twice the rows per
    // matrix product. Dropout's masks are drawn in the two passes' order (the real
    // rows' masks, G's noise, the fake rows' masks), so the same seed drops the same
    // values. D's gradient is the same sum over the real rows, then the fake ones;
    // xgan's kernels add in that order either way, so on small layers the result is bit
    // for bit the two-pass one. BLAS, on large layers, groups a product's sums by tiles
    // of rows, so there the two differ in the last bits (within the products' rounding;
    // tests/train/test_trainer.cpp). With BatchNorm in D the two batches take separate
    // passes, as the tutorials' code does.
    static constexpr bool joint_discriminator_pass = rows_independent_layers_v<D, logit_layers>;

    struct Options {
        GeneratorOptimizer generator_optimizer{};
        DiscriminatorOptimizer discriminator_optimizer{};
        GanLoss loss{};
        // Seeds the one Rng behind initialisation and noise.
        std::uint64_t seed = Rng::default_seed;
        // Discriminator updates per generator update (k in the GAN paper).
        std::size_t discriminator_steps = 1;
    };

    // G and D are initialised from the seed's Rng (G first), which then draws the noise.
    explicit AdversarialTrainer(Options options = {}) : AdversarialTrainer(Rng{options.seed}, options) {}

    // Trains the given networks; the seed's Rng only draws noise.
    AdversarialTrainer(G generator, D discriminator, Options options = {})
        : options_(options), rng_(options.seed), generator_(std::move(generator)),
          discriminator_(std::move(discriminator)) {
        check_options();
    }

    // One step on a real batch {batch, D::input_size}: k D updates (each on this real batch
    // and fresh fakes), then one G update on fresh noise of the same batch size.
    template <class E>
    StepStats step(const xt::xexpression<E>& real_batch) {
        static_assert(!conditional,
                      "xgan::AdversarialTrainer: this GAN is conditional (Conditional<Classes, ...>): a step takes "
                      "the real batch's labels too, step(real_batch, labels)");
        return step_impl(real_batch);
    }

    // A conditional GAN's step: the real batch {batch, sample_size} and its labels (batch
    // integers below classes, e.g. a std::vector<std::uint8_t>). The fake samples' labels
    // are drawn uniformly from the trainer's Rng. Throws, changing nothing, on a label out
    // of range or a count other than the batch's rows.
    template <class E, class Labels>
    StepStats step(const xt::xexpression<E>& real_batch, const Labels& labels) {
        static_assert(conditional,
                      "xgan::AdversarialTrainer: step(real_batch, labels) is for a conditional GAN "
                      "(Conditional<Classes, ...> generator and discriminator); this one takes step(real_batch)");
        set_real_labels(real_batch.derived_cast(), labels);
        return step_impl(real_batch);
    }

private:
    template <class E>
    StepStats step_impl(const xt::xexpression<E>& real_batch) {
        check_options();  // options() is mutable
        StepStats stats;
        for (std::size_t k = 0; k < options_.discriminator_steps; ++k) {
            const auto d = discriminator_update(real_batch);
            stats.d_accuracy = d.d_accuracy;
            stats.d_loss = d.d_loss;
            stats.d_score = -d.d_loss;
            stats.real_score = d.real_score;
            stats.fake_score = d.fake_score;
            stats.wasserstein = d.wasserstein;
            stats.penalty = d.penalty;
        }
        const auto g = train_generator(real_batch.derived_cast().shape()[0], true);
        stats.g_loss = g.g_loss;
        stats.d_fake = g.d_fake;
        stats.step = ++steps_;
        return stats;
    }

    // Keeps a conditional step's real labels (real_labels_), checked against the batch.
    template <class E, class Labels>
    void set_real_labels(const E& real, const Labels& labels) {
        const std::span values(std::data(labels), std::size(labels));
        using Label = std::remove_cv_t<typename decltype(values)::element_type>;
        static_assert(std::is_integral_v<Label>, "xgan::AdversarialTrainer: labels are integers (class indices)");
        if (real.dimension() >= 1 && values.size() != real.shape()[0])
            XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: the real batch has ", real.shape()[0],
                       " rows but ", values.size(), " labels were given");
        detail::check_labels("xgan::AdversarialTrainer", std::span<const Label>(values), classes);
        real_labels_.resize(values.size());
        std::copy(values.begin(), values.end(), real_labels_.begin());
    }

public:
    // step(real_batch) with the noise given instead of drawn from the trainer's Rng:
    // d_noise {discriminator_steps x batch, G::input_size} (rows [k batch, (k + 1) batch)
    // feed the k-th discriminator update) and g_noise {batch, G::input_size} (the generator
    // update). The Rng still draws everything else (Dropout's masks), and step(real_batch)
    // is unchanged. For reproducing a step elsewhere, e.g. with PyTorch on the same noise
    // (tests/golden/test_golden_step.cpp). Throws, changing nothing, on noise of another
    // shape or holding a value that is not finite.
    template <class E, class ND, class NG>
    StepStats step(const xt::xexpression<E>& real_batch, const xt::xexpression<ND>& d_noise,
                   const xt::xexpression<NG>& g_noise) {
        static_assert(!conditional, "xgan::AdversarialTrainer: this GAN is conditional: step with given noise takes "
                                    "the real batch's labels too, step(real_batch, labels, d_noise, g_noise)");
        check_options();
        const auto& real = real_batch.derived_cast();
        check_real_batch(real);
        return step_with_noise(real_batch, d_noise.derived_cast(), g_noise.derived_cast());
    }

    // A conditional GAN's step with the noise given: G's input rows, each ending in the
    // condition of its fake sample's label (a one-hot row; with_condition writes them),
    // which D then reads with G's output. Throws, changing nothing, as step with noise does,
    // and on a noise row whose condition is not that of a class.
    template <class E, class Labels, class ND, class NG>
    StepStats step(const xt::xexpression<E>& real_batch, const Labels& labels, const xt::xexpression<ND>& d_noise,
                   const xt::xexpression<NG>& g_noise) {
        static_assert(conditional, "xgan::AdversarialTrainer: step(real_batch, labels, d_noise, g_noise) is for a "
                                   "conditional GAN; this one takes step(real_batch, d_noise, g_noise)");
        check_options();
        const auto& real = real_batch.derived_cast();
        check_real_batch(real);
        set_real_labels(real, labels);
        return step_with_noise(real_batch, d_noise.derived_cast(), g_noise.derived_cast());
    }

private:
    template <class E, class ND, class NG>
    StepStats step_with_noise(const xt::xexpression<E>& real_batch, const ND& d_noise, const NG& g_noise) {
        const std::size_t batch = real_batch.derived_cast().shape()[0];
        const std::size_t d_rows = options_.discriminator_steps * batch;
        check_noise("d_noise", "discriminator_steps x batch", d_noise, d_rows);
        check_noise("g_noise", "batch", g_noise, batch);
        given_noise_.resize((d_rows + batch) * G::input_size);
        auto end = std::copy(d_noise.begin(), d_noise.end(), given_noise_.begin());
        std::copy(g_noise.begin(), g_noise.end(), end);
        if constexpr (conditional) {
            check_noise_conditions("d_noise", given_noise_.data(), d_rows);
            check_noise_conditions("g_noise", given_noise_.data() + d_rows * G::input_size, batch);
        }
        noise_ = given_noise_;
        struct forget {
            std::span<const T>& noise;
            ~forget() { noise = {}; }
        } forget_noise{noise_};  // also when the step throws
        return step_impl(real_batch);
    }

    // Throws unless each of `rows` rows of G's input ends in the condition of a class.
    static void check_noise_conditions(const char* name, const T* rows, std::size_t count) {
        constexpr std::size_t plane = G::condition_size / classes;
        for (std::size_t r = 0; r < count; ++r) {
            const T* condition = rows + r * G::input_size + G::sample_size;
            const std::size_t label = G::condition_label(condition);
            for (std::size_t k = 0; k < G::condition_size; ++k)
                if (condition[k] != (k / plane == label ? T(1) : T(0)))
                    XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: ", name, " row ", r,
                               " does not end in the one-hot of a class (value ", condition[k], " at column ",
                               G::sample_size + k, "); write its last ", G::condition_size,
                               " values with xgan::with_condition");
        }
    }

public:
    // One discriminator update: real batch labelled real, G(z) labelled fake; then the
    // loss's after_discriminator_update (weight clipping), if it has one.
    // Fills d_accuracy, d_loss, d_score, real_score, fake_score and the loss's monitors. Throws, with both networks and optimizer states
    // unchanged, on a bad batch or optimizer setting, a non-finite loss, or an update
    // that would leave a value non-finite.
    template <class E>
    StepStats train_discriminator(const xt::xexpression<E>& real_batch) {
        static_assert(!conditional, "xgan::AdversarialTrainer: this GAN is conditional (Conditional<Classes, ...>): "
                                    "train_discriminator takes the real batch's labels too, "
                                    "train_discriminator(real_batch, labels)");
        return discriminator_update(real_batch);
    }
    // A conditional GAN's discriminator update on a real batch and its labels.
    template <class E, class Labels>
    StepStats train_discriminator(const xt::xexpression<E>& real_batch, const Labels& labels) {
        static_assert(conditional, "xgan::AdversarialTrainer: train_discriminator(real_batch, labels) is for a "
                                   "conditional GAN; this one takes train_discriminator(real_batch)");
        set_real_labels(real_batch.derived_cast(), labels);
        return discriminator_update(real_batch);
    }

private:
    template <class E>
    StepStats discriminator_update(const xt::xexpression<E>& real_batch) {
        const auto& real = real_batch.derived_cast();
        check_real_batch(real);
        detail::validate_settings(options_.discriminator_optimizer);
        detail::validate_settings(options_.loss);
        const std::size_t batch = real.shape()[0];
        bind_rng();
        if constexpr (joint_discriminator_pass) return train_discriminator_jointly(real, batch);
        else return train_discriminator_separately(real, batch);
    }

public:

    // One generator update through the discriminator on `batch` fresh noise vectors.
    // Fills g_loss and d_fake. Throws, as train_discriminator does, with both networks
    // and optimizer states unchanged.
    StepStats train_generator(std::size_t batch) { return train_generator(batch, false); }

    // n samples from G, in inference mode, on fresh noise (drawn from the trainer's Rng);
    // for a conditional GAN, of labels drawn uniformly as in training.
    matrix<T> sample(std::size_t n) {
        matrix<T> noise({n, G::input_size});
        rng_.fill_normal(std::span<T>(noise.data(), noise.size()));
        if constexpr (conditional)
            for (std::size_t r = 0; r < n; ++r) write_one_hot(noise.data() + r * G::input_size, rng_.below(classes));
        return generate(noise);
    }

    // A conditional GAN's samples of the given labels, one per label, on fresh noise.
    template <class Labels>
        requires(conditional)
    matrix<T> sample(const Labels& labels) {
        const std::span values(std::data(labels), std::size(labels));
        matrix<T> noise({values.size(), G::input_size - classes});
        rng_.fill_normal(std::span<T>(noise.data(), noise.size()));
        return generate(noise, labels);
    }

    // A conditional GAN's output for noise {n, G::input_size - classes} and n labels
    // (with_condition, core/conditional.hpp), in inference mode.
    template <class E, class Labels>
        requires(conditional)
    matrix<T> generate(const xt::xexpression<E>& noise, const Labels& labels) {
        const std::span values(std::data(labels), std::size(labels));
        using Label = std::remove_cv_t<typename decltype(values)::element_type>;
        return generate(with_condition<classes>(noise, std::span<const Label>(values)));
    }

    // G's output for the given noise {n, G::input_size}, in inference mode (the same
    // noise gives the same samples: use it for grids comparable over training).
    template <class E>
    matrix<T> generate(const xt::xexpression<E>& noise) {
        const Mode mode = generator_.mode();
        generator_.set_mode(Mode::inference);
        typename G::Workspace workspace;
        workspace.rng = &rng_;
        matrix<T> samples;
        try {
            samples = generator_.forward(workspace, noise);
        } catch (...) {
            generator_.set_mode(mode);
            throw;
        }
        generator_.set_mode(mode);
        return samples;
    }

    G& generator() { return generator_; }
    const G& generator() const { return generator_; }
    D& discriminator() { return discriminator_; }
    const D& discriminator() const { return discriminator_; }
    Options& options() { return options_; }
    const Options& options() const { return options_; }
    Rng& rng() { return rng_; }
    const Rng& rng() const { return rng_; }
    std::uint64_t steps() const { return steps_; }

    // What the optimizers keep between steps (moments, momentum buffers); checkpoints
    // save and restore it, with set_steps, to resume a run exactly.
    using generator_optimizer_state = typename GeneratorOptimizer::template state<T>;
    using discriminator_optimizer_state = typename DiscriminatorOptimizer::template state<T>;
    generator_optimizer_state& generator_state() { return g_state_; }
    const generator_optimizer_state& generator_state() const { return g_state_; }
    discriminator_optimizer_state& discriminator_state() { return d_state_; }
    const discriminator_optimizer_state& discriminator_state() const { return d_state_; }
    void set_steps(std::uint64_t steps) { steps_ = steps; }

private:
    AdversarialTrainer(Rng&& rng, const Options& options)
        : options_(options), rng_(std::move(rng)), generator_(rng_), discriminator_(rng_) {
        check_options();
    }

    void check_options() const {
        if (options_.discriminator_steps == 0)
            XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: discriminator_steps must be at least 1");
        detail::validate_settings(options_.generator_optimizer);
        detail::validate_settings(options_.discriminator_optimizer);
        detail::validate_settings(options_.loss);
    }

    // within_step: called by step() after its discriminator updates (for the message).
    StepStats train_generator(std::size_t batch, bool within_step) {
        if (batch == 0) XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: the batch is empty (0 rows)");
        detail::validate_settings(options_.generator_optimizer);
        detail::validate_settings(options_.loss);
        bind_rng();
        return generator_update(generator_, g_, g_gradient_, g_state_, g_update_, options_.generator_optimizer,
                                std::as_const(discriminator_), d_fake_, options_.loss, rng_, noise_, batch, steps_,
                                within_step);
    }

    // Applies D's optimizer update to D's parameters, or throws, changing nothing; then
    // the loss's after_discriminator_update, if it has one.
    void update_discriminator() {
        const std::string refused = d_update_.apply(options_.discriminator_optimizer, d_state_,
                                                    discriminator_.parameters(), d_gradient_);
        if (!refused.empty())
            XGAN_THROW(std::runtime_error, "xgan::AdversarialTrainer: the discriminator's update in step ", steps_ + 1,
                       " would leave a value non-finite: ", refused,
                       "; this update was not applied (check the data and learning rates)");
        if constexpr (requires { options_.loss.after_discriminator_update(discriminator_); })
            options_.loss.after_discriminator_update(discriminator_);
    }

    // train_discriminator with a real pass (d_real_) and a fake pass (d_fake_).
    template <class E>
    StepStats train_discriminator_separately(const E& real, std::size_t batch) {
        const auto& real_logits = [&]() -> const matrix<T>& {
            if constexpr (!conditional) {
                return discriminator_.template forward<logit_layers>(d_real_, real);
            } else {
                d_real_.resize(batch);
                write_real_rows(d_real_.input().data(), real);
                return discriminator_.template forward<logit_layers>(d_real_);
            }
        }();
        draw_fakes(generator_, g_, rng_, noise_, batch);
        d_fake_.resize(batch);
        write_fake_rows(d_fake_.input().data(), g_, batch);
        const auto& fake_logits = discriminator_.template forward<logit_layers>(d_fake_);

        const double d_loss = discriminator_loss(real_logits, fake_logits, d_real_.gradients[logit_layers],
                                                 d_fake_.gradients[logit_layers]);

        discriminator_.template backward<logit_layers>(d_real_, d_gradient_, false, GradientMode::overwrite);
        discriminator_.template backward<logit_layers>(d_fake_, d_gradient_);
        const double penalty = apply_penalty(d_real_.input().data(), d_fake_.input().data(), batch);
        update_discriminator();
        // Only a kept update folds its passes into the networks' buffers (BatchNorm's
        // running statistics); the backward passes above do not read them.
        discriminator_.template update_buffers<logit_layers>(d_real_);
        discriminator_.template update_buffers<logit_layers>(d_fake_);
        generator_.update_buffers(g_);

        return discriminator_stats(real_logits, fake_logits, d_loss, penalty);
    }

    // train_discriminator for joint_discriminator_pass: the same steps,
    // with real rows [0, batch) and fake rows [batch, 2 batch) of one workspace. The
    // loss sees each half as its own matrix (copies of `batch` logits and gradients).
    template <class E>
    StepStats train_discriminator_jointly(const E& real, std::size_t batch) {
        d_joint_.resize(2 * batch);
        discriminator_.template draw_masks<logit_layers>(d_joint_, 0, batch);  // Dropout: the real rows' masks
        T* input = d_joint_.input().data();
        write_real_rows(input, real);
        draw_fakes(generator_, g_, rng_, noise_, batch);
        write_fake_rows(input + batch * D::input_size, g_, batch);
        discriminator_.template draw_masks<logit_layers>(d_joint_, batch, 2 * batch);  // and the fake rows'
        const matrix<T>& logits = discriminator_.template forward<logit_layers>(d_joint_);

        for (matrix<T>* m : {&real_logits_, &fake_logits_, &real_logit_gradient_, &fake_logit_gradient_})
            if (m->shape()[0] != batch || m->shape()[1] != 1) m->resize({batch, 1});
        std::copy_n(logits.data(), batch, real_logits_.data());
        std::copy_n(logits.data() + batch, batch, fake_logits_.data());
        const double d_loss =
            discriminator_loss(real_logits_, fake_logits_, real_logit_gradient_, fake_logit_gradient_);

        T* logit_gradient = d_joint_.gradients[logit_layers].data();
        std::copy_n(real_logit_gradient_.data(), batch, logit_gradient);
        std::copy_n(fake_logit_gradient_.data(), batch, logit_gradient + batch);
        discriminator_.template backward<logit_layers>(d_joint_, d_gradient_, false, GradientMode::overwrite);
        const double penalty = apply_penalty(input, input + batch * D::input_size, batch);
        update_discriminator();
        generator_.update_buffers(g_);  // D's logit layers keep no buffers here

        return discriminator_stats(real_logits_, fake_logits_, d_loss, penalty);
    }

    // For a loss with penalises_input_gradient: its penalty(CriticBatches&) on the update's
    // real and fake rows (each `batch` x D::input_size), which adds the penalty's gradient
    // to D's; returns the penalty, or throws, before anything changes, when it is not
    // finite. NaN for the other losses.
    double apply_penalty(const T* real, const T* fake, std::size_t batch) {
        if constexpr (penalises_input_gradient_v<GanLoss>) {
            CriticBatches<D> batches(std::as_const(discriminator_), d_penalty_, real, fake, batch, rng_, mix_,
                                     std::span<T>(d_gradient_));
            const double penalty = options_.loss.penalty(batches);
            if (!std::isfinite(penalty))
                XGAN_THROW(std::runtime_error, "xgan::AdversarialTrainer: the discriminator's gradient penalty is ",
                           penalty, " in step ", steps_ + 1,
                           "; this update was not applied (check the data and learning rates)");
            return penalty;
        } else {
            (void)real, (void)fake, (void)batch;
            return std::numeric_limits<double>::quiet_NaN();
        }
    }

    // D's loss from the two batches' logits (writing dLoss/dlogits); throws, before
    // anything changes, when it is not finite.
    double discriminator_loss(const matrix<T>& real_logits, const matrix<T>& fake_logits, matrix<T>& real_gradient,
                              matrix<T>& fake_gradient) const {
        const double d_loss = options_.loss.discriminator(real_logits, fake_logits, real_gradient, fake_gradient);
        if (!std::isfinite(d_loss))
            XGAN_THROW(std::runtime_error, "xgan::AdversarialTrainer: the discriminator's loss is ", d_loss,
                       " in step ", steps_ + 1, "; this update was not applied (check the data and learning rates)");
        return d_loss;
    }

    // The monitors of a D update, from the outputs its loss read: mean D(real) where D's
    // output is a probability (a loss reading logits), the mean outputs, then the loss's
    // own (monitors), if it has them.
    StepStats discriminator_stats(const matrix<T>& real_logits, const matrix<T>& fake_logits, double d_loss,
                                  double penalty) const {
        StepStats stats;
        stats.d_accuracy = probability_monitor(real_logits);
        stats.d_loss = d_loss + (std::isnan(penalty) ? 0.0 : penalty);
        stats.d_score = -stats.d_loss;
        stats.penalty = penalty;
        stats.real_score = mean(real_logits);
        stats.fake_score = mean(fake_logits);
        if constexpr (requires { options_.loss.monitors(real_logits, fake_logits, stats); })
            options_.loss.monitors(real_logits, fake_logits, stats);
        return stats;
    }

    // The generator update is static: it reaches the discriminator only through
    // `const D&`, so D's parameters cannot change here (the freeze is the type system's,
    // not a convention). Gradients still flow through D to G's output.
    static StepStats generator_update(G& generator, typename G::Workspace& g_ws, std::span<T> g_gradient,
                                      typename GeneratorOptimizer::template state<T>& g_state,
                                      detail::guarded_update<GeneratorOptimizer, T, G::parameter_count>& g_update,
                                      const GeneratorOptimizer& optimizer, const D& discriminator,
                                      typename D::Workspace& d_ws, const GanLoss& loss, Rng& rng,
                                      std::span<const T>& noise, std::size_t batch, std::uint64_t step,
                                      bool within_step) {
        draw_fakes(generator, g_ws, rng, noise, batch);
        d_ws.resize(batch);
        write_fake_rows(d_ws.input().data(), g_ws, batch);
        const auto& fake_logits = discriminator.template forward<logit_layers>(d_ws);
        const double g_loss = loss.generator(fake_logits, d_ws.gradients[logit_layers]);
        if (!std::isfinite(g_loss))
            XGAN_THROW(std::runtime_error, "xgan::AdversarialTrainer: the generator's loss is ", g_loss, " in step ",
                       step + 1, "; this update was not applied (check the data and learning rates)");

        const auto& input_gradient = discriminator.template backward_input<logit_layers>(d_ws);
        if constexpr (!conditional) {
            std::copy(input_gradient.begin(), input_gradient.end(), g_ws.gradients[G::layer_count].begin());
        } else {  // the gradient of G's output: each row's first sample_size columns
            T* to = g_ws.gradients[G::layer_count].data();
            for (std::size_t r = 0; r < batch; ++r)
                std::copy_n(input_gradient.data() + r * D::input_size, sample_size, to + r * sample_size);
        }
        generator.backward(g_ws, g_gradient, false, GradientMode::overwrite);
        const std::string refused = g_update.apply(optimizer, g_state, generator.parameters(), g_gradient);
        if (!refused.empty())
            XGAN_THROW(std::runtime_error, "xgan::AdversarialTrainer: the generator's update in step ", step + 1,
                       " would leave a value non-finite: ", refused, "; this update was not applied",
                       within_step ? ", but this step's discriminator updates were" : "",
                       " (check the data and learning rates)");
        generator.update_buffers(g_ws);  // only once the update is kept, as for D

        StepStats stats;
        stats.g_loss = g_loss;
        stats.d_fake = probability_monitor(fake_logits);
        return stats;
    }

    // Fills G's workspace with fresh noise and runs G forward. The caller folds what G's
    // stateful layers saw into their buffers (update_buffers) once its update is kept.
    // The noise is drawn from rng, or, when `given` is not empty (step with noise), taken
    // from its front, which is then dropped.
    static void draw_fakes(const G& generator, typename G::Workspace& g_ws, Rng& rng, std::span<const T>& given,
                           std::size_t batch) {
        g_ws.resize(batch);
        const std::span<T> noise(g_ws.input().data(), g_ws.input().size());
        if (given.empty()) {
            rng.fill_normal(noise);
            // A conditional G's rows end in the one-hot of a label drawn uniformly, after
            // the batch's normals (whose values in those columns are overwritten).
            if constexpr (conditional)
                for (std::size_t r = 0; r < batch; ++r) write_one_hot(noise.data() + r * G::input_size, rng.below(classes));
        } else {
            std::copy_n(given.begin(), noise.size(), noise.begin());
            given = given.subspan(noise.size());
        }
        generator.forward(g_ws);
    }

    // Writes the condition of `label` into a row of G's input, after its noise.
    static void write_one_hot(T* row, std::uint64_t label) {
        G::write_condition(row + G::sample_size, static_cast<std::size_t>(label));
    }

    // D's input rows for the real batch: its rows, each followed by the one-hot of its
    // label (real_labels_) in a conditional GAN.
    template <class E>
    void write_real_rows(T* input, const E& real) const {
        if constexpr (!conditional) {
            if constexpr (requires { real.data(); real.is_contiguous(); }) {
                if (real.is_contiguous()) std::copy_n(real.data(), real.size(), input);
                else std::copy(real.begin(), real.end(), input);
            } else {
                std::copy(real.begin(), real.end(), input);
            }
        } else {
            auto value = real.begin();
            for (std::size_t r = 0; r < real_labels_.size(); ++r) {
                T* row = input + r * D::input_size;
                for (std::size_t k = 0; k < sample_size; ++k, ++value) row[k] = static_cast<T>(*value);
                D::write_condition(row + sample_size, real_labels_[r]);
            }
        }
    }

    // D's input rows for G's output: each followed, in a conditional GAN, by the
    // condition of the label G read (from its input row's condition).
    static void write_fake_rows(T* input, typename G::Workspace& g_ws, std::size_t batch) {
        if constexpr (!conditional) {
            std::copy(g_ws.output().begin(), g_ws.output().end(), input);
        } else {
            const T* made = g_ws.output().data();
            const T* read = g_ws.input().data();
            for (std::size_t r = 0; r < batch; ++r) {
                std::copy_n(made + r * sample_size, sample_size, input + r * D::input_size);
                D::write_condition(input + r * D::input_size + sample_size,
                                   G::condition_label(read + r * G::input_size + G::sample_size));
            }
        }
    }

    // Stateful layers (Dropout) draw from the trainer's Rng; set on each use, so a moved
    // trainer never points at another's.
    void bind_rng() { g_.rng = d_real_.rng = d_fake_.rng = d_joint_.rng = d_penalty_.rng = &rng_; }

    template <class E>
    static void check_real_batch(const E& real) {
        using rank_check = detail::check_batch_rank<detail::batch_rank<xt::get_rank<E>::value>, detail::sample_rank<1>>;
        static_assert(detail::holds<rank_check>,
                      "xgan::AdversarialTrainer: the real batch is 2-D, {batch, D::input_size}, one sample per row");
        if (real.dimension() != 2)
            XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: the real batch must be {batch, ", sample_size,
                       "}, got ", real.dimension(), " dimension(s)");
        if (real.shape()[1] != sample_size)
            XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: the real batch must be {batch, ", sample_size,
                       "}, got ", real.shape()[1], " columns");
        if (real.shape()[0] == 0)
            XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: the real batch is empty (0 rows)");
        if constexpr (requires { real.data(); real.is_contiguous(); } &&
                      (std::is_same_v<typename E::value_type, float> || std::is_same_v<typename E::value_type, double>)) {
            // Contiguous storage: one branch-free pass over the bits; the walk below
            // then runs only to name the offending value.
            if (real.is_contiguous() && detail::all_finite(real.data(), real.size())) return;
        }
        check_finite("the real batch", real, real.shape()[1]);
    }

    // Throws naming the first value of `values` (rows of `columns`) that is not finite.
    template <class E>
    static void check_finite(const char* what, const E& values, std::size_t columns) {
        std::size_t i = 0;
        for (auto it = values.begin(); it != values.end(); ++it, ++i)
            if (!std::isfinite(static_cast<double>(*it)))
                XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: ", what, " holds ", *it, " at row ",
                           i / columns, ", column ", i % columns, "; the networks were left unchanged");
    }

    // Noise given to step: {rows, G::input_size}, every value finite.
    template <class N>
    static void check_noise(const char* name, const char* rows_meaning, const N& noise, std::size_t rows) {
        const bool shaped = noise.dimension() == 2 && noise.shape()[0] == rows && noise.shape()[1] == G::input_size;
        if (!shaped) {
            std::string got = "{";
            for (std::size_t d = 0; d < noise.dimension(); ++d) got += (d ? ", " : "") + std::to_string(noise.shape()[d]);
            XGAN_THROW(std::invalid_argument, "xgan::AdversarialTrainer: ", name, " must be {", rows, ", ",
                       G::input_size, "} (", rows_meaning, " rows of G's input size), got ", got, "}");
        }
        check_finite(name, noise, G::input_size);
    }

    // mean sigmoid(l) for a loss reading logits; NaN for critic scores, which are not
    // probabilities.
    static double probability_monitor(const matrix<T>& logits) {
        if constexpr (loss_reads != CriticOutput::logit) {
            return std::numeric_limits<double>::quiet_NaN();
        } else {
            double sum = 0;
            for (const T l : logits) sum += static_cast<double>(detail::sigmoid(l));
            return sum / static_cast<double>(logits.size());
        }
    }

    static double mean(const matrix<T>& values) {
        double sum = 0;
        for (const T v : values) sum += static_cast<double>(v);
        return sum / static_cast<double>(values.size());
    }

    Options options_;
    Rng rng_;
    G generator_;
    D discriminator_;
    typename G::Workspace g_;
    typename D::Workspace d_real_, d_fake_;
    // For joint_discriminator_pass: real and fake rows in one workspace, and each half's
    // logits and their gradients for the loss.
    typename D::Workspace d_joint_;
    matrix<T> real_logits_, fake_logits_, real_logit_gradient_, fake_logit_gradient_;
    // For a loss with penalises_input_gradient: the penalty pass's workspace and the
    // interpolation weights of its batch.
    typename D::Workspace d_penalty_;
    matrix<T> mix_;
    std::vector<T> g_gradient_ = std::vector<T>(G::parameter_count);
    std::vector<T> d_gradient_ = std::vector<T>(D::parameter_count);
    typename GeneratorOptimizer::template state<T> g_state_{G::parameter_count};
    typename DiscriminatorOptimizer::template state<T> d_state_{D::parameter_count};
    detail::guarded_update<GeneratorOptimizer, T, G::parameter_count> g_update_;
    detail::guarded_update<DiscriminatorOptimizer, T, D::parameter_count> d_update_;
    std::uint64_t steps_ = 0;
    // The noise given to step (empty otherwise), and the part not yet used.
    std::vector<T> given_noise_;
    std::span<const T> noise_;
    // A conditional step's real labels (reused from step to step).
    std::vector<std::uint32_t> real_labels_;
};

}  // namespace xgan
