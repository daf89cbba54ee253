#!/usr/bin/env python3
"""Compile time and peak compiler memory of each example, with g++ and clang++, at -O2.

Usage: bench/compile_times.py [--repeats N] [--compilers "g++ clang++-14"]
                              [--full-build TARGET] [--build DIR]

Configures the examples (build-compile-times/, compile_commands.json) to learn the exact
compile command of each example's source and of the examples' support library
(examples/support/: the command line, the only source that includes CLI11, and the
image examples' options and training loop, compiled once and linked by every example). Then, for each compiler, it recompiles each of those
sources N times (default 3) with -O2 in place of the build type's flags, one at a time,
and prints the median wall time and the compiler's peak resident memory (the largest
ru_maxrss among the compiler's processes: cc1plus for g++, clang itself for clang++).

Last, for each compiler, it builds one example's CMake target from scratch N times,
serially (make -j1, -O2): the support library, the example and the links, which is
what a user who builds only that example waits for. --full-build names the target
(default 01_painting_gan; "" skips this). Run it on an otherwise idle machine: the
times are wall-clock.
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(command, cwd=None):
    """Runs command in a fresh child Python, so RUSAGE_CHILDREN covers only this command."""
    probe = ("import resource, subprocess, sys, time, json\n"
             "start = time.perf_counter()\n"
             "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
             "seconds = time.perf_counter() - start\n"
             "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
             "print(json.dumps({'code': code, 'seconds': seconds, 'peak_kib': peak}))\n")
    out = subprocess.run([sys.executable, "-c", probe] + command, check=True, capture_output=True, text=True,
                         cwd=cwd)
    return json.loads(out.stdout)


def repeat(command, repeats, before=None):
    """Median seconds and largest peak memory of `repeats` runs of command (before: run first, untimed)."""
    runs = []
    for _ in range(repeats):
        if before is not None:
            subprocess.run(before, check=True, stdout=subprocess.DEVNULL)
        r = measure(command)
        if r["code"] != 0:
            sys.exit(f"failed: {shlex.join(command)}")
        runs.append(r)
    return statistics.median(r["seconds"] for r in runs), max(r["peak_kib"] for r in runs)


def label(path):
    """What a source is, for the table: an example's file, or the support library's, marked as such."""
    relative = os.path.relpath(path, os.path.join(ROOT, "examples"))
    if relative.startswith("support" + os.sep):
        return f"{relative} (once, for all examples)"
    return relative


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compilers", default="g++ clang++-14")
    parser.add_argument("--full-build", default="01_painting_gan", metavar="TARGET",
                        help="example target to build from scratch, serially (\"\": none)")
    parser.add_argument("--build", default=os.path.join(ROOT, "build-compile-times"), metavar="DIR",
                        help="scratch build folder (default: build-compile-times/ in the checkout)")
    args = parser.parse_args()
    build = os.path.abspath(args.build)

    configure = ["cmake", "-S", ROOT, "-DXGAN_BUILD_EXAMPLES=ON", "-DXGAN_BUILD_TESTS=OFF", "-DXGAN_INSTALL=OFF"]
    subprocess.run(configure + ["-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"],
                   check=True, stdout=subprocess.DEVNULL)
    entries = [e for e in json.load(open(os.path.join(build, "compile_commands.json")))
               if os.sep + "examples" + os.sep in e["file"]]
    # The examples in order, then the support library.
    entries.sort(key=lambda e: ("support" + os.sep in e["file"], e["file"]))
    # 07_exported_curves.cpp includes the header 07_export_painting writes: made once, untimed.
    if any(os.path.basename(e["file"]) == "07_exported_curves.cpp" for e in entries):
        subprocess.run(["cmake", "--build", build, "--target", "07_exported_curves"], check=True,
                       stdout=subprocess.DEVNULL)

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
            flags[out_index + 1] = os.path.join(build, "scratch.o")
            seconds, peak = repeat([path, "-O2", "-DNDEBUG"] + flags, args.repeats)
            name = label(entry["file"])
            results.append((version, name, seconds, peak))
            print(f"{compiler} {name}: {seconds:.1f} s, {peak / 1024:.0f} MiB", file=sys.stderr)

        if args.full_build:
            # A build folder of its own per compiler, at -O2; each repeat starts from `make clean`.
            target_build = os.path.join(build, "full-build-" + compiler)
            subprocess.run(configure + ["-B", target_build, "-DCMAKE_BUILD_TYPE=Release",
                                        f"-DCMAKE_CXX_COMPILER={path}", "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"],
                           check=True, stdout=subprocess.DEVNULL)
            command = ["cmake", "--build", target_build, "--target", args.full_build, "-j", "1"]
            before = ["cmake", "--build", target_build, "--target", "clean"]
            seconds, peak = repeat(command, args.repeats, before)
            name = f"{args.full_build}: whole target, from scratch, -j1"
            results.append((version, name, seconds, peak))
            print(f"{compiler} {name}: {seconds:.1f} s, {peak / 1024:.0f} MiB", file=sys.stderr)

    print()
    print(f"Compile time (median of {args.repeats}, wall clock, one job at a time) and peak compiler memory, -O2:")
    header = ["compiler", "source", "seconds", "peak memory"]
    lines = [[v, n, f"{s:.1f}", f"{p / 1024:.0f} MiB"] for v, n, s, p in results]
    widths = [max(len(x) for x in col) for col in zip(header, *lines)]
    for line in [header, ["-" * w for w in widths]] + lines:
        print("  ".join(x.ljust(w) if i < 2 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths))))


if __name__ == "__main__":
    main()
