// Checkpoints: exact resume (float and double, Adam and SGD), atomic and durable save
// (also across crashes and concurrent writers), bounded memory on load, and clear refusals
// of corrupt files, other architectures, scalar types and optimizers, and of states no
// training run produces (on load, and on save before the old file is touched).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xgan/xgan.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/io/paintings.hpp>

#include <support/memory_limit.hpp>

using namespace xgan;

namespace {
using G = Sequential<Dense<5, 16>, BatchNorm, ReLU, Dense<16, 15>>;
using D = Sequential<Dense<15, 16>, LeakyReLU, DropoutWithRate<3, 10>, Dense<16, 1>, Sigmoid>;
using Trainer = AdversarialTrainer<G, D>;

struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& name) : path(std::filesystem::temp_directory_path() / name) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

// Trains `steps` steps on sine paintings drawn from the trainer's own Rng, so the whole
// run is a function of the trainer's state.
template <class Tr>
void train(Tr& trainer, int steps) {
    matrix<typename Tr::value_type> real({8, 15});
    for (int i = 0; i < steps; ++i) {
        paintings::sine_works(real, trainer.rng());
        trainer.step(real);
    }
}

std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

template <class Tr>
bool same_state(const Tr& a, const Tr& b) {
    return a.generator() == b.generator() && a.discriminator() == b.discriminator() &&
           a.generator_state() == b.generator_state() && a.discriminator_state() == b.discriminator_state() &&
           a.rng() == b.rng() && a.steps() == b.steps();
}

// The files in a directory, by name.
std::set<std::string> files_in(const std::filesystem::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
    return names;
}

// Rewrites the checkpoint at `from` into `to` with libzip, after `change` has edited its
// arrays (so the zip checksums are right and only the values are wrong).
void rewrite(const std::filesystem::path& from, const std::filesystem::path& to,
             const std::function<void(npz::archive&)>& change) {
    npz::archive entries = npz::read(from);
    change(entries);
    npz::writer out;
    for (const auto& [name, a] : entries) out.add_encoded(name, npy::encode(a.dtype, a.shape, a.data.data(), a.data.size()));
    out.save(to);
}
template <class U>
void set_value(npy::array& a, std::size_t index, U value) {
    REQUIRE(a.data.size() >= (index + 1) * sizeof(U));
    std::memcpy(a.data.data() + index * sizeof(U), &value, sizeof(U));
}

// A zip archive written by hand, so that a test can hold in a file of about a megabyte an
// entry that inflates to a gigabyte (libzip would spend seconds deflating it).
struct raw_entry {
    std::string name;
    std::string data;           // as stored in the archive
    std::uint16_t method = 0;   // 0 stored, 8 deflated
    std::uint32_t crc = 0;
    std::uint32_t size = 0;     // inflated
};

raw_entry stored_entry(std::string name, const std::string& bytes) {
    const auto crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    return {std::move(name), bytes, 0, crc, static_cast<std::uint32_t>(bytes.size())};
}

// An entry holding `head` then `mib` MiB of zeros, deflated: `head` and one MiB of zeros
// are compressed with a full flush after each (so each piece decodes on its own), the
// zeros' piece is repeated `mib` times, and an empty final block ends the stream.
raw_entry deflated_zeros_entry(std::string name, const std::string& head, std::uint32_t mib) {
    const std::string zeros(std::size_t{1} << 20, '\0');
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    auto compress = [&](const std::string& in) {
        std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        REQUIRE(deflate(&z, Z_FULL_FLUSH) == Z_OK);
        REQUIRE(z.avail_in == 0);
        out.resize(out.size() - z.avail_out);
        return out;
    };
    std::string data = compress(head);
    const std::string zero_piece = compress(zeros);
    deflateEnd(&z);
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(head.data()), static_cast<uInt>(head.size()));
    const uLong zeros_crc = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(zeros.size()));
    for (std::uint32_t i = 0; i < mib; ++i) {
        data += zero_piece;
        crc = crc32_combine(crc, zeros_crc, static_cast<z_off_t>(zeros.size()));
    }
    data += std::string("\x03\x00", 2);  // an empty final block
    const std::uint64_t size = head.size() + (std::uint64_t{mib} << 20);
    REQUIRE(size < (std::uint64_t{1} << 32));
    return {std::move(name), std::move(data), 8, static_cast<std::uint32_t>(crc), static_cast<std::uint32_t>(size)};
}

