"""Cues in the story text: pauses, scene changes, layers in and out, and literal brackets.

    [pause 3s]   [pause 500ms]   <break time="2s"/>   a silence of that length
    [scene: coast]                                    the soundscape moves to a scene
    [add: rain, wind]   [remove: rain]                layers join or leave the current scene
    \\[ and \\]                                       literal brackets, spoken as written

Cues are found before any other parsing and replaced by private-use placeholders, so Markdown
never mistakes them for markup and an escaped bracket is never taken for a cue.

A cue is closed on its own line. An opening ``[`` followed by a cue word (``[pause 3s`` with no
``]``) or a ``<break`` with no ``>`` is an error, since it is surely a cue that lost its end;
any other bracket left unmatched is read as text, with a warning.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from narrator.errors import QUOTE_CHARS, ScriptError, brief, name_hint

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
    r"|(?P<ssml><break\b[^<>\n]*>)"
    r"|(?<!!)\[(?P<body>[^\[\]\n]*)\](?![(\[:])"
)
_DURATION_RE = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|sec|secs|seconds?|m|min|mins|minutes?)?$"
)
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_BRACKET_RE = re.compile(r"[\[\]]")
_UNCLOSED_CUE_RE = re.compile(r"\[\s*(?:" + "|".join(CUE_NAMES) + r")\b", re.IGNORECASE)
_UNCLOSED_BREAK_RE = re.compile(r"<break\b")
#: Lines named in the one warning about unmatched brackets, at most.
_WARN_LINES = 5


def _cut(text: str) -> str:
    """What the user wrote, cut as :func:`narrator.errors.brief` cuts a quoted value."""
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


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
    warnings: list[str] | None = None,
) -> tuple[str, list[Cue]]:
    """Replace every cue in ``text`` by a placeholder; return the new text and the cues.

    Brackets left unmatched are read as text; ``warnings`` gets one line about them.

    Raises
    ------
    ScriptError
        An unknown or unclosed cue, scene or layer, or a pause out of bounds, with
        ``file:line``.
    """
    cues: list[Cue] = []
    out_lines: list[str] = []
    unmatched_lines: list[int] = []
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

        out = _TOKEN_RE.sub(replace, line)
        if _unmatched_brackets(out, source=f"{source}:{number}"):
            unmatched_lines.append(number)
        out_lines.append(out)
    if unmatched_lines and warnings is not None:
        shown = ", ".join(str(n) for n in unmatched_lines[:_WARN_LINES])
        more = ", …" if len(unmatched_lines) > _WARN_LINES else ""
        where = f" (lines {shown}{more})" if len(unmatched_lines) > 1 else ""
        warnings.append(
            f"{source}:{unmatched_lines[0]}: an unmatched bracket is read as text{where}; "
            "write \\[ or \\] for a literal bracket, or close the cue with ]"
        )
    return "\n".join(out_lines), cues


def _unmatched_brackets(line: str, *, source: str) -> bool:
    """Whether ``line`` (its cues already replaced) has a bracket without its pair.

    Raises
    ------
    ScriptError
        An unclosed cue: ``[`` and a cue word, or ``<break``, with no end on the line.
    """
    tag = _UNCLOSED_BREAK_RE.search(line)
    if tag:
        raise ScriptError(
            f"{source}: {brief(line[tag.start() : tag.start() + QUOTE_CHARS])} is not closed; "
            'end it with /> on the same line, e.g. <break time="2s"/>'
        )
    if "[" not in line and "]" not in line:
        return False
    opened: list[int] = []
    unmatched = False
    for m in _BRACKET_RE.finditer(line):
        if m[0] == "[":
            opened.append(m.start())
        elif opened:
            opened.pop()
        else:
            unmatched = True
    for start in opened:
        if _UNCLOSED_CUE_RE.match(line, start):
            raise ScriptError(
                f"{source}: cue {brief(line[start : start + QUOTE_CHARS])} is not closed; close "
                "it with ] on the same line, or write \\[ for a literal bracket"
            )
    return unmatched or bool(opened)


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
        return Cue(
            kind="pause", line=line, seconds=_duration(arg or "1s", source, f"[{_cut(body)}]")
        )
    if name == "scene":
        return Cue(kind="scene", line=line, names=(_known(arg, scenes, "scene", source),))
    if name in ("add", "remove"):
        names = tuple(
            _known(n.strip(), layers, "layer", source) for n in arg.split(",") if n.strip()
        )
        if not names:
            raise ScriptError(f"{source}: [{_cut(body)}] names no layer; e.g. [{name}: rain]")
        return Cue(kind=name, line=line, names=names)
    close = difflib.get_close_matches(name[:40], CUE_NAMES, n=1)
    guess = f"did you mean {close[0]}? " if close else ""
    raise ScriptError(
        f"{source}: unknown cue [{_cut(body)}]; {guess}cues are {', '.join(CUE_NAMES)} "
        f"(write \\[ and \\] for literal brackets)"
    )


def _known(name: str, valid: Collection[str], what: str, source: str) -> str:
    if name in valid:
        return name
    raise ScriptError(f"{source}: unknown {what} {brief(name)}; {name_hint(name, valid)}")


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
        return _duration(time_attr[1], source, _cut(tag))
    strength = re.search(r"strength\s*=\s*[\"']([^\"']*)[\"']", tag)
    if strength and strength[1] in _SSML_STRENGTH_S:
        return max(MIN_PAUSE_S, _SSML_STRENGTH_S[strength[1]])
    if strength:
        raise ScriptError(
            f"{source}: {_cut(tag)} has unknown strength; use {', '.join(_SSML_STRENGTH_S)}"
        )
    return 1.0
