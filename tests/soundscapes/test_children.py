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
