#!/usr/bin/env python3
"""W1 (the painting GAN), W2 (the MNIST MLP GAN) and W3 (the DCGAN) in PyTorch: bench/run's PyTorch row.

bench/README.md defines the workloads; xgan's row (bench/xgan_gan.cpp) and the other
peers (bench/peers/) do exactly the same work.

W1 `painting`, batch 64:
    G = Linear(5,128)-ReLU-Linear(128,15), D = Linear(15,128)-ReLU-Linear(128,1)-Sigmoid,
    nn.Linear's default initialisation, Adam(lr=1e-4, default betas) for both, the
    minimax losses as the tutorials write them (on D's probabilities, as they do):
        D_loss = -mean(log D(x) + log(1 - D(G(z))))
        G_loss =  mean(log(1 - D(G(z))))
W2 `mnist`, batch 128:
    G = Linear(100,256)-LReLU-Linear(256,512)-LReLU-Linear(512,1024)-LReLU-Linear(1024,784)-Tanh,
    D = Linear(784,1024)-LReLU-Dropout(0.3)-Linear(1024,512)-LReLU-Dropout(0.3)-
        Linear(512,256)-LReLU-Dropout(0.3)-Linear(256,1)[-Sigmoid], LeakyReLU slope 0.2,
    Keras' Dense initialisation (Xavier-uniform weights, zero biases),
    Adam(lr=2e-4, betas=(0.5, 0.999)) for both, binary cross-entropy:
        D_loss = mean BCE(D(x), 0.9) + mean BCE(D(G(z)), 0)
        G_loss = mean BCE(D(G(z)), 1)
    D's final Sigmoid is folded into the loss: D here returns logits and the loss is
    F.binary_cross_entropy_with_logits, PyTorch's idiomatic (fused, numerically stable)
    form of Sigmoid followed by BCE; the same function (bench/README.md). The real and
    the fake rows go through D as one batch of 256 (dropout active).
W3 `dcgan`, batch 64:
    G = Linear(100,6272)-Unflatten(128,7,7)-BatchNorm2d(128)-ReLU-ConvTranspose2d(128,64,4,2,1)-
        BatchNorm2d(64)-ReLU-ConvTranspose2d(64,1,4,2,1)-Tanh                      (1x28x28)
    D = Conv2d(1,64,4,2,1)-LReLU-Conv2d(64,128,4,2,1)-BatchNorm2d(128)-LReLU-Flatten-Linear(6272,1),
    LeakyReLU slope 0.2, PyTorch's default initialisation, Adam(lr=2e-4, betas=(0.5, 0.999))
    for both, BCE with logits, real label 1:
        D_loss = mean BCE(D(x), 1) + mean BCE(D(G(z)), 0)
        G_loss = mean BCE(D(G(z)), 1)
    Both nets stay in training mode (BatchNorm normalises with the batch's statistics);
    the real and the fake images go through D as one batch of 128, so D's BatchNorm sees
    their joint statistics, as in W2's single pass.

One step (both workloads): a D update on a real batch and G(z) (z fresh, G not
differentiated: the fakes are made under no_grad), then a G update through D on fresh
noise, D frozen (requires_grad_(False): its parameters get no gradient and no update;
in W2 it stays in training mode, so dropout is active, as in Keras' combined model).
Gradients are reset with zero_grad(set_to_none=True). The libtorch peer
(bench/peers/libtorch/) builds the same modules in the same order: with the same --seed
both start from the same weights and draw the same noise and dropout masks, so their
losses agree to the printed digits (a check that the two do the same work).

Real batches are made before timing and cycled through (W1: 64 batches of paintings
a x^2 + a - 1, a ~ U(1, 2), at 15 points on [-1, 1]; W2: 8 batches of 128 x 784 values
uniform in [-1, 1], stand-ins for the scaled pixels; W3: 8 batches of 64 x 1 x 28 x 28
such values), so the timed loop is the training step alone.

--threads N calls torch.set_num_threads(N) (ATen's OpenMP pool). It does not govern the
BLAS behind nn.Linear (Debian: OpenBLAS through libblas.so.3, with its own threads), so
bench/run also exports OPENBLAS_NUM_THREADS / OMP_NUM_THREADS = N and
OMP_WAIT_POLICY=PASSIVE (bench/README.md, Threads).

Prints one JSON line (the fields of bench/README.md; allocations_per_step is null, as
Python cannot count them; minor_faults_per_step over the timed steps, as the C++ harness;
extra: cpu_steps_per_s_median, steps per CPU-second of the whole process, all threads) and
one line for people.
Usage: torch_gan.py [--workload painting|mnist|dcgan] [--threads N] [--steps N] [--repeats R]
                    [--warmup W] [--seed S]
Needs a Python with torch (Debian's python3-torch: /usr/bin/python3).
"""
import argparse
import json
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as error:  # pragma: no cover - reported by bench/run
    print(f"torch_gan.py: PyTorch is not available ({error})", file=sys.stderr)
    sys.exit(3)

