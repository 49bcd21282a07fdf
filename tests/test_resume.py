"""A render killed half way resumes from the cache; pacing slows over the story."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from narrator.cli import app
from narrator.speech import SpeechCache
from tests.conftest import kill_render_once_cached, swapped

runner = CliRunner()

PARAGRAPHS = [
    "The lantern swings above the quiet harbour.",
    "Boats knock softly against the wooden pier.",
    "A cat sleeps on a coil of rope, warm from the day.",
    "Far out, a bell buoy rings once, and then again.",
    "The water laps at the stones below the wall.",
    "Somewhere a window closes, and the town is still.",
    "The stars come out one by one above the masts.",
    "You breathe slowly, and the night holds you.",
]


def paces(report: dict) -> list[float]:
    """Words per minute of each passage with the pause after it (start to next start)."""
    ps = report["passages"]
    out = []
    for a, b in itertools.pairwise(ps):
        words = re.findall(r"[^\W_]+(?:['’\-][^\W_]+)*", a["text"])
        out.append(len(words) / (b["start_s"] - a["start_s"]) * 60)
    return out


@pytest.mark.real_engine
def test_a_killed_render_resumes_without_resynthesizing(tmp_path):
    """Killed (SIGKILL, workers and all) after a few passages; the rerun synthesizes only the
    rest and the file is sample for sample the one a render from scratch makes."""
    story = tmp_path / "harbour.txt"
    story.write_text("\n\n".join(PARAGRAPHS * 2), encoding="utf-8")
    out_dir = tmp_path / "out"
    cache = tmp_path / "cache"
    args = ["render", str(story), "-o", str(out_dir / "h.wav"), "--cache-dir", str(cache),
            "--jobs", "2", "--tail", "2", "-q"]  # fmt: skip
    done = kill_render_once_cached(args, cache, entries=3, timeout_s=120)
    assert 3 <= done < len(PARAGRAPHS) * 2 - 1, "killed too late to test resuming"
    # Nothing half-written where the output goes.
    assert not out_dir.exists() or list(out_dir.iterdir()) == []

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    resumed = json.loads((out_dir / "h.wav.report.json").read_text())
    # Identical passages share one cache entry, so count entries, not passages.
    assert resumed["cache"]["hits"] >= done
    assert resumed["cache"]["hits"] + resumed["cache"]["misses"] == len(PARAGRAPHS) * 2

    elsewhere = {cache: tmp_path / "fresh-cache", out_dir / "h.wav": tmp_path / "fresh.wav"}
    fresh_args = swapped(args, elsewhere)
    assert runner.invoke(app, fresh_args).exit_code == 0
    fresh = json.loads((tmp_path / "fresh.wav.report.json").read_text())
    assert fresh["cache"]["hits"] == 0
    resumed_audio, rate = sf.read(out_dir / "h.wav", dtype="int16")
    fresh_audio, _ = sf.read(tmp_path / "fresh.wav", dtype="int16")
    assert rate == 44_100 and resumed_audio.shape == fresh_audio.shape
    assert np.array_equal(resumed_audio, fresh_audio)
    # The same narration: every passage at the same place on the timeline.
    for a, b in zip(resumed["passages"], fresh["passages"], strict=True):
        assert a["start_s"] == pytest.approx(b["start_s"], abs=1e-3)
        assert a["end_s"] == pytest.approx(b["end_s"], abs=1e-3)


def test_slowing_over_the_story_keeps_the_overall_pace(tmp_path):
    story = tmp_path / "harbour.txt"
    story.write_text("\n\n".join(p + " " + p for p in PARAGRAPHS * 2), encoding="utf-8")
    reports = {}
    for slow in ("0", "0.5"):
        out = tmp_path / f"s{slow}.mp3"
        # Short sentences: the fake voice speaks a little faster than its default so the
        # pace leaves pauses above their shortest, with room to slow.
        result = runner.invoke(app, ["render", str(story), "-o", str(out), "--engine", "fake",
                                     "--setting", "seconds_per_word=0.28", "--tail", "1",
                                     "--slow-down", slow, "--cache-dir", str(tmp_path / "c"),
                                     "-q"])  # fmt: skip
        assert result.exit_code == 0, result.stderr
        reports[slow] = json.loads(out.with_name(out.name + ".report.json").read_text())
    flat, slowing = reports["0"], reports["0.5"]
    assert slowing["pace_wpm"] == pytest.approx(flat["pace_wpm"], rel=0.03)
    first, last = paces(slowing)[:4], paces(slowing)[-4:]
    assert sum(last) < 0.9 * sum(first)
    flat_first, flat_last = paces(flat)[:4], paces(flat)[-4:]
    assert abs(sum(flat_last) - sum(flat_first)) < 0.05 * sum(flat_first)
    # The start gives what it can but no pause between passages shrinks below a paragraph's
    # shortest (0.8 s): a pause, not a stumble.
    for a, b in itertools.pairwise(slowing["passages"]):
        assert b["start_s"] - a["end_s"] >= 0.8 - 1e-3
    result = runner.invoke(app, ["render", str(story), "--engine", "fake", "--slow-down", "0.9"])
    assert result.exit_code == 1 and "slow-down" in result.stderr


def test_two_renders_sharing_one_cache_at_once_both_finish_the_same(tmp_path):
    story = tmp_path / "harbour.txt"
    story.write_text("\n\n".join(PARAGRAPHS * 3), encoding="utf-8")
    cache = tmp_path / "cache"

    def command(name: str) -> list[str]:
        return [sys.executable, "-m", "narrator", "render", str(story), "--engine", "fake",
                "-o", str(tmp_path / name), "--cache-dir", str(cache), "--jobs", "2",
                "--tail", "1", "-q"]  # fmt: skip

    procs = [subprocess.Popen(command(name), stderr=subprocess.PIPE) for name in ("a.wav", "b.wav")]
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode()
    reports = [json.loads((tmp_path / f"{n}.wav.report.json").read_text()) for n in "ab"]
    assert [p["start_s"] for p in reports[0]["passages"]] == [
        p["start_s"] for p in reports[1]["passages"]
    ]
    a, _ = sf.read(tmp_path / "a.wav", dtype="int16")
    b, _ = sf.read(tmp_path / "b.wav", dtype="int16")
    assert np.array_equal(a, b)
    # One entry per distinct passage, none half-written, no temporary files left behind.
    assert len(SpeechCache(cache)) == len(PARAGRAPHS)
    assert not [p for p in cache.rglob("*") if p.is_file() and p.name.startswith(".tmp-")]
    for key_file in cache.rglob("*.npz"):
        assert SpeechCache(cache).get(key_file.stem) is not None
