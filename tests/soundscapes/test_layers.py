"""The shared battery every registered layer must pass.

Each test measures something (samples, loudness, sample-to-sample jumps) and fails if the
behaviour broke. Renders are shared per layer through module-scoped fixtures, so the whole
battery renders about four minutes of audio per layer.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pyebur128
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.linalg import solve_toeplitz
from scipy.ndimage import uniform_filter1d
from scipy.signal import lfilter

from soundscapes.dsp import (
    CHUNK_FRAMES,
    ChunkedSource,
    Filter,
    OverlapAdd,
    SmoothRandom,
    Upsampler,
    lowpass,
)
from soundscapes.errors import LayerError
from soundscapes.layers import create_layer, layer_info, layer_names
from soundscapes.layers.spec import LayerInfo

SR = 44_100
NAMES = layer_names()
REQUIRED = ["breathing-mirrors", "gulls", "storm-hush", "tide"]

#: "None startles": the loudest 3 s (short-term loudness, BS.1770) may rise at most this far
#: above the layer's median 3 s over two minutes. 10 LU is roughly a doubling of perceived
#: loudness (the sone scale doubles per 10 phon), the most an event (a gull burst, a chime, an
#: owl) may stand out from its own bed without jolting a listener who is drifting off. Beds
#: that only swell (rain, wind, drone, ...) get 6 LU: a swell wider than that reads as an event.
EVENT_LAYERS = {"chimes", "gulls", "melody", "night", "tide", "storm-hush"}
EVENT_BOUND_LU = 10.0
BED_BOUND_LU = 6.0

#: A click is a jump far above the signal's own high-frequency content, i.e. a sample the
#: signal's recent past does not predict. The detector whitens each channel with a linear
#: predictor fitted to the whole render (the AR-residual method of audio restoration, Vaseghi &
#: Rayner; Godsill & Rayner, "Digital Audio Restoration", ch. 5) and compares every residual
#: with the RMS of the residuals around it. For noise-like residuals that ratio stays below ~6
#: over minutes (the largest of millions of Gaussian draws); the layers measure 3-9 (rain's
#: drops and the chimes' strikes are the sharpest); a step the size of the signal's RMS scores
#: 19-110 (test_click_detector_sees_a_discontinuity). An order-12 predictor separates the two
#: best (higher orders whiten the steps away along with the signal).
CLICK_RATIO_LIMIT = 12.0
CLICK_PREDICTOR_ORDER = 12


# --- measurement helpers (also used by test_signatures) ---------------------------------------


def _interleaved(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.T, dtype=np.float64).reshape(-1)


def integrated_lufs(x: np.ndarray, sample_rate_hz: int = SR) -> float:
    """BS.1770 integrated loudness of float ``(2, n)`` audio (pyebur128)."""
    state = pyebur128.R128State(2, sample_rate_hz, pyebur128.MeasurementMode.MODE_I)
    state.add_frames(_interleaved(x), x.shape[1])
    return float(pyebur128.get_loudness_global(state))


def short_term_lufs(x: np.ndarray, sample_rate_hz: int = SR, hop_s: float = 0.2) -> np.ndarray:
    """Short-term (3 s window) loudness every ``hop_s`` once the first window is full."""
    state = pyebur128.R128State(2, sample_rate_hz, pyebur128.MeasurementMode.MODE_S)
    hop = round(hop_s * sample_rate_hz)
    data = _interleaved(x)
    values = []
    for start in range(0, x.shape[1] - hop + 1, hop):
        state.add_frames(data[2 * start : 2 * (start + hop)], hop)
        if start + hop >= 3 * sample_rate_hz:
            values.append(pyebur128.get_loudness_shortterm(state))
    return np.array(values)


def click_ratio(x: np.ndarray, window: int = 256, guard: int = 3) -> float:
    """Largest ratio of a prediction residual to the RMS of the residuals around it.

    Each channel of float ``(channels, n)`` audio is whitened by an order-12 linear predictor
    (Yule-Walker, fitted to that channel). The neighbourhood is
    ``window`` samples either side, leaving out ``guard`` samples either side of the value
    itself, so a lone discontinuity cannot hide behind its own energy; a floor at -80 dB of
    the channel's RMS keeps inaudibly small residuals from counting.
    """
    x = np.asarray(x, dtype=np.float64)
    residuals = []
    for channel in x:
        # Zero-padded to a power of two at least twice the length: a linear autocorrelation.
        spectrum = np.fft.rfft(channel, 2 ** math.ceil(math.log2(2 * len(channel))))
        autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: CLICK_PREDICTOR_ORDER + 1]
        autocorrelation[0] *= 1.0 + 1e-9  # keeps a silent or pure-tone channel solvable
        if autocorrelation[0] <= 0.0:
            residuals.append(np.zeros(len(channel)))
            continue
        predictor = solve_toeplitz(autocorrelation[:-1], autocorrelation[1:])
        residuals.append(lfilter(np.concatenate([[1.0], -predictor]), [1.0], channel))
    d = np.abs(np.array(residuals))[:, CLICK_PREDICTOR_ORDER:]
    energy = d**2
    # Sums over the neighbourhood and over the guard, as moving averages times their widths.
    wide = uniform_filter1d(energy, 2 * window + 1, axis=-1, mode="constant")
    narrow = uniform_filter1d(energy, 2 * guard + 1, axis=-1, mode="constant")
    total = wide * (2 * window + 1) - narrow * (2 * guard + 1)
    n = d.shape[-1]
    index = np.arange(n)
    count = (np.minimum(index + window + 1, n) - np.maximum(index - window, 0)) - (
        np.minimum(index + guard + 1, n) - np.maximum(index - guard, 0)
    )
    local_rms = np.sqrt(np.maximum(total, 0.0) / count)
    floor = 1e-4 * np.sqrt(np.mean(x**2, axis=-1, keepdims=True)) + 1e-15
    return float(np.max(d / (local_rms + floor)))


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def two_minutes(name: str) -> np.ndarray:
    """120 s of the layer at default parameters, seed 0."""
    return create_layer(name, seed=0).render(120 * SR)


BLOCK_TEST_FRAMES = 5 * CHUNK_FRAMES // 2 + 123


@pytest.fixture(scope="module")
def one_shot(name: str) -> np.ndarray:
    return create_layer(name, seed=3).render(BLOCK_TEST_FRAMES)


# --- registry ---------------------------------------------------------------------------------


def test_registry_has_the_required_layers_sorted() -> None:
    assert sorted(NAMES) == NAMES
    assert set(REQUIRED) <= set(NAMES)


def test_layer_info_is_complete(name: str) -> None:
    info = layer_info(name)
    assert isinstance(info, LayerInfo)
    assert info.name == name
    assert info.description and "\n" not in info.description
    assert info.calibrated_lufs == -30.0
    seen = set()
    for param in info.params:
        assert param.name not in seen
        seen.add(param.name)
        assert param.minimum <= param.default <= param.maximum, param
        assert param.description and "\n" not in param.description


def test_unknown_layer_lists_close_names() -> None:
    with pytest.raises(LayerError, match="tide") as caught:
        create_layer("tyde")
    assert isinstance(caught.value, ValueError)
    with pytest.raises(LayerError, match="storm-hush"):
        layer_info("storm hush")
    with pytest.raises(LayerError, match="gulls"):
        layer_info("gull")


def test_unknown_parameter_is_rejected(name: str) -> None:
    with pytest.raises(LayerError, match=name) as caught:
        create_layer(name, loudness=1.0)
    message = str(caught.value)
    assert "loudness" in message
    for param in layer_info(name).params:
        assert param.name in message


def test_out_of_range_parameters_are_rejected(name: str) -> None:
    for param in layer_info(name).params:
        span = param.maximum - param.minimum
        for bad in (param.maximum + 0.1 * span + 0.01, param.minimum - 0.1 * span - 0.01):
            with pytest.raises(LayerError) as caught:
                create_layer(name, **{param.name: bad})
            message = str(caught.value)
            assert name in message and param.name in message
            assert f"{param.minimum:g}" in message and f"{param.maximum:g}" in message
        with pytest.raises(LayerError):
            create_layer(name, **{param.name: float("nan")})
        # The limits themselves are accepted.
        create_layer(name, **{param.name: param.minimum}).render(64)
        create_layer(name, **{param.name: param.maximum}).render(64)


def test_bad_seed_and_rate_are_rejected() -> None:
    with pytest.raises(LayerError, match="seed"):
        create_layer("tide", seed=-1)
    with pytest.raises(LayerError, match="sample_rate_hz"):
        create_layer("tide", sample_rate_hz=100)


# --- the Source contract ----------------------------------------------------------------------


def test_shape_dtype_and_empty_render(name: str) -> None:
    layer = create_layer(name)
    assert layer.sample_rate_hz == SR
    assert layer.channels == 2
    empty = layer.render(0)
    assert empty.shape == (2, 0) and empty.dtype == np.float32
    block = layer.render(1000)
    assert block.shape == (2, 1000) and block.dtype == np.float32
    with pytest.raises(ValueError):
        layer.render(-1)


def test_other_sample_rates_work(name: str) -> None:
    block = create_layer(name, sample_rate_hz=22_050).render(22_050)
    assert block.shape == (2, 22_050) and np.all(np.isfinite(block))
    assert np.sqrt(np.mean(block.astype(np.float64) ** 2)) > 0.0


@settings(max_examples=6, deadline=None)
@given(sizes=st.lists(st.integers(1, 3 * CHUNK_FRAMES // 2), min_size=1, max_size=8))
@example(sizes=[1, 1, 1, CHUNK_FRAMES - 3, 1, CHUNK_FRAMES + 1, 7])
@example(sizes=[CHUNK_FRAMES, CHUNK_FRAMES, 1])
def test_blocks_equal_one_shot(name: str, one_shot: np.ndarray, sizes: list[int]) -> None:
    layer = create_layer(name, seed=3)
    blocks = []
    done = 0
    for size in sizes:
        size = min(size, BLOCK_TEST_FRAMES - done)
        if size == 0:
            break
        blocks.append(layer.render(size))
        done += size
    if done < BLOCK_TEST_FRAMES:
        blocks.append(layer.render(BLOCK_TEST_FRAMES - done))
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), one_shot)


def test_same_seed_same_samples_other_seed_differs(name: str, one_shot: np.ndarray) -> None:
    again = create_layer(name, seed=3).render(BLOCK_TEST_FRAMES)
    np.testing.assert_array_equal(again, one_shot)
    other = create_layer(name, seed=4).render(BLOCK_TEST_FRAMES)
    difference = np.sqrt(np.mean((other.astype(np.float64) - one_shot) ** 2))
    level = np.sqrt(np.mean(one_shot.astype(np.float64) ** 2))
    assert difference > 0.1 * level


#: Parameters that make events frequent, so a short render holds several that straddle joins.
BUSY_PARAMS: dict[str, dict[str, float]] = {
    "storm-hush": {"intensity": 1.0},
    "gulls": {"rate": 6.0},
    "chimes": {"intensity": 1.0},
    "night": {"intensity": 1.0},
    "fire": {"intensity": 1.0},
}


def test_internal_chunk_size_does_not_change_the_samples(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every filter state, phase, envelope and event tail is carried across chunk joins.

    Rendering with a quarter of the internal chunk size puts joins in new places; any state
    dropped or restarted at a join (a reset filter, a truncated event tail, a control signal
    that restarts per chunk) changes the samples there.
    """
    params = BUSY_PARAMS.get(name, {})
    frames = (50 if name == "storm-hush" else 25) * SR
    reference = create_layer(name, seed=6, **params).render(frames)
    monkeypatch.setattr(ChunkedSource, "chunk_frames", CHUNK_FRAMES // 4)
    small_chunks = create_layer(name, seed=6, **params).render(frames)
    # Rounding (float32 oscillators, sums grouped per chunk) differs by ~1e-6 of full scale;
    # a lost state differs by the size of the signal itself.
    tolerance = 1e-4 * float(np.max(np.abs(reference)))
    np.testing.assert_allclose(small_chunks, reference, rtol=0, atol=tolerance)


def test_finite_and_headroom(name: str, two_minutes: np.ndarray) -> None:
    assert np.all(np.isfinite(two_minutes))
    # At -30 LUFS nothing should come near full scale; scenes add gain on top.
    assert float(np.max(np.abs(two_minutes))) < 0.5


# --- level, startle, clicks -------------------------------------------------------------------


def test_calibrated_level_within_1_db(name: str, two_minutes: np.ndarray) -> None:
    target = layer_info(name).calibrated_lufs
    measured = {0: integrated_lufs(two_minutes[:, : 60 * SR])}
    for seed in (1, 2):
        measured[seed] = integrated_lufs(create_layer(name, seed=seed).render(60 * SR))
    for seed, lufs in measured.items():
        assert abs(lufs - target) <= 1.0, f"seed {seed}: {lufs:.2f} LUFS, calibrated {target}"


def test_no_event_startles(name: str, two_minutes: np.ndarray) -> None:
    short_term = short_term_lufs(two_minutes)
    rise_lu = float(np.max(short_term) - np.median(short_term))
    bound = EVENT_BOUND_LU if name in EVENT_LAYERS else BED_BOUND_LU
    assert rise_lu <= bound, f"loudest 3 s is {rise_lu:.1f} LU above the median (bound {bound})"


def test_no_event_startles_at_any_setting(name: str) -> None:
    """The same bound with each parameter at either end of its range (the others at their
    defaults): a near chime, a slow melody or the fastest tide must not jolt either."""
    bound = EVENT_BOUND_LU if name in EVENT_LAYERS else BED_BOUND_LU
    rises = {}
    for param in layer_info(name).params:
        for value in {param.minimum, param.maximum} - {param.default}:
            audio = create_layer(name, seed=0, **{param.name: value}).render(120 * SR)
            short_term = short_term_lufs(audio)
            rises[f"{param.name}={value:g}"] = float(np.max(short_term) - np.median(short_term))
    worst = max(rises, key=rises.__getitem__)
    assert rises[worst] <= bound, f"{worst}: {rises[worst]:.1f} LU above the median ({bound})"


def test_no_clicks(name: str, two_minutes: np.ndarray) -> None:
    # The first 30 s hold 40 chunk joins and, for event layers, several events.
    ratio = click_ratio(two_minutes[:, : 30 * SR])
    assert ratio < CLICK_RATIO_LIMIT, f"jump {ratio:.1f}x its neighbourhood"


#: Layers whose content is low-passed or tonal, where a discontinuity is plainly audible. In
#: broadband noise (breaths, rain, the gulls' sea-air bed) a small step is masked, and the
#: detector, like the ear, does not flag it. Lost state at chunk joins is caught for every
#: layer by test_internal_chunk_size_does_not_change_the_samples.
DETECTOR_CHECK_LAYERS = ["drone", "heartbeat", "melody", "storm-hush", "tide"]


@pytest.mark.parametrize("layer_name", DETECTOR_CHECK_LAYERS)
def test_click_detector_sees_a_discontinuity(layer_name: str) -> None:
    """The click test is only honest if it flags a real click in the layer."""
    audio = create_layer(layer_name, seed=5).render(10 * SR).astype(np.float64)
    assert click_ratio(audio) < CLICK_RATIO_LIMIT
    # A step the size of the signal's RMS: what a filter state dropped to zero leaves.
    rms = float(np.sqrt(np.mean(audio**2)))
    broken = audio.copy()
    broken[:, 5 * SR :] += rms
    assert click_ratio(broken) > CLICK_RATIO_LIMIT


def test_speed_is_far_above_real_time(name: str) -> None:
    """A guard against per-sample Python loops (those run at a few times real time).

    The target is 300x real time on one core (see the report, and the benchmarks for the
    figures); this only requires 20x, in process CPU time, which a per-sample loop never
    reaches: on a 2-core machine under a full test run beside other jobs, chimes (420x idle)
    measured 48x, and a 60x bar failed there.
    """
    layer = create_layer(name, seed=1)
    layer.render(SR)
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    start = time.process_time()
    layer.render(20 * SR)
    elapsed = time.process_time() - start
    speed = 20.0 / max(elapsed, 1e-9)
    assert speed > 20.0 or (threads not in (None, "1") and speed > 10.0), f"{speed:.0f}x"


# --- the primitives the battery relies on -----------------------------------------------------


def test_filter_in_pieces_equals_whole() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5000))
    whole = Filter(lowpass(300.0, SR, 4))(x)
    pieced = Filter(lowpass(300.0, SR, 4))
    parts = [pieced(x[:, a:b]) for a, b in ((0, 1), (1, 1777), (1777, 5000))]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=0, atol=1e-12)


