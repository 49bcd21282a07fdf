"""Shared test helpers: an independent loudness meter (ffmpeg's ebur128) and small stories."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

SHORT_STORY = """The night is soft and still. Far away, a storm gathers its breath, and the air
hushes.

You walk down to the shore, where the tide draws in and washes out again. Each wave is slow.

The sand is cool beneath your feet. You breathe in, and you breathe out, and you rest.
"""


@dataclass(frozen=True)
class FfmpegLoudness:
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float
    duration_s: float


def ffmpeg_loudness(path: Path) -> FfmpegLoudness:
    """Measure ``path`` with ffmpeg's ``ebur128`` filter (true peak on), independent of ours."""
    proc = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    text = proc.stderr
    summary = text[text.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    lra = float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.inf]+) dBFS", summary).group(1))
    time_match = re.findall(r"time=(\d+):(\d+):([\d.]+)", text) or re.findall(
        r"t:\s*([\d.]+)", text
    )
    if time_match and isinstance(time_match[-1], tuple):
        h, m, s = time_match[-1]
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    else:
        duration = float(time_match[-1]) if time_match else float("nan")
    return FfmpegLoudness(integrated, peak, lra, duration)


def ffmpeg_decodes(path: Path) -> bool:
    proc = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return proc.returncode == 0 and not proc.stderr.strip()


@pytest.fixture
def short_story(tmp_path: Path) -> Path:
    path = tmp_path / "shore.txt"
    path.write_text(SHORT_STORY, encoding="utf-8")
    return path
