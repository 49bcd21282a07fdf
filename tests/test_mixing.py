"""Ducking, crossfades, the limiter and mastering, measured on signals built in code."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from soundscapes.errors import SoundscapeError
from soundscapes.output.export import Destination, atomic_path
from soundscapes.output.formats import format_for
from soundscapes.output.master import (
    TruePeakLimiter,
    master_to_file,
    missed_target,
    parse_target,
)
from soundscapes.output.meter import measure
from soundscapes.output.mix import DuckingEnvelope, DuckingSettings, SpeechMask, ducked_regions
from soundscapes.output.tags import Tags
from soundscapes.scene import LayerSpec, Scene
from soundscapes.timeline import Timeline
from tests.conftest import TimeSource, ffmpeg_loudness

SR = 44_100


def test_ducking_settles_before_speech_and_rises_only_in_long_pauses():
    settings = DuckingSettings(depth_db=9.0)
    spans = [(10.0, 12.0), (12.8, 15.0), (25.0, 27.0)]  # 0.8 s gap bridged, 10 s gap opens
    env = DuckingEnvelope(spans, settings)
    t = np.arange(0, 40, 0.01)
    gain_db = 20 * np.log10(env.gain(t))
    at = lambda s: gain_db[round(s * 100)]  # noqa: E731
    assert at(5.0) == pytest.approx(0.0)
    # Fully ducked from just before the first word, and through the short gap.
    assert at(10.0 - settings.pre_s) == pytest.approx(-9.0, abs=0.01)
    assert at(12.4) == pytest.approx(-9.0, abs=0.01)
    # Open again in the long pause, ducked again before the next word.
    assert at(20.0) == pytest.approx(0.0, abs=0.01)
    assert at(25.0) == pytest.approx(-9.0, abs=0.01)
    # Smooth: no step larger than the raised-cosine ramp allows in 10 ms.
    assert np.max(np.abs(np.diff(gain_db))) < 9.0 * np.pi / 2 * 0.01 / settings.attack_s + 1e-6


def test_ducked_regions_merge_short_gaps_only():
    regions = ducked_regions([(0, 1), (2, 3), (10, 11)], DuckingSettings(bridge_gap_s=3.0))
    assert regions == [(0, 3), (10, 11)]


def test_speech_mask():
    mask = SpeechMask([(1.0, 2.0), (3.0, 3.5)])
    t = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.2, 3.6])
    assert mask(t).tolist() == [False, True, True, False, False, True, False]


def _layer_scene(name: str, *layers: tuple[str, float]) -> Scene:
    return Scene(name=name, layers=tuple(LayerSpec(name=n, gain_db=g) for n, g in layers))


def test_crossfade_keeps_total_power_and_no_bump_for_shared_layers():
    a = _layer_scene("a", ("storm-hush", 0.0), ("tide", -6.0))
    b = _layer_scene("b", ("tide", 0.0), ("gulls", 0.0))
    timeline = Timeline({0: a, 30: b}, duration_s=60, crossfade_s=10, fade_in_s=0, fade_out_s=0)
    src = timeline.source()
    t = np.linspace(0, 60, 6001)
    gains = src.layer_gains(t)
    power = sum(g**2 for g in gains.values())
    # Scenes are power-normalized and the crossfade interpolates power: constant throughout.
    np.testing.assert_allclose(power, 1.0, rtol=1e-9)
    storm = gains[("storm-hush", ())]
    assert storm[t < 25].min() > 0.8 and storm[t > 35].max() == 0.0
    tide = gains[("tide", ())]
    assert np.all(np.diff(tide) >= -1e-12)  # the shared tide only glides up, no dip or bump
    assert timeline.scene_at(10).name == "a" and timeline.scene_at(40).name == "b"


def test_timeline_fades_in_and_out_to_silence():
    scene = _layer_scene("s", ("tide", 0.0))
    timeline = Timeline({0: scene}, duration_s=20, fade_in_s=4, fade_out_s=6)
    src = timeline.source()
    audio = src.render(20 * SR + SR)
    rms = lambda a, b: float(np.sqrt(np.mean(audio[:, int(a * SR) : int(b * SR)] ** 2)))  # noqa: E731
    assert rms(0, 0.05) < 0.05 * rms(6, 12)
    assert rms(19.95, 20.0) < 0.01 * rms(6, 12)
    assert np.all(audio[:, 20 * SR :] == 0)


def test_limiter_streams_without_losing_or_shifting_samples():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, SR * 3)) * 0.05).astype(np.float32)  # far under the ceiling
    lim = TruePeakLimiter(-1.0, SR)
    pieces = [lim.process(x[:, i : i + 7000]) for i in range(0, x.shape[1], 7000)]
    pieces.append(lim.flush())
    y = np.concatenate(pieces, axis=1)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_parse_target_presets_numbers_and_errors():
    assert parse_target("sleep").integrated_lufs == -20.0
    assert parse_target("podcast").true_peak_dbtp == -1.0
    assert parse_target("-18").integrated_lufs == -18.0
    with pytest.raises(SoundscapeError, match="preset"):
        parse_target("loud")
    with pytest.raises(SoundscapeError, match="out of range"):
        parse_target("-3")


@pytest.mark.parametrize("fmt", ["mp3", "flac", "wav", "ogg", "opus", "m4b"])
def test_master_hits_target_and_ceiling_on_the_encoded_file(tmp_path, fmt):
    rng = np.random.default_rng(2)
    t = np.arange(SR * 20) / SR
    # Speech-like: noise bursts at 4 Hz syllable rate with loud peaks, at an arbitrary level.
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 4
    # Soft enough that the master gain lifts it (about +11 dB), so the spike lands far over
    # the ceiling: a spike under it would pass a limiter that does nothing.
    x = (rng.standard_normal((2, t.size)) * env * 0.03).astype(np.float32)
    x[:, SR * 5] = 0.99  # a spike the limiter must catch
    measured = measure(x, SR, true_peak=False).integrated_lufs
    target = parse_target("sleep")
    spike_dbfs = 20 * np.log10(0.99) + target.integrated_lufs - measured
    assert spike_dbfs > target.true_peak_dbtp + 10, "the spike must reach the limiter"

    def blocks():
        for i in range(0, x.shape[1], 65536):
            yield x[:, i : i + 65536]

    out = tmp_path / f"m.{fmt}"
    dest = Destination(path=out, fmt=fmt, sample_rate_hz=SR, tags=Tags(title="t"))
    result = master_to_file(blocks, dest, measured_lufs=measured, target=target)
    unlimited = (
        f"a spike {spike_dbfs - target.true_peak_dbtp:.0f} dB over the ceiling after the master "
        "gain came through at {:+.1f} dBTP ({}), over the {:+.0f} dBTP ceiling: the true-peak "
        "limiter is not working where master_to_file applies it"
    )
    assert abs(result.loudness.integrated_lufs - target.integrated_lufs) <= 0.3
    assert result.loudness.true_peak_dbtp <= target.true_peak_dbtp, unlimited.format(
        result.loudness.true_peak_dbtp, "narrator's meter", target.true_peak_dbtp
    )
    independent = ffmpeg_loudness(out)
    assert abs(independent.integrated_lufs - target.integrated_lufs) <= 0.5
    assert independent.true_peak_dbtp <= target.true_peak_dbtp + 0.1, unlimited.format(
        independent.true_peak_dbtp, "ffmpeg ebur128", target.true_peak_dbtp
    )


def test_a_target_the_ceiling_cannot_reach_is_said_and_one_it_can_is_not(tmp_path):
    """Speech-like bursts peak far over their loudness: -9 LUFS under a -2 dBTP ceiling is
    out of reach, and the master says how far it got; -16 is reached without a word."""
    rng = np.random.default_rng(3)
    t = np.arange(SR * 20) / SR
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 4
    x = (rng.standard_normal((2, t.size)) * env * 0.03).astype(np.float32)
    measured = measure(x, SR, true_peak=False).integrated_lufs

    def blocks():
        for i in range(0, x.shape[1], 65536):
            yield x[:, i : i + 65536]

    for value, missed in (("-9", True), ("podcast", False)):
        target = parse_target(value)
        dest = Destination(path=tmp_path / f"{value}.flac", fmt="flac", sample_rate_hz=SR)
        result = master_to_file(blocks, dest, measured_lufs=measured, target=target)
        off = abs(result.loudness.integrated_lufs - target.integrated_lufs)
        assert (off > 0.3) == missed
        if missed:
            (warning,) = result.warnings
            assert f"reached {result.loudness.integrated_lufs:.1f} LUFS, not the -9" in warning
            assert (
                "ceiling of -2 dBTP leaves no more room; choose a quieter --loudness (e.g. -12)"
                in warning
            )
        else:
            assert result.warnings == ()
    # Short of the target with peaks far under the ceiling: not the ceiling's doing.
    quiet = replace(result.loudness, integrated_lufs=-16.5, true_peak_dbtp=-7.4)
    said = missed_target(quiet, target, 0.3, passes=3)
    assert said == (
        "the master reached -16.5 LUFS, not the -16 LUFS asked: its loudness did not settle "
        "in 3 passes (a very short file?)"
    )
    # Louder than asked, or silent, is not the ceiling's doing: nothing to say about it.
    loud = result.loudness
    for level in (target.integrated_lufs + 1.0, -math.inf):
        assert missed_target(replace(loud, integrated_lufs=level), target, 0.3) is None


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    final = tmp_path / "sub" / "x.mp3"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("boom")
    assert not final.exists()
    assert list(final.parent.iterdir()) == []
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"whole")
    assert final.read_bytes() == b"whole"
    assert [p.name for p in final.parent.iterdir()] == ["x.mp3"]


def test_format_for_suffix_and_errors(tmp_path):
    assert format_for(tmp_path / "a.MP3") == "mp3"
    assert format_for(tmp_path / "a.bin", "flac") == "flac"
    with pytest.raises(SoundscapeError, match="unknown output format"):
        format_for(tmp_path / "a.xyz")


class _Noise:
    """White noise, stereo: a stand-in ambience with a flat spectrum."""

    sample_rate_hz = SR
    channels = 2

    def __init__(self) -> None:
        self._rng = np.random.default_rng(5)

    def render(self, frames: int) -> np.ndarray:
        return (self._rng.standard_normal((2, frames)) * 0.05).astype(np.float32)


def _high_share_db(x: np.ndarray, corner_hz: float = 6000.0) -> float:
    spectrum = np.abs(np.fft.rfft(x[0])) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1 / SR)
    return float(10 * np.log10(spectrum[freqs > corner_hz].sum() / spectrum.sum()))


def _centroid_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x[0])) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1 / SR)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


def test_sleep_arc_softens_the_voice_and_darkens_the_ambience():
    from soundscapes.arc import SleepArc
    from soundscapes.output.mix import AmbienceStem, VoiceStem

    arc = SleepArc(start_s=1.0, end_s=21.0, voice_drop_db=2.0)
    stem = AmbienceStem(_Noise(), DuckingEnvelope([]), gain_db=0.0, arc=arc)
    voice_stem = VoiceStem(TimeSource(lambda t: 0.1 * np.sin(2 * np.pi * 220 * t)), arc=arc)
    voice = np.concatenate([voice_stem.render(SR) for _ in range(24)], axis=1)
    ambience = np.concatenate([stem.render(SR) for _ in range(24)], axis=1)
    level_db = lambda a, b: 20 * np.log10(np.sqrt(np.mean(voice[:, a * SR : b * SR] ** 2)))  # noqa: E731
    assert level_db(0, 1) - level_db(22, 24) == pytest.approx(2.0, abs=0.05)
    early, late = ambience[:, SR : 3 * SR], ambience[:, 21 * SR : 23 * SR]
    assert _centroid_hz(late) < 0.6 * _centroid_hz(early)
    assert _high_share_db(late) < _high_share_db(early) - 6.0  # far less above 6 kHz
    # No block-edge steps: the darkening changes smoothly (no sample jump near a block join).
    joins = np.abs(np.diff(ambience[0]))[SR - 2 : SR * 23 : SR]
    assert joins.max() < 6 * np.abs(np.diff(ambience[0])).std()


def test_the_darkening_is_two_one_pole_low_passes_in_series():
    """The one second-order section is the cascade of two one-poles, its state carried across
    blocks: at a steady corner (past the arc's end) the same samples as filtering twice with
    scipy's lfilter. (Where the corner moves, the two forms' states differ for a few samples:
    the arc test above checks that no step is heard at a block's edge.)"""
    from scipy import signal

    from soundscapes.arc import Darkening, SleepArc

    arc = SleepArc(start_s=0.0, end_s=1.0)
    darkening = Darkening(arc, SR)
    x = np.random.default_rng(3).standard_normal((2, 5 * SR)).astype(np.float32)
    a = 1.0 - np.exp(-2.0 * np.pi * arc.cutoff_hz(2.0) / SR)
    assert arc.cutoff_hz(2.0) < 10_000  # a corner that darkens
    expected = x
    for _ in range(2):
        expected = signal.lfilter([a], [1.0, a - 1.0], expected, axis=1)
    blocks = [
        darkening.process(x[:, i : i + 30_000], 2.0 + i / SR) for i in range(0, 5 * SR, 30_000)
    ]
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), expected, rtol=1e-5, atol=1e-6)


