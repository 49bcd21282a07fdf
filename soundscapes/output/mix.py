"""Voice over ambience: look-ahead ducking from the known voice timeline, and the mix.

The speech timeline is known before the mix, so the ambience is lowered by gain automation
that starts before the first syllable and rises gently only in long pauses — deterministic and
never pumping, unlike a sidechain compressor; ramps are raised-cosine, as broadcast
automation does it.

The mix is made in two steps, and neither keeps more than a block of audio in memory:

1. :func:`analyse_stems` renders the voice stem here while the ambience stem renders in a
   second process; each is metered and kept in a scratch file (:mod:`soundscapes.scratch`,
   on the output's disk), and only their loudness per 100 ms is compared. Stems are
   independent, so the mix's loudness is known from the stems' alone (:func:`plan_mix`),
   before a sample of it exists.
2. :func:`plan_mix` also finds where a loud moment of the ambience (a wave, a gull, a chord)
   would come within ``floor_lu`` of the voice over 3 s, and rides the ambience down there
   (a smooth look-ahead gain, :class:`StepGain`), so the voice stays clear of it all the time,
   not just on average. :func:`mixed_blocks` then plays both scratch files, the ambience
   ridden, block by block, for mastering: each stem is rendered once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from soundscapes.arc import Darkening, SleepArc
from soundscapes.background import BackgroundAnalysis, split_pays
from soundscapes.curves import raised_cosine
from soundscapes.output.meter import LoudnessMeter, integrated_lufs_of_steps
from soundscapes.scratch import PAGE_FRAMES, ScratchWriter, read_scratch
from soundscapes.source import CHANNELS, Source, SumSource


@dataclass(frozen=True, kw_only=True)
class DuckingSettings:
    """Shape of the ducking automation, in seconds and dB.

    Defaults follow broadcast ducking practice: ramp down ending just
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
        """How ducked (0 open … 1 fully) the ambience is at times ``t_s`` (ascending)."""
        d = np.zeros_like(t_s)
        if len(self._full_start) == 0 or len(t_s) == 0:
            return d
        s = self.settings
        lo = np.searchsorted(self._full_end, t_s[0] - self._reach_s, side="left")
        hi = np.searchsorted(self._full_start, t_s[-1] + self._reach_s, side="right")
        for a, b in zip(self._full_start[lo:hi], self._full_end[lo:hi], strict=True):
            up = _ramp(t_s, a - s.attack_s, s.attack_s) if s.attack_s > 0 else (t_s >= a) * 1.0
            down = 1.0 - _ramp(t_s, b, s.release_s) if s.release_s > 0 else (t_s <= b) * 1.0
            np.maximum(d, np.minimum(up, down), out=d)
        return d

    def gain(self, t_s: np.ndarray) -> np.ndarray:
        """Linear ambience gain at ``t_s`` (ascending)."""
        depth = self.depth(t_s)
        # 10 ** x costs more than all the rest: worked out only where the ambience is between
        # open (gain 1) and fully ducked (one gain), by the same expression, so the same bits.
        full = 10.0 ** (-self.settings.depth_db * np.ones(1) / 20.0)
        gain = np.where(depth >= 1.0, full[0], 1.0)
        moving = (depth > 0.0) & (depth < 1.0)
        gain[moving] = 10.0 ** (-self.settings.depth_db * depth[moving] / 20.0)
        return gain


def _ramp(t_s: np.ndarray, start_s: float, width_s: float) -> np.ndarray:
    """``raised_cosine((t_s - start_s) / width_s)``, the cosine worked out only inside the
    ramp (elementwise, so the same bits; 0 before it and 1 after are exact there too)."""
    u = (t_s - start_s) / width_s
    out = (u >= 1.0) * 1.0
    inside = (u > 0.0) & (u < 1.0)
    if inside.any():
        out[inside] = raised_cosine(u[inside])
    return out


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


