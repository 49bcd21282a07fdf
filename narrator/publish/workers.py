"""The batch's render workers: how they stop when the batch is interrupted.

A worker of the batch's process pool dies with the batch and leaves Ctrl-C to it
(:func:`soundscapes.children.become_child`). When the batch is interrupted it stops its
workers with SIGTERM: a worker rendering an episode unwinds that render first (its
``finally`` blocks remove its scratch and stop its own workers), then ends; an idle one ends
at once. Ending, not returning to the pool's queue, is what lets the pool notice at once
(it breaks) instead of waiting on workers for a stop they may never read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from soundscapes.children import become_child

#: A worker's exit status once it stopped on SIGTERM (128 + the signal, as a shell reports).
STOPPED_EXIT = 128 + signal.SIGTERM
#: How long the batch waits for a stopped worker to unwind its render before killing it.
UNWIND_GRACE_S = 30.0

#: In a worker: whether it renders an episode now (``None`` outside a batch's worker).
_rendering: bool | None = None
#: In a worker: whether it was told to stop.
_stopped = False


def become_batch_worker(batch_pid: int) -> None:
    """The pool's initializer: a child of the batch that stops on SIGTERM as above."""
    global _rendering
    become_child(batch_pid)
    _rendering = False
    signal.signal(signal.SIGTERM, _stop)


def _stop(signum: int, frame: object) -> None:
    global _stopped
    first = not _stopped
    _stopped = True
    if not _rendering:
        os._exit(STOPPED_EXIT)
    if first:  # a second SIGTERM must not cut the unwinding short
        raise KeyboardInterrupt


@contextlib.contextmanager
def episode_render() -> Iterator[None]:
    """Around one episode's render. In a worker told to stop, the render unwinds with a
    ``KeyboardInterrupt`` and the process then ends here; elsewhere (the batch's own
    process, ``jobs=1``) it does nothing."""
    global _rendering
    if _rendering is None:
        yield
        return
    _rendering = True
    try:
        yield
    except KeyboardInterrupt:
        if not _stopped:
            raise
    finally:
        # No stop between the flag and the check: a pending one arrives after, idle.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        _rendering = False
        if _stopped:
            os._exit(STOPPED_EXIT)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def stop_workers(pool: ProcessPoolExecutor, grace_s: float = UNWIND_GRACE_S) -> None:
    """Stop every worker of ``pool`` (rendering or not) and shut it down; a worker still
    unwinding after ``grace_s`` is killed."""
    # The pool has no public way to stop its workers before Python 3.14
    # (terminate_workers); its process table is the one place they are named.
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
