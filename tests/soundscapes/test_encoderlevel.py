"""The lossy encoder's level shift, measured on a preview before the master's encoding pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundscapes.output import encoderlevel, master
from soundscapes.output.encoderlevel import (
    PREVIEW_EVERY,
    encoder_shift_lu,
    shift_is_measured,
)
from soundscapes.output.export import Destination
from soundscapes.output.master import LoudnessTarget, master_to_file
from soundscapes.output.meter import measure
from tests.soundscapes.signals import SR, speechlike

CEILING_DB = -2.3
BLOCK = 65536


def _blocks(audio: np.ndarray) -> list[np.ndarray]:
    """``audio`` in the render's 64 Ki-frame blocks."""
    return [audio[:, i : i + BLOCK] for i in range(0, audio.shape[1], BLOCK)]


def _shift(blocks: list[np.ndarray], folder: Path, fmt: str, bitrate_kbps: int | None) -> float:
    dest = Destination(
        path=folder / f"out.{fmt}", fmt=fmt, sample_rate_hz=SR, bitrate_kbps=bitrate_kbps
    )
    return encoder_shift_lu(iter(blocks), dest, CEILING_DB)


#: Two minutes: the preview reads 11 of its 81 blocks, 16 s.
LONG_S = 120.0


def _whole_shift(monkeypatch, blocks: list[np.ndarray], folder: Path, fmt: str, kbps: int) -> float:
    """The shift of every block (the preview's cap lifted)."""
    with monkeypatch.context() as patched:
        patched.setattr(encoderlevel, "PREVIEW_BLOCKS", len(blocks))
        return _shift(blocks, folder, fmt, kbps)


@pytest.mark.parametrize(("bitrate_kbps", "whole_lu"), [(128, -0.44), (192, -0.26)])
def test_a_constant_rate_mp3_preview_measures_what_the_whole_encode_loses(
    tmp_path, monkeypatch, bitrate_kbps, whole_lu
):
    blocks = _blocks(speechlike(LONG_S))
    whole = _whole_shift(monkeypatch, blocks, tmp_path, "mp3", bitrate_kbps)
    preview = _shift(blocks[::PREVIEW_EVERY], tmp_path, "mp3", bitrate_kbps)
    assert len(blocks[::PREVIEW_EVERY]) == 11
    # LAME at a constant rate hands the signal back quieter (the demo's mix lost as much).
    assert whole == pytest.approx(whole_lu, abs=0.08)
    # Every eighth block (the preview's own choice) tells the whole signal's shift.
    assert preview == pytest.approx(whole, abs=0.05)
    assert list(tmp_path.iterdir()) == []  # the preview's scratch is gone


def test_the_formats_defaults_keep_the_level_and_are_not_previewed(tmp_path):
    # The rule: only a bit rate of the user's is previewed; the defaults keep the level.
    assert abs(_shift(_blocks(speechlike(20.0)), tmp_path, "mp3", None)) < 0.05
    assert not shift_is_measured(Destination(path=tmp_path / "a.mp3", fmt="mp3", sample_rate_hz=SR))
    assert shift_is_measured(
        Destination(path=tmp_path / "a.mp3", fmt="mp3", sample_rate_hz=SR, bitrate_kbps=96)
    )
    # Formats that take no bit rate (libsndfile's) are never previewed.
    for fmt in ("flac", "wav", "ogg"):
        dest = Destination(path=tmp_path / "a", fmt=fmt, sample_rate_hz=SR, bitrate_kbps=96)
        assert not shift_is_measured(dest)


def test_m4b_is_read_back_after_its_encode(tmp_path, monkeypatch):
    # MP4 writes its index last, so the preview is decoded from the finished scratch file.
    blocks = _blocks(speechlike(LONG_S))
    whole = _whole_shift(monkeypatch, blocks, tmp_path, "m4b", 64)
    preview = _shift(blocks[::PREVIEW_EVERY], tmp_path, "m4b", 64)
    assert np.isfinite(whole) and whole != 0.0
    assert preview == pytest.approx(whole, abs=0.05)
    assert list(tmp_path.iterdir()) == []


def test_a_preview_read_back_is_metered_at_the_rate_it_decodes_to(tmp_path):
    # A folder name the tee muxer cannot take: Opus is read back, and decodes at 48 kHz.
    odd = tmp_path / "a|b"
    odd.mkdir()
    # A low tone beside the voice, near K-weighting's high-pass corner: metered at 44.1 kHz
    # instead of the 48 kHz it decodes at, the read-back was 0.43 LU off the streamed one.
    audio = speechlike(30.0)
    audio += 0.2 * np.sin(2 * np.pi * 35.0 * np.arange(audio.shape[1]) / SR).astype(np.float32)
    blocks = _blocks(audio)
    read_back = _shift(blocks, odd, "opus", 48)
    streamed = _shift(blocks, tmp_path, "opus", 48)
    assert read_back == pytest.approx(streamed, abs=0.01)


def test_a_silent_preview_shifts_nothing(tmp_path):
    silent = [np.zeros((2, BLOCK), np.float32)] * 3
    assert _shift(silent, tmp_path, "mp3", 128) == 0.0


def _master(tmp_path: Path, fmt: str, bitrate_kbps: int | None, events: list[str]) -> float:
    """Master 40 s of the signal into ``fmt``; ``events`` gets what was read when. Returns
    the written file's loudness."""
    audio = speechlike(40.0)
    blocks = _blocks(audio)

    def read_all():
        events.append("pass")
        yield from blocks

    def preview(every: int):
        try:
            yield from blocks[::every]
        finally:
            events.append(f"preview {every} closed")

    dest = Destination(
        path=tmp_path / f"out.{fmt}", fmt=fmt, sample_rate_hz=SR, bitrate_kbps=bitrate_kbps
    )
    target = LoudnessTarget(name="t", integrated_lufs=-20.0, true_peak_dbtp=-2.0)
    result = master_to_file(
        read_all,
        dest,
        measured_lufs=measure(audio, SR, true_peak=False).integrated_lufs,
        target=target,
        preview=preview,
    )
    return result.loudness.integrated_lufs


def test_the_master_previews_a_chosen_bit_rate_and_closes_it_before_the_pass(tmp_path, monkeypatch):
    # The preview stops after two blocks, as a long mix's stops after its 24, not at the end.
    monkeypatch.setattr(encoderlevel, "PREVIEW_BLOCKS", 2)
    events: list[str] = []
    lufs = _master(tmp_path, "mp3", 128, events)
    # The encoder's preview read its blocks and let go of them before the encoding pass.
    assert f"preview {PREVIEW_EVERY} closed" in events
    assert events.index(f"preview {PREVIEW_EVERY} closed") < events.index("pass")
    assert events.count("pass") == 1 and lufs == pytest.approx(-20.0, abs=0.1)


@pytest.mark.parametrize(("fmt", "bitrate_kbps"), [("mp3", None), ("flac", None), ("wav", 96)])
def test_the_master_does_not_preview_defaults_or_lossless(tmp_path, monkeypatch, fmt, bitrate_kbps):
    def refuse(*args, **kwargs):
        raise AssertionError("the encoder was previewed")

    monkeypatch.setattr(master, "encoder_shift_lu", refuse)
    events: list[str] = []
    _master(tmp_path, fmt, bitrate_kbps, events)
    assert f"preview {PREVIEW_EVERY} closed" not in events
