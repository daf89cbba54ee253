// Data-parallel GAN training on MPI: every rank holds a replica of G, D and their
// optimizers' states, trains on its own rows of each batch and its own noise, and the
// gradients are averaged over the ranks in one MPI_Allreduce per update, so every rank
// applies the same update and the replicas stay bit-identical.
//
// Opt-in: link xgan::mpi (find_package(xgan COMPONENTS mpi)); no other xgan header
// includes this one. The trainer is the ordinary AdversarialTrainer: the averaging is an
// optimizer adapter, Allreduce<Adam>, which the trainer hands the flat gradient as it
// hands it to Adam. BatchNorm with statistics over all ranks: mpi::SyncBatchNorm, in
// <xgan/distributed/sync_batch_norm.hpp>. docs/tutorial/distributed.md walks through a run;
// docs/reference/distributed-mpi.md lists every name here.
#pragma once

// MPI's C interface only: not the C++ bindings MPI-3 removed, which Open MPI and MPICH
// would otherwise compile into every includer (and link from libmpi_cxx).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/optim/optimizer.hpp>

namespace xgan::mpi {

// ---------------------------------------------------------------------------------------
// The job

// This process's rank in `comm`, and the number of ranks.
inline int rank(MPI_Comm comm = MPI_COMM_WORLD) {
    int r = 0;
    MPI_Comm_rank(comm, &r);
    return r;
}
inline int size(MPI_Comm comm = MPI_COMM_WORLD) {
    int n = 1;
    MPI_Comm_size(comm, &n);
    return n;
}

// MPI_Init on construction, MPI_Finalize on destruction (unless MPI was initialised
// before: then neither). One per program, in main, before any other MPI call.
class Environment {
public:
    Environment(int& argc, char**& argv) {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
                XGAN_THROW(std::runtime_error, "xgan::mpi::Environment: MPI_Init failed");
            owner_ = true;
        }
    }
    ~Environment() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (owner_ && !finalized) MPI_Finalize();
    }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

    int rank() const { return mpi::rank(MPI_COMM_WORLD); }
    int size() const { return mpi::size(MPI_COMM_WORLD); }

private:
    bool owner_ = false;
};

// Ends the whole job: prints "xgan::mpi: rank R of N failed: WHY; ending the job" on
// stderr and calls MPI_Abort, which makes mpirun stop every other rank (also those
// waiting in a collective call, which would otherwise wait for ever).
[[noreturn]] XGAN_COLD inline void abort_job(std::string_view why, MPI_Comm comm = MPI_COMM_WORLD, int code = 1) {
    std::fprintf(stderr, "xgan::mpi: rank %d of %d failed: %.*s; ending the job\n", rank(comm), size(comm),
                 static_cast<int>(why.size()), why.data());
    std::fflush(stderr);
    MPI_Abort(comm, code);
    std::abort();  // MPI_Abort does not return; should it, do not let this rank go on
}

// Runs body() (returning int, or void for 0) and returns its result; an exception that
// leaves it ends the whole job with abort_job, naming this rank and the exception's
// what(). Wrap each rank's training in it: a rank that throws (bad data on one rank)
// then cannot leave the others waiting for its gradients.
template <class Body>
int run(Body&& body, MPI_Comm comm = MPI_COMM_WORLD) noexcept {
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
            body();
            return 0;
        } else {
            return static_cast<int>(body());
        }
    } catch (const std::exception& e) {
        abort_job(e.what(), comm);
    } catch (...) {
        abort_job("an exception that is not a std::exception", comm);
    }
}

namespace detail {

template <class T>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
    else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
    else static_assert(sizeof(T) == 0, "xgan::mpi: no MPI datatype for this type");
}

inline void check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    XGAN_THROW(std::runtime_error, "xgan::mpi: ", call, " failed: ", std::string_view(text, static_cast<std::size_t>(length)));
}