class StepGain:
    """A gain curve given at the centres of the 100 ms loudness steps, linear in between."""

    def __init__(self, gains: np.ndarray, step_frames: int) -> None:
        self.gains = np.asarray(gains, dtype=np.float64)
        self.step_frames = step_frames
        self._centres = (np.arange(len(self.gains)) + 0.5) * step_frames

    def at_frames(self, first: int, count: int) -> np.ndarray:
        """The gain at frames ``first … first + count - 1`` (held at the ends), float32."""
        if not len(self.gains):
            return np.ones(count, dtype=np.float32)
        frames = np.arange(first, first + count, dtype=np.float64)
        return np.interp(frames, self._centres, self.gains).astype(np.float32)

    def mean_square(self) -> np.ndarray:
        """Each step's mean squared gain, as the interpolated curve applies it."""
        if not len(self.gains):
            return self.gains
        k = np.arange(len(self.gains))[:, None] + (np.arange(10) + 0.5)[None, :] / 10
        g = np.interp(k * self.step_frames, self._centres, self.gains)
        return np.mean(g * g, axis=1)


class AmbienceStem:
    """The ambience as it sits in the mix: darkened by the sleep arc, ducked under the voice
    by ``envelope``, at ``gain_db``. A :class:`~soundscapes.source.Source` of its own, so it
    can render in another process (:mod:`soundscapes.background`)."""

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
        self._arc = arc
        self._gain_db = gain_db
        self._darkening = Darkening(arc, self.sample_rate_hz) if arc else None
        self._gain = 10.0 ** (gain_db / 20.0)
        self._frame = 0

    @property
    def second(self) -> Source | None:
        """The second part of the ambience when it is a sum (its other layer group), which
        may render in a process of its own (:class:`~soundscapes.background.BackgroundAnalysis`
        with ``split``); else ``None``."""
        return self.ambience.second if isinstance(self.ambience, SumSource) else None

    def with_second(self, second: Source) -> AmbienceStem:
        """This stem, unrendered, with ``second`` playing in place of :attr:`second`: the sum
        is made before the ducking and darkening, as here, so the bytes are the same."""
        if not isinstance(self.ambience, SumSource):
            raise TypeError("only an ambience that is a SumSource can be split")
        return AmbienceStem(
            self.ambience.with_second(second), self.envelope, gain_db=self._gain_db, arc=self._arc
        )

    def render(self, frames: int) -> np.ndarray:
        t_s = (self._frame + np.arange(frames)) / self.sample_rate_hz
        duck = (self.envelope.gain(t_s) * self._gain).astype(np.float32)
        self._frame += frames
        ambience = self.ambience.render(frames)
        if self._darkening is not None and frames:
            ambience = self._darkening.process(ambience, float(t_s[0]))
        return ambience * duck


class VoiceStem:
    """The voice as it sits in the mix: the narration, softened over the story by the arc."""

    channels = CHANNELS

    def __init__(self, voice: Source, *, arc: SleepArc | None = None) -> None:
        self.voice = voice
        self.arc = arc
        self.sample_rate_hz = voice.sample_rate_hz
        self._frame = 0

    def render(self, frames: int) -> np.ndarray:
        voice = self.voice.render(frames)
        if self.arc is not None and frames:
            # The arc moves the voice by 2 dB over the whole story: a straight line between
            # the block's ends is within a thousandth of a dB of the curve, at a tiny cost.
            t_s = (self._frame + np.array([0, frames - 1])) / self.sample_rate_hz
            ends = self.arc.voice_gain(t_s)
            voice = voice * np.linspace(ends[0], ends[1], frames, dtype=np.float32)
        self._frame += frames
        return voice


#: Frames per block in the render loop: 1.5 s, big enough to amortize per-block Python work;
#: a page of the scratch files, which are read back page by page.
BLOCK_FRAMES = PAGE_FRAMES
#: A 100 ms step counts as speech when at least this share of it is inside a sentence.
SPEECH_STEP_SHARE = 0.5
#: Windows for the voice's clearance over the ambience: 3 s (short-term loudness, EBU Tech
#: 3341), counted only when the voice speaks in at least half of it.
CLEARANCE_WINDOW_STEPS = 30
CLEARANCE_MIN_SPEECH_STEPS = 15


@dataclass(frozen=True, kw_only=True)
class StemAnalysis:
    """Loudness of the two stems per 100 ms step, and which steps are speech."""

    #: Channel-weighted K-weighted energy per step of the voice and the ambience stem.
    voice: np.ndarray
    ambience: np.ndarray
    #: Whether the voice speaks in each step.
    speech: np.ndarray
    step_frames: int
    sample_rate_hz: int
    voice_peak: float
    ambience_peak: float
    #: CPU seconds the ambience's process spent; wall seconds of the whole analysis.
    ambience_busy_s: float
    seconds: float
    #: When the ambience's process rendered, ``time.monotonic()`` readings.
    ambience_span: tuple[float, float] = (0.0, 0.0)


