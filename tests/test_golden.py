"""The same story and seed give the same bytes: a guard for refactoring.

A render with the fake engine of a two-scene story (rain, then a hearth), seed 3, written as
16-bit WAV, must hash to the value recorded here. It was recorded when the code moved into
packages (issue 15) and matched the render of the code before the move byte for byte.

A change that is meant to change the sound (a layer, the mix, the mastering) changes this hash
too: check by ear and by the measuring tests that the change is the one intended, then record
the new hash printed by the failure. A refactor must never need to.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from narrator.cli import app

STORY = Path(__file__).parent / "stories" / "rain_then_hearth.txt"
RECORDED_SHA256 = "69bb709216f1ecc8a8bbb0586a868bb1621f0f1c0c5d48c783e050e839425517"


def test_a_render_is_the_same_bytes_as_recorded(tmp_path) -> None:
    out = tmp_path / "story.wav"
    args = ["render", str(STORY), "-o", str(out), "--engine", "fake", "--tail", "20",
            "--seed", "3", "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == RECORDED_SHA256, (
        f"the render's bytes changed (sha256 {digest}); if the sound was meant to change, "
        "record the new hash in tests/test_golden.py, else the refactor changed behaviour"
    )
