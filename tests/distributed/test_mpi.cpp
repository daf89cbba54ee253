// <xgan/distributed/mpi.hpp>, run under mpirun with 1 and 2 ranks (tests/distributed/
// CMakeLists.txt): replicas stay bit-identical, N ranks x batch B follow one process with
// batch N x B, refusals agree, checkpoints resume every rank exactly.
//
// Every rank runs every test case and makes the same collective calls in the same order;
// the checks come after a case's last collective call, so a failed check on one rank
// cannot leave another waiting (CTest's timeout would end such a hang).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <xgan/distributed/mpi.hpp>
#include <xgan/xgan.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/paintings.hpp>
#include "shared_folder.hpp"

using namespace xgan;

namespace {

template <class T>
using Generator = BasicSequential<T, Dense<5, 16>, LeakyReLU, Dense<16, 15>>;
template <class T>
using Discriminator = BasicSequential<T, Dense<15, 16>, LeakyReLU, Dense<16, 1>, Sigmoid>;
template <class T, class O>
using Trainer = AdversarialTrainer<Generator<T>, Discriminator<T>, O, O>;
template <class T, class O>
using DistributedTrainer = Trainer<T, mpi::Allreduce<O>>;

template <class Net>
std::vector<typename Net::value_type> snapshot(const Net& net) {
    return {net.parameters().begin(), net.parameters().end()};
}

// A batch of `rows` paintings from `rng`, in T.
template <class T>
matrix<T> paintings_batch(Rng& rng, std::size_t rows) {
    matrix<float> batch({rows, 15});
    paintings::artist_works(batch, rng);
    matrix<T> result({rows, 15});
    std::copy(batch.begin(), batch.end(), result.begin());
    return result;
}

template <class T>
matrix<T> normal(Rng& rng, std::size_t rows, std::size_t columns) {
    matrix<T> m({rows, columns});
    rng.fill_normal(std::span<T>(m.data(), m.size()));
    return m;
}

// The largest |a[i] - b[i]|.
template <class T>
double max_difference(const std::vector<T>& a, const std::vector<T>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
    return d;
}

// Whether every rank passed `ok` (a collective call).
bool on_every_rank(bool ok) {
    int mine = ok ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all == 1;
}

}  // namespace

TEST_CASE("replicas stay bit-identical while each rank trains on its own data and noise", "[mpi]") {
    const int n = mpi::size(), r = mpi::rank();
    DistributedTrainer<float, Adam> trainer({.seed = 7});
    mpi::prepare(trainer, 7);
    Rng data(100 + static_cast<std::uint64_t>(r));  // each rank its own batches
    for (int step = 0; step < 5; ++step) trainer.step(paintings_batch<float>(data, 8));
    // The trainer's replicas, gathered: every rank's generator equals rank 0's bit for bit.
    const auto mine = snapshot(trainer.generator());
    std::vector<float> all(mine.size() * static_cast<std::size_t>(n));
    MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_FLOAT, all.data(), static_cast<int>(mine.size()),
                  MPI_FLOAT, MPI_COMM_WORLD);
    std::string replicas_error;
    try {
        mpi::check_replicas(trainer);
    } catch (const std::exception& e) {
        replicas_error = e.what();
    }
    // Without the allreduce, the same start on different data diverges at once: the
    // checks above can tell.
    Trainer<float, Adam> alone({.seed = 7});
    alone.rng() = Rng(mpi::rank_seed(7, r));
    alone.step(paintings_batch<float>(data, 8));
    std::string alone_error;
    try {
        mpi::check_replicas(alone);
    } catch (const std::exception& e) {
        alone_error = e.what();
    }

    CHECK(trainer.steps() == 5);
    CHECK(replicas_error.empty());
    for (int other = 1; other < n; ++other)
        CHECK(std::equal(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(other * mine.size())));
    if (n > 1) {
        CHECK_THAT(alone_error, Catch::Contains("the generator's parameters of rank(s) 1") &&
                                    Catch::Contains("differ from rank 0's"));
    } else {
        CHECK(alone_error.empty());
    }
}

