"""Filters that carry their state between chunks, and their designs."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from soundscapes.dsp.chunked import CHANNELS

# --- filters ----------------------------------------------------------------------------------


class Filter:
    """An IIR filter that carries its state between calls.

    Filters along the last axis of arrays shaped ``lead_shape + (frames,)``. The cascade runs
    as transfer functions of up to two second-order sections each through
    :func:`scipy.signal.lfilter` (about half the per-sample cost of ``sosfilt``, and a
    tenth of its fixed cost per call), provided each one's impulse response matches its
    sections'; a pair that does not runs through :func:`scipy.signal.sosfilt`.

    With ``dtype=np.float32`` the output is float32, and every transfer function that stays
    accurate in float32 (see :func:`_accurate_in_float32`) also runs in float32, which saves
    a fifth of an audio-rate filter's cost: no conversions in or out.
    """

    def __init__(
        self,
        sos: np.ndarray,
        lead_shape: tuple[int, ...] = (CHANNELS,),
        dtype: type[np.floating] = np.float64,
    ) -> None:
        sos = np.atleast_2d(np.asarray(sos, dtype=np.float64))
        self._lead_ndim = len(lead_shape)
        self._dtype = dtype
        self._stages: list[tuple[np.ndarray, np.ndarray] | np.ndarray] = []
        self._zi: list[np.ndarray] = []
        for first in range(0, sos.shape[0], 2):
            pair = sos[first : first + 2]
            ba = _as_transfer_function(pair)
            if ba is None:
                self._stages.append(pair)
                self._zi.append(np.zeros((pair.shape[0], *lead_shape, 2)))
                continue
            if dtype == np.float32 and _accurate_in_float32(*ba):
                ba = (ba[0].astype(np.float32), ba[1].astype(np.float32))
            self._stages.append(ba)
            self._zi.append(np.zeros((*lead_shape, len(ba[1]) - 1), dtype=ba[1].dtype))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` (shape ``lead_shape + (frames,)``); the result has the same shape."""
        y, self._zi = self._run(x, self._zi)
        return y

    def warm_up(self, x: np.ndarray) -> None:
        """Run ``x`` through the filter and discard the output (to skip start-up transients)."""
        self(x)

    def reset(self) -> None:
        """Back to rest, as if no signal had passed yet."""
        for state in self._zi:
            state[...] = 0.0

    def from_rest(self, x: np.ndarray) -> np.ndarray:
        """Filter a one-off signal (any lead shape) from silence; the running state is kept."""
        rest = [
            np.zeros(z.shape[: z.ndim - self._lead_ndim - 1] + x.shape[:-1] + z.shape[-1:], z.dtype)
            for z in self._zi
        ]
        return self._run(x, rest)[0]

    def _run(self, x: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list]:
        y = x
        out_states = []
        for stage, zi in zip(self._stages, states, strict=True):
            if isinstance(stage, tuple):
                y, zi = signal.lfilter(*stage, y, axis=-1, zi=zi)
            else:
                y, zi = signal.sosfilt(stage, y, axis=-1, zi=zi)
            out_states.append(zi)
        return y.astype(self._dtype, copy=False), out_states


def _accurate_in_float32(b: np.ndarray, a: np.ndarray) -> bool:
    """Whether ``lfilter(b, a)`` in float32 stays within -80 dB of float64 on white noise.

    That is 0.001 dB of spectral shape: inaudible, where a pole near the unit circle in a
    direct form (a 40 Hz corner, a 450 Hz resonance at 44.1 kHz) strays by far more.
    """
    noise = np.random.default_rng(0).standard_normal(8192)
    reference = signal.lfilter(b, a, noise)
    single = signal.lfilter(b.astype(np.float32), a.astype(np.float32), noise.astype(np.float32))
    error = np.sqrt(np.mean((single - reference) ** 2))
    return bool(error <= 1e-4 * np.sqrt(np.mean(reference**2)))


