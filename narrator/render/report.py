"""The render's result and its report: what was written and how it measures, typed for the
callers (:class:`RenderResult`) and written for people and tools as ``OUT.report.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrator.options import RenderSettings
from narrator.speech import Narration
from soundscapes.output.export import write_text_atomic
from soundscapes.recording import FILE_PREFIX


@dataclass(frozen=True, kw_only=True)
class RenderResult:
    """A finished render: the file, its sidecars, and the figures the report holds."""

    output: Path
    sidecars: dict[str, Path]
    settings: RenderSettings
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float
    voice_over_ambience_lu: float
    pace_wpm: float
    cache_hits: int
    cache_misses: int
    warnings: tuple[str, ...]
    total_s: float
    #: The report as written to ``OUT.report.json`` (files named relative to it).
    report: dict[str, Any] = field(repr=False)

    @classmethod
    def from_report(
        cls,
        report: dict[str, Any],
        *,
        output: Path,
        sidecars: dict[str, Path],
        settings: RenderSettings,
    ) -> RenderResult:
        return cls(
            output=output,
            sidecars=sidecars,
            settings=settings,
            duration_s=report["duration_s"],
            integrated_lufs=report["integrated_lufs"],
            true_peak_dbtp=report["true_peak_dbtp"],
            loudness_range_lu=report["loudness_range_lu"],
            voice_over_ambience_lu=report["voice_over_ambience_lu"],
            pace_wpm=report["pace_wpm"],
            cache_hits=report["cache"]["hits"],
            cache_misses=report["cache"]["misses"],
            warnings=tuple(report["warnings"]),
            total_s=report["timings_s"]["total"],
            report=report,
        )


def write_report(path: Path, report: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(report, indent=2, ensure_ascii=False))


def voice_name(voice: str) -> str:
    """How a report names a voice: a voice file by its file name, never the folder it is in."""
    return Path(voice).name if "/" in voice or "\\" in voice else voice


def portable(paths: dict[str, Path]) -> dict[str, str]:
    """Files by name alone: they sit beside the report (a kept mix elsewhere by its name), so
    a folder of renders can be moved or uploaded without carrying this machine's paths."""
    return {key: Path(value).name for key, value in paths.items()}


def portable_layers(names: tuple[str, ...]) -> list[str]:
    """Layer names for the report: a recording by its file's name (``file:brook.flac``), as
    :func:`portable` names files, never this machine's path to it."""
    return [
        f"{FILE_PREFIX}{Path(name[len(FILE_PREFIX) :]).name}"
        if name.startswith(FILE_PREFIX)
        else name
        for name in names
    ]


#: A voice this close to the pace (or quicker) is not what slows a narration down: its own
#: rate follows --pace, and a few percent is the engine's rounding of it.
VOICE_AT_PACE = 0.97


def pace_warnings(narration: Narration, pace_wpm: float, *, cue_pauses_s: float = 0.0) -> list[str]:
    """A warning when the pauses could not bring the narration within 5 % of ``pace_wpm``;
    ``cue_pauses_s``: the story's ``[pause]`` cues, named in the advice only when it has some."""
    if narration.words == 0 or abs(narration.pace_wpm - pace_wpm) <= 0.05 * pace_wpm:
        return []
    voice_wpm = narration.words / narration.speech_s * 60.0 if narration.speech_s else 0.0
    way = "slower" if narration.pace_wpm < pace_wpm else "faster"
    # Rounded as the report keeps it, so the warning and the summary line show one figure.
    shown_wpm = round(narration.pace_wpm, 1)
    said = f"the narration runs at {shown_wpm:.0f} wpm, {way} than --pace {pace_wpm:g}"
    if way == "slower" and voice_wpm >= VOICE_AT_PACE * pace_wpm:
        # The voice keeps the pace: what holds it up are the pauses nothing may shorten.
        if cue_pauses_s > 0:
            fixed = "([pause] cues, and the shortest breaks between chapters, paragraphs and "
            fixed += "sentences)"
            advice = "shorten the cues, or set a slower --pace"
        else:  # a short story: its breaks between paragraphs and sentences are most of it
            fixed = "(the shortest breaks between chapters, paragraphs and sentences)"
            advice = "set a slower --pace (a story this short cannot keep a faster one)"
        return [
            f"{said}: the voice alone speaks at {voice_wpm:.0f} wpm, but the story's fixed "
            f"pauses {fixed} take longer than the pace leaves for pauses; {advice}"
        ]
    return [
        f"{said}: the voice alone speaks at {voice_wpm:.0f} wpm and the pauses cannot make up "
        "the rest; set its rate with --setting (piper length_scale, kokoro speed, system "
        "rate_wpm)"
    ]


#: The most values the report keeps of the loudness over time: enough for a picture a page
#: wide (``narrator render --page``, ``narrator site``), a few kilobytes for any length.
LOUDNESS_POINTS = 600


def loudness_over_time(series: Sequence[tuple[float, float]], duration_s: float) -> dict[str, Any]:
    """The written file's short-term loudness (3 s windows) over time, one value a
    ``step_s``: the loudest of the meter's readings in each step (a step the meter read
    nothing in holds the one before), to 0.1 LU. ``step_s`` is at least a second, and at
    most :data:`LOUDNESS_POINTS` values cover the file."""
    step_s = max(1.0, math.ceil(duration_s / LOUDNESS_POINTS))
    count = max(0, math.ceil(duration_s / step_s - 1e-9))
    values: list[float | None] = [None] * count
    for t_s, lufs in series:
        i = min(count - 1, int(max(t_s - 1e-9, 0.0) // step_s))
        if i >= 0 and math.isfinite(lufs) and (values[i] is None or lufs > values[i]):
            values[i] = lufs
    held: float | None = None
    for i, value in enumerate(values):
        held = value if value is not None else held
        values[i] = None if held is None else round(held, 1)
    return {"step_s": step_s, "short_term_lufs": values}