TEST_CASE("BatchNorm's running statistics stay identical when averaged after each step", "[mpi]") {
    using NormG = BasicSequential<float, Dense<5, 16>, BatchNorm, LeakyReLU, Dense<16, 15>>;
    using NormTrainer = AdversarialTrainer<NormG, Discriminator<float>, mpi::Allreduce<Adam>, mpi::Allreduce<Adam>>;
    const int n = mpi::size(), r = mpi::rank();
    auto train = [&](bool average) {
        NormTrainer trainer({.seed = 4});
        mpi::prepare(trainer, 4);
        Rng data(60 + static_cast<std::uint64_t>(r));
        for (int step = 0; step < 3; ++step) {
            trainer.step(paintings_batch<float>(data, 8));
            if (average) mpi::average_buffers(trainer);
        }
        std::string error;
        try {
            mpi::check_replicas(trainer);
        } catch (const std::exception& e) {
            error = e.what();
        }
        return error;
    };
    const std::string local = train(false), averaged = train(true);
    // Each rank's statistics of its own rows: the running statistics drift apart, the
    // parameters do not.
    if (n > 1) {
        CHECK_THAT(local, Catch::Contains("the generator's buffers of rank(s) 1") &&
                              !Catch::Contains("parameters of rank"));
    } else {
        CHECK(local.empty());
    }
    CHECK(averaged.empty());
}

