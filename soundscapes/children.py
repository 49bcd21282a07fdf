"""Worker processes that die with their parent and leave Ctrl-C to it.

A pool worker blocked on its task queue never notices that its parent was killed (the queue's
write end is held by the workers themselves), so after a ``kill -9`` it would live on under
PID 1, holding a voice model in memory. :func:`become_child` makes a worker process:

- exit when its parent dies, whatever killed it: on Linux the kernel sends it SIGKILL
  (``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog thread sees it re-parented;
- with an owner that is not its parent (a child of a fork server works for the process that
  asked for it), exit when the owner is gone: the watchdog looks for it too, and counts a
  killed owner whose parent has not yet reaped it (a zombie) as gone;
- ignore SIGINT and SIGHUP, so a Ctrl-C at the terminal or its closing (sent to the whole
  process group) reaches the parent only, which stops its workers in order and says
  "interrupted" once, instead of every worker printing a traceback or dying with its scratch.

Helper processes that multiprocessing starts itself (the fork server, the resource tracker)
start under :func:`hangups_ignored` for the same reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator

#: How often the watchdog looks for its parent, seconds.
WATCH_INTERVAL_S = 0.25
_PR_SET_PDEATHSIG = 1


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, as ``taskset`` or a container sets it, not
    the machine's count): how many processes can work at once."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def become_child(owner_pid: int | None = None) -> None:
    """Call first thing in a worker process (a pool initializer, a process target).

    ``owner_pid`` is the process the worker works for, when that is not its parent (a child
    forked by a fork server): the worker also exits when the owner is gone.
    """
    parent = os.getppid()
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if owner_pid is not None and not _running(owner_pid):  # gone before we were ready
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent, owner_pid), name="narrator-orphan-watch", daemon=True
    ).start()


@contextlib.contextmanager
def hangups_ignored() -> Iterator[None]:
    """SIGHUP ignored while helper processes start: an ignored signal stays ignored in a
    child, even across ``exec``, so when a closing terminal sends SIGHUP to the whole group,
    multiprocessing's resource tracker and fork server live on until the command, unwinding,
    is done with them (the tracker died, and its relaunch printed a traceback)."""
    try:
        previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    except ValueError:  # not the main thread: handlers are not this thread's to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (anyone's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _watch(parent: int, owner_pid: int | None) -> None:
    event = threading.Event()
    while not event.wait(WATCH_INTERVAL_S):
        if os.getppid() != parent or (owner_pid is not None and not _running(owner_pid)):
            os._exit(1)


def _running(pid: int) -> bool:
    """Whether ``pid`` is alive and not a zombie: a process killed by ``kill -9`` stays one
    until its parent reaps it, and ``kill(pid, 0)`` still finds it meanwhile."""
    if not process_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # "pid (comm) S ...": the state follows the last ')' (comm may hold any bytes).
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (not Linux) or a race with its exit: alive says the rest
