"""An episode's page: the player, the report's figures, the chapters, the scenes and loudness
over time, and the transcript, each sentence a place to listen from.

The same page serves ``narrator render --page`` (``OUT.html`` beside the render, a producer's
preview) and each episode of ``narrator site`` (with the show's header, the episode's date,
description and artwork, and a download link).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from narrator.page.markup import clock, document, esc, figure, href, iso_duration, long_date
from narrator.page.picture import loudness_picture, scene_timeline, timed
from narrator.page.transcript import Cue, paragraphs, read_vtt

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PLAY = (
    '<svg class="start" viewBox="0 0 24 24" aria-hidden="true">'
    '<path d="M8 5v14l11-7z"></path></svg>'
)
_PAUSE = (
    '<svg class="pause" viewBox="0 0 24 24" aria-hidden="true">'
    '<path d="M6 5h4v14H6zM14 5h4v14h-4z"></path></svg>'
)


@dataclass(frozen=True, kw_only=True)
class Link:
    """A link the page shows: where it goes (relative to the page) and its words."""

    href: str
    text: str


@dataclass(frozen=True, kw_only=True)
class EpisodeView:
    """Everything an episode's page shows."""

    title: str
    #: The audio, relative to the page (``dream.mp3``, ``../dream.mp3``).
    audio: str
    #: The render's report (``OUT.report.json``).
    report: Mapping[str, Any]
    cues: Sequence[Cue] = ()
    #: The transcript file, relative to the page, for the footer's link.
    transcript: str | None = None
    lang: str = "en"
    author: str = ""
    description: str = ""
    published: date | None = None
    #: The show's index (``narrator site``), shown above the title.
    show: Link | None = None
    download: Link | None = None
    #: The episode's artwork, relative to the page, and its alternative text.
    image: Link | None = None


def episode_html(view: EpisodeView) -> str:
    """The page of ``view`` as HTML."""
    report = view.report
    duration_s = float(report.get("duration_s") or 0.0)
    parts = ['<a class="skip" href="#transcript">Skip to the transcript</a>'] if view.cues else []
    if view.show is not None:
        parts.append(
            f'<header class="site-header"><a href="{href(view.show.href)}">'
            f"\u2190 {esc(view.show.text)}</a></header>"
        )
    parts.append("<main><article>")
    head = ""
    if view.image is not None:
        head = (
            f'<img class="cover" src="{href(view.image.href)}" width="112" height="112" '
            f'alt="{esc(view.image.text)}">'
        )
    meta = []
    if view.published is not None:
        day = view.published
        meta.append(f'<time datetime="{day.isoformat()}">{long_date(day)}</time>')
    meta.append(f'<time datetime="{iso_duration(duration_s)}">{clock(duration_s)}</time>')
    if view.author:
        meta.append(esc(view.author))
    parts.append(
        f'<div class="head">{head}<div><h1>{esc(view.title)}</h1>'
        f'<p class="meta">{" · ".join(meta)}</p></div></div>'
    )
    if view.description:
        parts.append(f'<p class="description">{esc(view.description)}</p>')
    parts.append(_player(view, duration_s))
    if view.download is not None:
        parts.append(
            f'<p class="download"><a href="{href(view.download.href)}" download>'
            f"{esc(view.download.text)}</a></p>"
        )
    figures = _figures(report, duration_s)
    if view.show is None:  # a producer's preview: the figures first
        parts.append(figures)
    else:  # a listener's page: there if wanted
        parts.append(f'<details class="sound"><summary>How it sounds</summary>{figures}</details>')
    parts.append(_chapters(report))
    sound = scene_timeline(report) + loudness_picture(report)
    if sound:
        parts.append(
            '<section aria-labelledby="h-sound"><h2 id="h-sound">Scenes and loudness</h2>'
            f"{sound}</section>"
        )
    parts.append(_transcript(report, view.cues))
    parts.append("</article></main>")
    footer = "Made with narrator"
    if view.transcript:
        footer += f' · <a href="{href(view.transcript)}">transcript (WebVTT)</a>'
    parts.append(f"<footer><p>{footer}</p></footer>")
    return document(
        title=view.title, body="\n".join(parts), lang=view.lang, description=view.description
    )


def _player(view: EpisodeView, duration_s: float) -> str:
    """The audio and its controls: a play button, a position slider and the time, each sized
    before the audio's metadata loads (the length is the report's)."""
    # From the first frame as wide as it will ever be: a file of an hour or more counts hours.
    shown = f"{clock(0, hours=duration_s >= 3600)} / {clock(duration_s)}"
    return (
        '<div class="player" role="group" aria-label="Player">'
        f'<audio id="audio" preload="metadata" src="{href(view.audio)}" '
        f'data-duration="{duration_s:.3f}" data-title="{esc(view.title)}" '
        f'data-artist="{esc(view.author)}"></audio>'
        f'<button id="play" class="play" type="button" aria-label="Play">{_PLAY}{_PAUSE}</button>'
        f'<input id="seek" type="range" min="0" max="{duration_s:.3f}" step="1" value="0" '
        f'aria-label="Position" aria-valuetext="{clock(0)} of {clock(duration_s)}">'
        f'<span id="time" class="time" style="min-width:{len(shown) + 1}ch">{shown}</span>'
        "</div>"
    )