def test_slowed_scene_scales_rate_within_range():
    from soundscapes.arc import slowed
    from soundscapes.layers import layer_info

    scene = _layer_scene("s", ("tide", 0.0), ("drone", -3.0))
    slow = slowed(scene, 0.8)
    tide_rate = next(p for p in layer_info("tide").params if p.name == "rate")
    assert dict(slow.layers[0].params)["rate"] == pytest.approx(tide_rate.default * 0.8)
    assert slow.layers[1] == scene.layers[1]  # drone has no rate


def test_timeline_is_block_invariant_and_runs_layers_only_where_heard():
    a = _layer_scene("a", ("storm-hush", 0.0))
    b = _layer_scene("b", ("tide", 0.0), ("gulls", -5.0))
    cues = {0: a, 20: b}

    def timeline() -> Timeline:
        return Timeline(cues, duration_s=40, crossfade_s=6, fade_in_s=2, fade_out_s=5, seed=3)

    whole = timeline().source().render(40 * SR)
    src = timeline().source()
    rng = np.random.default_rng(0)
    pieces, done = [], 0
    while done < 40 * SR:
        n = int(min(rng.integers(1, 3 * SR), 40 * SR - done))
        pieces.append(src.render(n))
        done += n
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)
    # The storm hush stops after its crossfade; the tide starts only at its own.
    active = timeline().source()._active
    assert active[("storm-hush", ())] == [(0, 23 * SR)]
    assert active[("tide", ())] == [(17 * SR, 40 * SR)]
    assert np.abs(whole[:, 24 * SR :]).max() > 0


