"""Safety mechanisms checked where they are wired in, with inputs that reach them.

A mechanism with unit tests of its own can still be disconnected in the pipeline: the ducking
envelope built but not applied to the ambience stem, the limiter in place but never asked to
act. Each test here renders through the real path (the fake engine, a few seconds of audio)
and measures the stems or the written file, with the expected values from the design (the
ducking depth, the ceiling), never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from narrator.render.pipeline import render_story
from soundscapes.output.mix import AmbienceStem, DuckingEnvelope, DuckingSettings
from tests.conftest import (
    SHORT_STORY,
    TimeSource,
    ffmpeg_loudness,
    least_window_clearance_lu,
    vtt_spans,
)

SR = 44_100


def _render_with_stems(tmp_path, story_text: str, *, bed=None, **options):
    """Render ``story_text`` (fake engine, 3 s tail, stems kept); with ``bed``, over that
    mono recording alone (a scene of one file layer at 0 dB)."""
    story = tmp_path / "story.txt"
    story.write_text(story_text, encoding="utf-8")
    if bed is not None:
        sf.write(tmp_path / "bed.wav", bed.astype(np.float32), SR)
        scenes = tmp_path / "scenes.toml"
        scenes.write_text('[scenes.bed]\nlayers = { "file:bed.wav" = 0 }\n', encoding="utf-8")
        options["scenes"] = scenes
    out = tmp_path / "night.wav"
    defaults = {"engine": "fake", "tail": 3, "cache_dir": tmp_path / "cache", "stems": True}
    result = render_story(story, {"output": out, **defaults, "jobs": 1, **options})
    return result, out


def test_the_ambience_stem_applies_its_duck_envelope():
    """Hand-worked: one word from 10 s to 12 s, ducked 9 dB, the stem at -6 dB: open at 0 to
    5 s and from 16 s, -15 dB from 0.15 s before the word to 0.4 s after it."""
    settings = DuckingSettings(depth_db=9.0, pre_s=0.15, hold_s=0.4, attack_s=0.6)
    stem = AmbienceStem(
        TimeSource(lambda t: np.full_like(t, 0.1)),
        DuckingEnvelope([(10.0, 12.0)], settings),
        gain_db=-6.0,
    )
    blocks = [stem.render(n) for n in (SR * 7 + 11, SR * 6, SR * 7 - 11)]  # any block sizes
    out = np.concatenate(blocks, axis=1)
    level_db = 20 * np.log10(np.abs(out[0]) / 0.1)

    def at(t_s: float) -> float:
        return float(level_db[round(t_s * SR)])

    for t_s in (1.0, 4.5, 16.0, 19.5):
        assert at(t_s) == pytest.approx(-6.0, abs=0.01), f"open bed at {t_s} s"
    under = [at(t_s) for t_s in (9.85, 10.0, 11.0, 12.0, 12.4)]
    assert max(under) == pytest.approx(-15.0, abs=0.01) and min(under) >= -15.01, (
        f"the ambience stem is not ducked under the word: {max(under):+.1f} dB there instead "
        "of -15 dB (its -6 dB gain and the envelope's 9 dB): AmbienceStem.render is not "
        "applying its duck envelope"
    )
    assert np.array_equal(out[0], out[1])


def _levels_db(path: str, step_s: float = 0.1) -> tuple[np.ndarray, int]:
    """Power per ``step_s`` of a stem file, in dB, and the steps per second."""
    audio, rate = sf.read(path, dtype="float64", always_2d=True)
    step = round(step_s * rate)
    usable = len(audio) // step * step
    power = np.mean(audio[:usable].reshape(-1, step, audio.shape[1]) ** 2, axis=(1, 2))
    return 10 * np.log10(power + 1e-20), round(1 / step_s)


STEADY_STORY = """[scene: bed]
The night is soft and still. You rest, and the air hushes around you.

[pause 12s]

