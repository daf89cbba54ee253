#!/usr/bin/python3
# Golden values for two whole steps of a conditional GAN, as xgan::AdversarialTrainer takes
# them with the noise given (step(real, labels, d_noise, g_noise)), computed with PyTorch 1.13.
#
# Regenerate (from anywhere; writes tests/conditional/data/step.txt):
#
#     /usr/bin/python3 tests/conditional/generate_step.py
#
# G: nn.Sequential(Linear(3 + 2, 8), LeakyReLU(0.2), Linear(8, 4), Tanh) on rows [z (3), onehot(y)];
# D: nn.Sequential(Linear(4 + 2, 8), LeakyReLU(0.2), Linear(8, 1)) on rows [x (4), onehot(y)] (a logit).
# Adam(lr 1e-2, betas (0.5, 0.999)) for both, the non-saturating loss, batch 4, 2 classes.
# One step: D's update on the real rows [x, onehot(y_real)] and the fake rows
# [G(z_d), onehot(y_d)], y_d the condition written in z_d's rows: BCE(D(real), 1) +
# BCE(D(fake), 0); then G's update on [G(z_g), onehot(y_g)] through the updated D:
# BCE(D(fake), 1). The values are float32 values written as float64; the step is taken in
# float64. Blocks: G.param.<name>, D.param.<name> (the start), step<s>.real, step<s>.labels,
# step<s>.d_noise, step<s>.g_noise (G's input rows with their one-hot), and after step s:
# step<s>.d_loss, step<s>.g_loss, step<s>.G.<name>, step<s>.D.<name>.
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "golden"))
import generate  # noqa: E402  (its Writer)

CLASSES = 2
BATCH = 4


def Writer(filename, description):
    return generate.Writer(filename, description, script="tests/conditional/generate_step.py",
                           data=os.path.join(HERE, "data"))


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def onehot(labels):
    return F.one_hot(torch.tensor(labels), CLASSES).to(torch.float64)


def main():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1564)
    f64 = dict(dtype=torch.float64)
    nn = torch.nn
    G = nn.Sequential(nn.Linear(3 + CLASSES, 8, **f64), nn.LeakyReLU(0.2), nn.Linear(8, 4, **f64), nn.Tanh())
    D = nn.Sequential(nn.Linear(4 + CLASSES, 8, **f64), nn.LeakyReLU(0.2), nn.Linear(8, 1, **f64))
    w = Writer("step.txt", "Two whole steps of a conditional GAN (one-hot concatenated), as PyTorch takes them.")
    with torch.no_grad():
        for net in (G, D):
            for p in net.parameters():
                p.copy_(f32(0.5 * torch.randn(p.shape, generator=gen, **f64)))
    for tag, net in (("G", G), ("D", D)):
        for name, p in net.named_parameters():
            w.block("%s.param.%s" % (tag, name), p.detach())
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    for s in range(2):
        real = f32(torch.rand(BATCH, 4, generator=gen, **f64) * 2 - 1)
        labels = torch.randint(0, CLASSES, (BATCH,), generator=gen).tolist()
        d_labels = torch.randint(0, CLASSES, (BATCH,), generator=gen).tolist()
        g_labels = torch.randint(0, CLASSES, (BATCH,), generator=gen).tolist()
        d_noise = torch.cat([f32(torch.randn(BATCH, 3, generator=gen, **f64)), onehot(d_labels)], 1)
        g_noise = torch.cat([f32(torch.randn(BATCH, 3, generator=gen, **f64)), onehot(g_labels)], 1)
        w.block("step%d.real" % s, real)
        w.block("step%d.labels" % s, [float(v) for v in labels])
        w.block("step%d.d_noise" % s, d_noise)
        w.block("step%d.g_noise" % s, g_noise)

        opt_d.zero_grad()
        real_logits = D(torch.cat([real, onehot(labels)], 1))
        fake_logits = D(torch.cat([G(d_noise).detach(), onehot(d_labels)], 1))
        d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        d_loss.backward()
        opt_d.step()

        opt_g.zero_grad()
        logits = D(torch.cat([G(g_noise), onehot(g_labels)], 1))
        g_loss = bce(logits, torch.ones_like(logits))
        g_loss.backward()
        opt_g.step()

        w.block("step%d.d_loss" % s, d_loss.item())
        w.block("step%d.g_loss" % s, g_loss.item())
        for tag, net in (("G", G), ("D", D)):
            for name, p in net.named_parameters():
                w.block("step%d.%s.%s" % (s, tag, name), p.detach())
    w.save()


if __name__ == "__main__":
    main()
