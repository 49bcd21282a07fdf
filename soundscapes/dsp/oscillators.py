"""Sums of sines as matrix products, from absolute frame numbers."""

from __future__ import annotations

import math

import numpy as np

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