def analyse_stems(
    voice: Source,
    ambience: Source,
    *,
    frames: int,
    speech_spans_s: Sequence[tuple[float, float]],
    scratch: StemScratch,
    bandwidth_hz: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    split: bool | None = None,
) -> StemAnalysis:
    """Step one of the mix: meter both stems and keep their samples in ``scratch``.

    The ambience renders and is metered in a second process meanwhile; with ``split`` (by
    default when :func:`~soundscapes.background.split_pays`), half of its layers render in a
    third: the voice's pass here takes a fraction of a core, so the layers, the dearest work,
    get both (the same bytes either way). Both are metered
    through ``bandwidth_hz`` (the encoder's band), so the loudness planned is the loudness of
    the encoded file. The voice is the same on both channels: it is written and metered once
    (scratch files have no size limit and are read back page by page).

    Raises
    ------
    ExportError
        The scratch file cannot be written.
    SoundscapeError
        The ambience's process failed.
    """
    started = time.perf_counter()
    sr = voice.sample_rate_hz
    mask = SpeechMask(speech_spans_s)
    if split is None:
        split = split_pays(ambience, frames)
    background = BackgroundAnalysis(
        ambience, frames, bandwidth_hz=bandwidth_hz, scratch=scratch.ambience, split=split
    )
    with background:
        # Made once the ambience's processes have started: its band limit's design can be the
        # first use of scipy.signal, whose import (when deferred) then runs beside them.
        meter = LoudnessMeter(sr, 1, true_peak=False, bandwidth_hz=bandwidth_hz, keep_steps=True)
        step = meter.step_frames
        speech_frames = np.zeros(frames // step + 2)
        peak = 0.0
        with ScratchWriter(scratch.voice, 1, frames=frames) as kept:
            done = 0
            while done < frames:
                n = min(BLOCK_FRAMES, frames - done)
                mono = np.ascontiguousarray(voice.render(n)[0], dtype=np.float32)
                kept.write(mono[None, :])
                meter.add(mono[None, :])
                peak = max(peak, float(np.abs(mono).max(initial=0.0)))
                inside = mask.frames(done, n, sr)
                if inside.any():
                    at = (np.flatnonzero(inside) + done) // step
                    speech_frames += np.bincount(at, minlength=len(speech_frames))[
                        : len(speech_frames)
                    ]
                done += n
                if progress:
                    progress(done, frames)
        measured = background.result()
    voice_steps = 2.0 * meter.step_energies()  # both channels
    count = min(len(voice_steps), len(measured.step_energies))
    return StemAnalysis(
        voice=voice_steps[:count],
        ambience=measured.step_energies[:count],
        speech=speech_frames[:count] >= SPEECH_STEP_SHARE * step,
        step_frames=step,
        sample_rate_hz=sr,
        voice_peak=peak,
        ambience_peak=measured.sample_peak,
        ambience_busy_s=measured.busy_s,
        seconds=time.perf_counter() - started,
        ambience_span=(measured.started_at, measured.ended_at),
    )


@dataclass(frozen=True, kw_only=True)
class MixPlan:
    """What the mix will measure, before it is made."""

    #: The ambience's ride: 1 where it leaves the voice clear, less where it would not.
    ride: StepGain
    #: Integrated loudness of the (un-mastered) mix, from the stems' step energies.
    integrated_lufs: float
    #: Voice minus ambience loudness over everything the voice says.
    voice_over_ambience_lu: float
    #: The least of that over any 3 s in which the voice speaks at least half the time.
    voice_over_ambience_min_lu: float
    #: An upper bound of the mix's largest sample.
    sample_peak: float


def plan_mix(analysis: StemAnalysis, *, floor_lu: float = 17.0, smooth_s: float = 1.0) -> MixPlan:
    """Ride the ambience so the voice stays ``floor_lu`` over it in every 3 s it speaks.

    The ride only ever lowers the ambience. Each 3 s window's shortfall becomes an energy
    factor for all of its steps (so the window meets the floor), each step takes the smallest
    factor of the windows it is in, and the curve is smoothed by a minimum filter followed by
    a moving average of the same width (``smooth_s``): a moving average of a minimum-filtered
    curve never exceeds the curve, so smoothing cannot undo the floor.
    """
    voice, ambience, speech = analysis.voice, analysis.ambience, analysis.speech
    count = len(voice)
    factor = np.ones(count)
    window = CLEARANCE_WINDOW_STEPS
    if count >= window:
        v, a, judged = _speech_windows(voice, ambience, speech)
        need = np.ones(len(v))
        need[judged] = np.minimum(1.0, v[judged] / (a[judged] * 10.0 ** (floor_lu / 10.0)))
        # Step k lies in windows k - window + 1 … k: the least factor of those.
        padded = np.concatenate([np.ones(window - 1), need, np.ones(window - 1)])
        factor = sliding_window_view(padded, window).min(axis=1)[:count]
    smooth = max(1, round(smooth_s * analysis.sample_rate_hz / analysis.step_frames))
    level_db = 10.0 * np.log10(np.maximum(factor, 1e-6))
    level_db = uniform_filter1d(minimum_filter1d(level_db, smooth, mode="nearest"), smooth,
                                mode="nearest")  # fmt: skip
    # Interpolation between step centres must not lift a step above its own gain.
    level_db = minimum_filter1d(np.minimum(level_db, 0.0), 3, mode="nearest")
    ride = StepGain(10.0 ** (level_db / 20.0), analysis.step_frames)
    ridden = ambience * ride.mean_square()
    return MixPlan(
        ride=ride,
        integrated_lufs=integrated_lufs_of_steps(voice + ridden, analysis.step_frames),
        voice_over_ambience_lu=_clearance_lu(voice[speech].sum(), ridden[speech].sum()),
        voice_over_ambience_min_lu=_least_clearance_lu(voice, ridden, speech),
        sample_peak=analysis.voice_peak + analysis.ambience_peak,
    )


#: Reported clearance when the ambience is silent under the voice (a finite "very far").
MAX_CLEARANCE_LU = 99.0


def _clearance_lu(voice_energy: float, ambience_energy: float) -> float:
    if ambience_energy <= 0.0 or voice_energy <= 0.0:
        return MAX_CLEARANCE_LU if voice_energy > 0 else 0.0
    return min(10.0 * math.log10(voice_energy / ambience_energy), MAX_CLEARANCE_LU)


def _speech_windows(
    voice: np.ndarray, ambience: np.ndarray, speech: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every 3 s window: the voice's and the ambience's energy over its speech steps, and
    whether the voice speaks enough of it to be judged (and the ambience is not silent)."""
    window = CLEARANCE_WINDOW_STEPS
    v = sliding_window_view(np.where(speech, voice, 0.0), window).sum(axis=1)
    a = sliding_window_view(np.where(speech, ambience, 0.0), window).sum(axis=1)
    n = sliding_window_view(speech, window).sum(axis=1)
    return v, a, (n >= CLEARANCE_MIN_SPEECH_STEPS) & (a > 0)


def _least_clearance_lu(voice: np.ndarray, ambience: np.ndarray, speech: np.ndarray) -> float:
    if len(voice) < CLEARANCE_WINDOW_STEPS:
        return _clearance_lu(voice[speech].sum(), ambience[speech].sum())
    v, a, judged = _speech_windows(voice, ambience, speech)
    judged &= v > 0
    if not judged.any():
        return _clearance_lu(voice[speech].sum(), ambience[speech].sum())
    return min(float(np.min(10.0 * np.log10(v[judged] / a[judged]))), MAX_CLEARANCE_LU)


@dataclass(frozen=True)
class StemScratch:
    """Where :func:`analyse_stems` keeps the two stems (the caller creates and removes them)."""

    voice: Path
    ambience: Path


def mixed_blocks(
    scratch: StemScratch, frames: int, *, ride: StepGain | None = None, every: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Step two: ``(voice, ambience)`` float32 ``(2, n)`` blocks of the mix, the ambience
    ridden by ``ride``; their sum is the mix. With ``every``, only every that-many-th block
    (what a limiter preview reads), the others neither read nor mixed."""
    voices = read_scratch(scratch.voice, frames, 1, every=every)
    beds = read_scratch(scratch.ambience, frames, CHANNELS, every=every)
    for i, (mono, bed) in enumerate(zip(voices, beds, strict=True)):
        n = mono.shape[1]
        if ride is not None:
            bed = bed * ride.at_frames(i * every * BLOCK_FRAMES, n)
        yield np.concatenate([mono, mono]), bed
