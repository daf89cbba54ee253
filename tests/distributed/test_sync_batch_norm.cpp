// <xgan/distributed/sync_batch_norm.hpp>, run under mpirun with 1 and 2 ranks: N ranks
// with B rows each through SyncBatchNorm compute what one process computes through
// BatchNorm with the N x B rows (forward, input and parameter gradients, running
// statistics), one rank bit for bit; a trainer keeps its replicas identical with it, and
// its checkpoints load into the network written with BatchNorm.
//
// Every rank runs every test case and makes the same collective calls in the same order;
// the checks come after a case's last collective call (as in test_mpi.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <xgan/distributed/mpi.hpp>
#include <xgan/distributed/sync_batch_norm.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/xgan.hpp>

// The counting operator new (this executable's only source that includes it).
#include "support/counting_new.hpp"

#include "shared_folder.hpp"

using namespace xgan;

namespace {

// The sums behind the statistics and gradients are added in another order on 2 ranks
// (each rank's rows, then the ranks; Chan's update for the variance): in double they
// differ from one process's in the last bits only.
constexpr double tolerance = 1e-12;

// A vector case and an image case: a layer with parameters before the normalisation, so
// that the input gradient through it reaches a parameter gradient.
template <class Norm>
using VectorNet = BasicSequential<double, Dense<3, 4>, Norm, LeakyReLU, Dense<4, 2>>;
template <class Norm>
using ImageNet =
    BasicSequential<double, Input<6>, Dense<6, 18>, Unflatten<2, 3, 3>, Norm, LeakyReLU, Flatten, Dense<18, 2>>;

static_assert(std::is_same_v<VectorNet<mpi::SyncBatchNorm>::layer_type<1>,
                             BatchNormLayer<std::ratio<1, 10>, std::ratio<1, 100000>, 4, double,
                                            mpi::SyncStatistics<mpi::World>>>);
static_assert(std::is_same_v<ImageNet<mpi::SyncBatchNorm>::layer_type<2>,
                             BatchNorm2DLayer<std::ratio<1, 10>, std::ratio<1, 100000>, shape<2, 3, 3>, double,
                                              mpi::SyncStatistics<mpi::World>>>);
// The same record in a checkpoint's architecture as BatchNorm's.
static_assert(VectorNet<mpi::SyncBatchNorm>::layer_type<1>::parameter_count ==
              VectorNet<BatchNorm>::layer_type<1>::parameter_count);

template <class T>
matrix<T> normal(Rng& rng, std::size_t rows, std::size_t columns, double shift = 0) {
    matrix<T> m({rows, columns});
    rng.fill_normal(std::span<T>(m.data(), m.size()));
    for (T& v : m) v += static_cast<T>(shift);
    return m;
}

// Rows [begin, begin + count) of m.
template <class T>
matrix<T> rows(const matrix<T>& m, std::size_t begin, std::size_t count) {
    const std::size_t columns = m.shape()[1];
    matrix<T> part({count, columns});
    std::copy_n(m.data() + begin * columns, count * columns, part.data());
    return part;
}

template <class T>
std::vector<T> values(std::span<const T> s) {
    return {s.begin(), s.end()};
}
template <class T>
std::vector<T> values(const matrix<T>& m) {
    return {m.begin(), m.end()};
}

// max |a - b| / max(|b|), 0 for equal vectors.
double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0, scale = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        d = std::max(d, std::abs(a[i] - b[i]));
        scale = std::max(scale, std::abs(b[i]));
    }
    return scale == 0 ? d : d / scale;
}

// What one pass gives: the output rows, input-gradient rows, parameter gradient (summed
// over the ranks) and running statistics after folding the pass in.
struct Pass {
    std::vector<double> output, input_gradient, parameter_gradient, buffers;
};

// Forward, backward with dL/doutput = dy and update_buffers, over this rank's rows.
template <class Net>
Pass run(Net& net, const matrix<double>& x, const matrix<double>& dy) {
    typename Net::Workspace ws;
    net.forward(ws, x);
    ws.gradients[Net::layer_count] = dy;
    std::vector<double> gradient(Net::parameter_count, 0.0);
    net.backward(ws, std::span<double>(gradient), true);
    net.update_buffers(ws);
    return {values(ws.output()), values(ws.gradients[0]), gradient, values(std::span<const double>(net.buffers()))};
}

