"""A worker's owner counts as gone once it is killed, even before its parent reaps it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from soundscapes import children


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_owner_not_yet_reaped_is_gone() -> None:
    owner = subprocess.Popen(["sleep", "30"])
    try:
        assert children._running(owner.pid)
        os.kill(owner.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while children._running(owner.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        # A zombie: kill(pid, 0) still finds it, but nobody is there to work for.
        assert children.process_alive(owner.pid)
        assert not children._running(owner.pid)
    finally:
        owner.kill()
        owner.wait()
    assert not children.process_alive(owner.pid) and not children._running(owner.pid)


def _sigint_handler(queue) -> None:
    queue.put(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)


def test_a_fork_server_child_starts_with_ctrl_c_ignored_and_an_importer_keeps_its_own() -> None:
    """Before any code of the child's runs: a Ctrl-C to the group as a child starts printed
    its traceback beside the command's one line."""
    import importlib

    import soundscapes.forkserver_signals
    from soundscapes.background import child_context

    # Run here (not in the fork server), the module leaves this process's handler as it was.
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        importlib.reload(soundscapes.forkserver_signals)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
    context = child_context()
    queue = context.Queue()
    child = context.Process(target=_sigint_handler, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=60) is True
    finally:
        child.join(timeout=60)
