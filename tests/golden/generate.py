#!/usr/bin/python3
# Golden values for xgan's tests, computed with PyTorch 1.13 (Debian's python3-torch).
#
# Regenerate (from anywhere; the files land in tests/golden/data/ next to this script):
#
#     /usr/bin/python3 tests/golden/generate.py
#
# torch is needed only to REGENERATE these files, never to build or run the tests:
# test_golden reads the committed text files in data/. The output is deterministic
# (fixed seeds, one thread), so a regeneration with the same torch leaves git clean.
#
# Format of every data file, read by golden_data.hpp:
#     ## free comment line
#     # name rows cols
#     rows lines of cols whitespace-separated numbers
# Numbers are Python repr() of float64 values, which round-trip exactly. float32 values
# are written as the float64 of the same value, so they are exact too.
#
# Cases:
#   adam.txt     torch.optim.Adam, float32 (and float64), 50 parameters, 5 gradient steps,
#                default settings and lr/betas/eps non-default; parameters after each step.
#   sgd.txt      torch.optim.SGD, momentum 0.9, dampening 0 with nesterov false and true,
#                and dampening 0.3; float32 (and float64), 50 parameters, 4 steps.
#   losses.txt   float64 GAN losses from logits, ordinary and extreme (+-30, +-100, 0):
#                discriminator BCE (real label 1.0 and 0.9), minimax and non-saturating
#                generator losses, values and autograd gradients w.r.t. the logits (mean
#                reduction). Each is written twice: as PyTorch computes it ("torch.*") and
#                as the exact value correctly rounded to float64 ("exact.*", from 120-digit
#                decimal arithmetic), because PyTorch's own float64 BCE is inexact at
#                saturated logits (it evaluates log(1 + exp(-30)) with log, not log1p).
#   network.txt  float64 nn.Sequential(Linear(4,6), ReLU, Linear(6,3), Tanh) and
#                nn.Sequential(Linear(4,6), LeakyReLU(0.2), Linear(6,3), Sigmoid): weights,
#                input batch, output, upstream gradient dy, and the autograd gradients
#                w.r.t. the input and every parameter (state_dict order and layout).
#   conv.txt     float64 image layers, each in an nn.Sequential (so state_dict names are
#                "0.weight", ...): parameters and buffers (state_dict order and layout; a 4-D
#                weight is written as {shape[0], the rest} with its shape in a separate block;
#                counts says how many tensors and values of each kind the network has),
#                input x {N, C*H*W} in NCHW order, output y {N, C*H*W}, upstream gradient dy,
#                and the autograd gradients of sum(y * dy) w.r.t. x and every parameter.
#                N is the batch; cases, input C x H x W:
#                  conv_k3_s2_p1      Conv2d(3, 4, 3, stride 2, padding 1) on 3x7x6, N=2
#                  conv_k3            Conv2d(2, 5, 3) on 2x5x7, N=3
#                  conv_k4_s2_p1      Conv2d(1, 2, 4, stride 2, padding 1) on 1x8x8, N=2
#                  convt_k4_s2_p1     ConvTranspose2d(3, 2, 4, 2, 1) on 3x4x5, N=2 (weight {in, out, kh, kw})
#                  convt_k3_s2_p1_op1 ConvTranspose2d(2, 3, 3, stride 2, padding 1, output_padding 1)
#                                     on 2x3x3, N=2
#                  convt_k3           ConvTranspose2d(2, 2, 3) on 2x4x3, N=3
#                  maxpool_k2         MaxPool2d(2) on 3x6x5 (the last column is dropped), N=2
#                  maxpool_k3_s2      MaxPool2d(3, stride 2) on 2x7x7 (overlapping windows), N=2;
#                                     both max pools on inputs of distinct values, so no ties
#                  avgpool_k2         AvgPool2d(2) on 3x6x5, N=2
#                  avgpool_k3_s2      AvgPool2d(3, stride 2) on 2x7x7, N=2
#                  upsample_x2        Upsample(scale_factor=2, mode="nearest") on 3x3x4, N=2
#                  upsample_x3        Upsample(scale_factor=3, mode="nearest") on 1x2x3, N=2
#                  batchnorm2d        BatchNorm2d(3) on 3x4x5, N=4, random weight and bias and random
#                                     running statistics (num_batches_tracked 3) before the step;
#                                     training mode: y, dx, gradients, then the buffers after the
#                                     step (buffer_after.*); then eval mode on a new batch (eval.x,
#                                     eval.y, eval.dy, eval.dx, eval.grad.*)
#                  discriminator      Sequential(Conv2d(1, 4, 4, 2, 1), BatchNorm2d(4), LeakyReLU(0.2),
#                                     Flatten, Linear(64, 1)) on 1x8x8, N=4, training mode
#                  generator          Sequential(Linear(6, 36), Unflatten(1, (4, 3, 3)), BatchNorm2d(4),
#                                     ReLU, ConvTranspose2d(4, 2, 4, 2, 1), Tanh) on 6, N=3, training mode
#                  conv_winograd_k4_s2_p1  Conv2d(4, 16, 4, stride 2, padding 1) on 4x5x7, N=2
#                  convt_winograd_k4_s2_p1 ConvTranspose2d(16, 4, 4, 2, 1) on 16x3x2, N=2
#                                     (both: channels enough for xgan's Winograd form)
#                In discriminator the convolution's bias gradient is zero in exact arithmetic
#                (BatchNorm removes each channel's mean), so PyTorch's value is rounding noise;
#                discriminator.scale.grad.0.bias gives the size of the terms that cancel there
#                (per channel, the sum of |dL/d conv output|), against which the test measures it.
#   dcgan_step.txt  two whole training steps of a small DCGAN as xgan::AdversarialTrainer takes
#                them (dcgan_step's docstring), in float32 and float64, batch 6, BatchNorm in
#                training mode: G = Sequential(Linear(8, 36), Unflatten(1, (4, 3, 3)), BatchNorm2d(4),
#                ReLU, ConvTranspose2d(4, 2, 4, 2, 1), BatchNorm2d(2), ReLU, ConvTranspose2d(2, 1, 4, 2,
#                1), Tanh) (noise 8 -> 1x12x12), D = Sequential(Conv2d(1, 4, 4, 2, 1), LeakyReLU(0.2),
#                Conv2d(4, 8, 4, 2, 1), BatchNorm2d(8), LeakyReLU(0.2), Flatten, Linear(72, 1)) (a
#                logit), DCGAN's initialisation (seed 500), Adam(lr 2e-4, betas (0.5, 0.999)) for
#                both, BCE with logits with real label 0.9 for D and 1 for G (xgan's
#                NonSaturatingLoss{.real_label = 0.9}, Example 03's). Written: the networks before
#                the first step (G.param.<p>, G.buffer.<b>, G.shape.<t>, G.counts as in conv.txt,
#                and D.*; float32 values, which the float64 run starts from too), the settings,
#                for step s = 1, 2 the real batch real.<s> {6, 144} in [-1, 1) and the noise
#                noise.d.<s> (D's update) and noise.g.<s> (G's update) {6, 8}, then per dtype
#                (f32, f64) and step: <dtype>.step<s>.d_loss, g_loss, d_accuracy (mean sigmoid of
#                the real logits), d_fake (mean sigmoid of the logits in G's update), and
#                <dtype>.step<s>.<G|D>.param.<p> / .buffer.<b> after the step. A bias feeding a
#                BatchNorm2d has a gradient that is zero in exact arithmetic, so its Adam step is
#                driven by rounding: <dtype>.step<s>.<net>.allow.param.<p> and .allow.buffer.<b>
#                (the running mean it feeds) give the absolute difference that rounding can
#                explain (derived in write_dcgan_step). The script checks that no ReLU /
#                LeakyReLU input lies within 1e-5 of the kink, and prints how far PyTorch's
#                float32 step is from its float64 step (also the file's last comment).
import copy
import math
import os
import sys
from decimal import Decimal, getcontext

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

