"""Front matter: YAML between ``---`` lines or TOML between ``+++`` lines, at the top of a story.

It sets the story's metadata and render settings. Every key is checked: an unknown key or a bad
value is an error naming the key and the line, so a typo never silently does nothing.

YAML anchors and aliases (``&name``, ``*name``) are refused before anything is built from them:
a few lines of nested aliases ("billion laughs") expand to gigabytes. Nesting is bounded too,
and an error line quotes a value only briefly.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from narrator.errors import QUOTE_CHARS, ScriptError, brief
from narrator.options import (
    BY_KEY,
    FRONT,
    OptionError,
    check_value,
    closest,
    did_you_mean,
    keys_for,
)
from narrator.text.pronunciation import check_entries
from soundscapes.tomlfile import toml_error


@dataclass(frozen=True, kw_only=True)
class StoryMeta:
    """What front matter may set: the story's metadata, and render options (checked against
    their declaration, :data:`narrator.options.OPTIONS`). ``None``: not set here."""

    title: str | None = None
    author: str | None = None
    series: str | None = None
    year: int | None = None
    genre: str | None = None
    description: str | None = None
    language: str | None = None
    cover: str | None = None
    pronounce: dict[str, str] = field(default_factory=dict)
    #: Render options by key (``pace``, ``seed``, …), as the front matter sets them.
    options: dict[str, Any] = field(default_factory=dict)
    #: The story file's line of each key set, for messages checked later (a scene's name
    #: is known only once the scene files are read).
    lines: dict[str, int] = field(default_factory=dict, compare=False)


_TEXT_KEYS = {"title", "author", "series", "genre", "description", "language", "cover"}
#: Text keys shown as one line: line breaks and runs of spaces in them become one space.
_ONE_LINE_KEYS = frozenset({"title", "author", "series", "genre"})
_YEAR_RANGE = (1, 9999)
#: A BCP 47 tag's shape (RFC 5646): a 2- or 3-letter language, then subtags of 1 to 8
#: letters or digits (region, script, variant); ``_`` is read as ``-``, as POSIX locales write it.
_LANGUAGE_TAG_RE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
METADATA_KEYS = (*(f.name for f in fields(StoryMeta) if f.name not in ("options", "lines")),)
KNOWN_KEYS = (*METADATA_KEYS, *keys_for(FRONT))
#: Deepest nesting of lists and tables front matter may have (``pronounce:`` needs two levels).
MAX_DEPTH = 20
#: A front-matter line that sets a key (YAML's ``title:``, TOML's ``title =``).
_KEY_LINE_RE = re.compile(r"\s*[A-Za-z_][\w-]*\s*[:=]")


#: libyaml's loader when PyYAML was built with it (forty times faster), else the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Refused(yaml.YAMLError):
    """What the front matter may not do, and the 0-based line of the front matter it is on."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _check_yaml_events(raw: str) -> None:
    """Refuse aliases, anchors and deep nesting from the parser's flat event stream, before a
    node is composed: nothing is built from an alias, so a "billion laughs" costs nothing."""
    depth = 0
    first_anchor: int | None = None
    for event in yaml.parse(raw, Loader=_YAML_LOADER):
        line = event.start_mark.line
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                line, "YAML aliases (*name) are not allowed in front matter; write the value out"
            )
        if getattr(event, "anchor", None) and first_anchor is None:
            first_anchor = line
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(
                    line,
                    f"front matter nests more than {MAX_DEPTH} levels deep; write plain "
                    "'key: value' lines",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    if first_anchor is not None:
        raise _Refused(
            first_anchor,
            "YAML anchors (&name) are not allowed in front matter; write the value out",
        )


def _load_yaml(raw: str) -> tuple[Any, yaml.Node | None]:
    """The document's value and its node (for the keys' lines)."""
    _check_yaml_events(raw)
    loader = _YAML_LOADER(raw)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _cut(text: str) -> str:
    """A parser's message, which may quote the user's text, cut like a quoted value."""
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def split_front_matter(text: str, *, source: str) -> tuple[StoryMeta, str, int]:
    """Return ``(meta, body, body_first_line)``; ``body_first_line`` is 1-based."""
    lines = text.split("\n")
    # Blank lines before it are invisible in an editor: front matter after them is still
    # front matter when a key follows its fence (a lone --- is a rule in Markdown).
    skip = next((i for i, line in enumerate(lines) if line.strip()), 0)
    fence = lines[skip].strip() if lines else ""
    if fence not in ("---", "+++") or (
        skip and not (skip + 1 < len(lines) and _KEY_LINE_RE.match(lines[skip + 1]))
    ):
        return StoryMeta(), text, 1
    try:
        end = next(i for i in range(skip + 1, len(lines)) if lines[i].strip() == fence)
    except StopIteration:
        raise ScriptError(
            f"{source}:{skip + 1}: front matter opened with {fence} is never closed; add a "
            f"{fence} line after it"
        ) from None
    # Lines as in the file: the blank ones before stay, so every line number is right.
    raw = "\n" * skip + "\n".join(lines[skip + 1 : end])
    values, key_lines = _parse(raw, fence, source)
    meta = _validate(values, key_lines, source)
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _parse(raw: str, fence: str, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse the front matter and find the 1-based file line of each top-level key."""
    if fence == "+++":
        try:
            values = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            # The front matter starts on line 2, after the opening +++.
            raise ScriptError(
                toml_error(
                    exc,
                    source,
                    raw,
                    first_line=2,
                    subject="front matter is ",
                    fix='write lines like title = "The Lighthouse"',
                )
            ) from None
        except RecursionError:
            raise ScriptError(
                f"{source}:2: front matter nests too deeply; write plain key = value lines"
            ) from None
        key_lines = {}
        for i, line in enumerate(raw.split("\n"), start=2):
            m = re.match(r"\s*\[?\s*([\w\-]+)\s*[=\]]", line)
            if m:
                key_lines.setdefault(m[1], i)
        return values, key_lines
    try:
        values, node = _load_yaml(raw)
    except _Refused as exc:
        raise ScriptError(f"{source}:{exc.line + 2}: {exc.message}") from None
    except yaml.YAMLError as exc:
        # Where the faulty token began ("author B" lacks its colon: the scanner finds out a
        # line later), or the "[" or "{" never closed ("foo: [1, 2": the parser finds out at
        # the end), else where the parser stopped (its context is the whole mapping; inside
        # a "[" that closes, the fault is there).
        scanned = isinstance(exc, yaml.scanner.ScannerError)
        problem_mark = getattr(exc, "problem_mark", None)
        opened = "flow" in (getattr(exc, "context", None) or "") and (
            problem_mark is None or problem_mark.index >= len(raw.rstrip())
        )
        mark = ((scanned or opened) and exc.context_mark) or problem_mark
        where = f"{source}:{mark.line + 2}" if mark else source
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ScriptError(f"{where}: front matter is not valid YAML ({_cut(problem)})") from None
    if values is None:
        return {}, {}
    if not isinstance(values, dict) or not isinstance(node, yaml.MappingNode):
        raise ScriptError(f"{source}:2: front matter must be 'key: value' lines")
    key_lines: dict[str, int] = {}
    for key, _ in node.value:
        line = key.start_mark.line + 2
        if key.value in key_lines:  # YAML keeps the last one silently; TOML refuses it
            raise ScriptError(
                f"{source}:{line}: {brief(key.value)} is set twice (line {key_lines[key.value]} "
                "too); keep one"
            )
        key_lines[key.value] = line
    return values, key_lines


def _validate(values: dict[str, Any], key_lines: dict[str, int], source: str) -> StoryMeta:
    out: dict[str, Any] = {}
    options: dict[str, Any] = {}
    # Paths in front matter (a lexicon, a scene file) are relative to the story's folder.
    base = None if source.startswith("<") else Path(source).parent
    for key, value in values.items():
        where = f"{source}:{key_lines.get(str(key), 1)}"
        if key not in KNOWN_KEYS:
            close = closest(str(key), KNOWN_KEYS)
            hint = (
                did_you_mean(close)
                if close
                else f"known keys: {', '.join(METADATA_KEYS)}, and the render options of "
                "narrator render --help (pace, seed, tail, …)"
            )
            if key in BY_KEY:
                hint = f"{key} cannot be set in front matter"
            raise ScriptError(f"{where}: unknown front-matter key {brief(key)}; {hint}")
        if key in _TEXT_KEYS:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ScriptError(f"{where}: {key} must be text, got {brief(value)}")
            out[key] = str(value)
            if key in _ONE_LINE_KEYS:
                # A YAML block (title: |) keeps its line breaks; a title is one line in a
                # tag, a feed and a player.
                out[key] = " ".join(out[key].split())
            if key == "language" and not _LANGUAGE_TAG_RE.fullmatch(out[key].strip()):
                raise ScriptError(
                    f"{where}: language {brief(value)} is not a language code; write one such "
                    "as en, en-gb, fr or de (it decides how numeric dates are read)"
                )
        elif key == "year":
            low, high = _YEAR_RANGE
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ScriptError(f"{where}: year must be from 1 to 9999, got {brief(value)}")
            out[key] = value
        elif key == "pronounce":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ScriptError(
                    f"{where}: pronounce must map words to how they are said, e.g. 'Nyx: nicks'"
                )
            check_entries(value, f"{where}: pronounce")
            out[key] = dict(value)
        elif value is not None:
            try:
                options[key] = check_value(BY_KEY[key], value, where, base=base)
            except OptionError as exc:
                raise ScriptError(str(exc)) from None
    lines = {str(k): key_lines.get(str(k), 1) for k in values}
    return StoryMeta(**out, options=options, lines=lines)


def day_first_dates(language: str | None) -> bool:
    """Whether the story's language writes numeric dates day first (``en-GB``, ``fr``: yes).

    Month first for US English and when no language is set, like the narration's other forms.
    """
    tag = (language or "").strip().lower().replace("_", "-")
    if not re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*", tag):
        return False
    return tag not in ("en", "en-us")