// MPI counts are int: a buffer longer than INT_MAX values goes in INT_MAX-long pieces.
template <class T, class Call>
void in_pieces(std::size_t n, Call&& call) {
    constexpr std::size_t piece = INT_MAX;
    for (std::size_t begin = 0; begin < n; begin += piece) call(begin, static_cast<int>(std::min(piece, n - begin)));
}

template <class T>
void broadcast(std::span<T> values, int root, MPI_Comm comm) {
    in_pieces<T>(values.size(), [&](std::size_t begin, int count) {
        check(MPI_Bcast(values.data() + begin, count, datatype<T>(), root, comm), "MPI_Bcast");
    });
}

// Every rank learns root's `error` (empty: none); a non-empty one is thrown on every
// rank, so that all leave the collective operation the same way.
inline void share_error(std::string error, int root, MPI_Comm comm) {
    std::uint64_t length = error.size();
    broadcast(std::span<std::uint64_t>(&length, 1), root, comm);
    if (length == 0) return;
    error.resize(length);
    broadcast(std::span<char>(error.data(), error.size()), root, comm);
    throw std::runtime_error(error);
}

// "1, 3 and 4"
inline std::string rank_list(const std::vector<int>& ranks) {
    std::string text;
    for (std::size_t i = 0; i < ranks.size(); ++i)
        text += (i == 0 ? "" : i + 1 == ranks.size() ? " and " : ", ") + std::to_string(ranks[i]);
    return text;
}

// FNV-1a over the bytes of `values`, continuing from `hash`.
template <class T>
std::uint64_t fnv1a(std::span<const T> values, std::uint64_t hash = 0xcbf29ce484222325ull) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t i = 0; i < values.size_bytes(); ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
    return hash;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// The gradient allreduce

// An optimizer that averages the gradient over the ranks of `comm` before `inner`
// applies it: AdversarialTrainer<G, D, mpi::Allreduce<Adam>, mpi::Allreduce<Adam>>.
// Each update makes one MPI_Allreduce over the network's whole flat gradient (into a
// buffer of the state's, allocated once) and divides it by the number of ranks: with
// the losses' means over each rank's B rows, N ranks then follow the update of one
// process with a batch of N x B rows. A refusing inner optimizer (Adam, SGD) refuses the
// averaged gradient on every rank alike; with agree_on_refusal the ranks also compare
// their decisions (one MPI_Allgather of one byte each) and throw, naming the ranks, if
// they differ, which only replicas that have diverged can do.
template <class Inner>
struct Allreduce {
    Inner inner{};
    MPI_Comm comm = MPI_COMM_WORLD;
    bool agree_on_refusal = true;

    void validate() const {
        if (comm == MPI_COMM_NULL) XGAN_THROW(std::invalid_argument, "xgan::mpi::Allreduce: comm is MPI_COMM_NULL");
        if constexpr (requires { inner.validate(); }) inner.validate();
    }

    template <class T>
    class state {
    public:
        using inner_state = typename Inner::template state<T>;

        explicit state(std::size_t parameter_count) : inner_(parameter_count), mean_(parameter_count) {}

        // Averages grads over the ranks and applies the inner optimizer's step to the mean.
        void step(const Allreduce& o, std::span<T> params, std::span<const T> grads) {
            if constexpr (refusing_optimizer<Inner, T>) {
                if (!try_step(o, params, grads))
                    XGAN_THROW(std::runtime_error, "xgan::mpi::Allreduce: the update was refused: ", refusal(grads));
            } else {
                average(o, grads);
                inner_.step(o.inner, params, std::span<const T>(mean_));
            }
        }

        // Averages grads over the ranks, then the inner optimizer's try_step on the mean.
        [[nodiscard]] bool try_step(const Allreduce& o, std::span<T> params, std::span<const T> grads)
            requires refusing_optimizer<Inner, T>
        {
            average(o, grads);
            const bool kept = inner_.try_step(o.inner, params, std::span<const T>(mean_));
            if (o.agree_on_refusal) agree(o.comm, kept);
            return kept;
        }