def _as_transfer_function(sos: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(b, a)`` for short cascades whose direct form is numerically safe, else ``None``."""
    if sos.shape[0] > 2:
        return None
    b, a = signal.sos2tf(sos)
    while len(a) > 1 and a[-1] == 0.0 and b[-1] == 0.0:
        b, a = b[:-1], a[:-1]
    if sos.shape[0] == 1:
        return b, a
    impulse = np.zeros(4096)
    impulse[0] = 1.0
    reference = signal.sosfilt(sos, impulse)
    error = np.max(np.abs(signal.lfilter(b, a, impulse) - reference))
    if error > 1e-9 * max(1.0, float(np.max(np.abs(reference)))):
        return None
    return b, a


def _nyquist_safe(freq_hz: float, sample_rate_hz: float) -> float:
    return min(float(freq_hz), 0.45 * sample_rate_hz)


def _butter(
    order: int, edges_hz: float | list[float], kind: str, sample_rate_hz: float
) -> np.ndarray:
    """Butterworth ``kind`` filter (``"lowpass"``, ...) as second-order sections."""
    return signal.butter(order, edges_hz, kind, fs=sample_rate_hz, output="sos")


def lowpass(cutoff_hz: float, sample_rate_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass as second-order sections."""
    return _butter(order, _nyquist_safe(cutoff_hz, sample_rate_hz), "lowpass", sample_rate_hz)


def highpass(cutoff_hz: float, sample_rate_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth high-pass as second-order sections."""
    return _butter(order, _nyquist_safe(cutoff_hz, sample_rate_hz), "highpass", sample_rate_hz)


def bandpass(low_hz: float, high_hz: float, sample_rate_hz: float, order: int = 1) -> np.ndarray:
    """Butterworth band-pass (``2 * order`` poles) as second-order sections."""
    high = _nyquist_safe(high_hz, sample_rate_hz)
    low = min(float(low_hz), 0.9 * high)
    return _butter(order, [low, high], "bandpass", sample_rate_hz)


def resonator(center_hz: float, q: float, sample_rate_hz: float) -> np.ndarray:
    """Two-pole band-pass with 0 dB peak gain (RBJ cookbook "BPF, constant 0 dB peak").

    ``q`` is centre / bandwidth (SuperCollider's ``rq`` is ``1 / q``).
    """
    w0 = 2.0 * math.pi * _nyquist_safe(center_hz, sample_rate_hz) / sample_rate_hz
    alpha = math.sin(w0) / (2.0 * q)
    a0 = 1.0 + alpha
    return np.array(
        [[alpha / a0, 0.0, -alpha / a0, 1.0, -2.0 * math.cos(w0) / a0, (1.0 - alpha) / a0]]
    )


def parallel(sections: list[np.ndarray], gains: list[float]) -> np.ndarray:
    """Sum of single-section filters as one filter (sections), e.g. two formant resonators.

    ``H = g1 b1/a1 + g2 b2/a2 = (g1 b1 a2 + g2 b2 a1) / (a1 a2)``: one ``lfilter`` pass
    instead of one per branch.
    """
    num = np.zeros(1)
    den = np.ones(1)
    for sos, gain in zip(sections, gains, strict=True):
        b, a = signal.sos2tf(np.atleast_2d(sos))
        num = np.polyadd(np.polymul(num, a), gain * np.polymul(b, den))
        den = np.polymul(den, a)
    return signal.tf2sos(num, den)


def one_pole_lowpass(cutoff_hz: float, sample_rate_hz: float) -> np.ndarray:
    """First-order low-pass ``y = (1-p) x + p y[-1]`` (a leaky integrator) as one section."""
    p = math.exp(-2.0 * math.pi * cutoff_hz / sample_rate_hz)
    return np.array([[1.0 - p, 0.0, 0.0, 1.0, -p, 0.0]])


def unit_noise_gain(sos: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Scale ``sos`` so unit-variance white noise comes out with unit variance.

    Uses the energy of the impulse response (output variance = input variance * sum h^2), over
    as many samples as the slowest pole needs to decay by 120 dB.
    """
    sos = np.array(sos, dtype=np.float64)
    _, poles, _ = signal.sos2zpk(sos)
    radius = float(np.max(np.abs(poles))) if len(poles) else 0.0
    length = 1024 if radius < 1e-9 else int(min(-13.8 / math.log(radius), 4 * sample_rate_hz))
    impulse = np.zeros(max(length, 1024))
    impulse[0] = 1.0
    energy = float(np.sum(signal.sosfilt(sos, impulse) ** 2))
    sos[0, :3] /= math.sqrt(energy)
    return sos


def low_rate_factor(sample_rate_hz: int, highest_content_hz: float, limit: int = 32) -> int:
    """Largest power-of-two decimation (<= ``limit``) that keeps content below 15 % of the rate.

    That is where :class:`Upsampler`'s images fall below about -46 dB.
    """
    factor = 1
    while factor * 2 <= limit and sample_rate_hz / (factor * 2) * 0.15 >= highest_content_hz:
        factor *= 2
    return factor