# Per workload: batch size and the harness' defaults (bench/harness/harness.cpp).
BATCH = {"painting": 64, "mnist": 128, "dcgan": 64}
DEFAULTS = {"painting": {"steps": 2000, "repeats": 7, "warmup": 500},
            "mnist": {"steps": 20, "repeats": 5, "warmup": 3},
            "dcgan": {"steps": 10, "repeats": 5, "warmup": 2}}


def painting(seed):
    """W1: returns (step, reals); step(real) does one training step, returns (d_loss, g_loss)."""
    batch, n_ideas, art_components, real_batches = BATCH["painting"], 5, 15, 64
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(n_ideas, 128), nn.ReLU(), nn.Linear(128, art_components))
    D = nn.Sequential(nn.Linear(art_components, 128), nn.ReLU(), nn.Linear(128, 1), nn.Sigmoid())
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-4)
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-4)
    d_params = list(D.parameters())

    points = torch.linspace(-1, 1, art_components).unsqueeze(0)
    reals = []
    for _ in range(real_batches):
        a = torch.empty(batch, 1).uniform_(1, 2)
        reals.append(a * points**2 + (a - 1))

    def step(real):
        # D update: real batch and G(z); G is not differentiated here.
        with torch.no_grad():
            fake = G(torch.randn(batch, n_ideas))
        prob_real = D(real)
        prob_fake = D(fake)
        d_loss = -torch.mean(torch.log(prob_real) + torch.log(1.0 - prob_fake))
        opt_D.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_D.step()

        # G update through D (frozen: its parameters receive no gradient) on fresh noise.
        for p in d_params:
            p.requires_grad_(False)
        prob_fake = D(G(torch.randn(batch, n_ideas)))
        g_loss = torch.mean(torch.log(1.0 - prob_fake))
        opt_G.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_G.step()
        for p in d_params:
            p.requires_grad_(True)
        return d_loss, g_loss

    return step, reals


