"""Killed or interrupted at any stage, a render leaves nothing behind, and the next one is whole.

A driver runs the real command line (``narrator.cli.main``) in a child process and, when the
render reaches a stage, either ``kill -9``s itself (what an out-of-memory killer or a closed
laptop does: no ``finally`` runs) or sends Ctrl-C to its own process group (what a terminal
does). Every process of the render carries a token in its environment, so a worker orphaned
under PID 1 is found wherever it went.

- after ``kill -9``: no process of the render is left 5 s later; the next render sweeps the
  scratch the killed one left, and its output equals a clean render's, byte for byte;
- after Ctrl-C: exit code 130, one line that says "interrupted", no output and no scratch.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

# Each case runs the command line twice in fresh processes (about 10 s on two cores).
pytestmark = pytest.mark.slow

STORY = "\n\n".join(
    f"Wave {n} draws in over the sand. It washes out again, slowly, and the shore is still."
    for n in range(1, 13)
)
ARGS = ["--engine", "fake", "--tail", "4", "--jobs", "2", "-q"]
_SCRATCH = re.compile(r"^\.?narrator-[0-9a-f]{8}-\d+-")

#: (stage reported to the progress callback, fraction of it done) at which to strike.
POINTS = {
    "speech": ("speech", 0.3),  # speech workers busy
    "soundscape": ("mix", 0.0),  # the ambience process has just started
    "mix": ("mix", 0.5),  # both stems half written to scratch
    "encode": ("master", 0.5),  # ffmpeg half way through the file
    "sidecars": ("sidecars", 0.0),  # the audio is done, the transcript not yet
}

DRIVER = textwrap.dedent(
    """
    import contextlib, os, signal, sys
    import narrator.cli as cli
    import narrator.cli.display as display

    stage, fraction, how = sys.argv[1], float(sys.argv[2]), sys.argv[3]

    @contextlib.contextmanager
    def progress_display(quiet):
        def progress(name, done, total):
            if name == stage and done >= fraction * total:
                if how == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                elif how == "hangup":  # the terminal closed: SIGHUP to the whole group
                    os.killpg(os.getpgid(0), signal.SIGHUP)
                else:  # Ctrl-C at a terminal: SIGINT to the whole foreground group
                    os.killpg(os.getpgid(0), signal.SIGINT)
        yield progress

    display.progress_display = progress_display
    cli.main(sys.argv[4:])
    """
)


def _env(tmp_path: Path, token: str, temp: Path | None = None) -> dict[str, str]:
    temp = temp or tmp_path / "system-temp"
    temp.mkdir(exist_ok=True)
    return {**os.environ, "NARRATOR_TEST_TOKEN": token, "TMPDIR": str(temp)}


def _holders(token: str) -> list[int]:
    """Live processes whose environment carries ``token``."""
    found = []
    needle = f"NARRATOR_TEST_TOKEN={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _scratch(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if _SCRATCH.match(p.name)]


def _render(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "narrator", "render", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _strike(
    stage: str, how: str, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess:
    name, fraction = POINTS[stage]
    return subprocess.run(
        [sys.executable, "-c", DRIVER, name, str(fraction), how, "render", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


@pytest.fixture(scope="module")
def clean_render(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("clean")
    story = folder / "waves.txt"
    story.write_text(STORY, encoding="utf-8")
    out = folder / "waves.mp3"
    done = _render(
        [str(story), "-o", str(out), "--cache-dir", str(folder / "cache"), *ARGS],
        _env(folder, uuid.uuid4().hex),
    )
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize("stage", list(POINTS))
def test_kill_9_at_any_stage_leaves_nothing_and_the_rerun_is_whole(
    tmp_path, stage, clean_render, system_temp
):
    short_temp = system_temp()  # as short as /tmp: the scratch name fits the socket's path
    story = tmp_path / "waves.txt"
    story.write_text(STORY, encoding="utf-8")
    out, cache = tmp_path / "out" / "waves.mp3", tmp_path / "cache"
    args = [str(story), "-o", str(out), "--cache-dir", str(cache), *ARGS]
    token = uuid.uuid4().hex
    env = _env(tmp_path, token, short_temp)

    killed = _strike(stage, "kill", args, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    deadline = time.monotonic() + 5.0
    while _holders(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _holders(token), f"killed at {stage}: processes left {_holders(token)}"
    assert not out.exists(), f"killed at {stage}: a half-made output"
    if stage != "speech":
        assert _scratch(out.parent, short_temp, cache), (
            f"killed at {stage}: the check below would be empty (nothing to sweep)"
        )

    again = _render(args, env)
    assert again.returncode == 0, again.stderr
    assert not _scratch(out.parent, short_temp, cache), (
        f"after a kill at {stage}, the rerun left {_scratch(out.parent, short_temp, cache)}"
    )
    # multiprocessing's own folder (the fork server's socket) is named as scratch, and swept.
    # (".ses": onnxruntime's session id, one small file rewritten at each import.)
    left = sorted(p.name for p in short_temp.iterdir() if p.name != ".ses")
    assert left == [], f"after a kill at {stage}, the system's temporary folder kept {left}"
    assert out.read_bytes() == clean_render, f"the rerun after a kill at {stage} differs"
    assert story.read_text(encoding="utf-8") == STORY


def test_what_a_kill_9_left_is_swept_by_the_next_command_of_any_kind(tmp_path):
    """Scratch of gigabytes (stems, a closer's bed) stayed until a command wrote into that
    same folder again: a render elsewhere, a batch with nothing to render, a feed left it."""
    story = tmp_path / "waves.txt"
    story.write_text(STORY, encoding="utf-8")
    out = tmp_path / "out" / "waves.mp3"
    args = [str(story), "-o", str(out), "--cache-dir", str(tmp_path / "cache"), *ARGS]
    env = _env(tmp_path, uuid.uuid4().hex)
    killed = _strike("mix", "kill", args, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _scratch(out.parent)
    elsewhere = subprocess.run(
        [sys.executable, "-m", "narrator", "passages", str(story)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert not _scratch(out.parent), _scratch(out.parent)


#: How a render is stopped at a stage: Ctrl-C at every stage; SIGHUP (the terminal or SSH
#: session closed; it left five scratch files, 47 MB, beside the output) at two.
STOPS = [*(("interrupt", stage) for stage in POINTS), ("hangup", "speech"), ("hangup", "mix")]


def test_ctrl_c_with_no_cache_does_not_promise_a_resume(tmp_path):
    """It said "finished passages are cached and a re-run resumes" with --no-cache too."""
    story = tmp_path / "waves.txt"
    story.write_text(STORY, encoding="utf-8")
    out = tmp_path / "out" / "waves.mp3"
    done = _strike(
        "speech", "interrupt", [str(story), "-o", str(out), "--no-cache", *ARGS],
        _env(tmp_path, uuid.uuid4().hex),
    )  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["interrupted; nothing was written"]


@pytest.mark.parametrize(("how", "stage"), STOPS)
def test_ctrl_c_or_a_hangup_at_any_stage_says_interrupted_and_leaves_nothing(tmp_path, how, stage):
    story = tmp_path / "waves.txt"
    story.write_text(STORY, encoding="utf-8")
    out, cache = tmp_path / "out" / "waves.mp3", tmp_path / "cache"
    token = uuid.uuid4().hex
    done = _strike(
        stage, how, [str(story), "-o", str(out), "--cache-dir", str(cache), *ARGS],
        _env(tmp_path, token),
    )  # fmt: skip
    code = 130 if how == "interrupt" else 129  # 128 + the signal, as a shell says
    assert done.returncode == code, f"{how} at {stage}: exit {done.returncode}: {done.stderr}"
    if how == "interrupt":
        assert done.stderr.strip().splitlines() == [
            "interrupted; finished passages are cached and a re-run resumes"
        ], f"at {stage}: {done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists() and not list(out.parent.glob("waves.mp3*")), f"at {stage}"
    assert not _scratch(out.parent, tmp_path / "system-temp", cache), f"at {stage}"
    deadline = time.monotonic() + 5.0
    while _holders(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _holders(token), f"{how} at {stage}: processes left {_holders(token)}"


def _two_episodes(folder: Path, one: str, two: str, *, tail_s: float) -> None:
    """``folder/podcast.toml``: a show of ``one.txt`` and ``two.txt``, into ``public``."""
    for name, story in (("one", one), ("two", two)):
        (folder / f"{name}.txt").write_text(story, encoding="utf-8")
    (folder / "podcast.toml").write_text(
        f'output_dir = "public"\nengine = "fake"\ntail = {tail_s:g}\n'
        '[podcast]\ntitle = "Waves"\nauthor = "Me"\nbase_url = "https://example.org/w"\n'
        '[[episodes]]\nstory = "one.txt"\n[[episodes]]\nstory = "two.txt"\n',
        encoding="utf-8",
    )


def _interrupted_stderr(proc: subprocess.Popen) -> str:
    """Ctrl-C to ``proc``'s whole process group, as a terminal sends it; what it printed on
    its way out, having exited with 130 within a minute (killed if not)."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    return err


def test_ctrl_c_twice_in_a_batch_stops_its_renders_and_leaves_nothing(tmp_path):
    """Ctrl-C during a batch stops the renders under way, not only those not started, and a
    second Ctrl-C while they stop cannot leave the batch waiting on its workers for ever
    (it did: exit printed "interrupted", then joined workers that never got their stop)."""
    long_story = "\n\n".join([STORY] * 3)
    _two_episodes(tmp_path, long_story, long_story, tail_s=4)
    public, cache = tmp_path / "public", tmp_path / "cache"
    token = uuid.uuid4().hex
    batch = subprocess.Popen(
        [sys.executable, "-m", "narrator", "batch", str(tmp_path / "podcast.toml"), "--jobs",
         "2", "--cache-dir", str(cache), "-q"],
        env=_env(tmp_path, token), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    deadline = time.monotonic() + 60.0
    while not _scratch(public) and batch.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _scratch(public), "no render was under way to interrupt"
    os.kill(batch.pid, signal.SIGINT)
    time.sleep(0.2)
    # The impatient second Ctrl-C, to the whole group.
    err = _interrupted_stderr(batch)
    assert err.strip().splitlines() == [
        "interrupted; finished passages are cached and a re-run resumes"
    ], err
    deadline = time.monotonic() + 5.0
    while _holders(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _holders(token), f"processes left {_holders(token)}"
    assert not _scratch(public, tmp_path / "system-temp", cache)
    # Stopped, not waited for: a render takes seconds, and both were under way.
    assert not all((public / f"{name}.mp3").exists() for name in ("one", "two"))


def test_ctrl_c_in_a_batch_names_the_episodes_finished_and_the_rerun_keeps_them(tmp_path):
    """An interrupted batch says which episodes were finished before the interrupt; they are
    whole, and the re-run takes them as up to date and renders only the rest."""
    _two_episodes(tmp_path, "The tide turns. The shore is still.", STORY, tail_s=2)
    public, cache = tmp_path / "public", tmp_path / "cache"
    args = [sys.executable, "-m", "narrator", "batch", str(tmp_path / "podcast.toml"),
            "--jobs", "1", "--cache-dir", str(cache), "-q"]  # fmt: skip
    env = _env(tmp_path, uuid.uuid4().hex)
    batch = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60.0
    # Its fingerprint is the last file an episode writes; the batch hears of it just after.
    while not (public / "one.mp3.fingerprint.json").exists() and batch.poll() is None:
        assert time.monotonic() < deadline, "the first episode never finished"
        time.sleep(0.02)
    time.sleep(0.3)
    assert batch.poll() is None, "the batch ended before it could be interrupted"
    err = _interrupted_stderr(batch)
    assert err.strip().splitlines() == [
        "finished before the interrupt, and kept: one.mp3",
        "interrupted; finished passages are cached and a re-run resumes",
    ], err
    assert not (public / "two.mp3").exists()
    kept = (public / "one.mp3").stat().st_mtime_ns

    rerun = subprocess.run(args[:-1], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "1 rendered, 1 up to date, 0 failed" in " ".join(rerun.stdout.split())
    assert (public / "one.mp3").stat().st_mtime_ns == kept
    assert (public / "two.mp3").stat().st_size > 0
