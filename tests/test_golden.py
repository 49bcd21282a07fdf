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

A change that is meant to change the sound (a layer, the mix, the mastering) changes this hash
too: check by ear and by the measuring tests that the change is the one intended, then record
the new hash printed by the failure. A refactor must never need to.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from soundscapes import background
from soundscapes.output import mix

STORY = Path(__file__).parent / "stories" / "rain_then_hearth.txt"
RECORDED_SHA256 = "ed34344a9fb6ec1fe8d13688e37d73aa7ce35169d990774f181c6f0e3b90f3ee"


@pytest.mark.parametrize("cores", [1, 2])
def test_a_render_is_the_same_bytes_as_recorded(tmp_path, monkeypatch, cores) -> None:
    """On one core everything runs in turn; on two the speech has two workers and the
    ambience's layers two processes: the same bytes either way."""
    monkeypatch.setattr(background, "usable_cpus", lambda: cores)
    splits = []

    class Watched(background.BackgroundAnalysis):
        def __init__(self, *args, split=False, **kwargs):
            splits.append(split)
            super().__init__(*args, split=split, **kwargs)

    monkeypatch.setattr(mix, "BackgroundAnalysis", Watched)
    out = tmp_path / "story.wav"
    args = ["render", str(STORY), "-o", str(out), "--engine", "fake", "--tail", "20",
            "--seed", "3", "--cache-dir", str(tmp_path / "cache"), "-q",
            "--jobs", str(cores)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
    assert splits == [cores == 2]
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == RECORDED_SHA256, (
        f"the render's bytes changed (sha256 {digest}); if the sound was meant to change, "
        "record the new hash in tests/test_golden.py, else the refactor changed behaviour"
    )
