#!/usr/bin/python3
# Golden values for xgan's gradient penalties (the second-order pass), computed with
# PyTorch 1.13 autograd (create_graph=True): the penalty on a critic's input gradient and
# its gradient with respect to every parameter of the critic.
#
# Regenerate (from anywhere; writes tests/golden/data/penalty.txt):
#
#     /usr/bin/python3 tests/golden/generate_penalty.py
#
# Same file format as generate.py (read by golden_data.hpp). Every parameter and input is a
# float32 value (rounded so), written exactly as float64; the reference is computed in
# float64 from those values, so a float xgan network loaded with them computes the same
# function and differs from it only by its own float rounding.
#
# Cases (state_dict names as xgan's Sequential names the same stack):
#   mlp   nn.Sequential(Linear(4, 8), Tanh, Linear(8, 6), LeakyReLU(0.2), Linear(6, 1)), x {6, 4}
#   conv  nn.Sequential(Conv2d(2, 3, 3, stride 2, padding 1), LeakyReLU(0.2), Flatten,
#         Linear(36, 1)) on 2x7x6 images, x {5, 84} (NCHW rows)
#   image nn.Sequential(Conv2d(2, 3, (3, 2), stride (1, 2), padding (1, 0)), Sigmoid,
#         AvgPool2d(2), ConvTranspose2d(3, 2, 3, stride 2, padding 1), Tanh, Flatten,
#         Linear(30, 1)) on 2x6x8 images, x {4, 96}
# For each: <case>.counts (how many parameter tensors and values), <case>.param.<name>, <case>.shape.<name> (4-D weights are written {shape[0], the
# rest}), <case>.x, <case>.g (the input gradient of sum(D(x)), {batch, input}), and for
# WGAN-GP (lambda 10 * mean (||g_i|| - 1)^2) and R1 (gamma 10 / 2 * mean ||g_i||^2):
# <case>.<penalty>.value and <case>.<penalty>.grad.<name>.
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (its Writer and data directory)


def Writer(filename, description):
    return generate.Writer(filename, description, script="tests/golden/generate_penalty.py")


def as_float32_values(t):
    return t.to(torch.float32).to(torch.float64)


def critics():
    f64 = dict(dtype=torch.float64)
    nn = torch.nn
    return {
        "mlp": (nn.Sequential(nn.Linear(4, 8, **f64), nn.Tanh(), nn.Linear(8, 6, **f64), nn.LeakyReLU(0.2),
                              nn.Linear(6, 1, **f64)), (6, 4)),
        "conv": (nn.Sequential(nn.Conv2d(2, 3, 3, 2, 1, **f64), nn.LeakyReLU(0.2), nn.Flatten(),
                               nn.Linear(36, 1, **f64)), (5, 2, 7, 6)),
        "image": (nn.Sequential(nn.Conv2d(2, 3, (3, 2), (1, 2), (1, 0), **f64), nn.Sigmoid(), nn.AvgPool2d(2),
                                nn.ConvTranspose2d(3, 2, 3, 2, 1, **f64), nn.Tanh(), nn.Flatten(),
                                nn.Linear(30, 1, **f64)), (4, 2, 6, 8)),
    }


def penalties():
    return {
        "wgan_gp": lambda g: 10.0 * ((g.norm(2, dim=1) - 1) ** 2).mean(),
        "r1": lambda g: 10.0 / 2 * (g ** 2).sum(dim=1).mean(),
    }


def main():
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1515)
    w = Writer("penalty.txt", "Gradient penalties on a critic's input gradient and their parameter gradients.")
    for case, (net, x_shape) in critics().items():
        with torch.no_grad():
            for p in net.parameters():
                # Larger than the default init so the critic's input gradient is not tiny and
                # Tanh and Sigmoid work on their curved parts.
                p.copy_(as_float32_values(0.6 * torch.randn(p.shape, generator=g, dtype=torch.float64)))
        x = as_float32_values(torch.rand(x_shape, generator=g, dtype=torch.float64) * 2 - 1)
        x = x.requires_grad_(True)
        params = list(net.named_parameters())
        w.block(case + ".counts", [len(params), sum(p.numel() for _, p in params)])
        for name, p in params:
            if p.dim() >= 1:
                w.block("%s.shape.%s" % (case, name), [float(d) for d in p.shape])
            w.block("%s.param.%s" % (case, name), generate.as_rows(p))
        w.block(case + ".x", x.detach().reshape(x_shape[0], -1))
        for penalty_name, penalty in penalties().items():
            out = net(x)
            (grad_x,) = torch.autograd.grad(out.sum(), x, create_graph=True)
            grad_x = grad_x.reshape(x_shape[0], -1)
            if penalty_name == "wgan_gp":
                w.block(case + ".g", grad_x)
            value = penalty(grad_x)
            # The last layer's bias does not reach the input gradient: autograd gives None, i.e. 0.
            grads = torch.autograd.grad(value, [p for _, p in params], allow_unused=True)
            grads = [torch.zeros_like(p) if gp is None else gp for (_, p), gp in zip(params, grads)]
            w.block("%s.%s.value" % (case, penalty_name), value.item())
            for (name, _), gp in zip(params, grads):
                w.block("%s.%s.grad.%s" % (case, penalty_name, name), generate.as_rows(gp))
    w.save()


if __name__ == "__main__":
    main()
