// Writes the headers that export_speed times: the painting generator (Example 01) and the
// DCGAN generator (Example 04), from fixed seeds (xgan's initialisation, then inference
// mode: speed does not depend on training).
//
//   xgan_export_headers <folder>
#include <cstdio>
#include <filesystem>
#include <string>

#include <xgan/io/export_header.hpp>
#include <xgan/xgan.hpp>

#include "export_networks.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: xgan_export_headers <folder>\n");
        return 2;
    }
    const std::string folder = argv[1];
    std::filesystem::create_directories(folder);
    xgan::export_options options;
    options.namespace_name = "painting";
    xgan::export_header(export_bench::Painting(1), folder + "/painting.hpp", options);
    options.namespace_name = "dcgan";
    xgan::export_header(export_bench::Dcgan(1), folder + "/dcgan.hpp", options);
}