std::string zip_of(const std::vector<raw_entry>& entries) {
    std::string out, directory;
    auto u16 = [](std::string& s, std::uint32_t v) { s += static_cast<char>(v & 0xff), s += static_cast<char>((v >> 8) & 0xff); };
    auto u32 = [&](std::string& s, std::uint32_t v) { u16(s, v & 0xffff), u16(s, v >> 16); };
    for (const raw_entry& e : entries) {
        const auto offset = static_cast<std::uint32_t>(out.size());
        auto common = [&](std::string& s) {  // version needed .. name length
            u16(s, 20), u16(s, 0), u16(s, e.method), u16(s, 0), u16(s, 0x21);  // 1 Jan 1980
            u32(s, e.crc), u32(s, static_cast<std::uint32_t>(e.data.size())), u32(s, e.size);
            u16(s, static_cast<std::uint32_t>(e.name.size())), u16(s, 0);
        };
        u32(out, 0x04034b50);
        common(out);
        out += e.name + e.data;
        u32(directory, 0x02014b50);
        u16(directory, 20);
        common(directory);
        u16(directory, 0), u16(directory, 0), u16(directory, 0), u32(directory, 0), u32(directory, offset);
        directory += e.name;
    }
    const auto directory_offset = static_cast<std::uint32_t>(out.size());
    out += directory;
    u32(out, 0x06054b50), u16(out, 0), u16(out, 0);
    u16(out, static_cast<std::uint32_t>(entries.size())), u16(out, static_cast<std::uint32_t>(entries.size()));
    u32(out, static_cast<std::uint32_t>(directory.size())), u32(out, directory_offset), u16(out, 0);
    return out;
}

// A checkpoint's entries as stored zip entries, re-encoded from what npz::read gives.
std::vector<raw_entry> stored_entries(const std::filesystem::path& checkpoint, const std::string& except = "") {
    std::vector<raw_entry> entries;
    for (const auto& [name, a] : npz::read(checkpoint))
        if (name != except)
            entries.push_back(stored_entry(name + ".npy", npy::encode(a.dtype, a.shape, a.data.data(), a.data.size())));
    return entries;
}

// The .npy header alone of an array of `dtype` and `shape`.
std::string npy_header(std::string_view dtype, const std::vector<std::size_t>& shape) {
    const char none = 0;
    return npy::encode(dtype, shape, &none, 0);
}
}  // namespace

TEST_CASE("resuming from a checkpoint replays an uninterrupted run bit for bit", "[checkpoint]") {
    temp_dir dir("xgan_test_resume");
    Trainer uninterrupted({.seed = 11});
    train(uninterrupted, 60);

    Trainer first({.seed = 11});
    train(first, 25);
    save_checkpoint(first, dir.path / "run.npz");

    Trainer resumed({.seed = 999});  // another seed: everything must come from the file
    load_checkpoint(resumed, dir.path / "run.npz");
    CHECK(same_state(first, resumed));
    train(resumed, 35);
    CHECK(resumed.steps() == 60);
    CHECK(same_state(uninterrupted, resumed));
}

