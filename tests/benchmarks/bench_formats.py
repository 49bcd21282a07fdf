"""Benchmark the demo story's warm re-render in each output format and bit rate, beside the
encoder alone, and record it in BENCHMARKS.md.

Side by side, in one run on one machine, best of interleaved rounds:
- narrator's warm re-render (speech cached) of seeds/dream.txt into MP3 (LAME's VBR default
  and constant 64, 128 and 192 kb/s), Opus, M4B and FLAC: wall time, the loudness of what was
  written and how many encoding passes the master took;
- ffmpeg encoding the same finished mix (the render's WAV) with the same codec options: what
  the encoder costs on its own, the floor under each render's master.

Usage: .venv/bin/python tests/benchmarks/bench_formats.py [--rounds N] [--no-write]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from bench_render import machine, publish  # noqa: E402

#: (label, format, --bitrate): the defaults, then the constant rates a podcast host asks for.
SETTINGS = [
    ("MP3, LAME VBR (default)", "mp3", None),
    ("MP3, constant 64 kb/s", "mp3", 64),
    ("MP3, constant 128 kb/s", "mp3", 128),
    ("MP3, constant 192 kb/s", "mp3", 192),
    ("Opus 96 kb/s (default)", "opus", None),
    ("M4B, AAC 128 kb/s (default)", "m4b", None),
    ("FLAC 24-bit", "flac", None),
]


def encoder_alone_seconds(mix: Path, fmt: str, bitrate_kbps: int | None, out: Path) -> float:
    """ffmpeg encoding the finished ``mix`` with the codec and muxer options narrator uses."""
    from soundscapes.output.export import FfmpegEncoder, ffmpeg_exe
    from soundscapes.output.formats import get_format

    record = get_format(fmt)
    if record.by_ffmpeg:
        codec = FfmpegEncoder.codec_args(fmt, bitrate_kbps)
        options = [arg for k, v in record.ffmpeg_muxer_options for arg in (f"-{k}", v)]
        muxer = ["-f", record.ffmpeg_muxer, *options]
    else:  # FLAC: ffmpeg's own encoder at 24 bits (narrator's goes through libsndfile)
        codec, muxer = ["-c:a", "flac", "-sample_fmt", "s32"], ["-f", "flac"]
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(mix), *codec, *muxer, str(out)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    from narrator.render.pipeline import render_story

    story = ROOT / "seeds" / "dream.txt"
    best: dict[str, tuple[float, dict]] = {}
    alone: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = str(Path(tmp) / "cache")
        mix = Path(tmp) / "mix.wav"
        render_story(story, {"output": str(mix), "cache_dir": cache})  # fills the cache
        for _ in range(max(args.rounds, 1)):
            for label, fmt, bitrate in SETTINGS:
                out = Path(tmp) / f"out.{fmt}"
                opts = {"output": str(out), "cache_dir": cache, "bitrate": bitrate}
                started = time.perf_counter()
                report = render_story(story, opts).report
                wall = time.perf_counter() - started
                if label not in best or wall < best[label][0]:
                    best[label] = (wall, report)
                seconds = encoder_alone_seconds(mix, fmt, bitrate, Path(tmp) / f"alone.{fmt}")
                alone[label] = min(alone.get(label, seconds), seconds)
    duration = next(iter(best.values()))[1]["duration_s"]
    rounds = max(args.rounds, 1)
    lines = [
        f"Measured {date.today()} on: {machine()}; best of {rounds} interleaved rounds.",
        "",
        f"The demo story re-rendered with its speech cached ({duration:.1f} s of audio), "
        "into each format; beside it, ffmpeg encoding the same finished mix with the same codec "
        "options (FLAC: ffmpeg's encoder, narrator's is libsndfile's).",
        "",
        "| output | render s | × real time | LUFS (target -20) | passes | encoder alone s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, _, _ in SETTINGS:
        wall, report = best[label]
        lines.append(
            f"| {label} | {wall:.1f} | {duration / wall:.0f}× | "
            f"{report['integrated_lufs']:.2f} | {report['master_passes']} | "
            f"{alone[label]:.1f} |"
        )
    publish("bench_formats", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