        // Why the last try_step refused: the inner optimizer's reason, for the averaged gradient.
        std::string refusal(std::span<const T> /*grads*/) const {
            if constexpr (requires(const inner_state& s, std::span<const T> g) { s.refusal(g); })
                return inner_.refusal(std::span<const T>(mean_)) + " (in the gradient averaged over the ranks)";
            else
                return "the optimizer refused the gradient averaged over the ranks";
        }

        // What checkpoints and check_replicas read: the inner state's.
        std::string fault() const
            requires requires(const inner_state& s) { s.fault(); }
        {
            return inner_.fault();
        }
        std::uint64_t steps() const
            requires requires(const inner_state& s) { s.steps(); }
        {
            return inner_.steps();
        }
        void set_steps(std::uint64_t steps)
            requires requires(inner_state& s) { s.set_steps(steps); }
        {
            inner_.set_steps(steps);
        }
        auto named_tensors()
            requires requires(inner_state& s) { s.named_tensors(); }
        {
            return inner_.named_tensors();
        }
        auto named_tensors() const
            requires requires(const inner_state& s) { s.named_tensors(); }
        {
            return inner_.named_tensors();
        }

        inner_state& inner() { return inner_; }
        const inner_state& inner() const { return inner_; }
        // The gradient the last update applied: the mean over the ranks.
        std::span<const T> mean_gradient() const { return mean_; }

        friend bool operator==(const state& a, const state& b)
            requires std::equality_comparable<inner_state>
        {
            return a.inner_ == b.inner_;
        }

    private:
        void average(const Allreduce& o, std::span<const T> grads) {
            o.validate();
            if (grads.size() != mean_.size())
                XGAN_THROW(std::invalid_argument, "xgan::mpi::Allreduce: state sized for ", mean_.size(),
                           " parameters, got ", grads.size(), " gradients");
            detail::in_pieces<T>(mean_.size(), [&](std::size_t begin, int count) {
                detail::check(MPI_Allreduce(grads.data() + begin, mean_.data() + begin, count, detail::datatype<T>(),
                                            MPI_SUM, o.comm),
                              "MPI_Allreduce");
            });
            const int n = mpi::size(o.comm);
            if (n == 1) return;
            const T ranks = static_cast<T>(n);
            for (T& g : mean_) g /= ranks;
        }

        void agree(MPI_Comm comm, bool kept) {
            const int n = mpi::size(comm);
            decisions_.resize(static_cast<std::size_t>(n));  // allocates on the first update only
            char mine = kept ? 1 : 0;
            detail::check(MPI_Allgather(&mine, 1, MPI_CHAR, decisions_.data(), 1, MPI_CHAR, comm), "MPI_Allgather");
            if (std::all_of(decisions_.begin(), decisions_.end(), [&](char d) { return d == mine; })) return;
            std::vector<int> kept_by, refused_by;
            for (int r = 0; r < n; ++r) (decisions_[static_cast<std::size_t>(r)] ? kept_by : refused_by).push_back(r);
            XGAN_THROW(std::runtime_error, "xgan::mpi::Allreduce: rank(s) ", detail::rank_list(kept_by),
                       " applied the update that rank(s) ", detail::rank_list(refused_by),
                       " refused: the replicas have diverged (they must start identical: xgan::mpi::check_replicas)");
        }

        inner_state inner_;
        std::vector<T> mean_;
        std::vector<char> decisions_;
    };
};

// Bytes one rank sends (and receives) per allreduce of `values` values of T in the ring
// algorithm, the bandwidth-optimal one large buffers use: 2 (N - 1) / N of the buffer.
template <class T>
constexpr double ring_allreduce_bytes(std::size_t values, int ranks) {
    return ranks <= 1 ? 0.0
                      : 2.0 * static_cast<double>(ranks - 1) / static_cast<double>(ranks) *
                            static_cast<double>(values * sizeof(T));
}

