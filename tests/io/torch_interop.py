"""Checkpoints move between xgan and PyTorch (run by CTest; needs python3-torch).

1. Loads xgan's checkpoint into nn.Sequential modules by state_dict name and checks that
   PyTorch computes xgan's G(z) and D(G(z)) from the case file.
2. Changes the generator's weights in PyTorch, writes them back into the checkpoint with
   numpy, and leaves PyTorch's G(z) in the case file for `interop_case --check`.
Exit code 77 (skipped) when torch is not installed, unless CI=true: CI installs
python3-torch and python3-numpy (scripts/install-deps), so there a missing torch fails.
"""
import os
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as missing:
    if os.environ.get("CI") == "true":
        print(f"FAILED: {missing}; CI must run this test (scripts/install-deps installs python3-torch, python3-numpy)")
        sys.exit(1)
    print(f"skipped: {missing}")
    sys.exit(77)

checkpoint, case = sys.argv[1], sys.argv[2]
saved = dict(np.load(checkpoint))
data = dict(np.load(case))

G = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 6), nn.Tanh())
D = nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(8, 1), nn.Sigmoid())


def state(prefix):
    return {k[len(prefix):]: torch.from_numpy(v) for k, v in saved.items() if k.startswith(prefix)}


# Strict loading: every name and shape must match. xgan keeps no num_batches_tracked
# counter (it matters only for momentum=None); BatchNorm1d accepts its absence.
G.load_state_dict(state("generator."))
D.load_state_dict(state("discriminator."))
G.eval()
D.eval()

# BatchNorm's buffers came from the checkpoint: the running statistics are xgan's, bit for
# bit, and 30 training steps moved them away from a fresh layer's (0 and 1), so the
# comparison below, in inference mode, depends on them. num_batches_tracked, which xgan
# does not store, is the fresh counter (0).
for name in ("running_mean", "running_var"):
    ours, theirs = saved["generator.1." + name], getattr(G[1], name).numpy()
    if not np.array_equal(ours, theirs):
        sys.exit(f"generator.1.{name}: PyTorch holds {theirs}, the checkpoint {ours}")
fresh = nn.BatchNorm1d(8)
moved = {n: np.abs(getattr(G[1], n).numpy() - getattr(fresh, n).numpy()).max() for n in ("running_mean", "running_var")}
print(f"BatchNorm's running statistics loaded; largest distance from a fresh layer's: {moved}")
if min(moved.values()) < 1e-3:
    sys.exit("the checkpoint's running statistics are a fresh layer's: the test would not see them lost")
if G[1].num_batches_tracked.item() != 0:
    sys.exit(f"num_batches_tracked is {G[1].num_batches_tracked.item()}, expected the fresh counter 0")

with torch.no_grad():
    fake = G(torch.from_numpy(data["z"]))
    score = D(fake)
for name, got in (("fake", fake), ("score", score)):
    err = np.abs(got.numpy() - data[name]).max()
    print(f"largest |torch - xgan| on {name}: {err:.3g}")
    if err > 1e-5:
        sys.exit(1)

# PyTorch -> xgan: new generator weights, written into the checkpoint with numpy.
with torch.no_grad():
    for p in G.parameters():
        p.mul_(1.5).add_(0.01)
    G[1].running_mean.add_(0.1)
    G[1].running_var.mul_(1.25)
    torch_fake = G(torch.from_numpy(data["z"]))
for k, v in G.state_dict().items():
    if k != "1.num_batches_tracked":
        saved["generator." + k] = v.numpy()
np.savez(checkpoint, **saved)
np.savez(case, torch_fake=torch_fake.numpy().astype(np.float32), **data)
