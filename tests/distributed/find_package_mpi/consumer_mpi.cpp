// Built against an installed xgan through find_package(xgan COMPONENTS mpi), run by
// mpiexec with one rank: the header, MPI's headers and library all come from the package.
#include <cstdio>

#include <xgan/distributed/mpi.hpp>

int main(int argc, char** argv) {
    xgan::mpi::Environment environment(argc, argv);
    const bool ok = environment.size() == 1 && environment.rank() == 0 &&
                    xgan::mpi::rank_seed(1, 0) != xgan::mpi::rank_seed(1, 1);
    std::printf("xgan::mpi consumer: %d rank(s)%s\n", environment.size(), ok ? "" : ", unexpected");
    return ok ? 0 : 1;
}
