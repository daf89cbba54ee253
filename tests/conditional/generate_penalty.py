#!/usr/bin/python3
# Golden values for the gradient penalties on a conditional critic, computed with PyTorch
# 1.13 autograd (create_graph=True) the way conditional WGAN-GP implementations do it:
#
#     x_hat = e * x_real + (1 - e) * x_fake          (the samples only)
#     D(x_hat, y_real)                               (the real row's condition)
#     g = grad of sum D with respect to x_hat        (not the condition)
#     WGAN-GP: 10 * mean (||g_i|| - 1)^2;  R1 on the real rows: 10 / 2 * mean ||g_i||^2
#
# The fake rows carry other labels than the real rows (every row), so a penalty that mixed
# the conditions, or took the norm over the condition's values too, gives other numbers.
#
# Regenerate (from anywhere; writes tests/conditional/data/penalty.txt):
#
#     /usr/bin/python3 tests/conditional/generate_penalty.py
#
# Same file format as tests/golden/generate.py (read by tests/golden/golden_data.hpp);
# every value is a float32 value written exactly as float64, the reference computed in float64.
#
# Cases (state_dict names as xgan's Sequential names the same stack), 2 classes, batch 4:
#   onehot  the condition concatenated as one-hot values: nn.Sequential(Linear(3 + 2, 6),
#           Tanh, Linear(6, 1)) on rows [x (3), onehot(y) (2)]
#   planes  the condition as constant planes after the image's channel: nn.Sequential(
#           Conv2d(1 + 2, 2, 3, padding 1), LeakyReLU(0.2), Flatten, Linear(32, 1)) on 1x4x4
#           images and 2 planes of 4x4 (NCHW rows of 48 values)
# Blocks per case: <case>.counts, <case>.shape.<name>, <case>.param.<name>, <case>.real and
# <case>.fake (the samples, {4, sample size}), <case>.real_labels, <case>.fake_labels, <case>.e,
# and for wgan_gp (at the interpolates) and r1 (at the real rows): <case>.<penalty>.value and
# <case>.<penalty>.grad.<name>.
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import generate  # noqa: E402  (its Writer)

CLASSES = 2
BATCH = 4


def Writer(filename, description):
    return generate.Writer(filename, description, script="tests/conditional/generate_penalty.py",
                           data=os.path.join(HERE, "data"))


def as_float32_values(t):
    return t.to(torch.float32).to(torch.float64)


def condition(labels, sample_shape):
    """The condition of each label: one-hot values, or for an image constant planes."""
    onehot = torch.nn.functional.one_hot(torch.tensor(labels), CLASSES).to(torch.float64)
    if len(sample_shape) == 1:
        return onehot
    h, w = sample_shape[1], sample_shape[2]
    return onehot[:, :, None, None].expand(len(labels), CLASSES, h, w)


def critics():
    f64 = dict(dtype=torch.float64)
    nn = torch.nn
    return {
        "onehot": (nn.Sequential(nn.Linear(3 + CLASSES, 6, **f64), nn.Tanh(), nn.Linear(6, 1, **f64)), (3,)),
        "planes": (nn.Sequential(nn.Conv2d(1 + CLASSES, 2, 3, 1, 1, **f64), nn.LeakyReLU(0.2), nn.Flatten(),
                                 nn.Linear(32, 1, **f64)), (1, 4, 4)),
    }


def input_gradient(net, sample, labels):
    """g = d sum D([sample, condition(labels)]) / d sample, kept differentiable."""
    x = sample.clone().requires_grad_(True)
    full = torch.cat([x, condition(labels, tuple(sample.shape[1:]))], dim=1)
    (g,) = torch.autograd.grad(net(full).sum(), x, create_graph=True)
    return g.reshape(sample.shape[0], -1)


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1563)
    w = Writer("penalty.txt", "Gradient penalties on a conditional critic and their parameter gradients.")
    real_labels = [0, 1, 1, 0]
    fake_labels = [1, 0, 0, 1]
    for case, (net, sample_shape) in critics().items():
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(as_float32_values(0.6 * torch.randn(p.shape, generator=gen, dtype=torch.float64)))
        shape = (BATCH,) + sample_shape
        real = as_float32_values(torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1)
        fake = as_float32_values(torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1)
        e = as_float32_values(torch.rand(BATCH, generator=gen, dtype=torch.float64))
        params = list(net.named_parameters())
        w.block(case + ".counts", [len(params), sum(p.numel() for _, p in params)])
        for name, p in params:
            w.block("%s.shape.%s" % (case, name), [float(d) for d in p.shape])
            w.block("%s.param.%s" % (case, name), generate.as_rows(p))
        w.block(case + ".real", real.reshape(BATCH, -1))
        w.block(case + ".fake", fake.reshape(BATCH, -1))
        w.block(case + ".real_labels", [float(v) for v in real_labels])
        w.block(case + ".fake_labels", [float(v) for v in fake_labels])
        w.block(case + ".e", e)
        mix = e.reshape((BATCH,) + (1,) * len(sample_shape))
        interpolates = mix * real + (1 - mix) * fake
        for penalty_name in ("wgan_gp", "r1"):
            if penalty_name == "wgan_gp":
                g = input_gradient(net, interpolates, real_labels)
                value = 10.0 * ((g.norm(2, dim=1) - 1) ** 2).mean()
            else:
                g = input_gradient(net, real, real_labels)
                value = 10.0 / 2 * (g ** 2).sum(dim=1).mean()
            grads = torch.autograd.grad(value, [p for _, p in params], allow_unused=True)
            grads = [torch.zeros_like(p) if gp is None else gp for (_, p), gp in zip(params, grads)]
            w.block("%s.%s.value" % (case, penalty_name), value.item())
            for (name, _), gp in zip(params, grads):
                w.block("%s.%s.grad.%s" % (case, penalty_name, name), generate.as_rows(gp))
    w.save()


if __name__ == "__main__":
    main()
