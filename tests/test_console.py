"""The ``narrator`` process ends without tearing the interpreter down, and loses nothing by it:
its output, its exit status and every clean-up registered for the exit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: As a user's shell has it: output to a pipe is buffered (PYTHONUNBUFFERED would hide a
#: buffer the quick exit failed to flush).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _python(
    code: str, tmp_path: Path, *args: str, temp: Path | None = None
) -> subprocess.CompletedProcess:
    """``python -c code args`` in ``tmp_path``, with ``temp`` (else ``tmp_path``) as TMPDIR."""
    env = {**ENV, "TMPDIR": str(temp or tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


# A module-level object whose finaliser runs when the interpreter is torn down.
_WATCH = """
import sys
class Watch:
    def __del__(self, open=open):  # (the builtins are gone by then)
        with open("torn-down", "w") as f:
            f.write("yes")
watch = Watch()
sys.argv = ["narrator", "layers"]
"""


@pytest.mark.parametrize(("entry", "torn_down"), [("console", False), ("main", True)])
def test_the_command_skips_the_teardown_and_in_process_callers_keep_it(tmp_path, entry, torn_down):
    call = (
        "from narrator.console import run; run()"
        if entry == "console"
        else "from narrator.cli import main; main(['layers'])"
    )
    done = _python(_WATCH + call, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "torn-down").exists() == torn_down
    assert done.stdout.rstrip().endswith("┘")  # the whole table, flushed before the exit


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ("sys.exit(3)", 3, ""),
        ("sys.exit('no good')", 1, "no good"),
        ("raise RuntimeError('unexpected')", 1, "RuntimeError: unexpected"),
        ("raise KeyboardInterrupt", 130, "KeyboardInterrupt"),
        ("print('fine', end='')", 0, ""),
    ],
)
def test_the_exit_status_is_what_the_cli_ended_with(tmp_path, body, status, said):
    code = (
        "import sys, narrator.cli\n"
        f"def main():\n    {body}\n"
        "narrator.cli.main = main\n"
        "from narrator.console import run\nrun()\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == status, done.stderr
    assert said in done.stderr
    assert done.stdout == ("fine" if status == 0 else "")


def _narrator(args: list[str], cwd: Path, system_temp: Path) -> subprocess.CompletedProcess:
    """``python -m narrator ARGS`` in ``cwd``, with ``system_temp`` as TMPDIR."""
    return subprocess.run(
        [sys.executable, "-m", "narrator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**ENV, "TMPDIR": str(system_temp)},
        timeout=120,
    )


def test_bad_input_is_one_line_and_status_1(tmp_path):
    done = _narrator(["soundscape", "tide", "-d", "9x", "-o", "x.flac"], tmp_path, tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: duration '9x' is not understood")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("length", [20, 65])
def test_multiprocessing_still_cleans_up_after_a_bed(tmp_path, length, system_temp):
    """The fork server and its folder are multiprocessing's exit work, run before the quick
    exit. The folder is named as narrator's scratch, so that one a kill -9 left is swept;
    under a TMPDIR of 65 characters that name would make the socket's path too long, and
    multiprocessing keeps its own shorter one."""
    temp = system_temp(length)
    command = ["soundscape", "tide", "gulls", "-d", "30s", "-q", "-o", "b.flac"]
    done = _narrator(command, tmp_path, temp)
    assert done.returncode == 0, done.stderr
    assert "b.flac: 0:30" in done.stdout
    assert [p.name for p in temp.iterdir() if p.name != ".ses"] == []


def test_a_tmpdir_too_long_for_a_socket_is_one_line(tmp_path, system_temp):
    """multiprocessing's fork server failed there with "AF_UNIX path too long" and a traceback."""
    temp = system_temp(90)
    done = _narrator(["soundscape", "tide", "-d", "30s", "-o", "b.flac"], tmp_path, temp)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: TMPDIR {temp}: too long a path")
    assert "set TMPDIR to a shorter folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b.flac").exists()


