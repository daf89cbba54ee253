// Must not compile: export_header takes a network, not the trainer that holds two.
#include <xgan/io/export_header.hpp>
#include <xgan/xgan.hpp>

using G = xgan::Sequential<xgan::Dense<5, 16>, xgan::ReLU, xgan::Dense<16, 15>>;
using D = xgan::Sequential<xgan::Dense<15, 16>, xgan::ReLU, xgan::Dense<16, 1>, xgan::Sigmoid>;

int main() {
    const xgan::AdversarialTrainer<G, D> trainer;
    xgan::export_header(trainer, "generator.hpp");
}