torch.set_num_threads(1)


class Writer:
    """One data file: blocks of values under a description and the generating script's name
    (the caller's, relative to the checkout), saved into data (default: tests/golden/data)."""

    def __init__(self, filename, description, script="tests/golden/generate.py", data=DATA):
        self.filename = filename
        self.data = data
        self.lines = [
            "## " + description,
            "## Generated by %s with torch %s; do not edit by hand." % (script, torch.__version__),
        ]
        self.names = set()

    def comment(self, text):
        for line in text.splitlines():
            self.lines.append("## " + line)

    def block(self, name, values):
        """values: a number, a 1-D sequence/tensor (one row), or a 2-D tensor."""
        assert " " not in name and name not in self.names, name
        self.names.add(name)
        if isinstance(values, torch.Tensor):
            t = values.detach().to(torch.float64)
            assert t.dim() <= 2, name
            rows = t.reshape(1, -1).tolist() if t.dim() <= 1 else t.tolist()
        elif isinstance(values, (int, float, Decimal)):
            rows = [[float(values)]]
        else:
            rows = [[float(v) for v in values]]
        cols = len(rows[0])
        assert all(len(r) == cols for r in rows), name
        self.lines.append("# %s %d %d" % (name, len(rows), cols))
        for r in rows:
            for v in r:
                assert math.isfinite(v), (name, v)
            self.lines.append(" ".join(repr(float(v)) for v in r))

    def save(self):
        os.makedirs(self.data, exist_ok=True)
        path = os.path.join(self.data, self.filename)
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")
        print("wrote %s (%d bytes)" % (os.path.relpath(path, os.path.dirname(os.path.dirname(HERE))),
                                        os.path.getsize(path)))


# ----------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------

N_PARAMS = 50


def optimizer_inputs(steps, seed):
    """A float32 starting point and gradient sequence with some structure: per-step scales
    from 1e-3 to 10, two parameters whose gradient is always zero, two whose gradients are
    tiny (so eps dominates Adam's denominator), and a sign flip midway."""
    g = torch.Generator().manual_seed(seed)
    p0 = torch.randn(N_PARAMS, generator=g, dtype=torch.float32)
    scales = [1.0, 0.1, 10.0, 1e-3, 1.0, 0.5][:steps]
    grads = []
    for k, s in enumerate(scales):
        gk = torch.randn(N_PARAMS, generator=g, dtype=torch.float32) * s
        gk[3] = 0.0
        gk[17] = 0.0
        gk[25] = 1e-7 * (k + 1)
        gk[41] = -3e-9
        if k == 2:
            gk[10:20] = -gk[10:20]
        grads.append(gk)
    return p0, torch.stack(grads)


