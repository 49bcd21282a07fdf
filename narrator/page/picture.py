"""What a page draws from a render's report: the loudness over time with the passages (where
the voice speaks) marked, and the scene timeline under it.

Both are plain HTML and inline SVG made here, so they take the page's colours (dark or light)
and have their size before anything loads. The loudness is the report's
``loudness_over_time`` (short-term loudness, 3 s windows, one value a step); a report without
it (made by an older narrator) gets the scene timeline alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from narrator.page.markup import clock, esc, figure

#: The picture's coordinates: x 0..1000 across the file, y 0..100 down (the SVG is stretched
#: to the page's width; strokes keep their width, see page.css).
WIDTH, HEIGHT = 1000, 100
#: Lines keep their width however the picture is stretched.
_KEEP = ' vector-effect="non-scaling-stroke"'
#: LU shown above and below the loudness target.
ABOVE_LU, BELOW_LU = 8.0, 32.0


def timed(report: Mapping[str, Any], key: str, *needed: str) -> list[Mapping[str, Any]]:
    """The report's list ``key`` (chapters, passages, scenes): the entries that have a number
    at each of ``needed`` (``start_s``…); a report edited by hand loses a broken entry, not
    the page."""
    items = report.get(key)
    return [
        item
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping)
        and all(isinstance(item.get(k), int | float) and not isinstance(item.get(k), bool)
                for k in needed)
    ]  # fmt: skip


def _x(t_s: float, duration_s: float) -> float:
    return round(min(max(t_s / duration_s, 0.0), 1.0) * WIDTH, 2)


def scene_spans(report: Mapping[str, Any]) -> list[tuple[float, float, str]]:
    """Every scene of the report as ``(start_s, end_s, name)``, in order. A scene followed by
    its slower self (the sleep arc's, at the story's middle) is one scene to a listener."""
    duration_s = float(report.get("duration_s") or 0.0)
    scenes: list[tuple[float, str]] = []
    for s in timed(report, "scenes", "start_s"):
        name = str(s.get("scene", ""))
        if not scenes or scenes[-1][1] != name:
            scenes.append((float(s["start_s"]), name))
    if not scenes:
        return []
    ends = [start for start, _ in scenes[1:]] + [duration_s]
    return [(start, end, name) for (start, name), end in zip(scenes, ends, strict=True)]


def scene_timeline(report: Mapping[str, Any]) -> str:
    """The scenes as a row of buttons, each as wide as the scene is long, each seeking to
    where its scene begins."""
    duration_s = float(report.get("duration_s") or 0.0)
    spans = scene_spans(report)
    if not spans or duration_s <= 0:
        return ""
    items = []
    for start, end, name in spans:
        share = max(0.0, min(end, duration_s) - start) / duration_s * 100
        shown = name.replace("+", " + ")
        about = f"Scene {shown}, {clock(start)} to {clock(end)}"
        items.append(
            f'<li style="width:{share:.3f}%"><button type="button" data-t="{start:.3f}" '
            f'title="{esc(about)}" aria-label="{esc(about)}">{esc(shown)}</button></li>'
        )
    return '<ol class="scenes" aria-label="Scenes">' + "".join(items) + "</ol>"


def _levels(report: Mapping[str, Any]) -> tuple[float, list[float | None]] | None:
    curve = report.get("loudness_over_time")
    if not isinstance(curve, Mapping):
        return None
    step_s, values = curve.get("step_s"), curve.get("short_term_lufs")
    if not isinstance(step_s, int | float) or step_s <= 0 or not isinstance(values, list):
        return None
    return float(step_s), [float(v) if isinstance(v, int | float) else None for v in values]


def loudness_picture(report: Mapping[str, Any]) -> str:
    """The loudness over time as inline SVG: the short-term loudness as a line over a shaded
    area, the target as a dashed line, each passage a band, each chapter a line, and the
    playhead (moved by the page's script); under it the time axis and a legend."""
    duration_s = float(report.get("duration_s") or 0.0)
    levels = _levels(report)
    if levels is None or duration_s <= 0:
        return ""
    step_s, values = levels
    target = report.get("target_lufs")
    target = float(target) if isinstance(target, int | float) else -20.0
    top, bottom = target + ABOVE_LU, target - BELOW_LU

    def y(lufs: float) -> float:
        return round((top - min(max(lufs, bottom), top)) / (top - bottom) * HEIGHT, 2)

    points = [
        (_x((i + 0.5) * step_s, duration_s), y(v)) for i, v in enumerate(values) if v is not None
    ]
    shapes = []
    passages = timed(report, "passages", "start_s", "end_s")
    for p in passages:
        x0, x1 = _x(float(p["start_s"]), duration_s), _x(float(p["end_s"]), duration_s)
        width = f"{max(x1 - x0, 0.5):.2f}"
        # A faint band through the picture, and a strip along its foot that stays readable.
        shapes.append(
            f'<rect class="passage" x="{x0}" y="0" width="{width}" height="{HEIGHT}"></rect>'
            f'<rect class="spoken" x="{x0}" y="{HEIGHT - 4}" width="{width}" height="4"></rect>'
        )
    if points:
        line = " ".join(f"{x},{yy}" for x, yy in points)
        first, last = points[0][0], points[-1][0]
        shapes.append(
            f'<path class="area" d="M{first},{HEIGHT} L{line} L{last},{HEIGHT} Z"></path>'
        )
        shapes.append(f'<path class="curve" d="M{line}"{_KEEP}></path>')
    ty = y(target)
    shapes.append(f'<line class="target" x1="0" x2="{WIDTH}" y1="{ty}" y2="{ty}"{_KEEP}></line>')
    for chapter in timed(report, "chapters", "start_s")[1:]:
        x = _x(float(chapter["start_s"]), duration_s)
        shapes.append(
            f'<line class="chapter" x1="{x}" x2="{x}" y1="0" y2="{HEIGHT}"{_KEEP}></line>'
        )
    shapes.append(
        f'<line id="playhead" class="playhead" x1="0" x2="0" y1="0" y2="{HEIGHT}"{_KEEP}></line>'
    )
    about = _description(values, target, len(passages), duration_s)
    middle = clock(duration_s / 2)
    return (
        '<div class="loudness">'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-label="{esc(about)}">{"".join(shapes)}</svg></div>'
        f'<div class="axis" aria-hidden="true"><span>0:00</span><span>{middle}</span>'
        f"<span>{clock(duration_s)}</span></div>"
        '<p class="legend"><span class="swatch" style="background:var(--passage)"></span>'
        "passages (the voice) · line: short-term loudness (3 s) · dashed: the target, "
        f"{figure(target)} LUFS; from {figure(bottom, 0)} to {figure(top, 0)} LUFS. Click to "
        "listen from there.</p>"
    )


def _description(
    values: Sequence[float | None], target: float, passages: int, duration_s: float
) -> str:
    """What the picture shows, in words (for screen readers)."""
    heard = sorted(v for v in values if v is not None and v > target - 40)
    if not heard:
        return f"Loudness over {clock(duration_s)}: silence."
    low, high = heard[len(heard) // 10], heard[(len(heard) * 9) // 10]
    return (
        f"Short-term loudness over {clock(duration_s)}: mostly from {figure(low)} to "
        f"{figure(high)} LUFS, target {figure(target)} LUFS; {passages} passages marked."
    )
