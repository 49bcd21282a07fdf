"""The ``narrator`` process itself (the installed command and ``python -m narrator``): the CLI,
then an exit that skips the interpreter's teardown.

Everything registered to run at exit still runs first (multiprocessing stops its helpers and
removes its folder, the threads the CLI left are joined); what is skipped is Python freeing
every module and object one by one, which the system does at once when the process ends:
0.09 s after importing scipy.signal alone, 0.13 s after an hour's bed (2-core Intel Xeon
host, 2026-12-06), on every command. In-process callers use :func:`narrator.cli.main`, which leaves
their interpreter alone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys


def run() -> None:
    # What an exception the CLI lets through exits with, after Python prints its traceback.
    status = [1]
    # Registered before the CLI imports anything that registers its own: the last to run.
    atexit.register(_exit_now, status)
    from narrator.cli import main

    try:
        main()
    except SystemExit as exc:
        status[0] = _status(exc.code)
        raise
    except KeyboardInterrupt:
        status[0] = 130
        raise
    status[0] = 0


def _status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: 0 for none, the number, or 1 for a message
    (which Python has printed by then)."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _exit_now(status: list[int]) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed, or a reader gone (`| head`)
            stream.flush()
    os._exit(status[0])
