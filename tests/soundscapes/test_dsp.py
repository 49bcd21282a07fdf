"""The fast paths of the shared DSP primitives and the timeline, against plain references.

Each fast path (a sum of sines as matrix products, float32 filters, mid/side noise, gains
computed once per block) must give what the straightforward computation gives.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from soundscapes.dsp import (
    Filter,
    OverlapAdd,
    SineBank,
    bandpass,
    one_pole_lowpass,
    set_width,
    stereo_noise,
    white_noise,
)
from soundscapes.errors import SoundscapeError
from soundscapes.layers import create_layer
from soundscapes.scene import LayerSpec, Scene
from soundscapes.timeline import SceneCue, Timeline, layer_seed

SR = 44_100


@pytest.mark.parametrize("degree", [0, 1, 2])
@pytest.mark.parametrize("decaying", [False, True])
def test_sine_bank_equals_the_direct_sum(degree: int, decaying: bool) -> None:
    rng = np.random.default_rng(degree)
    count, rows, block, blocks = 5, 2, 64, 300
    freqs_hz = rng.uniform(50.0, 9000.0, count)
    phases_rad = rng.uniform(0.0, 2.0 * math.pi, count)
    decay_per_s = rng.uniform(0.5, 8.0, count) if decaying else None
    gains = rng.uniform(-1.0, 1.0, (degree + 1, rows, count, blocks))
    start_frame = 0 if decaying else 987_654_321  # hours in: the phase must not drift

    out = SineBank(freqs_hz, phases_rad, block, SR, decay_per_s)(gains, start_frame)

    n = np.arange(blocks * block)
    u = (n % block) / block
    b = n // block
    damping = np.zeros(count) if decay_per_s is None else decay_per_s
    reference = np.zeros((rows, len(n)))
    for k in range(count):
        t_s = (start_frame + n) / SR
        wave = np.exp(-damping[k] * t_s) * np.sin(2.0 * math.pi * freqs_hz[k] * t_s + phases_rad[k])
        for r in range(rows):
            gain = sum(gains[p, r, k, b] * u**p for p in range(degree + 1))
            reference[r] += gain * wave
    assert out.dtype == np.float32 and out.shape == reference.shape
    np.testing.assert_allclose(out, reference, rtol=0, atol=2e-5 * np.max(np.abs(reference)))


def test_white_noise_continues_one_stream_whatever_the_blocks() -> None:
    whole = white_noise(np.random.default_rng(1), (2, 64 * 200), np.array([1.0, 0.5]))
    rng = np.random.default_rng(1)
    parts = [white_noise(rng, (2, 64 * k), np.array([1.0, 0.5])) for k in (1, 63, 8, 128)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)
    assert whole.dtype == np.float32
    np.testing.assert_allclose(np.std(whole, axis=1), [1.0, 0.5], rtol=0.02)


@pytest.mark.parametrize("width", [0.0, 0.5, 0.8, 1.0])
def test_stereo_noise_has_the_level_and_correlation_of_set_width(width: float) -> None:
    noise = stereo_noise(np.random.default_rng(2), 2**18, width, 0.5).astype(np.float64)
    reference = set_width(np.random.default_rng(3).standard_normal((2, 2**18)) * 0.5, width)
    np.testing.assert_allclose(np.std(noise, axis=1), np.std(reference, axis=1), rtol=0.02)
    correlation = np.corrcoef(noise)[0, 1]
    assert correlation == pytest.approx(np.corrcoef(reference)[0, 1], abs=0.01)


def test_float32_filter_is_close_to_float64_and_falls_back_when_it_would_not_be() -> None:
    x = white_noise(np.random.default_rng(4), (2, 3 * 8192))
    band = bandpass(1500.0, 6000.0, SR, 1)
    # A 40 Hz corner at 44.1 kHz, as one third-order direct form: float32 would stray.
    low = np.concatenate([bandpass(40.0, 2000.0, SR, 1), one_pole_lowpass(300.0, SR)])
    for sos in (band, low):
        single, double = Filter(sos, dtype=np.float32), Filter(sos)
        pieces = [single(x[:, i : i + 8192]) for i in range(0, x.shape[1], 8192)]
        out, reference = np.concatenate(pieces, axis=1), double(x)
        assert out.dtype == np.float32
        error = np.sqrt(np.mean((out - reference) ** 2)) / np.sqrt(np.mean(reference**2))
        # In float32 the low one would stray by about 3e-4 (-70 dB): it must have fallen back.
        assert error < 1e-4


def test_filter_from_rest_and_reset() -> None:
    sos = bandpass(300.0, 900.0, SR, 2)
    x = white_noise(np.random.default_rng(5), (2, 4096))
    running = Filter(sos)
    running(x)
    # A one-off signal is filtered from silence, any lead shape...
    np.testing.assert_array_equal(running.from_rest(x[0]), Filter(sos, (1,))(x[:1])[0])
    # ...and leaves the running state alone.
    continued = Filter(sos)(np.concatenate([x, x], axis=1))[:, 4096:]
    np.testing.assert_array_equal(running(x), continued)
    running.reset()
    np.testing.assert_array_equal(running(x), Filter(sos)(x))


def test_overlap_add_knows_when_it_is_quiet() -> None:
    buffer = OverlapAdd(1, capacity=16, dtype=np.float32)
    assert buffer.quiet()
    buffer.add_panned(5, np.ones(10, dtype=np.float32), (2.0,))
    assert not buffer.quiet()
    first, second = buffer.pop(8), buffer.pop(8)
    assert buffer.quiet()
    joined = np.concatenate([first, second, buffer.pop(8)], axis=1)[0]
    np.testing.assert_array_equal(joined, np.r_[np.zeros(5), np.full(10, 2.0), np.zeros(9)])


def test_timeline_takes_scenes_by_start_in_any_order() -> None:
    """``{start_s: scene}`` is the same timeline as the cues it stands for, sorted, from 0."""
    a, b = Scene(name="a", layers=(LayerSpec(name="drone"),)), Scene(name="b", layers=())
    by_start = Timeline({9.0: b, 2.0: a}, duration_s=20.0)
    later, first = SceneCue(start_s=9.0, scene=b), SceneCue(start_s=2.0, scene=a)
    assert by_start.cues == Timeline([later, first], duration_s=20.0).cues
    assert by_start.cues == [SceneCue(start_s=0.0, scene=a), later]
    with pytest.raises(SoundscapeError, match="at least one scene"):
        Timeline({}, duration_s=20.0)


def test_timeline_render_applies_the_per_frame_gains() -> None:
    """Gains computed once per steady block equal the per-frame curves, fades included."""
    a = Scene(name="a", layers=(LayerSpec(name="drone"), LayerSpec(name="shimmer", gain_db=-3)))
    b = Scene(name="b", layers=(LayerSpec(name="drone", gain_db=-6), LayerSpec(name="melody")))
    timeline = Timeline(
        {0.0: a, 9.0: b}, duration_s=20.0, crossfade_s=4.0, fade_in_s=2.0, fade_out_s=5.0, seed=7
    )
    source = timeline.source()
    frames = 21 * SR
    # Uneven blocks, most of them inside one scene with no fade: the steady path.
    sizes = [30_000, 65_536, 4_000] + [16_384] * 50
    sizes.append(frames - sum(sizes))
    out = np.concatenate([source.render(n) for n in sizes], axis=1)

    reference = np.zeros((2, frames), dtype=np.float32)
    t_s = np.arange(frames) / SR
    gains = source.layer_gains(t_s)
    fade = source.fade_gain(t_s)
    for key, ranges in source._active.items():
        ((start, end),) = ranges  # each layer is heard in one run here
        end = min(end, frames)
        layer = create_layer(key[0], seed=layer_seed(7, key), **dict(key[1]))
        block = layer.render(end - start)
        reference[:, start:end] += block * (gains[key] * fade)[start:end].astype(np.float32)
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-6)
    assert np.all(out[:, 20 * SR :] == 0.0)
