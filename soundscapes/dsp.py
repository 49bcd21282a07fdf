"""Shared DSP primitives for the procedural layers.

Everything here is stateful where it has to be, so a layer built from these parts renders the
same samples whatever block sizes it is asked for:

- :class:`ChunkedSource` renders fixed-size internal chunks and serves any request size from
  them, so a layer only implements :meth:`ChunkedSource._render_chunk`.
- :class:`Filter` carries ``zi`` between chunks; :class:`Upsampler` carries its interpolation
  state; :class:`SmoothRandom`, :class:`JitteredGrid` and :class:`PoissonClock` draw their random
  numbers lazily in time order; :class:`OverlapAdd` keeps the tails of events that straddle chunk
  boundaries; :class:`NoiseBed` is the common "filtered stereo noise with a gain" bed.
- :func:`white_noise` draws frame by frame and :func:`sine_bank` computes oscillators from
  absolute frame numbers, so even the internal chunk size does not change a layer's samples.

Speed (a goal of 300x real time per layer on one core) shapes the choices: low-frequency parts
run at a decimated rate and are raised by :class:`Upsampler`; envelopes live on a control grid
(one value per :data:`CONTROL_FACTOR` frames); oscillators are float32; events are rendered
whole, once, when their start falls in a chunk. No function here loops over samples in Python.

Audio is float64 or float32 ``(channels, frames)`` inside a chunk and float32 when it leaves
the source.
"""

from __future__ import annotations

import math
import operator
from typing import ClassVar

import numpy as np
from scipy import signal

#: Frames per internal chunk (0.74 s at 44.1 kHz): a power of two so every low-rate domain
#: divides it, and long enough that per-chunk Python overhead stays small.
CHUNK_FRAMES = 32_768
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
        return chunk.astype(np.float32)

    def _render_chunk(self) -> np.ndarray:
        """Render the next chunk: float64 ``(2, chunk_frames)``."""
        raise NotImplementedError


# --- noise ------------------------------------------------------------------------------------


