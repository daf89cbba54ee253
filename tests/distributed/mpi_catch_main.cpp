// Catch2's main for the MPI tests: MPI starts before the tests and ends after them, and
// the program fails on every rank when a test failed on any (each rank prints its own
// failures). Compiled apart, as tests/catch_main.cpp is: Catch2's implementation is not
// held to the suite's -Werror (g++ 12 warns inside <regex> at -O1 with sanitizers).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <xgan/distributed/mpi.hpp>

int main(int argc, char** argv) {
    xgan::mpi::Environment environment(argc, argv);
    Catch::Session session;
    if (const int error = session.applyCommandLine(argc, argv)) return error;
    const int failed = session.run();
    int mine = failed == 0 ? 1 : 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all == 1 ? 0 : 1;
}
