"""Struck modes: banks of decaying sines rendered whole, shared by the tuned layers."""

from __future__ import annotations

import math

import numpy as np

#: Largest matrix product handed to BLAS at once (as in :class:`~soundscapes.dsp.SineBank`).
_MATMUL_MACS = 1 << 19


class _DampedSines:
    """Events made of exponentially decaying sines (struck modes), rendered whole at once.

    A sum ``sum_k a_k exp(-d_k n) sin(w_k n + phi_k)`` over ``n = b * block + j`` is, block by
    block, ``Im(A_kb W_kj)``: a complex amplitude per block (``a_k e^{i phi_k}`` times the decay
    and turn up to the block start) times a fixed in-block waveform ``W_kj = e^{(i w_k - d_k) j}``,
    computed once per bank. One matrix product per event then replaces a ``sin`` per sample and
    mode (the trick of :class:`~soundscapes.dsp.SineBank`, for one-off events). A mode ends,
    fading out over one block, where the caller says it has fallen below hearing; modes are
    taken longest first, so each stretch of blocks multiplies only the modes still sounding.
    """

    BLOCK = 1024

    def __init__(
        self, freqs_hz: np.ndarray, decay_per_s: np.ndarray, sample_rate_hz: float
    ) -> None:
        self._omega = 2.0 * math.pi * np.asarray(freqs_hz, dtype=np.float64) / sample_rate_hz
        self._damping = np.asarray(decay_per_s, dtype=np.float64) / sample_rate_hz
        j = np.arange(self.BLOCK)
        shape = np.exp(-self._damping[:, None] * j)
        inner = self._omega[:, None] * j
        # Rows paired per mode (sin, cos), so the first 2m rows are the first m modes.
        waves = np.stack([shape * np.sin(inner), shape * np.cos(inner)], axis=1)
        self._waves = waves.reshape(-1, self.BLOCK).astype(np.float32)
        self._ramp = (j / self.BLOCK).astype(np.float32)

    def __call__(
        self, amplitudes: np.ndarray, phases_rad: np.ndarray, lengths: np.ndarray
    ) -> np.ndarray:
        """One event: float32 ``(blocks * BLOCK,)``, long enough for the longest mode.

        ``lengths`` are in frames per mode (rounded up to whole blocks, the last one a fade);
        a mode of length 0 is left out.
        """
        block = self.BLOCK
        ends = -(-np.asarray(lengths, dtype=np.int64) // block)
        order = np.argsort(-ends, kind="stable")
        ends = ends[order]
        blocks = int(ends[0]) if len(ends) else 0
        if blocks == 0:
            return np.zeros(0, dtype=np.float32)
        # Complex amplitude at each block start, a e^{i phi} z^b with z = e^{(i w - d) block}:
        # a running product (one complex multiply per block) instead of a sin, cos and exp.
        step = np.exp((1j * self._omega[order] - self._damping[order]) * block)
        start = np.asarray(amplitudes)[order] * np.exp(1j * np.asarray(phases_rad)[order])
        steps = np.empty((blocks, len(order)), dtype=np.complex128)
        steps[0] = start
        steps[1:] = step
        # Im(A W) = Re(A) Im(W) + Im(A) Re(W): the real and imaginary parts of each A, side by
        # side, pair with the rows (sin, cos) of W.
        weights = np.cumprod(steps, axis=0).view(np.float64).astype(np.float32)
        waves = (
            self._waves
            if np.all(order == np.arange(len(order)))
            else (self._waves.reshape(-1, 2, block)[order].reshape(-1, block))
        )
        out = np.zeros((blocks, block), dtype=np.float32)
        first = 0
        for count in range(len(ends), 0, -1):
            last = int(ends[count - 1])
            # Products kept small: past about a million multiply-adds OpenBLAS splits them
            # across threads, which on one core costs far more than it saves (see dsp.SineBank).
            rows = max(1, _MATMUL_MACS // (2 * count * block))
            for row in range(first, last, rows):
                end = min(row + rows, last)
                np.matmul(weights[row:end, : 2 * count], waves[: 2 * count], out=out[row:end])
            first = max(first, last)
        # Each mode fades out linearly over its last block rather than stopping with a step
        # (a step, however small, is a click where little else sounds).
        modes = np.flatnonzero(ends > 0)
        rows = ends[modes] - 1  # descending, so modes ending in one block sit together
        pairs = waves.reshape(-1, 2, block)[modes]
        halves = weights[rows[:, None], 2 * modes[:, None] + np.arange(2)]
        last_blocks = np.einsum("kh,khj->kj", halves, pairs)
        firsts = np.flatnonzero(np.diff(rows, prepend=-1))
        out[rows[firsts]] -= np.add.reduceat(last_blocks, firsts, axis=0) * self._ramp
        return out.reshape(-1)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)
