"""The worker's side of a batch on a Dask cluster: render one episode from plain data.

The client sends each task plain data only (text, bytes, numbers): the scheduler unpickles the
task graph and need not have narrator installed. The task function is named by a string
(``pkgutil.resolve_name``), so only the workers import this module. A task writes the files it
was sent into a job folder (the worker's scratch space, or ``--shared-dir``), renders there and
returns the list of what it wrote; the client streams those files back, checks their hashes and
moves them into the output folder, then asks the worker to remove the job folder.

Also the worker preload for ``local:N`` clusters (:func:`dask_setup`): a Ctrl-C at the terminal
is the client's to handle, which cancels the tasks and stops the cluster in order.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any

#: Bytes per chunk when the client streams a file back.
CHUNK_BYTES = 1 << 20


class Cancelled(Exception):
    """The client cancelled this task (Ctrl-C, or the batch gave up on it)."""


def render_remote(payload: dict[str, Any]) -> dict[str, Any]:
    """Render the episode ``payload`` describes; the files written, or ``{"error": …}``.

    A story's own fault (a bad cue, an unknown voice) comes back as ``error``: running it again
    elsewhere would fail the same way. Anything else raises, and Dask runs the task again on
    another worker (a worker that died mid-episode is the case that matters).
    """
    from distributed import get_worker

    import narrator

    if narrator.__version__ != payload["narrator"]:
        return {
            "error": f"this worker has narrator {narrator.__version__}; the batch needs "
            f"{payload['narrator']} (install the same version on every worker)"
        }
    from narrator.errors import NarratorError
    from narrator.options import CLI, MANIFEST
    from narrator.render.pipeline import EpisodeMeta, render_story
    from soundscapes.errors import SoundscapeError

    worker = get_worker()
    key = worker.get_current_task()
    worker.log_event("narrator-batch", {"key": str(key), "worker": worker.address})
    base = (
        Path(payload["shared_dir"]) if payload.get("shared_dir") else Path(worker.local_directory)
    )
    job = base / f"narrator-{payload['fingerprint'][:16]}-{uuid.uuid4().hex[:8]}"
    try:
        root = job / "in"
        for relative, data in payload["files"].items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        output = job / "out" / payload["output_name"]
        output.parent.mkdir(parents=True)
        options = {
            key_: (root / value["path"]) if isinstance(value, dict) else value
            for key_, value in payload["options"].items()
        }
        meta = dict(payload["meta"])
        if meta.get("cover"):
            meta["cover"] = root / meta["cover"]
        if meta.get("date"):
            from datetime import datetime

            meta["date"] = datetime.fromisoformat(meta["date"])
        machine = {"output": output, "jobs": payload["speech_jobs"]}
        if payload.get("cache_dir"):
            machine["cache_dir"] = Path(payload["cache_dir"])

        def progress(stage: str, done: int, total: int) -> None:
            task = worker.state.tasks.get(key)
            if task is None or task.state in ("cancelled", "released", "forgotten"):
                raise Cancelled(str(key))

        started = time.perf_counter()
        try:
            result = render_story(
                root / payload["story"],
                layers=[(CLI, machine), (MANIFEST, options)],
                title=payload["title"],
                artist=payload["artist"],
                episode=EpisodeMeta(**meta),
                progress=progress,
            )
        except (NarratorError, SoundscapeError) as exc:
            shutil.rmtree(job, ignore_errors=True)
            return {"error": str(exc).replace(str(root) + os.sep, "")}
        return {
            "output": output.name,
            "worker": worker.address,
            "name": str(worker.name),
            "job": str(job),
            "folder": str(output.parent),
            "files": [_described(p) for p in sorted(output.parent.iterdir()) if p.is_file()],
            "title": result.report.get("title") or "",
            "duration_s": result.duration_s,
            "warnings": list(result.warnings),
            "elapsed_s": time.perf_counter() - started,
        }
    except BaseException:
        shutil.rmtree(job, ignore_errors=True)
        raise


def _described(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return {"name": path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()}


def read_chunk(path: str, offset: int, size: int) -> bytes:
    """``size`` bytes of ``path`` from ``offset`` (the client streams a file in these)."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def remove(path: str) -> None:
    """Remove a finished job's folder."""
    shutil.rmtree(path, ignore_errors=True)


def is_daemonic() -> bool:
    """Whether tasks here run in a daemonic process, which may not start the speech and
    ambience processes a render needs (a nanny's worker, unless told otherwise)."""
    return multiprocessing.current_process().daemon


def dask_setup(worker: Any) -> None:
    """Worker preload for ``local:N``: Ctrl-C is the client's (it cancels and stops us)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
