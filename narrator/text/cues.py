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

Brackets that hold no cue word are text (``[sic]``), with a warning, unless the word is close
to one (``[pasue 2s]``: an error). In Markdown, brackets that are markup are left to the
Markdown parser: a link's text before ``(``, ``[`` or ``:`` and a reference after ``]``;
footnote marks (``[^1]``) and task boxes (``- [ ]``) are not spoken; cues inside inline code
or an HTML comment are not cues.
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
    r"|(?<!!)\[(?P<body>[^\[\]\n]*)\]"
)
#: Markdown spans whose text is never spoken, so cues in them are not cues: inline code (a
#: run of backticks to the same run) and an HTML comment (to its end, or the line's).
_QUIET_RE = re.compile(r"(?P<ticks>`+).*?(?<!`)(?P=ticks)(?!`)|<!--.*?(?:-->|$)")
#: A footnote's mark where its note begins: ``[^1]: …``.
_FOOTNOTE_RE = re.compile(r"^(?<!\\)\[\^[^\[\]\n]*\]:")
#: A list item's task box: ``- [ ] `` or ``1. [x] ``.
_TASK_BOX_RE = re.compile(r"\s*(?:[-*+]|\d{1,9}[.)])\s+$")
#: How close a bracketed word must be to a cue word to be taken for a mistyped cue.
_TYPO_CUTOFF = 0.75
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


#: ``[Illustration]``, ``[Illustration: The Mole]``: a printed book's picture (Project
#: Gutenberg's mark), not read, as a Markdown image is not.
_ILLUSTRATION_RE = re.compile(r"\s*Illustration\b(?:\s*[:.]|\s*$)", re.IGNORECASE)


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
    as_text: list[tuple[int, str]] = []
    in_fence = in_comment = False
    comment_line = 0  # where the comment open at the end of a line began
    for offset, line in enumerate(text.split("\n")):
        number = first_line + offset
        if markdown and _FENCE_RE.match(line):
            in_fence = not in_fence
        if in_fence:
            out_lines.append(line)
            continue

        def mark(cue: Cue) -> str:
            cues.append(cue)
            return f"\ue000{len(cues) - 1}\ue001"

        def replace(match: re.Match[str], line: str, number: int = number) -> str:
            where = f"{source}:{number}"
            body = match["body"]
            if body is not None and not _names_a_cue(body, where):
                if _ILLUSTRATION_RE.match(body):
                    return " "  # a book's picture and its caption, as an image: for the eye
                after = line[match.end() : match.end() + 1]
                before = line[match.start() - 1 : match.start()] if match.start() else ""
                if markdown and (
                    body.startswith("^")
                    or (body in (" ", "x", "X") and _TASK_BOX_RE.fullmatch(line[: match.start()]))
                ):
                    return " "  # a footnote's mark (its note is read) or a task box: for the eye
                if markdown and (after in ("(", "[", ":") or before == "]"):
                    return match[0]  # a link's or a reference's brackets: Markdown's own
                # A footnote's mark, glued to the word it notes ("door-nail.[1]") or opening
                # its note ("[1] An old saying."): for the eye; the note itself is read.
                glued = before and not before.isspace() and not after.isalnum()
                if body.isdigit() and len(body) <= 3 and (glued or (not before and after == " ")):
                    return ""
                as_text.append((number, body))
                opening = mark(Cue(kind="literal", line=number, text="["))
                return f"{opening}{body}{mark(Cue(kind='literal', line=number, text=']'))}"
            cue = _cue(match, source=where, line=number, scenes=scenes, layers=layers)
            return mark(cue) if cue.kind == "literal" else f" {mark(cue)} "

        spoken, quiet = [line], []
        if markdown:
            was_in_comment = in_comment
            spoken, quiet, in_comment = _split_quiet(line, in_comment)
            if in_comment and not (was_in_comment and len(quiet) == 1):
                comment_line = number  # opened on this line (not only carried through it)
        if markdown:  # a footnote's note is read; its mark is for the eye
            spoken[0] = _FOOTNOTE_RE.sub("", spoken[0])
        parts = [_TOKEN_RE.sub(lambda m, part=part: replace(m, part), part) for part in spoken]
        if _unmatched_brackets("".join(parts), source=f"{source}:{number}"):
            unmatched_lines.append(number)
        out_lines.append("".join(p for pair in zip(parts, [*quiet, ""], strict=True) for p in pair))
    if in_comment:
        # Markdown hides everything after it, and the words would be lost; read as text, the
        # note meant for the eye would be spoken: neither is what was meant.
        raise ScriptError(
            f"{source}:{comment_line}: an HTML comment opened here (<!--) is never closed; "
            "end it with -->"
        )
    if warnings is not None:
        warnings += _bracket_warnings(source, unmatched_lines, as_text)
    return "\n".join(out_lines), cues