TEST_CASE("check_replicas names the ranks whose networks differ from rank 0's", "[mpi]") {
    const int n = mpi::size(), r = mpi::rank();
    DistributedTrainer<float, Adam> trainer({.seed = 3});
    if (r >= 1 && r % 2 == 1) trainer.discriminator().parameters()[4] += 1.0f;  // ranks 1, 3, ...
    std::string error;
    try {
        mpi::prepare(trainer, 3);
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (n == 1) {
        CHECK(error.empty());
    } else {
        CHECK_THAT(error, Catch::StartsWith("xgan::mpi::check_replicas: the replicas differ: the discriminator's "
                                            "parameters of rank(s) 1") &&
                              Catch::Contains("differ from rank 0's (checksum 0x"));
        CHECK_THAT(error, !Catch::Contains("generator's parameters"));
    }
    // broadcast_replicas gives every rank rank 0's networks again.
    mpi::broadcast_replicas(trainer);
    CHECK(trainer.discriminator() == DistributedTrainer<float, Adam>({.seed = 3}).discriminator());
}

namespace {

// k steps of N ranks x batch B (this rank's share) and, on every rank, of one process
// with batch N x B on the same rows and the same noise: each rank's noise stream
// (rank_seed) drawn for every rank, its rows stacked in rank order. Returns the largest
// difference between the two runs' parameters (G's and D's).
template <class T, class O>
double distributed_against_one_process(const O& optimizer, std::size_t batch, int steps) {
    const int n = mpi::size();
    const std::uint64_t seed = 11;
    DistributedTrainer<T, O> distributed({.generator_optimizer = {.inner = optimizer},
                                          .discriminator_optimizer = {.inner = optimizer},
                                          .seed = seed});
    mpi::prepare(distributed, seed);
    Trainer<T, O> single({.generator_optimizer = optimizer, .discriminator_optimizer = optimizer, .seed = seed});

    std::vector<Rng> streams;
    for (int r = 0; r < n; ++r) streams.emplace_back(mpi::rank_seed(seed, r));
    Rng data(seed + 1);  // the same data order on every rank
    const std::size_t global = batch * static_cast<std::size_t>(n);
    matrix<T> local;
    for (int step = 0; step < steps; ++step) {
        const matrix<T> real = paintings_batch<T>(data, global);
        mpi::take_shard(real, local);
        matrix<T> d_noise({global, 5}), g_noise({global, 5});
        for (int r = 0; r < n; ++r) {
            const matrix<T> d = normal<T>(streams[static_cast<std::size_t>(r)], batch, 5);
            const matrix<T> g = normal<T>(streams[static_cast<std::size_t>(r)], batch, 5);
            std::copy(d.begin(), d.end(), d_noise.begin() + static_cast<std::ptrdiff_t>(r * d.size()));
            std::copy(g.begin(), g.end(), g_noise.begin() + static_cast<std::ptrdiff_t>(r * g.size()));
        }
        const auto me = static_cast<std::ptrdiff_t>(mpi::rank()) * static_cast<std::ptrdiff_t>(batch * 5);
        matrix<T> my_d({batch, 5}), my_g({batch, 5});
        std::copy_n(d_noise.begin() + me, my_d.size(), my_d.begin());
        std::copy_n(g_noise.begin() + me, my_g.size(), my_g.begin());
        distributed.step(local, my_d, my_g);
        single.step(real, d_noise, g_noise);
    }
    mpi::check_replicas(distributed);
    return std::max(max_difference(snapshot(distributed.generator()), snapshot(single.generator())),
                    max_difference(snapshot(distributed.discriminator()), snapshot(single.discriminator())));
}

}  // namespace

// The gradients are the same sums in another order (each rank's rows, then the ranks),
// so with 2 or more ranks the runs differ in the last bits of the sums; in double, after
// 5 steps of learning rate 1e-3 to 5e-2, by less than the tolerance (docs/reference/
// distributed-mpi.md, "Equivalence"). Averaging instead of summing matters: with SGD a
// sum would double every step, Adam would see its eps halved; either is far outside it.
TEST_CASE("N ranks x batch B train as one process with batch N x B", "[mpi][equivalence]") {
    const int n = mpi::size();
    constexpr double tolerance = 1e-14;
    const double adam = distributed_against_one_process<double>(Adam{.lr = 1e-3, .beta1 = 0.5}, 4, 5);
    const double sgd = distributed_against_one_process<double>(SGD{.lr = 5e-2, .momentum = 0.5}, 4, 5);
    const double adam_float = distributed_against_one_process<float>(Adam{.lr = 1e-3, .beta1 = 0.5}, 4, 5);
    INFO("ranks " << n << ": Adam (double) " << adam << ", SGD (double) " << sgd << ", Adam (float) " << adam_float);
    if (n == 1) {  // the same sums in the same order: bit for bit
        CHECK(adam == 0.0);
        CHECK(sgd == 0.0);
        CHECK(adam_float == 0.0);
    } else {
        CHECK(adam <= tolerance);
        CHECK(sgd <= tolerance);
        CHECK(adam_float <= 1e-6);
    }
}

TEST_CASE("an update one rank refuses is refused on every rank", "[mpi][errors]") {
    const int n = mpi::size(), r = mpi::rank();
    const double huge = std::numeric_limits<double>::max();
    SECTION("the averaged gradient makes every rank refuse alike; the replicas stay equal") {
        DistributedTrainer<double, Adam> trainer({.seed = 5});
        mpi::prepare(trainer, 5);
        Rng data(30 + static_cast<std::uint64_t>(r));
        trainer.step(paintings_batch<double>(data, 8));
        const auto d_before = snapshot(trainer.discriminator());
        trainer.options().discriminator_optimizer.inner.lr = huge;
        std::string error;
        try {
            trainer.step(paintings_batch<double>(data, 8));
        } catch (const std::exception& e) {
            error = e.what();
        }
        mpi::check_replicas(trainer);
        CHECK_THAT(error, Catch::Contains("the discriminator's update in step 2 would leave a value non-finite") &&
                              Catch::Contains("(in the gradient averaged over the ranks)"));
        CHECK(snapshot(trainer.discriminator()) == d_before);
        CHECK(trainer.steps() == 1);
    }
    SECTION("replicas that have diverged disagree, and every rank says which kept the update") {
        // Rank 0 holds 1, the others the largest double: one update of about +1e300 is
        // finite on rank 0 and overflows elsewhere.
        const mpi::Allreduce<Adam> settings{.inner = {.lr = 1e300}};
        mpi::Allreduce<Adam>::state<double> state(1);
        std::vector<double> params{r == 0 ? 1.0 : huge};
        const std::vector<double> grads{-1.0};
        std::string error;
        bool kept = false;
        try {
            kept = state.try_step(settings, params, grads);
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (n == 1) {
            CHECK(kept);
            CHECK(error.empty());
        } else {
            std::vector<int> others;
            for (int k = 1; k < n; ++k) others.push_back(k);
            CHECK(error == "xgan::mpi::Allreduce: rank(s) 0 applied the update that rank(s) " +
                               mpi::detail::rank_list(others) +
                               " refused: the replicas have diverged (they must start identical: "
                               "xgan::mpi::check_replicas)");
        }
    }
}

TEST_CASE("a checkpoint resumes every rank exactly, and refuses another number of ranks", "[mpi][checkpoint]") {
    using DT = DistributedTrainer<float, Adam>;
    const int n = mpi::size(), r = mpi::rank();
    const auto folder = xgan_test::shared_folder("mpi_checkpoint");
    const auto path = folder / "checkpoint.npz";
    Rng data(40 + static_cast<std::uint64_t>(r));
    std::vector<matrix<float>> batches;
    for (int i = 0; i < 6; ++i) batches.push_back(paintings_batch<float>(data, 8));

    DT trainer({.seed = 9});
    mpi::prepare(trainer, 9);
    for (int i = 0; i < 3; ++i) trainer.step(batches[static_cast<std::size_t>(i)]);
    mpi::save_checkpoint(trainer, path);
    for (int i = 3; i < 6; ++i) trainer.step(batches[static_cast<std::size_t>(i)]);

    DT resumed({.seed = 1234});  // another start: everything must come from the checkpoint
    mpi::load_checkpoint(resumed, path);
    const std::uint64_t resumed_at = resumed.steps();
    for (int i = 3; i < 6; ++i) resumed.step(batches[static_cast<std::size_t>(i)]);
    mpi::check_replicas(resumed);

    // One process reads it as any checkpoint.
    bool plain_loads = true;
    if (r == 0) {
        Trainer<float, Adam> plain({.seed = 1});
        try {
            load_checkpoint(plain, path);
        } catch (const std::exception&) {
            plain_loads = false;
        }
    }
    const bool all_plain_load = on_every_rank(plain_loads);

    // The same checkpoint, as if a job of n + 1 ranks had written it.
    if (r == 0) {
        npz::writer out;
        const std::uint64_t ranks = static_cast<std::uint64_t>(n) + 1, steps = 3;
        std::vector<std::uint64_t> words;
        for (std::uint64_t k = 0; k < ranks; ++k) {
            const auto w = xgan::detail::engine_words(Rng(k));
            words.insert(words.end(), w.begin(), w.end());
        }
        out.add_string("xgan.format", "xgan rank states 1");
        out.add("ranks", {}, &ranks, 1);
        out.add("trainer.steps", {}, &steps, 1);
        out.add("rng.mt19937_64", {ranks, words.size() / ranks}, words.data(), words.size());
        out.save(mpi::rank_state_path(path, 3));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    DT other({.seed = 9});
    const auto before = snapshot(other.generator());
    std::string wrong_count;
    try {
        mpi::load_checkpoint(other, path);
    } catch (const std::exception& e) {
        wrong_count = e.what();
    }
    // Without its rank-state file.
    if (r == 0) std::filesystem::remove(mpi::rank_state_path(path, 3));
    MPI_Barrier(MPI_COMM_WORLD);
    std::string no_ranks_file;
    try {
        mpi::load_checkpoint(other, path);
    } catch (const std::exception& e) {
        no_ranks_file = e.what();
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (r == 0) std::filesystem::remove_all(folder);

    CHECK(resumed_at == 3);
    CHECK(snapshot(resumed.generator()) == snapshot(trainer.generator()));
    CHECK(snapshot(resumed.discriminator()) == snapshot(trainer.discriminator()));
    CHECK(resumed.rng() == trainer.rng());  // each rank its own stream, where it was
    CHECK(all_plain_load);
    CHECK_THAT(wrong_count, Catch::Contains("was written by a job of " + std::to_string(n + 1) + " ranks; this job has " +
                                            std::to_string(n) + (n == 1 ? " rank" : " ranks") +
                                            ": resume it with mpirun -np " + std::to_string(n + 1)));
    CHECK_THAT(no_ranks_file, Catch::Contains("has no rank-state file") &&
                                  Catch::Contains("checkpoint.ranks-000003.npz"));
    CHECK(snapshot(other.generator()) == before);  // both refusals changed nothing
}
