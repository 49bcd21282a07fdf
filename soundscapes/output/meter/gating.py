"""Gating (BS.1770-4 annex 1, EBU Tech 3342): energies per 100 ms step, the 400 ms blocks and 3 s
windows built from them, kept in 0.01 LU histograms so that an eight-hour file costs no more
memory than a minute, and the gated loudness and loudness range of what they hold.
"""

from __future__ import annotations

import math

import numpy as np

from soundscapes.output.meter.units import (
    _ABSOLUTE_GATE_LUFS,
    _GATE_STEPS,
    _LOUDNESS_OFFSET_LU,
    _LRA_HIGH_PERCENTILE,
    _LRA_LOW_PERCENTILE,
    _LRA_RELATIVE_GATE_LU,
    _RELATIVE_GATE_LU,
    _SHORT_TERM_STEPS,
    SILENCE_LUFS,
    _energy_to_lufs,
    _lufs_to_energy,
)

# --- energies per step ----------------------------------------------------------------------


def _channel_weights(channels: int) -> np.ndarray:
    """BS.1770-4 table 3 weights under libebur128's default channel order.

    L, R, C weigh 1.0 and the surrounds 1.41; a fourth channel of five or more is the LFE,
    which does not count. Four channels are L, R, Ls, Rs; five are L, R, C, Ls, Rs.
    """
    if channels == 4:
        return np.array([1.0, 1.0, 1.41, 1.41])
    if channels == 5:
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    weights = np.zeros(channels)
    for index, weight in enumerate([1.0, 1.0, 1.0, 0.0, 1.41, 1.41]):
        if index < channels:
            weights[index] = weight
    return weights


def window_sums(step_energies: np.ndarray, steps: int) -> np.ndarray:
    """Energy of each window of ``steps`` consecutive steps, one per window (``n - steps + 1``).

    Added shift by shift rather than by a running sum, whose rounding would swamp quiet
    windows after hours of loud ones.
    """
    count = len(step_energies)
    if count < steps:
        return np.zeros(0)
    total = np.array(step_energies[steps - 1 : count], dtype=np.float64)
    for shift in range(1, steps):
        total += step_energies[steps - 1 - shift : count - shift]
    return total


def integrated_lufs_of_steps(step_energies: np.ndarray, step_frames: int) -> float:
    """Integrated loudness (BS.1770-4 gating) of a signal given by its 100 ms step energies
    (channel-weighted sums of squared K-weighted samples, as :meth:`LoudnessMeter.step_energies`
    returns them): for a sum of independent stems, the stems' step energies add."""
    blocks = window_sums(step_energies, _GATE_STEPS) / (_GATE_STEPS * step_frames)
    return _finite(_gated_lufs(blocks, _RELATIVE_GATE_LU))


class _EnergyHistogram:
    """Window energies binned by loudness: 0.01 LU bins from the absolute gate (-70 LUFS) to
    +30 LUFS, each with its count and the exact sum of its mean squares. Gated loudness and
    percentiles from it match those of the full list to well within 0.01 LU, in constant
    memory (libebur128 offers a histogram mode for the same reason, with 0.1 LU bins)."""

    _BIN_LU = 0.01
    _BINS = 10_000

    def __init__(self) -> None:
        self.counts = np.zeros(self._BINS, dtype=np.int64)
        self.sums = np.zeros(self._BINS)

    def add(self, mean_squares: np.ndarray) -> None:
        kept = mean_squares[mean_squares >= _lufs_to_energy(_ABSOLUTE_GATE_LUFS)]
        if not kept.size:
            return
        bins = self._bin(_LOUDNESS_OFFSET_LU + 10.0 * np.log10(kept))
        self.counts += np.bincount(bins, minlength=self._BINS)
        self.sums += np.bincount(bins, weights=kept, minlength=self._BINS)

    def _bin(self, lufs: np.ndarray | float) -> np.ndarray:
        index = np.floor((np.asarray(lufs) - _ABSOLUTE_GATE_LUFS) / self._BIN_LU)
        return np.clip(index, 0, self._BINS - 1).astype(np.intp)

    def _gate(self, relative_gate_lu: float) -> int:
        """First bin at or above the relative gate (BS.1770-4 eq. 6, Tech 3342 section 3)."""
        total = int(self.counts.sum())
        mean = float(self.sums.sum()) / total
        return int(self._bin(_energy_to_lufs(mean * 10.0 ** (relative_gate_lu / 10.0))))

    def gated_lufs(self, relative_gate_lu: float) -> float:
        """BS.1770-4 annex 1 eqs. (4)-(7): absolute gate, then relative gate, then the mean."""
        if not self.counts.any():
            return -math.inf
        first = self._gate(relative_gate_lu)
        count = int(self.counts[first:].sum())
        return _energy_to_lufs(float(self.sums[first:].sum()) / count) if count else -math.inf

    def range_lu(self) -> float:
        """EBU Tech 3342 section 3: 95th minus 10th percentile of the gated short-term values,
        by nearest rank as libebur128, each read as its bin's mean energy."""
        if not self.counts.any():
            return 0.0
        first = self._gate(_LRA_RELATIVE_GATE_LU)
        counts, sums = self.counts[first:], self.sums[first:]
        total = int(counts.sum())
        if not total:
            return 0.0
        cumulative = np.cumsum(counts)

        def value(p: float) -> float:
            rank = int((total - 1) * p + 0.5)  # 0-based, as round((n - 1) p)
            k = int(np.searchsorted(cumulative, rank, side="right"))
            return _energy_to_lufs(float(sums[k]) / int(counts[k]))

        return value(_LRA_HIGH_PERCENTILE) - value(_LRA_LOW_PERCENTILE)


