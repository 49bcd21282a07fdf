"""A batch on a real Dask cluster: Dask's own ``dask scheduler`` and ``dask worker`` processes on
127.0.0.1 (free ports), six fake-engine episodes, one worker killed while it renders one.

Every episode must finish, byte-identical to a local batch's, and a rerun render nothing; an
unreachable scheduler and workers that cannot render are one error line each.
"""

from __future__ import annotations

import filecmp
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from distributed import Client
from typer.testing import CliRunner

from narrator.cli import app
from tests.publish.dask_cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

STORIES = {
    f"stories/{name}.txt": f"The {name} night is calm. The tide comes in, and you rest.\n\n"
    f"The sea breathes slowly beside you, {name} wave after wave.\n"
    for name in ("first", "second", "third", "fourth", "fifth", "sixth")
}
MANIFEST = """\
output_dir = "public"
engine = "fake"
tail = 2

[podcast]
title = "Cluster Nights"
base_url = "https://example.org/cluster/"
""" + "".join(f'\n[[episodes]]\nstory = "{ref}"\nnumber = {i}\n' for i, ref in
              enumerate(STORIES, start=1))  # fmt: skip


def lay_out(folder: Path) -> Path:
    for name, text in STORIES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "podcast.toml").write_text(MANIFEST, encoding="utf-8")
    return folder / "podcast.toml"


@pytest.fixture
def cluster(tmp_path):
    folder = tmp_path / "cluster"
    folder.mkdir()
    running = Cluster(folder)
    try:
        yield running
    finally:
        running.stop()


def _executing(dask_worker) -> list[str]:
    return [str(task.key) for task in dask_worker.state.executing]


def kill_a_busy_worker(address: str, killed: list, deadline_s: float = 90.0) -> None:
    """``kill -9`` the worker process that is rendering an episode, once."""
    with Client(address, timeout=10) as client:
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            executing = client.run(_executing, on_error="ignore")
            busy = [(worker, key) for worker, keys in executing.items() for key in keys
                    if key.startswith("narrator-") and "function" not in key]  # fmt: skip
            if busy:
                worker, key = busy[0]
                pid = client.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                killed.append((worker, pid, key))
                return
            time.sleep(0.05)


def same_files(a: Path, b: Path) -> list[str]:
    """Files of ``a`` that differ from ``b``'s: audio and sidecars byte for byte; reports but
    for their wall-clock timings and stage times and cache counts (each worker has its own
    speech cache); fingerprint records by their fingerprint."""
    differ = []
    for path in sorted(a.iterdir()):
        other = b / path.name
        if path.name.endswith((".report.json", ".fingerprint.json")):
            mine, theirs = json.loads(path.read_text()), json.loads(other.read_text())
            for record in (mine, theirs):
                record.pop("timings_s", None)
                record.pop("stages", None)
                record.pop("cache", None)
                record.pop("first_rendered", None)
                record.pop("rendered", None)
            same = mine == theirs if path.name.endswith(".report.json") else (
                mine["fingerprint"] == theirs["fingerprint"])  # fmt: skip
        else:
            same = filecmp.cmp(path, other, shallow=False)
        if not same:
            differ.append(path.name)
    return differ


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_six_episodes_finish_when_a_worker_dies_under_one(cluster, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "remote"
    for folder in (local, remote):
        lay_out(folder)
    code, text = cli("batch", str(local / "podcast.toml"), "--jobs", "1", "-q")
    assert code == 0, text
    cluster.worker("w0")
    cluster.worker("w1")
    cluster.wait_for(2)
    killed: list = []
    killer = threading.Thread(target=kill_a_busy_worker, args=(cluster.address, killed))
    killer.start()
    code, text = cli("batch", str(remote / "podcast.toml"), "--scheduler", cluster.address, "-q")
    killer.join()
    assert code == 0, text
    assert killed, "no worker was killed while it held an episode: the test proved nothing"
    assert "6 rendered, 0 up to date, 0 failed in " in text and f"s on {cluster.address}" in text
    public = remote / "public"
    assert sorted(p.name for p in public.iterdir()) == sorted(
        p.name for p in (local / "public").iterdir()
    ), "a file is missing or left half-written"
    assert same_files(public, local / "public") == []
    code, text = cli("batch", str(remote / "podcast.toml"), "--scheduler", cluster.address)
    assert code == 0 and "nothing to render: all 6 episodes are up to date" in text, text


def test_an_unreachable_scheduler_is_one_line_within_10_s(tmp_path):
    lay_out(tmp_path)
    silent = socket.socket()  # accepts, and never says a word: Client(timeout=) alone hangs
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: refused
    try:
        for port in (silent.getsockname()[1], closed.getsockname()[1]):
            started = time.monotonic()
            code, text = cli("batch", str(tmp_path / "podcast.toml"), "--scheduler",
                             f"tcp://127.0.0.1:{port}")  # fmt: skip
            assert time.monotonic() - started < 10, text
            lines = [line for line in text.splitlines() if line.strip()]
            assert code == 1 and len(lines) == 1, text
            assert lines[0].startswith(f"error: --scheduler tcp://127.0.0.1:{port}: "), text
            assert not (tmp_path / "public").exists() or not any((tmp_path / "public").iterdir())
    finally:
        silent.close()
        closed.close()


def test_workers_that_cannot_render_are_named_before_any_episode_starts(cluster, tmp_path):
    old = tmp_path / "old-narrator"
    dist = old / "narrator-0.0.9.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: narrator\nVersion: 0.0.9\n")
    cluster.worker("current")
    cluster.worker("old", pythonpath=str(old))
    cluster.worker("daemonic", daemon=True)
    cluster.wait_for(3)
    lay_out(tmp_path)
    code, text = cli("batch", str(tmp_path / "podcast.toml"), "--scheduler", cluster.address)
    assert code == 1, text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text
    assert "old (tcp://127.0.0.1:" in errors[0] and "has narrator 0.0.9" in errors[0], text
    assert not (tmp_path / "public").exists() or not list((tmp_path / "public").glob("*.mp3"))