You walk down to the shore, where the tide draws in and washes out again.
"""


def test_a_render_ducks_the_ambience_under_every_word(tmp_path, monkeypatch):
    """The render's ambience stem, over a perfectly steady bed (a noise recording) with the
    sleep arc off: the bed sits the ducking depth lower under every word than in the open
    (the intro and a 12 s pause), and is already down just before the first word.

    The ride (:func:`soundscapes.output.mix.plan_mix`) is switched off: it lowers the bed
    wherever the voice is less than 17 LU clear, so with the ducking unwired it would do most of the
    ducking's work (the voice 19.6 instead of 20.1 LU over the bed) and hide it.
    """
    import narrator.render.pipeline as render_module
    from soundscapes.output.mix import plan_mix

    def no_ride(analysis, **options):
        return plan_mix(analysis, **{**options, "floor_lu": -200.0})

    monkeypatch.setattr(render_module, "plan_mix", no_ride)
    rng = np.random.default_rng(1)
    hiss = 0.05 * rng.standard_normal(SR * 20)
    result, out = _render_with_stems(tmp_path, STEADY_STORY, bed=hiss, arc=False)
    depth_db = DuckingSettings().depth_db
    assert depth_db >= 6.0
    spans = vtt_spans(out.with_name(out.name + ".vtt").read_text(encoding="utf-8"))
    level, per_s = _levels_db(result.sidecars["ambience_wav"])

    def steps(a_s: float, b_s: float) -> np.ndarray:
        return level[round(a_s * per_s) : round(b_s * per_s)]

    # Inside every sentence (a step clear of its edges), and in the open: the intro after its
    # 6 s fade-in, and the middle of the 12 s pause (after the hold and the slow rise).
    under = np.concatenate([steps(a + 0.1, b - 0.1) for a, b in spans])
    pause_end, pause_start = max(
        ((spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)),
        key=lambda gap: gap[1] - gap[0],
    )
    assert pause_start - pause_end > 10.0, "the story's 12 s pause is missing"
    open_ = np.concatenate(
        [steps(6.5, spans[0][0] - 1.0), steps(pause_end + 2.5, pause_start - 1.0)]
    )
    open_db, under_db = float(np.median(open_)), float(np.median(under))
    assert open_db - under_db == pytest.approx(depth_db, abs=0.5), (
        f"the ambience is not ducked under speech: under the words the bed is "
        f"{open_db - under_db:.1f} dB below the open bed, the ducking asks {depth_db:g} dB "
        "(is the duck envelope applied where the ambience stem is rendered?)"
    )
    assert under.max() < open_db - depth_db + 1.0, (
        f"a word has the bed {under.max() - open_db:+.1f} dB from its open level under it: "
        "not ducked there"
    )
    # Settled before the first syllable: the last 100 ms before the first word is ducked.
    before = float(steps(spans[0][0] - 0.1, spans[0][0]).mean())
    assert before < open_db - depth_db + 1.0, (
        f"the bed is still {before - open_db:+.1f} dB from open 0.1 s before the first word: "
        "the ducking starts late"
    )


CLICKY_STORY = """[scene: bed]
The night is soft and still. You rest, and the air hushes around you.

You walk down to the shore, where the tide draws in and washes out again.
"""


def test_a_render_limits_peaks_that_reach_the_ceiling(tmp_path):
    """A bed with sharp clicks (a recording: faint hiss and a click every second, about 50 dB
    over it) makes a mix whose peaks, after the master gain, are far over the ceiling; the
    written file's true peak, by ffmpeg, must still be under it."""
    rng = np.random.default_rng(1)
    bed = 0.002 * rng.standard_normal(SR * 10)
    bed[SR // 4 :: SR] = 0.9
    result, out = _render_with_stems(tmp_path, CLICKY_STORY, bed=bed)
    ceiling = result.report["true_peak_ceiling_dbtp"]
    voice, _ = sf.read(result.sidecars["voice_wav"], dtype="float64", always_2d=True)
    ambience, _ = sf.read(result.sidecars["ambience_wav"], dtype="float64", always_2d=True)
    # The mix as made, times the gain the master applied: its sample peak (under its true
    # peak) is what reaches the limiter.
    reaching_db = 20 * np.log10(np.abs(voice + ambience).max()) + result.report["master_gain_db"]
    assert reaching_db > ceiling + 6.0, "the clicks must reach the limiter for this test to count"
    measured = ffmpeg_loudness(out)
    assert measured.true_peak_dbtp <= ceiling + 0.1, (
        f"the render let peaks through: the file's true peak is {measured.true_peak_dbtp:+.1f} "
        f"dBTP (ffmpeg), over the {ceiling:+g} dBTP ceiling, from a mix {reaching_db - ceiling:.0f}"
        " dB over it after the master gain: the true-peak limiter is not working in mastering"
    )
    assert result.report["true_peak_dbtp"] <= ceiling, (
        "the report's own true peak is over the ceiling"
    )
    assert abs(measured.integrated_lufs - result.report["target_lufs"]) <= 0.5


def test_a_render_keeps_the_voice_clear_of_loud_waves_in_every_3_s(tmp_path):
    """The ride (``plan_mix``): on the coast the waves swell under the voice, and the ride
    lowers the bed there so the voice stays 17 LU clear in every 3 s it speaks. Measured on
    the render's stems by libebur128 over each 3 s window (half speech or more), not taken
    from the report, whose clearance is the plan's own prediction."""
    result, out = _render_with_stems(tmp_path, "[scene: coast]\n" + SHORT_STORY)
    assert result.report["voice_over_ambience_min_lu"] == pytest.approx(17.0, abs=0.05), (
        "the waves must come within 17 LU of the voice somewhere, or the ride has nothing to do"
    )
    spans = vtt_spans(out.with_name(out.name + ".vtt").read_text(encoding="utf-8"))
    voice, ambience = (result.sidecars[f"{name}_wav"] for name in ("voice", "ambience"))
    least = least_window_clearance_lu(voice, ambience, spans)
    assert least >= 16.0, (
        f"in its worst 3 s the voice is only {least:.1f} LU over the ambience (the ride keeps "
        "it 17 LU clear): the ride is not applied to the ambience in the mix"
    )
