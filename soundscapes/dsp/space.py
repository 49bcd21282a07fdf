"""Space: panning, width, distance, levels and short reverberation."""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy import signal

from soundscapes.dsp.chunked import CHANNELS
from soundscapes.dsp.filters import lowpass

# --- space ------------------------------------------------------------------------------------


def pan_gains(position: np.ndarray | float) -> np.ndarray:
    """Equal-power pan gains for positions in [-1 (left), 1 (right)]: shape ``(2, ...)``."""
    angle = (np.asarray(position, dtype=np.float64) + 1.0) * (math.pi / 4.0)
    return np.stack([np.cos(angle), np.sin(angle)])


def set_width(stereo: np.ndarray, width: float) -> np.ndarray:
    """Scale the side signal of ``(2, n)`` audio: 0 = mono, 1 = unchanged."""
    if width == 1.0:
        return stereo
    keep = 0.5 * (1.0 + width)
    cross = 0.5 * (1.0 - width)
    out = np.empty_like(stereo)
    np.multiply(stereo[0], keep, out=out[0])
    out[0] += cross * stereo[1]
    np.multiply(stereo[1], keep, out=out[1])
    out[1] += cross * stereo[0]
    return out


def geometric(near: float, far: float, amount: float) -> float:
    """Interpolate between ``near`` and ``far`` on a log scale (``amount`` 0 -> near, 1 -> far)."""
    return float(near * (far / near) ** amount)


def db_to_gain(level_db: float) -> float:
    """Amplitude ratio for a level in dB."""
    return float(10.0 ** (level_db / 20.0))


class Convolver:
    """Full linear convolution with a fixed impulse response (a reverb tail), by FFT.

    The response's spectrum is computed once per FFT size and kept; sizes are rounded up to
    a multiple of 8192 frames, so events of varying length share a few of them. float32
    throughout: a tail's rounding noise sits near -140 dB.
    """

    _SIZE_STEP = 8192

    def __init__(self, ir: np.ndarray) -> None:
        self._ir = np.atleast_2d(ir).astype(np.float32)
        self._spectra: dict[int, np.ndarray] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``x`` ``(channels or 1, n)`` -> float32 ``(channels, n + taps - 1)``."""
        length = x.shape[-1] + self._ir.shape[-1] - 1
        size = scipy.fft.next_fast_len(-(-length // self._SIZE_STEP) * self._SIZE_STEP, real=True)
        if size not in self._spectra:
            self._spectra[size] = scipy.fft.rfft(self._ir, size, axis=-1)
        spectrum = scipy.fft.rfft(np.asarray(x, dtype=np.float32), size, axis=-1)
        return scipy.fft.irfft(spectrum * self._spectra[size], size, axis=-1)[:, :length]


def decaying_noise_ir(
    rng: np.random.Generator,
    sample_rate_hz: float,
    t60_s: float,
    cutoff_hz: float,
    channels: int = CHANNELS,
    sparse: float = 0.0,
) -> np.ndarray:
    """A dark diffuse-tail impulse response: low-passed noise under an exponential decay.

    ``sparse`` in [0, 1) keeps only the largest samples (Farnell, Pd forum: convolve distant
    thunder with "very sparse spiky noise to mimic trees and buildings" rather than a smooth
    reverb). Normalised to unit energy per channel.

    Returns
    -------
    numpy.ndarray
        float64 ``(channels, round(t60_s * sample_rate_hz))``.
    """
    n = max(1, round(t60_s * sample_rate_hz))
    noise = rng.standard_normal((channels, n))
    if sparse > 0.0:
        threshold = np.quantile(np.abs(noise), sparse)
        noise = np.where(np.abs(noise) >= threshold, noise, 0.0)
    noise = signal.sosfilt(lowpass(cutoff_hz, sample_rate_hz, 2), noise, axis=-1)
    decay = np.exp(-6.9078 * np.arange(n) / n)  # -60 dB at the end: ln(1000) = 6.9078
    ir = noise * decay
    ir /= np.sqrt(np.sum(ir**2, axis=-1, keepdims=True)) + 1e-12
    return ir