def test_a_worker_that_may_not_start_processes_is_named(cluster, tmp_path):
    cluster.worker("daemonic", daemon=True)
    cluster.wait_for(1)
    lay_out(tmp_path)
    code, text = cli("batch", str(tmp_path / "podcast.toml"), "--scheduler", cluster.address)
    assert code == 1, text
    assert "workers daemonic run tasks in daemonic processes" in text, text
    assert "DASK_DISTRIBUTED__WORKER__DAEMON=False" in text, text


def test_a_local_cluster_renders_the_same_bytes(tmp_path):
    local, remote = tmp_path / "local", tmp_path / "remote"
    for folder in (local, remote):
        lay_out(folder)
    assert cli("batch", str(local / "podcast.toml"), "--jobs", "1", "-q")[0] == 0
    code, text = cli("batch", str(remote / "podcast.toml"), "--scheduler", "local:2", "-q")
    assert code == 0 and "6 rendered" in text, text
    assert same_files(remote / "public", local / "public") == []


def test_shared_dir_and_the_workers_named_in_progress(tmp_path):
    from narrator.publish.batch import run_batch
    from narrator.publish.manifest import load_manifest

    manifest = load_manifest(lay_out(tmp_path / "show"))
    shared = tmp_path / "shared"
    shared.mkdir()
    seen: list[dict[str, str]] = []
    result = run_batch(
        manifest,
        scheduler="local:2",
        shared_dir=shared,
        on_cluster=lambda running, queued: seen.append(dict(running)),
    )
    assert [r.status for r in result.results] == ["rendered"] * 6, [r.error for r in result.results]
    assert list(shared.iterdir()) == [], "the workers' job folders were not removed"
    held = {worker for running in seen for worker in running.values()}
    assert held and held <= {"0", "1"}, seen  # LocalCluster names its workers 0 and 1
    assert {episode for running in seen for episode in running} <= {
        ep.name for ep in manifest.episodes
    }


def test_ctrl_c_cancels_the_tasks_and_leaves_nothing_half_written(cluster, tmp_path):
    cluster.worker("w0")
    cluster.worker("w1")
    cluster.wait_for(2)
    manifest = lay_out(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    batch = subprocess.Popen(
        [sys.executable, "-m", "narrator", "batch", str(manifest), "--scheduler", cluster.address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True, text=True,
    )  # fmt: skip
    with Client(cluster.address, timeout=10) as client:
        deadline = time.monotonic() + 60
        while not any(client.run(_executing).values()):
            assert time.monotonic() < deadline and batch.poll() is None, "no episode started"
            time.sleep(0.05)
        os.killpg(batch.pid, signal.SIGINT)
        _, stderr = batch.communicate(timeout=30)
        assert batch.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr, stderr
        deadline = time.monotonic() + 15  # a running render stops at its next progress step
        while any(client.processing().values()) or any(client.run(_executing).values()):
            assert time.monotonic() < deadline, "the cluster still works on cancelled episodes"
            time.sleep(0.1)
    public = tmp_path / "public"
    leftovers = (
        [p.name for p in public.iterdir() if p.name.startswith(".")] if public.exists() else []
    )
    assert leftovers == [], leftovers
    rendered = sorted(public.glob("*.mp3")) if public.exists() else []
    assert len(rendered) < 6, "every episode finished before Ctrl-C: the test proved nothing"
