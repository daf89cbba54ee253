// SyncBatchNorm: BatchNorm whose training statistics are those of the whole step's batch
// over the ranks of an MPI job (PyTorch's nn.SyncBatchNorm), not of each rank's own rows.
// Written where BatchNorm would be; the same parameters, buffers, names and checkpoints:
// its layers are BatchNorm's with the reducer mpi::SyncStatistics (<xgan/layers/batch_norm.hpp>),
// so their name() and a checkpoint's record of them are BatchNorm's, and a network trained
// with SyncBatchNorm loads into the same network with BatchNorm, in one process.
//
// Training mode costs two small collective calls per BatchNorm layer and batch: forward
// gathers each rank's count, mean and m2 per feature (one MPI_Allgather), backward sums
// the two per-feature sums the input gradient needs (one MPI_Allreduce). Inference mode
// communicates nothing. docs/tutorial/distributed.md says when it pays.
#pragma once

#include <algorithm>
#include <cstddef>
#include <ratio>
#include <span>
#include <vector>

#include <xgan/distributed/mpi.hpp>
#include <xgan/layers/batch_norm.hpp>

namespace xgan::mpi {

// The communicator a SyncBatchNorm synchronises over, as a type (a layer specification
// is a type): one with a static MPI_Comm get(). World is MPI_COMM_WORLD.
struct World {
    static MPI_Comm get() { return MPI_COMM_WORLD; }
};

// BatchNorm's reducer over the ranks of Comm::get(). Every rank of the communicator must
// run the same passes in training mode (the trainer does); each is a collective call.
template <class Comm = World>
struct SyncStatistics {
    // Room for every rank's count, means and m2s: sized when built inside a running MPI
    // job (a network's workspace), otherwise by the first pass.
    template <std::size_t Features>
    struct workspace {
        static constexpr std::size_t per_rank = 1 + 2 * Features;
        std::vector<double> gathered;

        workspace() {
            int initialized = 0, finalized = 0;
            MPI_Initialized(&initialized);
            MPI_Finalized(&finalized);
            if (initialized && !finalized) size_for(mpi::size(Comm::get()));
        }
        void size_for(int ranks) {
            const std::size_t n = per_rank * static_cast<std::size_t>(ranks);
            if (gathered.size() != n) gathered.resize(n);
        }
    };

    // Gathers every rank's (count, mean, m2) per feature and combines them in rank order
    // (Chan et al.'s pairwise update, as PyTorch's batch_norm_gather_stats_with_counts),
    // so every rank computes the same bits. With one rank it leaves them as they are.
    template <std::size_t Features>
    static void combine_statistics(workspace<Features>& ws, double& count, std::span<double> mean,
                                   std::span<double> m2) {
        const MPI_Comm comm = Comm::get();
        const int ranks = mpi::size(comm);
        if (ranks == 1) return;
        ws.size_for(ranks);
        constexpr std::size_t k = workspace<Features>::per_rank;
        double* mine = ws.gathered.data() + k * static_cast<std::size_t>(mpi::rank(comm));
        mine[0] = count;
        std::copy(mean.begin(), mean.end(), mine + 1);
        std::copy(m2.begin(), m2.end(), mine + 1 + Features);
        detail::check(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ws.gathered.data(), static_cast<int>(k),
                                    MPI_DOUBLE, comm),
                      "MPI_Allgather");
        const double* first = ws.gathered.data();
        count = first[0];
        std::copy_n(first + 1, Features, mean.begin());
        std::copy_n(first + 1 + Features, Features, m2.begin());
        for (int r = 1; r < ranks; ++r) {
            const double* other = ws.gathered.data() + k * static_cast<std::size_t>(r);
            const double n_b = other[0];
            if (n_b == 0) continue;
            const double n_a = count, n = n_a + n_b;
            for (std::size_t j = 0; j < Features; ++j) {
                if (n_a == 0) {
                    mean[j] = other[1 + j];
                    m2[j] = other[1 + Features + j];
                    continue;
                }
                const double delta = other[1 + j] - mean[j];
                mean[j] += delta * n_b / n;
                m2[j] += other[1 + Features + j] + delta * delta * n_a * n_b / n;
            }
            count = n;
        }
    }

    // Sums the per-feature sums over the ranks (one MPI_Allreduce in place).
    template <std::size_t Features>
    static void sum_gradients(workspace<Features>&, std::span<double> sums) {
        const MPI_Comm comm = Comm::get();
        if (mpi::size(comm) == 1) return;
        detail::check(MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM, comm),
                      "MPI_Allreduce");
    }
};

// SyncBatchNorm with momentum and epsilon as std::ratio (as BatchNormWith), over Comm.
template <class Momentum, class Epsilon, class Comm = World>
struct SyncBatchNormWith : BatchNormWith<Momentum, Epsilon, SyncStatistics<Comm>> {};

// SyncBatchNorm with PyTorch's defaults: momentum 0.1, eps 1e-5, over MPI_COMM_WORLD.
struct SyncBatchNorm : SyncBatchNormWith<std::ratio<1, 10>, std::ratio<1, 100000>> {};

}  // namespace xgan::mpi
