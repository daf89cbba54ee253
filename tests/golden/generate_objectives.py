#!/usr/bin/python3
"""Golden values for the score-reading objectives: WassersteinLoss, HingeLoss and
LeastSquaresLoss (include/xgan/losses/), computed with PyTorch autograd in float64.

Writes data/objectives.txt (read by tests/losses/test_objectives.cpp). Per case:
real and fake critic scores, then for each loss its D loss, dD_loss/dreal, dD_loss/dfake,
its G loss and dG_loss/dfake. The PyTorch formulas are the ones the papers' reference code
uses:
  wgan:  D = fake.mean() - real.mean();  G = -fake.mean()
  hinge: D = relu(1 - real).mean() + relu(1 + fake).mean();  G = -fake.mean()
         (torch's relu has derivative 0 at 0: the kinks s = 1 and s = -1 are in the cases)
  lsgan: D = 0.5 ((real - b)^2).mean() + 0.5 ((fake - a)^2).mean();  G = 0.5 ((fake - c)^2).mean()
         with (a, b, c) = (0, 1, 1) (Mao et al.'s 0-1 coding, the default) and (-1, 1, 0).

Run: /usr/bin/python3 tests/golden/generate_objectives.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import Writer  # noqa: E402


def grads(loss, *tensors):
    return torch.autograd.grad(loss, tensors, allow_unused=True)


def losses(real_values, fake_values):
    out = {}

    def leaf(values):
        return torch.tensor(values, dtype=torch.float64, requires_grad=True)

    def record(name, d_fn, g_fn):
        real, fake = leaf(real_values), leaf(fake_values)
        d = d_fn(real, fake)
        d_real, d_fake = grads(d, real, fake)
        fake2 = leaf(fake_values)
        g = g_fn(fake2)
        (g_fake,) = grads(g, fake2)
        out[name] = dict(d_loss=d, d_grad_real=d_real, d_grad_fake=d_fake, g_loss=g, g_grad=g_fake)

    record("wgan", lambda r, f: f.mean() - r.mean(), lambda f: -f.mean())
    record("hinge", lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean())
    for tag, (a, b, c) in (("lsgan", (0.0, 1.0, 1.0)), ("lsgan_m101", (-1.0, 1.0, 0.0))):
        record(tag, lambda r, f, a=a, b=b: 0.5 * ((r - b) ** 2).mean() + 0.5 * ((f - a) ** 2).mean(),
               lambda f, c=c: 0.5 * ((f - c) ** 2).mean())
    return out


def r1_step(w):
    """One AdversarialTrainer step with R1Loss<NonSaturatingLoss> (gamma 3), SGD lr 0.1 for both
    networks, noise given, in float64: G = Linear(2, 3); D = Linear(3, 5), Tanh, Linear(5, 1)."""
    g = torch.Generator().manual_seed(151)
    G = torch.nn.Linear(2, 3).double()
    D = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    with torch.no_grad():
        for p in list(G.parameters()) + list(D.parameters()):
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1)
    real = torch.randn(4, 3, generator=g, dtype=torch.float64)
    z_d = torch.randn(4, 2, generator=g, dtype=torch.float64)
    z_g = torch.randn(4, 2, generator=g, dtype=torch.float64)
    gamma, lr = 3.0, 0.1
    w.block("r1_step.G.param", torch.cat([p.reshape(-1) for p in G.parameters()]))
    w.block("r1_step.D.param", torch.cat([p.reshape(-1) for p in D.parameters()]))
    w.block("r1_step.real", real)
    w.block("r1_step.z_d", z_d)
    w.block("r1_step.z_g", z_g)
    # D's update: the non-saturating D loss on real and G(z_d), plus R1 on the real batch.
    x = real.clone().requires_grad_(True)
    real_logits = D(x)
    fake_logits = D(G(z_d).detach())
    bce = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) +
           F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    (grad_x,) = torch.autograd.grad(real_logits.sum(), x, create_graph=True)
    penalty = gamma / 2 * grad_x.pow(2).sum(1).mean()
    d_params = list(D.parameters())
    d_grads = torch.autograd.grad(bce + penalty, d_params)
    with torch.no_grad():
        for p, gr in zip(d_params, d_grads):
            p -= lr * gr
    w.block("r1_step.d_loss", bce + penalty)
    w.block("r1_step.penalty", penalty)
    # G's update through the updated D: -mean log sigmoid(D(G(z_g))).
    g_logits = D(G(z_g))
    g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
    g_params = list(G.parameters())
    g_grads = torch.autograd.grad(g_loss, g_params)
    with torch.no_grad():
        for p, gr in zip(g_params, g_grads):
            p -= lr * gr
    w.block("r1_step.g_loss", g_loss)
    w.block("r1_step.G.param_after", torch.cat([p.reshape(-1) for p in G.parameters()]))
    w.block("r1_step.D.param_after", torch.cat([p.reshape(-1) for p in D.parameters()]))


class Mt19937_64:
    """std::mt19937_64 (the engine of xgan::Rng), for the interpolation weights the trainer
    draws: xgan::Rng::uniform() is (engine() >> 11) * 2^-53."""
    N, M, MASK = 312, 156, (1 << 64) - 1

    def __init__(self, seed):
        self.mt = [seed & self.MASK]
        for i in range(1, self.N):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & self.MASK)
        self.index = self.N

    def __call__(self):
        if self.index >= self.N:
            upper, lower = 0xFFFFFFFF80000000, 0x7FFFFFFF
            for i in range(self.N):
                x = (self.mt[i] & upper) | (self.mt[(i + 1) % self.N] & lower)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                self.mt[i] = self.mt[(i + self.M) % self.N] ^ xa
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & self.MASK

    def uniform(self):
        return float(self() >> 11) * 2.0 ** -53


def wgan_gp_step(w):
    """One AdversarialTrainer step with WassersteinGPLoss (lambda 10), SGD lr 0.05 for both
    networks, noise given, in float64, same networks as r1_step. The trainer's Rng (seed 7)
    draws only the interpolation weights e_i in this step."""
    g = torch.Generator().manual_seed(152)
    G = torch.nn.Linear(2, 3).double()
    D = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    with torch.no_grad():
        for p in list(G.parameters()) + list(D.parameters()):
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1)
    real = torch.randn(4, 3, generator=g, dtype=torch.float64)
    z_d = torch.randn(4, 2, generator=g, dtype=torch.float64)
    z_g = torch.randn(4, 2, generator=g, dtype=torch.float64)
    lam, lr = 10.0, 0.05
    engine = Mt19937_64(7)
    e = torch.tensor([[engine.uniform()] for _ in range(4)], dtype=torch.float64)
    w.block("wgan_gp_step.G.param", torch.cat([p.reshape(-1) for p in G.parameters()]))
    w.block("wgan_gp_step.D.param", torch.cat([p.reshape(-1) for p in D.parameters()]))
    w.block("wgan_gp_step.real", real)
    w.block("wgan_gp_step.z_d", z_d)
    w.block("wgan_gp_step.z_g", z_g)
    w.block("wgan_gp_step.e", e.reshape(-1))
    fake = G(z_d).detach()
    x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
    (grad_x,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    penalty = lam * ((grad_x.norm(2, dim=1) - 1) ** 2).mean()
    d_loss = D(fake).mean() - D(real).mean() + penalty
    d_params = list(D.parameters())
    d_grads = torch.autograd.grad(d_loss, d_params)
    with torch.no_grad():
        for p, gr in zip(d_params, d_grads):
            p -= lr * gr
    w.block("wgan_gp_step.d_loss", d_loss)
    w.block("wgan_gp_step.penalty", penalty)
    g_loss = -D(G(z_g)).mean()
    g_params = list(G.parameters())
    g_grads = torch.autograd.grad(g_loss, g_params)
    with torch.no_grad():
        for p, gr in zip(g_params, g_grads):
            p -= lr * gr
    w.block("wgan_gp_step.g_loss", g_loss)
    w.block("wgan_gp_step.G.param_after", torch.cat([p.reshape(-1) for p in G.parameters()]))
    w.block("wgan_gp_step.D.param_after", torch.cat([p.reshape(-1) for p in D.parameters()]))


def main():
    torch.set_num_threads(1)
    w = Writer("objectives.txt", "Score-reading GAN objectives (float64): PyTorch autograd values.")
    w.lines[1] = w.lines[1].replace("generate.py", "generate_objectives.py")
    w.comment("Per case: real_scores, fake_scores; then\n"
              "<loss>.<q> for loss in wgan hinge lsgan lsgan_m101 and q in d_loss d_grad_real d_grad_fake\n"
              "g_loss g_grad. lsgan: (a, b, c) = (0, 1, 1); lsgan_m101: (a, b, c) = (-1, 1, 0).")
    g = torch.Generator().manual_seed(15)
    cases = [
        ("ordinary", (torch.rand(8, generator=g, dtype=torch.float64) * 6 - 3).tolist(),
         (torch.rand(8, generator=g, dtype=torch.float64) * 6 - 3).tolist()),
        ("batch5", (torch.rand(5, generator=g, dtype=torch.float64) * 4 - 2).tolist(),
         (torch.rand(5, generator=g, dtype=torch.float64) * 4 - 2).tolist()),
        # The hinge's kinks (real 1, fake -1) and both sides of them; large scores.
        ("kinks", [1.0, 0.5, 1.5, -40.0, 40.0, 0.0], [-1.0, -0.5, -1.5, 40.0, -40.0, 0.0]),
    ]
    for name, real, fake in cases:
        w.block(name + ".real_scores", real)
        w.block(name + ".fake_scores", fake)
        for loss, values in losses(real, fake).items():
            for q, v in values.items():
                w.block("%s.%s.%s" % (name, loss, q), v.detach().reshape(-1))
    w.comment("r1_step: one AdversarialTrainer step with R1Loss<NonSaturatingLoss>{.gamma = 3}, SGD lr 0.1,\n"
              "noise given (see r1_step in the script).")
    r1_step(w)
    w.comment("wgan_gp_step: one AdversarialTrainer step with WassersteinGPLoss{.lambda = 10}, SGD lr 0.05,\n"
              "noise given, trainer seed 7 (its Rng draws the e_i: std::mt19937_64, (x >> 11) * 2^-53).")
    wgan_gp_step(w)
    w.save()


if __name__ == "__main__":
    main()
