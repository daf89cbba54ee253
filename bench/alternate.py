#!/usr/bin/env python3
"""Times several benchmark programs in alternation, for `bench/run`.

usage: bench/alternate.py PROGRAM... -- [BENCHMARK ARGS...]

Runs the programs in turn, each with its own warm-up and one timed repetition, R
rounds (R from --repeats in the arguments, else the harness's default: 7 for painting,
5 for mnist and dcgan), then prints, as the harness does, one JSON line per program, in the order
given, on stdout: steps/s median, min and max over that program's R repetitions. The
machine's speed drifts over minutes (a VM with neighbours); timed one after the other,
two programs see different phases of the drift, alternated they see the same, so their
ratio is the programs' and not the hour's. bench/run alternates the sgemm ceiling with
xgan (and with xgan at an older revision, for --before). Each run's own output goes to
stderr.
"""
import json
import statistics
import subprocess
import sys


def main():
    if "--" not in sys.argv[1:] or sys.argv.index("--") < 2:
        sys.exit(__doc__.strip().splitlines()[2])
    split = sys.argv.index("--")
    programs, args = sys.argv[1:split], sys.argv[split + 1:]
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
        # alternated: steps_per_s_each[i] of every program here ran in the same round i.
        merged.update(alternated=True, repeats=repeats, steps_per_s_median=statistics.median(speeds),
                      steps_per_s_min=min(speeds),
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