TEST_CASE("a checkpoint is an .npz of PyTorch state_dict names and layouts", "[checkpoint]") {
    temp_dir dir("xgan_test_layout");
    Trainer trainer({.seed = 2});
    save_checkpoint(trainer, dir.path / "c.npz");
    const auto entries = npz::read(dir.path / "c.npz");
    REQUIRE(entries.count("generator.0.weight"));
    CHECK(entries.at("generator.0.weight").shape == std::vector<std::size_t>{16, 5});
    CHECK(entries.at("generator.0.weight").dtype == "<f4");
    CHECK(entries.at("generator.1.running_var").shape == std::vector<std::size_t>{16});
    CHECK(entries.at("discriminator.3.bias").shape == std::vector<std::size_t>{1});
    CHECK(entries.at("optimizer.generator.exp_avg").shape == std::vector<std::size_t>{G::parameter_count});
    CHECK(entries.count("rng.mt19937_64"));
    // The weight bytes are the network's, row-major {out, in}.
    const auto& w = entries.at("generator.0.weight");
    CHECK(std::memcmp(w.data.data(), trainer.generator().parameters().data(), w.data.size()) == 0);
}

TEST_CASE("saving is atomic: a failure or a crash before the rename keeps the old file", "[checkpoint]") {
    temp_dir dir("xgan_test_atomic");
    const auto path = dir.path / "run.npz";
    Trainer trainer({.seed = 3});
    train(trainer, 5);
    save_checkpoint(trainer, path);
    const std::string saved = read_bytes(path);
    train(trainer, 5);

    SECTION("an exception during the save") {
        CHECK_THROWS_WITH(save_checkpoint(trainer, path, {.before_rename = [] { throw std::runtime_error("disk gone"); }}),
                          "disk gone");
        CHECK(read_bytes(path) == saved);
        CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    }
    SECTION("the process dies during the save") {
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            try {
                save_checkpoint(trainer, path, {.before_rename = [] { _exit(42); }});
            } catch (...) {
            }
            _exit(0);  // not reached when the hook runs
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 42);
        CHECK(read_bytes(path) == saved);
        Trainer restored({.seed = 0});
        load_checkpoint(restored, path);
        CHECK(restored.steps() == 5);
    }
    SECTION("the directory does not exist") {
        CHECK_THROWS_AS(save_checkpoint(trainer, dir.path / "missing" / "run.npz"), checkpoint_error);
    }
}

TEST_CASE("a bad checkpoint is refused with its name and fault, changing nothing", "[checkpoint][errors]") {
    temp_dir dir("xgan_test_refuse");
    const auto path = dir.path / "run.npz";
    Trainer source({.seed = 4});
    train(source, 3);
    save_checkpoint(source, path);
    const std::string bytes = read_bytes(path);

    Trainer target({.seed = 5});
    train(target, 2);
    const Trainer before = target;
    auto refused = [&](const std::filesystem::path& file, const std::string& fault) {
        INFO(fault);
        CHECK_THROWS_WITH(load_checkpoint(target, file), Catch::Contains(file.string()) && Catch::Contains(fault));
        CHECK(same_state(target, before));
    };

    refused(dir.path / "absent.npz", "cannot open");
    write_bytes(dir.path / "empty.npz", "");
    refused(dir.path / "empty.npz", "not a readable .npz");
    for (std::size_t cut : {bytes.size() / 10, bytes.size() / 2, bytes.size() - 30}) {
        write_bytes(dir.path / "cut.npz", bytes.substr(0, cut));
        refused(dir.path / "cut.npz", "");
    }
    // Damage anywhere in the file: the zip checksums and structure checks catch it.
    for (std::size_t at = 0; at < bytes.size(); at += bytes.size() / 97 + 1) {
        std::string damaged = bytes;
        damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
        write_bytes(dir.path / "damaged.npz", damaged);
        INFO("byte " << at << " of " << bytes.size());
        try {
            load_checkpoint(target, dir.path / "damaged.npz");
            // Some bytes (zip comment, padding, timestamps) carry nothing: then the state loaded
            // must be exactly the saved one.
            CHECK(same_state(target, source));
            target = before;  // back to the known state for the next round
        } catch (const checkpoint_error& e) {
            CHECK_THAT(e.what(), Catch::Contains("damaged.npz"));
            CHECK(same_state(target, before));
        }
    }
}

