#!/usr/bin/env python3
"""W1, the painting GAN, in PyTorch: the reference for bench/painting.cpp.

G = Linear(5,128)-ReLU-Linear(128,15), D = Linear(15,128)-ReLU-Linear(128,1)-Sigmoid,
nn.Linear's default initialisation, batch 64, Adam(lr=1e-4, default betas) for both,
the minimax losses as the tutorials write them:
    D_loss = -mean(log D(x) + log(1 - D(G(z))))
    G_loss =  mean(log(1 - D(G(z))))
One step: D update on a real batch and G(z) (z fresh, G not differentiated), then a
G update through D on fresh noise. One thread (torch.set_num_threads(1)).

Real batches (a x^2 + a - 1, a ~ U(1, 2), 15 points on [-1, 1]) are drawn before
timing and cycled through, as in bench/painting.cpp, so the timed loop is the
training step alone.

Prints one JSON line and one human-readable line, like xgan_bench_painting.
Usage: painting_torch.py [--steps N] [--repeats R] [--warmup W] [--seed S]
"""
import argparse
import json
import resource
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - reported by bench/run
    print(f"painting_torch.py: PyTorch is not available ({error})", file=sys.stderr)
    sys.exit(3)

BATCH = 64
N_IDEAS = 5
ART_COMPONENTS = 15
REAL_BATCHES = 64
LR = 1e-4


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    G = nn.Sequential(nn.Linear(N_IDEAS, 128), nn.ReLU(), nn.Linear(128, ART_COMPONENTS))
    D = nn.Sequential(nn.Linear(ART_COMPONENTS, 128), nn.ReLU(), nn.Linear(128, 1), nn.Sigmoid())
    opt_G = torch.optim.Adam(G.parameters(), lr=LR)
    opt_D = torch.optim.Adam(D.parameters(), lr=LR)
    d_params = list(D.parameters())

    points = torch.linspace(-1, 1, ART_COMPONENTS).unsqueeze(0)
    reals = []
    for _ in range(REAL_BATCHES):
        a = torch.empty(BATCH, 1).uniform_(1, 2)
        reals.append(a * points**2 + (a - 1))

    state = {"next": 0, "d_loss": 0.0, "g_loss": 0.0}

    def run(steps):
        nxt = state["next"]
        d_loss = g_loss = None
        for _ in range(steps):
            real = reals[nxt]
            nxt = (nxt + 1) % REAL_BATCHES

            # D update: real batch and G(z); G is not differentiated here.
            with torch.no_grad():
                fake = G(torch.randn(BATCH, N_IDEAS))
            prob_real = D(real)
            prob_fake = D(fake)
            d_loss = -torch.mean(torch.log(prob_real) + torch.log(1.0 - prob_fake))
            opt_D.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_D.step()

            # G update through D (frozen: its parameters receive no gradient) on fresh noise.
            for p in d_params:
                p.requires_grad_(False)
            prob_fake = D(G(torch.randn(BATCH, N_IDEAS)))
            g_loss = torch.mean(torch.log(1.0 - prob_fake))
            opt_G.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_G.step()
            for p in d_params:
                p.requires_grad_(True)
        state["next"] = nxt
        if d_loss is not None:
            state["d_loss"] = float(d_loss)
            state["g_loss"] = float(g_loss)

    run(max(args.warmup, 1))
    rates, cpu_rates = [], []
    for _ in range(args.repeats):
        cpu_start = time.thread_time()
        start = time.perf_counter()
        run(args.steps)
        rates.append(args.steps / (time.perf_counter() - start))
        # CPU time of this thread: steadier than wall time on a shared machine.
        cpu_rates.append(args.steps / (time.thread_time() - cpu_start))

    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    median = statistics.median(rates)
    print(json.dumps({
        "benchmark": "painting", "implementation": "pytorch", "torch_version": torch.__version__,
        "batch": BATCH, "steps": args.steps, "repeats": args.repeats, "warmup": args.warmup,
        "steps_per_s_median": round(median, 1), "steps_per_s_min": round(min(rates), 1),
        "steps_per_s_max": round(max(rates), 1),
        "cpu_steps_per_s_median": round(statistics.median(cpu_rates), 1), "allocations_per_step": None,
        "peak_rss_kib": peak_rss_kib, "final_d_loss": state["d_loss"], "final_g_loss": state["g_loss"],
        "threads": torch.get_num_threads()}, separators=(",", ":")))
    print(f"PyTorch {torch.__version__} painting GAN: {median:.0f} steps/s median (min {min(rates):.0f}, "
          f"max {max(rates):.0f}) over {args.repeats} x {args.steps} steps "
          f"[{statistics.median(cpu_rates):.0f} steps per CPU-second]; peak RSS {peak_rss_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
