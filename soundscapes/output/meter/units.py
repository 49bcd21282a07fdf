"""Shared units of the loudness meter: energy ↔ LUFS, the 100 ms step, the standards' constants."""

from __future__ import annotations

import math

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


def _energy_to_lufs(energy: float) -> float:
    return _LOUDNESS_OFFSET_LU + 10.0 * math.log10(energy) if energy > 0.0 else -math.inf


def _lufs_to_energy(lufs: float) -> float:
    return 10.0 ** ((lufs - _LOUDNESS_OFFSET_LU) / 10.0)


def _step_frames(sample_rate_hz: int) -> int:
    """Frames in one 100 ms step, rounded as libebur128 rounds them."""
    return (sample_rate_hz + 5) // 10