def run_optimizer(make, p0, grads, dtype):
    p = torch.nn.Parameter(p0.clone().to(dtype))
    opt = make([p])
    history = []
    for gk in grads:
        p.grad = gk.clone().to(dtype)
        opt.step()
        history.append(p.detach().clone())
    return torch.stack(history)


def write_adam():
    w = Writer("adam.txt", "torch.optim.Adam golden values: parameters after each step.")
    p0, grads = optimizer_inputs(5, seed=1234)
    configs = {
        "default": dict(),                                   # lr 1e-3, betas (0.9, 0.999), eps 1e-8
        "custom": dict(lr=0.01, betas=(0.5, 0.99), eps=1e-6),
    }
    w.comment("params0 and grads are float32 values; the float64 runs start from the same numbers.")
    w.block("params0", p0)
    w.block("grads", grads)
    for name, kw in configs.items():
        full = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        full.update(kw)
        w.block(name + ".lr", full["lr"])
        w.block(name + ".beta1", full["betas"][0])
        w.block(name + ".beta2", full["betas"][1])
        w.block(name + ".eps", full["eps"])
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            result = run_optimizer(lambda ps: torch.optim.Adam(ps, **kw), p0, grads, dtype)
            w.block("%s.%s.params" % (name, tag), result)
    w.save()


def write_sgd():
    w = Writer("sgd.txt", "torch.optim.SGD golden values: parameters after each step.")
    p0, grads = optimizer_inputs(4, seed=4321)
    configs = {
        "momentum": dict(lr=0.05, momentum=0.9, dampening=0.0, nesterov=False),
        "nesterov": dict(lr=0.05, momentum=0.9, dampening=0.0, nesterov=True),
        "dampening": dict(lr=0.05, momentum=0.9, dampening=0.3, nesterov=False),
    }
    w.comment("params0 and grads are float32 values; the float64 runs start from the same numbers.")
    w.block("params0", p0)
    w.block("grads", grads)
    for name, kw in configs.items():
        w.block(name + ".lr", kw["lr"])
        w.block(name + ".momentum", kw["momentum"])
        w.block(name + ".dampening", kw["dampening"])
        w.block(name + ".nesterov", 1.0 if kw["nesterov"] else 0.0)
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            result = run_optimizer(lambda ps: torch.optim.SGD(ps, **kw), p0, grads, dtype)
            w.block("%s.%s.params" % (name, tag), result)
    w.save()


# ----------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------

getcontext().prec = 120


def d_exp(x):
    return Decimal(x).exp()


def exact_softplus(x):          # log(1 + exp(x))
    return (1 + d_exp(x)).ln()


def exact_sigmoid(x):
    return 1 / (1 + d_exp(-x))


def exact_losses(real, fake, label):
    t = Decimal(label)  # the float64 label's exact value (0.9 is 0.9000000000000000222...)
    real = [Decimal(v) for v in real]
    fake = [Decimal(v) for v in fake]
    nr, nf = len(real), len(fake)
    bce = lambda l, tt: exact_softplus(l) - tt * l
    d_loss = sum(bce(l, t) for l in real) / nr + sum(bce(l, 0) for l in fake) / nf
    d_grad_real = [(exact_sigmoid(l) - t) / nr for l in real]
    d_grad_fake = [exact_sigmoid(l) / nf for l in fake]
    g_minimax = -sum(exact_softplus(l) for l in fake) / nf             # mean log(1 - sigmoid(l))
    g_minimax_grad = [-exact_sigmoid(l) / nf for l in fake]
    g_ns = sum(exact_softplus(-l) for l in fake) / nf                  # -mean log sigmoid(l)
    g_ns_grad = [-exact_sigmoid(-l) / nf for l in fake]
    return dict(d_loss=d_loss, d_grad_real=d_grad_real, d_grad_fake=d_grad_fake,
                g_minimax_loss=g_minimax, g_minimax_grad=g_minimax_grad,
                g_ns_loss=g_ns, g_ns_grad=g_ns_grad)