def _split_quiet(line: str, in_comment: bool) -> tuple[list[str], list[str], bool]:
    """``line`` cut into the parts that may hold cues and, between them, the quiet spans
    (inline code, HTML comments) that may not: ``spoken`` has one part more than ``quiet``.
    ``in_comment``: the line starts inside an HTML comment; the third value: it ends so."""
    spoken, quiet, start = [], [], 0
    if in_comment:
        end = line.find("-->")
        if end < 0:
            return ["", ""], [line], True
        spoken.append("")
        quiet.append(line[: end + 3])
        start, in_comment = end + 3, False
    for m in _QUIET_RE.finditer(line, start):
        spoken.append(line[start : m.start()])
        quiet.append(m[0])
        start = m.end()
        in_comment = m[0].startswith("<!--") and not m[0].endswith("-->")
    spoken.append(line[start:])
    return spoken, quiet, in_comment


def _names_a_cue(body: str, where: str) -> bool:
    """Whether ``[body]`` is a cue: its first word is a cue word. One close to a cue word
    (``pasue``) is a mistyped cue, an error; any other is text.

    Raises
    ------
    ScriptError
        A word close to a cue word.
    """
    head = re.match(r"\s*([A-Za-z][\w-]*)", body)
    name = head[1].lower() if head else ""
    if name in CUE_NAMES:
        return True
    close = difflib.get_close_matches(name[:40], CUE_NAMES, n=1, cutoff=_TYPO_CUTOFF)
    if close:
        raise ScriptError(
            f"{where}: unknown cue [{_cut(body.strip())}]; did you mean {close[0]}? cues are "
            f"{', '.join(CUE_NAMES)} (write \\[ and \\] for literal brackets)"
        )
    return False


def _bracket_warnings(
    source: str, unmatched_lines: list[int], as_text: list[tuple[int, str]]
) -> list[str]:
    """One warning for the lines with unmatched brackets, one for bracketed words that are no
    cue (each names its first line and up to :data:`_WARN_LINES` lines)."""
    out = []
    if unmatched_lines:
        out.append(
            f"{source}:{unmatched_lines[0]}: an unmatched bracket is read as text"
            f"{_lines(unmatched_lines)}; write \\[ or \\] for a literal bracket, or close the "
            "cue with ]"
        )
    if as_text:
        first_line, body = as_text[0]
        out.append(
            f"{source}:{first_line}: [{_cut(body)}] is no cue, so it is read as text"
            f"{_lines([n for n, _ in as_text])}; cues are {', '.join(CUE_NAMES)} (write "
            f"\\[{_cut(body)}\\] to read it without this warning)"
        )
    return out


def _lines(numbers: list[int]) -> str:
    """`` (lines 3, 7, …)`` for several lines, nothing for one."""
    numbers = sorted(set(numbers))
    if len(numbers) < 2:
        return ""
    more = ", …" if len(numbers) > _WARN_LINES else ""
    return f" (lines {', '.join(str(n) for n in numbers[:_WARN_LINES])}{more})"


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
    raise AssertionError(f"not a cue: {body!r}")  # _names_a_cue sorts the others out


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
