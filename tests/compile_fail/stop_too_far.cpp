// Must not compile: a forward pass through 3 layers of a 2-layer network.
#include <xgan/xgan.hpp>

using Net = xgan::Sequential<xgan::Dense<5, 8>, xgan::ReLU>;

int main() {
    Net net;
    Net::Workspace ws;
    ws.resize(4);
    net.forward<3>(ws);
}