def torch_losses(real_values, fake_values, label):
    real = torch.tensor(real_values, dtype=torch.float64, requires_grad=True)
    fake = torch.tensor(fake_values, dtype=torch.float64, requires_grad=True)
    d_loss = (F.binary_cross_entropy_with_logits(real, torch.full_like(real, label)) +
              F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    d_grad_real, d_grad_fake = torch.autograd.grad(d_loss, (real, fake))

    fake = torch.tensor(fake_values, dtype=torch.float64, requires_grad=True)
    g_minimax = F.logsigmoid(-fake).mean()                  # mean log(1 - sigmoid(l))
    (g_minimax_grad,) = torch.autograd.grad(g_minimax, (fake,))

    fake = torch.tensor(fake_values, dtype=torch.float64, requires_grad=True)
    g_ns = -F.logsigmoid(fake).mean()                       # -mean log sigmoid(l)
    (g_ns_grad,) = torch.autograd.grad(g_ns, (fake,))
    return dict(d_loss=d_loss, d_grad_real=d_grad_real, d_grad_fake=d_grad_fake,
                g_minimax_loss=g_minimax, g_minimax_grad=g_minimax_grad,
                g_ns_loss=g_ns, g_ns_grad=g_ns_grad)


def write_losses():
    w = Writer("losses.txt", "GAN losses from logits (float64): PyTorch values and exact values.")
    w.comment("Per case: real_logits, fake_logits, real_label; then torch.<q> and exact.<q> for q in\n"
              "d_loss d_grad_real d_grad_fake g_minimax_loss g_minimax_grad g_ns_loss g_ns_grad.\n"
              "d_loss = mean BCE(real, real_label) + mean BCE(fake, 0); g_minimax = mean log(1 - sigmoid(fake));\n"
              "g_ns = -mean log sigmoid(fake). Gradients are w.r.t. the logits of these means.\n"
              "torch: F.binary_cross_entropy_with_logits, F.logsigmoid, torch.autograd.grad.\n"
              "exact: 120-digit decimal arithmetic, correctly rounded to float64.")
    g = torch.Generator().manual_seed(99)
    ordinary_real = (torch.rand(8, generator=g, dtype=torch.float64) * 8 - 4).tolist()
    ordinary_fake = (torch.rand(8, generator=g, dtype=torch.float64) * 8 - 4).tolist()
    odd_real = (torch.rand(6, generator=g, dtype=torch.float64) * 6 - 3).tolist()
    odd_fake = (torch.rand(6, generator=g, dtype=torch.float64) * 6 - 3).tolist()
    extreme_real = [30.0, -30.0, 100.0, -100.0, 0.0, 2.5, -1.25, 7.0]
    extreme_fake = [-30.0, 30.0, -100.0, 100.0, 0.0, -2.5, 1.25, -7.0]
    cases = [
        # name, real logits, fake logits, real label
        ("ordinary", ordinary_real, ordinary_fake, 1.0),
        ("ordinary_smooth", ordinary_real, ordinary_fake, 0.9),
        ("batch6", odd_real, odd_fake, 1.0),
        ("extreme", extreme_real, extreme_fake, 1.0),
        ("extreme_smooth", extreme_real, extreme_fake, 0.9),
        # The discriminator wins outright: D's loss is ~1e-14, the minimax G loss ~ -1e-14.
        ("d_wins", [30.0, 100.0, 30.0, 100.0], [-30.0, -100.0, -30.0, -100.0], 1.0),
        ("d_wins_smooth", [30.0, 100.0, 30.0, 100.0], [-30.0, -100.0, -30.0, -100.0], 0.9),
        # The generator wins outright: the non-saturating G loss is ~1e-14.
        ("g_wins", [-30.0, -100.0, -30.0, -100.0], [30.0, 100.0, 30.0, 100.0], 1.0),
    ]
    quantities = ["d_loss", "d_grad_real", "d_grad_fake", "g_minimax_loss", "g_minimax_grad",
                  "g_ns_loss", "g_ns_grad"]
    report = []
    for name, real, fake, label in cases:
        tv = torch_losses(real, fake, label)
        ev = exact_losses(real, fake, label)
        w.block(name + ".real_logits", real)
        w.block(name + ".fake_logits", fake)
        w.block(name + ".real_label", label)
        for q in quantities:
            t = tv[q].detach().reshape(-1).tolist()
            e = ev[q] if isinstance(ev[q], list) else [ev[q]]
            e = [float(v) for v in e]
            w.block("%s.torch.%s" % (name, q), t)
            w.block("%s.exact.%s" % (name, q), e)
            for i, (a, b) in enumerate(zip(t, e)):
                rel = abs(a - b) / abs(b) if b != 0 else (0.0 if a == 0 else math.inf)
                if rel > 1e-12:
                    report.append("%s.%s[%d]: torch %r, exact %r (relative error %.3g)" % (name, q, i, a, b, rel))
    if report:
        w.comment("Where PyTorch's float64 value is more than 1e-12 (relative) off the exact value:\n" +
                  "\n".join(report))
        print("PyTorch inexact at (see the comment in losses.txt):\n  " + "\n  ".join(report))
    w.save()


# ----------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------

def write_network():
    w = Writer("network.txt", "Small float64 networks: forward values and autograd gradients.")
    w.comment("Parameters in state_dict order and layout: 0.weight {out, in}, 0.bias, 2.weight, 2.bias.\n"
              "x {batch, 4}; y = net(x) {batch, 3}; dy {batch, 3} is the upstream gradient, i.e. the\n"
              "gradients are those of sum(y * dy): dx {batch, 4} and grad.<parameter>.")
    torch.manual_seed(2024)
    f64 = dict(dtype=torch.float64)
    nets = {
        "tanh": torch.nn.Sequential(torch.nn.Linear(4, 6, **f64), torch.nn.ReLU(), torch.nn.Linear(6, 3, **f64),
                                    torch.nn.Tanh()),
        "sigmoid": torch.nn.Sequential(torch.nn.Linear(4, 6, **f64), torch.nn.LeakyReLU(0.2),
                                       torch.nn.Linear(6, 3, **f64), torch.nn.Sigmoid()),
    }
    for name, net in nets.items():
        with torch.no_grad():
            # Larger weights than nn.Linear's init so the activations see both signs and
            # the output reaches the curved parts of tanh / sigmoid.
            for p in net.parameters():
                p.mul_(2.0)
        x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
        dy = torch.randn(5, 3, dtype=torch.float64)
        y = net(x)
        params = list(net.named_parameters())
        grads = torch.autograd.grad((y * dy).sum(), [x] + [p for _, p in params])
        for pname, p in params:
            w.block("%s.param.%s" % (name, pname), p)
        w.block(name + ".x", x)
        w.block(name + ".y", y)
        w.block(name + ".dy", dy)
        w.block(name + ".dx", grads[0])
        for (pname, _), gp in zip(params, grads[1:]):
            w.block("%s.grad.%s" % (name, pname), gp)
        # Pre-activations must stay clear of ReLU's kink at 0, where the derivative is a convention.
        h = net[0](x)
        assert h.abs().min().item() > 1e-6, name
    w.save()


# ----------------------------------------------------------------------------------------
# Image layers
# ----------------------------------------------------------------------------------------

def as_rows(t):
    """A tensor of any rank as Writer.block takes it: rank > 2 as {shape[0], the rest}."""
    t = t.detach().to(torch.float64)
    return t.reshape(t.shape[0], -1) if t.dim() > 2 else t


def write_tensor_with_shape(w, case, kind, name, t):
    """A parameter or buffer: <case>.<kind>.<name> holds its values (a 4-D tensor as {shape[0],
    the rest}) and, for rank >= 1, <case>.shape.<name> its dimensions (rank 0: one value)."""
    t = t.detach().to(torch.float64)
    if t.dim() >= 1:
        w.block("%s.shape.%s" % (case, name), [float(d) for d in t.shape])
    w.block("%s.%s.%s" % (case, kind, name), as_rows(t))


def randomize(net, g):
    """Parameters and buffers drawn from g: weights and biases N(0, 0.5^2), BatchNorm2d's
    weight in [0.5, 1.5), its running mean N(0, 0.5^2), running variance in [0.5, 1.5) and
    num_batches_tracked 3, so an update of the running statistics shows every term."""
    f64 = dict(dtype=torch.float64)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g, **f64))
                m.bias.copy_(0.5 * torch.randn(m.bias.shape, generator=g, **f64))
                m.running_mean.copy_(0.5 * torch.randn(m.running_mean.shape, generator=g, **f64))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g, **f64))
                m.num_batches_tracked.fill_(3)
            elif isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
                m.weight.copy_(0.5 * torch.randn(m.weight.shape, generator=g, **f64))
                m.bias.copy_(0.5 * torch.randn(m.bias.shape, generator=g, **f64))


