// libFuzzer target for xgan's checkpoint reader: npy::decode on the raw bytes, then
// npz::reader and load_checkpoint's validation, then npz::read_memory (every entry).
//
// Any byte string must be either loaded or rejected with xgan::checkpoint_error; a
// rejection must leave the trainer exactly as it was. A crash, a sanitizer report, a
// leak, a hang or another exception type is a bug. The seeds (corpus/checkpoint/) are
// real checkpoints of fuzz::Trainer (checkpoint_trainer.hpp), written by `checkpoint_fuzzer --write-seeds DIR`.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "checkpoint_trainer.hpp"

using fuzz::Trainer;
using fuzz::same;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Trainer pristine({.seed = 1});
    Trainer trainer = pristine;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {  // the bytes as one .npy array
        const auto array = xgan::npy::decode(bytes, "<fuzz>");
        if (array.data.size() != array.count() * array.item_size()) std::abort();
    } catch (const xgan::checkpoint_error&) {
    }
    try {
        xgan::load_checkpoint(trainer, xgan::npz::reader(bytes, "<fuzz>"));
    } catch (const xgan::checkpoint_error&) {
        if (!same(trainer, pristine)) {
            std::fprintf(stderr, "checkpoint_fuzzer: a rejected checkpoint changed the trainer\n");
            std::abort();
        }
    }
    try {  // every entry, as npz::read_memory reads them (bounded in all)
        const auto entries = xgan::npz::read_memory(bytes, "<fuzz>");
        for (const auto& [name, array] : entries)
            if (array.data.size() != array.count() * array.item_size()) std::abort();
    } catch (const xgan::checkpoint_error&) {
    }
    return 0;
}

// Writes the seed corpus: checkpoints after 0 and 3 steps.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    for (int i = 1; i + 1 < *argc; ++i) {
        if (std::strcmp((*argv)[i], "--write-seeds") != 0) continue;
        const std::string dir = (*argv)[i + 1];
        Trainer trainer({.seed = 1});
        xgan::save_checkpoint(trainer, dir + "/fresh.npz");
        xgan::matrix<float> real({4, 2});
        for (int s = 0; s < 3; ++s) {
            trainer.rng().fill_normal(std::span<float>(real.data(), real.size()));
            trainer.step(real);
        }
        xgan::save_checkpoint(trainer, dir + "/trained.npz");
        std::exit(0);
    }
    return 0;
}
