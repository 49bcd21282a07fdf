"""Real engines, real text, end to end: measured on the written file with ffmpeg's ebur128."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from narrator.cli import app
from narrator.text.script import parse_story
from tests.conftest import (
    ffmpeg_decodes,
    ffmpeg_loudness,
    least_window_clearance_lu,
    stem_clearance_lu,
    vtt_spans,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def check_render(out: Path, *, tail_s: float, pace_wpm: float = 130.0) -> dict:
    """The checks every finished render must pass, by measurement."""
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert ffmpeg_decodes(out)
    measured = ffmpeg_loudness(out)
    # On target by an independent meter, true peak under the ceiling.
    assert abs(measured.integrated_lufs - report["target_lufs"]) <= 0.5, measured
    assert measured.true_peak_dbtp <= report["true_peak_ceiling_dbtp"] + 0.1, measured
    # As long as its narration plus intro and tail.
    passages = report["passages"]
    assert passages[0]["start_s"] >= 4.0
    assert report["duration_s"] == pytest.approx(passages[-1]["end_s"] + tail_s, abs=0.3)
    assert measured.duration_s == pytest.approx(report["duration_s"], abs=0.3)
    # The voice stands well above the ambience while it speaks.
    assert report["voice_over_ambience_lu"] >= 15.0
    assert report["voice_over_ambience_min_lu"] >= 15.0
    # A sleep pace over the whole narration, pauses included.
    assert report["pace_wpm"] == pytest.approx(pace_wpm, rel=0.10)
    return report


def check_stems(out: Path, report: dict, folder: Path) -> None:
    """On the stems the render kept, measured apart from narrator's own meter: the voice
    15 LU or more over the ambience while it speaks, overall and in every 3 s, and every
    transcript cue within 0.3 s of where the voice is."""
    voice, ambience = (out.parent / report["sidecars"][f"{n}_wav"] for n in ("voice", "ambience"))
    spans = vtt_spans(out.with_name(out.name + ".vtt").read_text(encoding="utf-8"))
    overall = stem_clearance_lu(voice, ambience, spans, folder)
    assert overall >= 15.0 and overall == pytest.approx(report["voice_over_ambience_lu"], abs=1.0)
    assert least_window_clearance_lu(voice, ambience, spans) >= 15.0
    audio, rate = sf.read(voice, dtype="float32", always_2d=True)
    # The voice's envelope in 10 ms frames; "voice" is within 30 dB of its sentence's peak.
    hop = rate // 100
    frames = audio[: len(audio) // hop * hop, 0].reshape(-1, hop)
    level_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    for start_s, end_s in spans:
        a, b = round(start_s * 100), round(end_s * 100)
        near = slice(max(0, a - 50), b + 50)
        loud = np.flatnonzero(level_db[near] > level_db[a:b].max() - 30) + near.start
        onset_s, offset_s = loud[0] / 100, (loud[-1] + 1) / 100
        assert abs(onset_s - start_s) <= 0.3 and abs(offset_s - end_s) <= 0.3, (start_s, end_s)


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
            "--stems",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output + result.stderr
    report = check_render(out, tail_s=6)
    assert report["engine"] == engine
    check_stems(out, report, tmp_path)
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