TEST_CASE("a checkpoint of another architecture, scalar or optimizer is refused naming both", "[checkpoint][errors]") {
    temp_dir dir("xgan_test_other");
    const auto path = dir.path / "run.npz";
    save_checkpoint(Trainer({.seed = 1}), path);

    using WiderG = Sequential<Dense<5, 32>, BatchNorm, ReLU, Dense<32, 15>>;
    AdversarialTrainer<WiderG, D> wider;
    CHECK_THROWS_WITH(load_checkpoint(wider, path),
                      Catch::Contains("the checkpoint's generator is Sequential(Dense(5, 16), BatchNorm(16") &&
                          Catch::Contains("this program's generator is Sequential(Dense(5, 32)"));

    AdversarialTrainer<rebind_scalar_t<G, double>, rebind_scalar_t<D, double>> in_double;
    CHECK_THROWS_WITH(load_checkpoint(in_double, path), Catch::Contains("holds float32 weights") &&
                                                            Catch::Contains("trains in float64"));

    AdversarialTrainer<G, D, SGD> with_sgd;
    CHECK_THROWS_WITH(load_checkpoint(with_sgd, path),
                      Catch::Contains("the checkpoint's generator optimizer is Adam but this program's is SGD"));
}

TEST_CASE("a checkpoint holding NaN is refused", "[checkpoint][errors]") {
    temp_dir dir("xgan_test_nan");
    save_checkpoint(Trainer({.seed = 6}), dir.path / "good.npz");
    rewrite(dir.path / "good.npz", dir.path / "nan.npz", [](npz::archive& entries) {
        set_value(entries.at("discriminator.0.weight"), 7, std::numeric_limits<float>::quiet_NaN());
    });
    Trainer target;
    const Trainer before = target;
    CHECK_THROWS_WITH(load_checkpoint(target, dir.path / "nan.npz"),
                      Catch::Contains("entry 'discriminator.0.weight' holds nan at index 7"));
    CHECK(same_state(target, before));
}

TEST_CASE("values no training run produces are refused on load, naming the entry and the value",
          "[checkpoint][errors]") {
    temp_dir dir("xgan_test_impossible");
    Trainer source({.seed = 12});
    train(source, 3);
    save_checkpoint(source, dir.path / "good.npz");
    Trainer target({.seed = 13});
    train(target, 2);
    const Trainer before = target;
    auto refused = [&](const std::function<void(npz::archive&)>& change, const std::string& fault) {
        INFO(fault);
        rewrite(dir.path / "good.npz", dir.path / "bad.npz", change);
        CHECK_THROWS_WITH(load_checkpoint(target, dir.path / "bad.npz"),
                          Catch::Contains("bad.npz: ") && Catch::Contains(fault));
        CHECK(same_state(target, before));
    };
    refused([](npz::archive& e) { set_value(e.at("optimizer.generator.exp_avg_sq"), 12, -0.5f); },
            "optimizer.generator.exp_avg_sq[12] is -0.5 (a second moment cannot be negative)");
    refused([](npz::archive& e) { set_value(e.at("generator.1.running_var"), 3, -0.25f); },
            "generator.1.running_var[3] is -0.25 (a variance cannot be negative)");
    // The engine: all 312 words zero, or only word 0's low 31 bits set (which the twist
    // never reads), draws nothing but zeros; the position is at most 312.
    refused([](npz::archive& e) {
                for (std::size_t i = 0; i < 312; ++i) set_value(e.at("rng.mt19937_64"), i, std::uint64_t{0});
            },
            "rng.mt19937_64: its 19937 bits of state");
    refused([](npz::archive& e) {
                for (std::size_t i = 0; i < 312; ++i) set_value(e.at("rng.mt19937_64"), i, std::uint64_t{0});
                set_value(e.at("rng.mt19937_64"), 0, (std::uint64_t{1} << 31) - 1);
            },
            "rng.mt19937_64: its 19937 bits of state");
    refused([](npz::archive& e) { set_value(e.at("rng.mt19937_64"), 312, std::uint64_t{313}); },
            "entry 'rng.mt19937_64' holds position 313 at index 312, past the 312 state words");
    // One bit of word 0 that the twist does read makes a good engine: loaded as it is.
    rewrite(dir.path / "good.npz", dir.path / "top_bit.npz", [](npz::archive& e) {
        for (std::size_t i = 0; i < 312; ++i) set_value(e.at("rng.mt19937_64"), i, std::uint64_t{0});
        set_value(e.at("rng.mt19937_64"), 0, std::uint64_t{1} << 31);
    });
    load_checkpoint(target, dir.path / "top_bit.npz");
    CHECK(target.generator() == source.generator());
}

