#!/usr/bin/python3
# Example 03 (examples/03_mnist_mlp_gan.cpp) in PyTorch, for the quality-parity comparison
# of docs/reference/metrics.md: the same networks, initialisation, losses, optimizers,
# batch and data order rules; the samples are scored by xgan's classifier in C++.
#
#     /usr/bin/python3 tools/mnist_mlp_gan_torch.py --seed 1 --steps 5000 --out torch_seed1.npy
#     build/tools/fashion_classifier score torch_seed1.npy
#
# G: 100 -> 256 -> 512 -> 1024 -> 784, LeakyReLU(0.2), Tanh. D: 784 -> 1024 -> 512 -> 256 -> 1,
# LeakyReLU(0.2) and Dropout(0.3) after each hidden layer, Sigmoid. Linear layers as Keras'
# Dense: Glorot-uniform weights, zero biases. One step: D on 128 real images (target 0.9)
# and 128 generated ones (target 0), the sum of the two halves' mean binary cross-entropies;
# then G on 128 fresh noise vectors through D (target 1; D's Dropout active, D not updated).
# Adam(lr 2e-4, beta1 0.5) for both. Each epoch a new shuffle, the last partial batch
# dropped. Pixels scaled to [-1, 1]. Writes 10,000 samples of G (in eval mode) from noise
# of seed 1000 + seed as a float32 .npy {10000, 784}; with --save-every N also those of
# every N steps before the last (OUT_stepN.npy), from the same noise (which leaves the
# training's random stream alone). Needs Debian's python3-torch (1.13).
import argparse
import gzip

import numpy as np
import torch
from torch import nn

TRAIN = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def dense(n_in, n_out):
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--save-every", type=int, default=0,
                        help="also write the samples every N steps, to OUT with _stepN before .npy (0: only the end)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    with gzip.open(TRAIN, "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    images = torch.from_numpy(raw.astype(np.float32) / 127.5 - 1)

    act = lambda: nn.LeakyReLU(0.2)
    g = nn.Sequential(dense(100, 256), act(), dense(256, 512), act(), dense(512, 1024), act(), dense(1024, 784),
                      nn.Tanh())
    d = nn.Sequential(dense(784, 1024), act(), nn.Dropout(0.3), dense(1024, 512), act(), nn.Dropout(0.3),
                      dense(512, 256), act(), nn.Dropout(0.3), dense(256, 1), nn.Sigmoid())
    g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    b = args.batch
    per_epoch = len(images) // b

    def save(path):
        g.eval()
        gen = torch.Generator().manual_seed(1000 + args.seed)
        with torch.no_grad():
            samples = g(torch.randn(args.samples, 100, generator=gen)).numpy().astype(np.float32)
        g.train()
        np.save(path, samples)
        print(f"wrote {path}: {samples.shape}", flush=True)

    order = None
    for step in range(args.steps):
        if step % per_epoch == 0:
            order = rng.permutation(len(images))
        k = step % per_epoch
        real = images[order[k * b:(k + 1) * b]]
        z = torch.randn(b, 100)
        fake = g(z).detach()
        d_opt.zero_grad()
        loss_d = bce(d(real), torch.full((b, 1), 0.9)) + bce(d(fake), torch.zeros(b, 1))
        loss_d.backward()
        d_opt.step()
        g_opt.zero_grad()
        loss_g = bce(d(g(torch.randn(b, 100))), torch.ones(b, 1))
        loss_g.backward()
        g_opt.step()
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}: d_loss {loss_d.item():.4f} g_loss {loss_g.item():.4f}", flush=True)
        if args.save_every > 0 and (step + 1) % args.save_every == 0 and step + 1 < args.steps:
            save(args.out.removesuffix(".npy") + f"_step{step + 1}.npy")
    save(args.out)


if __name__ == "__main__":
    main()