def run_image_case(w, name, net, x, g, eval_x=None, cancelling_bias=None):
    """Writes one case (see the header). Runs net module by module so that intermediate
    values are at hand for the checks; returns them."""
    f64 = dict(dtype=torch.float64)
    batch = x.shape[0]
    params = list(net.named_parameters())
    for pname, p in params:
        write_tensor_with_shape(w, name, "param", pname, p)
    buffers = list(net.named_buffers())
    for bname, b in buffers:
        write_tensor_with_shape(w, name, "buffer", bname, b)
    w.block(name + ".counts", [len(params), len(buffers), sum(p.numel() for _, p in params),
                               sum(b.numel() for _, b in buffers)])

    x = x.detach().clone().requires_grad_(True)
    values = [x]
    for module in net:
        values.append(module(values[-1]))
    y = values[-1]
    dy = torch.randn(y.shape, generator=g, **f64)
    grads = torch.autograd.grad((y * dy).sum(), [x] + [p for _, p in params] + values[1:-1])
    w.block(name + ".x", x.reshape(batch, -1))
    w.block(name + ".y", y.reshape(batch, -1))
    w.block(name + ".dy", dy.reshape(batch, -1))
    w.block(name + ".dx", grads[0].reshape(batch, -1))
    for (pname, _), gp in zip(params, grads[1:1 + len(params)]):
        w.block("%s.grad.%s" % (name, pname), as_rows(gp))
    for bname, b in buffers:
        w.block("%s.buffer_after.%s" % (name, bname), as_rows(b))

    if cancelling_bias is not None:
        # The bias of module `index` feeds a BatchNorm2d: its gradient, the per-channel sum of
        # dL/d(module output), is zero but for rounding. Its scale: the sum of the terms' sizes.
        index, pname = cancelling_bias
        d_out = grads[1 + len(params) + index]
        scale = d_out.abs().sum(dim=(0, 2, 3))
        got = dict(zip([n for n, _ in params], grads[1:1 + len(params)]))[pname]
        assert (got.abs() <= 1e-13 * scale).all(), (name, got, scale)
        w.block("%s.scale.grad.%s" % (name, pname), scale)

    if eval_x is not None:
        net.eval()
        x2 = eval_x.detach().clone().requires_grad_(True)
        y2 = net(x2)
        dy2 = torch.randn(y2.shape, generator=g, **f64)
        grads2 = torch.autograd.grad((y2 * dy2).sum(), [x2] + [p for _, p in params])
        w.block(name + ".eval.x", x2.reshape(batch, -1))
        w.block(name + ".eval.y", y2.reshape(batch, -1))
        w.block(name + ".eval.dy", dy2.reshape(batch, -1))
        w.block(name + ".eval.dx", grads2[0].reshape(batch, -1))
        for (pname, _), gp in zip(params, grads2[1:]):
            w.block("%s.eval.grad.%s" % (name, pname), as_rows(gp))
    return values


def distinct_values(shape, g):
    """Values -2 .. 2 in a random order, no two equal: max pooling has no ties to break."""
    n = math.prod(shape)
    perm = torch.randperm(n, generator=g).to(torch.float64)
    return ((perm - n / 2) * (4.0 / n) + 0.001).reshape(shape)


