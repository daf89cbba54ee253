// A small data-parallel run for the fault tests (tests/distributed/CMakeLists.txt), each
// rank wrapped in mpi::run and saving a checkpoint after every step:
//   mpi_faults throw FOLDER    rank 1 reads a batch holding NaN at step 3 (bad data)
//   mpi_faults kill FOLDER     rank 1 is killed (SIGKILL) at step 3
//   mpi_faults resume FOLDER   resumes FOLDER/checkpoint.npz, trains 2 more steps
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>

#include <xgan/distributed/mpi.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/xgan.hpp>

using namespace xgan;

namespace {
using Generator = Sequential<Dense<5, 16>, LeakyReLU, Dense<16, 15>>;
using Discriminator = Sequential<Dense<15, 16>, LeakyReLU, Dense<16, 1>, Sigmoid>;
using Trainer = AdversarialTrainer<Generator, Discriminator, mpi::Allreduce<Adam>, mpi::Allreduce<Adam>>;

int train(const std::string& mode, const std::filesystem::path& folder) {
    const int me = mpi::rank();
    const auto checkpoint = folder / "checkpoint.npz";
    Trainer trainer({.seed = 2});
    std::uint64_t last = 5;
    if (mode == "resume") {
        mpi::load_checkpoint(trainer, checkpoint);
        if (me == 0) std::printf("resumed %s at step %llu\n", checkpoint.string().c_str(),
                                 static_cast<unsigned long long>(trainer.steps()));
        last = trainer.steps() + 2;
    } else {
        if (mode != "throw" && mode != "kill") throw std::invalid_argument("unknown mode '" + mode + "'");
        if (me == 0) {
            std::filesystem::remove_all(folder);
            std::filesystem::create_directories(folder);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        mpi::prepare(trainer, 2);
    }
    Rng data(50 + static_cast<std::uint64_t>(me));
    matrix<float> real({8, 15});
    while (trainer.steps() < last) {
        paintings::artist_works(real, data);
        if (me == 1 && trainer.steps() + 1 == 3) {
            if (mode == "throw") real(0, 0) = std::numeric_limits<float>::quiet_NaN();
            if (mode == "kill") std::raise(SIGKILL);
        }
        trainer.step(real);
        mpi::save_checkpoint(trainer, checkpoint);
    }
    if (me == 0) std::printf("trained to step %llu\n", static_cast<unsigned long long>(trainer.steps()));
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    mpi::Environment environment(argc, argv);
    if (argc != 3) {
        std::fprintf(stderr, "usage: mpi_faults throw|kill|resume FOLDER\n");
        return 2;
    }
    return mpi::run([&] { return train(argv[1], argv[2]); });
}
