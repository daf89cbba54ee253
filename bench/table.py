#!/usr/bin/env python3
"""Prints bench/run's table from the rows' JSON lines.

Usage: table.py RESULTS.jsonl CORETYPE NPROC [MISSING...]

One block per workload and thread count. For every row: steps/s (median, min-max),
how many times faster xgan is than that row, the achieved GFLOP/s (the step's matrix
product FLOPs, counted by the sgemm row, times steps/s), its share of the sgemm
ceiling, peak RSS, heap allocations and minor page faults per step. Ratios between rows
that ran alternately are medians of the ratios within each round (see ratio()).

Every peer runs twice: at its defaults (label "pytorch", ...) and with glibc's malloc
tuned (label "pytorch-tuned", ...: GLIBC_TUNABLES raising the mmap and trim thresholds,
bench/README.md). Under each block: xgan against the fastest peer at its best (the
faster of a peer's two rows) and against every peer at its defaults.
"""
import json
import statistics
import sys

NAMES = {"sgemm": "sgemm ceiling (OpenBLAS only)", "xgan": "xgan", "xgan-onednn": "xgan (oneDNN sgemm)",
         "pytorch": "PyTorch", "libtorch": "libtorch", "dlib": "dlib"}
PEERS = ("pytorch", "libtorch", "dlib")
TUNED = "-tuned"  # the label suffix of a peer's row run with glibc's malloc tuned
WORKLOADS = {"painting": "W1 painting GAN (batch 64)", "mnist": "W2 MNIST MLP GAN (batch 128)",
             "dcgan": "W3 DCGAN (batch 64)"}


def label_of(row):
    return row.get("label", row["implementation"])


def name(row):
    label = label_of(row)
    tuned = label.endswith(TUNED)
    base_label = label[:-len(TUNED)] if tuned else label
    base = NAMES.get(base_label, base_label)
    if label == "sgemm":
        return f"{base}, {row['version']} kernels"
    return f"{base} {row['version']}" + (" (malloc tuned)" if tuned else "")


def peer_of(row):
    """The peer a row belongs to ("pytorch", ...), or None for xgan and the ceiling."""
    label = label_of(row)
    base = label[:-len(TUNED)] if label.endswith(TUNED) else label
    return base if base in PEERS else None


def ratio(a, b):
    """a's speed over b's: for two rows run alternately (bench/alternate.py), the median
    of the ratios within each round, in which both saw the same phase of the machine;
    otherwise the ratio of the medians."""
    each_a, each_b = a.get("steps_per_s_each"), b.get("steps_per_s_each")
    if a.get("alternated") and b.get("alternated") and each_a and each_b and len(each_a) == len(each_b):
        return statistics.median(x / y for x, y in zip(each_a, each_b))
    return a["steps_per_s_median"] / b["steps_per_s_median"]


def rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def print_peer_summary(block, xgan, who="xgan"):
    """xgan (row xgan, called `who`) against the fastest peer at its best and against every
    peer at its defaults."""
    best = {}  # peer -> its faster row (default or malloc tuned)
    for r in block:
        peer = peer_of(r)
        if peer and (peer not in best or r["steps_per_s_median"] > best[peer]["steps_per_s_median"]):
            best[peer] = r
    if not best:
        return
    fastest = max(best.values(), key=lambda r: r["steps_per_s_median"])
    if xgan is None:
        print(f"fastest peer at its best: {name(fastest)}, {rate(fastest['steps_per_s_median'])} steps/s "
              "(no xgan row to compare)")
        return
    print(f"{who} against the fastest peer at its best ({name(fastest)}): {ratio(xgan, fastest):.2f}x")
    defaults = [r for r in block if peer_of(r) and not label_of(r).endswith(TUNED)]
    if defaults:
        print(f"{who} against each peer at its defaults: " +
              ", ".join(f"{name(r)} {ratio(xgan, r):.2f}x" for r in defaults))


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    coretype, nproc, missing = sys.argv[2], sys.argv[3], sys.argv[4:]
    print()
    print(f"OPENBLAS_CORETYPE: {coretype}; {nproc} CPUs; every row with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = "
          "threads and OMP_WAIT_POLICY=PASSIVE,")
    print("except xgan's W3 rows: xgan::set_threads(threads), its products on one BLAS thread each")
    blocks = []
    for r in rows:
        key = (r["benchmark"], r["threads"])
        if key not in blocks:
            blocks.append(key)
    for workload, threads in blocks:
        block = [r for r in rows if r["benchmark"] == workload and r["threads"] == threads]
        ceiling = next((r for r in block if r.get("label") == "sgemm"), None)
        xgan = next((r for r in block if r.get("label") == "xgan"), None)
        counted = next((r for r in block if r.get("flop_per_step")), None)  # the ceiling's, normally
        flop = float(counted["flop_per_step"]) if counted else None
        r0 = xgan or block[0]
        print()
        print(f"{WORKLOADS.get(workload, workload)}, {threads} thread(s): median of {r0['repeats']} x "
              f"{r0['steps']} steps" + (f", {flop / 1e6:,.1f} MFLOP of matrix products per step" if flop else ""))
        header = ["implementation", "steps/s (min-max)", "xgan is", "GFLOP/s", "of sgemm", "peak RSS",
                  "allocs/step", "faults/step"]
        lines = []
        for r in block:
            median = r["steps_per_s_median"]
            faster = "" if xgan is None or r is xgan or r.get("label") == "sgemm" else f"{ratio(xgan, r):.2f}x"
            gflops = "" if flop is None else f"{flop * median / 1e9:.1f}"
            share = "" if ceiling is None else f"{100 * ratio(r, ceiling):.0f}%"
            allocs = "n/a" if r.get("allocations_per_step") is None else f"{r['allocations_per_step']:g}"
            faults = "" if r.get("minor_faults_per_step") is None else f"{r['minor_faults_per_step']:,.0f}"
            lines.append([name(r), f"{rate(median)} ({rate(r['steps_per_s_min'])}-{rate(r['steps_per_s_max'])})",
                          faster, gflops, share, f"{r['peak_rss_kib'] / 1024:.0f} MiB", allocs, faults])
        widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
        for line in [header, ["-" * w for w in widths]] + lines:
            print("  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                            for i, (x, w) in enumerate(zip(line, widths))))
        # The oneDNN row rounds its products differently: its parameters are not compared.
        printed = [r for r in block if r.get("parameter_fingerprint") and r.get("label") != "xgan-onednn"]
        fingerprints = {r["parameter_fingerprint"] for r in printed}
        if len(fingerprints) > 1:
            print("note: the xgan rows' parameter fingerprints differ: "
                  + ", ".join(f"{r['label']}={r['parameter_fingerprint']}" for r in printed))
        elif len(printed) > 1:
            print(f"the xgan rows end with bit-identical parameters (fingerprint {fingerprints.pop()})")
        print_peer_summary(block, xgan)
        onednn = next((r for r in block if r.get("label") == "xgan-onednn"), None)
        if onednn is not None:
            print_peer_summary(block, onednn, NAMES["xgan-onednn"])
    print()
    print("xgan is: xgan's steps/s over the row's. of sgemm: the row's steps/s over the sgemm ceiling's, i.e. the "
          "share of OpenBLAS's speed on the step's own products. Between the rows run alternately (the ceiling and "
          "xgan), both are the median of the ratios within each round; for the others, the ratio of the medians. "
          "allocs/step: calls to global operator new per timed step (n/a: not countable from Python). "
          "faults/step: minor page faults per timed step, pages the kernel mapped and zeroed anew. "
          "(malloc tuned): the same peer with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:"
          "glibc.malloc.trim_threshold=4294967296, so that glibc's malloc keeps freed large blocks instead of "
          "unmapping them (bench/README.md).")
    for m in missing:
        print(f"not measured: {m}")


if __name__ == "__main__":
    main()