def _figures(report: Mapping[str, Any], duration_s: float) -> str:
    """The report's figures: length, loudness, true peak, loudness range, voice over ambience
    and pace, each with what it is measured against."""
    rows = [("Length", clock(duration_s), "")]

    def add(name: str, key: str, unit: str, note: str = "") -> None:
        value = report.get(key)
        if isinstance(value, int | float):
            rows.append((name, f"{figure(value)} {unit}", note))

    target, ceiling = report.get("target_lufs"), report.get("true_peak_ceiling_dbtp")
    add(
        "Loudness",
        "integrated_lufs",
        "LUFS",
        f"target {figure(target)}" if isinstance(target, int | float) else "",
    )
    add(
        "True peak",
        "true_peak_dbtp",
        "dBTP",
        f"ceiling {figure(ceiling)}" if isinstance(ceiling, int | float) else "",
    )
    add("Loudness range", "loudness_range_lu", "LU")
    least = report.get("voice_over_ambience_min_lu")
    add(
        "Voice over ambience",
        "voice_over_ambience_lu",
        "LU",
        f"closest 3 s: {figure(least)}" if isinstance(least, int | float) else "",
    )
    pace, words = report.get("pace_wpm"), report.get("words")
    if isinstance(pace, int | float):
        rows.append(("Pace", f"{pace:.0f} wpm", f"{words} words" if isinstance(words, int) else ""))
    items = "".join(
        f"<div><dt>{esc(name)}</dt><dd>{esc(value)}"
        + (f' <span class="t">({esc(note)})</span>' if note else "")
        + "</dd></div>"
        for name, value, note in rows
    )
    return f'<dl class="figures">{items}</dl>'


def _chapters(report: Mapping[str, Any]) -> str:
    chapters = timed(report, "chapters", "start_s")
    if not chapters:
        return ""
    items = "".join(
        f'<li><button type="button" data-t="{float(c["start_s"]):.3f}">'
        f'<span class="t">{clock(float(c["start_s"]))}</span> {esc(c.get("title", ""))}'
        "</button></li>"
        for c in chapters
    )
    return (
        '<section aria-labelledby="h-chapters"><h2 id="h-chapters">Chapters</h2>'
        f'<ol class="chapters">{items}</ol></section>'
    )


def _chapter_starts(report: Mapping[str, Any]) -> dict[int, str]:
    """The chapter title that begins at each passage, when there is more than one chapter:
    the report's chapters are in the order of their first passages."""
    chapters = [str(c.get("title", "")) for c in timed(report, "chapters", "start_s")]
    if len(chapters) < 2:
        return {}
    starts: dict[int, str] = {}
    seen: list[Any] = []
    for p in timed(report, "passages", "index"):
        if p.get("chapter") in seen:
            continue
        seen.append(p.get("chapter"))
        if len(seen) <= len(chapters):
            starts[int(p.get("index", -1))] = chapters[len(seen) - 1]
    return starts


def _transcript(report: Mapping[str, Any], cues: Sequence[Cue]) -> str:
    """The transcript, a paragraph per passage under its chapter's heading, each cue a place
    to listen from (click, or Enter on it)."""
    if not cues:
        return ""
    headings = _chapter_starts(report)
    # narrator's cue ids name the sentence ("3-0"); others are numbered, so ids stay unique.
    ids = {id(cue): cue.id if _ID.fullmatch(cue.id) else f"n{i}" for i, cue in enumerate(cues)}
    if len(set(ids.values())) < len(ids):
        ids = {id(cue): f"n{i}" for i, cue in enumerate(cues)}
    out = []
    for group in paragraphs(list(cues)):
        passage = group[0].passage
        if passage in headings:
            out.append(f"<h3>{esc(headings[passage])}</h3>")
        spans = " ".join(
            f'<span class="cue" id="cue-{ids[id(cue)]}" data-t="{cue.start_s:.3f}" '
            f'tabindex="0" role="button">{esc(cue.text)}</span>'
            for cue in group
        )
        out.append(f"<p>{spans}</p>")
    return (
        '<section id="transcript" aria-labelledby="h-transcript">'
        '<h2 id="h-transcript">Transcript</h2>'
        f'<div class="transcript">{"".join(out)}</div></section>'
    )


def listening_page(output: Path, report: Mapping[str, Any]) -> str:
    """The page ``narrator render --page`` writes beside ``output`` (``OUT.html``), from its
    report and the transcript beside it.

    Raises
    ------
    PageError
        The transcript cannot be read.
    """
    vtt = output.with_name(output.name + ".vtt")
    title = str(report.get("title") or output.stem)
    return episode_html(
        EpisodeView(
            title=title,
            audio=output.name,
            report=report,
            cues=read_vtt(vtt),
            transcript=vtt.name if vtt.exists() else None,
            author=str(report.get("author") or ""),
        )
    )
