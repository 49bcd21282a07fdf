"""Shared DSP primitives for the procedural layers.

Everything here is stateful where it has to be, so a layer built from these parts renders the
same samples whatever block sizes it is asked for:

- :class:`ChunkedSource` renders fixed-size internal chunks and serves any request size from
  them, so a layer only implements :meth:`ChunkedSource._render_chunk`.
- :class:`Filter` carries ``zi`` between chunks; :class:`Upsampler` carries its interpolation
  state; :class:`SmoothRandom`, :class:`JitteredGrid` and :class:`PoissonClock` draw their random
  numbers lazily in time order; :class:`OverlapAdd` keeps the tails of events that straddle chunk
  boundaries; :class:`NoiseBed` is the common "filtered stereo noise with a gain" bed.
- :func:`white_noise` draws its stream in fixed 64-frame blocks and :class:`SineBank` computes
  oscillators from absolute frame numbers, so even the internal chunk size does not change a
  layer's samples.

Speed (a goal of 300x real time per layer on one core) shapes the choices: low-frequency parts
run at a decimated rate and are raised by :class:`Upsampler`; envelopes live on a control grid
(one value per :data:`CONTROL_FACTOR` frames); sums of sines are matrix products, not a ``sin``
per sample; events are rendered whole, once, when their start falls in a chunk. No function
here loops over samples in Python. Audio-rate work stays in float32 where that is exact enough
(audio-rate IIR filters included, see :class:`Filter`): it halves memory traffic, and numpy's
float64 ``sin`` and ``cos`` cost ten times their float32 versions. Mixed float32/float64
arithmetic on whole chunks is avoided: it runs several times slower than either alone.

Audio is float64 or float32 ``(channels, frames)`` inside a chunk and float32 when it leaves
the source.
"""

from __future__ import annotations

import math
import operator
from typing import ClassVar

import numpy as np
import scipy.fft
from scipy import signal

#: Frames per internal chunk (1.5 s at 44.1 kHz): a power of two so every low-rate domain
#: divides it, and long enough that per-chunk Python overhead (control signals, schedules,
#: a few dozen numpy calls on short arrays) stays under a tenth of a chunk's cost.
CHUNK_FRAMES = 65_536
#: Audio frames per control-rate sample (envelopes, pan gains): about 689 Hz at 44.1 kHz.
CONTROL_FACTOR = 64
CHANNELS = 2
#: Every source fades in over its first 20 ms.
FADE_IN_S = 0.02


class ChunkedSource:
    """Base class of every procedural layer: a stateful stereo :class:`~soundscapes.Source`.

    Subclasses implement :meth:`_render_chunk`, which returns exactly :attr:`chunk_frames`
    frames per call; :meth:`render` serves requests of any size from those chunks, so rendering
    in blocks gives the same samples as rendering at once.

    Layers are written so that even the internal chunk size does not change the samples (up to
    rounding): noise is drawn frame by frame, events come from pre-drawn schedules, and every
    control signal is a function of absolute time. The test battery renders each layer with a
    smaller :attr:`chunk_frames` to prove it, which catches any state lost at a chunk join.

    Parameters
    ----------
    sample_rate_hz : int
        Output sample rate.
    seed : int
        Seed of the instance's own :class:`numpy.random.Generator`; subclasses spawn child
        generators from :attr:`rng` for their independent parts.
    """

    channels: int = CHANNELS
    #: Frames per internal chunk; a multiple of :data:`CONTROL_FACTOR`.
    chunk_frames: ClassVar[int] = CHUNK_FRAMES

    def __init__(self, *, sample_rate_hz: int, seed: int) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.rng = np.random.default_rng(seed)
        self._chunk_start_frame = 0
        self._buffer = np.zeros((self.channels, 0), dtype=np.float32)
        self._buffer_pos = 0

    @property
    def chunk_start_frame(self) -> int:
        """Absolute index of the first frame of the chunk being rendered."""
        return self._chunk_start_frame

    @property
    def control_frames(self) -> int:
        """Control-rate samples per chunk."""
        return self.chunk_frames // CONTROL_FACTOR

    @property
    def chunk_start_s(self) -> float:
        """Start time of the chunk being rendered, in seconds."""
        return self._chunk_start_frame / self.sample_rate_hz

    def render(self, frames: int) -> np.ndarray:
        """Return the next ``frames`` samples.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(2, frames)``, nominally within [-1, 1].
        """
        frames = operator.index(frames)
        if frames < 0:
            raise ValueError(f"frames must be >= 0, got {frames}")
        if frames == self.chunk_frames and self._buffer_pos == self._buffer.shape[1]:
            # A request of exactly one chunk, on a chunk boundary: hand the chunk over as is
            # (the buffer stays spent).
            return self._next_chunk()
        out = np.empty((self.channels, frames), dtype=np.float32)
        filled = 0
        while filled < frames:
            available = self._buffer.shape[1] - self._buffer_pos
            if available == 0:
                self._buffer = self._next_chunk()
                self._buffer_pos = 0
                available = self._buffer.shape[1]
            take = min(available, frames - filled)
            out[:, filled : filled + take] = self._buffer[
                :, self._buffer_pos : self._buffer_pos + take
            ]
            self._buffer_pos += take
            filled += take
        return out

    def _next_chunk(self) -> np.ndarray:
        chunk = self._render_chunk()
        if chunk.shape != (self.channels, self.chunk_frames):
            raise AssertionError(
                f"{type(self).__name__}._render_chunk returned {chunk.shape}, "
                f"expected {(self.channels, self.chunk_frames)}"
            )
        if self._chunk_start_frame == 0:
            # Start from silence without a click, whatever the layer's first sample is.
            fade = round(FADE_IN_S * self.sample_rate_hz)
            chunk[:, :fade] *= raised_cosine(fade)
        self._chunk_start_frame += self.chunk_frames
        return chunk.astype(np.float32, copy=False)

    def _render_chunk(self) -> np.ndarray:
        """Render the next chunk: float64 or (saving a conversion) float32 ``(2, chunk_frames)``."""
        raise NotImplementedError


