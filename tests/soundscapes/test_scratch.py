"""Scratch files: what is written comes back sample for sample, in pages, through the page
cache or past it, and a failure or an early stop leaves nothing running."""

from __future__ import annotations

import errno
import os
import threading

import numpy as np
import pytest

from soundscapes import scratch as scratch_module
from soundscapes.scratch import PAGE_FRAMES, ScratchWriter, goes_direct, read_scratch


def _audio(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((channels, frames)).astype(np.float32)


def _write(path, audio: np.ndarray, sizes: list[int], *, direct: bool) -> ScratchWriter:
    with ScratchWriter(path, audio.shape[0], direct=direct) as writer:
        done = 0
        for size in sizes:
            block = audio[:, done : done + size].copy()
            writer.write(block)
            block[:] = 9.0  # the writer kept a copy: the caller may reuse its block at once
            done += size
    return writer


def _direct_or_skip(writer: ScratchWriter) -> None:
    if not writer.direct:
        pytest.skip("this file system refuses O_DIRECT; the cached path was tested instead")


@pytest.mark.parametrize("direct", [False, True], ids=["cached", "direct"])
@pytest.mark.parametrize("channels", [1, 2])
def test_what_is_written_in_blocks_of_any_size_comes_back_in_pages(tmp_path, direct, channels):
    frames = 3 * PAGE_FRAMES + 1234  # a short last page
    audio = _audio(frames, channels)
    sizes = [1000, PAGE_FRAMES, 70_000, 3, frames - 1000 - PAGE_FRAMES - 70_003]
    path = tmp_path / "s.f32"
    writer = _write(path, audio, sizes, direct=direct)
    if direct:
        _direct_or_skip(writer)
    # Exactly the samples' bytes: a direct write's padded last page is cut back.
    assert path.stat().st_size == frames * channels * 4
    pages = list(read_scratch(path, frames, channels, direct=direct))
    assert [p.shape for p in pages] == [(channels, PAGE_FRAMES)] * 3 + [(channels, 1234)]
    assert all(p.dtype == np.float32 and p.flags.c_contiguous for p in pages)
    assert np.array_equal(np.concatenate(pages, axis=1), audio)


def test_a_page_holds_one_channel_after_the_other(tmp_path):
    """Planar pages: neither the writer nor the reader transposes a sample."""
    frames = PAGE_FRAMES + 10
    audio = _audio(frames)
    path = tmp_path / "s.f32"
    _write(path, audio, [frames], direct=False)
    raw = np.fromfile(path, dtype="<f4")
    assert np.array_equal(raw[:PAGE_FRAMES], audio[0, :PAGE_FRAMES])
    assert np.array_equal(raw[PAGE_FRAMES : 2 * PAGE_FRAMES], audio[1, :PAGE_FRAMES])
    assert np.array_equal(raw[2 * PAGE_FRAMES :], audio[:, PAGE_FRAMES:].ravel())


@pytest.mark.parametrize("direct", [False, True], ids=["cached", "direct"])
def test_every_third_page_is_the_pages_it_names_and_a_file_cut_short_plays_on(tmp_path, direct):
    frames = 7 * PAGE_FRAMES + 5
    audio = _audio(frames)
    path = tmp_path / "s.f32"
    writer = _write(path, audio, [frames], direct=direct)
    if direct:
        _direct_or_skip(writer)
    thinned = list(read_scratch(path, frames, 2, every=3, direct=direct))
    assert len(thinned) == 3
    for k, page in enumerate(thinned):
        start = 3 * k * PAGE_FRAMES
        assert np.array_equal(page, audio[:, start : start + PAGE_FRAMES])
    # A file cut short (its writer killed after three pages): silence after them, no stop.
    with open(path, "r+b") as f:
        f.truncate(3 * PAGE_FRAMES * 2 * 4)
    played = np.concatenate(list(read_scratch(path, frames, 2, direct=direct)), axis=1)
    assert played.shape == (2, frames)
    assert np.array_equal(played[:, : 3 * PAGE_FRAMES], audio[:, : 3 * PAGE_FRAMES])
    assert not played[:, 3 * PAGE_FRAMES :].any()


def test_a_reader_stopped_early_leaves_no_thread(tmp_path):
    frames = 6 * PAGE_FRAMES
    path = tmp_path / "s.f32"
    writer = _write(path, _audio(frames), [frames], direct=True)
    _direct_or_skip(writer)
    before = threading.active_count()
    pages = read_scratch(path, frames, 2, direct=True)
    next(pages)  # the reading thread is now a few pages ahead
    assert threading.active_count() == before + 1
    pages.close()
    assert threading.active_count() == before


@pytest.mark.parametrize("direct", [False, True], ids=["cached", "direct"])
def test_a_failed_write_is_raised_and_the_writer_still_closes(tmp_path, monkeypatch, direct):
    path = tmp_path / "s.f32"
    writer = ScratchWriter(path, 2, direct=direct)
    if direct:
        _direct_or_skip(writer)
    before = threading.active_count()

    def full(fd, buffer, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scratch_module, "_write_fully", full)
    with pytest.raises(OSError, match="No space left"):
        for _ in range(8):  # the I/O thread fails at the first page; a later call says so
            writer.write(_audio(PAGE_FRAMES))
        writer.close()
    writer.close()  # said once: closing after it neither raises again nor waits
    assert threading.active_count() <= before - (1 if direct else 0)


def test_big_scratch_goes_past_the_page_cache_and_small_stays_in_it():
    one_hour = 3600 * 44_100
    assert goes_direct(one_hour, 2)  # 1.27 GB: a bed
    assert not goes_direct(9 * 60 * 44_100, 2)  # a story's ambience stem: 190 MB
    assert not goes_direct(one_hour, 1)  # an hour's voice stem: 635 MB, read twice


def test_a_file_system_that_refuses_direct_io_is_written_through_the_cache(tmp_path, monkeypatch):
    """Some file systems (older tmpfs, some FUSE mounts) refuse O_DIRECT with EINVAL when the
    file is opened: the scratch then goes through the cache, and nothing else changes."""
    real_open = os.open

    def refusing(path, flags, *args):
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing)
    frames = 2 * PAGE_FRAMES + 7
    audio = _audio(frames)
    path = tmp_path / "s.f32"
    writer = _write(path, audio, [frames], direct=True)
    assert not writer.direct
    played = list(read_scratch(path, frames, 2, direct=True))
    assert np.array_equal(np.concatenate(played, axis=1), audio)
