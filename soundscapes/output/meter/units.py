"""Shared units of the loudness meter: energy ↔ LUFS, the 100 ms step, the standards' constants."""

from __future__ import annotations

import math

import numpy as np

#: Loudness reported for silence (libebur128 gives -inf below the absolute gate, -70 LUFS).
SILENCE_LUFS = -70.0

#: BS.1770-4 eq. (2): loudness = -0.691 + 10 log10(sum of weighted mean squares).
_LOUDNESS_OFFSET_LU = -0.691
#: BS.1770-4 annex 1: gating blocks are 400 ms with 75 % overlap, i.e. 4 steps of 100 ms.
_GATE_STEPS = 4
#: EBU Tech 3341 section 2.1: short-term loudness integrates the last 3 s (30 steps).
_SHORT_TERM_STEPS = 30
#: BS.1770-4 annex 1 and Tech 3342 section 3: blocks below -70 LUFS never count.
_ABSOLUTE_GATE_LUFS = -70.0
#: BS.1770-4 annex 1: blocks more than 10 LU below the absolutely gated loudness are dropped.
_RELATIVE_GATE_LU = -10.0
#: EBU Tech 3342 section 3: the loudness range gates 20 LU below, then spans the 10th to
#: 95th percentiles of what is left.
_LRA_RELATIVE_GATE_LU = -20.0
_LRA_LOW_PERCENTILE = 0.10
_LRA_HIGH_PERCENTILE = 0.95

#: Frames per row of the block state-space K-weighting filter: long enough that the matrix
#: products are efficient, short enough that the per-row Toeplitz product stays cheap.
_FILTER_ROW_FRAMES = 64
#: The row-to-row state recursion stops reaching back once the state transition over the
#: reach is this small (relative): far below float32 output rounding (6e-8).
_SCAN_TOLERANCE = 1e-9
#: OpenBLAS runs a matrix product on one thread up to this m*n*k (interface/gemm.c). The
#: products here are small and many: threads would cost more CPU time than they save (they
#: spin while waiting), so :func:`_serial_matmul` cuts larger ones into a stack of these.
_BLAS_SERIAL_MNK = 4 * 65536


def _energy_to_lufs(energy: float) -> float:
    return _LOUDNESS_OFFSET_LU + 10.0 * math.log10(energy) if energy > 0.0 else -math.inf


def _lufs_to_energy(lufs: float) -> float:
    return 10.0 ** ((lufs - _LOUDNESS_OFFSET_LU) / 10.0)


def _step_frames(sample_rate_hz: int) -> int:
    """Frames in one 100 ms step, rounded as libebur128 rounds them."""
    return (sample_rate_hz + 5) // 10


def _serial_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``a`` of shape ``(..., rows, inner)``, as BLAS calls that stay serial."""
    rows, inner = a.shape[-2:]
    lead = a.shape[:-2]
    per_call = max(1, _BLAS_SERIAL_MNK // (inner * b.shape[1]))
    if rows <= per_call:
        return a @ b
    out = np.empty((*lead, rows, b.shape[1]), dtype=np.result_type(a, b))
    whole = rows - rows % per_call
    stacks = (*lead, whole // per_call, per_call)
    np.matmul(
        a[..., :whole, :].reshape(*stacks, inner, copy=False),
        b,
        out=out[..., :whole, :].reshape(*stacks, b.shape[1], copy=False),
    )
    if whole < rows:
        np.matmul(a[..., whole:, :], b, out=out[..., whole:, :])
    return out
