"""A bed on two cores: half of its layers rendered in a process of their own give the same bytes
as all of them in one, both processes do real work, and a failure in the second one reaches the
caller as one line with nothing left running."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from soundscapes import background
from soundscapes.ambience import bed_timeline, render_ambience, scene_from_layers
from soundscapes.arc import SleepArc
from soundscapes.background import CHILD_BLOCK_FRAMES, BackgroundAnalysis, split_pays
from soundscapes.errors import SoundscapeError
from soundscapes.output.master import parse_target
from soundscapes.output.mix import AmbienceStem, DuckingEnvelope
from soundscapes.scratch import read_scratch
from soundscapes.timeline import LayerGroup, Timeline, layer_halves

SR = 44_100
BED = ["storm-hush", "breathing-mirrors", "gulls", "tide"]


def _timeline(duration_s: float = 20.0) -> Timeline:
    """Two scenes that share some layers, a crossfade, a fade in and out: every gain path."""
    first = scene_from_layers(BED)
    second = scene_from_layers(["tide", "rain", "gulls"])
    return Timeline(
        {0.0: first, 9.0: second},
        duration_s=duration_s, crossfade_s=4.0, fade_in_s=2.0, fade_out_s=5.0, seed=5,
    )  # fmt: skip


def _in_blocks(source, total: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pieces, done = [], 0
    while done < total:
        n = min(int(rng.integers(1, 70_000)), total - done)
        pieces.append(source.render(n))
        done += n
    return np.concatenate(pieces, axis=1)


def _analyse(timeline: Timeline, total: int, scratch, *, split: bool, stem=lambda s: s):
    source = stem(timeline.source())
    with BackgroundAnalysis(source, total, scratch=scratch, split=split) as analysis:
        measured = analysis.result()
    audio = np.concatenate(list(read_scratch(scratch, total, 2)), axis=1)
    return measured, audio


def test_the_halves_are_a_fixed_function_of_the_estimates():
    costs = {("a",): 3.0, ("b",): 2.0, ("c",): 2.0, ("d",): 1.0}
    # Even halves, the first in the timeline's order of the ways that tie; order kept.
    assert layer_halves(costs) == ([("a",), ("d",)], [("b",), ("c",)])
    assert layer_halves({("x",): 1.0, ("y",): 5.0}) == ([("x",)], [("y",)])  # cheaper first
    assert layer_halves({("x",): 1.0}) == ([("x",)], [])
    assert layer_halves({}) == ([], [])
    # The first group's process also meters (and for a story, ducks and darkens): counted
    # against it, it takes less of the layers' work, or none (it meters while the other
    # renders); of ways that finish together, its group is the lightest. Layers never
    # heard are not worth a process.
    assert layer_halves(costs, first_extra_ms=3.0) == ([("b",)], [("a",), ("c",), ("d",)])
    assert layer_halves({("x",): 1.0}, first_extra_ms=5.0) == ([], [("x",)])
    assert layer_halves({("x",): 9.0, ("y",): 1.0}, first_extra_ms=9.0) == ([], [("x",), ("y",)])
    assert layer_halves({("x",): 0.0, ("y",): 0.0}, first_extra_ms=5.0) == ([("x",), ("y",)], [])
    source = _timeline().source()
    assert source.first.keys and source.second.keys
    assert sorted(source.first.keys + source.second.keys) == sorted(_timeline().layer_keys())


def _finish(costs: dict, first: list, extra_ms: float) -> float:
    """When the later of the two processes is done: the first group's plus the extra work,
    or the rest."""
    first_ms = sum(costs[k] for k in first)
    return max(first_ms + extra_ms, sum(costs.values()) - first_ms)


@pytest.mark.parametrize("extra_ms", [0.0, 1.1, 4.0])
def test_the_halves_finish_as_soon_as_any_way_of_sharing_the_layers(extra_ms):
    """Dearest first to the idler process (the greedy way) left the hour of the four story
    layers a process with 10.7 CPU s against 8.1 (2026-12-05): every way is weighed instead."""
    rng = np.random.default_rng(7)
    for size in range(1, 9):
        costs = {(f"l{i}",): float(c) for i, c in enumerate(rng.uniform(0.2, 2.0, size))}
        first, second = layer_halves(costs, first_extra_ms=extra_ms)
        assert sorted(first + second) == sorted(costs) and not set(first) & set(second)
        best = min(
            _finish(costs, [k for i, k in enumerate(costs) if mask >> i & 1], extra_ms)
            for mask in range(1 << size)
        )
        assert _finish(costs, first, extra_ms) <= best + 1e-9
    bed = bed_timeline(scene_from_layers(BED), 3600.0).source()
    assert [k[0] for k in bed.first.keys] == ["breathing-mirrors", "gulls"]
    many = {(f"l{i}",): 1.0 + i % 3 for i in range(14)}  # past the exact search: greedy
    first, second = layer_halves(many)
    assert sorted(first + second) == sorted(many)
    assert abs(sum(many[k] for k in first) - sum(many[k] for k in second)) <= 3.0


def test_every_built_in_layer_has_a_cost_estimate_and_only_those():
    """A new built-in layer without an estimate would be split as an average one."""
    from soundscapes.layers import costs, layer_names

    assert sorted(costs.CPU_MS_PER_S) == sorted(layer_names())
    assert all(0.0 < v < 20.0 for v in costs.CPU_MS_PER_S.values())
    assert costs.cpu_ms_per_s("not-a-layer") == costs.DEFAULT_CPU_MS_PER_S
    assert costs.cpu_ms_per_s("file:/x.flac", recording=True) == costs.RECORDING_CPU_MS_PER_S


def test_two_processes_give_the_bytes_of_one(tmp_path):
    total = 20 * SR + 123
    here = _in_blocks(_timeline().source(), total)
    one, one_audio = _analyse(_timeline(), total, tmp_path / "one.f32", split=False)
    two, two_audio = _analyse(_timeline(), total, tmp_path / "two.f32", split=True)
    np.testing.assert_array_equal(one_audio, here)
    np.testing.assert_array_equal(two_audio, here)
    np.testing.assert_array_equal(two.step_energies, one.step_energies)
    assert two.sample_peak == one.sample_peak
    # The comparison sees the summation order: all layers summed in one group differ in the
    # last bits, so the equality above is the fixed grouping at work, not a blind check.
    assert not np.array_equal(LayerGroup(_timeline()).render(total), here)


def _story_stem(source) -> AmbienceStem:
    """The ambience as a story's mix plays it: ducked under speech, darkened by the arc."""
    ducking = DuckingEnvelope([(1.0, 4.5), (6.0, 11.0), (13.5, 18.0)])
    return AmbienceStem(source, ducking, gain_db=-7.5, arc=SleepArc(start_s=1.0, end_s=18.0))