// ---------------------------------------------------------------------------------------
// Replicas

// Each part of a trainer's state that must be identical on every rank, with a checksum
// of its bytes: G's and D's parameters and buffers, both optimizers' states (where they
// expose named_tensors() and steps()) and the step count. Not the Rng: each rank draws
// its own noise.
template <class Trainer>
std::vector<std::pair<std::string, std::uint64_t>> replica_checksums(const Trainer& trainer) {
    using T = typename Trainer::value_type;
    std::vector<std::pair<std::string, std::uint64_t>> parts;
    parts.emplace_back("the generator's parameters", detail::fnv1a(std::span<const T>(trainer.generator().parameters())));
    parts.emplace_back("the generator's buffers", detail::fnv1a(std::span<const T>(trainer.generator().buffers())));
    parts.emplace_back("the discriminator's parameters",
                       detail::fnv1a(std::span<const T>(trainer.discriminator().parameters())));
    parts.emplace_back("the discriminator's buffers",
                       detail::fnv1a(std::span<const T>(trainer.discriminator().buffers())));
    auto optimizer = [&](const auto& state, const char* what) {
        if constexpr (checkpointable_optimizer_state<std::remove_cvref_t<decltype(state)>>) {
            const std::uint64_t steps = state.steps();
            std::uint64_t hash = detail::fnv1a(std::span<const std::uint64_t>(&steps, 1));
            for (const auto& named : state.named_tensors()) hash = detail::fnv1a(std::span<const T>(named.second), hash);
            parts.emplace_back(what, hash);
        }
    };
    optimizer(trainer.generator_state(), "the generator's optimizer state");
    optimizer(trainer.discriminator_state(), "the discriminator's optimizer state");
    const std::uint64_t steps = trainer.steps();
    parts.emplace_back("the step count", detail::fnv1a(std::span<const std::uint64_t>(&steps, 1)));
    return parts;
}

// Throws std::runtime_error on every rank unless every rank's trainer holds the same
// state as rank 0's (replica_checksums): "xgan::mpi::check_replicas: the replicas
// differ: the generator's parameters of rank(s) 1 and 3 differ from rank 0's (checksum
// 0x... against 0x...)". A collective call: every rank of comm must make it.
template <class Trainer>
void check_replicas(const Trainer& trainer, MPI_Comm comm = MPI_COMM_WORLD) {
    const auto parts = replica_checksums(trainer);
    const std::size_t k = parts.size();
    const auto n = static_cast<std::size_t>(size(comm));
    std::vector<std::uint64_t> mine(k), all(k * n);
    for (std::size_t i = 0; i < k; ++i) mine[i] = parts[i].second;
    detail::check(MPI_Allgather(mine.data(), static_cast<int>(k), MPI_UINT64_T, all.data(), static_cast<int>(k),
                                MPI_UINT64_T, comm),
                  "MPI_Allgather");
    std::string differences;
    for (std::size_t i = 0; i < k; ++i) {
        std::vector<int> ranks;
        std::uint64_t first_other = 0;
        for (std::size_t r = 1; r < n; ++r)
            if (all[r * k + i] != all[i]) {
                if (ranks.empty()) first_other = all[r * k + i];
                ranks.push_back(static_cast<int>(r));
            }
        if (ranks.empty()) continue;
        std::ostringstream text;
        text << std::hex << (differences.empty() ? "" : "; ") << parts[i].first << " of rank(s) "
             << detail::rank_list(ranks) << " differ from rank 0's (checksum 0x" << first_other << " against 0x"
             << all[i] << ")";
        differences += text.str();
    }
    if (!differences.empty())
        XGAN_THROW(std::runtime_error, "xgan::mpi::check_replicas: the replicas differ: ", differences,
                   " (every rank must build its networks from the same seed, or take rank 0's state: "
                   "xgan::mpi::broadcast_replicas)");
}

