"""A growing output file sent to the disk while it is written, so that closing it waits little.

libsndfile syncs a file as it closes it (soundfile's ``close()`` calls ``sf_write_sync``, an
``fsync``): what the encoder had written into the page cache went to the disk then, all of it,
while the command waited. For an hour's FLAC bed (690 MB) that was 0.3-0.4 s at the very end on
the 2-core host. Asked to, the kernel starts writing each stretch as soon as it is written
(``posix_fadvise(POSIX_FADV_DONTNEED)`` starts the write-back of a range's dirty pages without
waiting for it, and drops its pages already written), on the disk's time, while the encode goes
on; the sync at the close then finds little left. Its master took 5.6-5.9 s against
6.0-6.1 s (tests/benchmarks/BENCHMARKS.md). The sync stays: a file renamed into place is whole
on the disk.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

#: Bytes written between two requests: a few a second while a FLAC bed is encoded, few enough
#: to cost nothing (one ``fstat`` per block written, one ``posix_fadvise`` per stretch).
STRETCH_BYTES = 8 << 20
#: The kernel's page: a request starts at the page boundary under what it last asked for, so
#: the page it left part-written is asked for again once it is whole.
_PAGE_BYTES = 4096


class EarlyWriteback:
    """Asks for ``path``'s write-back a stretch at a time as it grows; call :meth:`grown` after
    each write and :meth:`close` at the end. Where the system has no such request
    (``os.posix_fadvise``: not on macOS or Windows) or the file cannot be opened again, it does
    nothing: the sync at the close writes everything, as before."""

    def __init__(self, path: Path | str, *, stretch_bytes: int = STRETCH_BYTES) -> None:
        self._stretch_bytes = stretch_bytes
        self._asked_bytes = 0
        self._fd: int | None = None
        if hasattr(os, "posix_fadvise"):
            with contextlib.suppress(OSError):  # only a speed-up: the writer reports its errors
                self._fd = os.open(path, os.O_RDONLY)

    def grown(self) -> None:
        """Start the write-back of what was written since the last request, once a stretch."""
        if self._fd is None:
            return
        try:
            size = os.fstat(self._fd).st_size
            if size - self._asked_bytes < self._stretch_bytes:
                return
            start = self._asked_bytes - self._asked_bytes % _PAGE_BYTES
            os.posix_fadvise(self._fd, start, size - start, os.POSIX_FADV_DONTNEED)
            self._asked_bytes = size
        except OSError:
            self.close()

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
