"""The end of a write waits little: the output goes to the disk while it is encoded, and the
scratch behind the mix goes as soon as nothing will read it again."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from soundscapes.files import removal_when_read
from soundscapes.output import export
from soundscapes.output.export import Destination, SoundFileEncoder
from soundscapes.output.master import master_to_file, parse_target
from soundscapes.output.meter import measure
from soundscapes.output.writeback import EarlyWriteback

SR = 44_100
needs_fadvise = pytest.mark.skipif(
    not hasattr(os, "posix_fadvise"), reason="the system has no posix_fadvise"
)


def _asked(monkeypatch) -> list[tuple[int, int]]:
    """The ranges write-back is asked for, from now on (and still asked of the system)."""
    calls: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def spy(fd, offset, length, advice):
        if advice == os.POSIX_FADV_DONTNEED:
            calls.append((offset, length))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", spy)
    return calls


def _covered(ranges: list[tuple[int, int]]) -> int:
    """How far from the start the ranges reach without a gap (each starting at a page)."""
    reach = 0
    for offset, length in ranges:
        assert offset % 4096 == 0
        assert offset <= reach, f"bytes {reach}..{offset} were never asked for"
        reach = max(reach, offset + length)
    return reach


@needs_fadvise
def test_a_growing_file_is_asked_to_the_disk_a_stretch_at_a_time(tmp_path, monkeypatch):
    calls = _asked(monkeypatch)
    path = tmp_path / "grows.bin"
    stretch = 64 * 1024
    with open(path, "wb", buffering=0) as f:
        early = EarlyWriteback(path, stretch_bytes=stretch)
        for size in [1000, 70_000, 3, 5000, 200_000, 10, 60_000, 6000, 100]:
            f.write(os.urandom(size))
            early.grown()
        early.close()
    total = path.stat().st_size
    # Asked at 71,000, 276,003 and 342,013 bytes: each stretch, never one byte skipped, and
    # the last 100 bytes (less than a stretch) left to the sync at the close.
    assert len(calls) == 3
    assert _covered(calls) == total - 100
    assert all(length >= stretch - 4096 for _, length in calls)


def test_without_the_request_or_the_file_it_does_nothing(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "posix_fadvise", raising=False)
    early = EarlyWriteback(tmp_path / "x.bin")
    early.grown()
    early.close()
    EarlyWriteback(tmp_path / "missing" / "x.bin").grown()  # cannot open: no error


@needs_fadvise
@pytest.mark.parametrize("fmt", ["flac", "wav"])
def test_the_encoder_sends_its_file_to_the_disk_while_it_writes_and_the_bytes_stay(
    tmp_path, monkeypatch, fmt
):
    audio = (0.1 * np.random.default_rng(2).standard_normal((2, 30 * SR))).astype(np.float32)

    def encode(path):
        encoder = SoundFileEncoder(Destination(path=path, fmt=fmt, sample_rate_hz=SR))
        for i in range(0, audio.shape[1], 65536):
            encoder.write(audio[:, i : i + 65536])
        encoder.close()

    monkeypatch.setattr(
        export, "EarlyWriteback", lambda path: EarlyWriteback(path, stretch_bytes=256 * 1024)
    )
    calls = _asked(monkeypatch)
    asked = tmp_path / f"asked.{fmt}"
    encode(asked)
    size = asked.stat().st_size
    assert _covered(calls) > size - 256 * 1024 - 2 * 65536 * 4 * 2
    monkeypatch.delattr(os, "posix_fadvise")
    plain = tmp_path / f"plain.{fmt}"
    encode(plain)
    assert asked.read_bytes() == plain.read_bytes()
    assert np.array_equal(sf.read(asked, dtype="float32")[0], sf.read(plain, dtype="float32")[0])


def _bursts(seconds: float = 20.0) -> np.ndarray:
    """Speech-like bursts: peaks far over their loudness, so a loud target is out of reach."""
    rng = np.random.default_rng(3)
    t = np.arange(round(SR * seconds)) / SR
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 4
    return (rng.standard_normal((2, t.size)) * env * 0.03).astype(np.float32)


@pytest.mark.parametrize(
    ("fmt", "loudness", "before_close"),
    [("flac", "podcast", True), ("flac", "-9", True), ("mp3", "podcast", False)],
)
def test_the_mix_is_let_go_once_no_pass_will_read_it(
    tmp_path, monkeypatch, fmt, loudness, before_close
):
    """Once, after the last pass has read the mix; for a lossless file (measured as written)
    before it is closed and synced, so that scratch goes meanwhile. "-9" misses its target
    through all three passes: the mix is read again and again, and let go only in the last."""
    x = _bursts()
    events: list[str] = []

    def blocks():
        events.append("read")
        for i in range(0, x.shape[1], 65536):
            yield x[:, i : i + 65536]

    for cls in (export.SoundFileEncoder, export.FfmpegEncoder):
        real_close = cls.close

        def close(self, real_close=real_close):
            events.append("close")
            return real_close(self)

        monkeypatch.setattr(cls, "close", close)
    dest = Destination(path=tmp_path / f"m.{fmt}", fmt=fmt, sample_rate_hz=SR)
    result = master_to_file(
        blocks,
        dest,
        measured_lufs=measure(x, SR, true_peak=False).integrated_lufs,
        target=parse_target(loudness),
        read_all=lambda: events.append("let go"),
    )
    assert events.count("let go") == 1
    let_go = events.index("let go")
    assert "read" not in events[let_go:]
    assert events.count("close") == result.passes
    assert (events[let_go + 1 : let_go + 2] == ["close"]) == before_close
    if loudness == "-9":
        assert result.passes == 3


def test_scratch_let_go_is_removed_in_a_thread_and_waited_for(tmp_path):
    paths = [tmp_path / "a.f32", tmp_path / "b.f32"]
    for path in paths:
        path.write_bytes(b"\0" * 4096)
    with removal_when_read(*paths, tmp_path / "gone-already.f32") as let_go:
        assert all(p.exists() for p in paths)  # nothing goes before it is let go
        let_go()
        let_go()  # a second call starts nothing more
    assert not any(p.exists() for p in paths)
    kept = tmp_path / "kept.f32"
    kept.write_bytes(b"\0")
    with removal_when_read(kept):
        pass
    assert kept.exists()  # never let go: left to its owner


def test_a_beds_scratch_goes_while_the_bed_is_closed(tmp_path, monkeypatch):
    import threading

    from soundscapes.ambience import bed_timeline, render_ambience, scene_from_layers

    seen: list[bool] = []
    real_close = export.SoundFileEncoder.close

    def close(self):
        scratch = list(tmp_path.glob("*bed-*.f32"))
        removing = any(t.name == "narrator-scratch-removal" for t in threading.enumerate())
        seen.append(not scratch or removing)
        return real_close(self)

    monkeypatch.setattr(export.SoundFileEncoder, "close", close)
    timeline = bed_timeline(scene_from_layers(["tide"]), 20.0, seed=1)
    render_ambience(
        timeline, tmp_path / "bed.flac", "flac", target=parse_target("sleep"), split=False
    )
    assert seen[-1]  # (a pass that missed the target kept it for the next)
    assert not list(tmp_path.glob("*bed-*"))
