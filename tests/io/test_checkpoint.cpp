// Checkpoints: exact resume, atomic save (also across a crash), and clear refusals of
// corrupt files, other architectures, scalar types and optimizers.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include <xgan/xgan.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/io/paintings.hpp>

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
    matrix<float> real({8, 15});
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
    Trainer trainer({.seed = 6});
    trainer.discriminator().parameters()[7] = std::numeric_limits<float>::quiet_NaN();
    save_checkpoint(trainer, dir.path / "nan.npz");
    Trainer target;
    CHECK_THROWS_WITH(load_checkpoint(target, dir.path / "nan.npz"),
                      Catch::Contains("entry 'discriminator.0.weight' holds nan at index 7"));
}
