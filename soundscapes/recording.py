"""Your own recordings as a layer: ``file:PATH`` plays an audio file as an endless bed.

>>> from soundscapes.layers import create_layer
>>> brook = create_layer("file:/home/me/brook.flac", seed=3)
>>> block = brook.render(44100)   # float32, shape (2, 44100)

The file is decoded once (WAV/FLAC/Ogg/MP3 through soundfile, other containers such as m4a,
aac, opus or wma through pydub and the ffmpeg binary that imageio-ffmpeg installs), resampled
to the output rate, made stereo and scaled to the same calibrated loudness as every procedural
layer (:data:`~soundscapes.layers.spec.CALIBRATED_LUFS`, BS.1770). It then loops forever: each
pass starts at a point drawn from the layer's seeded generator, so an eight-hour bed made from
a two-minute recording does not repeat the same two minutes, and every join is a power-
preserving crossfade.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import soundfile
from scipy import signal

from soundscapes.errors import LayerError, brief
from soundscapes.files import InputError, check_input_file, human_size
from soundscapes.layers.spec import LayerInfo, ParamInfo, ProceduralLayer
from soundscapes.output.meter import SILENCE_LUFS, LoudnessMeter

#: The largest recording file decoded: a loop is decoded whole into memory (an hour of 48 kHz
#: stereo float is 1.4 GB), and a bed needs minutes, not hours.
RECORDING_MAX_BYTES = 1_000_000_000
#: Layer names of this form play a recording: ``file:/home/me/brook.flac``.
FILE_PREFIX = "file:"

#: Default length of the crossfade at each loop join.
DEFAULT_CROSSFADE_S = 2.0
#: The crossfade never takes more than this share of the (resampled) file, so every pass still
#: plays mostly fresh material even for a short file.
_MAX_CROSSFADE_SHARE = 0.25
#: Shortest file that can be looped: below this a "loop" is a buzz, not a bed.
_MIN_FILE_S = 0.1
#: A pass starts anywhere in the first half of what remains after the two crossfades, so each
#: pass plays at least half the file before the next join.
_MAX_START_SHARE = 0.5
#: Around the drawn start point, the join searches this far for the offset whose material lines
#: up best with the outgoing tail: for tonal recordings (a hum, a drone) that keeps the two
#: sides of the crossfade in phase instead of cancelling in the middle.
_ALIGN_SEARCH_S = 0.025
#: Length of the stretch compared when lining up a join.
_ALIGN_WINDOW_S = 0.05
#: BS.1770 gates in 400 ms blocks; short files are measured tiled to at least this length.
_MIN_MEASURE_S = 3.0


def is_recording_name(name: object) -> bool:
    """Whether ``name`` names a recording (``file:PATH``) rather than a registered layer."""
    return isinstance(name, str) and name.startswith(FILE_PREFIX)


def recording_path(name: str) -> Path:
    """The file a ``file:PATH`` layer name points at (``~`` expanded, not resolved)."""
    return Path(name[len(FILE_PREFIX) :]).expanduser()


def _check_exists(name: str) -> Path:
    path = recording_path(name)
    if not str(path).strip() or str(path) == ".":
        raise LayerError(f"layer {brief(name)}: give the recording's path after 'file:'")
    if not path.exists():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise LayerError(
            f"recording not found: {path}{where}; check the path, or give an absolute one"
        )
    try:
        check_input_file(path, what="recording")  # a FIFO or a device is refused, not read
    except InputError as exc:
        raise LayerError(str(exc)) from None
    size = path.stat().st_size
    if size > RECORDING_MAX_BYTES:
        raise LayerError(
            f"{path}: the recording is {human_size(size)}; a bed recording is decoded whole, so "
            f"use one of at most {human_size(RECORDING_MAX_BYTES)} (it loops: minutes are enough)"
        )
    return path


def recording_info(name: str) -> LayerInfo:
    """Description and parameters of the ``file:PATH`` layer ``name``.

    Raises
    ------
    LayerError
        When the file does not exist.
    """
    path = _check_exists(name)
    return LayerInfo(
        name=name,
        description=f"your recording {path.name}, looped with varied start points",
        params=(
            ParamInfo(
                name="crossfade",
                default=DEFAULT_CROSSFADE_S,
                minimum=0.05,
                maximum=10.0,
                unit="s",
                description="length of each loop join (shortened for short files)",
            ),
        ),
    )


def recording_layer(name: str) -> type[RecordingSource]:
    """A :class:`RecordingSource` class bound to the file of ``name``, for the layer registry.

    The registry validates parameters, rate and seed from a class's :attr:`info` and then calls
    ``cls(sample_rate_hz=..., seed=..., params=...)``; binding the path into a subclass lets
    recordings go through exactly that path.
    """
    info = recording_info(name)
    return type("RecordingLayer", (RecordingSource,), {"info": info, "path": recording_path(name)})


# --- decoding ---------------------------------------------------------------------------------


def _decode_soundfile(path: Path) -> tuple[np.ndarray, int]:
    audio, rate_hz = soundfile.read(path, dtype="float32", always_2d=True)
    return audio.T, int(rate_hz)


def _decode_pydub(path: Path) -> tuple[np.ndarray, int]:
    import imageio_ffmpeg

    with warnings.catch_warnings():
        # pydub warns on import when no system ffmpeg is on PATH (we point it at our own).
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # its audioop import, on 3.11-3.12
        from pydub import AudioSegment

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    # The temporary-file path needs only ffmpeg (it decodes to 16-bit WAV, plenty for a bed);
    # the plain one also wants ffprobe, which imageio-ffmpeg does not ship.
    segment = AudioSegment.from_file_using_temporary_files(str(path))
    width_bytes = segment.sample_width
    samples = np.array(segment.get_array_of_samples())
    if width_bytes == 1:  # 8-bit WAV is unsigned
        audio = (samples.astype(np.float32) - 128.0) / 128.0
    else:
        audio = samples.astype(np.float32) / float(2 ** (8 * width_bytes - 1))
    return audio.reshape(-1, segment.channels).T, int(segment.frame_rate)


def decode(path: Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 ``(channels, frames)`` and its sample rate.

    Raises
    ------
    LayerError
        When the file is missing or neither soundfile nor ffmpeg can decode it.
    """
    if not path.is_file():
        raise LayerError(f"recording not found: {path}; check the path, or give an absolute one")
    try:
        return _decode_soundfile(path)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass  # not a container libsndfile reads: m4a, aac, opus, wma, ...
    try:
        return _decode_pydub(path)
    except Exception as exc:  # pydub raises exceptions of several kinds
        # ffmpeg's own complaint is the last line of pydub's message.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = lines[-1] if lines else type(exc).__name__
        raise LayerError(
            f"cannot decode recording {path} ({reason[:100]}); "
            f"convert it to WAV, FLAC, Ogg, MP3 or M4A and try again"
        ) from None


