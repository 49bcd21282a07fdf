"""Voice over ambience: look-ahead ducking from the known voice timeline.

The speech timeline is known before the mix, so the ambience is lowered by gain automation
that starts before the first syllable and rises gently only in long pauses — deterministic and
never pumping, unlike a sidechain compressor (MIXING_AND_LOUDNESS.md §5.1, "Ducking method").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from soundscapes.arc import Darkening, SleepArc
from soundscapes.curves import raised_cosine
from soundscapes.errors import ExportError
from soundscapes.meter import KWeighting, LoudnessMeter
from soundscapes.source import CHANNELS, Source


@dataclass(frozen=True, kw_only=True)
class DuckingSettings:
    """Shape of the ducking automation, in seconds and dB.

    Defaults follow the ducking notes in MIXING_AND_LOUDNESS.md §5.1: ramp down ending just
    before the first syllable, hold after the last word, a slower rise, and pauses shorter than
    ``bridge_gap_s`` kept ducked so the bed does not bob between sentences.
    """

    depth_db: float = 9.0
    attack_s: float = 0.6
    pre_s: float = 0.15
    hold_s: float = 0.4
    release_s: float = 1.8
    bridge_gap_s: float = 3.0


def ducked_regions(
    spans_s: Sequence[tuple[float, float]], settings: DuckingSettings
) -> list[tuple[float, float]]:
    """Merge speech spans whose gaps are shorter than ``bridge_gap_s``."""
    merged: list[list[float]] = []
    for start, end in sorted(spans_s):
        if merged and start - merged[-1][1] < settings.bridge_gap_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


class DuckingEnvelope:
    """Ambience gain over time: 1 in the open, ``-depth_db`` under speech."""

    def __init__(
        self, spans_s: Sequence[tuple[float, float]], settings: DuckingSettings | None = None
    ) -> None:
        self.settings = settings or DuckingSettings()
        regions = ducked_regions(spans_s, self.settings)
        s = self.settings
        # Fully ducked from just before the first word to a hold after the last.
        self._full_start = np.array([a - s.pre_s for a, _ in regions])
        self._full_end = np.array([b + s.hold_s for _, b in regions])
        self._reach_s = max(s.attack_s, s.release_s)

    def depth(self, t_s: np.ndarray) -> np.ndarray:
        """How ducked (0 open … 1 fully) the ambience is at times ``t_s``."""
        d = np.zeros_like(t_s)
        if len(self._full_start) == 0 or len(t_s) == 0:
            return d
        s = self.settings
        lo = np.searchsorted(self._full_end, t_s[0] - self._reach_s, side="left")
        hi = np.searchsorted(self._full_start, t_s[-1] + self._reach_s, side="right")
        for a, b in zip(self._full_start[lo:hi], self._full_end[lo:hi], strict=True):
            up = (
                raised_cosine((t_s - (a - s.attack_s)) / s.attack_s)
                if s.attack_s > 0
                else ((t_s >= a).astype(float))
            )
            down = (
                1.0 - raised_cosine((t_s - b) / s.release_s)
                if s.release_s > 0
                else ((t_s <= b).astype(float))
            )
            np.maximum(d, np.minimum(up, down), out=d)
        return d

    def gain(self, t_s: np.ndarray) -> np.ndarray:
        """Linear ambience gain at ``t_s``."""
        return 10.0 ** (-self.settings.depth_db * self.depth(t_s) / 20.0)


class SpeechMask:
    """Which samples fall inside speech spans (for measuring stems while the voice speaks)."""

    def __init__(self, spans_s: Sequence[tuple[float, float]]) -> None:
        spans = sorted(spans_s)
        self._starts = np.array([a for a, _ in spans])
        self._ends = np.array([b for _, b in spans])

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        if len(self._starts) == 0:
            return np.zeros(t_s.shape, dtype=bool)
        i = np.searchsorted(self._starts, t_s, side="right") - 1
        valid = i >= 0
        out = np.zeros(t_s.shape, dtype=bool)
        out[valid] = t_s[valid] < self._ends[i[valid]]
        return out

    def frames(self, first: int, count: int, sample_rate_hz: int) -> np.ndarray:
        """The mask of frames ``first … first + count - 1`` (times ``frame / rate``): the same
        as calling with those times, from the few spans that overlap instead of per frame."""
        out = np.zeros(count, dtype=bool)
        t0_s, t1_s = first / sample_rate_hz, (first + count) / sample_rate_hz
        lo = int(np.searchsorted(self._ends, t0_s, side="right"))
        hi = int(np.searchsorted(self._starts, t1_s, side="left"))
        for a, b in zip(self._starts[lo:hi], self._ends[lo:hi], strict=True):
            # frame f is inside when a <= f / rate < b
            start = max(0, math.ceil(a * sample_rate_hz) - first)
            end = min(count, math.ceil(b * sample_rate_hz) - first)
            out[start:end] = True
        return out


class AmbienceStem:
    """The ambience as it sits in the mix: darkened by the sleep arc, ducked under the voice
    by ``envelope``, at ``gain_db``. A :class:`~soundscapes.source.Source` of its own, so it
    can render in another process (:class:`~soundscapes.background.BackgroundSource`)."""

    channels = CHANNELS

    def __init__(
        self,
        ambience: Source,
        envelope: DuckingEnvelope,
        *,
        gain_db: float,
        arc: SleepArc | None = None,
    ) -> None:
        self.ambience = ambience
        self.envelope = envelope
        self.sample_rate_hz = ambience.sample_rate_hz
        self._darkening = Darkening(arc, self.sample_rate_hz) if arc else None
        self._gain = 10.0 ** (gain_db / 20.0)
        self._frame = 0

    def render(self, frames: int) -> np.ndarray:
        t_s = (self._frame + np.arange(frames)) / self.sample_rate_hz
        self._frame += frames
        duck = (self.envelope.gain(t_s) * self._gain).astype(np.float32)
        ambience = self.ambience.render(frames)
        if self._darkening is not None and frames:
            ambience = self._darkening.process(ambience, float(t_s[0]))
        return ambience * duck


class Mixer:
    """Voice stem + ambience stem (an :class:`AmbienceStem`, perhaps rendered elsewhere),
    in blocks.

    ``render_stems`` returns both stems (the voice with the arc's gain) so a caller can meter
    them apart; their sum is the mix.
    """

    channels = CHANNELS

    def __init__(
        self,
        voice: Source,
        ambience_stem: Source,
        *,
        voice_gain_db: float = 0.0,
        arc: SleepArc | None = None,
    ) -> None:
        self.voice = voice
        self.ambience_stem = ambience_stem
        self.arc = arc
        self.sample_rate_hz = voice.sample_rate_hz
        self._voice_gain = 10.0 ** (voice_gain_db / 20.0)
        self._frame = 0

    def render_stems(self, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t_s, voice, ambience)`` for the next ``frames`` samples."""
        t_s = (self._frame + np.arange(frames)) / self.sample_rate_hz
        self._frame += frames
        voice_gain = self._voice_gain
        if self.arc is not None and frames:
            # The arc moves the voice by 2 dB over the whole story: a straight line between
            # the block's ends is within a thousandth of a dB of the curve, at a tiny cost.
            ends = self.arc.voice_gain(t_s[[0, -1]]) * voice_gain
            voice_gain = np.linspace(ends[0], ends[1], frames, dtype=np.float32)
        voice = self.voice.render(frames) * voice_gain
        return t_s, voice, self.ambience_stem.render(frames)

    def render(self, frames: int) -> np.ndarray:
        _, voice, ambience = self.render_stems(frames)
        return voice + ambience


#: Frames per block in the render loop: 1.5 s, big enough to amortize per-block Python work.
BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True, kw_only=True)
class MixResult:
    """Pass one's measurements of the un-mastered mix."""

    integrated_lufs: float
    #: Voice loudness minus ambience loudness while the voice speaks (stems metered apart).
    voice_over_ambience_lu: float
    #: Largest absolute sample of the mix.
    sample_peak: float
    seconds: float