def write_conv():
    w = Writer("conv.txt", "Image layers (float64): forward values and autograd gradients.")
    w.comment("Per case <name>: param.<p> and buffer.<b> (state_dict names and layout; a 4-D tensor as\n"
              "{shape[0], the rest}), shape.<p> / shape.<b> (the tensor's dimensions; none for rank 0),\n"
              "counts (parameter tensors, buffer tensors, parameter values, buffer values),\n"
              "x {N, C*H*W} in NCHW order, y = net(x) {N, C*H*W}, dy the upstream gradient, and the\n"
              "gradients of sum(y * dy): dx and grad.<p>. Networks with BatchNorm2d run in training mode;\n"
              "buffer_after.<b> holds their buffers after the step. batchnorm2d then runs in eval mode on\n"
              "eval.x (eval.y, eval.dy, eval.dx, eval.grad.<p>). scale.grad.<p>: see generate.py's header.")
    f64 = dict(dtype=torch.float64)
    nn = torch.nn
    seq = lambda *modules: nn.Sequential(*modules).to(torch.float64)
    cases = [
        # name, module(s), input C x H x W (or features), batch
        ("conv_k3_s2_p1", seq(nn.Conv2d(3, 4, 3, stride=2, padding=1)), (3, 7, 6), 2),
        ("conv_k3", seq(nn.Conv2d(2, 5, 3)), (2, 5, 7), 3),
        ("conv_k4_s2_p1", seq(nn.Conv2d(1, 2, 4, stride=2, padding=1)), (1, 8, 8), 2),
        ("convt_k4_s2_p1", seq(nn.ConvTranspose2d(3, 2, 4, 2, 1)), (3, 4, 5), 2),
        ("convt_k3_s2_p1_op1", seq(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)), (2, 3, 3), 2),
        ("convt_k3", seq(nn.ConvTranspose2d(2, 2, 3)), (2, 4, 3), 3),
        ("maxpool_k2", seq(nn.MaxPool2d(2)), (3, 6, 5), 2),
        ("maxpool_k3_s2", seq(nn.MaxPool2d(3, stride=2)), (2, 7, 7), 2),
        ("avgpool_k2", seq(nn.AvgPool2d(2)), (3, 6, 5), 2),
        ("avgpool_k3_s2", seq(nn.AvgPool2d(3, stride=2)), (2, 7, 7), 2),
        ("upsample_x2", seq(nn.Upsample(scale_factor=2, mode="nearest")), (3, 3, 4), 2),
        ("upsample_x3", seq(nn.Upsample(scale_factor=3, mode="nearest")), (1, 2, 3), 2),
        ("batchnorm2d", seq(nn.BatchNorm2d(3)), (3, 4, 5), 4),
        ("discriminator", seq(nn.Conv2d(1, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2), nn.Flatten(),
                              nn.Linear(64, 1)), (1, 8, 8), 4),
        ("generator", seq(nn.Linear(6, 4 * 3 * 3), nn.Unflatten(1, (4, 3, 3)), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.ConvTranspose2d(4, 2, 4, 2, 1), nn.Tanh()), (6,), 3),
        ("conv_winograd_k4_s2_p1", seq(nn.Conv2d(4, 16, 4, stride=2, padding=1)), (4, 5, 7), 2),
        ("convt_winograd_k4_s2_p1", seq(nn.ConvTranspose2d(16, 4, 4, 2, 1)), (16, 3, 2), 2),
    ]
    for seed, (name, net, in_shape, batch) in enumerate(cases, start=300):
        g = torch.Generator().manual_seed(seed)
        randomize(net, g)
        net.train()
        if name.startswith("maxpool"):
            x = distinct_values((batch,) + in_shape, g)
        else:
            x = torch.randn((batch,) + in_shape, generator=g, **f64)
        eval_x = torch.randn((batch,) + in_shape, generator=g, **f64) if name == "batchnorm2d" else None
        cancelling = (0, "0.bias") if name == "discriminator" else None
        values = run_image_case(w, name, net, x, g, eval_x=eval_x, cancelling_bias=cancelling)
        # Inputs of LeakyReLU / ReLU stay clear of the kink at 0, where the derivative is a convention.
        if name == "discriminator":
            assert values[2].abs().min().item() > 1e-6, name
        if name == "generator":
            assert values[3].abs().min().item() > 1e-6, name
    w.save()


# ----------------------------------------------------------------------------------------
# A whole DCGAN training step
# ----------------------------------------------------------------------------------------

DCGAN_BATCH = 6
DCGAN_NOISE = 8
DCGAN_STEPS = 2
DCGAN_ADAM = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
DCGAN_REAL_LABEL = 0.9
BN_MOMENTUM = 0.1
# Layers whose bias feeds a BatchNorm2d per channel (so its gradient is zero in exact
# arithmetic), and that BatchNorm2d: "<net>.<layer index>".
DCGAN_CANCELLING = {"G": (4, 5), "D": (2, 3)}


def dcgan_networks():
    nn = torch.nn
    G = nn.Sequential(nn.Linear(DCGAN_NOISE, 4 * 3 * 3), nn.Unflatten(1, (4, 3, 3)), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.ConvTranspose2d(4, 2, 4, 2, 1), nn.BatchNorm2d(2), nn.ReLU(),
                      nn.ConvTranspose2d(2, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1), nn.BatchNorm2d(8),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 3 * 3, 1))
    # The DCGAN paper's initialisation (as PyTorch's DCGAN tutorial): convolution weights
    # N(0, 0.02^2), BatchNorm weight N(1, 0.02^2) and bias 0; the rest PyTorch's default.
    for net in (G, D):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
    return G, D


