"""Recordings as layers (``file:PATH``): decoding, calibration, seamless varied loops.

Every recording is built here in code, so each test knows exactly what went in and checks what
comes out by measurement.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile
from scipy import signal

from soundscapes.errors import LayerError
from soundscapes.layers import create_layer, layer_info
from soundscapes.output.meter import measure
from soundscapes.recording import RecordingSource
from soundscapes.scene import LayerSpec, Scene
from soundscapes.timeline import Timeline

SR = 44_100
TONE_HZ = 440.0
TONE_FILE_HZ = 22_050
#: Not a whole number of the tone's periods, so the file's end does not continue into its start:
#: a plain loop would click at every join.
TONE_FILE_S = 6.113


def _tone(rate_hz: int, seconds: float, freq_hz: float = TONE_HZ) -> np.ndarray:
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    return 0.3 * np.sin(2 * np.pi * freq_hz * t + 0.4)


def _brook(rate_hz: int, seconds: float, seed: int) -> np.ndarray:
    """Stereo band-limited noise with a slow swell: a stand-in for running water."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * rate_hz)
    sos = signal.butter(4, [300, 3000], btype="bandpass", fs=rate_hz, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal((frames, 2)), axis=0)
    swell = 1.0 + 0.3 * np.sin(2 * np.pi * 0.3 * np.arange(frames) / rate_hz)[:, None]
    return 0.2 * noise * swell / np.std(noise)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("recordings")
    paths = {
        "tone": folder / "tone.wav",
        "brook": folder / "brook.flac",
        "ogg": folder / "brook.ogg",
        "mp3": folder / "brook.mp3",
        "m4a": folder / "brook.m4a",
        "short": folder / "short.wav",
    }
    soundfile.write(paths["tone"], _tone(TONE_FILE_HZ, TONE_FILE_S), TONE_FILE_HZ)
    brook = _brook(48_000, 8.0, seed=1)
    soundfile.write(paths["brook"], brook, 48_000)
    soundfile.write(paths["ogg"], brook, 48_000)
    soundfile.write(paths["mp3"], brook, 48_000)
    soundfile.write(paths["short"], _brook(SR, 0.3, seed=2), SR)
    # A container libsndfile cannot read, so it goes through pydub and ffmpeg.
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(paths["brook"]),
         "-c:a", "aac", "-b:a", "128k", str(paths["m4a"])],
        check=True,
    )  # fmt: skip
    return paths


def _layer(path: Path, seed: int = 0, **params: float) -> RecordingSource:
    layer = create_layer(f"file:{path}", seed=seed, **params)
    assert isinstance(layer, RecordingSource)
    return layer


def _joins(layer: RecordingSource) -> list[int]:
    """Output frames where a new pass starts (and its crossfade begins)."""
    return [start for start, _ in layer.pass_starts()[1:]]


def test_block_rendering_equals_one_shot(files: dict[str, Path]) -> None:
    frames = 25 * SR  # several joins (the tone file loops every ~4-6 s)
    reference = _layer(files["tone"], seed=4).render(frames)
    rng = np.random.default_rng(0)
    for _ in range(3):
        layer = _layer(files["tone"], seed=4)
        sizes = []
        while sum(sizes) < frames:
            sizes.append(int(min(rng.integers(1, 40_000), frames - sum(sizes))))
        blocks = np.concatenate([layer.render(n) for n in sizes], axis=1)
        np.testing.assert_array_equal(blocks, reference)


def test_internal_chunk_size_does_not_change_samples(files: dict[str, Path]) -> None:
    frames = 20 * SR
    reference = _layer(files["brook"], seed=2).render(frames)
    layer = _layer(files["brook"], seed=2)
    type(layer).chunk_frames = 4_096  # each file: layer gets its own class, so this is local
    np.testing.assert_allclose(layer.render(frames), reference, atol=1e-6)


def test_output_is_float32_stereo_and_finite(files: dict[str, Path]) -> None:
    block = _layer(files["brook"]).render(SR)
    assert block.dtype == np.float32
    assert block.shape == (2, SR)
    assert np.isfinite(block).all()


def test_same_seed_same_samples_other_seed_other_start_points(files: dict[str, Path]) -> None:
    frames = 30 * SR
    first, again = _layer(files["brook"], seed=7), _layer(files["brook"], seed=7)
    np.testing.assert_array_equal(first.render(frames), again.render(frames))
    other = _layer(files["brook"], seed=8)
    other_audio = other.render(frames)
    assert first.pass_starts() != other.pass_starts()
    assert not np.allclose(other_audio, _layer(files["brook"], seed=7).render(frames))
    # The start points vary from pass to pass, not just between seeds.
    long_run = _layer(files["brook"], seed=7)
    long_run.render(60 * SR)
    assert len({file_start for _, file_start in long_run.pass_starts()}) >= 5


@pytest.mark.parametrize("kind", ["tone", "brook", "ogg", "mp3", "m4a", "short"])
def test_level_is_calibrated(files: dict[str, Path], kind: str) -> None:
    path = files[kind]
    target = layer_info(f"file:{path}").calibrated_lufs
    audio = _layer(path, seed=3).render(60 * SR)
    assert audio.shape == (2, 60 * SR)
    lufs = measure(audio, SR, true_peak=False).integrated_lufs
    assert abs(lufs - target) < 1.0, f"{kind}: {lufs:.2f} LUFS, calibrated {target} LUFS"


