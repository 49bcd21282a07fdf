"""Streaming loudness measurement (ITU-R BS.1770-4 / EBU R128) through libebur128.

Block by block, so measuring an eight-hour file costs no more memory than a minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyebur128 as ebu
from scipy import signal

_M = ebu.MeasurementMode

#: Loudness reported for silence (libebur128 gives -inf below the absolute gate, -70 LUFS).
SILENCE_LUFS = -70.0


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
        have after a lossy encoder that cuts above it.
    """

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int = 2,
        *,
        true_peak: bool = True,
        bandwidth_hz: float | None = None,
    ) -> None:
        mode = _M.MODE_I | _M.MODE_LRA | _M.MODE_S
        if true_peak:
            mode |= _M.MODE_TRUE_PEAK
        self._state = ebu.R128State(channels, sample_rate_hz, mode)
        self._true_peak = true_peak
        self.channels = channels
        self.sample_rate_hz = sample_rate_hz
        self.frames = 0
        #: ``(time_s, short-term LUFS)`` after each block, when ``record_series`` is set.
        self.series: list[tuple[float, float]] = []
        self.record_series = False
        self._sos = None
        if bandwidth_hz is not None and bandwidth_hz < sample_rate_hz / 2:
            self._sos = signal.butter(8, bandwidth_hz, fs=sample_rate_hz, output="sos")
            self._zi = np.zeros((self._sos.shape[0], channels, 2))

    def add(self, block: np.ndarray) -> None:
        """Add a float ``(channels, frames)`` block."""
        frames = block.shape[1]
        if frames == 0:
            return
        if self._sos is not None:
            block, self._zi = signal.sosfilt(self._sos, block, axis=1, zi=self._zi)
        # libebur128 wants one interleaved 1-D array (2-D raises "No matching signature").
        interleaved = np.ascontiguousarray(block.T, dtype=np.float64).reshape(-1)
        self._state.add_frames(interleaved, frames)
        self.frames += frames
        if self.record_series:
            self.series.append((self.frames / self.sample_rate_hz, self.shortterm_lufs))

    @property
    def integrated_lufs(self) -> float:
        return _finite(ebu.get_loudness_global(self._state))

    @property
    def shortterm_lufs(self) -> float:
        """Loudness of the last 3 s."""
        return _finite(ebu.get_loudness_shortterm(self._state))

    @property
    def loudness_range_lu(self) -> float:
        value = ebu.get_loudness_range(self._state)
        return float(value) if math.isfinite(value) else 0.0

    @property
    def true_peak_dbtp(self) -> float:
        if not self._true_peak:
            raise ValueError("this meter was made with true_peak=False")
        peak = max(ebu.get_true_peak(self._state, c) for c in range(self.channels))
        return 20.0 * math.log10(peak) if peak > 0 else -math.inf

    def result(self) -> Loudness:
        return Loudness(
            integrated_lufs=self.integrated_lufs,
            loudness_range_lu=self.loudness_range_lu,
            true_peak_dbtp=self.true_peak_dbtp if self._true_peak else math.nan,
        )


def _finite(lufs: float) -> float:
    return float(lufs) if math.isfinite(lufs) and lufs > SILENCE_LUFS else SILENCE_LUFS


def measure(audio: np.ndarray, sample_rate_hz: int, *, true_peak: bool = True) -> Loudness:
    """Measure a whole ``(channels, frames)`` array (for short signals and tests)."""
    meter = LoudnessMeter(sample_rate_hz, audio.shape[0], true_peak=true_peak)
    meter.add(audio)
    return meter.result()
