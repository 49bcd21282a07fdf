"""Streaming loudness measurement: ITU-R BS.1770-4, EBU R 128, EBU Tech 3341 and 3342.

Pure numpy/scipy. Block by block, so measuring an eight-hour file costs no more memory than
a minute: the meter keeps the gating blocks' and short-term windows' energies in histograms of
0.01 LU bins (each bin holds the exact sum of its energies, so only which side of a gate the
few blocks within 0.01 LU of it fall can differ from a meter that keeps every block), the last
3 s of step and per-sample energies (for the short-term loudness at any instant), and filter
states. It never keeps audio. On request (``keep_steps``) it also keeps one energy per 100 ms
step, a float64 each, for working out the loudness of a sum of stems.

The figures follow libebur128 (what ffmpeg, pyebur128 and most tools use) wherever
BS.1770-4 leaves a choice: the 100 ms step is ``round(sample_rate / 10)`` frames, the
400 ms gating blocks and the 3 s short-term window are 4 and 30 such steps, percentiles are
nearest-rank, and the true-peak interpolator is the same 49-tap Hann-windowed sinc. One
deliberate difference: the loudness range takes a short-term value every 100 ms, as EBU
Tech 3342 (2016) asks (consecutive windows overlap by at least 2.9 s), where libebur128 takes
one a second.

Speed comes from two places. The K-weighting IIR runs as block state-space matrix products
(:class:`KWeighting`), about three times faster than ``scipy.signal.sosfilt`` sample by
sample. The true-peak interpolator runs only where it could raise the peak found so far
(:class:`_TruePeak`), which on real programme is a small fraction of the samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from soundscapes.output.meter.gating import (
    _channel_weights,
    _finite,
    _StepEnergies,
    integrated_lufs_of_steps,
    window_sums,
)
from soundscapes.output.meter.kweighting import KWeighting, k_weighting_sos
from soundscapes.output.meter.truepeak import _TruePeak
from soundscapes.output.meter.units import (
    _RELATIVE_GATE_LU,
    _SHORT_TERM_STEPS,
    SILENCE_LUFS,
    _energy_to_lufs,
    _step_frames,
)

# --- the meter ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Loudness:
    """Measured figures of one signal."""

    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float


class LoudnessMeter:
    """Feed ``(channels, frames)`` blocks with :meth:`add`; read figures at any time.

    Parameters
    ----------
    sample_rate_hz : int
    channels : int
    true_peak : bool
        Also track the 4×-oversampled true peak (costs time; off for stem meters).
    bandwidth_hz : float, optional
        Measure through an 8th-order low-pass at this frequency: the loudness the signal will
        have after a lossy encoder that cuts above it. The true peak is of the raw signal.
    keep_steps : bool
        Also keep every 100 ms step's energy, for :meth:`step_energies` (a float per step).
    """

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int = 2,
        *,
        true_peak: bool = True,
        bandwidth_hz: float | None = None,
        keep_steps: bool = False,
    ) -> None:
        self.channels = channels
        self.sample_rate_hz = sample_rate_hz
        #: ``(time_s, short-term LUFS)`` after each block, when ``record_series`` is set.
        self.series: list[tuple[float, float]] = []
        self.record_series = False
        self._k_weighting = KWeighting(sample_rate_hz, channels, bandwidth_hz)
        self._true_peak = _TruePeak(sample_rate_hz, channels) if true_peak else None
        self._weights = _channel_weights(channels).astype(np.float32)
        self._unit_weights = bool(np.all(self._weights == 1.0))
        self._energies = _StepEnergies(_step_frames(sample_rate_hz), keep_steps=keep_steps)

    @property
    def frames(self) -> int:
        """Frames added so far."""
        return self._energies.frames

    @property
    def step_frames(self) -> int:
        """Frames in one 100 ms step."""
        return self._energies.step

    def step_energies(self) -> np.ndarray:
        """Channel-weighted sums of squared K-weighted samples of every complete 100 ms step
        so far (float64, one per step): enough to compute the loudness of this signal, or of
        a sum of it and other independent signals, without the audio.

        Raises
        ------
        ValueError
            The meter was made without ``keep_steps``.
        """
        if not self._energies.keep_steps:
            raise ValueError("this meter was made with keep_steps=False")
        return self._energies.sums[: self._energies.count].copy()

    def add(self, block: np.ndarray) -> None:
        """Add a float ``(channels, frames)`` block."""
        x = np.asarray(block, dtype=np.float32)
        if x.shape[1] == 0:
            return
        if self._true_peak is not None:
            self._true_peak.add(x)
        for piece in self._pieces(x.shape[1]):
            y = self._k_weighting.process(x[:, piece])
            self._add_squares(np.square(y, out=y))  # y is the filter's fresh output: reuse it
            self._after_block()

    def _pieces(self, frames: int) -> Iterator[slice]:
        """The block cut where the series takes its readings: every half second of the
        signal whatever the blocks' size (a reading per block of 1.49 s, binned by the
        second, repeated every third value in the report)."""
        if not self.record_series:
            yield slice(0, frames)
            return
        every = self.sample_rate_hz // 2
        done = self.frames  # before the first piece is added
        start = 0
        while start < frames:
            end = min(frames, start + every - (done + start) % every)
            yield slice(start, end)
            start = end

    def add_kweighted(self, block: np.ndarray) -> None:
        """Add a ``(channels, frames)`` block already filtered by a :class:`KWeighting`.

        For metering a sum of stems that were K-weighted one by one (K-weighting is linear,
        so the sum of filtered stems is the filtered sum). The filter (and its band limit)
        is the caller's; this meter's own is not applied and its state does not advance, so
        use either :meth:`add` or this on one meter, not both. The true peak is not tracked
        here: it needs the raw signal.
        """
        y = np.asarray(block, dtype=np.float32)
        if y.shape[1] == 0:
            return
        for piece in self._pieces(y.shape[1]):
            self._add_squares(np.square(y[:, piece]))
            self._after_block()

    def _add_squares(self, squares: np.ndarray) -> None:
        """Add squared K-weighted samples ``(channels, frames)``, weighted per channel."""
        if self._unit_weights:
            self._energies.add(squares.sum(axis=0))
        else:
            self._energies.add(self._weights @ squares)

    def _after_block(self) -> None:
        if self.record_series:
            self.series.append((self.frames / self.sample_rate_hz, self.shortterm_lufs))

    @property
    def integrated_lufs(self) -> float:
        """Gated loudness of everything added (BS.1770-4 annex 1)."""
        return _finite(self._energies.blocks.gated_lufs(_RELATIVE_GATE_LU))

    @property
    def shortterm_lufs(self) -> float:
        """Loudness of the last 3 s."""
        window = _SHORT_TERM_STEPS * self._energies.step
        return _finite(_energy_to_lufs(self._energies.last_3_s() / window))

    @property
    def loudness_range_lu(self) -> float:
        """EBU Tech 3342 loudness range of short-term values every 100 ms."""
        return self._energies.short_terms.range_lu()

    @property
    def true_peak_dbtp(self) -> float:
        if self._true_peak is None:
            raise ValueError("this meter was made with true_peak=False")
        peak = self._true_peak.peak
        return 20.0 * math.log10(peak) if peak > 0 else -math.inf

    def result(self) -> Loudness:
        return Loudness(
            integrated_lufs=self.integrated_lufs,
            loudness_range_lu=self.loudness_range_lu,
            true_peak_dbtp=self.true_peak_dbtp if self._true_peak is not None else math.nan,
        )


def measure(audio: np.ndarray, sample_rate_hz: int, *, true_peak: bool = True) -> Loudness:
    """Measure a whole ``(channels, frames)`` array (for short signals and tests)."""
    meter = LoudnessMeter(sample_rate_hz, audio.shape[0], true_peak=true_peak)
    meter.add(audio)
    return meter.result()


__all__ = [
    "SILENCE_LUFS",
    "KWeighting",
    "Loudness",
    "LoudnessMeter",
    "integrated_lufs_of_steps",
    "k_weighting_sos",
    "measure",
    "window_sums",
]