def to_stereo(audio: np.ndarray) -> np.ndarray:
    """Mono becomes two equal channels; more than two fold to left (even) and right (odd)."""
    if audio.shape[0] == 1:
        return np.repeat(audio, 2, axis=0)
    if audio.shape[0] == 2:
        return audio
    return np.stack([audio[0::2].mean(axis=0), audio[1::2].mean(axis=0)])


def resample(audio: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase resampling along time; a no-op at equal rates."""
    if from_hz == to_hz:
        return audio
    g = math.gcd(from_hz, to_hz)
    return signal.resample_poly(audio, to_hz // g, from_hz // g, axis=1).astype(np.float32)


def integrated_lufs(audio: np.ndarray, sample_rate_hz: int) -> float:
    """BS.1770 integrated loudness of a stereo recording, tiled when it is too short to gate."""
    min_frames = round(_MIN_MEASURE_S * sample_rate_hz)
    if audio.shape[1] < min_frames:
        audio = np.tile(audio, (1, -(-min_frames // audio.shape[1])))
    meter = LoudnessMeter(sample_rate_hz, 2, true_peak=False)
    meter.add(audio)
    return meter.integrated_lufs


# --- the looping source -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Pass:
    """One pass through the file: output frame ``start_frame`` plays file frame ``file_start``.

    It fades in over its first ``crossfade`` frames (unless it is the first pass) and out over
    its last, where the next pass fades in.
    """

    start_frame: int
    file_start: int
    #: Correlation of this pass's head with the previous pass's tail, over their crossfade.
    join_correlation: float

    def end_frame(self, file_frames: int) -> int:
        return self.start_frame + file_frames - self.file_start


class RecordingSource(ProceduralLayer):
    """A recording looped seamlessly: float32 ``(2, frames)``, block-invariant, seeded.

    Create it through :func:`soundscapes.layers.create_layer` with a ``file:PATH`` name; the
    registry hands it a class with :attr:`path` and :attr:`info` set (see
    :func:`recording_layer`).

    Each join is an equal-power crossfade (cos/sin gains) corrected for the correlation of the
    two sides, so the power stays flat through the join whether the material there is
    unrelated (noise, water: plain cos/sin) or alike (a steady hum: the gains sum towards 1).
    """

    path: ClassVar[Path]

    def _build(self, *, crossfade: float) -> None:
        raw, file_rate_hz = decode(self.path)
        audio = to_stereo(resample(raw, file_rate_hz, self.sample_rate_hz))
        frames = audio.shape[1]
        if frames < _MIN_FILE_S * self.sample_rate_hz:
            raise LayerError(
                f"recording {self.path} is too short to loop ({frames / self.sample_rate_hz:.3f}"
                f" s); use one of at least {_MIN_FILE_S:g} s"
            )
        loudness_lufs = integrated_lufs(audio, self.sample_rate_hz)
        if loudness_lufs <= SILENCE_LUFS:
            raise LayerError(f"recording {self.path} is silent; choose a file with sound in it")
        gain = 10.0 ** ((self.info.calibrated_lufs - loudness_lufs) / 20.0)
        self._audio = (audio * gain).astype(np.float32)
        self._mono = self._audio.mean(axis=0)  # for lining up joins
        self._file_frames = frames
        self._crossfade_frames = max(
            1, min(round(crossfade * self.sample_rate_hz),
                   int(frames * _MAX_CROSSFADE_SHARE))
        )  # fmt: skip
        self._align_frames = max(1, round(_ALIGN_SEARCH_S * self.sample_rate_hz))
        self._window_frames = min(self._crossfade_frames,
                                  max(1, round(_ALIGN_WINDOW_S * self.sample_rate_hz)))  # fmt: skip
        first = self._draw_start()
        self._passes = [_Pass(start_frame=0, file_start=first, join_correlation=0.0)]
        # Every pass planned so far as (output frame, file frame): one pair per pass, a few
        # thousand over a night, kept for tests and reports after the pass itself is dropped.
        self._history = [(0, first)]

    @property
    def file_frames(self) -> int:
        """Length of the recording at the output rate."""
        return self._file_frames

    @property
    def crossfade_frames(self) -> int:
        """Length of each loop join at the output rate."""
        return self._crossfade_frames

    def pass_starts(self) -> list[tuple[int, int]]:
        """``(output frame, file frame)`` of each pass planned so far (for tests and reports)."""
        return list(self._history)

    def _draw_start(self) -> int:
        span = self._file_frames - 2 * self._crossfade_frames
        return int(self.rng.integers(0, max(1, int(span * _MAX_START_SHARE)) + 1))

    def _plan_next(self) -> None:
        """Add the pass that follows the last one, starting inside its fade-out."""
        last = self._passes[-1]
        fade = self._crossfade_frames
        tail_file_start = self._file_frames - fade
        start = self._align(self._draw_start(), tail_file_start)
        tail = self._audio[:, tail_file_start:]
        head = self._audio[:, start : start + fade]
        energy = float(np.sum(tail * tail)) * float(np.sum(head * head))
        correlation = float(np.sum(tail * head)) / math.sqrt(energy) if energy > 0 else 0.0
        start_frame = last.end_frame(self._file_frames) - fade
        self._passes.append(
            _Pass(start_frame=start_frame, file_start=start, join_correlation=correlation)
        )
        self._history.append((start_frame, start))

    def _align(self, start: int, tail_file_start: int) -> int:
        """Move ``start`` by up to :data:`_ALIGN_SEARCH_S` so the head best matches the tail.

        Compared at the middle of the crossfade, where both sides are equally loud and a
        phase mismatch would show most.
        """
        window = self._window_frames
        offset = (self._crossfade_frames - window) // 2
        latest = self._file_frames - 2 * self._crossfade_frames
        lo = max(0, start - self._align_frames)
        hi = min(max(0, latest), start + self._align_frames)
        if hi <= lo:
            return start
        template = self._mono[tail_file_start + offset : tail_file_start + offset + window]
        region = self._mono[lo + offset : hi + offset + window]
        scores = signal.correlate(region, template, mode="valid")
        return lo + int(np.argmax(scores))

    def _render_chunk(self) -> np.ndarray:
        chunk_start = self.chunk_start_frame
        chunk_end = chunk_start + self.chunk_frames
        # A pass's fade-out needs its successor's correlation, so plan one pass beyond the chunk.
        while self._passes[-1].start_frame < chunk_end:
            self._plan_next()
        out = np.zeros((self.channels, self.chunk_frames))
        fade = self._crossfade_frames
        for index, current in enumerate(self._passes[:-1]):
            end = current.end_frame(self._file_frames)
            lo, hi = max(chunk_start, current.start_frame), min(chunk_end, end)
            if lo >= hi:
                continue
            t = np.arange(lo, hi)
            into_pass = t - current.start_frame
            gain = np.ones(hi - lo)
            if current.start_frame > 0:  # every pass but the first (the source fades that in)
                gain *= _fade_in_gain(into_pass / fade, current.join_correlation)
            following = self._passes[index + 1]
            gain *= _fade_out_gain((t - following.start_frame) / fade, following.join_correlation)
            first = current.file_start + lo - current.start_frame
            out[:, lo - chunk_start : hi - chunk_start] += (
                self._audio[:, first : first + hi - lo] * gain
            )
        # A pass that ends by the start of the next chunk is done.
        while len(self._passes) > 1 and self._passes[0].end_frame(self._file_frames) <= chunk_end:
            self._passes.pop(0)
        return out


def _equal_power(u: np.ndarray, correlation: float) -> tuple[np.ndarray, np.ndarray]:
    """Fade-out and fade-in gains over ``u`` in [0, 1] that keep the sum's power constant.

    cos/sin alone keep the power of *uncorrelated* sides; for sides with correlation ``r`` the
    sum's power is ``1 + 2 r cos sin``, so both gains are divided by its square root. ``r`` is
    clamped at -0.5 so a perverse join cannot ask for a huge boost.
    """
    theta = 0.5 * np.pi * np.clip(u, 0.0, 1.0)
    out_gain, in_gain = np.cos(theta), np.sin(theta)
    r = max(-0.5, min(1.0, correlation))
    norm = np.sqrt(1.0 + 2.0 * r * out_gain * in_gain)
    return out_gain / norm, in_gain / norm


def _fade_in_gain(u: np.ndarray, correlation: float) -> np.ndarray:
    gain = _equal_power(u, correlation)[1]
    return np.where(u >= 1.0, 1.0, gain)


def _fade_out_gain(u: np.ndarray, correlation: float) -> np.ndarray:
    gain = _equal_power(u, correlation)[0]
    return np.where(u <= 0.0, 1.0, gain)