# --- noise ------------------------------------------------------------------------------------


#: Frames per block of :func:`white_noise`'s stream (a divisor of every chunk at any rate).
_NOISE_BLOCK = 64


def white_noise(
    rng: np.random.Generator, shape: tuple[int, ...], scale: float | np.ndarray = 1.0
) -> np.ndarray:
    """Uniform white noise with standard deviation ``scale`` (unit variance by default).

    ``scale`` is a number or one per row (``shape[0]`` of a 2-D shape).

    Drawn as raw 64-bit words from the generator's bit stream, read as four 16-bit integers
    each: the fastest i.i.d. samples numpy offers (about a quarter of the cost of
    ``standard_normal``); after any filtering the uniform distribution is indistinguishable
    from a Gaussian one. The stream is laid out in blocks of 64 frames (each row's 64 samples
    in turn: contiguous reads, a third cheaper than sample by sample), so consecutive draws
    continue one stream whatever the block sizes, as long as each draw's frame count is a
    multiple of 64 (every chunk's is, at any rate); any remainder is drawn frame by frame.

    Returns
    -------
    numpy.ndarray
        float32 of the given shape.
    """
    count = math.prod(shape)
    frames = shape[-1]
    rows = count // frames if frames else 0
    words = rng.bit_generator.random_raw(-(-count // 4))
    raw = words.view(np.int16)[:count]
    out = np.empty((rows, frames), dtype=np.float32)
    factor = (np.asarray(scale, dtype=np.float32) * np.float32(math.sqrt(3.0) / 32768.0)).reshape(
        -1, 1
    )
    blocks = frames // _NOISE_BLOCK
    whole = blocks * _NOISE_BLOCK
    if blocks:
        stream = raw[: rows * whole].reshape(blocks, rows, _NOISE_BLOCK).transpose(1, 0, 2)
        blocked = out[:, :whole].reshape(rows, blocks, _NOISE_BLOCK)
        np.multiply(stream, factor[:, :, None], out=blocked)
    if whole < frames:
        tail = raw[rows * whole :].reshape(frames - whole, rows).T
        np.multiply(tail, factor, out=out[:, whole:])
    return out.reshape(shape)


def stereo_noise(
    rng: np.random.Generator, frames: int, width: float, scale: float = 1.0
) -> np.ndarray:
    """White noise per ear, as :func:`set_width` on independent ears: float32 ``(2, frames)``.

    Drawn as mid and side noise, ``L = M + S`` and ``R = M - S``, the side ``width`` times the
    mid: the same level and correlation between the ears as the width applied afterwards, in
    two passes over the audio instead of six.
    """
    # M at sqrt(1/2) of ``scale`` and S ``width`` times that: each ear then carries
    # sqrt((1 + width^2) / 2) of ``scale`` and the ears correlate by (1 - width^2) / (1 + width^2),
    # exactly what set_width makes of two independent ears at ``scale``.
    half = scale * math.sqrt(0.5)
    mid, side = white_noise(rng, (2, frames), [half, half * width])
    out = np.empty((2, frames), dtype=np.float32)
    np.add(mid, side, out=out[0])
    np.subtract(mid, side, out=out[1])
    return out


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


def lowpass(cutoff_hz: float, sample_rate_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass as second-order sections."""
    return signal.butter(
        order,
        _nyquist_safe(cutoff_hz, sample_rate_hz),
        "lowpass",
        fs=sample_rate_hz,
        output="sos",
    )


def highpass(cutoff_hz: float, sample_rate_hz: float, order: int = 2) -> np.ndarray:
    """Butterworth high-pass as second-order sections."""
    return signal.butter(
        order,
        _nyquist_safe(cutoff_hz, sample_rate_hz),
        "highpass",
        fs=sample_rate_hz,
        output="sos",
    )


def bandpass(low_hz: float, high_hz: float, sample_rate_hz: float, order: int = 1) -> np.ndarray:
    """Butterworth band-pass (``2 * order`` poles) as second-order sections."""
    high = _nyquist_safe(high_hz, sample_rate_hz)
    low = min(float(low_hz), 0.9 * high)
    return signal.butter(order, [low, high], "bandpass", fs=sample_rate_hz, output="sos")


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


# --- oscillators -----------------------------------------------------------------------------

#: Most multiply-adds handed to BLAS in one matrix product. Past about 1.4 million OpenBLAS
#: splits a product across threads, which on a process pinned to one core costs tens of times
#: the CPU it saves; :class:`SineBank` keeps every product under this.
_MATMUL_MACS = 1 << 19


class SineBank:
    """Fixed sine oscillators, summed under gains of their own, without a ``sin`` per sample.

    Row ``r`` of a render is ``sum_k g_rk(n) * exp(-d_k n / sr) * sin(2 pi f_k n / sr + phi_k)``
    at absolute frames ``n``. Over each block of ``block`` frames a gain is a polynomial in
    the position ``u = j / block`` (``j`` the frame in the block):
    ``g = sum_p gains[p, r, k, b] * u**p``; so degree 0 holds a gain per block, degree 1
    interpolates linearly between block edges, degree 2 matches :class:`Upsampler`'s smooth
    interpolation.

    A damped sine is ``Im(P_b * W_j)``: a phasor at each block start ``P_b`` (its angle from
    absolute frames in float64, so nothing drifts) times a fixed in-block waveform ``W_j``,
    computed once. The sum over oscillators and powers of ``u`` is then one small matrix
    product (about 0.05 ns a multiply-add), where ``sin`` costs 1.5 ns a sample per
    oscillator in float32 (15 ns in float64).

    Parameters
    ----------
    freqs_hz, phases_rad : numpy.ndarray
        ``(oscillators,)``; the phase is at frame 0.
    block : int
        Frames per gain block.
    decay_per_s : numpy.ndarray, optional
        ``(oscillators,)`` exponential decay rates (1/s) counted from frame 0.
    """

    def __init__(
        self,
        freqs_hz: np.ndarray,
        phases_rad: np.ndarray,
        block: int,
        sample_rate_hz: float,
        decay_per_s: np.ndarray | None = None,
    ) -> None:
        self._omega = 2.0 * math.pi * np.asarray(freqs_hz, dtype=np.float64) / sample_rate_hz
        self._phases = np.asarray(phases_rad, dtype=np.float64)
        self._damping = None if decay_per_s is None else np.asarray(decay_per_s) / sample_rate_hz
        self._block = block
        j = np.arange(block)
        inner = self._omega[:, None] * j
        shape = 1.0 if self._damping is None else np.exp(-self._damping[:, None] * j)
        # Im(P W) = Re(P) Im(W) + Im(P) Re(W): rows of W pair up with the phasor's halves.
        waves = np.concatenate([shape * np.sin(inner), shape * np.cos(inner)])
        # One copy per power of u, so the polynomial gains fold into the matrix product
        # (an elementwise pass over a short last axis costs more than the product itself).
        u = j / block
        self._waves = [(waves * u**power).astype(np.float32) for power in range(3)]

    def __call__(self, gains: np.ndarray, start_frame: int) -> np.ndarray:
        """The sums from ``start_frame`` on, ``gains`` ``(degree + 1, rows, oscillators, blocks)``.

        The degree is at most 2. Returns float32 ``(rows, blocks * block)``.
        """
        degrees, rows, count, blocks = gains.shape
        block = self._block
        starts = start_frame + block * np.arange(blocks)
        # Turns at each block start, from absolute frames in float64 (exact enough for decades
        # of audio); reduced to one turn, float32 cos and sin are exact enough (~1e-7).
        turns = self._omega[:, None] / (2.0 * math.pi) * starts + self._phases[:, None] / (
            2.0 * math.pi
        )
        angle = (2.0 * math.pi * (turns - np.floor(turns))).astype(np.float32)
        phasor = np.stack([np.cos(angle), np.sin(angle)])  # (2, k, blocks)
        if self._damping is not None:
            phasor *= np.exp(-self._damping[:, None] * starts).astype(np.float32)
        # weights[(p, h, k), (r, b)] = gains[p, r, k, b] * phasor[h, k, b]: built with blocks
        # innermost (fast), handed to BLAS transposed (no copy).
        weights = gains.astype(np.float32).transpose(0, 2, 1, 3)[:, None] * phasor[:, :, None, :]
        weights = weights.reshape(degrees * 2 * count, rows * blocks).T
        waves = np.concatenate(self._waves[:degrees])
        out = np.empty((rows * blocks, block), dtype=np.float32)
        step = max(1, _MATMUL_MACS // (degrees * 2 * count * block))
        for first in range(0, rows * blocks, step):
            np.matmul(weights[first : first + step], waves, out=out[first : first + step])
        return out.reshape(rows, blocks * block)


# --- control signals --------------------------------------------------------------------------


class SmoothRandom:
    """Slow random control signals in [0, 1] (SuperCollider ``LFNoise2``-like).

    Random knots every ``period_s`` seconds joined by raised-cosine segments, so the signal and
    its slope are continuous. Knots are drawn lazily in time order, so any evaluation schedule
    that moves forward gives the same values (evaluations may look back a few knots).
    ``count`` independent signals are drawn together; ``start`` pins the value at time 0.
    """

    #: Knots kept behind the newest one asked for.
    HISTORY_KNOTS = 4

    def __init__(
        self,
        rng: np.random.Generator,
        period_s: float,
        count: int = 1,
        *,
        start: float | None = None,
    ) -> None:
        self._rng = rng
        self._period_s = float(period_s)
        self._count = count
        self._first_index = 0
        # Knots are drawn knot by knot ((k, count) then transposed), so the values do not
        # depend on how many knots each evaluation happened to need.
        self._knots = rng.random((2, count)).T.copy()
        if start is not None:
            # Pin the first knot (e.g. to the middle) so the opening minutes sit near the mean
            # level whatever the seed: that is what the loudness calibration measures.
            self._knots[:, 0] = start

    def at(self, t_s: np.ndarray) -> np.ndarray:
        """Values at the times ``t_s`` (seconds): float64 ``(count, len(t_s))``.

        Times must not go back more than :attr:`HISTORY_KNOTS` knots before the latest time
        asked for so far (a layer asks for its chunk's control grid and for event times inside
        the chunk, in either order).
        """
        pos = np.asarray(t_s, dtype=np.float64) / self._period_s
        needed_last = math.floor(float(np.max(pos))) + 1
        have_last = self._first_index + self._knots.shape[1] - 1
        if needed_last > have_last:
            extra = self._rng.random((needed_last - have_last, self._count)).T
            self._knots = np.concatenate([self._knots, extra], axis=1)
        index = np.floor(pos).astype(np.int64)
        local = index - self._first_index
        if local.size and int(local.min()) < 0:
            raise ValueError("SmoothRandom asked for a time older than the knots it kept")
        frac = pos - index
        left = self._knots[:, local]
        right = self._knots[:, local + 1]
        # float32 cos: fifteen times cheaper than float64 here, and exact to ~1e-7.
        blend = 0.5 - 0.5 * np.cos(np.float32(np.pi) * frac.astype(np.float32)).astype(np.float64)
        drop = needed_last - self.HISTORY_KNOTS - self._first_index
        if drop > 0:
            self._knots = self._knots[:, drop:]
            self._first_index += drop
        return left + (right - left) * blend


# --- event schedules --------------------------------------------------------------------------


class JitteredGrid:
    """Event times on a jittered grid: one event per ``period_s`` slot, placed at random in it.

    Event ``k`` falls at ``(k + u_k) * period_s`` with ``u_k`` uniform in ``[low, high]``, so
    consecutive events are between ``(1 - (high - low)) * period_s`` and
    ``(1 + (high - low)) * period_s`` apart and every minute holds nearly the same number of
    events. That keeps a layer's loudness stable from one seed to the next (a Poisson schedule
    can leave a whole minute empty) and never bunches events into a startle.
    """

    def __init__(
        self, rng: np.random.Generator, period_s: float, low: float = 0.2, high: float = 0.8
    ) -> None:
        self._rng = rng
        self.period_s = float(period_s)
        self._low = low
        self._high = high
        self._slot = 0
        self._next_s = self._draw()

    def _draw(self) -> float:
        u = self._rng.uniform(self._low, self._high)
        return (self._slot + u) * self.period_s

    def pop_until(self, end_s: float) -> list[float]:
        """Event times (seconds) before ``end_s`` not returned yet, in order."""
        times: list[float] = []
        while self._next_s < end_s:
            times.append(self._next_s)
            self._slot += 1
            self._next_s = self._draw()
        return times


class PoissonClock:
    """Poisson event times at ``rate_hz`` (exponential gaps), drawn lazily in time order.

    Each event also carries ``marks`` uniform [0, 1) numbers (its pan, size, variant...).
    Gaps and marks are drawn in fixed batches, so nothing depends on how the caller slices time.
    """

    _BATCH = 64

    def __init__(self, rng: np.random.Generator, rate_hz: float, marks: int = 0) -> None:
        self._rng = rng
        self._mean_gap_s = 1.0 / float(rate_hz)
        self._marks = marks
        self._last_s = 0.0
        self._times = np.zeros(0)
        self._queued_marks = np.zeros((0, marks))

    def pop_until(self, end_s: float) -> np.ndarray:
        """Event times (seconds) before ``end_s`` not returned yet, float64 ascending."""
        return self.pop_marked_until(end_s)[0]

    def pop_marked_until(self, end_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Event times before ``end_s`` and their marks, shaped ``(k,)`` and ``(k, marks)``."""
        while len(self._times) == 0 or self._times[-1] < end_s:
            gaps = self._rng.exponential(self._mean_gap_s, self._BATCH)
            marks = self._rng.random((self._BATCH, self._marks))
            times = self._last_s + np.cumsum(gaps)
            self._last_s = float(times[-1])
            self._times = np.concatenate([self._times, times])
            self._queued_marks = np.concatenate([self._queued_marks, marks])
        split = int(np.searchsorted(self._times, end_s))
        times, self._times = self._times[:split], self._times[split:]
        marks, self._queued_marks = self._queued_marks[:split], self._queued_marks[split:]
        return times, marks


class OverlapAdd:
    """Accumulates event signals that may run past the current chunk.

    Offsets are relative to the start of the current chunk; :meth:`pop` hands out the finished
    chunk and moves the read position on. The buffer is compacted only when the read position
    reaches its end, so long tails (a chime ringing for 10 s) are not copied every chunk.
    """

    def __init__(
        self,
        channels: int = CHANNELS,
        capacity: int = 4 * CHUNK_FRAMES,
        dtype: type[np.floating] = np.float64,
    ) -> None:
        # float32 suffices for events summed once into audio (its noise floor is ~-140 dB)
        # and halves the memory traffic of long tails.
        self._buf = np.zeros((channels, capacity), dtype=dtype)
        self._start = 0
        # Buffer index past the last sample any event reached: beyond it all is silence, so a
        # pop there hands out zeros without touching the buffer.
        self._reach = 0

    def _make_room(self, end: int) -> None:
        """Ensure ``self._start + end`` fits, compacting or growing the buffer."""
        capacity = self._buf.shape[1]
        if self._start + end <= capacity:
            return
        live = self._buf[:, self._start :]
        new_capacity = max(capacity, 2 * end)
        grown = np.zeros((self._buf.shape[0], new_capacity), dtype=self._buf.dtype)
        grown[:, : live.shape[1]] = live
        self._buf = grown
        self._reach = max(0, self._reach - self._start)
        self._start = 0

    def _reached(self, end: int) -> None:
        self._reach = max(self._reach, self._start + end)

    def quiet(self) -> bool:
        """Whether nothing sounds from the current chunk on (every event has been popped)."""
        return self._reach <= self._start

    def add(self, offset: int, samples: np.ndarray) -> None:
        """Add ``samples`` (``(channels, n)``) starting ``offset >= 0`` frames into the chunk."""
        end = offset + samples.shape[1]
        self._make_room(end)
        self._buf[:, self._start + offset : self._start + end] += samples
        self._reached(end)

    def add_panned(self, offset: int, mono: np.ndarray, gains: tuple[float, ...]) -> None:
        """Add a mono signal with one gain per channel.

        One outer product and one add for all channels: for short sounds (a rain drop, a
        crackle) the cost is the count of numpy calls, not the samples.
        """
        end = offset + len(mono)
        self._make_room(end)
        dtype = self._buf.dtype
        scaled = np.multiply.outer(np.asarray(gains, dtype=dtype), mono.astype(dtype, copy=False))
        self._buf[:, self._start + offset : self._start + end] += scaled
        self._reached(end)

    def add_panned_many(
        self, offsets: list[int], sounds: list[np.ndarray], gains: np.ndarray
    ) -> None:
        """:meth:`add_panned` for many short sounds (rain drops); ``gains`` ``(sounds, channels)``.

        The buffer is made room for once, and each sound costs one outer product and one add:
        a few microseconds, where the separate calls cost about twice that.
        """
        if not offsets:
            return
        lengths = [len(sound) for sound in sounds]
        end = max(map(operator.add, offsets, lengths))
        self._make_room(end)
        base, buf = self._start, self._buf
        gains = np.asarray(gains, dtype=buf.dtype)
        for offset, length, sound, pair in zip(offsets, lengths, sounds, gains, strict=True):
            buf[:, base + offset : base + offset + length] += np.multiply.outer(pair, sound)
        self._reached(end)

    def pop_into(self, out: np.ndarray) -> None:
        """Add the next ``out.shape[1]`` frames into ``out`` (same dtype) and move on.

        Cheaper than ``out += pop(...)``: no copy, and nothing touched where nothing sounds.
        """
        frames = out.shape[1]
        self._make_room(frames)
        sounding = min(frames, self._reach - self._start)
        if sounding > 0:
            window = self._buf[:, self._start : self._start + sounding]
            out[:, :sounding] += window
            window[:] = 0.0
        self._start += frames

    def pop(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames ``(channels, frames)``; zero where nothing sounds."""
        self._make_room(frames)
        out = np.zeros((self._buf.shape[0], frames), dtype=self._buf.dtype)
        sounding = min(frames, self._reach - self._start)
        if sounding > 0:
            window = self._buf[:, self._start : self._start + sounding]
            out[:, :sounding] = window
            window[:] = 0.0
        self._start += frames
        return out


class NoiseBed:
    """A stereo band of noise at the audio rate: white noise -> width -> gain -> filter.

    Width and gain are applied to the float32 white noise *before* the (linear, identical per
    channel) filter, where they cost half as much; for a gain that moves slowly compared with
    the filter's impulse response (swells, gusts, a 40 Hz trill on a 4.5 kHz band) that is the
    same as applying them after. The filter is normalised so unit gain gives unit RMS.

    The width comes from :func:`stereo_noise`.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        sos: np.ndarray,
        sample_rate_hz: float,
        width: float = 1.0,
        gain_rows: int = 1,
    ) -> None:
        self._rng = rng
        self._filter = Filter(unit_noise_gain(sos, sample_rate_hz), dtype=np.float32)
        self._width = width
        self._gain_up = Upsampler(CONTROL_FACTOR, gain_rows, smooth=False, dtype=np.float32)

    def __call__(self, frames: int, gain: float | np.ndarray = 1.0) -> np.ndarray:
        """``frames`` of the bed: float32 ``(2, frames)``, ready to mix into float32 audio.

        ``gain`` is a number, or control-rate values (one per :data:`CONTROL_FACTOR` frames)
        shaped ``(frames // CONTROL_FACTOR,)`` or ``(2, frames // CONTROL_FACTOR)`` (per ear).
        """
        level = 1.0 if isinstance(gain, np.ndarray) else float(gain)
        noise = stereo_noise(self._rng, frames, self._width, level)
        if isinstance(gain, np.ndarray):
            noise *= self._gain_up(gain if gain.ndim == 2 else gain[None, :])
        return self._filter(noise)


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


def raised_cosine(n: int) -> np.ndarray:
    """A rising half-Hann ramp of ``n`` samples from 0 towards 1 (exclusive of 1)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))


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
