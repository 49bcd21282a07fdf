"""The lossy encoder's level shift, measured on a preview before the master's encoding pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from soundscapes.output.encoderlevel import PREVIEW_EVERY, encoder_shift_lu, shift_is_measured
from soundscapes.output.export import Destination

SR = 44_100
CEILING_DB = -2.3


def _speechlike(seconds: float) -> list[np.ndarray]:
    """A voice-like stand-in in the render's 64 Ki-frame blocks: a gliding harmonic tone in
    0.6 s bursts over band-passed noise, about -30 dBFS RMS, stereo with a small delay."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    bursts = (np.sin(2 * np.pi * t / 0.9) > -0.3).astype(np.float64)
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 0.3 * t)) / SR
    tone = sum(np.sin(k * phase) / k for k in range(1, 12)) * bursts
    b, a = signal.butter(2, [300, 3000], btype="band", fs=SR)
    noise = signal.lfilter(b, a, np.random.default_rng(3).standard_normal(n)) * 0.3
    mono = (0.1 * (tone + noise)).astype(np.float32)
    x = np.stack([mono, np.roll(mono, 50)])
    return [x[:, i : i + 65536] for i in range(0, n, 65536)]


def _shift(blocks: list[np.ndarray], folder: Path, fmt: str, bitrate_kbps: int | None) -> float:
    dest = Destination(
        path=folder / f"out.{fmt}", fmt=fmt, sample_rate_hz=SR, bitrate_kbps=bitrate_kbps
    )
    return encoder_shift_lu(iter(blocks), dest, CEILING_DB)


@pytest.mark.parametrize(("bitrate_kbps", "whole_lu"), [(128, -0.44), (192, -0.26)])
def test_a_constant_rate_mp3_preview_measures_what_the_whole_encode_loses(
    tmp_path, bitrate_kbps, whole_lu
):
    blocks = _speechlike(40.0)
    whole = _shift(blocks, tmp_path, "mp3", bitrate_kbps)
    preview = _shift(blocks[::PREVIEW_EVERY], tmp_path, "mp3", bitrate_kbps)
    # LAME at a constant rate hands the signal back quieter (the demo's mix lost as much).
    assert whole == pytest.approx(whole_lu, abs=0.08)
    # Every eighth block tells the whole file's shift.
    assert preview == pytest.approx(whole, abs=0.05)
    assert list(tmp_path.iterdir()) == []  # the preview's scratch is gone


def test_the_formats_defaults_keep_the_level_and_are_not_previewed(tmp_path):
    # The rule: only a bit rate of the user's is previewed; the defaults keep the level.
    assert abs(_shift(_speechlike(20.0), tmp_path, "mp3", None)) < 0.05
    assert not shift_is_measured(Destination(path=tmp_path / "a.mp3", fmt="mp3", sample_rate_hz=SR))
    assert shift_is_measured(
        Destination(path=tmp_path / "a.mp3", fmt="mp3", sample_rate_hz=SR, bitrate_kbps=96)
    )
    # Formats that take no bit rate (libsndfile's) are never previewed.
    for fmt in ("flac", "wav", "ogg"):
        dest = Destination(path=tmp_path / "a", fmt=fmt, sample_rate_hz=SR, bitrate_kbps=96)
        assert not shift_is_measured(dest)


def test_m4b_is_read_back_after_its_encode(tmp_path):
    # MP4 writes its index last, so the preview is decoded from the finished scratch file.
    blocks = _speechlike(40.0)
    whole = _shift(blocks, tmp_path, "m4b", 64)
    preview = _shift(blocks[::PREVIEW_EVERY], tmp_path, "m4b", 64)
    assert np.isfinite(whole) and whole != 0.0
    assert preview == pytest.approx(whole, abs=0.05)
    assert list(tmp_path.iterdir()) == []


def test_a_silent_preview_shifts_nothing(tmp_path):
    silent = [np.zeros((2, 65536), np.float32)] * 3
    assert _shift(silent, tmp_path, "mp3", 128) == 0.0