TEST_CASE("a save that load would refuse throws before touching the old file", "[checkpoint][errors]") {
    temp_dir dir("xgan_test_refuse_save");
    const auto path = dir.path / "run.npz";
    Trainer trainer({.seed = 14});
    train(trainer, 3);
    save_checkpoint(trainer, path);
    const std::string saved = read_bytes(path);
    auto refused = [&](const std::function<void(Trainer&)>& damage, const std::string& fault) {
        INFO(fault);
        Trainer broken = trainer;
        damage(broken);
        CHECK_THROWS_WITH(save_checkpoint(broken, path),
                          Catch::Contains("run.npz not written") && Catch::Contains(fault));
        CHECK(read_bytes(path) == saved);
        CHECK(files_in(dir.path) == std::set<std::string>{"run.npz"});
    };
    refused([](Trainer& t) { t.generator().parameters()[4] = std::numeric_limits<float>::infinity(); },
            "entry 'generator.0.weight' holds inf at index 4");
    refused([](Trainer& t) { t.discriminator().parameters()[7] = std::numeric_limits<float>::quiet_NaN(); },
            "entry 'discriminator.0.weight' holds nan at index 7");
    refused([](Trainer& t) { t.discriminator_state().named_tensors()[1].second[12] = -0.5f; },
            "optimizer.discriminator.exp_avg_sq[12] is -0.5 (a second moment cannot be negative)");
    refused([](Trainer& t) { t.generator().buffers()[G::layer_type<1>::input_size + 3] = -0.25f; },
            "generator.1.running_var[3] is -0.25 (a variance cannot be negative)");
    refused([](Trainer& t) {
                std::stringstream zeros;
                for (int i = 0; i < 312; ++i) zeros << "0 ";
                zeros << "312";
                zeros >> t.rng().engine();
                REQUIRE(zeros);
            },
            "rng.mt19937_64: its 19937 bits of state");
}

TEST_CASE("a directory as the checkpoint path is a checkpoint_error", "[checkpoint][errors]") {
    temp_dir dir("xgan_test_directory");
    std::filesystem::create_directories(dir.path / "run.npz");
    Trainer trainer({.seed = 15});
    const Trainer before = trainer;
    CHECK_THROWS_AS(save_checkpoint(trainer, dir.path / "run.npz"), checkpoint_error);
    CHECK_THROWS_AS(save_checkpoint(trainer, dir.path), checkpoint_error);
    CHECK_THROWS_WITH(load_checkpoint(trainer, dir.path / "run.npz"), Catch::Contains("is a directory"));
    CHECK(same_state(trainer, before));
    CHECK(files_in(dir.path) == std::set<std::string>{"run.npz"});
}