// Copies root's G and D (parameters and buffers), both optimizers' states and the step
// count to every other rank of comm (MPI_Bcast), then check_replicas. Not the Rng.
template <class Trainer>
void broadcast_replicas(Trainer& trainer, MPI_Comm comm = MPI_COMM_WORLD, int root = 0) {
    using T = typename Trainer::value_type;
    detail::broadcast(std::span<T>(trainer.generator().parameters()), root, comm);
    detail::broadcast(std::span<T>(trainer.generator().buffers()), root, comm);
    detail::broadcast(std::span<T>(trainer.discriminator().parameters()), root, comm);
    detail::broadcast(std::span<T>(trainer.discriminator().buffers()), root, comm);
    auto optimizer = [&](auto& state) {
        if constexpr (checkpointable_optimizer_state<std::remove_cvref_t<decltype(state)>>) {
            std::uint64_t steps = state.steps();
            detail::broadcast(std::span<std::uint64_t>(&steps, 1), root, comm);
            state.set_steps(steps);
            for (auto& named : state.named_tensors()) detail::broadcast(std::span<T>(named.second), root, comm);
        }
    };
    optimizer(trainer.generator_state());
    optimizer(trainer.discriminator_state());
    std::uint64_t steps = trainer.steps();
    detail::broadcast(std::span<std::uint64_t>(&steps, 1), root, comm);
    trainer.set_steps(steps);
    check_replicas(trainer, comm);
}

// Averages G's and D's buffers (BatchNorm's running statistics) over the ranks of comm:
// one MPI_Allreduce per network that has buffers, none for those without. Each rank's
// BatchNorm normalises its own rows with their own statistics and folds them into its
// running statistics, so the replicas' buffers drift apart while their parameters stay
// identical; averaging them after every step keeps them identical too (check_replicas
// checks them), and gives the running mean of one process with the step's N x B rows
// (the running variance: the mean of the ranks' variances, without the spread between
// the ranks' means). A collective call.
template <class Trainer>
void average_buffers(Trainer& trainer, MPI_Comm comm = MPI_COMM_WORLD) {
    using T = typename Trainer::value_type;
    const int n = size(comm);
    auto average = [&](std::span<T> values) {
        if (values.empty() || n == 1) return;
        detail::in_pieces<T>(values.size(), [&](std::size_t begin, int count) {
            detail::check(MPI_Allreduce(MPI_IN_PLACE, values.data() + begin, count, detail::datatype<T>(), MPI_SUM,
                                        comm),
                          "MPI_Allreduce");
        });
        for (T& v : values) v /= static_cast<T>(n);
    };
    average(std::span<T>(trainer.generator().buffers()));
    average(std::span<T>(trainer.discriminator().buffers()));
}

// The seed of rank `rank`'s Rng in a run seeded with `seed` (SplitMix64 of both): every
// rank draws its own noise and Dropout masks, the same in every run with that seed.
constexpr std::uint64_t rank_seed(std::uint64_t seed, int rank) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(rank) + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Starts a data-parallel run from a trainer each rank built from the same seed:
// check_replicas (identical networks and states on every rank, or an error naming the
// ranks that differ), then this rank's Rng from rank_seed(seed, rank).
template <class Trainer>
void prepare(Trainer& trainer, std::uint64_t seed, MPI_Comm comm = MPI_COMM_WORLD) {
    check_replicas(trainer, comm);
    trainer.rng() = Rng(rank_seed(seed, rank(comm)));
}