class _StepEnergies:
    """Channel-weighted sums of squared K-weighted samples, per 100 ms step, and what is
    built from them: the gating blocks (4 steps) and short-term windows (30 steps) in
    histograms, the last 3 s of steps and of per-sample energies (a ring, for the
    short-term loudness between step boundaries), and optionally every step.
    """

    def __init__(self, step: int, *, keep_steps: bool = False) -> None:
        self.step = step
        self.keep_steps = keep_steps
        self.sums = np.zeros(1024 if keep_steps else 0)
        self.count = 0
        self.frames = 0
        self.blocks = _EnergyHistogram()
        self.short_terms = _EnergyHistogram()
        self._recent = np.zeros(0)  # the last 30 complete steps
        self._partial = 0.0
        self._ring = np.zeros(_SHORT_TERM_STEPS * step, dtype=np.float32)

    def add(self, energy: np.ndarray) -> None:
        """Add per-sample energies (float32, 1-D).

        Sums are float32 pairwise sums (relative error ~1e-7, i.e. 4e-7 LU) kept in float64.
        """
        n = len(energy)
        if not n:
            return
        self._remember(energy)
        into = self.frames % self.step
        head = min((self.step - into) % self.step, n)  # frames that finish the open step
        whole = (n - head) // self.step
        end = head + whole * self.step
        done = []
        if head:
            self._partial += float(energy[:head].sum())
            if into + head == self.step:
                done = [self._partial]
                self._partial = 0.0
        sums = energy[head:end].reshape(whole, self.step).sum(axis=1).astype(np.float64)
        if done:
            sums = np.concatenate([done, sums])
        self._append(sums)
        if end < n:
            self._partial += float(energy[end:].sum())
        self.frames += n

    def _append(self, sums: np.ndarray) -> None:
        if not len(sums):
            return
        history = np.concatenate([self._recent, sums])
        # Windows ending at each new step (only once enough steps have been seen).
        for steps, histogram in ((_GATE_STEPS, self.blocks), (_SHORT_TERM_STEPS, self.short_terms)):
            windows = window_sums(history, steps)[-len(sums) :]
            histogram.add(windows / (steps * self.step))
        self._recent = history[-_SHORT_TERM_STEPS:]
        if self.keep_steps:
            end = self.count + len(sums)
            if end > len(self.sums):
                grown = np.zeros(max(2 * len(self.sums), end))
                grown[: self.count] = self.sums[: self.count]
                self.sums = grown
            self.sums[self.count : end] = sums
        self.count += len(sums)

    def _remember(self, energy: np.ndarray) -> None:
        size = len(self._ring)
        keep = energy[-size:]
        at = (self.frames + len(energy) - len(keep)) % size
        first = min(len(keep), size - at)
        self._ring[at : at + first] = keep[:first]
        self._ring[: len(keep) - first] = keep[first:]

    def last_3_s(self) -> float:
        """Summed energy of the last 3 s (zeros before the start, as libebur128 counts)."""
        if self.frames % self.step == 0:
            return float(self._recent.sum())
        return float(self._ring.sum(dtype=np.float64))


def _gated_lufs(block_energies: np.ndarray, relative_gate_lu: float) -> float:
    """BS.1770-4 annex 1 eqs. (4)-(7): absolute gate, then relative gate, then the mean."""
    above = block_energies[block_energies >= _lufs_to_energy(_ABSOLUTE_GATE_LUFS)]
    if not above.size:
        return -math.inf
    threshold = above.mean() * 10.0 ** (relative_gate_lu / 10.0)
    kept = above[above >= threshold]
    return _energy_to_lufs(float(kept.mean())) if kept.size else -math.inf


def _loudness_range_lu(short_term_energies: np.ndarray) -> float:
    """EBU Tech 3342 section 3: 95th minus 10th percentile of the gated short-term values.

    Percentiles by nearest rank, ``round((n - 1) p)`` of the sorted values, as libebur128.
    """
    above = short_term_energies[short_term_energies >= _lufs_to_energy(_ABSOLUTE_GATE_LUFS)]
    if not above.size:
        return 0.0
    kept = np.sort(above[above >= above.mean() * 10.0 ** (_LRA_RELATIVE_GATE_LU / 10.0)])
    if not kept.size:
        return 0.0
    last = len(kept) - 1
    low = kept[int(last * _LRA_LOW_PERCENTILE + 0.5)]
    high = kept[int(last * _LRA_HIGH_PERCENTILE + 0.5)]
    return _energy_to_lufs(float(high)) - _energy_to_lufs(float(low))


def _finite(lufs: float) -> float:
    return float(lufs) if math.isfinite(lufs) and lufs > SILENCE_LUFS else SILENCE_LUFS
