// A folder that every rank of an MPI test names alike: rank 0 makes it, empty, under the
// system's temporary folder, and broadcasts its path (a checkpoint test's folder).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <mpi.h>
#include <unistd.h>

#include <xgan/distributed/mpi.hpp>

namespace xgan_test {

// <temporary folder>/xgan_test_<name>_<rank 0's process id>, on every rank.
inline std::filesystem::path shared_folder(const std::string& name) {
    std::string path;
    if (xgan::mpi::rank() == 0) {
        path = (std::filesystem::temp_directory_path() / ("xgan_test_" + name + "_" + std::to_string(::getpid())))
                   .string();
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    std::uint64_t length = path.size();
    MPI_Bcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    path.resize(length);
    MPI_Bcast(path.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
    return path;
}

}  // namespace xgan_test
