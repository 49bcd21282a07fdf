"""Event schedules and the overlap-add that keeps events' tails across chunks."""

from __future__ import annotations

import operator

import numpy as np

from soundscapes.dsp.chunked import CHANNELS, CHUNK_FRAMES, CONTROL_FACTOR
from soundscapes.dsp.filters import Filter, unit_noise_gain
from soundscapes.dsp.multirate import Upsampler
from soundscapes.dsp.noise import stereo_noise

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
