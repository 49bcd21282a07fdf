"""Benchmark ``narrator batch --scheduler``: episodes per minute on a Dask cluster of one and of
two workers (Dask's own ``dask scheduler`` / ``dask worker`` processes on this machine), side
by side with a local batch of the same episodes, and the cluster's overhead per episode.

Every run renders a fresh copy of the same manifest (fake engine, every episode cold: its own
speech cache), each render's speech on one process so that workers do not compete for cores.
A cluster's first run, which warms its workers' imports, is not counted. Prints a markdown
table with the machine; it writes nothing to BENCHMARKS.md.

Overhead per episode: the batch's wall time minus the time its renders took (their sum over the
number running at once), per episode: sending the files, scheduling, streaming the results
back and checking them.

Usage: .venv/bin/python tests/benchmarks/bench_cluster.py [--episodes N] [--tail S] [--rounds R]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from bench_batch import write_manifest  # noqa: E402
from bench_render import machine, options  # noqa: E402

from tests.publish.dask_cluster import Cluster  # noqa: E402


def timed(manifest: Path, **options) -> tuple[float, float]:
    """Wall seconds and summed render seconds of one batch."""
    from narrator.publish.batch import run_batch
    from narrator.publish.manifest import load_manifest

    started = time.perf_counter()
    cache = manifest.parent / "cache"  # cold: a cache of its own
    result = run_batch(
        load_manifest(manifest), speech_jobs=1, force=True, cache_dir=cache, **options
    )
    wall = time.perf_counter() - started
    assert not result.failed, [r.error for r in result.failed]
    return wall, sum(r.elapsed_s for r in result.rendered)


def main() -> None:
    args = options(__doc__, episodes=6, tail=20.0, rounds=3)
    root = Path(tempfile.mkdtemp(prefix="narrator-bench-cluster-"))
    count = 0

    def fresh() -> Path:
        nonlocal count
        count += 1
        return write_manifest(root / f"run{count}", episodes=args.episodes, tail_s=args.tail,
                              engine="fake")  # fmt: skip

    rows: dict[str, list[tuple[float, float]]] = {}
    for jobs in (1, 2):
        for _ in range(args.rounds):
            wall, renders = timed(fresh(), jobs=jobs)
            rows.setdefault(f"local batch, --jobs {jobs}", []).append((wall, renders / jobs))
    for workers in (1, 2):
        folder = root / f"cluster{workers}"
        folder.mkdir()
        cluster = Cluster(folder)
        try:
            for i in range(workers):
                cluster.worker(f"w{i}")
            cluster.wait_for(workers)
            timed(fresh(), scheduler=cluster.address)  # warms the workers
            for _ in range(args.rounds):
                wall, renders = timed(fresh(), scheduler=cluster.address)
                label = f"cluster, {workers} worker{'s' * (workers > 1)}"
                rows.setdefault(label, []).append((wall, renders / workers))
        finally:
            cluster.stop()
    print(f"Machine: {machine()}\n")
    print(f"{args.episodes} episodes, fake engine, tail {args.tail:g} s, every episode cold; "
          f"median of {args.rounds} runs.\n")  # fmt: skip
    print("| batch | wall s | episodes/min | overhead per episode s |")
    print("|---|---:|---:|---:|")
    for label, runs in rows.items():
        wall = statistics.median(w for w, _ in runs)
        overhead = statistics.median(w - r for w, r in runs) / args.episodes
        print(f"| {label} | {wall:.1f} | {60 * args.episodes / wall:.1f} | {overhead:.2f} |")


if __name__ == "__main__":
    main()