def test_speech_mask_by_frames_matches_the_mask_by_times():
    rng = np.random.default_rng(4)
    edges = np.sort(rng.uniform(0, 30, 40))
    mask = SpeechMask(list(zip(edges[::2], edges[1::2], strict=True)))
    sr = 1000
    for first, count in [(0, 30_000), (1234, 777), (29_500, 2000), (5, 1)]:
        t_s = (first + np.arange(count)) / sr
        assert np.array_equal(mask.frames(first, count, sr), mask(t_s))


def test_quiet_beds_skip_the_limiter_preview_and_still_land_on_target(tmp_path, monkeypatch):
    import soundscapes.output.master as master

    rng = np.random.default_rng(8)
    x = (rng.standard_normal((2, SR * 12)) * 0.01).astype(np.float32)  # a soft, even bed
    peak = float(np.abs(x).max())

    def blocks():
        for i in range(0, x.shape[1], 65536):
            yield x[:, i : i + 65536]

    def no_preview(*args, **kwargs):
        raise AssertionError("the preview ran although the limiter cannot act")

    monkeypatch.setattr(master, "limiter_loss_lu", no_preview)
    measured = measure(x, SR, true_peak=False).integrated_lufs

    def bed(name):
        return Destination(path=tmp_path / name, fmt="flac", sample_rate_hz=SR)

    result = master_to_file(blocks, bed("bed.flac"), measured_lufs=measured,
                            target=parse_target("sleep"), sample_peak=peak)  # fmt: skip
    assert abs(result.loudness.integrated_lufs + 20.0) <= 0.3
    assert result.passes == 1
    # A loud spike makes the preview necessary again.
    with pytest.raises(AssertionError, match="preview ran"):
        master_to_file(blocks, bed("b2.flac"), measured_lufs=measured,
                       target=parse_target("sleep"), sample_peak=1.0)  # fmt: skip