// This rank's share of a batch that every rank drew alike (the same data order from the
// same seed): rows [r B, (r + 1) B) of `global` {N x B, columns} into `local` {B, columns}
// (resized if needed). N ranks with B rows each then see exactly the rows one process
// with batch N x B sees, a fresh order each epoch.
template <class T>
void take_shard(const matrix<T>& global, matrix<T>& local, MPI_Comm comm = MPI_COMM_WORLD) {
    const auto n = static_cast<std::size_t>(size(comm));
    const auto r = static_cast<std::size_t>(rank(comm));
    const std::size_t rows = global.shape()[0], columns = global.shape()[1];
    if (rows % n != 0)
        XGAN_THROW(std::invalid_argument, "xgan::mpi::take_shard: a batch of ", rows, " rows does not split over ", n,
                   " ranks");
    const std::size_t b = rows / n;
    if (local.shape()[0] != b || local.shape()[1] != columns) local.resize({b, columns});
    std::copy_n(global.data() + r * b * columns, b * columns, local.data());
}

// ---------------------------------------------------------------------------------------
// Checkpoints

// The file beside checkpoint `path` that holds every rank's Rng at step `steps`:
// "run/checkpoint.npz" at step 500 -> "run/checkpoint.ranks-000500.npz".
inline std::filesystem::path rank_state_path(const std::filesystem::path& path, std::uint64_t steps) {
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, ".ranks-%06llu.npz", static_cast<unsigned long long>(steps));
    std::filesystem::path p = path;
    return p.replace_filename(path.stem().string() + suffix);
}

namespace detail {

inline std::vector<std::uint64_t> engine_words(const Rng& rng) { return xgan::detail::engine_words(rng); }

inline Rng::engine_type engine_from_words(std::span<const std::uint64_t> words) {
    std::stringstream text;
    for (const std::uint64_t w : words) text << w << ' ';
    Rng::engine_type engine;
    text >> engine;
    if (text.fail()) XGAN_THROW(std::runtime_error, "xgan::mpi: the rank-state file holds no engine state");
    return engine;
}

inline constexpr std::size_t engine_word_count = Rng::engine_type::state_size + 1;

}  // namespace detail

// Saves a data-parallel run at the trainer's step: rank 0 writes every rank's Rng to
// rank_state_path(path, steps) and then its trainer to `path` with xgan::save_checkpoint
// (both atomically), and removes the rank-state files of older steps. `path` is an
// ordinary checkpoint: load_checkpoint reads it in one process. A collective call; an
// error on rank 0 is thrown on every rank (the previous checkpoint is left as it was).
template <class Trainer>
void save_checkpoint(const Trainer& trainer, const std::filesystem::path& path, MPI_Comm comm = MPI_COMM_WORLD) {
    const int n = size(comm), me = rank(comm);
    const std::vector<std::uint64_t> mine = detail::engine_words(trainer.rng());
    if (mine.size() != detail::engine_word_count)
        XGAN_THROW(std::logic_error, "xgan::mpi::save_checkpoint: unexpected engine state size ", mine.size());
    std::vector<std::uint64_t> all(me == 0 ? mine.size() * static_cast<std::size_t>(n) : 0);
    detail::check(MPI_Gather(mine.data(), static_cast<int>(mine.size()), MPI_UINT64_T, all.data(),
                             static_cast<int>(mine.size()), MPI_UINT64_T, 0, comm),
                  "MPI_Gather");
    std::string error;
    if (me == 0) {
        try {
            const std::filesystem::path ranks_path = rank_state_path(path, trainer.steps());
            npz::writer out;
            out.add_string("xgan.format", "xgan rank states 1");
            const std::uint64_t ranks = static_cast<std::uint64_t>(n), steps = trainer.steps();
            out.add("ranks", {}, &ranks, 1);
            out.add("trainer.steps", {}, &steps, 1);
            out.add("rng.mt19937_64", {static_cast<std::size_t>(n), detail::engine_word_count}, all.data(), all.size());
            out.save(ranks_path);
            xgan::save_checkpoint(trainer, path);
            // The rank-state files of earlier saves (and of a save interrupted between
            // its two files) no longer belong to the checkpoint.
            const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
            const std::string prefix = path.stem().string() + ".ranks-";
            std::error_code ignored;
            for (const auto& entry : std::filesystem::directory_iterator(directory, ignored)) {
                const std::string name = entry.path().filename().string();
                if (name.rfind(prefix, 0) == 0 && name.size() > 4 && name.ends_with(".npz") &&
                    entry.path().filename() != ranks_path.filename())
                    std::filesystem::remove(entry.path(), ignored);
            }
        } catch (const std::exception& e) {
            error = std::string("xgan::mpi::save_checkpoint (rank 0): ") + e.what();
        }
    }
    detail::share_error(std::move(error), 0, comm);
}

