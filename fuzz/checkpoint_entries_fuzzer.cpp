// libFuzzer target for what lies behind the zip layer of a checkpoint: the .npy decoder,
// npz::reader's size checks and load_checkpoint's validation of the values.
//
// checkpoint_fuzzer mutates whole .npz files, and the zip checksums refuse nearly every
// mutation before an array is decoded. This target reads its input as a list of entries,
//   [1 byte: name length n][n bytes: name][4 bytes, little-endian: size m][m bytes: .npy]...
// (a length past the end takes what is left), and wraps them in a valid zip
// (npz::writer, checksums right), so mutations of names, .npy headers and values reach
// the reader and the checks. The seeds (corpus/checkpoint_entries/) are the entries of
// real checkpoints of the small trainer below, written by
// `checkpoint_entries_fuzzer --write-seeds DIR`.
//
// Any input must be loaded or refused with xgan::checkpoint_error; a refusal must leave
// the trainer exactly as it was; and a state that loads must be one save_checkpoint would
// write (the two run the same checks). A crash, a sanitizer report, a leak, a hang or
// another exception type is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checkpoint_trainer.hpp"

namespace {

using fuzz::Trainer;
using fuzz::same;

// The input's entries, in order.
std::vector<std::pair<std::string, std::string>> decode_entries(std::string_view in) {
    std::vector<std::pair<std::string, std::string>> entries;
    while (!in.empty()) {
        const std::size_t name_size = std::min<std::size_t>(static_cast<unsigned char>(in[0]), in.size() - 1);
        std::string name(in.substr(1, name_size));
        in.remove_prefix(1 + name_size);
        std::uint32_t size = 0;
        for (std::size_t i = 0; i < 4 && i < in.size(); ++i)
            size |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
        in.remove_prefix(std::min<std::size_t>(4, in.size()));
        const std::size_t take = std::min<std::size_t>(size, in.size());
        entries.emplace_back(std::move(name), std::string(in.substr(0, take)));
        in.remove_prefix(take);
    }
    return entries;
}

std::string encode_entries(const xgan::npz::archive& arrays) {
    std::string out;
    for (const auto& [name, a] : arrays) {
        const std::string npy = xgan::npy::encode(a.dtype, a.shape, a.data.data(), a.data.size());
        out += static_cast<char>(name.size());
        out += name;
        for (int i = 0; i < 4; ++i) out += static_cast<char>((npy.size() >> (8 * i)) & 0xff);
        out += npy;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Trainer pristine({.seed = 1});
    const auto entries = decode_entries(std::string_view(reinterpret_cast<const char*>(data), size));
    xgan::npz::writer out;
    for (const auto& [name, npy] : entries) {
        try {  // each entry as one .npy array
            const auto array = xgan::npy::decode(npy, "<fuzz>");
            if (array.data.size() != array.count() * array.item_size()) std::abort();
        } catch (const xgan::checkpoint_error&) {
        }
        out.add_encoded(name, npy);
    }
    std::string archive;
    try {
        archive = out.bytes();
    } catch (const xgan::checkpoint_error&) {
        return 0;  // libzip refused an entry name (empty, or twice)
    }

    Trainer trainer = pristine;
    try {
        xgan::load_checkpoint(trainer, xgan::npz::reader(archive, "<fuzz>"));
    } catch (const xgan::checkpoint_error&) {
        if (!same(trainer, pristine)) {
            std::fprintf(stderr, "checkpoint_entries_fuzzer: a rejected checkpoint changed the trainer\n");
            std::abort();
        }
        return 0;
    }
    // Loaded: save_checkpoint's checks must pass on it too.
    const std::string fault =
        xgan::detail::state_fault(trainer.generator(), trainer.discriminator(), trainer.generator_state(),
                                  trainer.discriminator_state(), trainer.rng().engine());
    if (!fault.empty()) {
        std::fprintf(stderr, "checkpoint_entries_fuzzer: loaded a state save_checkpoint refuses: %s\n", fault.c_str());
        std::abort();
    }
    return 0;
}

// Writes the seed corpus: the entries of checkpoints after 0 and 3 steps, and of the
// latter with an extra entry the loader does not know.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    for (int i = 1; i + 1 < *argc; ++i) {
        if (std::strcmp((*argv)[i], "--write-seeds") != 0) continue;
        const std::string dir = (*argv)[i + 1];
        const std::string scratch = dir + "/scratch.npz";
        auto write = [&](const Trainer& trainer, const std::string& name, bool extra) {
            xgan::save_checkpoint(trainer, scratch);
            auto arrays = xgan::npz::read(scratch);
            if (extra) {
                const float values[2] = {1.5f, -2.0f};
                arrays.emplace("extra.unknown", xgan::npy::decode(xgan::npy::encode("<f4", {2}, values, 8), "seed"));
            }
            std::ofstream(dir + "/" + name, std::ios::binary) << encode_entries(arrays);
        };
        Trainer trainer({.seed = 1});
        write(trainer, "fresh.entries", false);
        xgan::matrix<float> real({4, 2});
        for (int s = 0; s < 3; ++s) {
            trainer.rng().fill_normal(std::span<float>(real.data(), real.size()));
            trainer.step(real);
        }
        write(trainer, "trained.entries", false);
        write(trainer, "trained-extra.entries", true);
        std::remove(scratch.c_str());
        std::exit(0);
    }
    return 0;
}