def test_a_scene_that_returns_restarts_its_layers_instead_of_running_silent_between():
    a = _layer_scene("a", ("tide", 0.0))
    b = _layer_scene("b", ("rain", 0.0))
    cues = {0: a, 20: b, 60: a}

    def timeline() -> Timeline:
        return Timeline(cues, duration_s=80, crossfade_s=6, fade_in_s=2, fade_out_s=5, seed=3)

    active = timeline().source()._active
    assert active[("tide", ())] == [(0, 23 * SR), (57 * SR, 80 * SR)]
    assert active[("rain", ())] == [(17 * SR, 63 * SR)]
    whole = timeline().source().render(80 * SR)
    src = timeline().source()
    pieces = [src.render(n) for n in (SR * 7 + 3, SR * 50, SR * 23 - 3)]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)
    # The tide is back after the rain, at its level: a fresh source, not silence.
    level = lambda a, b: float(np.sqrt(np.mean(whole[:, a * SR : b * SR] ** 2)))  # noqa: E731
    assert level(66, 74) == pytest.approx(level(6, 14), rel=0.5)


def test_stems_loudness_adds_up_to_the_mix_loudness():
    """Independent stems: the mix's integrated loudness follows from the stems' step energies."""
    from soundscapes.output.meter import LoudnessMeter, integrated_lufs_of_steps

    rng = np.random.default_rng(5)
    n = 40 * SR
    t = np.arange(n) / SR
    voice = (0.1 * rng.standard_normal(n) * (np.sin(2 * np.pi * 0.3 * t) > 0)).astype(np.float32)
    bed = (0.02 * rng.standard_normal((2, n))).astype(np.float32)
    meters = [LoudnessMeter(SR, 2, true_peak=False, keep_steps=True) for _ in range(3)]
    for x, meter in zip((np.stack([voice, voice]), bed, voice + bed), meters, strict=True):
        meter.add(x)
    predicted = integrated_lufs_of_steps(
        meters[0].step_energies() + meters[1].step_energies(), meters[0].step_frames
    )
    assert predicted == pytest.approx(meters[2].integrated_lufs, abs=0.02)
    # And by libebur128, which shares no code with the meter that made the step energies.
    import pyebur128

    mix = np.ascontiguousarray((voice + bed).T, dtype=np.float64)
    state = pyebur128.R128State(2, SR, pyebur128.MeasurementMode.MODE_I)
    state.add_frames(mix.reshape(-1), n)
    assert predicted == pytest.approx(pyebur128.get_loudness_global(state), abs=0.05)


