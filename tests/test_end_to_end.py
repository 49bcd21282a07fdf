"""Real engines, real text, end to end: measured on the written file with ffmpeg's ebur128."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.script import parse_story
from tests.conftest import ffmpeg_decodes, ffmpeg_loudness

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def check_render(out: Path, *, tail_s: float, pace_wpm: float = 130.0) -> dict:
    """The checks every finished render must pass, by measurement."""
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert ffmpeg_decodes(out)
    measured = ffmpeg_loudness(out)
    # On target by an independent meter, true peak under the ceiling.
    assert abs(measured.integrated_lufs - report["target_lufs"]) <= 1.0, measured
    assert measured.true_peak_dbtp <= report["true_peak_ceiling_dbtp"] + 0.1, measured
    # As long as its narration plus intro and tail.
    passages = report["passages"]
    assert passages[0]["start_s"] >= 4.0
    assert report["duration_s"] == pytest.approx(passages[-1]["end_s"] + tail_s, abs=0.3)
    assert measured.duration_s == pytest.approx(report["duration_s"], abs=0.3)
    # The voice stands well above the ambience while it speaks.
    assert report["voice_over_ambience_lu"] >= 15.0
    # A sleep pace over the whole narration, pauses included.
    assert report["pace_wpm"] == pytest.approx(pace_wpm, rel=0.10)
    return report


@pytest.mark.real_engine
@pytest.mark.parametrize("engine", ["piper", "system"])
def test_real_engine_renders_a_short_story(engine, short_story, tmp_path):
    out = tmp_path / f"{engine}.mp3"
    result = runner.invoke(
        app,
        [
            "render",
            str(short_story),
            "-o",
            str(out),
            "--engine",
            engine,
            "--tail",
            "6",
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    report = check_render(out, tail_s=6)
    assert report["engine"] == engine
    # Every passage got time on the timeline in proportion to its words.
    script = parse_story(short_story)
    for p, entry in zip(script.passages, report["passages"], strict=True):
        seconds = entry["end_s"] - entry["start_s"]
        assert 0.2 * p.word_count < seconds < 0.8 * p.word_count


@pytest.mark.slow
@pytest.mark.real_engine
def test_demo_story_renders_as_the_readme_says(tmp_path):
    out = tmp_path / "dream.mp3"
    result = runner.invoke(
        app,
        [
            "render",
            str(ROOT / "seeds" / "dream.txt"),
            "-o",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    report = check_render(out, tail_s=180)
    assert report["engine"] == "piper"
    assert "storm-hush" in report["passages"][0]["layers"]
    assert "tide" in report["passages"][-2]["layers"]
