"""The engine registry: names, specs, settings, voices and the fake engine's contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from narrator.errors import SpeechError, VoiceError
from narrator.speech import piper
from narrator.speech.base import EngineSpec
from narrator.speech.fake import FakeEngine
from narrator.speech.registry import (
    check_spec,
    create_engine,
    default_spec,
    engine_available,
    engine_names,
    list_voices,
)


def test_builtin_engines_are_listed_default_first():
    names = engine_names()
    assert names[:4] == ["piper", "kokoro", "system", "fake"]
    assert engine_available("fake")
    assert list_voices("fake") == ["tone", "low", "high"]


@pytest.mark.parametrize(("name", "suggestion"), [("pipr", "piper"), ("sytem", "system")])
def test_an_unknown_engine_names_the_close_ones(name: str, suggestion: str):
    with pytest.raises(SpeechError, match=f"did you mean {suggestion}"):
        default_spec(name)
    with pytest.raises(SpeechError, match="piper, kokoro, system, fake"):
        create_engine(EngineSpec(engine=name))


def test_default_spec_fills_the_sleep_pace_defaults():
    spec = default_spec("piper")
    assert spec.voice == "joe"
    assert dict(spec.settings) == {"length_scale": 1.4, "noise_scale": 0.0, "noise_w_scale": 0.0}
    assert list(spec.settings) == sorted(spec.settings)
    faster = default_spec("piper", length_scale=1.1, speaker_id=0)
    assert faster.setting("length_scale") == 1.1 and faster.setting("speaker_id") == 0
    assert hash(faster) != hash(spec)


def test_unknown_and_mistyped_settings_are_refused():
    with pytest.raises(SpeechError, match="did you mean length_scale"):
        default_spec("piper", lenght_scale=1.2)
    with pytest.raises(SpeechError, match="must be a float"):
        default_spec("piper", length_scale="slow")
    with pytest.raises(SpeechError, match="must be a int"):
        default_spec("fake", sample_rate_hz=22050.5)


def test_voices_are_checked_never_silently_replaced(tmp_path: Path):
    with pytest.raises(VoiceError, match="tone"):
        default_spec("fake", voice="bass")
    with pytest.raises(VoiceError, match="did you mean joe"):
        default_spec("piper", voice="jo")
    missing = tmp_path / "amy.onnx"
    with pytest.raises(VoiceError, match="does not exist"):
        default_spec("piper", voice=str(missing))
    missing.write_bytes(b"\0")
    with pytest.raises(VoiceError, match=r"amy\.onnx\.json"):
        default_spec("piper", voice=str(missing))
    (tmp_path / "amy.onnx.json").write_text("{}")
    spec = default_spec("piper", voice=str(missing))
    assert spec.voice == str(missing.absolute())
    assert "amy.onnx" in piper.version(spec)
    # A voice linked into another folder is read with the config beside the link, as
    # piper's command line reads it; the config's bytes are part of its identity.
    linked = tmp_path / "voices" / "mine.onnx"
    linked.parent.mkdir()
    linked.symlink_to(missing)
    (tmp_path / "voices" / "mine.onnx.json").write_text('{"a": 1}')
    spec = default_spec("piper", voice=str(linked))
    assert spec.voice == str(linked)
    before = piper.version(spec)
    (tmp_path / "voices" / "mine.onnx.json").write_text('{"a": 2}')
    assert piper.version(spec) != before
    with pytest.raises(VoiceError):
        check_spec(EngineSpec(engine="fake", voice="nobody"))


def test_fake_engine_follows_the_protocol_and_the_text():
    engine = create_engine(default_spec("fake"))
    assert isinstance(engine, FakeEngine) and engine.sample_rate_hz == 22050
    short, long = engine.synthesize(["Hush now.", "The long grass bends in the slow, warm wind."])
    assert short.dtype == np.float32 and short.ndim == 1
    assert long.size / short.size > 2.5  # 9 words against 2
    again = engine.synthesize(["Hush now."])[0]
    assert np.array_equal(again, short)
    # Speech-like: energy rises and falls at about 4 Hz (syllable rate).
    env = np.abs(long)[: long.size // 220 * 220].reshape(-1, 220).max(axis=1)  # 10 ms frames
    spectrum = np.abs(np.fft.rfft(env - env.mean()))
    assert np.fft.rfftfreq(env.size, 0.01)[np.argmax(spectrum)] == pytest.approx(4.0, abs=0.5)
    engine.close()


@pytest.fixture
def plugins(monkeypatch):
    """Engines registered as a third-party package registers them: entry points in the
    ``narrator.engines`` group (here one that works and one whose module is missing)."""
    from importlib.metadata import EntryPoint

    from narrator.speech import registry

    found = [
        EntryPoint(name="deep", value="tests.speech.plugin_engine:Deep", group="narrator.engines"),
        EntryPoint(name="gone", value="no_such_package.engine", group="narrator.engines"),
    ]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [ep for ep in found if ep.group == group]
    )
    registry._plugin_engines.cache_clear()
    yield
    registry._plugin_engines.cache_clear()


def test_a_third_party_engine_registers_through_an_entry_point(plugins, tmp_path: Path):
    from typer.testing import CliRunner

    from narrator.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["voices"])
    assert listed.exit_code == 0, listed.output
    assert "deep: installed\n  deep" in listed.output
    assert "gone: not usable" in listed.output and "cannot be imported" in listed.output
    story = tmp_path / "s.txt"
    story.write_text("A slow evening. The sea is calm.\n", encoding="utf-8")
    out = tmp_path / "s.mp3"
    rendered = runner.invoke(app, ["render", str(story), "--engine", "deep", "--jobs", "1",
                                   "--tail", "1", "--cache-dir", str(tmp_path / "c"),
                                   "-o", str(out), "-q"])  # fmt: skip
    assert rendered.exit_code == 0, rendered.output
    report = json.loads(out.with_name("s.mp3.report.json").read_text())
    assert report["engine"] == "deep" and report["voice"] == "deep"
    broken = runner.invoke(app, ["render", str(story), "--engine", "gone", "-o", str(out)])
    assert broken.exit_code == 1 and "cannot be imported" in broken.stderr


def test_an_engine_written_as_a_module_gets_its_hooks_and_keeps_the_defaults(monkeypatch):
    """module_engine: the module's functions become the hooks, its constants the attributes;
    what it leaves out keeps the base's default, and a required hook left out is refused."""
    import sys
    import types

    from narrator.speech.base import Engine, module_engine

    module = types.ModuleType("bell_engine")
    module.DEFAULT_VOICE = "bell"
    module.SETTING_RANGES = {"rate": (1.0, 9.0, "Hz")}
    module.available = lambda: True
    module.voices = lambda: ["bell", "gong"]
    module.resolve_voice = lambda voice: voice.strip()
    module.version = lambda spec: "bell-1"
    module.create = FakeEngine
    monkeypatch.setitem(sys.modules, "bell_engine", module)

    bell = module_engine("bell_engine", name="bell", doc="Bells.")()
    assert isinstance(bell, Engine) and type(bell).__qualname__ == "Bell"
    assert (
        bell.name == "bell" and bell.default_voice == "bell" and bell.voices() == ["bell", "gong"]
    )
    assert bell.setting_ranges == {"rate": (1.0, 9.0, "Hz")}
    assert bell.resolve_voice(" gong ") == "gong"
    # Left out: the base's defaults.
    assert bell.settings_for_pace(100.0) == {} and bell.warnings(EngineSpec(engine="bell")) == []
    assert bell.install_hint == Engine.install_hint and bell.use_process_pool
    loaded = bell.create(EngineSpec(engine="fake", voice="tone"))
    assert isinstance(loaded, FakeEngine)

    del module.version
    with pytest.raises(TypeError, match="lacks version"):
        module_engine("bell_engine", name="bell", doc="Bells.")


def test_an_engine_library_that_is_missing_says_how_to_install_it():
    from narrator.speech.base import import_library

    with pytest.raises(SpeechError, match=r"the bell engine is not installed .*pip install bells"):
        import_library("no_such_bell_library", engine="bell", install_hint="pip install bells")