class CancellingSums:
    """Per-channel sums of |dL/d output| of the layers in DCGAN_CANCELLING, over the passes
    whose gradient updates that network (D: the two passes of D's update; G: G's update),
    with the number of terms each channel's sum has: the size of the terms whose float sum is
    the bias's gradient."""

    def __init__(self, G, D):
        self.phase = None
        self.sums = {}
        self.terms = {}
        self.hooks = []
        for name, net in (("G", G), ("D", D)):
            layer = net[DCGAN_CANCELLING[name][0]]
            self.hooks.append(layer.register_forward_hook(self.forward_hook(name)))

    def forward_hook(self, name):
        def hook(module, inputs, output):
            if self.phase != name:
                return

            def gradient_hook(g):
                g = g.detach().to(torch.float64)
                self.sums[name] = self.sums.get(name, 0) + g.abs().sum(dim=(0, 2, 3))
                self.terms[name] = self.terms.get(name, 0) + g.numel() // g.shape[1]
            output.register_hook(gradient_hook)
        return hook

    def remove(self):
        for h in self.hooks:
            h.remove()


def dcgan_step(G, D, opt_g, opt_d, real, z_d, z_g, sums):
    """One step as xgan::AdversarialTrainer::step takes it (k = 1) with NonSaturatingLoss:
    D's update on the real batch and G(z_d) (two passes through D, real then fake, each
    folding its batch statistics into D's running ones), then G's update on G(z_g) through D
    in training mode but with D's buffers left as they were (xgan's G update sees D as const).
    G's BatchNorm running statistics take both of G's passes. `sums`: a CancellingSums."""
    bce = F.binary_cross_entropy_with_logits
    sums.phase = "D"
    opt_d.zero_grad()
    real_logits = D(real)
    fake = G(z_d)
    fake_logits = D(fake.detach())
    d_loss = (bce(real_logits, torch.full_like(real_logits, DCGAN_REAL_LABEL)) +
              bce(fake_logits, torch.zeros_like(fake_logits)))
    d_loss.backward()
    opt_d.step()

    sums.phase = "G"
    opt_g.zero_grad()
    fake = G(z_g)
    kept = [b.detach().clone() for b in D.buffers()]
    logits = D(fake)
    g_loss = bce(logits, torch.ones_like(logits))
    g_loss.backward()
    with torch.no_grad():  # after backward: autograd checks that BatchNorm's buffers are as it saw them
        for b, k in zip(D.buffers(), kept):
            b.copy_(k)
    sums.phase = None
    opt_g.step()
    return dict(d_loss=d_loss.item(), g_loss=g_loss.item(), d_accuracy=torch.sigmoid(real_logits).mean().item(),
                d_fake=torch.sigmoid(logits).mean().item())


def kink_inputs(G, D):
    """The inputs of every ReLU / LeakyReLU in the step's passes (before it runs)."""
    seen = []
    hooks = [m.register_forward_pre_hook(lambda m, x: seen.append(x[0].detach().abs().min().item()))
             for net in (G, D) for m in net if isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU))]
    return hooks, seen


