"""Adding a layer, an engine or an output format is one class (or record) and one
registration line.

This module is that new module: a kettle layer and a toy engine, registered here (for the
length of each test), then seen by every part of the program — ``narrator layers`` and
``narrator voices``, scene direction (the kettle's own words call it up), and a render (the
toy speaks; the kettle plays under it, in the ambience's own process).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.direction.plan import plan_story
from narrator.speech import registry
from narrator.speech.base import Engine, EngineSpec
from narrator.speech.fake import FakeEngine
from narrator.text.script import parse_text
from soundscapes import layers
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, intensity_param
from soundscapes.output import formats as output_formats
from soundscapes.output.formats import OutputFormat
from tests.conftest import ffmpeg_loudness

runner = CliRunner()


class KettleHum(ProceduralLayer):
    """A kettle on a low flame: a soft hum and a little hiss. Calibrated by its gain."""

    info = LayerInfo(
        name="kettle-hum",
        description="a kettle humming on a low flame",
        params=(intensity_param(0.5, "how loud the hiss is"),),
        words={"kettle": 1.0, "teapot": 0.6},
        bed=True,
    )

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        self._hiss = 0.01 + 0.02 * self.params["intensity"]

    def _render_chunk(self) -> np.ndarray:
        t = (self.chunk_start_s + np.arange(self.chunk_frames) / self.sample_rate_hz)[None]
        hum = 0.02 * np.sin(2 * np.pi * 120.0 * t)
        hiss = self._hiss * self.rng.standard_normal((2, self.chunk_frames))
        return (hum + hiss).astype(np.float32)


class Toy(Engine):
    """A toy engine: the fake engine's tones under another name, with its own voices."""

    name = "toy"
    default_voice = "squeak"
    default_settings: Mapping[str, float | int | str] = {"seconds_per_word": 0.3}

    def available(self) -> bool:
        return True

    def voices(self) -> list[str]:
        return ["squeak", "honk"]

    def resolve_voice(self, voice: str) -> str:
        return voice if voice in self.voices() else self.default_voice

    def version(self, spec: EngineSpec) -> str:
        return "toy-1"

    def create(self, spec: EngineSpec) -> ToySpeaker:
        return ToySpeaker(spec)


class ToySpeaker(FakeEngine):
    def __init__(self, spec: EngineSpec) -> None:
        fake = EngineSpec(engine="fake", voice="high", settings=spec.settings)
        super().__init__(fake)
        self.spec = spec

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        return super().synthesize(sentences)


@pytest.fixture
def registered() -> Iterator[None]:
    layers.register_layer(KettleHum)
    registry.register_engine(Toy)
    try:
        yield
    finally:
        layers._LAYERS.pop("kettle-hum", None)
        registry._REGISTERED.pop("toy", None)


def test_the_new_layer_and_engine_are_listed(registered) -> None:
    listed = runner.invoke(app, ["layers"])
    assert listed.exit_code == 0 and "kettle-hum" in listed.stdout
    voices = runner.invoke(app, ["voices", "--engine", "toy"])
    assert voices.exit_code == 0, voices.output
    assert "toy" in voices.stdout and "honk" in voices.stdout


def test_direction_hears_the_new_layer_by_its_own_words(registered) -> None:
    script = parse_text("The kettle sings on the stove.\n\nSteam curls from the kettle's spout.")
    plan = plan_story(script)
    assert "kettle-hum" in plan.scene_for(0).layer_names


def test_a_render_speaks_with_the_new_engine_over_the_new_layer(registered, tmp_path) -> None:
    story = tmp_path / "kettle.txt"
    story.write_text("The kettle sings on the stove. You listen, and rest.\n", encoding="utf-8")
    out = tmp_path / "kettle.wav"
    args = ["render", str(story), "-o", str(out), "--engine", "toy", "--voice", "honk",
            "--tail", "2", "--jobs", "1", "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
    report = json.loads(out.with_name("kettle.wav.report.json").read_text(encoding="utf-8"))
    assert (report["engine"], report["voice"]) == ("toy", "honk")
    assert "kettle-hum" in report["passages"][0]["layers"]
    assert report["voice_over_ambience_lu"] > 10  # the hum played, under the voice


# AIFF, as a user might add it: libsndfile writes it, no tags. One record, one register call.
AIFF = OutputFormat(
    name="aiff", suffix=".aiff", mime="audio/aiff", lossless=True,
    soundfile=("AIFF", "PCM_16"), bytes_per_s=176_400,
)  # fmt: skip


@pytest.fixture
def aiff() -> Iterator[None]:
    output_formats.register(AIFF)
    try:
        yield
    finally:
        output_formats._REGISTRY.pop("aiff", None)


def test_a_new_output_format_is_one_record_and_one_registration(aiff, tmp_path) -> None:
    import soundfile as sf

    story = tmp_path / "calm.txt"
    story.write_text("The sea is calm tonight. You breathe slowly and rest.\n", encoding="utf-8")
    out = tmp_path / "calm.aiff"
    args = ["render", str(story), "-o", str(out), "--engine", "fake", "--tail", "2",
            "--jobs", "1", "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output + result.stderr
    info = sf.info(str(out))
    assert (info.format, info.subtype, info.channels) == ("AIFF", "PCM_16", 2)
    report = json.loads(out.with_name("calm.aiff.report.json").read_text(encoding="utf-8"))
    assert report["format"] == "aiff"
    # Mastered like any lossless format: ffmpeg's own meter finds the target in the file.
    assert abs(ffmpeg_loudness(out).integrated_lufs - report["target_lufs"]) < 0.3
