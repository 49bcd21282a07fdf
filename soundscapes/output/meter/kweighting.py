"""K-weighting (BS.1770-4 annex 1: the pre-filter shelf and the RLB high-pass) as block
state-space matrix products, about three times faster than ``scipy.signal.sosfilt``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, signal

from soundscapes.output.meter.units import _FILTER_ROW_FRAMES, _SCAN_TOLERANCE, _serial_matmul

# --- K-weighting ----------------------------------------------------------------------------


def k_weighting_sos(sample_rate_hz: float) -> np.ndarray:
    """BS.1770-4 K-weighting (annex 1) as two second-order sections ``(2, 6)``.

    The pre-filter (a high shelf, +4 dB above about 1.5 kHz, fig. 1) and the RLB high-pass
    (fig. 2) are printed in BS.1770-4 only for 48 kHz. Like libebur128 they are derived here
    from their analogue prototypes by the bilinear transform for any rate; at 48 kHz the
    coefficients equal the printed ones to 14 digits.
    """
    # Pre-filter: high shelf, f0 = 1681.97 Hz, gain G = +4.0 dB, Q = 0.7072.
    k = math.tan(math.pi * 1681.974450955533 / sample_rate_hz)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    # RLB weighting: second-order high-pass, f0 = 38.14 Hz, Q = 0.5003, unity passband gain.
    k = math.tan(math.pi * 38.13547087602444 / sample_rate_hz)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


def _cascade_state_space(sos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(A, B, C, D)`` of second-order sections in series (each in transposed direct form II).

    Built section by section rather than through one long polynomial, whose coefficients
    would lose the low-frequency poles to rounding.
    """
    a = np.zeros((0, 0))
    b = np.zeros((0, 1))
    c = np.zeros((1, 0))
    d = 1.0
    for b0, b1, b2, _, a1, a2 in sos:
        sa = np.array([[-a1, 1.0], [-a2, 0.0]])
        sb = np.array([[b1 - a1 * b0], [b2 - a2 * b0]])
        sc = np.array([[1.0, 0.0]])
        n = a.shape[0]
        a = np.block([[a, np.zeros((n, 2))], [sb @ c, sa]])
        b = np.vstack([b, sb * d])
        c = np.hstack([b0 * c, sc])
        d = b0 * d
    return a, b, c, d