def test_a_story_stem_splits_with_the_bytes_of_one_process(tmp_path):
    """The ducking and the arc's darkening act on the sum: split or not, the same samples."""
    total = 20 * SR + 77
    # In the child's blocks: the darkening sets its corner once per block (soundscapes.arc).
    stem = _story_stem(_timeline().source())
    blocks = range(0, total, CHILD_BLOCK_FRAMES)
    here = np.concatenate([stem.render(min(CHILD_BLOCK_FRAMES, total - i)) for i in blocks], axis=1)
    assert split_pays(_story_stem(_timeline(60.0).source()), 60 * SR) == (
        background.usable_cpus() >= 2
    )
    one, one_audio = _analyse(_timeline(), total, tmp_path / "1.f32", split=False, stem=_story_stem)
    two, two_audio = _analyse(_timeline(), total, tmp_path / "2.f32", split=True, stem=_story_stem)
    np.testing.assert_array_equal(one_audio, here)
    np.testing.assert_array_equal(two_audio, here)
    np.testing.assert_array_equal(two.step_energies, one.step_energies)
    assert two.half_busy_s > 0 and one.half_busy_s == 0.0
    # The stem changes the samples: the equality is of the stem, not of the bare layers.
    assert not np.array_equal(here, _timeline().source().render(total))
    with pytest.raises(TypeError, match="no second part"):
        BackgroundAnalysis(LayerGroup(_timeline()), total, split=True)


def test_the_split_renders_on_two_processes(tmp_path):
    total = 30 * SR
    one, _ = _analyse(_timeline(30.0), total, tmp_path / "one.f32", split=False)
    two, _ = _analyse(_timeline(30.0), total, tmp_path / "two.f32", split=True)
    assert one.half_busy_s == 0.0
    # CPU seconds each process measured of itself: both rendered a real share of the layers.
    assert two.busy_s > 0 and two.half_busy_s > 0
    assert two.half_busy_s > 0.2 * (two.busy_s + two.half_busy_s)
    assert two.busy_s < one.busy_s