def white_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """Uniform white noise with standard deviation ``scale`` (unit variance by default).

    Drawn as raw 64-bit words from the generator's bit stream, read as four 16-bit integers
    each: the fastest i.i.d. samples numpy offers (about a quarter of the cost of
    ``standard_normal``); after any filtering the uniform distribution is indistinguishable
    from a Gaussian one. Samples are drawn frame by frame (the last axis is time), so
    consecutive draws continue one stream whatever the block sizes, as long as each draw's
    sample count is a multiple of 4 (every chunk's is).

    Returns
    -------
    numpy.ndarray
        float32 of the given shape.
    """
    count = math.prod(shape)
    words = rng.bit_generator.random_raw(-(-count // 4))
    raw = words.view(np.int16)[:count]
    rows = count // shape[-1]
    frames = raw.reshape(shape[-1], rows)
    out = np.empty((rows, shape[-1]), dtype=np.float32)
    factor = np.float32(scale * math.sqrt(3.0) / 32768.0)
    for row in range(rows):
        np.multiply(frames[:, row], factor, out=out[row])
    return out.reshape(shape)


# --- filters ----------------------------------------------------------------------------------


class Filter:
    """An IIR filter that carries its state between calls.

    Filters along the last axis of arrays shaped ``lead_shape + (frames,)``. Up to two
    second-order sections run as one transfer function through :func:`scipy.signal.lfilter`
    (about half the per-call cost of ``sosfilt``), provided its impulse response matches the
    cascade's; otherwise, and for longer cascades, :func:`scipy.signal.sosfilt` runs.
    """

    def __init__(self, sos: np.ndarray, lead_shape: tuple[int, ...] = (CHANNELS,)) -> None:
        sos = np.atleast_2d(np.asarray(sos, dtype=np.float64))
        self._sos = sos
        self._ba = _as_transfer_function(sos)
        if self._ba is not None:
            self._zi = np.zeros((*lead_shape, len(self._ba[1]) - 1))
        else:
            self._zi = np.zeros((sos.shape[0], *lead_shape, 2))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` (shape ``lead_shape + (frames,)``) and return float64 of the same shape."""
        if self._ba is not None:
            y, self._zi = signal.lfilter(self._ba[0], self._ba[1], x, axis=-1, zi=self._zi)
        else:
            y, self._zi = signal.sosfilt(self._sos, x, axis=-1, zi=self._zi)
        return y

    def warm_up(self, x: np.ndarray) -> None:
        """Run ``x`` through the filter and discard the output (to skip start-up transients)."""
        self(x)


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
        # Each output step is a 3-tap combination of neighbouring low-rate samples.
        if self.factor <= 4:
            # Few phases: one strided multiply-add per phase.
            out = np.empty((channels, m, self.factor), dtype=self._dtype)
            for phase in range(self.factor):
                w0, w1, w2 = self._weights[:, phase]
                column = out[:, :, phase]
                np.multiply(ext[:, 1 : m + 1], w1, out=column)
                column += w2 * ext[:, 2:]
                if w0:
                    column += w0 * ext[:, :m]
            return out.reshape(channels, m * self.factor)
        # Many phases: one small matrix product per channel writes the (m, factor) output in
        # order (about ten times faster than broadcasting over a short last axis).
        taps = np.stack([ext[:, :m], ext[:, 1 : m + 1], ext[:, 2:]], axis=-1)
        return (taps @ self._weights).reshape(channels, m * self.factor)


# --- oscillators -----------------------------------------------------------------------------

_SINE_BLOCK = 1024


def sine_bank(
    freqs_hz: np.ndarray,
    phases_rad: np.ndarray,
    start_frame: int,
    frames: int,
    sample_rate_hz: float,
) -> np.ndarray:
    """Fixed-frequency sines at absolute frame positions: ``sin(2 pi f n / sr + phase)``.

    float64 ``sin`` costs about 12 ns a sample; float32 about 1.5 ns but loses phase precision
    on long arguments. So the phase at the start of every 1024-frame block is reduced modulo
    2 pi in float64, and only the offsets inside a block (under ~1000 rad) go through float32:
    the error stays near 1e-4 (-80 dB) at any time. ``frames`` must be a multiple of 1024 or
    smaller than it.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(freqs_hz), frames)``.
    """
    freqs = np.asarray(freqs_hz, dtype=np.float64)[:, None]
    omega = 2.0 * math.pi * freqs / sample_rate_hz
    block = min(frames, _SINE_BLOCK)
    starts = start_frame + np.arange(0, frames, block)
    # omega * start is exact enough in float64 for decades of audio (error ~1e-7 rad).
    base = (omega * starts + np.asarray(phases_rad, dtype=np.float64)[:, None]) % (2.0 * math.pi)
    inner = (omega * np.arange(block)).astype(np.float32)
    phase = base.astype(np.float32)[:, :, None] + inner[:, None, :]
    return np.sin(phase).reshape(len(freqs), -1)


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
        blend = 0.5 - 0.5 * np.cos(np.pi * frac)
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
        self._start = 0

    def add(self, offset: int, samples: np.ndarray) -> None:
        """Add ``samples`` (``(channels, n)``) starting ``offset >= 0`` frames into the chunk."""
        end = offset + samples.shape[1]
        self._make_room(end)
        self._buf[:, self._start + offset : self._start + end] += samples

    def add_panned(self, offset: int, mono: np.ndarray, gains: tuple[float, ...]) -> None:
        """Add a mono signal with one gain per channel (cheaper than building the stereo copy)."""
        end = offset + len(mono)
        self._make_room(end)
        scaled = np.empty(len(mono), dtype=self._buf.dtype)
        for channel, gain in enumerate(gains):
            np.multiply(mono, gain, out=scaled, casting="unsafe")
            self._buf[channel, self._start + offset : self._start + end] += scaled

    def pop(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames, float64 ``(channels, frames)``; zero where nothing sounds."""
        self._make_room(frames)
        window = self._buf[:, self._start : self._start + frames]
        out = window.copy()
        window[:] = 0.0
        self._start += frames
        return out


class NoiseBed:
    """A stereo band of noise at the audio rate: white noise -> width -> gain -> filter.

    Width and gain are applied to the float32 white noise *before* the (linear, identical per
    channel) filter, where they cost half as much; for a gain that moves slowly compared with
    the filter's impulse response (swells, gusts, a 40 Hz trill on a 4.5 kHz band) that is the
    same as applying them after. The filter is normalised so unit gain gives unit RMS.
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
        self._filter = Filter(unit_noise_gain(sos, sample_rate_hz))
        self._width = width
        self._gain_up = Upsampler(CONTROL_FACTOR, gain_rows, smooth=False, dtype=np.float32)

    def __call__(self, frames: int, gain: float | np.ndarray = 1.0) -> np.ndarray:
        """``frames`` of the bed, float64 ``(2, frames)``.

        ``gain`` is a number, or control-rate values (one per :data:`CONTROL_FACTOR` frames)
        shaped ``(frames // CONTROL_FACTOR,)`` or ``(2, frames // CONTROL_FACTOR)`` (per ear).
        """
        if isinstance(gain, np.ndarray):
            noise = white_noise(self._rng, (2, frames))
            rows = gain if gain.ndim == 2 else gain[None, :]
            noise *= self._gain_up(rows)
        else:
            noise = white_noise(self._rng, (2, frames), float(gain))
        return self._filter(set_width(noise, self._width))


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
