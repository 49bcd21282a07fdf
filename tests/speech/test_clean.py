"""The clean voice: edge trimming, resampling, the voice chain and level matching."""

from __future__ import annotations

import numpy as np
import pyebur128
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narrator.speech.clean import (
    TRIM_MARGIN_S,
    VOICE_LUFS,
    clean_passage,
    resample,
    resampled_frames,
    trim_bounds,
    trimmed_frames,
)

RATE = 22_050
OUT = 44_100


def _tone(seconds: float, amplitude: float, hz: float = 220.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.float32)


def _stereo_lufs(mono: np.ndarray, rate: int = OUT) -> float:
    """Independent measure: the stem as it is played, two identical channels, interleaved."""
    state = pyebur128.R128State(2, rate, pyebur128.MeasurementMode.MODE_I)
    frames = np.repeat(np.asarray(mono, dtype=np.float64), 2)
    state.add_frames(frames, mono.size)
    return pyebur128.get_loudness_global(state)


def test_trim_removes_edge_silence_but_keeps_a_soft_word_end():
    rng = np.random.default_rng(3)
    loud = _tone(0.6, 0.5)
    # A breathy "s": noise 32 dB below the vowel, 150 ms long, at the end of the word.
    soft = (0.5 * 10 ** (-32 / 20) * rng.standard_normal(round(0.15 * RATE))).astype(np.float32)
    clip = np.concatenate([_silence(0.3), loud, soft, _silence(0.4)])
    start, end = trim_bounds(clip, RATE)
    voice_start, soft_end = round(0.3 * RATE), round(1.05 * RATE)
    margin = round(TRIM_MARGIN_S * RATE)
    assert voice_start - margin - round(0.011 * RATE) <= start <= voice_start - margin // 2
    assert soft_end + margin // 2 <= end <= soft_end + margin + round(0.011 * RATE)


def test_trim_of_silence_is_empty_and_of_full_clip_is_whole():
    assert trim_bounds(_silence(0.5), RATE) == (0, 0)
    assert trim_bounds(np.zeros(0, np.float32), RATE) == (0, 0)
    clip = _tone(0.5, 0.3)
    assert trim_bounds(clip, RATE) == (0, clip.size)


@settings(max_examples=40, deadline=None)
@given(frames=st.integers(0, 5000), rate=st.sampled_from([16_000, 22_050, 24_000, 44_100, 48_000]))
def test_resampled_length_is_predicted_exactly(frames, rate):
    x = np.random.default_rng(frames).standard_normal(frames)
    assert resample(x, rate).size == resampled_frames(frames, rate)


def test_resampling_keeps_pitch_and_level():
    y = resample(_tone(1.0, 0.5, hz=440.0), RATE)
    spectrum = np.abs(np.fft.rfft(y[2000:-2000] * np.hanning(y.size - 4000)))
    peak_hz = np.argmax(spectrum) * OUT / (y.size - 4000)
    assert peak_hz == pytest.approx(440.0, abs=2.0)
    assert np.sqrt(np.mean(y[2000:-2000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_passages_at_different_levels_come_out_at_one_loudness():
    quiet = [np.concatenate([_silence(0.05), _tone(1.2, 0.02), _silence(0.2)])]
    loud = [np.concatenate([_silence(0.05), _tone(0.9, 0.6, hz=180.0), _silence(0.2)]),
            _tone(0.7, 0.4, hz=150.0)]  # fmt: skip
    for clips in (quiet, loud):
        out = clean_passage(clips, RATE)
        assert [c.size for c in out] == trimmed_frames(clips, RATE)
        assert all(c.dtype == np.float32 for c in out)
        assert _stereo_lufs(np.concatenate(out)) == pytest.approx(VOICE_LUFS, abs=0.2)


def test_a_short_passage_is_level_matched_too():
    # Shorter than one 400 ms gating block: measured here repeated, as a steady tone.
    out = clean_passage([_tone(0.25, 0.05)], RATE)
    assert out[0].size == resampled_frames(round(0.25 * RATE), RATE)
    assert _stereo_lufs(np.tile(out[0], 8)) == pytest.approx(VOICE_LUFS, abs=0.5)


def test_highpass_removes_rumble_and_keeps_the_voice_band():
    t = np.arange(2 * RATE) / RATE
    clip = (0.3 * np.sin(2 * np.pi * 30 * t) + 0.3 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    (out,) = clean_passage([clip], RATE)
    seg = out[OUT // 2 : -OUT // 4]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    hz = np.fft.rfftfreq(seg.size, 1 / OUT)

    def level(f):
        return spectrum[np.argmin(np.abs(hz - f))]

    assert 20 * np.log10(level(500) / level(30)) > 12.0  # 2nd order at 80 Hz: ~17 dB


def test_compression_is_light_it_narrows_a_loud_syllable_but_keeps_it_louder():
    t = np.arange(3 * RATE) / RATE
    envelope = np.where((t > 1.0) & (t < 1.4), 10 ** (12 / 20), 1.0)
    clip = (0.05 * np.sin(2 * np.pi * 220 * t) * envelope).astype(np.float32)
    (out,) = clean_passage([clip], RATE)

    def level_db(a_s, b_s):
        seg = out[round(a_s * OUT) : round(b_s * OUT)]
        return 20 * np.log10(np.sqrt(np.mean(seg**2)))

    burst_over_base_db = level_db(1.15, 1.35) - level_db(0.4, 0.9)
    assert 6.0 < burst_over_base_db < 11.0  # 12 dB in; a few dB taken off, never flattened
    # Slow release, no pumping: the level after the burst returns to the level before it.
    assert level_db(2.0, 2.6) == pytest.approx(level_db(0.4, 0.9), abs=0.5)


def test_cleaning_is_deterministic_and_edges_are_click_free():
    rng = np.random.default_rng(7)
    clips = [
        np.concatenate(
            [_silence(0.1), _tone(0.8, 0.3) * (1 + 0.1 * rng.standard_normal(17640))]
        ).astype(np.float32)
        for _ in range(3)
    ]
    a = clean_passage(clips, RATE)
    b = clean_passage(clips, RATE)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    for clip in a:
        # An 8 ms raised-cosine fade at each cut: the first and last samples are near zero.
        assert abs(clip[0]) < 0.01 and abs(clip[-1]) < 0.01
