"""Audio kept on disk between the pass that renders it and the passes that play it back.

A scratch file is raw float32 in pages of :data:`PAGE_FRAMES` frames, each page one channel
after the other, so that neither writing a ``(channels, n)`` block nor reading one back
transposes a sample, and pages are filled in buffers kept for the whole file. Every page is
whole but the last; a file holds exactly ``frames * channels * 4`` bytes.

Measured 2026-12-04 on the 2-core host with tests/benchmarks/bench_scratch.py, the 10 GB of
an 8 h bed: kept as before (each block transposed and handed over as a new bytes object) it
cost 17-20 s of kernel time to write, most of it the fresh memory every block took; in pages
through the page cache 4-5 s. Big scratch (:func:`goes_direct`) goes past the cache
(``O_DIRECT``) in a thread beside the work: 1.5 s of kernel time to write, and read back at
the disk's pace a few pages ahead of the work. That costs about what the cache does while
the machine has memory to spare, and an all-night bed does not push 10 GB of what the
machine keeps cached out of memory (nor, bypassing the cache, pay for evicting it). Small
scratch (a story's stems, read twice) stays in the cache, which serves it at the speed of
memory. A file system that refuses ``O_DIRECT`` (older tmpfs, some FUSE mounts) is written
through the cache.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import numpy as np

from soundscapes.errors import SoundscapeError
from soundscapes.files import writing

#: Frames a page holds: 1.5 s at 44.1 kHz, what the render hands over at a time.
PAGE_FRAMES = 1 << 16
#: Scratch of this many bytes or more (about 50 min of stereo at 44.1 kHz) is written and read
#: past the page cache; smaller scratch is cheaper in it.
DIRECT_MIN_BYTES = 1 << 30
#: Direct I/O moves whole blocks of the disk from memory aligned to them.
_ALIGN = 4096
#: Page buffers each direct writer or reader keeps: the writer fills one while the others
#: are written; the reader reads this many ahead of its caller.
_PAGES_AHEAD = 3
#: Samples on disk: little-endian float32, whatever the machine.
_SAMPLE = np.dtype("<f4")


def page_bytes(channels: int) -> int:
    """Bytes of one whole page of ``channels`` channels."""
    return PAGE_FRAMES * channels * _SAMPLE.itemsize


def goes_direct(frames: int, channels: int) -> bool:
    """Whether scratch of ``frames`` frames is big enough to bypass the page cache."""
    return frames * channels * _SAMPLE.itemsize >= DIRECT_MIN_BYTES


def _aligned(nbytes: int) -> mmap.mmap:
    """A buffer of ``nbytes`` (rounded up to the alignment) at a page-aligned address."""
    return mmap.mmap(-1, _round_up(nbytes))


def _round_up(nbytes: int) -> int:
    return -(-nbytes // _ALIGN) * _ALIGN


def _open_direct(path: Path, flags: int) -> int | None:
    """``path`` opened past the page cache, or ``None`` where the file system refuses it."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return None
    try:
        return os.open(path, flags | direct, 0o600)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return None
        raise


def _refused(exc: OSError, fd: int) -> bool:
    """Whether ``exc`` is a file system refusing a direct read or write on ``fd`` (some accept
    ``O_DIRECT`` when the file opens and refuse it at the first transfer, or once a short
    transfer leaves the offset unaligned); if so, ``fd`` now goes through the page cache."""
    direct = getattr(os, "O_DIRECT", 0)
    if exc.errno != errno.EINVAL or not direct:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if not flags & direct:
        return False
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~direct)
    return True