def test_mono_file_comes_out_stereo(files: dict[str, Path]) -> None:
    assert soundfile.info(files["tone"]).channels == 1
    audio = _layer(files["tone"]).render(5 * SR)
    assert audio.shape == (2, 5 * SR)
    np.testing.assert_array_equal(audio[0], audio[1])
    assert np.abs(audio[0]).max() > 0.01
    # A stereo file keeps its two channels.
    stereo = _layer(files["brook"]).render(5 * SR)
    assert np.corrcoef(stereo[0], stereo[1])[0, 1] < 0.5


def test_rate_conversion_keeps_the_pitch(files: dict[str, Path]) -> None:
    assert soundfile.info(files["tone"]).samplerate == TONE_FILE_HZ
    audio = _layer(files["tone"]).render(10 * SR)[0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    peak_hz = np.fft.rfftfreq(audio.size, 1 / SR)[np.argmax(spectrum)]
    assert abs(peak_hz - TONE_HZ) < 0.5, peak_hz


def test_no_click_at_loop_joins(files: dict[str, Path]) -> None:
    raw, _ = soundfile.read(files["tone"])
    normal_file_jump = np.abs(np.diff(raw)).max()
    # The recording's own ends do not meet: a hard loop would jump ten times further.
    assert abs(raw[-1] - raw[0]) > 10 * normal_file_jump
    layer = _layer(files["tone"], seed=1)
    audio = layer.render(40 * SR)[0].astype(np.float64)
    fade = layer.crossfade_frames
    steady = audio[SR : 2 * SR]  # inside the first pass, away from the fade-in and any join
    normal_jump = np.abs(np.diff(steady)).max()
    joins = [j for j in _joins(layer) if j + fade + 1 < audio.size]
    assert len(joins) >= 4
    for join in joins:
        # Everything from just before the crossfade to just after it.
        around = audio[join - 100 : join + fade + 100]
        ratio = np.abs(np.diff(around)).max() / normal_jump
        # Two in-phase copies of the tone summed with power-preserving gains: the jump can grow
        # only as much as the amplitude does (a few percent), never by a step.
        assert ratio < 1.2, f"join at {join / SR:.2f} s: jump {ratio:.2f}x the tone's own"


@pytest.mark.parametrize("kind", ["tone", "short", "brook"])
def test_long_render_never_drops_to_silence(files: dict[str, Path], kind: str) -> None:
    layer = _layer(files[kind], seed=5)
    file_s = layer.file_frames / SR
    audio = layer.render(round(max(5 * file_s, 10.0) * SR))[0].astype(np.float64)
    window = SR // 10  # 100 ms RMS
    trimmed = audio[SR // 10 : audio.size // window * window]  # after the 20 ms fade-in
    usable = trimmed[: trimmed.size // window * window]
    rms = np.sqrt(np.mean(usable.reshape(-1, window) ** 2, axis=1))
    # The tone's level stays flat through each join; noise swells but never falls away.
    floor = 0.8 if kind == "tone" else 0.4
    assert rms.min() > floor * np.median(rms), f"{kind}: dip to {rms.min() / np.median(rms):.2f}"


def test_plays_in_a_scene(files: dict[str, Path]) -> None:
    scene = Scene(
        name="brook",
        layers=(LayerSpec(name=f"file:{files['brook']}", gain_db=-3), LayerSpec(name="drone")),
    )
    source = Timeline({0.0: scene}, duration_s=12.0, fade_out_s=2.0)
    audio = source.source().render(10 * SR)
    assert audio.shape == (2, 10 * SR)
    assert np.sqrt(np.mean(audio[:, 6 * SR :] ** 2)) > 1e-3


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "brook.flac"
    for call in (create_layer, layer_info):
        with pytest.raises(LayerError, match="recording not found") as caught:
            call(f"file:{missing}")
        assert str(missing) in str(caught.value)
        assert "\n" not in str(caught.value)
    with pytest.raises(LayerError, match="give the recording's path"):
        create_layer("file:")


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".m4a"])
def test_undecodable_file_is_a_clear_error(tmp_path: Path, suffix: str) -> None:
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(b"this is not audio at all " * 40)
    with pytest.raises(LayerError, match="cannot decode recording") as caught:
        create_layer(f"file:{junk}")
    message = str(caught.value)
    assert str(junk) in message
    assert "convert it to" in message
    assert "\n" not in message


def test_silent_and_too_short_files_are_refused(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(SR), SR)
    with pytest.raises(LayerError, match="silent"):
        create_layer(f"file:{silent}")
    blip = tmp_path / "blip.wav"
    soundfile.write(blip, _tone(SR, 0.02), SR)
    with pytest.raises(LayerError, match="too short"):
        create_layer(f"file:{blip}")


def test_crossfade_parameter_is_validated(files: dict[str, Path]) -> None:
    name = f"file:{files['brook']}"
    assert [p.name for p in layer_info(name).params] == ["crossfade"]
    with pytest.raises(LayerError, match="crossfade"):
        create_layer(name, crossfade=60.0)
    with pytest.raises(LayerError, match="no parameter"):
        create_layer(name, intensity=0.5)
    short = _layer(files["brook"], crossfade=0.5)
    assert short.crossfade_frames == SR // 2
    # A crossfade never eats more than a quarter of a short file.
    assert _layer(files["short"]).crossfade_frames <= 0.25 * 0.3 * SR + 1
