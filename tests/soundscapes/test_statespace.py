"""Filters as block state-space matrix products (soundscapes.dsp.statespace): what float64
``sosfilt`` gives, to float32 rounding, however a signal is cut into calls; back at rest after
a reset; the same bits for the same calls (a bed rendered in one process or two depends on it).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import signal

from soundscapes.dsp import (
    Filter,
    StateSpaceFilter,
    bandpass,
    highpass,
    long_call_filter,
    lowpass,
    parallel,
    resonator,
)
from soundscapes.dsp.statespace import ROW_FRAMES

SR = 44_100


def _formants() -> np.ndarray:
    """A breath's tract as the breathing mirrors build it: five resonators in parallel (one
    filter of ten poles), a second-order high-pass and a first-order low-pass."""
    bands = [(700.0, 150.0), (1800.0, 200.0), (2700.0, 250.0), (4000.0, 300.0), (5500, 3300)]
    tract = parallel([resonator(f, f / bw, SR) for f, bw in bands], [1.0] * len(bands))
    return np.concatenate([tract, highpass(250.0, SR, 2), lowpass(6800.0, SR, 1)])


def _in_calls(filt: StateSpaceFilter, x: np.ndarray, cuts: list[int]) -> np.ndarray:
    return np.concatenate([filt(x[:, a:b]) for a, b in itertools.pairwise(cuts)], axis=1)


@pytest.mark.parametrize(
    ("sos", "channels"),
    [
        (_formants(), 1),  # 13 states: the first-order section is one of them
        (np.vstack([lowpass(9000.0, SR, 2), highpass(20.0, SR, 1)]), 2),  # a pole near 1
        (bandpass(30.0, 80.0, SR // 4, 1), 2),  # a low band at a quarter of the rate
    ],
)
def test_it_filters_as_float64_sosfilt_does_however_the_signal_is_cut(sos, channels):
    rng = np.random.default_rng(1)
    frames = 50_000
    x = rng.standard_normal((channels, frames)).astype(np.float32)
    reference = signal.sosfilt(sos, x.astype(np.float64), axis=-1)
    # Calls of every kind: shorter than a row, a row and a bit, long, a single frame.
    cuts = [0, 1, 37, ROW_FRAMES + 38, 5000, 5001, 33_333, frames]
    got = _in_calls(StateSpaceFilter(sos, channels), x, cuts)
    whole = StateSpaceFilter(sos, channels)(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    for y in (got, whole):
        error = np.sqrt(np.mean((y - reference) ** 2) / np.mean(reference**2))
        assert error < 1e-6, error  # float32 rounding; a float32 direct form strays to 1e-3
    assert np.max(np.abs(got - whole)) < 1e-5 * np.max(np.abs(reference))


def test_the_same_calls_give_the_same_bits_and_a_reset_returns_to_rest():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 20_000)).astype(np.float32)
    cuts = [0, 7000, 7001, 20_000]
    first, second = StateSpaceFilter(_formants(), 1), StateSpaceFilter(_formants(), 1)
    once = _in_calls(first, x, cuts)
    assert np.array_equal(once, _in_calls(second, x, cuts))
    first.reset()
    assert np.array_equal(_in_calls(first, x, cuts), once)  # as from a fresh filter
    silence = np.zeros((1, 3000), np.float32)
    assert np.any(second(silence) != 0.0)  # still ringing: its state was kept between calls


def test_warming_up_leaves_the_filter_where_the_signal_left_it():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 9000)).astype(np.float32)
    sos = bandpass(100.0, 300.0, SR, 1)
    warmed, straight = StateSpaceFilter(sos), StateSpaceFilter(sos)
    warmed.warm_up(x[:, :4000])
    straight(x[:, :4000])
    assert np.array_equal(warmed(x[:, 4000:]), straight(x[:, 4000:]))


@pytest.mark.parametrize("nearly", [0.0, 1e-9])
def test_a_pole_cancelled_by_a_zero_is_refused(nearly):
    """No minimal realisation to balance: refused, never a filter that rings out of bounds."""
    cos = np.cos(2 * np.pi * 1000.0 / SR)

    def pair(radius: float) -> list[float]:  # 1 - 2 r cos z^-1 + r^2 z^-2
        return [1.0, -2 * radius * cos, radius**2]

    # The second section's zeros sit on the first one's poles: a plain wire, four states.
    sos = np.array([pair(0.5) + pair(0.9), pair(0.9 + nearly) + pair(0.5)])
    with pytest.raises(ValueError, match="cancel a pole"):
        StateSpaceFilter(sos, 1)
    # What a layer asks for falls back to the lfilter path, and still filters.
    fallback = long_call_filter(sos, 1)
    assert isinstance(fallback, Filter)
    x = np.random.default_rng(4).standard_normal((1, 5000)).astype(np.float32)
    assert np.allclose(fallback(x), x, atol=1e-3)  # the sections cancel out: a wire
    StateSpaceFilter(np.array([pair(0.5) + pair(0.9), pair(0.7) + pair(0.6)]), 1)  # none cancel