def test_render_ambience_writes_the_same_file_split_or_not(tmp_path):
    written = {}
    for split in (False, True):
        out = tmp_path / f"bed-{split}.flac"
        render_ambience(
            bed_timeline(scene_from_layers(BED), 25.0, seed=2, fade_in_s=2.0, fade_out_s=5.0),
            out,
            "flac",
            target=parse_target("sleep"),
            split=split,
        )
        written[split] = out.read_bytes()
    assert written[True] == written[False]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bed-False.flac", "bed-True.flac"]


def test_a_bed_splits_when_it_pays(monkeypatch):
    source = _timeline(60.0).source()
    monkeypatch.setattr(background, "usable_cpus", lambda: 2)
    assert split_pays(source, 60 * SR)
    assert not split_pays(source, int(background.SPLIT_MIN_S * SR) - 1)  # too short to pay
    # A lone layer renders in one process while the other sums, meters and keeps it.
    alone = Timeline({0.0: scene_from_layers(["tide"])}, duration_s=60).source()
    assert (alone.first.keys, alone.second.keys) == ([], [("tide", ())])
    assert split_pays(alone, 60 * SR)
    assert not split_pays(alone.second, 60 * SR)  # a layer group is not made of two parts
    monkeypatch.setattr(background, "usable_cpus", lambda: 1)
    assert not split_pays(source, 60 * SR)


def _with_failing(name: str) -> Timeline:
    scene = scene_from_layers(["tide", "gulls", name])
    return Timeline({0.0: scene}, duration_s=60.0)


def test_a_failing_layer_in_the_second_process_is_one_line(tmp_path, failing_layer):
    source = _with_failing(failing_layer).source()
    assert [key[0] for key in source.second.keys] == [failing_layer]
    scratch = tmp_path / "bed.f32"
    analysis = BackgroundAnalysis(source, 60 * SR, scratch=scratch, split=True)
    with analysis, pytest.raises(SoundscapeError) as caught:
        analysis.result()
    # Said once, as the process that failed said it: not wrapped by the one that read it.
    assert str(caught.value) == "rendering the ambience failed: ValueError: decoder gave up at 2 s"
    assert not analysis._proc.is_alive() and not analysis._half.is_alive()


def test_a_killed_second_process_is_a_clear_error(tmp_path):
    source = _timeline(600.0).source()
    analysis = BackgroundAnalysis(source, 600 * SR, scratch=tmp_path / "bed.f32", split=True)
    with analysis:
        os.kill(analysis._half.pid, signal.SIGKILL)
        with pytest.raises(SoundscapeError, match=r"^the ambience process stopped unexpectedly"):
            analysis.result()
    assert not analysis._proc.is_alive()


def test_a_bed_measure_without_steps_keeps_only_its_loudness(tmp_path):
    """A bed alone needs its loudness, not 100 ms steps (288,000 of them in 8 h): without
    them the measure is the meter's own, and agrees with the steps' to a hundredth of an LU."""
    from soundscapes.output.meter import integrated_lufs_of_steps

    total = 20 * SR
    kept = {}
    for steps in (True, False):
        source = _timeline().source()
        with BackgroundAnalysis(source, total, scratch=tmp_path / f"{steps}.f32", steps=steps) as a:
            kept[steps] = a.result()
    assert kept[False].step_energies.size == 0
    assert kept[True].step_energies.size == total // kept[True].step_frames
    from_steps = integrated_lufs_of_steps(kept[True].step_energies, kept[True].step_frames)
    assert kept[False].integrated_lufs == pytest.approx(from_steps, abs=0.01)
    assert -60.0 < from_steps < -10.0  # a real loudness, not the silence floor
    assert kept[False].sample_peak == kept[True].sample_peak
    assert (tmp_path / "False.f32").read_bytes() == (tmp_path / "True.f32").read_bytes()


def test_a_scratch_file_that_cannot_be_written_is_one_line_naming_its_folder(tmp_path):
    missing = tmp_path / "gone"
    source = _timeline(30.0).source()
    analysis = BackgroundAnalysis(source, 30 * SR, scratch=missing / "bed.f32", split=True)
    with analysis, pytest.raises(SoundscapeError) as caught:
        analysis.result()
    # Said by the child as it would be said here: one line naming the folder, not wrapped.
    assert str(caught.value) == f"{missing} (scratch): cannot write (No such file or directory)"
