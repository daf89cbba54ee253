// Must not compile: a Wasserstein critic that ends in Sigmoid.
#include <xgan/xgan.hpp>

using Generator = xgan::Sequential<xgan::Dense<5, 128>, xgan::ReLU, xgan::Dense<128, 15>>;
using Critic = xgan::Sequential<xgan::Dense<15, 128>, xgan::LeakyReLU, xgan::Dense<128, 1>, xgan::Sigmoid>;

int main() {
    xgan::AdversarialTrainer<Generator, Critic, xgan::Adam, xgan::Adam, xgan::WassersteinLoss> trainer;
    (void)trainer;
}
