// Writes a checkpoint of a small trained GAN and, beside it, a case file holding noise z,
// G(z) and D(G(z)) computed by xgan in inference mode. tests/io/torch_interop.py loads
// the checkpoint into PyTorch modules, checks it computes the same numbers, and writes
// modified weights back for this program's --check mode to load.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include <xgan/xgan.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/io/paintings.hpp>

using namespace xgan;
using G = Sequential<Dense<4, 8>, BatchNorm, LeakyReLU, Dense<8, 6>, Tanh>;
using D = Sequential<Dense<6, 8>, LeakyReLU, Dropout, Dense<8, 1>, Sigmoid>;
using Trainer = AdversarialTrainer<G, D>;

int main(int argc, char** argv) {
    if (argc != 4 || (std::strcmp(argv[1], "--write") != 0 && std::strcmp(argv[1], "--check") != 0)) {
        std::fprintf(stderr, "usage: interop_case --write|--check CHECKPOINT CASE\n");
        return 2;
    }
    const std::string checkpoint = argv[2], case_file = argv[3];
    Trainer trainer({.seed = 5});
    if (std::strcmp(argv[1], "--write") == 0) {
        matrix<float> real({16, 6});
        for (int i = 0; i < 30; ++i) {
            paintings::sine_works(real, trainer.rng());
            trainer.step(real);
        }
        save_checkpoint(trainer, checkpoint);
    } else {
        load_checkpoint(trainer, checkpoint);  // as PyTorch wrote it
    }
    matrix<float> z({5, 4});
    Rng(9).fill_normal(std::span<float>(z.data(), z.size()));
    trainer.generator().set_mode(Mode::inference);
    trainer.discriminator().set_mode(Mode::inference);
    const matrix<float> fake = trainer.generator().forward(z);
    const matrix<float> score = trainer.discriminator().forward(fake);
    if (std::strcmp(argv[1], "--write") == 0) {
        npz::writer out;
        out.add("z", {5, 4}, z.data(), z.size());
        out.add("fake", {5, 6}, fake.data(), fake.size());
        out.add("score", {5, 1}, score.data(), score.size());
        out.save(case_file);
        return 0;
    }
    // --check: PyTorch stored its own outputs for the weights it wrote.
    const auto expected = npz::read(case_file);
    const auto& torch_fake = expected.at("torch_fake");
    double worst = 0;
    for (std::size_t i = 0; i < fake.size(); ++i) {
        float value;
        std::memcpy(&value, torch_fake.data.data() + 4 * i, 4);
        worst = std::max(worst, std::abs(static_cast<double>(value) - fake.data()[i]));
    }
    std::printf("largest |xgan - torch| on G(z) after loading PyTorch's weights: %g\n", worst);
    return worst < 1e-5 ? 0 : 1;
}