def _balanced(
    a: np.ndarray, b: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The balanced realisation of a stable system (square-root method).

    Its states carry about as much signal as its output, so they can be rounded to float32
    without the cancellation a direct form suffers near its 38 Hz high-pass poles.
    """
    lc = linalg.cholesky(linalg.solve_discrete_lyapunov(a, b @ b.T), lower=True)
    lo = linalg.cholesky(linalg.solve_discrete_lyapunov(a.T, c.T @ c), lower=True)
    u, hankel, vt = linalg.svd(lo.T @ lc)
    scale = 1.0 / np.sqrt(hankel)
    t = (lc @ vt.T) * scale
    t_inv = scale[:, None] * (u.T @ lo.T)
    return t_inv @ a @ t, t_inv @ b, c @ t


class KWeighting:
    """Streaming BS.1770-4 K-weighting, optionally band-limited first.

    Parameters
    ----------
    sample_rate_hz : int
    channels : int
    bandwidth_hz : float, optional
        Low-pass through an 8th-order Butterworth at this frequency before K-weighting (the
        band a lossy encoder keeps); ignored at or above half the sample rate.

    :meth:`process` keeps the filter state between blocks, so any split of a signal into
    blocks gives the same output (to float32 rounding). K-weighting is linear: filter two
    stems with one instance each, add them, and :meth:`LoudnessMeter.add_kweighted` meters
    the sum exactly as :meth:`LoudnessMeter.add` would meter the summed stems.

    How: the filter is a linear state-space system ``x' = A x + B u, y = C x + D u``. Cut
    into rows of ``R`` frames, a row's output is a Toeplitz product of its input (the
    zero-state response) plus the observability matrix times the state at its start, and
    that state follows from the previous one by ``x_{r+1} = A^R x_r + (controllability
    matrix) u_r``. So a block costs a few matrix products over all its rows and a short scan
    over groups of rows (:meth:`_row_start_states`), instead of a loop over samples: about
    three times faster than ``scipy.signal.sosfilt`` (measured). The realisation is
    balanced, so the products run in float32 at float32 accuracy (relative error about 1e-7
    against float64 ``sosfilt``).
    """

    def __init__(
        self, sample_rate_hz: int, channels: int = 2, bandwidth_hz: float | None = None
    ) -> None:
        sos = k_weighting_sos(sample_rate_hz)
        if bandwidth_hz is not None and bandwidth_hz < sample_rate_hz / 2:
            low_pass = signal.butter(8, bandwidth_hz, fs=sample_rate_hz, output="sos")
            sos = np.vstack([low_pass, sos])
        #: The sections this filter applies, in order (for a reference ``sosfilt``).
        self.sos = sos
        self.channels = channels
        a, b, c, d = _cascade_state_space(sos)
        a, b, c = _balanced(a, b, c)
        self._build_row_matrices(a, b, c, d)
        self._state = np.zeros((channels, a.shape[0]))

    def _build_row_matrices(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: float) -> None:
        rows = _FILTER_ROW_FRAMES
        order = a.shape[0]
        # a_powers[k] = A^k for k = 0..R (the tails of blocks need A^k for k < R too).
        a_powers = np.empty((rows + 1, order, order))
        a_powers[0] = np.eye(order)
        for k in range(rows):
            a_powers[k + 1] = a @ a_powers[k]
        observe = np.einsum("ij,kjl->kl", c, a_powers[:rows])  # row k: C A^k
        drive = np.einsum("kij,jl->ki", a_powers[rows - 1 :: -1], b)  # row k: (A^(R-1-k) B)^T
        impulse = np.concatenate([[d], observe[:-1] @ b[:, 0]])  # h[0] = D, h[k] = C A^(k-1) B
        first_column = np.zeros(rows)
        first_column[0] = d
        # u_row @ toeplitz is the zero-state response: toeplitz[k, j] = h[j - k] for j >= k.
        self._toeplitz = linalg.toeplitz(first_column, impulse).astype(np.float32)
        self._drive = drive.astype(np.float32)  # (R, order)
        self._observe = observe.T.astype(np.float32).copy()  # (order, R)
        self._a_powers_t = a_powers.transpose(0, 2, 1).copy()  # (A^k)^T, for row vectors
        self._build_row_recursion(self._a_powers_t[rows], order)

    def _build_row_recursion(self, row_step_t: np.ndarray, order: int) -> None:
        """Matrices for the row-to-row state recursion ``x_{r+1} = M x_r + d_r``, M = A^R.

        Rows go in groups of ``G``: within a group, the states reached from a zero start are
        one product with a block lower-triangular matrix of powers of M; the states entering
        the groups follow from each other by a doubling scan with powers of M^G; and the
        entering state reaches each row of its group through one more product.
        """
        group = max(2, _FILTER_ROW_FRAMES // order)
        powers_t = [np.eye(order)]  # (M^k)^T
        for _ in range(group):
            powers_t.append(powers_t[-1] @ row_step_t)
        within = np.zeros((group * order, group * order))
        for j in range(group):
            for q in range(j, group):
                within[j * order : (j + 1) * order, q * order : (q + 1) * order] = powers_t[q - j]
        self._group_rows = group
        self._within = within  # row block j, column block q: (M^(q-j))^T
        self._carry = np.hstack(powers_t[1:])  # column block q: (M^(q+1))^T
        # (M^G)^(2^j), transposed, until negligible: the scan reaches back no further.
        self._group_powers = []
        power = powers_t[group]
        while np.abs(power).max() > _SCAN_TOLERANCE and len(self._group_powers) < 64:
            self._group_powers.append(power)
            power = power @ power

    def process(self, block: np.ndarray) -> np.ndarray:
        """K-weight a float ``(channels, frames)`` block; returns float32 of the same shape."""
        x = np.asarray(block, dtype=np.float32)
        channels, frames = x.shape
        if frames == 0:
            return np.zeros((channels, 0), dtype=np.float32)
        rows = -(-frames // _FILTER_ROW_FRAMES)
        tail = frames - (rows - 1) * _FILTER_ROW_FRAMES  # frames in the last row
        if tail < _FILTER_ROW_FRAMES:
            # Zeros after the end change no output before it; the state is taken mid-row.
            padded = np.zeros((channels, rows * _FILTER_ROW_FRAMES), dtype=np.float32)
            padded[:, :frames] = x
            x = padded
        u = x.reshape(channels, rows, _FILTER_ROW_FRAMES)
        starts = self._row_start_states(self._state, _serial_matmul(u, self._drive))
        y = _serial_matmul(u, self._toeplitz)  # each row's zero-state response
        y += _serial_matmul(starts[:, :-1].astype(np.float32), self._observe)
        if tail < _FILTER_ROW_FRAMES:
            last = starts[:, -2] @ self._a_powers_t[tail]
            self._state = last + u[:, -1, :tail] @ self._drive[-tail:]
        else:
            self._state = starts[:, -1]
        return y.reshape(channels, -1)[:, :frames]

    def _row_start_states(self, state: np.ndarray, driven: np.ndarray) -> np.ndarray:
        """States at the start of each row and after the last, ``(channels, rows + 1, order)``.

        ``driven[:, r]`` is what row ``r``'s input adds to the state after it (see
        :meth:`_build_row_recursion`).
        """
        channels, rows, order = driven.shape
        group = self._group_rows
        groups = -(-rows // group)
        padded = np.zeros((channels, groups * group, order))
        padded[:, :rows] = driven
        # after[:, g, q*order:(q+1)*order]: the state after row q of group g.
        after = _serial_matmul(padded.reshape(channels, groups, group * order), self._within)
        entering = np.empty((channels, groups + 1, order))
        entering[:, 0] = state
        entering[:, 1:] = after[:, :, -order:]
        span = 1  # doubling (Hillis-Steele) scan: each entry sums its 2*span latest terms
        for power in self._group_powers:
            if span > groups:
                break
            entering[:, span:] += entering[:, :-span] @ power
            span *= 2
        after += _serial_matmul(entering[:, :-1], self._carry)
        starts = np.empty((channels, rows + 1, order))
        starts[:, 0] = state
        starts[:, 1:] = after.reshape(channels, groups * group, order)[:, :rows]
        return starts