TEST_CASE("two processes saving to one path in a loop leave a loadable file and no temporary files", "[checkpoint]") {
    temp_dir dir("xgan_test_concurrent");
    const auto path = dir.path / "run.npz";
    Trainer a({.seed = 16}), b({.seed = 17});
    train(b, 2);
    save_checkpoint(a, path);
    std::vector<pid_t> writers;
    for (const Trainer* trainer : {&a, &b}) {
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            int status = 0;
            try {
                // A pause before each rename (a slow disk) makes the two saves overlap.
                for (int i = 0; i < 30; ++i) save_checkpoint(*trainer, path, {.before_rename = [] { usleep(1000); }});
            } catch (...) {
                status = 1;
            }
            _exit(status);
        }
        writers.push_back(child);
    }
    // Meanwhile every load gives one of the two states, whole.
    int loads = 0, failures = 0;
    for (int running = 2; running > 0;) {
        Trainer reader;
        try {
            load_checkpoint(reader, path);
            if (!same_state(reader, a) && !same_state(reader, b)) ++failures;
        } catch (const checkpoint_error& e) {
            UNSCOPED_INFO(e.what());
            ++failures;
        }
        ++loads;
        running = 0;
        for (pid_t& w : writers) {
            int status = 0;
            if (w > 0 && waitpid(w, &status, WNOHANG) == w) {
                CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
                w = 0;
            }
            running += w > 0;
        }
    }
    INFO(loads << " loads");
    CHECK(failures == 0);
    CHECK(files_in(dir.path) == std::set<std::string>{"run.npz"});
    Trainer last;
    load_checkpoint(last, path);
    CHECK((same_state(last, a) || same_state(last, b)));
}

TEST_CASE("saves killed at any point leave the old file and at most their own temporary, which the next save removes",
          "[checkpoint]") {
    temp_dir dir("xgan_test_killed");
    const auto path = dir.path / "run.npz";
    Trainer trainer({.seed = 18});
    train(trainer, 2);
    save_checkpoint(trainer, path);
    Trainer later = trainer;
    train(later, 1);
    for (int round = 0; round < 8; ++round) {
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            for (int i = 0; i < 100000; ++i) save_checkpoint(later, path);
            _exit(0);
        }
        usleep(static_cast<useconds_t>(3000 + 2500 * round));  // kills at different points of a save
        kill(child, SIGKILL);
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        // The file at `path` is always a whole checkpoint, the old state or the new.
        Trainer loaded;
        load_checkpoint(loaded, path);
        CHECK((same_state(loaded, trainer) || same_state(loaded, later)));
        INFO("round " << round);
        CHECK(files_in(dir.path).size() <= 2);  // run.npz and perhaps the killed save's own
    }
    // A crash right before the rename, then a save that completes: no file is left over.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        save_checkpoint(trainer, path, {.before_rename = [] { _exit(42); }});
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 42));
    CHECK(files_in(dir.path).size() == 2);
    save_checkpoint(trainer, path);
    CHECK(files_in(dir.path) == std::set<std::string>{"run.npz"});
}

TEST_CASE("loading reads only the entries it knows: a gigabyte unknown entry costs no memory", "[checkpoint][memory]") {
    temp_dir dir("xgan_test_unknown_entry");
    Trainer source({.seed = 19});
    train(source, 2);
    save_checkpoint(source, dir.path / "good.npz");
    std::vector<raw_entry> entries = stored_entries(dir.path / "good.npz");
    // A valid .npy of 2^28 floats (1 GiB), deflated to about a megabyte.
    entries.push_back(deflated_zeros_entry("extra.huge.npy", npy_header("<f4", {std::size_t{1} << 28}), 1024));
    write_bytes(dir.path / "huge.npz", zip_of(entries));
    REQUIRE(std::filesystem::file_size(dir.path / "huge.npz") < (std::size_t{4} << 20));

    const auto run = tests::run_with_memory_limit(std::size_t{256} << 20, [&] {
        Trainer target({.seed = 20});
        load_checkpoint(target, dir.path / "huge.npz");
        if (!same_state(target, source)) throw std::runtime_error("loaded another state");
    });
    INFO(run.exception_message);
    REQUIRE(run.exited);
    CHECK_FALSE(run.threw);
    CHECK(run.peak_growth_bytes < (std::size_t{32} << 20));
    // npz::read, which reads every entry, refuses it by its claimed total before inflating any.
    const auto all = tests::run_with_memory_limit(std::size_t{256} << 20, [&] { npz::read(dir.path / "huge.npz"); });
    REQUIRE(all.exited);
    CHECK_THAT(all.exception_message, Catch::Contains("claim more than the 1073741824 bytes"));
    CHECK(all.peak_growth_bytes < (std::size_t{32} << 20));
}

