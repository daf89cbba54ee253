#!/usr/bin/env python3
"""Writes the seed corpus of idx_fuzzer (fuzz/corpus/idx/): small IDX files, raw and
gzipped, valid and each with one defect. Deterministic (gzip mtime 0); run it again
after changing it and commit the output."""
import gzip
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "idx"


def idx(shape, payload, type_code=0x08):
    return bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + bytes(payload)


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


def counting(n):
    return [i % 256 for i in range(n)]


seeds = {
    "labels-10.idx1": idx([10], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]),
    "images-2x4x4.idx3": idx([2, 4, 4], counting(32)),
    "images-3x2x3.idx3.gz": gz(idx([3, 2, 3], counting(18))),
    "images-1x28x28.idx3.gz": gz(idx([1, 28, 28], [(r * c) % 256 for r in range(28) for c in range(28)])),
    "matrix-3x5.idx2": idx([3, 5], counting(15)),
    "tensor-2x1x2x3.idx4": idx([2, 1, 2, 3], counting(12)),
    "two-members.gz": gz(idx([2, 3, 3], counting(18))[:9]) + gz(idx([2, 3, 3], counting(18))[9:]),
    # One defect each.
    "truncated.idx3": idx([2, 4, 4], counting(31)),
    "trailing.idx1": idx([4], counting(6)),
    "zero-dimension.idx3": idx([2, 0, 4], []),
    "float32.idx1": idx([2], [0] * 8, type_code=0x0D),
    "rank5.idx": idx([1, 1, 1, 1, 1], [7]),
    "huge-claim.idx2": idx([1 << 30, 1 << 30], counting(16)),
    "huge-claim.idx2.gz": gz(idx([1 << 30, 1 << 30], counting(16))),
    "truncated-stream.gz": gz(idx([4, 4, 4], counting(64)))[:-7],
    # The reader's memory bounds: a claim within deflate's 1032-fold expansion of the file
    # but more than the stream holds; a claim beyond it (refused before inflating); a stream
    # 1 MiB longer than its claim (read only 64 KiB past it).
    "truncated.idx3.gz": gz(idx([2, 4, 4], counting(31))),
    "over-1032-fold.idx3.gz": gz(idx([60000, 28, 28], counting(64))),
    "trailing-1mib.idx1.gz": gz(idx([16], counting(16)) + bytes(1 << 20)),
}

OUT.mkdir(exist_ok=True)
for name, content in seeds.items():
    (OUT / name).write_bytes(content)
print(f"wrote {len(seeds)} seeds to {OUT}")