// Resumes a data-parallel run from `path` (written by mpi::save_checkpoint): rank 0
// reads it and the rank-state file of its step, every rank takes rank 0's trainer state
// (broadcast_replicas) and its own Rng. Throws on every rank, leaving every trainer as
// it was, when the file does not load (the message is load_checkpoint's), when it has
// no rank-state file, or when it was written by a job of another size: "... was written
// by a job of 2 ranks; this job has 3 ...". A collective call.
template <class Trainer>
void load_checkpoint(Trainer& trainer, const std::filesystem::path& path, MPI_Comm comm = MPI_COMM_WORLD) {
    const int n = size(comm), me = rank(comm);
    std::vector<std::uint64_t> all;
    std::string error;
    if (me == 0) {
        try {
            const npz::reader checkpoint(path);
            std::uint64_t steps = 0;
            checkpoint.read_into("trainer.steps", {}, std::span<std::uint64_t>(&steps, 1));
            const std::filesystem::path ranks_path = rank_state_path(path, steps);
            std::error_code missing;
            if (!std::filesystem::is_regular_file(ranks_path, missing))
                XGAN_THROW(checkpoint_error, path.string(), " (step ", steps, ") has no rank-state file ",
                           ranks_path.string(), " beside it: it was not written by xgan::mpi::save_checkpoint, ",
                           "so each rank's noise stream cannot be restored (xgan::load_checkpoint loads it in one "
                           "process)");
            const npz::reader rank_states(ranks_path);
            std::uint64_t ranks = 0;
            rank_states.read_into("ranks", {}, std::span<std::uint64_t>(&ranks, 1));
            if (ranks != static_cast<std::uint64_t>(n))
                XGAN_THROW(checkpoint_error, path.string(), " was written by a job of ", ranks,
                           ranks == 1 ? " rank" : " ranks", "; this job has ", n, n == 1 ? " rank" : " ranks",
                           ": resume it with mpirun -np ", ranks,
                           " (each rank's noise stream and share of every batch depend on the number of ranks)");
            all.resize(static_cast<std::size_t>(n) * detail::engine_word_count);
            rank_states.read_into("rng.mt19937_64", {static_cast<std::size_t>(n), detail::engine_word_count},
                                  std::span<std::uint64_t>(all));
            for (int r = 0; r < n; ++r)
                (void)detail::engine_from_words(std::span<const std::uint64_t>(all).subspan(
                    static_cast<std::size_t>(r) * detail::engine_word_count, detail::engine_word_count));
            xgan::load_checkpoint(trainer, path);  // validates everything before it changes anything
        } catch (const std::exception& e) {
            error = std::string("xgan::mpi::load_checkpoint (rank 0): ") + e.what();
        }
    }
    detail::share_error(std::move(error), 0, comm);
    std::vector<std::uint64_t> mine(detail::engine_word_count);
    detail::check(MPI_Scatter(all.data(), static_cast<int>(mine.size()), MPI_UINT64_T, mine.data(),
                              static_cast<int>(mine.size()), MPI_UINT64_T, 0, comm),
                  "MPI_Scatter");
    broadcast_replicas(trainer, comm, 0);
    trainer.rng().engine() = detail::engine_from_words(mine);
}

}  // namespace xgan::mpi

namespace xgan {

// A checkpoint names Allreduce<O>'s state as O's: it is O's state, and loads into O.
template <class O>
struct optimizer_name<mpi::Allreduce<O>> : optimizer_name<O> {};

}  // namespace xgan