TEST_CASE("an entry claiming another size than expected is refused before its data is read", "[checkpoint][memory]") {
    temp_dir dir("xgan_test_claimed_size");
    save_checkpoint(Trainer({.seed = 21}), dir.path / "good.npz");
    // generator.0.weight with the right header, (16, 5) floats, but a gigabyte of data.
    std::vector<raw_entry> entries = stored_entries(dir.path / "good.npz", "generator.0.weight");
    const std::string header = npy_header("<f4", {16, 5});
    entries.push_back(deflated_zeros_entry("generator.0.weight.npy", header, 1024));
    write_bytes(dir.path / "claims.npz", zip_of(entries));

    const auto run = tests::run_with_memory_limit(std::size_t{256} << 20, [&] {
        Trainer target({.seed = 22});
        const Trainer before = target;
        try {
            load_checkpoint(target, dir.path / "claims.npz");
        } catch (...) {
            if (!same_state(target, before)) throw std::runtime_error("the refusal changed the trainer");
            throw;
        }
    });
    REQUIRE(run.exited);
    CHECK_FALSE(run.bad_alloc);
    CHECK_THAT(run.exception_message,
               Catch::Contains("claims.npz: entry 'generator.0.weight' claims " +
                               std::to_string(header.size() + (std::size_t{1} << 30)) + " bytes, but a <f4 (16, 5) array is " +
                               std::to_string(header.size() + 16 * 5 * 4) + " with its header"));
    CHECK(run.peak_growth_bytes < (std::size_t{32} << 20));
}

// Resumes `Tr` from a checkpoint after `first` steps and checks that `total` steps give
// the uninterrupted run's state bit for bit.
template <class Tr>
void check_resume(const typename Tr::Options& options, const std::string& name) {
    temp_dir dir(name);
    Tr uninterrupted(options);
    train(uninterrupted, 30);
    Tr first(options);
    train(first, 12);
    save_checkpoint(first, dir.path / "run.npz");
    auto other = options;
    other.seed = 999;
    Tr resumed(other);
    load_checkpoint(resumed, dir.path / "run.npz");
    CHECK(same_state(first, resumed));
    train(resumed, 18);
    CHECK(same_state(uninterrupted, resumed));
}

TEST_CASE("checkpoints resume SGD with momentum and double networks bit for bit", "[checkpoint]") {
    using SgdTrainer = AdversarialTrainer<G, D, SGD, SGD>;
    check_resume<SgdTrainer>({.generator_optimizer = SGD{.lr = 0.02, .momentum = 0.9},
                              .discriminator_optimizer = SGD{.lr = 0.01, .momentum = 0.5, .nesterov = true},
                              .seed = 23},
                             "xgan_test_resume_sgd");
    using DoubleTrainer = AdversarialTrainer<rebind_scalar_t<G, double>, rebind_scalar_t<D, double>>;
    check_resume<DoubleTrainer>({.seed = 24}, "xgan_test_resume_double");
    using DoubleSgdTrainer = AdversarialTrainer<rebind_scalar_t<G, double>, rebind_scalar_t<D, double>, Adam, SGD>;
    check_resume<DoubleSgdTrainer>({.discriminator_optimizer = SGD{.lr = 0.01, .momentum = 0.9}, .seed = 25},
                                   "xgan_test_resume_double_sgd");
}
