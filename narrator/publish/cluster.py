"""A batch on a Dask cluster: each episode that needs rendering is one task.

``narrator batch MANIFEST --scheduler tcp://HOST:8786`` uses a running cluster (Dask's own
``dask scheduler`` and ``dask worker``, on SSH hosts, Kubernetes or an HPC queue);
``--scheduler local:N`` starts N worker processes here. Workers need narrator installed (the
same version) and nothing else: each task carries the episode's files as bytes and its options
as plain data (:mod:`narrator.publish.remote`), and the finished files are streamed back in
chunks, checked against their SHA-256 and moved into the output folder atomically. With
``--shared-dir`` (a folder every worker mounts) workers write there and the client moves the
files from it.

Fingerprints, the feed and the playlist stay here, so incremental re-rendering works as for a
local batch. Faults: a worker that dies mid-episode has its task run again on another (Dask's
``allowed-failures``); a story that fails is reported like a local failure; Ctrl-C cancels
the tasks. Facts used (measured with dask/distributed 2026.8.0): the scheduler unpickles task
graphs, so tasks are stdlib callables over plain data; ``Client(timeout=…)`` can hang on a
peer that accepts and never speaks, so the connection is probed with a deadline first; a
nanny's worker process is daemonic unless ``DASK_DISTRIBUTED__WORKER__DAEMON=False``, and a
daemonic process cannot start the speech and ambience processes a render needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import logging
import operator
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import narrator
from narrator.publish import PublishError

#: Seconds to reach a scheduler before giving up (the issue asks for an answer within 10 s).
CONNECT_TIMEOUT_S = 8.0
#: Runs of one episode's task on workers that die under it, before the batch gives up on it.
ALLOWED_FAILURES = 3
_TASK = "narrator.publish.remote:render_remote"

#: ``on_cluster(running, queued)``: which worker holds each running episode (episode name →
#: worker name), and how many are waiting.
ClusterProgress = Callable[[dict[str, str], int], None]


@dataclass(frozen=True, kw_only=True)
class Job:
    """One episode for the cluster: what to send, and where its files go."""

    name: str
    payload: dict[str, Any]
    folder: Path
    #: Called with the worker's answer once the files are in place (or with an error).
    done: Callable[[dict[str, Any]], None]


def needs_dask() -> None:
    if importlib.util.find_spec("distributed") is None:
        raise PublishError(
            "--scheduler needs Dask's distributed scheduler; install it with "
            "pip install 'narrator[cluster]'"
        )


def probe(address: str) -> None:
    """Fail in one line, within :data:`CONNECT_TIMEOUT_S`, when no scheduler answers."""
    import asyncio

    from distributed.comm import connect

    async def reach() -> None:
        comm = await asyncio.wait_for(
            connect(address, timeout=CONNECT_TIMEOUT_S), CONNECT_TIMEOUT_S
        )
        await comm.close()

    try:
        asyncio.run(reach())
    except TimeoutError:
        raise PublishError(
            f"--scheduler {address}: no Dask scheduler answered within {CONNECT_TIMEOUT_S:g} s; "
            "check the address and that `dask scheduler` runs there"
        ) from None
    except (Exception, MemoryError) as exc:  # a peer that is not Dask can answer with anything
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise PublishError(
            f"--scheduler {address}: cannot reach a Dask scheduler ({first}); check the "
            "address (tcp://HOST:8786) and that `dask scheduler` runs there"
        ) from None


@contextlib.contextmanager
def connected(scheduler: str) -> Iterator[Any]:
    """A client of ``scheduler`` (``tcp://…`` or ``local:N``), closed (and a local cluster
    stopped) on the way out."""
    needs_dask()
    import dask
    from distributed import Client, LocalCluster

    for name in ("distributed", "distributed.worker.state_machine", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)
    config = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.worker.daemon": False,
    }
    with dask.config.set(config), contextlib.ExitStack() as stack:
        if scheduler.startswith("local:"):
            count = scheduler.partition(":")[2]
            if not count.isdigit() or not 1 <= int(count) <= 256:
                raise PublishError(f"--scheduler {scheduler}: write local:N with N from 1 to 256")
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=int(count),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    memory_limit=0,
                    preload=["narrator.publish.remote"],
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            probe(scheduler)
            client = stack.enter_context(Client(scheduler, timeout=CONNECT_TIMEOUT_S))
        check_workers(client)
        yield client


def check_workers(client: Any) -> None:
    """Every worker has this narrator and may start processes: else one line naming them."""
    workers = client.scheduler_info()["workers"]
    if not workers:
        raise PublishError(
            "the Dask scheduler has no workers; start some with "
            "`dask worker SCHEDULER-ADDRESS` (with narrator installed)"
        )
    names = {address: str(info.get("name", address)) for address, info in workers.items()}
    versions = client.run(importlib.metadata.version, "narrator", on_error="return")
    bad = []
    for address, version in sorted(versions.items()):
        name = f"{names.get(address, address)} ({address})"
        if isinstance(version, BaseException):
            bad.append(f"{name} has no narrator")
        elif version != narrator.__version__:
            bad.append(f"{name} has narrator {version}")
    if bad:
        raise PublishError(
            f"workers cannot render: {'; '.join(bad)}; install narrator "
            f"{narrator.__version__} on every worker"
        )
    from narrator.publish.remote import is_daemonic

    daemonic = [names.get(a, a) for a, d in client.run(is_daemonic).items() if d is True]
    if daemonic:
        raise PublishError(
            f"workers {', '.join(sorted(daemonic))} run tasks in daemonic processes, which cannot "
            "start a render's speech workers; start them with "
            "DASK_DISTRIBUTED__WORKER__DAEMON=False (or dask worker --no-nanny)"
        )


def run_jobs(client: Any, jobs: list[Job], *, on_cluster: ClusterProgress | None = None) -> None:
    """Submit ``jobs``, fetch each as it finishes, and call its ``done``. Ctrl-C cancels."""
    import pkgutil

    from distributed import as_completed

    function = client.submit(pkgutil.resolve_name, _TASK, key="narrator-render-function")
    futures = {
        client.submit(operator.call, function, job.payload, key=_key(job), pure=False): job
        for job in jobs
    }
    running: dict[str, str] = {}
    names: dict[str, str] = {}

    def learn_names() -> None:
        """Workers by their names (``dask worker --name``), which survive restarts; asked
        from this thread (the subscription's callback runs on the client's event loop)."""
        workers = client.scheduler_info()["workers"]
        names.update({a: str(w.get("name", a)) for a, w in workers.items()})

    def started(event: Any) -> None:
        _, data = event
        address = str(data.get("worker"))
        for future, job in futures.items():
            if future.key == data.get("key"):
                running[job.name] = names.get(address, address)
        if on_cluster is not None:
            on_cluster(dict(running), len(futures) - len(running))

    learn_names()
    client.subscribe_topic("narrator-batch", started)
    try:
        for future in as_completed(list(futures)):
            job = futures.pop(future)
            running.pop(job.name, None)
            try:
                answer = future.result()
            except Exception as exc:  # KilledWorker after ALLOWED_FAILURES deaths, or a bug
                answer = {"error": f"the cluster could not render it ({type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else ''})"}  # fmt: skip
            if "error" not in answer:
                job_folder, worker = answer["job"], answer["worker"]
                try:
                    fetch(client, answer, job.folder)
                except (OSError, PublishError) as exc:
                    answer = {"error": f"its files could not be fetched from the worker ({exc}); "
                                       "run the batch again"}  # fmt: skip
                except Exception as exc:  # the worker left between its render and the fetch
                    answer = {"error": f"the worker left before its files were fetched "
                                       f"({type(exc).__name__}); run the batch again"}  # fmt: skip
                finally:
                    with contextlib.suppress(Exception):  # a worker that is gone took it along
                        client.run(_remove, job_folder, workers=[worker], on_error="ignore")
            job.done(answer)
            future.release()
            learn_names()
            if on_cluster is not None:
                on_cluster(dict(running), len(futures) - len(running))
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        client.unsubscribe_topic("narrator-batch")


def _key(job: Job) -> str:
    return f"narrator-{job.payload['fingerprint'][:16]}-{job.name}"


def _remove(path: str) -> None:
    from narrator.publish.remote import remove

    remove(path)


def fetch(client: Any, answer: dict[str, Any], folder: Path) -> None:
    """Stream the files of a finished render into ``folder``: each checked against its SHA-256
    and moved in atomically, the audio last (so a file there is always whole and, with its
    sidecars, current)."""
    from narrator.publish.remote import CHUNK_BYTES, read_chunk

    shared = Path(answer["folder"]).is_dir()  # --shared-dir, or a local cluster on this disk
    files = sorted(answer["files"], key=lambda f: f["name"] == answer["output"])
    for entry in files:
        source = os.path.join(answer["folder"], entry["name"])
        target = folder / entry["name"]
        partial = target.with_name(f".{target.name}.part-{os.getpid()}")
        digest = hashlib.sha256()
        try:
            with partial.open("wb") as out:
                for offset in range(0, entry["size"], CHUNK_BYTES):
                    if shared:
                        chunk = read_chunk(source, offset, CHUNK_BYTES)
                    else:
                        address = answer["worker"]
                        chunk = client.run(
                            read_chunk, source, offset, CHUNK_BYTES, workers=[address]
                        )[address]
                    out.write(chunk)
                    digest.update(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != entry["sha256"]:
                raise PublishError(f"{target}: the copy from the worker is damaged; run again")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


def payload_for(
    manifest: Any, task: Any, *, shared_dir: Path | None, cache_dir: Path | None
) -> dict[str, Any]:
    """The plain data a worker renders ``task``'s episode from: every file the render reads,
    by its place in the manifest's folder, and the options with paths made relative to it."""
    from narrator.options import MANIFEST
    from narrator.publish.batch import fingerprint
    from narrator.render.files import render_inputs
    from narrator.render.story import load_story

    ep, folder = task.episode, manifest.folder.resolve()
    where = f"{manifest.path}: {ep.name}"

    def inside(path: Path, what: str) -> str:
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(folder):
            raise PublishError(
                f"{where}: its {what} {path} is outside the manifest's folder; with --scheduler "
                "every file an episode reads is sent from there: move it inside"
            )
        return resolved.relative_to(folder).as_posix()

    voice = str(ep.options.get("voice") or "")
    if voice.endswith(".onnx"):  # a piper voice file (a name may hold a slash: gmw/en-us)
        raise PublishError(
            f"{where}: voice {voice} is a file; with --scheduler name a voice the workers have "
            "installed (narrator voices)"
        )
    script, settings, scenes = load_story(ep.story, layers=[(MANIFEST, ep.options)])
    files = {inside(path, role): path.read_bytes() for role, path in
             render_inputs(ep.story, settings, script, scenes)}  # fmt: skip
    meta = task.meta
    cover = None
    if meta.cover is not None:
        cover = inside(meta.cover, "show artwork")
        files[cover] = meta.cover.read_bytes()
    options = {
        key: {"path": inside(value, key)} if isinstance(value, Path) else value
        for key, value in ep.options.items()
        if key != "cache_dir"  # the worker's own, or --cache-dir
    }
    return {
        "narrator": narrator.__version__,
        "fingerprint": fingerprint(task.inputs),
        "files": files,
        "story": inside(ep.story, "story"),
        "options": options,
        "output_name": ep.output.name,
        "title": ep.title,
        "artist": task.artist,
        "meta": {
            "album": meta.album,
            "artist": meta.artist,
            "track": meta.track,
            "date": meta.date.isoformat() if meta.date else None,
            "cover": cover,
        },
        "speech_jobs": task.speech_jobs,
        "cache_dir": str(cache_dir) if cache_dir else None,
        "shared_dir": str(shared_dir) if shared_dir else None,
    }
