#!/usr/bin/env python3
"""Compile time and peak compiler memory of each example, with g++ and clang++, at -O2.

Usage: bench/compile_times.py [--repeats N] [--compilers "g++ clang++-14"]

Configures the examples (build-compile-times/, compile_commands.json) to learn each
example's exact compile command, then for each compiler recompiles every example
N times (default 3) with -O2 in place of the build type's flags, one at a time, and
prints the median wall time and the compiler's peak resident memory (the largest
ru_maxrss among the compiler's processes: cc1plus for g++, clang itself for clang++).
Run it on an otherwise idle machine: the times are wall-clock.
"""
import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-compile-times")


def measure(command):
    """Runs command in a fresh child Python, so RUSAGE_CHILDREN covers only this compile."""
    probe = ("import resource, subprocess, sys, time, json\n"
             "start = time.perf_counter()\n"
             "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
             "seconds = time.perf_counter() - start\n"
             "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
             "print(json.dumps({'code': code, 'seconds': seconds, 'peak_kib': peak}))\n")
    out = subprocess.run([sys.executable, "-c", probe] + command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compilers", default="g++ clang++-14")
    args = parser.parse_args()

    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release", "-DXGAN_BUILD_EXAMPLES=ON",
                    "-DXGAN_BUILD_TESTS=OFF", "-DXGAN_INSTALL=OFF", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"],
                   check=True, stdout=subprocess.DEVNULL)
    entries = [e for e in json.load(open(os.path.join(BUILD, "compile_commands.json")))
               if os.sep + "examples" + os.sep in e["file"]]
    entries.sort(key=lambda e: e["file"])

    results = []
    for compiler in args.compilers.split():
        path = shutil.which(compiler)
        if path is None:
            print(f"{compiler}: not installed, skipped", file=sys.stderr)
            continue
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        for entry in entries:
            words = shlex.split(entry["command"])
            flags = [w for w in words[1:] if not (w.startswith("-O") or w in ("-DNDEBUG", "-g"))]
            # Compile only (-c), to a scratch object, with -O2 -DNDEBUG.
            out_index = flags.index("-o")
            flags[out_index + 1] = os.path.join(BUILD, "scratch.o")
            command = [path, "-O2", "-DNDEBUG"] + flags
            runs = []
            for _ in range(args.repeats):
                r = measure(command)
                if r["code"] != 0:
                    sys.exit(f"compile failed: {shlex.join(command)}")
                runs.append(r)
            name = os.path.basename(entry["file"])
            seconds = statistics.median(r["seconds"] for r in runs)
            peak = max(r["peak_kib"] for r in runs)
            results.append((version, name, seconds, peak))
            print(f"{compiler} {name}: {seconds:.1f} s, {peak / 1024:.0f} MiB", file=sys.stderr)

    print()
    print(f"Compile time (median of {args.repeats}, wall clock, one file at a time) and peak compiler memory, -O2:")
    header = ["compiler", "example", "seconds", "peak memory"]
    lines = [[v, n, f"{s:.1f}", f"{p / 1024:.0f} MiB"] for v, n, s, p in results]
    widths = [max(len(x) for x in col) for col in zip(header, *lines)]
    for line in [header, ["-" * w for w in widths]] + lines:
        print("  ".join(x.ljust(w) if i < 2 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths))))


if __name__ == "__main__":
    main()
