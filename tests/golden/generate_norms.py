#!/usr/bin/python3
# Golden values for RMSprop, LayerNorm and SpectralNorm, computed with PyTorch 1.13, in
# the format and with the writer of generate.py (read by golden_data.hpp).
#
# Regenerate (from anywhere; the files land in tests/golden/data/):
#
#     /usr/bin/python3 tests/golden/generate_norms.py
#
# Cases:
#   rmsprop.txt        torch.optim.RMSprop, float32 and float64, 50 parameters, 5 steps:
#                      defaults; momentum with weight decay; centered with momentum.
#                      Parameters after each step.
#   layer_norm.txt     float64 nn.Sequential(nn.LayerNorm(shape)) over a vector {6} and an
#                      image {2, 3, 3}: weight, bias, x, y, dy, and the autograd gradients of
#                      sum(y * dy) w.r.t. x, weight and bias; then the double backward of the
#                      penalty P = sum(dx * e) for a given e (dx = d sum(y * dy) / dx):
#                      dP/d(dy), dP/dx and dP/dweight.
#   spectral_norm.txt  float64 nn.Sequential(spectral_norm(nn.Linear(5, 4))) and
#                      spectral_norm(nn.Conv2d(2, 3, 3, 1, 1)) on {2, 4, 4}: the starting
#                      parameters and buffers (state_dict names and order), then per step
#                      (training mode, one power iteration each) x, dy, y, u and v after the
#                      forward, dx, the gradients of sum(y * dy) w.r.t. weight_orig and bias,
#                      and the parameters after torch.optim.SGD(lr 0.1); finally an
#                      inference-mode forward (no iteration) of a last x.
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import Writer, optimizer_inputs, run_optimizer  # noqa: E402

torch.set_num_threads(1)


def writer(filename, description):
    w = Writer(filename, description)
    w.lines[1] = w.lines[1].replace("generate.py", "generate_norms.py")
    return w


def flat(t):
    return t.detach().reshape(-1)


def rows(t):
    """A batch as {N, rest}."""
    return t.detach().reshape(t.shape[0], -1)


def write_rmsprop():
    w = writer("rmsprop.txt", "torch.optim.RMSprop golden values: parameters after each step.")
    p0, grads = optimizer_inputs(5, seed=2024)
    configs = {
        "default": dict(),  # lr 1e-2, alpha 0.99, eps 1e-8
        "momentum": dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.9),
        "centered": dict(lr=1e-3, alpha=0.95, eps=1e-6, momentum=0.5, centered=True),
    }
    w.comment("params0 and grads are float32 values; the float64 runs start from the same numbers.")
    w.block("params0", p0)
    w.block("grads", grads)
    for name, kw in configs.items():
        full = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)
        full.update(kw)
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            w.block("%s.%s" % (name, key), full[key])
        w.block(name + ".centered", 1.0 if full["centered"] else 0.0)
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            result = run_optimizer(lambda ps: torch.optim.RMSprop(ps, **kw), p0, grads, dtype)
            w.block("%s.%s.params" % (name, tag), result)
    w.save()


