"""User scenes from a TOML file: what loads, and the one-line errors for what does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from soundscapes.errors import LayerError, SoundscapeError
from soundscapes.scene import LayerSpec, load_scenes
from soundscapes.timeline import Timeline

SR = 44_100

EXAMPLE = """
[scenes.brook-night]
description = "a brook under the stars"
layers = { "file:sounds/brook.flac" = 0, shimmer = -6 }   # gains in dB
[scenes.windy-shore]
layers = { tide = 0, wind = { gain_db = -4, intensity = 0.6 } }
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sounds").mkdir()
    rng = np.random.default_rng(0)
    soundfile.write(tmp_path / "sounds" / "brook.flac", 0.1 * rng.standard_normal(3 * SR), SR)
    return tmp_path


def _write(folder: Path, text: str) -> Path:
    path = folder / "scenes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(folder: Path, text: str, kind: type[Exception] = LayerError) -> str:
    path = _write(folder, text)
    with pytest.raises(kind) as caught:
        load_scenes(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_example_loads(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(folder, EXAMPLE)
    monkeypatch.chdir(folder.parent)  # recordings are found next to the TOML, not the cwd
    scenes = load_scenes(path)
    assert list(scenes) == ["brook-night", "windy-shore"]
    brook = scenes["brook-night"]
    assert brook.description == "a brook under the stars"
    recording = (folder / "sounds" / "brook.flac").resolve()
    assert brook.layers == (
        LayerSpec(name=f"file:{recording}", gain_db=0.0),
        LayerSpec(name="shimmer", gain_db=-6.0),
    )
    shore = scenes["windy-shore"]
    assert shore.description == ""
    assert shore.layers == (
        LayerSpec(name="tide", gain_db=0.0),
        LayerSpec(name="wind", gain_db=-4.0, params=(("intensity", 0.6),)),
    )


def test_loaded_scene_renders(folder: Path) -> None:
    scenes = load_scenes(_write(folder, EXAMPLE))
    timeline = Timeline(
        {0.0: scenes["brook-night"], 4.0: scenes["windy-shore"]},
        duration_s=8.0, crossfade_s=2.0, fade_in_s=0.5, fade_out_s=1.0,
    )  # fmt: skip
    audio = timeline.source().render(8 * SR)
    assert audio.shape == (2, 8 * SR)
    assert np.isfinite(audio).all()
    assert np.sqrt(np.mean(audio[:, SR : 3 * SR] ** 2)) > 1e-3


def test_absolute_recording_path_and_recording_params(folder: Path) -> None:
    recording = folder / "sounds" / "brook.flac"
    text = f'[scenes.b]\nlayers = {{ "file:{recording}" = {{ gain_db = -2, crossfade = 1.5 }} }}\n'
    (spec,) = load_scenes(_write(folder, text))["b"].layers
    assert spec == LayerSpec(name=f"file:{recording.resolve()}", gain_db=-2.0,
                             params=(("crossfade", 1.5),))  # fmt: skip


def test_unknown_layer_names_scene_and_suggests(folder: Path) -> None:
    message = _error(folder, "[scenes.shore]\nlayers = { tyde = 0 }\n")
    assert "scene 'shore'" in message
    assert "unknown layer 'tyde'" in message
    assert "'tide'" in message


def test_missing_recording(folder: Path) -> None:
    message = _error(folder, '[scenes.b]\nlayers = { "file:sounds/creek.flac" = 0 }\n')
    assert "scene 'b'" in message
    assert "recording not found" in message
    assert str(folder / "sounds" / "creek.flac") in message


@pytest.mark.parametrize("gain", ["20", "-41", '"loud"', "true", "nan"])
def test_bad_gain(folder: Path, gain: str) -> None:
    message = _error(folder, f"[scenes.s]\nlayers = {{ tide = {gain} }}\n")
    assert "scene 's'" in message
    assert "gain must be a number of dB in [-40, 12]" in message


def test_gain_limits_are_inclusive(folder: Path) -> None:
    scenes = load_scenes(_write(folder, "[scenes.s]\nlayers = { tide = 12, rain = -40 }\n"))
    assert [layer.gain_db for layer in scenes["s"].layers] == [12.0, -40.0]


def test_unknown_param_suggests(folder: Path) -> None:
    message = _error(folder, "[scenes.s]\nlayers = { wind = { intensty = 0.5 } }\n")
    assert "layer 'wind' has no parameter 'intensty'" in message
    assert "'intensity'" in message


def test_param_out_of_range(folder: Path) -> None:
    message = _error(folder, "[scenes.s]\nlayers = { wind = { intensity = 2 } }\n")
    assert "intensity must be in [0, 1], got 2" in message
    message = _error(folder, '[scenes.s]\nlayers = { wind = { intensity = "high" } }\n')
    assert "intensity must be in [0, 1]" in message


def test_scene_shape_errors(folder: Path) -> None:
    assert "did you mean 'layers'" in _error(folder, "[scenes.s]\nlayer = { tide = 0 }\n")
    assert "needs layers" in _error(folder, "[scenes.s]\nlayers = {}\n")
    assert "needs layers" in _error(folder, '[scenes.s]\ndescription = "x"\n')
    assert "description must be a string" in _error(
        folder, "[scenes.s]\ndescription = 3\nlayers = { tide = 0 }\n"
    )
    assert "no scenes" in _error(folder, "# nothing here\n")
    # A name a cue cannot say, or that reads as a scene with a layer added: refused.
    for name in ('"a]b"', '"a+b"', '"my scene"', '""'):
        said = _error(folder, f"[scenes.{name}]\nlayers = {{ tide = 0 }}\n")
        assert "a scene name is letters, digits, - and _" in said, said
    assert "unknown top-level key 'scene'" in _error(folder, "[scene.s]\nlayers = { tide = 0 }\n")


def test_unreadable_and_invalid_files(folder: Path) -> None:
    assert "not valid TOML" in _error(folder, "[scenes.s\nlayers = 3\n", SoundscapeError)
    missing = folder / "none.toml"
    with pytest.raises(SoundscapeError, match="no such file; check the path") as caught:
        load_scenes(missing)
    assert str(missing) in str(caught.value)


def test_the_readme_s_scene_file_loads_as_written(tmp_path: Path) -> None:
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Your own scenes**")
    block = re.search(r"```toml\n(.*?)```", readme[start:], re.S)
    assert block, "the README's scene-file example is gone"
    rng = np.random.default_rng(0)
    soundfile.write(tmp_path / "brook.flac", 0.1 * rng.standard_normal(3 * SR), SR)
    scenes = load_scenes(_write(tmp_path, block.group(1)))
    assert list(scenes) == ["brook-night", "windy-shore"]
    brook = scenes["brook-night"]
    assert [spec.name for spec in brook.layers] == [f"file:{tmp_path / 'brook.flac'}", "shimmer"]
    assert scenes["windy-shore"].layers[1] == LayerSpec(
        name="wind", gain_db=-4.0, params=(("intensity", 0.6),)
    )