def _analysis(voice_db, bed_db, speech):
    from soundscapes.output.mix import StemAnalysis

    return StemAnalysis(
        voice=10 ** (np.asarray(voice_db, float) / 10),
        ambience=10 ** (np.asarray(bed_db, float) / 10),
        speech=np.asarray(speech, bool),
        step_frames=4410,
        sample_rate_hz=SR,
        voice_peak=0.5,
        ambience_peak=0.1,
        ambience_busy_s=0.0,
        seconds=0.0,
    )


def test_the_ride_lowers_a_loud_moment_under_speech_and_nothing_else():
    from soundscapes.output.mix import plan_mix

    steps = 600  # 60 s of 100 ms steps
    voice = np.full(steps, 0.0)
    speech = np.ones(steps, bool)
    speech[400:] = False  # the last 20 s: a pause, the bed alone
    voice[~speech] = -200.0
    bed = np.full(steps, -18.0)  # 18 LU under the voice: clear
    bed[200:220] = -8.0  # a wave 10 dB up for 2 s while the voice speaks
    bed[500:520] = -8.0  # and one in the pause, where nothing is spoken
    plan = plan_mix(_analysis(voice, bed, speech), floor_lu=17.0)
    gains = plan.ride.gains
    assert plan.voice_over_ambience_min_lu >= 17.0 - 1e-3
    assert gains.max() <= 1.0
    assert gains[:150].min() == pytest.approx(1.0) and gains[300:].min() == pytest.approx(1.0)
    # 3 s holding the 2 s wave average 9.5 LU under the voice: 7.5 dB more is needed there.
    assert gains[200:220].max() == pytest.approx(10 ** (-7.45 / 20), rel=0.02)
    # Smooth: no more than 1.5 dB from one 100 ms step to the next.
    assert np.abs(np.diff(20 * np.log10(gains))).max() < 1.5
    # Without the ride the loud moment would have left the voice only 8 LU clear.
    flat = plan_mix(_analysis(voice, bed, speech), floor_lu=0.0)
    assert flat.voice_over_ambience_min_lu < 10.0 and np.all(flat.ride.gains == 1.0)


