"""The chunked source: fixed internal chunks served at any request size, so a layer renders
the same samples whatever blocks it is asked for."""

from __future__ import annotations

import operator
from typing import ClassVar

import numpy as np

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


def raised_cosine(n: int) -> np.ndarray:
    """A rising half-Hann ramp of ``n`` samples from 0 towards 1 (exclusive of 1)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))
