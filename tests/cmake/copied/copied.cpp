// The copied headers with io/: one training step, then a checkpoint (libzip, zlib) and a
// PNG (stb) written and the checkpoint read back, so every library of the recipe links.
#include <filesystem>
#include <iostream>

#include <xgan/io.hpp>
#include <xgan/xgan.hpp>

using namespace xgan;
using Generator = Sequential<Dense<5, 16>, ReLU, Dense<16, 15>>;
using Discriminator = Sequential<Dense<15, 16>, ReLU, Dense<16, 1>, Sigmoid>;

int main() {
    AdversarialTrainer<Generator, Discriminator> trainer({.seed = 1});
    Rng rng(2);
    matrix<float> real({8, 15});
    paintings::artist_works(real, rng);
    trainer.step(real);

    const std::filesystem::path checkpoint = "copied_consumer.npz", picture = "copied_consumer.png";
    save_checkpoint(trainer, checkpoint);
    AdversarialTrainer<Generator, Discriminator> resumed({.seed = 7});
    load_checkpoint(resumed, checkpoint);
    const std::uint8_t pixels[4] = {0, 85, 170, 255};
    write_png(picture, pixels, 2, 2, 1);
    const bool same = resumed.generator() == trainer.generator();
    std::cout << "copied headers: checkpoint " << (same ? "restored" : "DIFFERENT") << ", PNG of "
              << std::filesystem::file_size(picture) << " bytes\n";
    return same ? 0 : 1;
}