def keras_dense(n_in, n_out):
    """nn.Linear initialised like Keras' Dense: Xavier (Glorot) uniform weight, zero bias."""
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mnist(seed):
    """W2: returns (step, reals); step(real) does one training step, returns (d_loss, g_loss)."""
    batch, noise, pixels, real_batches = BATCH["mnist"], 100, 784, 8
    torch.manual_seed(seed)
    G = nn.Sequential(keras_dense(noise, 256), nn.LeakyReLU(0.2), keras_dense(256, 512), nn.LeakyReLU(0.2),
                      keras_dense(512, 1024), nn.LeakyReLU(0.2), keras_dense(1024, pixels), nn.Tanh())
    # D's logits; the Sigmoid is inside binary_cross_entropy_with_logits.
    D = nn.Sequential(keras_dense(pixels, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      keras_dense(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      keras_dense(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      keras_dense(256, 1))
    G.train()
    D.train()  # also during G's update: dropout stays active, as in Keras' combined model
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_params = list(D.parameters())

    reals = [torch.empty(batch, pixels).uniform_(-1, 1) for _ in range(real_batches)]
    real_labels = torch.full((batch, 1), 0.9)  # one-sided label smoothing
    fake_labels = torch.zeros(batch, 1)
    generator_labels = torch.ones(batch, 1)  # the non-saturating loss

    def step(real):
        # D update on the real rows and G(z) as one batch; G is not differentiated here.
        with torch.no_grad():
            fake = G(torch.randn(batch, noise))
        logits = D(torch.cat((real, fake)))
        d_loss = (F.binary_cross_entropy_with_logits(logits[:batch], real_labels) +
                  F.binary_cross_entropy_with_logits(logits[batch:], fake_labels))
        opt_D.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_D.step()

        # G update through D (frozen: its parameters receive no gradient; still in
        # training mode) on fresh noise.
        for p in d_params:
            p.requires_grad_(False)
        logits = D(G(torch.randn(batch, noise)))
        g_loss = F.binary_cross_entropy_with_logits(logits, generator_labels)
        opt_G.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_G.step()
        for p in d_params:
            p.requires_grad_(True)
        return d_loss, g_loss

    return step, reals


def dcgan(seed):
    """W3: returns (step, reals); step(real) does one training step, returns (d_loss, g_loss)."""
    batch, noise, real_batches = BATCH["dcgan"], 100, 8
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(noise, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
                      nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh())
    # D's logit; the Sigmoid is inside binary_cross_entropy_with_logits.
    D = nn.Sequential(nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    G.train()
    D.train()  # also during G's update: BatchNorm normalises with the batch's statistics
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_params = list(D.parameters())

    reals = [torch.empty(batch, 1, 28, 28).uniform_(-1, 1) for _ in range(real_batches)]
    real_labels = torch.ones(batch, 1)
    fake_labels = torch.zeros(batch, 1)

    def step(real):
        # D update on the real and the fake images as one batch; G is not differentiated here.
        with torch.no_grad():
            fake = G(torch.randn(batch, noise))
        logits = D(torch.cat((real, fake)))
        d_loss = (F.binary_cross_entropy_with_logits(logits[:batch], real_labels) +
                  F.binary_cross_entropy_with_logits(logits[batch:], fake_labels))
        opt_D.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_D.step()

        # G update through D (frozen: its parameters receive no gradient; still in
        # training mode) on fresh noise, the non-saturating loss.
        for p in d_params:
            p.requires_grad_(False)
        logits = D(G(torch.randn(batch, noise)))
        g_loss = F.binary_cross_entropy_with_logits(logits, real_labels)
        opt_G.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_G.step()
        for p in d_params:
            p.requires_grad_(True)
        return d_loss, g_loss

    return step, reals


WORKLOADS = {"painting": painting, "mnist": mnist, "dcgan": dcgan}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=tuple(WORKLOADS), default="painting")
    parser.add_argument("--threads", type=int, default=1)
    # 0 or absent: the workload's default, as in the C++ harness.
    parser.add_argument("--steps", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if min(args.steps, args.repeats, args.warmup or 0, args.seed) < 0:
        parser.error("--steps, --repeats, --warmup and --seed must not be negative")
    defaults = DEFAULTS[args.workload]
    steps = args.steps or defaults["steps"]
    repeats = args.repeats or defaults["repeats"]
    warmup = defaults["warmup"] if args.warmup is None else args.warmup

    torch.set_num_threads(args.threads)
    step, reals = WORKLOADS[args.workload](args.seed)

    state = {"next": 0, "d_loss": None, "g_loss": None}

    def run(n):
        nxt = state["next"]
        d_loss = g_loss = None
        for _ in range(n):
            d_loss, g_loss = step(reals[nxt])
            nxt = (nxt + 1) % len(reals)
        state["next"] = nxt
        if d_loss is not None:  # read the losses once per run, not once per step
            state["d_loss"] = float(d_loss)
            state["g_loss"] = float(g_loss)

    if warmup > 0:
        run(warmup)
    rates, cpu_rates, faults = [], [], 0
    for _ in range(repeats):
        faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        cpu_start = time.process_time()
        start = time.perf_counter()
        run(steps)
        rates.append(steps / (time.perf_counter() - start))
        faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
        # CPU time of the whole process (all threads, spinning ones included).
        cpu_rates.append(steps / (time.process_time() - cpu_start))

    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    median, cpu_median = statistics.median(rates), statistics.median(cpu_rates)
    print(json.dumps({
        "benchmark": args.workload, "implementation": "pytorch", "version": torch.__version__,
        "threads": args.threads, "batch": BATCH[args.workload], "steps": steps, "repeats": repeats,
        "warmup": warmup, "steps_per_s_median": round(median, 3), "steps_per_s_min": round(min(rates), 3),
        "steps_per_s_max": round(max(rates), 3), "steps_per_s_each": [round(r, 3) for r in rates],
        "allocations_per_step": None, "peak_rss_kib": peak_rss_kib,
        "final_d_loss": round(state["d_loss"], 6), "final_g_loss": round(state["g_loss"], 6),
        "minor_faults_per_step": round(faults / (steps * repeats), 1),
        "cpu_steps_per_s_median": round(cpu_median, 3)}, separators=(",", ":")))
    print(f"pytorch {torch.__version__} {args.workload}, {args.threads} thread(s): {median:.1f} steps/s median "
          f"(min {min(rates):.1f}, max {max(rates):.1f}) over {repeats} x {steps} steps "
          f"[{cpu_median:.1f} steps per CPU-second]; peak RSS {peak_rss_kib / 1024:.1f} MiB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
