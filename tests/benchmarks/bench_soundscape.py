"""Benchmark the soundscape engine; print its markdown section and write it in BENCHMARKS.md.

- every layer's render speed in multiples of real time, one core (the process is pinned to
  one CPU and numpy's BLAS threads are not used by the layers);
- the demo story's scene set together, as the render plays it (its timeline of scenes);
- `narrator soundscape` from the shell: the four story layers for an hour, tide and gulls for
  10 minutes (best of ``--rounds`` interleaved rounds: a shared host's speed drifts by
  minutes, and noise only ever adds time) and for 8 hours (``--long-rounds``), written as
  FLAC; with peak memory (child processes, so each figure is that run's own peak RSS; the
  largest of the rounds), 8 hours against 10 minutes.

Usage: .venv/bin/python tests/benchmarks/bench_soundscape.py [--long-hours 8] [--rounds 3]
[--no-write]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from bench_render import Section, machine, options  # noqa: E402


def _cpu_seconds(source, frames: int) -> float:
    """CPU seconds ``source`` takes to render ``frames`` in the render loop's 64 Ki blocks."""
    started = time.process_time()
    done = 0
    while done < frames:
        n = min(65536, frames - done)
        source.render(n)
        done += n
    return time.process_time() - started


def layer_speeds(seconds: float) -> list[tuple[str, float]]:
    from soundscapes.layers import create_layer, layer_names

    out = []
    frames = int(seconds * 44100)
    for name in layer_names():
        out.append((name, seconds / _cpu_seconds(create_layer(name, seed=1), frames)))
    return out


def demo_scene_set_speed() -> tuple[float, float, int]:
    """The demo story's planned scenes on a timeline as long as its render, rendered alone."""
    from narrator.direction.plan import plan_story
    from narrator.speech.pacing import DEFAULT_PACE_WPM
    from narrator.text.script import parse_story
    from soundscapes.timeline import SceneCue, Timeline

    script = parse_story(ROOT / "seeds" / "dream.txt")
    plan = plan_story(script)
    cues, at = [], 8.0
    for p in script.passages:
        scene = plan.scene_for(p.index)
        if not cues or cues[-1].scene != scene:
            cues.append(SceneCue(start_s=at if cues else 0.0, scene=scene))
        at += p.word_count / DEFAULT_PACE_WPM * 60
    duration_s = at + 180.0
    source = Timeline(cues, duration_s=duration_s, seed=0).source()
    frames = int(duration_s * 44100)
    return duration_s, duration_s / _cpu_seconds(source, frames), len(cues)


#: The demo story's layers: the bed the issue's goal (200× real time for an hour) is set on.
STORY_LAYERS = ("storm-hush", "breathing-mirrors", "gulls", "tide")


def soundscape_peak_rss(
    duration: str, out: Path, layers: tuple[str, ...] = ("tide", "gulls")
) -> tuple[float, float]:
    """Peak RSS (MiB) and wall seconds of one `narrator soundscape` run.

    A fresh intermediate process waits for it, so its RUSAGE_CHILDREN peak is this run's alone.
    """
    cmd = [sys.executable, "-m", "narrator", "soundscape", *layers, "-d", duration,
           "-o", str(out), "-q"]  # fmt: skip
    probe = (
        "import resource, subprocess, sys\n"
        f"subprocess.run({cmd!r}, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    return int(done.stdout.strip().splitlines()[-1]) / 1024, wall


def main() -> None:
    args = options(
        __doc__, writes=True, layer_seconds=120.0, long_hours=8.0, rounds=3, long_rounds=1
    )
    section = Section("bench_soundscape")
    say = section.say
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    say(f"Measured {time.strftime('%Y-%m-%d')} on: {machine()}.\n")
    speeds = layer_speeds(args.layer_seconds)
    say(
        f"Each layer alone, {args.layer_seconds:g} s at 44.1 kHz stereo, CPU time on one core:"
        "\n\n| layer | × real time |\n|---|---:|",
        *[f"| {name} | {x:.0f}× |" for name, x in speeds],
        sep="\n",
    )
    scene_s, scene_x, n_cues = demo_scene_set_speed()
    say(
        f"\nThe demo story's scene set on its timeline ({n_cues} scenes, {scene_s / 60:.1f} min, "
        f"layers running only where heard): {scene_x:.0f}× real time on one core.\n",
    )
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    say(
        "`narrator soundscape LAYERS -d … -o ….flac` (the bed rendered once, its layers shared "
        "by two processes, one of which meters it and keeps it in scratch; then a five-minute "
        "limiter preview and the master pass read it back, FLAC encoding in a thread beside "
        "the limiter), wall time with start-up (best of "
        f"{max(args.rounds, 1)} interleaved rounds; 8 h: {max(args.long_rounds, 1)}) and the "
        "largest peak RSS of its processes:\n\n"
        "| layers | duration | wall s | × real time | peak RSS MiB |\n|---|---|---:|---:|---:|",
    )
    # name -> (best wall s, largest peak RSS MiB, smallest peak RSS MiB)
    runs: dict[str, tuple[float, float, float]] = {}

    def keep(name: str, got: tuple[float, float]) -> None:
        rss, wall = got
        best_wall, top_rss, low_rss = runs.get(name, (float("inf"), 0.0, float("inf")))
        runs[name] = (min(best_wall, wall), max(top_rss, rss), min(low_rss, rss))

    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(max(args.rounds, 1)):
            keep("hour", soundscape_peak_rss("60m", Path(tmp) / "story.flac", STORY_LAYERS))
            keep("short", soundscape_peak_rss("10m", Path(tmp) / "short.flac"))
        for _ in range(max(args.long_rounds, 1)):
            keep("long", soundscape_peak_rss(f"{args.long_hours:g}h", Path(tmp) / "long.flac"))
    (wall, hour_rss, _), (short_wall, short_rss, short_low) = runs["hour"], runs["short"]
    long_wall, long_rss, _ = runs["long"]
    long_s = args.long_hours * 3600
    say(f"| {' '.join(STORY_LAYERS)} | 60 min | {wall:.1f} | {3600 / wall:.0f}× | "
          f"{hour_rss:.0f} |")  # fmt: skip
    say(f"| tide gulls | 10 min | {short_wall:.1f} | {600 / short_wall:.0f}× | "
          f"{short_rss:.0f} |")  # fmt: skip
    say(f"| tide gulls | {args.long_hours:g} h | {long_wall:.1f} | "
          f"{long_s / long_wall:.0f}× | {long_rss:.0f} |")  # fmt: skip
    # The long bed's largest against the short one's smallest: the ratio never flatters.
    say(
        f"\nPeak memory, {args.long_hours:g} h against 10 min: {long_rss / short_low:.3f}×.",
    )
    if not args.no_write:
        section.write()


if __name__ == "__main__":
    main()
