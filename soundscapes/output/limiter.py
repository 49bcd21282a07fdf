"""A look-ahead true-peak limiter, vectorised, that costs nothing where it has nothing to do.

The gain is computed from the whole signal at once rather than sample by sample:

1. a detector gives each sample's true peak: the larger of the sample and three points
   interpolated between it and the next (4× oversampling, as BS.1770-4 Annex 2 measures);
2. the gain each sample requires is ``r = min(1, ceiling / peak)``;
3. ``m[k] = min(r[k - hold .. k + ramp])`` (a running minimum: holds the reduction);
4. ``g = box(ramp_a) * box(ramp_b) * m``, two causal moving averages whose lengths add up to
   ``ramp``: a smooth S-shaped ramp down before each peak and up after it.

Every ``k`` that step 4 averages for sample ``n`` lies in ``[n - ramp, n]``, and each of those
windows in step 3 contains ``n``, so ``g[n] <= r[n]``: no detected peak passes the ceiling, by
construction. The output is ``ramp`` frames late (the look-ahead); :meth:`flush` returns the
rest. Blocks whose samples cannot reach the ceiling — the detector's output is bounded by the
sample peak times the interpolator's largest absolute tap sum — pass through untouched.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Interpolation points between two samples (4× oversampling, BS.1770-4 Annex 2).
_FRACTIONS = (0.25, 0.5, 0.75)
#: Taps on each side of an interpolated point: a 12-tap Hann-windowed sinc per fraction, the
#: size of libebur128's 49-tap, factor-4 interpolator.
_HALF_TAPS = 6


def _interpolators() -> np.ndarray:
    """``(3, 12)`` coefficients: ``y(n + f) = sum_i c_f[i] * x[n - 5 + i]``."""
    offsets = np.arange(-_HALF_TAPS + 1, _HALF_TAPS + 1)  # k - n for k = n-5 .. n+6
    rows = []
    for f in _FRACTIONS:
        t = f - offsets
        window = 0.5 + 0.5 * np.cos(np.pi * t / (_HALF_TAPS + 0.25))
        rows.append(np.sinc(t) * window)
    return np.asarray(rows, dtype=np.float32)


_COEFS = _interpolators()
#: |y(n + f)| <= max|x| over its 12 taps × sum|c_f|: the detector's output never exceeds the
#: block's sample peak times this.
PEAK_BOUND = float(max(1.0, np.abs(_COEFS).sum(axis=1).max()))


def true_peak_envelope(x: np.ndarray, *, above: float = 0.0) -> np.ndarray:
    """Per-frame true peak of ``(channels, frames)``: max over channels of the sample and the
    three points interpolated after it (the last taps see zeros past the end of ``x``).

    Points that cannot exceed ``above`` (their taps' sample peak times :data:`PEAK_BOUND` is
    under it) are not interpolated: there the sample peak is returned.
    """
    channels, frames = x.shape
    taps = 2 * _HALF_TAPS
    pad = np.zeros((channels, frames + taps), dtype=np.float32)
    pad[:, _HALF_TAPS - 1 : _HALF_TAPS - 1 + frames] = x
    peak = np.abs(x).max(axis=0)
    # Largest sample under each point's 12 taps (pad[n .. n+11] holds x[n-5 .. n+6]).
    reach = ndimage.maximum_filter1d(np.abs(pad).max(axis=0), size=taps, origin=-_HALF_TAPS)
    candidates = np.flatnonzero(reach[:frames] * PEAK_BOUND > above)
    if candidates.size > frames // 8:
        for coefs in _COEFS:  # shifted multiply-adds: faster than np.correlate or a matmul
            acc = coefs[0] * pad[:, :frames]
            for i in range(1, taps):
                acc += coefs[i] * pad[:, i : i + frames]
            np.maximum(peak, np.abs(acc).max(axis=0), out=peak)
    elif candidates.size:
        windows = np.ascontiguousarray(pad[:, candidates[:, None] + np.arange(taps)])
        found = np.abs(windows @ _COEFS.T).max(axis=2).max(axis=0)
        peak[candidates] = np.maximum(peak[candidates], found)
    return peak


class TruePeakLimiter:
    """Feed ``(channels, n)`` blocks to :meth:`process`; it returns limited audio
    :attr:`latency_frames` behind. :meth:`flush` returns what is still inside.

    Parameters
    ----------
    ceiling_dbtp : float
        No true peak of the output exceeds this (as this detector measures it).
    ramp_s : float
        Look-ahead: the gain starts falling this long before a peak and rises over as long
        after it. 20 ms: slower than a 50 Hz cycle, so the gain does not shape waveforms.
    hold_s : float
        How long the reduction holds after a peak before rising, so that peaks close together
        share one dip instead of a flutter.
    """

    def __init__(
        self,
        ceiling_dbtp: float,
        sample_rate_hz: int,
        channels: int = 2,
        *,
        ramp_s: float = 0.02,
        hold_s: float = 0.02,
    ) -> None:
        self.ceiling = np.float32(10.0 ** (ceiling_dbtp / 20.0))
        self._ramp_a = max(1, round(ramp_s * sample_rate_hz * 0.25))
        self._ramp_b = max(1, round(ramp_s * sample_rate_hz) - self._ramp_a)
        self.latency_frames = self._ramp_a + self._ramp_b
        self._hold = max(0, round(hold_s * sample_rate_hz))
        # Past input each computation needs: the two averages, the running minimum's hold and
        # the interpolator's taps.
        self._context = self.latency_frames + self._hold + 2 * _HALF_TAPS
        self._buf = np.zeros((channels, 0), dtype=np.float32)
        #: Frames of ``_buf`` already output (kept only as context).
        self._done = 0
        self._fed = 0
        self._emitted = 0
        #: Frames whose gain was reduced, for reports and tests.
        self.limited_frames = 0
        #: Energy taken out of what was output (``x^2 - y^2`` summed over frames and
        #: channels), for judging whether the limiter changes the loudness at all.
        self.removed_energy = 0.0

    def process(self, block: np.ndarray) -> np.ndarray:
        block = np.asarray(block, dtype=np.float32)
        self._fed += block.shape[1]
        self._buf = np.concatenate([self._buf, block], axis=1)
        # Frames that can be output: their look-ahead and the interpolator's taps are in.
        ready = self._buf.shape[1] - self.latency_frames - _HALF_TAPS
        return self._emit(ready)

    def flush(self) -> np.ndarray:
        """Everything still held back (silence follows the last block)."""
        pad = self.latency_frames + _HALF_TAPS
        self._buf = np.concatenate(
            [self._buf, np.zeros((self._buf.shape[0], pad), np.float32)], axis=1
        )
        out = self._emit(self._buf.shape[1] - pad)
        return out

    def _emit(self, ready: int) -> np.ndarray:
        start = self._done
        if ready <= start:
            return np.zeros((self._buf.shape[0], 0), dtype=np.float32)
        x = self._buf
        if float(np.abs(x).max()) * PEAK_BOUND <= self.ceiling:
            out = x[:, start:ready].copy()  # nothing here can reach the ceiling
        else:
            gain = self._gain(x)[start:ready]
            out = x[:, start:ready] * gain
            cut = np.flatnonzero(gain < 1.0)
            if cut.size:
                lowered = x[:, start + cut].astype(np.float64)
                self.removed_energy += float(np.sum(lowered**2 * (1.0 - gain[cut] ** 2.0)))
        self._advance(ready)
        self._emitted += out.shape[1]
        return out

    def _gain(self, x: np.ndarray) -> np.ndarray:
        """The gain curve over ``x`` (valid where its context and look-ahead are in ``x``)."""
        peak = true_peak_envelope(x, above=float(self.ceiling))
        required = np.minimum(1.0, self.ceiling / np.maximum(peak, 1e-9)).astype(np.float32)
        if required.min() >= 1.0:
            return required
        held = _running_min(required, past=self._hold, future=self.latency_frames)
        gain = _causal_mean(_causal_mean(held, self._ramp_a), self._ramp_b)
        self.limited_frames += int(np.count_nonzero(gain < 1.0))
        return gain

    def _advance(self, ready: int) -> None:
        keep_from = max(0, ready - self._context)
        self._buf = self._buf[:, keep_from:]
        self._done = ready - keep_from


def _running_min(x: np.ndarray, *, past: int, future: int) -> np.ndarray:
    """``out[k] = min(x[k - past .. k + future])`` (window clipped at the ends)."""
    size = past + future + 1
    # ndimage's window for output i is [i - size//2 - origin, …]: a positive origin shifts it
    # back in time, here to span ``past`` frames back and ``future`` ahead.
    origin = past - size // 2
    return ndimage.minimum_filter1d(x, size=size, origin=origin, mode="nearest")


def _causal_mean(x: np.ndarray, length: int) -> np.ndarray:
    """``out[n] = mean(x[n - length + 1 .. n])``, the first samples averaged with x[0]."""
    origin = (length - 1) - length // 2
    return ndimage.uniform_filter1d(x, size=length, origin=origin, mode="nearest")
