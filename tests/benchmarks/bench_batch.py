"""Benchmark ``narrator batch``: episodes per minute with one job against one job per core.

Every run renders the same manifest of short stories in the same process run, each with a
speech cache of its own (all cold), every episode forced: ``--jobs 1`` (one episode at a time,
its speech on every core), one episode at a time on one core, and ``--jobs <cores>``. Prints a
markdown table with the machine; it writes nothing to BENCHMARKS.md.

Usage: .venv/bin/python tests/benchmarks/bench_batch.py [--episodes N] [--tail S] [--engine E]
       [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_render import machine

STORY = """The night is soft and still. Far away, a storm gathers its breath, and the air
hushes.

You walk down to the shore, where the tide draws in and washes out again. Each wave is slow.

The sand is cool beneath your feet. You breathe in, and you breathe out, and you rest.
"""


def write_manifest(folder: Path, *, episodes: int, tail_s: float, engine: str) -> Path:
    stories = folder / "stories"
    stories.mkdir(parents=True)
    entries = []
    for i in range(1, episodes + 1):
        # Each story differs, so no two episodes share speech.
        (stories / f"ep{i:02d}.txt").write_text(
            f"Episode {i}. " + STORY.replace("slow", f"slow, {i} times slow"), encoding="utf-8"
        )
        entries.append(f'[[episodes]]\nstory = "stories/ep{i:02d}.txt"\nnumber = {i}\n')
    path = folder / "podcast.toml"
    path.write_text(
        f'output_dir = "public"\nengine = "{engine}"\ntail = {tail_s}\n\n'
        '[podcast]\ntitle = "Bench"\nbase_url = "https://example.org/bench/"\n\n'
        + "\n".join(entries),
        encoding="utf-8",
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--tail", type=float, default=20.0, help="seconds of tail per episode")
    parser.add_argument("--engine", default="fake", help="fake (default), piper or system")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()

    from narrator.publish.batch import run_batch
    from narrator.publish.manifest import load_manifest

    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        manifest = load_manifest(
            write_manifest(Path(tmp), episodes=args.episodes, tail_s=args.tail, engine=args.engine)
        )
        audio_s = 0.0
        # (episodes at once, speech processes per episode): what `narrator batch --jobs 1`
        # does (one episode, its speech on every core), one episode on one core, and
        # `--jobs <cores>` (one episode per core).
        configs = [(1, cores), (1, 1), (cores, 1)] if cores > 1 else [(1, 1)]
        best_s = {config: float("inf") for config in configs}
        # Rounds interleave the configurations and each keeps its best time, so a burst of
        # other work on the machine does not land on one configuration only.
        for round_ in range(args.rounds):
            for jobs, speech_jobs in configs:
                started = time.perf_counter()
                result = run_batch(
                    manifest,
                    jobs=jobs,
                    speech_jobs=speech_jobs,
                    force=True,
                    cache_dir=Path(tmp) / f"cache-{jobs}-{speech_jobs}-{round_}",
                )
                wall_s = time.perf_counter() - started
                if result.failed:
                    raise SystemExit(f"failed: {result.failed[0].error}")
                audio_s = sum(r.duration_s or 0.0 for r in result.results)
                best_s[jobs, speech_jobs] = min(best_s[jobs, speech_jobs], wall_s)
        rows = [
            (jobs, speech_jobs, wall_s, 60.0 * args.episodes / wall_s)
            for (jobs, speech_jobs), wall_s in best_s.items()
        ]

    base = rows[0][3]
    print(f"Machine: {machine()}")
    # Other work on the machine during the run skews every row: say how busy it was.
    print(f"Load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print(
        f"Manifest: {args.episodes} episodes, engine {args.engine}, tail {args.tail:g} s, "
        f"{audio_s / 60:.1f} min of audio in all; every episode forced, speech cache cold; "
        f"best of {args.rounds} interleaved rounds.\n"
    )
    print(
        "| --jobs (episodes at once) | speech processes per episode | wall s | episodes/min "
        "| against --jobs 1 |"
    )
    print("|---:|---:|---:|---:|---:|")
    for jobs, speech_jobs, wall_s, rate in rows:
        print(f"| {jobs} | {speech_jobs} | {wall_s:.1f} | {rate:.1f} | {rate / base:.2f}× |")


if __name__ == "__main__":
    main()