def write_dcgan_step():
    w = Writer("dcgan_step.txt", "Whole DCGAN training steps (float32 and float64), as PyTorch takes them.")
    w.comment("See generate.py's header (dcgan_step.txt) for the networks and the step. G.param.<p>, G.buffer.<b>,\n"
              "G.shape.<t>, G.counts and\n"
              "the same for D: the networks before the first step (float32 values). real.<s> {6, 144} and\n"
              "noise.d.<s>, noise.g.<s> {6, 8} for step s = 1, 2. <dtype>.step<s>.<stat> and\n"
              "<dtype>.step<s>.<net>.param.<p> / .buffer.<b> after step s; <dtype>.step<s>.<net>.allow.<kind>.<t>:\n"
              "an absolute allowance on top of the tolerance for tensors the rounding of a cancelling sum moves.")
    g = torch.Generator().manual_seed(500)
    torch.manual_seed(500)
    G, D = dcgan_networks()
    for net_name, net in (("G", G), ("D", D)):
        params = list(net.named_parameters())
        buffers = list(net.named_buffers())
        for pname, p in params:
            write_tensor_with_shape(w, net_name, "param", pname, p)
        for bname, b in buffers:
            write_tensor_with_shape(w, net_name, "buffer", bname, b)
        w.block(net_name + ".counts", [len(params), len(buffers), sum(p.numel() for _, p in params),
                                       sum(b.numel() for _, b in buffers)])
    inputs = []
    for s in range(1, DCGAN_STEPS + 1):
        real = torch.rand((DCGAN_BATCH, 1, 12, 12), generator=g) * 2 - 1
        z_d = torch.randn((DCGAN_BATCH, DCGAN_NOISE), generator=g)
        z_g = torch.randn((DCGAN_BATCH, DCGAN_NOISE), generator=g)
        w.block("real.%d" % s, real.reshape(DCGAN_BATCH, -1))
        w.block("noise.d.%d" % s, z_d)
        w.block("noise.g.%d" % s, z_g)
        inputs.append((real, z_d, z_g))
    w.block("lr", DCGAN_ADAM["lr"])
    w.block("beta1", DCGAN_ADAM["betas"][0])
    w.block("beta2", DCGAN_ADAM["betas"][1])
    w.block("eps", DCGAN_ADAM["eps"])
    w.block("real_label", DCGAN_REAL_LABEL)

    results = {}
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        g_net, d_net = copy.deepcopy(G).to(dtype), copy.deepcopy(D).to(dtype)
        opt_g = torch.optim.Adam(g_net.parameters(), **DCGAN_ADAM)
        opt_d = torch.optim.Adam(d_net.parameters(), **DCGAN_ADAM)
        unit = torch.finfo(dtype).eps / 2
        bias_allow = {"G": 0.0, "D": 0.0}
        for s, (real, z_d, z_g) in enumerate(inputs, start=1):
            hooks, seen = kink_inputs(g_net, d_net)
            sums = CancellingSums(g_net, d_net)
            stats = dcgan_step(g_net, d_net, opt_g, opt_d, real.to(dtype), z_d.to(dtype), z_g.to(dtype), sums)
            sums.remove()
            for h in hooks:
                h.remove()
            # Inputs of ReLU / LeakyReLU stay clear of the kink at 0 (float32 rounding cannot flip a side).
            assert min(seen) > 1e-5, (tag, s, min(seen))
            prefix = "%s.step%d" % (tag, s)
            for k in ("d_loss", "g_loss", "d_accuracy", "d_fake"):
                w.block("%s.%s" % (prefix, k), stats[k])
                results[(tag, s, k)] = torch.tensor([stats[k]], dtype=torch.float64)
            for net_name, net in (("G", g_net), ("D", d_net)):
                for pname, p in net.named_parameters():
                    w.block("%s.%s.param.%s" % (prefix, net_name, pname), as_rows(p))
                    results[(tag, s, net_name, pname)] = p.detach().to(torch.float64).reshape(-1).clone()
                for bname, b in net.named_buffers():
                    w.block("%s.%s.buffer.%s" % (prefix, net_name, bname), as_rows(b.reshape(1) if b.dim() == 0 else b))
                    results[(tag, s, net_name, bname)] = b.detach().to(torch.float64).reshape(-1).clone()
                # A bias whose exact gradient is 0 (it feeds a BatchNorm2d, which removes each
                # channel's mean) gets the rounding of a sum of n terms of total size S as its
                # gradient: at most n u S (u the unit roundoff). Adam turns gradients of at most
                # B into a step of at most lr min(1.06, B / eps) (1.06: the bound of
                # |m_hat| / sqrt(v_hat) for t <= 2 and beta1 0.5, sqrt(5 / 4.5)), of either sign
                # on either side: the two sides' biases may differ by twice that per step.
                # BatchNorm2d removes the bias from its output, but its running mean takes it in,
                # by the momentum in each pass after the biases first differ (both passes of a
                # step: 1 - 0.9^2 = 0.19 of the difference).
                layer, bn = DCGAN_CANCELLING[net_name]
                before = bias_allow[net_name]
                noise = sums.terms[net_name] * unit * sums.sums[net_name].max().item()
                bias_allow[net_name] += 2 * DCGAN_ADAM["lr"] * min(1.06, noise / DCGAN_ADAM["eps"])
                w.block("%s.%s.allow.param.%d.bias" % (prefix, net_name, layer), bias_allow[net_name])
                if before > 0:
                    w.block("%s.%s.allow.buffer.%d.running_mean" % (prefix, net_name, bn),
                            (1 - (1 - BN_MOMENTUM) ** 2) * before)

    # How far PyTorch's float32 step is from its float64 step, per tensor, relative to
    # max(|float64 value|, the tensor's rms) (the test's measure): the float32 problem is well
    # conditioned only if this is far below test_golden_step's float32 tolerance.
    worst = []
    for key, v32 in results.items():
        if key[0] != "f32":
            continue
        v64 = results[("f64",) + key[1:]]
        rms = v64.pow(2).mean().sqrt()
        err = ((v32 - v64).abs() / torch.maximum(v64.abs(), rms.expand_as(v64))).max().item()
        name = ".".join(str(k) for k in key[1:])
        cancelling = any(name.endswith("%s.%d.bias" % (n, l)) or name.endswith("%s.%d.running_mean" % (n, b))
                         for n, (l, b) in DCGAN_CANCELLING.items())
        worst.append((err, name, cancelling))
    worst.sort(reverse=True)
    print("dcgan_step: float32 against float64, worst tensors:")
    for err, name, cancelling in worst[:8]:
        print("  %-40s %.3g%s" % (name, err, " (cancelling)" if cancelling else ""))
    plain = max(err for err, _, c in worst if not c)
    w.comment("PyTorch's float32 step against its float64 step: worst %.3g (relative to max(|value|, rms));\n"
              "the tensors with an allowance left out." % plain)
    w.save()


def main():
    if not torch.__version__.startswith("1.13"):
        print("warning: these golden values are meant to come from PyTorch 1.13, this is %s" % torch.__version__,
              file=sys.stderr)
    write_adam()
    write_sgd()
    write_losses()
    write_network()
    write_conv()
    write_dcgan_step()


if __name__ == "__main__":
    main()