def mix_to_file(
    mixer: Mixer,
    path: Path,
    *,
    duration_s: float,
    speech_spans_s: Sequence[tuple[float, float]],
    bandwidth_hz: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MixResult:
    """Pass one: render the mix block by block into a float WAV at ``path`` while metering.

    The mix is metered through ``bandwidth_hz`` (the encoder's band), and the two stems are
    metered apart over the samples where the voice speaks.
    """
    started = time.perf_counter()
    sr = mixer.sample_rate_hz
    total = math.ceil(duration_s * sr)
    # Each stem is K-weighted (through the encoder's band) once; K-weighting is linear, so
    # the mix's weighted signal is their sum. The voice has nothing near the band edge.
    voice_k = KWeighting(sr, CHANNELS, bandwidth_hz)
    ambience_k = KWeighting(sr, CHANNELS, bandwidth_hz)
    mix_meter, voice_meter, ambience_meter = (LoudnessMeter(sr, true_peak=False) for _ in "mva")
    in_speech = SpeechMask(speech_spans_s)
    peak = 0.0
    try:
        with sf.SoundFile(path, "w", samplerate=sr, channels=CHANNELS, subtype="FLOAT") as f:
            done = 0
            while done < total:
                n = min(BLOCK_FRAMES, total - done)
                _, voice, ambience = mixer.render_stems(n)
                mix = voice + ambience
                f.write(mix.T)
                peak = max(peak, float(np.abs(mix).max(initial=0.0)))
                voice_w, ambience_w = voice_k.process(voice), ambience_k.process(ambience)
                mix_meter.add_kweighted(voice_w + ambience_w)
                mask = in_speech.frames(done, n, sr)
                if mask.any():
                    voice_meter.add_kweighted(voice_w[:, mask])
                    ambience_meter.add_kweighted(ambience_w[:, mask])
                done += n
                if progress:
                    progress(done, total)
    except (OSError, sf.LibsndfileError) as exc:
        raise ExportError(f"{path.parent}: cannot write the mix ({exc})") from None
    return MixResult(
        integrated_lufs=mix_meter.integrated_lufs,
        voice_over_ambience_lu=voice_meter.integrated_lufs - ambience_meter.integrated_lufs,
        sample_peak=peak,
        seconds=time.perf_counter() - started,
    )


def read_blocks(path: Path) -> Iterator[np.ndarray]:
    """The float WAV that :func:`mix_to_file` wrote, as ``(channels, frames)`` blocks."""
    with sf.SoundFile(path) as f:
        for block in f.blocks(BLOCK_FRAMES, dtype="float32"):
            yield np.ascontiguousarray(block.T)