class ScratchWriter:
    """Writes ``(channels, n)`` float32 blocks of any length to ``path`` as scratch pages.

    ``direct`` (by default when ``frames``, the length expected, makes the file big:
    :func:`goes_direct`) writes past the page cache in a thread of its own; a write that fails
    there is raised by the next call here. Use as a context manager, or call :meth:`close`,
    which writes the last page and raises a failure not raised yet. Leaving the context on an
    exception abandons the file instead (the caller's exception is the news).

    A failure is raised as one :class:`~soundscapes.errors.ExportError` line naming the
    scratch file's folder (the file's own name is a temporary one) and why.
    """

    def __init__(
        self, path: Path | str, channels: int, *, frames: int = 0, direct: bool | None = None
    ) -> None:
        self.channels = channels
        self._where = f"{Path(path).parent} (scratch)"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        if direct is None:
            direct = goes_direct(frames, channels)
        with writing(self._where):
            fd = _open_direct(Path(path), flags) if direct else None
            self.direct = fd is not None
            self._fd = fd if fd is not None else os.open(path, flags, 0o600)
        self._filled = 0  # frames in the page being filled
        self._written = 0  # bytes of samples handed to the file
        self._failed: BaseException | None = None
        self._told = False
        self._todo: queue.Queue[tuple[mmap.mmap, int] | None] = queue.Queue()
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        self._thread: threading.Thread | None = None
        try:
            self._page = _aligned(page_bytes(channels))
            if self.direct:
                for _ in range(_PAGES_AHEAD - 1):
                    self._free.put(_aligned(page_bytes(channels)))
                self._thread = threading.Thread(
                    target=self._drain, name="scratch-writer", daemon=True
                )
                self._thread.start()
        except BaseException:
            os.close(self._fd)
            raise

    def _view(self, page: mmap.mmap) -> np.ndarray:
        return np.frombuffer(page, _SAMPLE, self.channels * PAGE_FRAMES).reshape(
            self.channels, PAGE_FRAMES
        )

    def write(self, block: np.ndarray) -> None:
        """Append ``block`` ``(channels, n)`` (copied: the caller may reuse it at once)."""
        with writing(self._where):
            self._append(block)

    def _append(self, block: np.ndarray) -> None:
        self._raise_failure()
        n, done = block.shape[1], 0
        while done < n:
            take = min(PAGE_FRAMES - self._filled, n - done)
            self._view(self._page)[:, self._filled : self._filled + take] = block[
                :, done : done + take
            ]
            self._filled += take
            done += take
            if self._filled == PAGE_FRAMES:
                self._hand_over(page_bytes(self.channels))

    def _hand_over(self, nbytes: int) -> None:
        """Send the page being filled (its first ``nbytes``) to the file; start another."""
        self._filled = 0  # handed over, even if what follows is interrupted
        if self._thread is None:
            try:
                self._write(self._page, nbytes)
            except BaseException as exc:
                self._failed = exc
                self._raise_failure()
            return
        self._todo.put((self._page, nbytes))
        self._page = self._free.get()
        self._raise_failure()

    def _write(self, page: mmap.mmap, nbytes: int) -> None:
        """Write ``nbytes`` of ``page`` at the end of the file. Direct I/O writes whole disk
        blocks: a short last page goes out padded, and :meth:`close` cuts the file back."""
        length = _round_up(nbytes) if self.direct else nbytes
        with memoryview(page) as view:
            done = 0
            while done < length:
                try:
                    done += os.write(self._fd, view[done:length])
                except OSError as exc:
                    if not _refused(exc, self._fd):
                        raise
                    self.direct = False  # the rest through the page cache
                    length = max(done, nbytes)
        self._written += nbytes

    def _drain(self) -> None:
        """The I/O thread: write the pages handed over, in order, until told to stop; after a
        failure, keep taking pages (so the worker never waits on a full queue) and drop them."""
        while (item := self._todo.get()) is not None:
            page, nbytes = item
            if self._failed is None:
                try:
                    self._write(page, nbytes)
                except BaseException as exc:  # raised in the caller's thread, at its next call
                    self._failed = exc
            self._free.put(page)

    def _raise_failure(self) -> None:
        """Raise a failed write, once: the caller has heard of it after that."""
        if self._failed is not None and not self._told:
            self._told = True
            raise self._failed

    def close(self) -> None:
        """Write the last page, wait for the file, close it; raises a failed write not raised
        yet. Closing again does nothing."""
        with writing(self._where):
            self._close()

    def _close(self) -> None:
        if self._fd < 0:
            return
        try:
            if self._filled and self._failed is None:
                # A short page is planar too: each channel's frames, then the next channel's.
                n = self._filled
                short = self._view(self._page)[:, :n].copy()
                np.frombuffer(self._page, _SAMPLE, self.channels * n)[:] = short.ravel()
                self._hand_over(n * self.channels * _SAMPLE.itemsize)
            self._stop_thread()
            self._raise_failure()
            # Padding a direct write put past the samples goes.
            os.ftruncate(self._fd, self._written)
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Stop the I/O thread and close the file, whatever was written."""
        self._stop_thread()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._todo.put(None)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()


def _page_span(index: int, frames: int) -> int:
    """Frames in page ``index`` of a scratch of ``frames`` frames."""
    return min(PAGE_FRAMES, frames - index * PAGE_FRAMES)


def read_scratch(
    path: Path | str, frames: int, channels: int, every: int = 1, *, direct: bool | None = None
) -> Iterator[np.ndarray]:
    """Play back a scratch file as float32 ``(channels, n)`` pages, ``frames`` in all (silence
    past the file's end, so a file cut short never stops a render mid-way); with ``every``,
    only every that-many-th page (the first, and so on), the others skipped unread.

    ``direct`` (by default for a big file: :func:`goes_direct`) reads past the page cache, a
    few pages ahead in a thread of its own.

    Raises
    ------
    SoundscapeError
        The file cannot be opened or read (removed under the render, a failing disk): one
        line naming its folder, as a failed write is said.
    """
    try:
        yield from _read_scratch(Path(path), frames, channels, every, direct)
    except OSError as exc:
        if isinstance(exc, SoundscapeError):
            raise
        reason = exc.strerror or str(exc)
        raise SoundscapeError(
            f"{Path(path).parent} (scratch): cannot read back ({reason}); leave narrator's "
            "scratch files alone while it runs, and check the disk"
        ) from None


def _read_scratch(
    path: Path, frames: int, channels: int, every: int, direct: bool | None
) -> Iterator[np.ndarray]:
    indices = range(0, -(-frames // PAGE_FRAMES), every)
    if direct is None:
        direct = goes_direct(frames, channels)
    fd = _open_direct(path, os.O_RDONLY) if direct else None
    if fd is None:
        with open(path, "rb") as f:
            for i in indices:
                n = _page_span(i, frames)
                f.seek(i * page_bytes(channels))
                data = np.fromfile(f, dtype=_SAMPLE, count=n * channels)
                yield _planar(data, n, channels)
        return
    try:
        yield from _read_ahead(fd, indices, frames, channels)
    finally:
        os.close(fd)


def _planar(data: np.ndarray, n: int, channels: int) -> np.ndarray:
    """A page's samples as float32 ``(channels, n)``, zeros where the file had none."""
    if data.size < n * channels:
        data = np.concatenate([data, np.zeros(n * channels - data.size, _SAMPLE)])
    return data.astype(np.float32, copy=False).reshape(channels, n)


def _read_page(fd: int, page: mmap.mmap, offset: int, nbytes: int) -> int:
    """Read up to ``nbytes`` at ``offset`` into ``page``, however many calls it takes; the
    bytes read (fewer only at the end of the file)."""
    got = 0
    with memoryview(page) as view:
        while got < nbytes:
            try:
                n = os.preadv(fd, [view[got : _round_up(nbytes)]], offset + got)
            except OSError as exc:
                if not _refused(exc, fd):
                    raise
                continue  # again, through the page cache
            if n == 0:
                break
            got += n
    return min(got, nbytes)


def _read_ahead(fd: int, indices: range, frames: int, channels: int) -> Iterator[np.ndarray]:
    """Pages ``indices`` of the scratch open (directly) on ``fd``, read by a thread a few
    pages ahead of the caller."""
    free: queue.Queue[mmap.mmap | None] = queue.Queue()
    for _ in range(_PAGES_AHEAD):
        free.put(_aligned(page_bytes(channels)))
    ready: queue.Queue[tuple[mmap.mmap, int] | BaseException] = queue.Queue()

    def fill() -> None:
        try:
            for i in indices:
                page = free.get()
                if page is None:  # the caller stopped
                    return
                nbytes = _page_span(i, frames) * channels * _SAMPLE.itemsize
                ready.put((page, _read_page(fd, page, i * page_bytes(channels), nbytes)))
        except BaseException as exc:  # raised in the caller's thread
            ready.put(exc)

    thread = threading.Thread(target=fill, name="scratch-reader", daemon=True)
    thread.start()
    try:
        for i in indices:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            page, got = item
            data = np.frombuffer(page, _SAMPLE, got // _SAMPLE.itemsize).copy()
            free.put(page)
            yield _planar(data, _page_span(i, frames), channels)
    finally:
        free.put(None)  # wakes the thread if it waits for a buffer; it stops at the next one
        thread.join()
