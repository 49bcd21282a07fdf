"""Speaker choice for a multi-speaker Piper voice, end to end through the CLI.

The voice is the test voice of :mod:`tests.speech.multispeaker_voice`: each speaker speaks at
its own pitch, so which speaker was used is read off the rendered voice stem's spectrum.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from narrator.cli import app
from tests.speech.multispeaker_voice import BASE_HZ, STEP_HZ, write_voice

pytestmark = pytest.mark.real_engine
runner = CliRunner()
NAMES = ["ada", "ben", "cleo"]
STORY = "The tide comes in slowly over the sand.\n\nA gull turns once above the quiet harbour."


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> Path:
    return write_voice(tmp_path_factory.mktemp("voice"), NAMES)


def _render(tmp_path: Path, voice: Path, name: str, *setting: str) -> tuple[float, dict]:
    """Render with ``--setting``s; the voice stem's strongest frequency and the report."""
    story = tmp_path / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    out = tmp_path / f"{name}.wav"
    args = ["render", str(story), "-o", str(out), "--voice", str(voice), "--tail", "0",
            "--stems", "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    for item in setting:
        args += ["--setting", item]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    stem, rate = sf.read(out.with_name(out.name + ".voice.wav"), dtype="float32")
    mono = stem.mean(axis=1) if stem.ndim == 2 else stem
    spectrum = np.abs(np.fft.rfft(mono))
    peak_hz = float(np.argmax(spectrum) * rate / mono.size)
    return peak_hz, json.loads(out.with_name(out.name + ".report.json").read_text())


def test_a_speaker_chosen_by_name_or_number_is_the_one_that_speaks(tmp_path, voice):
    by_name, first = _render(tmp_path, voice, "cleo", "speaker=cleo")
    assert by_name == pytest.approx(BASE_HZ + 2 * STEP_HZ, abs=3)
    assert first["cache"]["misses"] > 0
    # The same speaker by number shares the cache entries: nothing is synthesized again.
    by_id, again = _render(tmp_path, voice, "two", "speaker_id=2")
    assert by_id == pytest.approx(by_name, abs=0.5)
    assert again["cache"]["misses"] == 0 and again["cache"]["hits"] == first["cache"]["misses"]
    # Another speaker is another voice, synthesized anew.
    other, third = _render(tmp_path, voice, "ben", "speaker=BEN")
    assert other == pytest.approx(BASE_HZ + STEP_HZ, abs=3)
    assert third["cache"]["hits"] == 0
    # No speaker given: the voice's default (its first).
    default, _ = _render(tmp_path, voice, "default")
    assert default == pytest.approx(BASE_HZ, abs=3)


def test_voices_lists_the_speakers_of_a_voice(voice):
    result = runner.invoke(app, ["voices", "--voice", str(voice)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "3 speaker(s)" in lines[0]
    assert [line.split() for line in lines[1:4]] == [["0", "ada"], ["1", "ben"], ["2", "cleo"]]
    single = runner.invoke(app, ["voices", "--engine", "piper", "--voice", "joe"])
    assert single.exit_code == 0 and "1 speaker(s)" in single.stdout
    assert single.stdout.splitlines()[1].split() == ["0", "en_US-joe-medium"]  # not "0 0"
    # A voice the engine does not have is an error, as it is for render: Kokoro's names are
    # checked against its voices file.
    for engine, voice, says in (("kokoro", "bogus", "unknown Kokoro voice 'bogus'"),
                                ("piper", "bogus", "unknown piper voice 'bogus'")):  # fmt: skip
        result = runner.invoke(app, ["voices", "--engine", engine, "--voice", voice])
        assert result.exit_code == 1 and says in result.stderr, result.output
    kumo = runner.invoke(app, ["voices", "--engine", "kokoro", "--voice", "jm_kumo"])
    assert kumo.exit_code == 0 and kumo.stdout.splitlines()[1].split() == ["0", "jm_kumo"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["speaker=clio"], "has no speaker 'clio'; closest: cleo (3 speakers;"),
        (["speaker_id=3"], "has no speaker_id 3; it has speakers 0 to 2: 0 (ada), 1 (ben)"),
        (["speaker=ben", "speaker_id=1"], "give the piper setting speaker or speaker_id, not both"),
    ],
    ids=["unknown-name", "id-out-of-range", "both"],
)
def test_an_unknown_speaker_is_one_line_naming_the_ones_there_are(
    tmp_path, voice, settings, message
):
    story = tmp_path / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    args = ["render", str(story), "-o", str(tmp_path / "x.mp3"), "--voice", str(voice)]
    for item in settings:
        args += ["--setting", item]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.mp3").exists()


def test_the_bundled_voice_has_one_speaker(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(STORY, encoding="utf-8")
    result = runner.invoke(app, ["render", str(story), "--setting", "speaker=ada"])
    assert result.exit_code == 1 and "has one speaker only" in result.stderr
