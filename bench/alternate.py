#!/usr/bin/env python3
"""Times two builds of xgan's benchmark in alternation, for `bench/run --before REV`.

usage: bench/alternate.py PROGRAM_A PROGRAM_B [BENCHMARK ARGS...]

Runs A, B, A, B, ... each with its own warm-up and one timed repetition (R times each,
R from --repeats in the arguments, else the harness's default: 7 for painting, 5 for
mnist), then prints, as the harness does, one JSON line for A and one for B on stdout:
steps/s median, min and max over that program's R repetitions. The machine's speed
drifts over minutes (a VM with neighbours); timed one after the other, two builds see
different phases of the drift, alternated they see the same, so their ratio is the
builds' and not the hour's. Each run's own output goes to stderr.
"""
import json
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    programs, args = sys.argv[1:3], sys.argv[3:]
    repeats = None
    passed = []
    i = 0
    while i < len(args):
        if args[i] == "--repeats" and i + 1 < len(args):
            repeats = int(args[i + 1])
            i += 2
        else:
            passed.append(args[i])
            i += 1
    if repeats is None:
        workload = args[args.index("--workload") + 1] if "--workload" in args else "painting"
        repeats = 7 if workload == "painting" else 5

    runs = {p: [] for p in programs}
    for _ in range(repeats):
        for p in programs:
            out = subprocess.run([p, *passed, "--repeats", "1"], capture_output=True, text=True, check=True).stdout
            sys.stderr.write(out)
            runs[p].append(json.loads(out.splitlines()[0]))

    for p in programs:
        rows = runs[p]
        speeds = [r["steps_per_s_median"] for r in rows]
        merged = dict(rows[-1])
        merged.update(repeats=repeats, steps_per_s_median=statistics.median(speeds), steps_per_s_min=min(speeds),
                      steps_per_s_max=max(speeds), steps_per_s_each=speeds,
                      peak_rss_kib=max(r["peak_rss_kib"] for r in rows))
        if all(r.get("allocations_per_step") is not None for r in rows):
            merged["allocations_per_step"] = max(r["allocations_per_step"] for r in rows)
        fingerprints = {r.get("parameter_fingerprint") for r in rows}
        if len(fingerprints) > 1:  # the same seed and steps must end the same: say so if not
            merged["parameter_fingerprint"] = "varies between repetitions"
        print(json.dumps(merged, separators=(",", ":")))


if __name__ == "__main__":
    main()
