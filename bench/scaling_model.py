#!/usr/bin/env python3
"""Model of a data-parallel step's time on N = 1..64 nodes (docs/scaling.md).

    step(N) = rows(N) / B * (1 - f) * t1  +  f * t1  +  allreduce(N)

t1: one process's step on the workload's batch B (one thread, measured: bench/run or
bench/run-mpi); f: the part of it that does not shrink with the rows a rank holds (the
optimizer's update over every parameter, and the averaging pass over the gradient);
rows(N): the rows a rank trains on (B / N for a fixed batch, "strong"; B for a batch that
grows with N, "weak"). allreduce(N): one ring allreduce per update over the network's
gradient (4 bytes a parameter), D's then G's,

    ring(S, N) = 2 (N - 1) alpha  +  2 (N - 1) / N * S / beta

plus the refusal agreement (one MPI_Allgather of a byte, ceil(log2 N) latencies) per update.
The links: 10 Gbit/s Ethernet (alpha 20 us, TCP) and 100 Gbit/s (alpha 2 us, RDMA), at their
nominal bandwidth: an optimistic bound. Prints Markdown tables.

Usage: bench/scaling_model.py [--w2-ms 47] [--w3-ms 145]
"""
import argparse
import math

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
# One thread, OpenBLAS: W2 21.3 steps/s, W3 6.91 steps/s (docs/performance.md, "Product backends").
ap.add_argument("--w2-ms", type=float, default=1000 / 21.3, help="W2 step on one thread, ms (batch 128)")
ap.add_argument("--w3-ms", type=float, default=1000 / 6.91, help="W3 step on one thread, ms (batch 64)")
args = ap.parse_args()

# Parameter counts (bench/xgan_gan.cpp's networks; Example 03 and 04 print them).
workloads = [
    # name, batch, G params, D params, t1 (s), fixed fraction f
    ("W2 (MNIST MLP GAN)", 128, 1_486_352, 1_460_225, args.w2_ms / 1e3, 0.05),
    ("W3 (DCGAN)", 64, 766_017, 138_817, args.w3_ms / 1e3, 0.01),
]
links = [("10 Gbit/s", 10e9 / 8, 20e-6), ("100 Gbit/s", 100e9 / 8, 2e-6)]
nodes = [1, 2, 4, 8, 16, 32, 64]


def ring(size_bytes, n, beta, alpha):
    if n == 1:
        return 0.0
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * size_bytes / beta


def allreduce(g, d, n, beta, alpha):
    agree = math.ceil(math.log2(n)) * alpha if n > 1 else 0.0
    return ring(4 * d, n, beta, alpha) + ring(4 * g, n, beta, alpha) + 2 * agree


for name, batch, g, d, t1, f in workloads:
    print(f"### {name}: G {g:,} + D {d:,} parameters, {4 * (g + d) / 1e6:.1f} MB of gradient a step; "
          f"one thread {t1 * 1e3:.0f} ms a step of {batch} rows\n")
    for mode in ("strong", "weak"):
        title = (f"the batch stays {batch} (B / N rows a rank)" if mode == "strong"
                 else f"{batch} rows a rank (the batch grows to N x {batch})")
        print(f"{title}:\n")
        head = "| N | rows a rank |" + "".join(f" {l} step (ms) | comm share | speed-up |" for l, _, _ in links)
        print(head)
        print("|" + "---|" * (2 + 3 * len(links)))
        for n in nodes:
            rows = batch / n if mode == "strong" else batch
            if rows < 1:
                continue
            compute = rows / batch * (1 - f) * t1 + f * t1
            cells = f"| {n} | {rows:g} |"
            for _, beta, alpha in links:
                comm = allreduce(g, d, n, beta, alpha)
                step = compute + comm
                # speed-up in rows trained per second over one thread
                speed = (n * rows / step) / (batch / t1)
                cells += f" {step * 1e3:.1f} | {comm / step:.0%} | {speed:.1f} |"
            print(cells)
        print()
