"""Ambience alone: a scene or a set of layers for a given time, mastered and encoded.

For bedtime playlists and all-night beds. The bed is rendered once, in a second process that
meters it and keeps it in a scratch file beside the output
(:class:`~soundscapes.background.BackgroundAnalysis`); mastering then reads it back as often as
it needs (limiter preview, encode), so memory stays the same for ten minutes or eight hours and
the layers' work is done one time only. The scratch takes 1.3 GB of disk an hour of bed while
it lives (checked before anything renders); a bed of about 50 minutes or more is written and
read past the page cache (:mod:`soundscapes.scratch`), so an all-night bed neither fills the
machine's memory with it nor pays the kernel to evict it again.

Nothing else runs meanwhile, so when the machine has two cores or more, half of the layers
render in a third process (:func:`split_pays`); the bytes are the same as from one process.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soundscapes.background import BackgroundAnalysis, StemMeasure, split_pays
from soundscapes.errors import LayerError, SoundscapeError
from soundscapes.files import (
    check_writable,
    human_duration,
    human_size,
    removal_when_read,
    scratch_file,
    short_of_space,
    space_shortfall,
)
from soundscapes.output.export import Destination, atomic_path
from soundscapes.output.formats import get_format
from soundscapes.output.master import LoudnessTarget, master_to_file
from soundscapes.output.tags import Tags
from soundscapes.scene import LayerSpec, Scene
from soundscapes.scratch import read_scratch
from soundscapes.source import CHANNELS, SAMPLE_RATE_HZ
from soundscapes.timeline import Timeline

#: The limiter preview's stretch of a bed, seconds: every layer has shown its events by then.
_PREVIEW_S = 300.0
#: Longest bed we render in one file: a night and then some.
MAX_DURATION_S = 12 * 3600.0

_DURATION_RE = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$"
)


def parse_duration(text: str) -> float:
    """``8h``, ``45m``, ``1h30m``, ``90s``, ``90``, ``1:30:00`` or ``30:00`` → seconds."""
    value = text.strip().lower().replace(" ", "")
    seconds: float | None = None
    if ":" in value:
        parts = value.split(":")
        # Minutes and seconds after the first field are under 60 on a clock ("1:75" is no time).
        if (
            2 <= len(parts) <= 3
            and all(p.replace(".", "", 1).isdigit() for p in parts)
            and all(float(p) < 60 for p in parts[1:])
        ):
            seconds = 0.0
            for part in parts:
                seconds = seconds * 60 + float(part)
    elif value:
        m = _DURATION_RE.match(value)
        # A bare number is seconds only alone: "1h2" could mean 1h02m or 1h00m02s.
        bare_tail = bool(m and m["s"] and (m["h"] or m["m"]) and not value.endswith("s"))
        # Minutes under an hour and seconds under a minute, once a larger unit is written:
        # "1h61m" is a typo for something, not 2h01m.
        minutes_over = bool(m and m["m"] and m["h"] and float(m["m"]) >= 60)
        seconds_over = bool(m and m["s"] and (m["h"] or m["m"]) and float(m["s"]) >= 60)
        overflow = minutes_over or seconds_over
        if m and any(m.groupdict().values()) and not bare_tail and not overflow:
            seconds = float(m["h"] or 0) * 3600 + float(m["m"] or 0) * 60 + float(m["s"] or 0)
    if seconds is None:
        raise SoundscapeError(
            f"duration {text!r} is not understood; write it like 8h, 45m, 1h30m, 90s or 1:30:00"
        )
    if not 1.0 <= seconds <= MAX_DURATION_S:
        raise SoundscapeError(
            f"duration {text!r} is out of range; use 1 s to {MAX_DURATION_S / 3600:g} h"
        )
    return seconds


@dataclass(frozen=True, kw_only=True)
class AmbienceResult:
    """What was written and how it measures."""

    output: Path
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float
    seconds: float
    #: Said to the user (a loudness target out of reach).
    warnings: tuple[str, ...] = ()


#: Scratch bytes per second of bed: stereo float32, exact (the render's stems are the same).
_SCRATCH_BYTES_PER_S = SAMPLE_RATE_HZ * CHANNELS * 4


def _check_scratch_space(folder: Path, frames: int) -> None:
    """Fail before rendering when the output's disk cannot hold the bed's scratch (1.3 GB an
    hour) and the file."""
    needed = frames / SAMPLE_RATE_HZ * (_SCRATCH_BYTES_PER_S + 200_000)
    free = short_of_space(folder, needed)
    if free is not None:
        raise SoundscapeError(
            f"{folder}: a bed of {human_duration(frames / SAMPLE_RATE_HZ)} needs about "
            f"{human_size(needed)} free there while it is mastered "
            f"{space_shortfall(needed, free)}; free some space or write the bed to another disk"
        )


def _wait(
    analysis: BackgroundAnalysis, total: int, progress: Callable[[int, int], None] | None
) -> StemMeasure:
    """The child's measure; meanwhile, progress from the scratch file's growth."""
    if progress is None:
        return analysis.result()
    while not analysis.poll(0.25):
        progress(min(analysis.scratch_frames(), total), total)
    progress(total, total)
    return analysis.result()


def scene_from_layers(names: Sequence[str]) -> Scene:
    """An ad-hoc scene of equal-gain layers, each named once."""
    twice = sorted({n for n in names if list(names).count(n) > 1})
    if twice:
        raise LayerError(
            f"layer {twice[0]!r} is named twice; name each layer once (a scene of your own, "
            "--scenes, can make one louder)"
        )
    return Scene(name="+".join(names), layers=tuple(LayerSpec(name=n) for n in names))


def bed_timeline(
    scene: Scene,
    duration_s: float,
    *,
    seed: int = 0,
    fade_in_s: float = 10.0,
    fade_out_s: float = 60.0,
) -> Timeline:
    """``scene`` alone for ``duration_s``: a bed, its fades each at most half of it."""
    half_s = duration_s / 2
    fades_s = {"fade_in_s": min(fade_in_s, half_s), "fade_out_s": min(fade_out_s, half_s)}
    return Timeline({0.0: scene}, duration_s=duration_s, seed=seed, **fades_s)


def render_ambience(
    timeline: Timeline,
    output: Path,
    fmt: str,
    *,
    target: LoudnessTarget,
    tags: Tags | None = None,
    progress: Callable[[int, int], None] | None = None,
    split: bool | None = None,
) -> AmbienceResult:
    """Render ``timeline``'s ambience (a :func:`bed_timeline`, or scenes in turn) into
    ``output`` (atomically), mastered to ``target``; tagged with ``tags``, by default as the
    scenes' ambience.

    ``split`` renders half of the layers in a process of their own (two cores) or not; by
    default, when that pays (:func:`split_pays`). The file's bytes do not depend on it.

    Raises
    ------
    SoundscapeError
        The output cannot be written (checked before anything renders), or the scene is silent.
    """
    started = time.perf_counter()
    check_writable(output)
    duration_s = timeline.duration_s
    name = " then ".join(cue.scene.name for cue in timeline.cues)
    total = math.ceil(duration_s * SAMPLE_RATE_HZ)
    _check_scratch_space(output.parent, total)
    source = timeline.source()
    if split is None:
        split = split_pays(source, total)
    with (
        scratch_file(output.parent, "bed-", ".f32") as scratch,
        removal_when_read(scratch) as scratch_read,
    ):
        # The bed is rendered once, in a second process that meters it and keeps it in
        # scratch; every mastering pass (the limiter preview, the encode, a re-master) reads
        # it back instead of rendering it again.
        with BackgroundAnalysis(
            source,
            total,
            bandwidth_hz=get_format(fmt).bandwidth_hz,
            scratch=scratch,
            split=split,
            # Only the loudness: 100 ms steps of an 8 h bed would be the one thing that grows.
            steps=False,
        ) as analysis:
            measured = _wait(analysis, total, progress)
        measured_lufs = measured.integrated_lufs
        if measured_lufs <= -69.0:
            raise SoundscapeError(f"scene {name!r} is silent; choose other layers")

        def blocks() -> Iterator[np.ndarray]:
            yield from read_scratch(scratch, total, CHANNELS)

        tags = tags or Tags(title=f"{name} ambience", genre="Ambient")
        with atomic_path(output) as tmp:
            dest = Destination(
                path=tmp, fmt=fmt, sample_rate_hz=SAMPLE_RATE_HZ, tags=tags, shown_as=output
            )
            result = master_to_file(
                blocks,
                dest,
                measured_lufs=measured_lufs,
                target=target,
                sample_peak=measured.sample_peak,
                # Its first five minutes whole: every layer has shown its events by then.
                preview_every=1,
                preview_max_s=_PREVIEW_S,
                read_all=scratch_read,
            )
    loud = result.loudness
    return AmbienceResult(
        output=output,
        duration_s=total / SAMPLE_RATE_HZ,
        integrated_lufs=loud.integrated_lufs,
        true_peak_dbtp=loud.true_peak_dbtp,
        loudness_range_lu=loud.loudness_range_lu,
        seconds=time.perf_counter() - started,
        warnings=result.warnings,
    )
