"""Benchmark mixing and mastering on long stories; print and write its BENCHMARKS.md section.

- a 60-minute episode rendered from cached speech: soundscape + mix + master + encode, wall
  time in multiples of real time (every stage after speech), on all cores;
- our mastering (two passes: measure, then gain + true-peak limiter + LAME) against
  ffmpeg-normalize's two-pass EBU R128 normalization of the same un-mastered mix to MP3, in
  the same run, both outputs measured by ffmpeg's ebur128 filter;
- peak memory of the render process for a 10-minute against a 2-hour story.

Long stories are the demo story repeated as chapters, so their speech comes from the cache
(the first run synthesizes the demo's passages once).

Usage: .venv/bin/python tests/benchmarks/bench_mastering.py [--minutes 60] [--long-hours 2]
[--no-write]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from bench_render import Section, machine, options  # noqa: E402

from tests.conftest import ffmpeg_loudness  # noqa: E402

#: Demo story's narration plus its chapter gap, seconds per copy (measured: 10 copies and a
#: 180 s tail render to 3723 s).
_COPY_S = 354.3
_TAIL_S = 180.0


def long_story(folder: Path, minutes: float) -> Path:
    """The demo story as chapters, as many as make about ``minutes`` with the tail."""
    copies = max(1, round((minutes * 60 - _TAIL_S) / _COPY_S))
    body = (ROOT / "seeds" / "dream.txt").read_text(encoding="utf-8")
    parts = [f"# Part {i + 1}\n\n{body}" for i in range(copies)]
    path = folder / f"dream-{minutes:g}min.md"
    path.write_text(f"---\ntitle: Dream, {minutes:g} minutes\n---\n\n" + "\n\n".join(parts))
    return path


def render_in_child(story: Path, out: Path, *extra: str) -> dict:
    """`narrator render` in a fresh process; its report, wall time and peak RSS (its own)."""
    probe = (
        "import json, resource, sys, time\n"
        "from narrator.cli import app\n"
        "started = time.perf_counter()\n"
        "try:\n"
        f"    app({['render', str(story), '-o', str(out), '-q', *extra]!r})\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "wall = time.perf_counter() - started\n"
        "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'wall_s': wall, 'rss_mib': own, 'children_rss_mib': kids}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["report"] = json.loads(Path(f"{out}.report.json").read_text())
    return figures


def our_master(mix: Path, out: Path, target_lufs: float, ceiling_dbtp: float) -> float:
    """Our mastering alone on ``mix``: measure pass, then gain + limiter + LAME + check."""
    import soundfile as sf

    from soundscapes.output.export import Destination
    from soundscapes.output.formats import get_format
    from soundscapes.output.master import LoudnessTarget, master_to_file
    from soundscapes.output.meter import LoudnessMeter
    from soundscapes.output.tags import Tags

    def read_blocks(path: Path):
        with sf.SoundFile(path) as f:
            for block in f.blocks(1 << 16, dtype="float32"):
                yield block.T.copy()

    started = time.perf_counter()
    meter = LoudnessMeter(44_100, 2, true_peak=False, bandwidth_hz=get_format("mp3").bandwidth_hz)
    for block in read_blocks(mix):
        meter.add(block)
    target = LoudnessTarget(name="t", integrated_lufs=target_lufs, true_peak_dbtp=ceiling_dbtp)
    dest = Destination(path=out, fmt="mp3", sample_rate_hz=44_100, tags=Tags(title="bench"))
    master_to_file(
        lambda: read_blocks(mix), dest, measured_lufs=meter.integrated_lufs, target=target
    )
    return time.perf_counter() - started


def ffmpeg_normalize(mix: Path, out: Path, target_lufs: float, ceiling_dbtp: float) -> float:
    """ffmpeg-normalize's EBU two-pass (loudnorm), kept linear, to MP3 with the LAME settings
    narrator's MP3 has (-V3, algorithm quality 5: ``soundscapes.output.formats.MP3``)."""
    from soundscapes.output.export import ffmpeg_exe

    cmd = [
        str(Path(sys.executable).with_name("ffmpeg-normalize")), str(mix), "-o", str(out), "-f",
        "-nt", "ebu", "-t", str(target_lufs), "-tp", str(ceiling_dbtp),
        "--keep-loudness-range-target", "-c:a", "libmp3lame", "-e=-q:a 3 -compression_level 5",
        "-ar", "44100",
    ]  # fmt: skip
    env = {**os.environ, "FFMPEG_PATH": ffmpeg_exe()}
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    args = options(__doc__, writes=True, minutes=60.0, short_minutes=10.0, long_hours=2.0)
    section = Section("bench_mastering")
    say = section.say
    say(f"Measured {time.strftime('%Y-%m-%d')} on: {machine()}.\n")
    with tempfile.TemporaryDirectory(prefix="bench-mastering-") as tmp:
        folder = Path(tmp)
        # Warm the speech cache (the demo's passages), so every render below is speech-free.
        render_in_child(long_story(folder, 6), folder / "warm.mp3")

        story = long_story(folder, args.minutes)
        mix = folder / "episode-mix.wav"
        run = render_in_child(story, folder / "episode.mp3", "--keep-mix", str(mix))
        rep = run["report"]
        t = rep["timings_s"]
        audio_s = rep["duration_s"]
        after_speech_s = t["total"] - t["speech"]
        say(
            f"A {audio_s / 60:.1f}-minute episode (`{story.name}`: the demo story as "
            f"{len(rep['chapters'])} chapters), MP3, speech from the cache:\n\n"
            "| stage | s | × real time |\n|---|---:|---:|\n"
            f"| ambience stem, CPU of its own process (beside the voice stem) | "
            f"{t['soundscape']:.1f} | {audio_s / t['soundscape']:.0f}× |\n"
            f"| stems: voice here, ambience there, both metered and kept (wall) | "
            f"{t['mix']:.1f} | {audio_s / t['mix']:.0f}× |\n"
            f"| master: limiter preview, mix + gain + limiter, LAME, decoded and measured "
            f"while it encodes | {after_speech_s - t['mix']:.1f} | "
            f"{audio_s / (after_speech_s - t['mix']):.0f}× |\n"
            f"| **soundscape + mix + master + encode** (render minus speech) | "
            f"**{after_speech_s:.1f}** | **{audio_s / after_speech_s:.0f}×** |\n"
            f"| whole render, wall, with start-up | {run['wall_s']:.1f} | "
            f"{audio_s / run['wall_s']:.0f}× |\n\n"
            f"Written file: {rep['integrated_lufs']:.2f} LUFS, {rep['true_peak_dbtp']:.2f} dBTP, "
            f"{rep['master_passes']} master pass(es).\n"
        )

        target, ceiling = -20.0, -2.0
        ours_s = our_master(mix, folder / "ours.mp3", target, ceiling)
        theirs_s = ffmpeg_normalize(mix, folder / "theirs.mp3", target, ceiling)
        ours, theirs = ffmpeg_loudness(folder / "ours.mp3"), ffmpeg_loudness(folder / "theirs.mp3")
        say(
            f"Mastering the same un-mastered mix ({audio_s / 60:.1f} min, float WAV) to MP3 at "
            f"{target:g} LUFS / {ceiling:g} dBTP, same run; measured by ffmpeg ebur128:\n\n"
            "| mastering | wall s | × real time | integrated LUFS | off target LU "
            "| true peak dBTP |\n|---|---:|---:|---:|---:|---:|"
        )
        for name, secs, m in (
            ("narrator (measure; gain + true-peak limiter + LAME -V3 -q5, decoded and measured "
             "while it encodes)", ours_s,
             ours),
            ("ffmpeg-normalize 1.43 (`-nt ebu`, loudnorm two-pass, linear, LAME -V3 -q5)", theirs_s,
             theirs),
        ):  # fmt: skip
            say(
                f"| {name} | {secs:.1f} | {audio_s / secs:.0f}× | {m.integrated_lufs:.2f} | "
                f"{m.integrated_lufs - target:+.2f} | {m.true_peak_dbtp:.2f} |"
            )
        speedup = theirs_s / ours_s
        say(f"\nnarrator against ffmpeg-normalize: {speedup:.2f}× faster.\n")

        say(
            "Peak memory of the render process (its own peak RSS; the speech workers, the "
            "ambience process and ffmpeg are separate processes, largest of them shown):\n\n"
            "| story | audio min | wall s | peak RSS MiB | largest child MiB |\n"
            "|---|---:|---:|---:|---:|"
        )
        rows = []
        for minutes in (args.short_minutes, args.long_hours * 60):
            s = long_story(folder, minutes)
            r = render_in_child(s, folder / f"{s.stem}.mp3")
            rows.append(r)
            say(
                f"| {s.name} | {r['report']['duration_s'] / 60:.1f} | {r['wall_s']:.1f} | "
                f"{r['rss_mib']:.0f} | {r['children_rss_mib']:.0f} |"
            )
        say(
            f"\nPeak memory, {args.long_hours:g} h against {args.short_minutes:g} min: "
            f"{rows[1]['rss_mib'] / rows[0]['rss_mib']:.3f}×."
        )
    if not args.no_write:
        section.write()


if __name__ == "__main__":
    main()
