"""Dask's own scheduler and workers as separate processes on 127.0.0.1, for the cluster tests
and the cluster benchmark: free ports, each process in its own session, stopped in order."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from distributed import Client

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")


class Cluster:
    """A scheduler and workers as separate processes, each in its own session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        info = folder / "scheduler.json"
        self._start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                                  "--scheduler-file", str(info)])  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # written in place: wait until it parses
            try:
                self.address = json.loads(info.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                assert time.monotonic() < deadline, "the scheduler did not start"
                time.sleep(0.05)

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        )

    def worker(self, name: str, *, daemon: bool = False, pythonpath: str = "") -> None:
        path = os.pathsep.join(p for p in (pythonpath, str(ROOT)) if p)
        env = dict(os.environ, PYTHONPATH=path)
        if not daemon:  # a nanny's worker process may then start the render's own processes
            env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
        args = [str(DASK), "worker", self.address, "--nworkers", "1", "--nthreads", "1",
                "--no-dashboard", "--name", name, "--host", "127.0.0.1",
                "--local-directory", str(self.folder / f"{name}-space")]  # fmt: skip
        self._start(name, args, env)

    def wait_for(self, count: int) -> None:
        with Client(self.address, timeout=10) as client:
            client.wait_for_workers(count, timeout=60)

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
