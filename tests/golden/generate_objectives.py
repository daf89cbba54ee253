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
    w.save()


if __name__ == "__main__":
    main()