def test_step_gain_interpolates_between_step_centres():
    from soundscapes.output.mix import StepGain

    ride = StepGain(np.array([1.0, 0.5, 0.5, 1.0]), 100)
    g = ride.at_frames(0, 400)
    assert g[:50].tolist() == [1.0] * 50 and g[150:250].tolist() == [0.5] * 100
    assert g[100] == pytest.approx(0.75) and g[-1] == 1.0
    assert np.array_equal(ride.at_frames(120, 30), g[120:150])


def test_the_limiter_preview_reads_only_its_blocks_and_finds_the_same_gain(tmp_path):
    """A story's preview is read thinned from the scratch stems (every third block, the rest
    skipped unread): the blocks, and so the master gain and the file, are the ones reading and
    skipping every block gives."""
    from soundscapes.output.mix import BLOCK_FRAMES, StemScratch, StepGain, mixed_blocks
    from soundscapes.scratch import ScratchWriter

    rng = np.random.default_rng(5)
    frames = 7 * BLOCK_FRAMES + 12_345
    voice = (rng.standard_normal(frames) * 0.05).astype("<f4")
    voice[3 * BLOCK_FRAMES + 99] = 0.9  # a peak in a previewed block, for the limiter
    bed = (rng.standard_normal((2, frames)) * 0.01).astype("<f4")
    scratch = StemScratch(voice=tmp_path / "v.f32", ambience=tmp_path / "a.f32")
    with ScratchWriter(scratch.voice, 1) as kept:
        kept.write(voice[None, :])
    with ScratchWriter(scratch.ambience, 2) as kept:
        kept.write(bed)
    ride = StepGain(rng.uniform(0.3, 1.0, frames // 4410 + 1), 4410)
    every = list(mixed_blocks(scratch, frames, ride=ride))
    thinned = list(mixed_blocks(scratch, frames, ride=ride, every=3))
    assert len(thinned) == 3 and len(every) == 8
    for (v, b), (v3, b3) in zip(every[::3], thinned, strict=True):
        np.testing.assert_array_equal(v3, v)
        np.testing.assert_array_equal(b3, b)
    np.testing.assert_array_equal(every[0][0][0], voice[:BLOCK_FRAMES])  # read, not made up
    np.testing.assert_array_equal(
        every[-1][1], bed[:, 7 * BLOCK_FRAMES :] * ride.at_frames(7 * BLOCK_FRAMES, 12_345)
    )

    def mix(step: int = 1):
        return (v + b for v, b in mixed_blocks(scratch, frames, ride=ride, every=step))

    results = {}
    for name, preview in (("skipping", None), ("thinned", mix)):
        dest = Destination(path=tmp_path / f"{name}.wav", fmt="wav", sample_rate_hz=SR)
        results[name] = master_to_file(
            mix, dest, measured_lufs=-24.0, target=parse_target("sleep"), preview=preview
        )
    assert results["thinned"].gain_db == results["skipping"].gain_db
    assert (tmp_path / "thinned.wav").read_bytes() == (tmp_path / "skipping.wav").read_bytes()