def write_layer_norm():
    w = writer("layer_norm.txt", "nn.LayerNorm golden values (float64): forward, backward, double backward.")
    g = torch.Generator().manual_seed(77)
    for name, shape in (("vector", [6]), ("image", [2, 3, 3])):
        net = torch.nn.Sequential(torch.nn.LayerNorm(shape)).double()
        with torch.no_grad():
            net[0].weight.copy_(1 + 0.5 * torch.randn(shape, generator=g, dtype=torch.float64))
            net[0].bias.copy_(0.3 * torch.randn(shape, generator=g, dtype=torch.float64))
        batch = 4
        x = torch.randn([batch] + shape, generator=g, dtype=torch.float64) * 2 + 0.5
        x[1] *= 0.01  # a row of small values: inv_std large
        dy = torch.randn([batch] + shape, generator=g, dtype=torch.float64)
        e = torch.randn([batch] + shape, generator=g, dtype=torch.float64)
        x.requires_grad_(True)
        dy.requires_grad_(True)
        y = net(x)
        (dx,) = torch.autograd.grad((y * dy).sum(), x, create_graph=True)
        gw, gb = torch.autograd.grad((y * dy).sum(), [net[0].weight, net[0].bias], retain_graph=True)
        penalty = (dx * e).sum()
        d_dy, d_x, d_w, d_b = torch.autograd.grad(penalty, [dy, x, net[0].weight, net[0].bias], allow_unused=True)
        assert d_b is None or float(d_b.abs().max()) == 0.0
        w.block(name + ".param.0.weight", flat(net[0].weight))
        w.block(name + ".param.0.bias", flat(net[0].bias))
        w.block(name + ".x", rows(x))
        w.block(name + ".y", rows(y))
        w.block(name + ".dy", rows(dy))
        w.block(name + ".dx", rows(dx))
        w.block(name + ".grad.0.weight", flat(gw))
        w.block(name + ".grad.0.bias", flat(gb))
        w.block(name + ".e", rows(e))
        w.block(name + ".second.e_out", rows(d_dy))
        w.block(name + ".second.x_adjoint", rows(d_x))
        w.block(name + ".second.grad.0.weight", flat(d_w))
    w.save()


def write_spectral_norm():
    w = writer("spectral_norm.txt", "torch.nn.utils.spectral_norm golden values (float64), three SGD steps.")
    g = torch.Generator().manual_seed(99)
    sn = torch.nn.utils.spectral_norm
    cases = (
        ("dense", lambda: sn(torch.nn.Linear(5, 4)), [5]),
        ("conv", lambda: sn(torch.nn.Conv2d(2, 3, 3, 1, 1)), [2, 4, 4]),
    )
    for name, make, in_shape in cases:
        torch.manual_seed(5)
        net = torch.nn.Sequential(make()).double()
        with torch.no_grad():  # a weight far from unit spectral norm
            net[0].weight_orig.mul_(3.0)
        state = net.state_dict()
        w.comment("%s: state_dict keys in order: %s" % (name, " ".join(state.keys())))
        for key, value in state.items():
            w.block("%s.start.%s" % (name, key), flat(value))
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        batch = 3
        for step in range(3):
            net.train()
            x = torch.randn([batch] + in_shape, generator=g, dtype=torch.float64).requires_grad_(True)
            y = net(x)
            dy = torch.randn(y.shape, generator=g, dtype=torch.float64)
            opt.zero_grad()
            (y * dy).sum().backward()
            prefix = "%s.step%d." % (name, step)
            w.block(prefix + "x", rows(x))
            w.block(prefix + "dy", rows(dy))
            w.block(prefix + "y", rows(y))
            w.block(prefix + "weight_u", flat(net[0].weight_u))
            w.block(prefix + "weight_v", flat(net[0].weight_v))
            w.block(prefix + "dx", rows(x.grad))
            w.block(prefix + "grad.0.weight_orig", flat(net[0].weight_orig.grad))
            w.block(prefix + "grad.0.bias", flat(net[0].bias.grad))
            opt.step()
            w.block(prefix + "after.0.weight_orig", flat(net[0].weight_orig))
            w.block(prefix + "after.0.bias", flat(net[0].bias))
        net.eval()
        x = torch.randn([batch] + in_shape, generator=g, dtype=torch.float64)
        with torch.no_grad():
            y = net(x)
        w.block(name + ".eval.x", rows(x))
        w.block(name + ".eval.y", rows(y))
    w.save()


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: these golden values are meant to come from PyTorch 1.13, this is %s" % torch.__version__,
              file=sys.stderr)
    write_rmsprop()
    write_layer_norm()
    write_spectral_norm()


if __name__ == "__main__":
    main()
