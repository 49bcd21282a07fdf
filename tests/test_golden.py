"""The same story and seed give the same bytes: a guard for refactoring.

A render with the fake engine of a two-scene story (rain, then a hearth), seed 3, written as
16-bit WAV, must hash to the value recorded here. It was recorded when the code moved into
packages (issue 15) and matched the render of the code before the move byte for byte. It was
recorded again when the ambience's layers came to be summed in two fixed groups (issue 16, so a
bed can render on two cores): float addition is not associative, so the last bits moved; with
every layer in one group that code still gave the old hash. It was recorded a third time when
the process that meters a story's ambience was given fewer layers (it also ducks and darkens the
stem) and the arc's two one-pole low-passes became one second-order section: 0.004 % of the
16-bit samples moved, by at most 6 steps (the difference 107 dB under the signal).

The last bits also follow the machine: numpy picks its loops (AVX2 or AVX-512) and OpenBLAS
its kernels by the CPU, and the hash above, recorded on a host with AVX-512, did not hold on
one without (AMD EPYC, Zen 3). So the render runs in a process of its own pinned to the AVX2
paths every x86-64 machine here has (numpy's AVX-512 targets off, OpenBLAS's Haswell
kernels): the hash recorded since is that pinned render's, measured on the Zen 3 host, where
the unpinned render gives the same bytes (a host with AVX-512 gave ed34344a… unpinned).

A change that is meant to change the sound (a layer, the mix, the mastering) changes this hash
too: check by ear and by the measuring tests that the change is the one intended, then record
the new hash printed by the failure. A refactor must never need to.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORY = Path(__file__).parent / "stories" / "rain_then_hearth.txt"
RECORDED_SHA256 = "2d443ebc2fd1054214e1e5916c3c230dad124777e1212c82f2895ff0297fe9f4"
#: The numeric paths every x86-64 machine with AVX2 and FMA takes alike (see the docstring).
PINNED_ENV = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
}


def render_pinned(out: str, cores: int) -> None:
    """In the child: render the story as ``narrator render`` would on ``cores`` cores, and
    print whether each ambience analysis split its layers over two processes (JSON)."""
    from typer.testing import CliRunner

    from narrator.cli import app
    from soundscapes import background
    from soundscapes.output import mix

    background.usable_cpus = lambda: cores
    splits = []

    class Watched(background.BackgroundAnalysis):
        def __init__(self, *args, split=False, **kwargs):
            splits.append(split)
            super().__init__(*args, split=split, **kwargs)

    mix.BackgroundAnalysis = Watched
    args = ["render", str(STORY), "-o", out, "--engine", "fake", "--tail", "20", "--seed", "3",
            "--cache-dir", str(Path(out).parent / "cache"), "-q", "--jobs", str(cores)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(result.output + result.stderr)
    print(json.dumps(splits))


def _render(folder: Path, cores: int) -> tuple[str, list[bool]]:
    folder.mkdir()
    out = folder / "story.wav"
    code = f"from tests.test_golden import render_pinned; render_pinned({str(out)!r}, {cores})"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **PINNED_ENV},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return hashlib.sha256(out.read_bytes()).hexdigest(), json.loads(proc.stdout.splitlines()[-1])


def test_a_render_is_the_same_bytes_on_one_core_and_two_and_as_recorded(tmp_path) -> None:
    """On one core everything runs in turn; on two the speech has two workers and the
    ambience's layers two processes: the same bytes either way, and the recorded ones."""
    from numpy._core._multiarray_umath import __cpu_features__

    if not (__cpu_features__.get("AVX2") and __cpu_features__.get("FMA3")):
        pytest.skip("the recorded hash is of the AVX2 paths; this CPU has no AVX2 and FMA")
    one, one_splits = _render(tmp_path / "one", 1)
    two, two_splits = _render(tmp_path / "two", 2)
    assert (one_splits, two_splits) == ([False], [True])
    assert one == two, "two cores gave other bytes than one: the split render is not exact"
    assert one == RECORDED_SHA256, (
        f"the render's bytes changed (sha256 {one}); if the sound was meant to change, "
        "record the new hash in tests/test_golden.py, else the refactor changed behaviour"
    )
