"""Scratch files: what is written comes back sample for sample, in pages, through the page
cache or past it, and a failure or an early stop leaves nothing running."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import threading

import numpy as np
import pytest

from soundscapes.errors import ExportError, SoundscapeError
from soundscapes.scratch import PAGE_FRAMES, ScratchWriter, goes_direct, page_bytes, read_scratch


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


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _finishes(action, timeout_s: float = 20.0) -> bool:
    """Whether ``action()`` returns within ``timeout_s`` (a hang fails the test, not pytest)."""
    worker = threading.Thread(target=action, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return not worker.is_alive()


def test_a_reader_stopped_early_leaves_no_thread_and_no_file_open(tmp_path):
    frames = 6 * PAGE_FRAMES
    path = tmp_path / "s.f32"
    writer = _write(path, _audio(frames), [frames], direct=True)
    _direct_or_skip(writer)
    threads, fds = threading.active_count(), _open_fds()
    pages = read_scratch(path, frames, 2, direct=True)
    next(pages)  # the reading thread is now a few pages ahead
    assert threading.active_count() == threads + 1
    assert _finishes(pages.close)
    assert threading.active_count() == threads and _open_fds() == fds


@pytest.mark.parametrize("direct", [False, True], ids=["cached", "direct"])
def test_a_failed_write_is_raised_by_a_later_write_and_said_once(tmp_path, monkeypatch, direct):
    path = tmp_path / "s.f32"
    writer = ScratchWriter(path, 2, direct=direct)
    if direct:
        _direct_or_skip(writer)
    threads = threading.active_count()
    real_write = os.write

    def full(fd, data):
        if fd == writer._fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(ExportError) as caught:
        for _ in range(8):  # the I/O thread fails at the first page; a later write says so
            writer.write(_audio(PAGE_FRAMES))
    # One line naming the folder (the scratch's own name is a temporary one) and why.
    assert str(caught.value) == (
        f"{tmp_path} (scratch): cannot write (the disk is full; free some space or write elsewhere)"
    )
    writer.close()  # said once: closing after it neither raises again nor waits
    assert threading.active_count() == threads - (1 if direct else 0)
    assert writer._fd == -1


def test_leaving_on_an_exception_abandons_the_file_without_a_second_error(tmp_path, monkeypatch):
    """The render failed: closing must not flush the last page and bury that failure under
    the disk's."""
    path = tmp_path / "s.f32"
    fds = _open_fds()
    real_write = os.write

    def full(fd, data):
        if fd == writer._fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    writer = ScratchWriter(path, 2, direct=False)
    with pytest.raises(ValueError, match="the render failed") as caught, writer:
        writer.write(_audio(100))  # a short page, not written yet
        monkeypatch.setattr(os, "write", full)
        raise ValueError("the render failed")
    assert caught.value.__context__ is None  # nothing raised on the way out
    assert _open_fds() == fds


def test_a_file_system_that_refuses_direct_transfers_after_opening_falls_back(
    tmp_path, monkeypatch
):
    """Some file systems accept O_DIRECT when the file opens and refuse the first transfer."""
    frames = 3 * PAGE_FRAMES + 99
    audio = _audio(frames)
    path = tmp_path / "s.f32"
    real_write, real_preadv = os.write, os.preadv

    def direct_on(fd: int) -> bool:
        return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)

    def write(fd, data):
        if direct_on(fd):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    def preadv(fd, buffers, offset):
        if direct_on(fd):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "preadv", preadv)
    writer = _write(path, audio, [frames], direct=True)
    assert not writer.direct
    assert path.stat().st_size == frames * 2 * 4
    played = np.concatenate(list(read_scratch(path, frames, 2, direct=True)), axis=1)
    assert np.array_equal(played, audio)


def test_short_reads_are_read_on_and_a_failed_read_is_raised_here(tmp_path, monkeypatch):
    frames = 4 * PAGE_FRAMES
    audio = _audio(frames)
    path = tmp_path / "s.f32"
    writer = _write(path, audio, [frames], direct=True)
    _direct_or_skip(writer)
    real_preadv = os.preadv

    def in_bits(fd, buffers, offset):  # a file system that hands over 8 KiB at a time
        (view,) = buffers
        return real_preadv(fd, [memoryview(view)[:8192]], offset)

    monkeypatch.setattr(os, "preadv", in_bits)
    played = np.concatenate(list(read_scratch(path, frames, 2, direct=True)), axis=1)
    assert np.array_equal(played, audio)

    def broken(fd, buffers, offset):
        if offset >= 2 * page_bytes(2):
            raise OSError(errno.EIO, "Input/output error")
        return real_preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", broken)
    threads, fds = threading.active_count(), _open_fds()
    said = f"{tmp_path} (scratch): cannot read back (Input/output error); leave narrator's"
    with pytest.raises(SoundscapeError) as raised:
        for _ in read_scratch(path, frames, 2, direct=True):
            pass
    assert str(raised.value).startswith(said)
    assert threading.active_count() == threads and _open_fds() == fds


@pytest.mark.parametrize("direct", [False, True], ids=["cached", "direct"])
def test_a_scratch_file_gone_before_it_is_read_is_one_line_naming_its_folder(tmp_path, direct):
    frames = 2 * PAGE_FRAMES
    path = tmp_path / "s.f32"
    _write(path, _audio(frames), [frames], direct=direct)
    path.unlink()  # removed under the render (a user tidying the folder)
    with pytest.raises(SoundscapeError) as raised:
        list(read_scratch(path, frames, 2, direct=direct))
    line = str(raised.value)
    assert line.startswith(f"{tmp_path} (scratch): cannot read back (No such file or directory)")
    assert "\n" not in line


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


def test_noted_scratch_folders_lose_no_line_when_commands_note_them_at_once(tmp_path, monkeypatch):
    """The list of folders holding scratch was read and written anew without a lock: a
    folder noted by one process while another swept was lost. A folder gone is forgotten,
    unless its parent is gone too (a disk away for now)."""
    import subprocess
    import sys

    notes = tmp_path / "notes"
    monkeypatch.setenv("NARRATOR_SCRATCH_NOTES", str(notes))
    folders = [tmp_path / f"f{i}" for i in range(40)]
    for folder in folders:
        folder.mkdir()
    script = (
        "import sys\n"
        "from soundscapes.files import note_scratch_folder, sweep_noted_scratch\n"
        "for folder in sys.argv[1:]:\n"
        "    note_scratch_folder(folder)\n"
        "    sweep_noted_scratch()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *map(str, folders[i::4])]) for i in range(4)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert sorted(notes.read_text().splitlines()) == sorted(str(f.resolve()) for f in folders)
    folders[0].rmdir()
    (tmp_path / "away" / "disk").mkdir(parents=True)
    from soundscapes.files import note_scratch_folder, sweep_noted_scratch

    note_scratch_folder(tmp_path / "away" / "disk")
    shutil.rmtree(tmp_path / "away")
    sweep_noted_scratch()
    kept = notes.read_text().splitlines()
    assert str(folders[0].resolve()) not in kept and len(kept) == 40
    assert str((tmp_path / "away" / "disk").resolve()) in kept