@pytest.fixture
def package(tmp_path, monkeypatch) -> Iterator:
    """``package(name, **modules)``: a package of those modules' sources, importable for this
    test only (its modules leave ``sys.modules`` after it)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def make(name: str, **modules: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(source)
        names.extend([name, *(f"{name}.{module}" for module in modules)])
        return folder

    yield make
    for name in names:
        sys.modules.pop(name, None)


def test_a_deferred_module_is_imported_once_at_its_first_use_even_by_racing_threads(package):
    from concurrent.futures import ThreadPoolExecutor

    from narrator.console import defer_import

    folder = package(
        "deferpkg",
        slow="import time\nwith open(__file__ + '.count', 'a') as f:\n    f.write('x')\n"
        "time.sleep(0.3)  # a long import: every thread arrives while it runs\n"
        "def answer():\n    return 42\n",
    )
    counted = folder / "slow.py.count"
    defer_import("deferpkg.slow")
    import deferpkg.slow
    from deferpkg import slow

    assert not counted.exists()  # named by two import statements, not imported
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: slow.answer(), range(8)))
    assert answers == [42] * 8
    assert counted.read_text() == "x"
    from deferpkg.slow import answer

    assert answer is slow.answer is deferpkg.slow.answer is sys.modules["deferpkg.slow"].answer
    assert counted.read_text() == "x"


def test_a_bed_never_imports_scipy_signal_in_the_narrator_process(tmp_path):
    """The bed's layers run in processes forked from the fork server (which imports it); the
    command itself masters a FLAC bed without it, so it never spends the import."""
    code = (
        "import sys, narrator.cli\n"
        "cli_main = narrator.cli.main\n"
        "def main():\n"
        "    try:\n"
        "        cli_main()\n"
        "    finally:\n"
        "        print('imported:', 'scipy.signal._signaltools' in sys.modules)\n"
        "narrator.cli.main = main\n"
        "sys.argv = ['narrator', *sys.argv[1:]]\n"
        "from narrator.console import run\nrun()\n"
    )
    done = _python(code, tmp_path, "soundscape", "tide", "-d", "30s", "-q", "-o", "b.flac")
    assert done.returncode == 0, done.stderr
    assert "b.flac: 0:30" in done.stdout
    assert done.stdout.rstrip().endswith("imported: False")


def test_a_deferred_module_that_cannot_be_imported_fails_at_each_use(package):
    from narrator.console import defer_import

    package("deferbroken", bad="raise ImportError('bad module: a dependency is missing')\n")
    defer_import("deferbroken.bad")
    from deferbroken import bad

    for _ in range(2):
        with pytest.raises(ImportError, match="a dependency is missing"):
            bad.anything  # noqa: B018


def test_a_deferred_module_may_use_another_as_it_loads(package):
    """Module a reads deferred module b while a itself is being imported through its stand-in
    (a lock that only one import could hold would wait for ever)."""
    import threading

    from narrator.console import defer_import

    package("deferpair", b="VALUE = 7\n", a="from deferpair import b\nDOUBLE = 2 * b.VALUE\n")
    defer_import("deferpair.a")
    defer_import("deferpair.b")
    from deferpair import a

    got = []
    reader = threading.Thread(target=lambda: got.append(a.DOUBLE), daemon=True)
    reader.start()
    reader.join(10)
    assert got == [14]


# Prints, when the CLI is first imported, the fork server's pid, or "none" if none runs by
# then; ``{setup}`` runs first.
_SERVER_SPY = """
import sys
from multiprocessing import forkserver
{setup}
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "narrator.cli":
            print(forkserver._forkserver._forkserver_pid or "none", flush=True)
        return None
sys.meta_path.insert(0, Spy())
sys.argv = ["narrator", *sys.argv[1:]]
from narrator.console import run; run()
"""


@pytest.mark.parametrize(
    ("args", "started"),
    [
        (["soundscape", "tide", "-d", "9x", "-o", "b.flac"], True),
        (["render", "missing.txt"], True),
        (["soundscape", "--help"], False),
        (["layers"], False),
    ],
)
def test_a_rendering_command_starts_the_fork_server_before_the_cli_loads(
    tmp_path, system_temp, args, started
):
    """Its second of imports then runs beside the CLI's; help and other commands start none."""
    done = _python(_SERVER_SPY.format(setup=""), tmp_path, *args, temp=system_temp())
    assert (done.stdout.splitlines()[0] != "none") == started, done.stderr


def test_a_command_that_fails_on_its_arguments_leaves_no_fork_server_behind(tmp_path, system_temp):
    """The server it started is still importing when it fails (here for five seconds: a slow
    module in its preload); it is stopped with the command, not left to finish."""
    (tmp_path / "slow_preload.py").write_text("import time\ntime.sleep(5)\n")
    code = _SERVER_SPY.format(
        setup="sys.path.insert(0, '.')\n"
        "from soundscapes.background import preload; preload('slow_preload')"
    )
    # Output to files: the server holds them open too, so reading pipes to their end would
    # wait for it.
    with open(tmp_path / "out", "w+") as out, open(tmp_path / "err", "w+") as err:
        args = [sys.executable, "-c", code, "soundscape", "tide", "--no-such-option"]
        env = {**ENV, "TMPDIR": str(system_temp())}
        status = subprocess.call(args, stdout=out, stderr=err, cwd=tmp_path, env=env, timeout=60)
    said = (tmp_path / "err").read_text()
    assert status == 1, said
    assert said.startswith("error: No such option: --no-such-option")
    pid = int((tmp_path / "out").read_text().splitlines()[0])
    deadline = time.monotonic() + 2.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (not gone, not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
