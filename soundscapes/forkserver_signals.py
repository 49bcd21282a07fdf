"""Imported by the fork server before it serves (the first of its preload): Ctrl-C is left to
the command that owns the children.

A child of the fork server starts with the signal handlers the server had when its preload
was done, then runs until :func:`soundscapes.children.become_child` ignores SIGINT. A Ctrl-C
at the terminal reaches the whole process group, so one arriving in that window printed a
child's ``KeyboardInterrupt`` traceback beside the command's one "interrupted" line (1 run in
8 of a Ctrl-C just as the ambience processes start). Ignored here, it is ignored in every
child from its first instruction.
"""

from __future__ import annotations

import signal
import sys


def _in_fork_server_preload() -> bool:
    """Whether this import runs in the fork server's own preload (multiprocessing's
    ``forkserver.main`` is on the stack), not in a process that merely imports the module."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith("forkserver.py"):
            return True
        frame = frame.f_back
    return False


if _in_fork_server_preload():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
