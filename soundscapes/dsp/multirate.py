"""Raising low-rate signals to the audio rate, with carried state."""

from __future__ import annotations

import numpy as np

from soundscapes.dsp.chunked import CHANNELS

# --- multirate --------------------------------------------------------------------------------


class Upsampler:
    """Raise low-rate signals by an integer ``factor``, carrying state between calls.

    With ``smooth`` (for audio) it interpolates with the uniform quadratic B-spline (linear
    interpolation smoothed by a ``factor``-long boxcar): images at multiples of the low rate are
    attenuated by about ``sinc(f / low_rate) ** 3``, better than -46 dB for content below 15 %
    of the low rate, so keep low-rate audio under ``0.15 * low_rate``. Without ``smooth`` (for
    envelopes and pan gains) it interpolates linearly. Either delays the signal by one or two
    low-rate samples, which no layer cares about.
    """

    def __init__(
        self,
        factor: int,
        channels: int = CHANNELS,
        *,
        smooth: bool = True,
        dtype: type[np.floating] = np.float64,
    ) -> None:
        self.factor = factor
        self._dtype = dtype
        self._history = np.zeros((channels, 2), dtype=dtype)
        u = np.arange(factor) / factor
        if smooth:
            # Uniform quadratic B-spline basis at the fractional positions u of each step.
            weights = [0.5 * (1.0 - u) ** 2, 0.5 + u - u**2, 0.5 * u**2]
        else:
            weights = [np.zeros(factor), 1.0 - u, u]
        self._weights = np.stack(weights).astype(dtype)  # (3, factor)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``x``: ``(channels, m)`` at the low rate -> ``(channels, m * factor)``."""
        channels, m = x.shape
        if self.factor == 1:
            return np.asarray(x, dtype=self._dtype)
        ext = np.concatenate([self._history, x.astype(self._dtype, copy=False)], axis=1)
        self._history = ext[:, -2:]
        # Each output step is a 3-tap combination of neighbouring low-rate samples: one small
        # matrix product per channel writes the (m, factor) output in order (several times
        # faster than a strided multiply-add per phase, even for a factor of 2 or 4).
        taps = np.stack([ext[:, :m], ext[:, 1 : m + 1], ext[:, 2:]], axis=-1)
        return (taps @ self._weights).reshape(channels, m * self.factor)

    @property
    def at_rest(self) -> bool:
        """Whether the interpolator holds only zeros: zero input then gives zero output."""
        return not np.any(self._history)

    def hold(self, x: np.ndarray) -> None:
        """Take in ``x`` as :meth:`__call__` would, without computing the output.

        For a signal that is silent for now: the interpolator stays ready for when it sounds.
        """
        if x.shape[1] >= 2:
            self._history = x[:, -2:].astype(self._dtype)
        else:
            ext = np.concatenate([self._history, x.astype(self._dtype, copy=False)], axis=1)
            self._history = ext[:, -2:].copy()
