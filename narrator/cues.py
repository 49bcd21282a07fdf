"""Cues in the story text: pauses, scene changes, layers in and out, and literal brackets.

    [pause 3s]   [pause 500ms]   <break time="2s"/>   a silence of that length
    [scene: coast]                                    the soundscape moves to a scene
    [add: rain, wind]   [remove: rain]                layers join or leave the current scene
    \\[ and \\]                                       literal brackets, spoken as written

Cues are found before any other parsing and replaced by private-use placeholders, so Markdown
never mistakes them for markup and an escaped bracket is never taken for a cue.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from narrator.errors import ScriptError

#: Pauses longer than this are almost certainly a typo (an hour of silence is not a story).
MAX_PAUSE_S = 60.0
MIN_PAUSE_S = 0.1
CUE_NAMES = ("pause", "scene", "add", "remove")

PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")
_SSML_STRENGTH_S = {
    "none": 0.0,
    "x-weak": 0.25,
    "weak": 0.5,
    "medium": 1.0,
    "strong": 2.0,
    "x-strong": 3.0,
}
_TOKEN_RE = re.compile(
    r"(?P<escape>\\[\[\]<])"
    r"|(?P<ssml><break\b[^>\n]*?/?>)"
    r"|(?<!!)\[(?P<body>[^\[\]\n]*)\](?![(\[:])"
)
_DURATION_RE = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|sec|secs|seconds?|m|min|mins|minutes?)?$"
)
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, kw_only=True)
class Cue:
    """One cue found in the text. ``kind`` is pause, scene, add, remove or literal."""

    kind: str
    line: int
    seconds: float = 0.0
    names: tuple[str, ...] = ()
    text: str = ""


def extract_cues(
    text: str,
    *,
    source: str,
    first_line: int,
    scenes: Collection[str],
    layers: Collection[str],
    markdown: bool = False,
) -> tuple[str, list[Cue]]:
    """Replace every cue in ``text`` by a placeholder; return the new text and the cues.

    Raises
    ------
    ScriptError
        An unknown cue, scene or layer, or a pause out of bounds, with ``file:line``.
    """
    cues: list[Cue] = []
    out_lines: list[str] = []
    in_fence = False
    for offset, line in enumerate(text.split("\n")):
        number = first_line + offset
        if markdown and _FENCE_RE.match(line):
            in_fence = not in_fence
        if in_fence:
            out_lines.append(line)
            continue

        def replace(match: re.Match[str], number: int = number) -> str:
            cue = _cue(
                match, source=f"{source}:{number}", line=number, scenes=scenes, layers=layers
            )
            cues.append(cue)
            mark = f"\ue000{len(cues) - 1}\ue001"
            return mark if cue.kind == "literal" else f" {mark} "

        out_lines.append(_TOKEN_RE.sub(replace, line))
    return "\n".join(out_lines), cues


def _cue(
    match: re.Match[str],
    *,
    source: str,
    line: int,
    scenes: Collection[str],
    layers: Collection[str],
) -> Cue:
    if match["escape"]:
        return Cue(kind="literal", line=line, text=match["escape"][1])
    if match["ssml"]:
        return Cue(kind="pause", line=line, seconds=_ssml_break(match["ssml"], source))
    body = match["body"].strip()
    head = re.match(r"^([A-Za-z][\w-]*)\s*:?\s*(.*)$", body)
    name = head[1].lower() if head else ""
    arg = head[2].strip() if head else ""
    if name == "pause":
        return Cue(kind="pause", line=line, seconds=_duration(arg or "1s", source, f"[{body}]"))
    if name == "scene":
        return Cue(kind="scene", line=line, names=(_known(arg, scenes, "scene", source),))
    if name in ("add", "remove"):
        names = tuple(
            _known(n.strip(), layers, "layer", source) for n in arg.split(",") if n.strip()
        )
        if not names:
            raise ScriptError(f"{source}: [{body}] names no layer; e.g. [{name}: rain]")
        return Cue(kind=name, line=line, names=names)
    close = difflib.get_close_matches(name, CUE_NAMES, n=2) or list(CUE_NAMES)
    raise ScriptError(
        f"{source}: unknown cue [{body}]; cues are {', '.join(close)} "
        f"(write \\[ and \\] for literal brackets)"
    )


def _known(name: str, valid: Collection[str], what: str, source: str) -> str:
    if name in valid:
        return name
    close = difflib.get_close_matches(name, list(valid), n=3) or sorted(valid)[:5]
    raise ScriptError(f"{source}: unknown {what} {name!r}; did you mean {', '.join(close)}?")


def _duration(text: str, source: str, cue: str) -> float:
    m = _DURATION_RE.match(text.strip().lower())
    if not m:
        raise ScriptError(f"{source}: {cue} needs a duration such as 2s or 500ms")
    unit = m["unit"] or "s"
    seconds = float(m["n"]) * (0.001 if unit == "ms" else 60.0 if unit.startswith("m") else 1.0)
    if not MIN_PAUSE_S <= seconds <= MAX_PAUSE_S:
        raise ScriptError(
            f"{source}: {cue} is {seconds:g} s; pauses go from {MIN_PAUSE_S:g} to "
            f"{MAX_PAUSE_S:g} s (use the tail or several cues for longer silences)"
        )
    return seconds


def _ssml_break(tag: str, source: str) -> float:
    time_attr = re.search(r"time\s*=\s*[\"']([^\"']*)[\"']", tag)
    if time_attr:
        return _duration(time_attr[1], source, tag)
    strength = re.search(r"strength\s*=\s*[\"']([^\"']*)[\"']", tag)
    if strength and strength[1] in _SSML_STRENGTH_S:
        return max(MIN_PAUSE_S, _SSML_STRENGTH_S[strength[1]])
    if strength:
        raise ScriptError(
            f"{source}: {tag} has unknown strength; use {', '.join(_SSML_STRENGTH_S)}"
        )
    return 1.0