// Sums each rank's parameter gradient (as mpi::Allreduce does before averaging).
void sum_over_ranks(std::vector<double>& v) {
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

// Whether every rank holds rank 0's `v`, bit for bit (a collective call).
bool same_on_every_rank(std::vector<double> v) {
    std::vector<double> first = v;
    MPI_Bcast(first.data(), static_cast<int>(first.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
    int mine = first == v ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all == 1;
}

struct Comparison {
    double output = 0, input_gradient = 0, parameter_gradient = 0, buffers = 0;
    double largest() const { return std::max({output, input_gradient, parameter_gradient, buffers}); }
};

// This rank's share of a pass through Net<Norm> (two passes: the running statistics fold
// in twice) against one process's pass through Net<BatchNorm> over all ranks' rows.
template <template <class> class Net, class Norm>
Comparison against_one_process(std::size_t batch, bool* buffers_agree = nullptr) {
    const auto n = static_cast<std::size_t>(mpi::size()), me = static_cast<std::size_t>(mpi::rank());
    Net<Norm> shared(5);
    Net<BatchNorm> single(5);
    Comparison c;
    Rng data(21);  // the same global rows on every rank
    for (int pass = 0; pass < 2; ++pass) {
        const matrix<double> x = normal<double>(data, n * batch, Net<BatchNorm>::input_size, 1.5);
        const matrix<double> dy = normal<double>(data, n * batch, Net<BatchNorm>::output_size);
        Pass mine = run(shared, rows(x, me * batch, batch), rows(dy, me * batch, batch));
        sum_over_ranks(mine.parameter_gradient);
        const Pass all = run(single, x, dy);
        const std::size_t out = Net<BatchNorm>::output_size, in = Net<BatchNorm>::input_size;
        const auto my_rows = [&](const std::vector<double>& v, std::size_t width) {
            return std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(me * batch * width),
                                       v.begin() + static_cast<std::ptrdiff_t>((me + 1) * batch * width));
        };
        c.output = std::max(c.output, relative_difference(mine.output, my_rows(all.output, out)));
        c.input_gradient = std::max(c.input_gradient, relative_difference(mine.input_gradient, my_rows(all.input_gradient, in)));
        c.parameter_gradient =
            std::max(c.parameter_gradient, relative_difference(mine.parameter_gradient, all.parameter_gradient));
        c.buffers = std::max(c.buffers, relative_difference(mine.buffers, all.buffers));
        if (buffers_agree) *buffers_agree = same_on_every_rank(mine.buffers);
    }
    return c;
}

}  // namespace

TEST_CASE("SyncBatchNorm on N ranks x B rows computes BatchNorm's pass over the N x B rows", "[mpi][sync_batch_norm]") {
    const int n = mpi::size();
    bool vector_buffers_agree = false, image_buffers_agree = false;
    const Comparison vector = against_one_process<VectorNet, mpi::SyncBatchNorm>(4, &vector_buffers_agree);
    const Comparison image = against_one_process<ImageNet, mpi::SyncBatchNorm>(3, &image_buffers_agree);
    // Local BatchNorm on each rank's rows: what the comparison above must tell apart.
    const Comparison vector_local = against_one_process<VectorNet, BatchNorm>(4);
    const Comparison image_local = against_one_process<ImageNet, BatchNorm>(3);

    INFO("ranks " << n << "; vector: output " << vector.output << ", input gradient " << vector.input_gradient
                  << ", parameter gradient " << vector.parameter_gradient << ", buffers " << vector.buffers
                  << "; image: output " << image.output << ", input gradient " << image.input_gradient
                  << ", parameter gradient " << image.parameter_gradient << ", buffers " << image.buffers
                  << "; local BatchNorm: vector " << vector_local.largest() << ", image " << image_local.largest());
    CHECK(vector_buffers_agree);  // the running statistics: identical on every rank
    CHECK(image_buffers_agree);
    if (n == 1) {  // the same sums in the same order: bit for bit, and so is local BatchNorm
        CHECK(vector.largest() == 0.0);
        CHECK(image.largest() == 0.0);
        CHECK(vector_local.largest() == 0.0);
    } else {
        CHECK(vector.largest() <= tolerance);
        CHECK(image.largest() <= tolerance);
        // Each rank's own statistics are another normalisation altogether.
        CHECK(vector_local.output > 1e-3);
        CHECK(vector_local.input_gradient > 1e-3);
        CHECK(vector_local.buffers > 1e-3);
        CHECK(image_local.output > 1e-3);
        CHECK(image_local.input_gradient > 1e-3);
    }
}

TEST_CASE("a training pass through SyncBatchNorm allocates nothing once its workspace is sized",
          "[mpi][sync_batch_norm]") {
    using Net = ImageNet<mpi::SyncBatchNorm>;
    Net net(2);
    Net::Workspace ws;
    Rng data(8);
    const matrix<double> x = normal<double>(data, 3, Net::input_size), dy = normal<double>(data, 3, Net::output_size);
    std::vector<double> gradient(Net::parameter_count);
    const auto pass = [&] {
        net.forward(ws, x);
        std::copy(dy.begin(), dy.end(), ws.gradients[Net::layer_count].begin());
        net.backward(ws, std::span<double>(gradient), true);
        net.update_buffers(ws);
    };
    const Counts first = count_allocations(pass);  // sizes the activations for 3 rows: the counter sees them
    const Counts counts = count_allocations(pass);
    CHECK(first.allocations > 0);
    CHECK(counts.allocations == 0);
}

TEST_CASE("SyncBatchNorm in inference mode uses the running statistics and communicates nothing",
          "[mpi][sync_batch_norm]") {
    // Only rank 0 runs the pass: a collective call there would wait for ever (CTest's
    // timeout would end it).
    bool same = true;
    if (mpi::rank() == 0) {
        VectorNet<mpi::SyncBatchNorm> shared(3);
        VectorNet<BatchNorm> single(3);
        shared.set_mode(Mode::inference);
        single.set_mode(Mode::inference);
        Rng data(4);
        const matrix<double> x = normal<double>(data, 1, 3);
        same = values(shared.forward(x)) == values(single.forward(x));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(same);
}

namespace {

using Generator = BasicSequential<float, Dense<5, 16>, LeakyReLU, Dense<16, 15>>;
template <class Norm>
using Discriminator = BasicSequential<float, Dense<15, 16>, Norm, LeakyReLU, Dense<16, 1>, Sigmoid>;
// Like BatchNorm it ties the rows of a batch together: no gradient penalty through it.
static_assert(!per_sample_critic_v<Discriminator<mpi::SyncBatchNorm>> && per_sample_critic_v<Discriminator<LeakyReLU>>);
template <class Norm>
using NormTrainer = AdversarialTrainer<Generator, Discriminator<Norm>, mpi::Allreduce<Adam>, mpi::Allreduce<Adam>>;

matrix<float> paintings_batch(Rng& rng, std::size_t rows) {
    matrix<float> batch({rows, 15});
    paintings::artist_works(batch, rng);
    return batch;
}

// Trains 3 steps on each rank's own rows; "" if the replicas stayed identical, else
// check_replicas' message.
template <class Norm>
std::string train(NormTrainer<Norm>& trainer) {
    mpi::prepare(trainer, 4);
    Rng data(60 + static_cast<std::uint64_t>(mpi::rank()));
    for (int step = 0; step < 3; ++step) trainer.step(paintings_batch(data, 8));
    try {
        mpi::check_replicas(trainer);
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("a trainer with SyncBatchNorm in D keeps its replicas identical; its checkpoint loads with BatchNorm",
          "[mpi][sync_batch_norm][checkpoint]") {
    const int n = mpi::size();
    NormTrainer<mpi::SyncBatchNorm> synced({.seed = 4});
    const std::string synced_error = train(synced);
    NormTrainer<BatchNorm> local({.seed = 4});
    const std::string local_error = train(local);

    const auto folder = xgan_test::shared_folder("sync_bn_checkpoint");
    const auto path = folder / "checkpoint.npz";
    mpi::save_checkpoint(synced, path);
    std::string load_error;
    bool same_networks = true;
    if (mpi::rank() == 0) {
        AdversarialTrainer<Generator, Discriminator<BatchNorm>, Adam, Adam> plain({.seed = 1});
        try {
            load_checkpoint(plain, path);
            same_networks =
                values(std::span<const float>(plain.discriminator().parameters())) ==
                    values(std::span<const float>(synced.discriminator().parameters())) &&
                values(std::span<const float>(plain.discriminator().buffers())) ==
                    values(std::span<const float>(synced.discriminator().buffers())) &&
                values(std::span<const float>(plain.generator().parameters())) ==
                    values(std::span<const float>(synced.generator().parameters()));
        } catch (const std::exception& e) {
            load_error = e.what();
        }
        std::filesystem::remove_all(folder);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    CHECK(synced.steps() == 3);
    CHECK(synced_error.empty());
    // Local statistics: the running statistics drift apart on 2 ranks (the parameters do not).
    if (n > 1) {
        CHECK_THAT(local_error, Catch::Contains("the discriminator's buffers of rank(s) 1") &&
                                    !Catch::Contains("parameters of rank"));
    } else {
        CHECK(local_error.empty());
    }
    CHECK(load_error.empty());
    CHECK(same_networks);
}

namespace {

template <class Norm>
using NormG = BasicSequential<double, Dense<5, 8>, Norm, LeakyReLU, Dense<8, 15>>;
template <class Norm>
using NormD = BasicSequential<double, Dense<15, 8>, Norm, LeakyReLU, Dense<8, 1>, Sigmoid>;

template <class Net>
std::vector<double> state_of(const Net& net) {
    std::vector<double> v(net.parameters().begin(), net.parameters().end());
    v.insert(v.end(), net.buffers().begin(), net.buffers().end());
    return v;
}

// The largest |a[i] - b[i]|.
double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}

// `steps` steps of N ranks x batch B with Norm in G and D (this rank's rows and noise)
// and, on every rank, of one process with BatchNorm and batch N x B on the same rows
// and noise (as test_mpi.cpp's equivalence test). Returns the largest difference
// between the two runs' parameters and running statistics, G's and D's.
//
// SGD, not Adam: Adam divides each gradient by its own running scale, so a gradient that
// is zero but for rounding (such as the bias of the Dense layer before a BatchNorm, which
// the normalisation subtracts again) takes steps far larger than that rounding, and two
// orders of summation part by more (seen with Adam: 2e-10 after 4 steps).
template <class Norm>
double training_against_one_process(std::size_t batch, int steps) {
    const int n = mpi::size();
    const std::uint64_t seed = 11;
    const SGD sgd{.lr = 5e-2, .momentum = 0.5};
    AdversarialTrainer<NormG<Norm>, NormD<Norm>, mpi::Allreduce<SGD>, mpi::Allreduce<SGD>> distributed(
        {.generator_optimizer = {.inner = sgd}, .discriminator_optimizer = {.inner = sgd}, .seed = seed});
    mpi::prepare(distributed, seed);
    AdversarialTrainer<NormG<BatchNorm>, NormD<BatchNorm>, SGD, SGD> single(
        {.generator_optimizer = sgd, .discriminator_optimizer = sgd, .seed = seed});

    Rng data(seed + 1), noise(seed + 2);  // the same rows and noise on every rank
    const std::size_t global = batch * static_cast<std::size_t>(n), me = static_cast<std::size_t>(mpi::rank());
    for (int step = 0; step < steps; ++step) {
        matrix<double> real({global, 15});
        const matrix<float> paintings = paintings_batch(data, global);
        std::copy(paintings.begin(), paintings.end(), real.begin());
        const matrix<double> d_noise = normal<double>(noise, global, 5), g_noise = normal<double>(noise, global, 5);
        distributed.step(rows(real, me * batch, batch), rows(d_noise, me * batch, batch),
                         rows(g_noise, me * batch, batch));
        single.step(real, d_noise, g_noise);
    }
    if constexpr (!std::is_same_v<Norm, BatchNorm>) mpi::check_replicas(distributed);  // local ones drift
    return std::max(max_difference(state_of(distributed.generator()), state_of(single.generator())),
                    max_difference(state_of(distributed.discriminator()), state_of(single.discriminator())));
}

}  // namespace

// With SyncBatchNorm in G and D, N ranks x batch B train as one process with BatchNorm and
// batch N x B: the same statistics, gradients and updates, but for the order of the sums.
TEST_CASE("with SyncBatchNorm, N ranks x batch B train as one process with batch N x B",
          "[mpi][sync_batch_norm][equivalence]") {
    const int n = mpi::size();
    const double synced = training_against_one_process<mpi::SyncBatchNorm>(4, 4);
    const double local = training_against_one_process<BatchNorm>(4, 4);
    INFO("ranks " << n << ": SyncBatchNorm " << synced << ", local BatchNorm " << local);
    if (n == 1) {
        CHECK(synced == 0.0);
        CHECK(local == 0.0);
    } else {
        CHECK(synced <= 1e-12);
        CHECK(local > 1e-4);  // each rank's own statistics: another training
    }
}
