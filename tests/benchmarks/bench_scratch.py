"""Benchmark scratch files: an 8 h bed's worth written and read back, through the page cache
and past it (``soundscapes.scratch``), beside plain numpy and Python file writes doing the
same work the way the scratch was kept before pages (each block transposed to interleaved
frames and handed to ``file.write`` as bytes; read back with ``numpy.fromfile``).

Prints wall time and the process's user and kernel CPU seconds for each, every round (the
three interleaved): what the page cache costs depends on what the machine holds in it, so
the spread between rounds is the finding, not noise to take the best of. The file goes
beside the benchmark's output (``--folder``, by default the project's ``out/``): a real disk,
not a tmpfs.

Usage: .venv/bin/python tests/benchmarks/bench_scratch.py [--hours 8] [--rounds 2] [--folder out]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import ROOT, machine, options


def _timed(work) -> tuple[float, float, float]:
    """``work()``'s wall, user and kernel seconds."""
    before, started = os.times(), time.perf_counter()
    work()
    after = os.times()
    return time.perf_counter() - started, after.user - before.user, after.system - before.system


def main() -> None:
    from soundscapes.scratch import PAGE_FRAMES, ScratchWriter, read_scratch

    args = options(__doc__, hours=8.0, rounds=2, folder=str(ROOT / "out"))
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench-scratch.f32"
    frames = round(args.hours * 3600 * 44_100)
    pages = -(-frames // PAGE_FRAMES)
    block = np.random.default_rng(0).standard_normal((2, PAGE_FRAMES)).astype(np.float32)

    def numpy_write() -> None:
        with open(path, "wb") as f:
            for i in range(pages):
                n = min(PAGE_FRAMES, frames - i * PAGE_FRAMES)
                f.write(np.ascontiguousarray(block[:, :n].T, dtype="<f4").tobytes())

    def numpy_read() -> None:
        with open(path, "rb") as f:
            for i in range(pages):
                n = min(PAGE_FRAMES, frames - i * PAGE_FRAMES)
                np.ascontiguousarray(np.fromfile(f, "<f4", n * 2).reshape(n, 2).T)

    def scratch_write(direct: bool):
        def work() -> None:
            with ScratchWriter(path, 2, direct=direct) as writer:
                for i in range(pages):
                    writer.write(block[:, : min(PAGE_FRAMES, frames - i * PAGE_FRAMES)])
            if direct and not writer.direct:
                raise SystemExit(f"{folder}: this file system refuses O_DIRECT; pick another")

        return work

    def scratch_read(direct: bool):
        def work() -> None:
            for _ in read_scratch(path, frames, 2, direct=direct):
                pass

        return work

    print(f"Measured on: {machine()}; {frames * 8 / 1e9:.1f} GB of scratch ({args.hours:g} h).")
    print()
    print("| round | how | write wall s | user s | kernel s | read wall s | user s | kernel s |")
    print("|---|---|---|---|---|---|---|---|")
    runs = [
        ("interleaved bytes, file.write / numpy.fromfile (as before)", numpy_write, numpy_read),
        ("soundscapes.scratch through the page cache", scratch_write(False), scratch_read(False)),
        ("soundscapes.scratch past it (O_DIRECT)", scratch_write(True), scratch_read(True)),
    ]
    try:
        for round_ in range(1, args.rounds + 1):
            for name, write, read in runs:
                w, r = _timed(write), _timed(read)
                cells = " | ".join(f"{x:.1f}" for x in (*w, *r))
                print(f"| {round_} | {name} | {cells} |", flush=True)
                path.unlink()
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