def test_upsampler_in_pieces_equals_whole_and_passes_low_content() -> None:
    factor = 8
    t = np.arange(4096) / (SR / factor)
    x = np.stack([np.sin(2 * np.pi * 200.0 * t), np.cos(2 * np.pi * 200.0 * t)])
    whole = Upsampler(factor)(x)
    pieced = Upsampler(factor)
    parts = np.concatenate([pieced(x[:, :1000]), pieced(x[:, 1000:])], axis=1)
    np.testing.assert_allclose(parts, whole, atol=1e-12)
    # A 200 Hz tone comes out as a clean 200 Hz tone: images at least 40 dB down.
    spectrum = np.abs(np.fft.rfft(whole[0, 8000:] * np.hanning(len(whole[0, 8000:]))))
    freqs = np.fft.rfftfreq(len(whole[0, 8000:]), 1 / SR)
    tone = spectrum[np.abs(freqs - 200.0) < 20].max()
    images = spectrum[freqs > 1000].max()
    assert 20 * np.log10(images / tone) < -40


def test_overlap_add_keeps_tails_across_chunks() -> None:
    buffer = OverlapAdd(1, capacity=8)
    buffer.add(6, np.arange(1.0, 11.0)[None, :])  # straddles two pops
    first = buffer.pop(8)
    second = buffer.pop(8)
    third = buffer.pop(8)
    joined = np.concatenate([first, second, third], axis=1)[0]
    np.testing.assert_array_equal(joined[6:16], np.arange(1.0, 11.0))
    assert joined[:6].sum() == 0 and joined[16:].sum() == 0


def test_smooth_random_is_independent_of_evaluation_blocks() -> None:
    t = np.linspace(0.0, 100.0, 2001)
    whole = SmoothRandom(np.random.default_rng(1), 7.0, 2).at(t)
    pieced = SmoothRandom(np.random.default_rng(1), 7.0, 2)
    parts = np.concatenate([pieced.at(t[:3]), pieced.at(t[3:900]), pieced.at(t[900:])], axis=1)
    np.testing.assert_allclose(parts, whole)
    # Looking back a little (an event inside the chunk just rendered) is allowed.
    np.testing.assert_allclose(pieced.at(t[1990:1991]), whole[:, 1990:1991])
    assert whole.min() >= 0.0 and whole.max() <= 1.0
