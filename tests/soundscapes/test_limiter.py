"""The true-peak limiter: the ceiling holds, it is transparent elsewhere, and it streams."""

from __future__ import annotations

import numpy as np
import pytest

from soundscapes.output.limiter import PEAK_BOUND, TruePeakLimiter, true_peak_envelope
from soundscapes.output.meter import measure

SR = 44_100


def _limit(x: np.ndarray, ceiling_db: float, block_sizes: list[int] | None = None) -> tuple:
    lim = TruePeakLimiter(ceiling_db, SR, x.shape[0])
    pieces, i = [], 0
    sizes = iter(block_sizes or [])
    while i < x.shape[1]:
        n = next(sizes, 65536)
        pieces.append(lim.process(x[:, i : i + n]))
        i += n
    pieces.append(lim.flush())
    return np.concatenate(pieces, axis=1), lim


def _speechlike(seconds: float, peak: float, seed: int = 1) -> np.ndarray:
    """Noise bursts at a 4 Hz syllable rate, with inter-sample peaks from an fs/4 tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 4
    x = rng.standard_normal((2, t.size)) * env * peak / 4
    x[:, SR : SR + 2000] += peak * np.sin(2 * np.pi * t[:2000] * SR / 4 + np.pi / 4)
    return x.astype(np.float32)


def test_no_true_peak_passes_the_ceiling():
    x = _speechlike(10.0, peak=1.5)
    y, lim = _limit(x, -3.0)
    assert y.shape == x.shape
    assert lim.limited_frames > 0
    ceiling = 10 ** (-3.0 / 20)
    assert true_peak_envelope(y).max() <= ceiling * (1 + 1e-5)
    # An independent interpolator (libebur128's, through the meter) agrees within 0.1 dB.
    assert measure(y, SR).true_peak_dbtp <= -3.0 + 0.1
    # An fs/4 tone at 45° peaks 3 dB above its samples, between them: the detector sees it.
    tone = np.sin(2 * np.pi * np.arange(2000) / 4 + np.pi / 4)[None].astype(np.float32)
    assert np.abs(tone).max() == pytest.approx(0.7071, abs=1e-3)
    assert true_peak_envelope(tone)[100:-100].max() == pytest.approx(1.0, abs=0.01)


def test_untouched_away_from_the_peaks_and_smooth_near_them():
    rng = np.random.default_rng(3)
    # Positive noise, so that the gain can be read back as output / input everywhere.
    x = rng.uniform(0.01, 0.03, size=(2, 4 * SR)).astype(np.float32)
    spike_at = 2 * SR
    x[:, spike_at] = 0.95
    y, lim = _limit(x, -6.0)
    ramp = lim.latency_frames
    gain = y[0] / x[0]
    far = np.ones(x.shape[1], dtype=bool)
    far[spike_at - 2 * ramp - 2000 : spike_at + 2 * ramp + 2000] = False
    assert np.array_equal(y[:, far], x[:, far])
    assert gain[spike_at] <= 10 ** (-6 / 20) / 0.95 + 1e-4
    # The gain glides: no step bigger than the whole reduction spread over the short ramp.
    steps = np.abs(np.diff(gain[spike_at - 2 * ramp : spike_at + 2 * ramp]))
    assert steps.max() < 2.0 / (0.25 * ramp)


def test_block_sizes_do_not_change_a_sample():
    x = _speechlike(6.0, peak=1.2, seed=4)
    whole, _ = _limit(x, -2.0, [x.shape[1]])
    rng = np.random.default_rng(9)
    sizes = [int(s) for s in rng.integers(1, 20_000, size=400)]
    pieced, _ = _limit(x, -2.0, sizes)
    np.testing.assert_allclose(pieced, whole, atol=1e-6)


def test_the_skip_bound_is_safe():
    # Samples just under ceiling / PEAK_BOUND can never interpolate above the ceiling: the
    # worst case (alternating signs under the largest taps) stays under it.
    ceiling = 0.5
    x = np.full((1, 64), ceiling / PEAK_BOUND, dtype=np.float32)
    x[0, ::2] *= -1
    assert true_peak_envelope(x).max() <= ceiling * (1 + 1e-6)


@pytest.mark.parametrize("ceiling_db", [-1.0, -3.0])
def test_takes_no_more_loudness_than_a_reference_limiter(ceiling_db):
    """pedalboard's BrickwallLimiter (true-peak mode) as the reference: on the same signal
    ours takes no more loudness and holds the ceiling at least as closely."""
    import pedalboard

    x = _speechlike(10.0, peak=0.9, seed=6)
    ours, lim = _limit(x, ceiling_db)
    ref = pedalboard.BrickwallLimiter(ceiling_db=ceiling_db, true_peak=True).process(x, SR)
    before = measure(x, SR).integrated_lufs
    ours_m, ref_m = measure(ours, SR), measure(ref, SR)
    assert 0 < lim.limited_frames < 0.5 * x.shape[1]
    assert before - ours_m.integrated_lufs <= before - ref_m.integrated_lufs + 0.02
    assert ours_m.true_peak_dbtp <= max(ref_m.true_peak_dbtp, ceiling_db) + 0.05


def _preview_blocks(x: np.ndarray, frames: int = 65536):
    return lambda: (x[:, i : i + frames] for i in range(0, x.shape[1], frames))


def _meters_made(monkeypatch) -> list:
    """Every loudness meter the mastering module makes from now on."""
    from soundscapes.output import master

    made: list = []
    monkeypatch.setattr(master, "LoudnessMeter", lambda *a, **k: made.append(a))
    return made


def test_the_preview_meters_nothing_where_the_limiter_lowers_nothing(monkeypatch):
    """A bed whose peaks could reach the ceiling (so the preview runs) but do not: the loss is
    nil, found by the limiter alone, with no meter made."""
    from soundscapes.output import master

    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 20 * SR)) * 0.05).astype(np.float32)
    gain_db = 20 * np.log10(0.5 / float(np.abs(x).max()))  # its largest sample to -6 dBFS
    ceiling_db = -3.0  # under the skip bound of that peak, above its true peaks
    assert float(np.abs(x).max()) * PEAK_BOUND * 10 ** (gain_db / 20) > 10 ** (ceiling_db / 20)
    made = _meters_made(monkeypatch)
    loss = master.limiter_loss_lu(_preview_blocks(x), gain_db, ceiling_db, SR, 2, every=1)
    assert loss == 0.0
    assert made == []


def test_a_peak_late_in_the_stretch_is_metered_over_all_of_it():
    """The limiter first meets the ceiling in the fourth block: the loss is then measured over
    the whole stretch from its start, as two meters reading every block give it."""
    from soundscapes.output.master import limiter_loss_lu

    rng = np.random.default_rng(6)
    x = (rng.standard_normal((2, 12 * SR)) * 0.05).astype(np.float32)
    x[:, 4 * 65536 : 4 * 65536 + 2 * SR] *= 12.0  # two loud seconds, past the third block
    expected = _preview_loss_with_two_meters(x, -6.0)
    assert expected > 0.1
    got = limiter_loss_lu(_preview_blocks(x), 0.0, -6.0, SR, 2, every=1)
    assert got == pytest.approx(expected, abs=1e-4)


def test_the_energy_taken_is_what_the_output_lacks():
    x = _speechlike(6.0, peak=1.4)
    y, lim = _limit(x, -3.0)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    taken = float(np.sum(x64**2) - np.sum(y64**2))
    assert taken > 0
    assert lim.removed_energy == pytest.approx(taken, rel=1e-6)


def _preview_loss_with_two_meters(x, ceiling_db):
    """The preview's loss as its two meters measure it over every block."""
    y, _ = _limit(x, ceiling_db)
    before = measure(x, SR, true_peak=False).integrated_lufs
    return before - measure(y, SR, true_peak=False).integrated_lufs


def test_a_loss_too_small_to_matter_is_not_metered(monkeypatch):
    """One peak a little over the ceiling in twenty seconds, in their fifth block: the limiter
    lowers a few thousand frames by a little, a loss far under a thousandth of a LU, taken
    as none."""
    from soundscapes.output import master

    rng = np.random.default_rng(7)
    x = (rng.standard_normal((2, 20 * SR)) * 0.05).astype(np.float32)
    x[:, 7 * SR] = 0.71  # one sample over the rest, its true peak just over -3 dBFS
    assert 0.0 < _preview_loss_with_two_meters(x, -3.0) < master.NEGLIGIBLE_LOSS_LU / 10
    made = _meters_made(monkeypatch)
    assert master.limiter_loss_lu(_preview_blocks(x), 0.0, -3.0, SR, 2, every=1) == 0.0
    assert made == []
