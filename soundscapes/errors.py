"""The package's one root exception and its builtin-flavoured subclasses."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SoundscapeError(Exception):
    """Root of every error :mod:`soundscapes` raises on purpose."""


class LayerError(SoundscapeError, ValueError):
    """An unknown layer, or a layer parameter out of its range."""


class ExportError(SoundscapeError, OSError):
    """An output file could not be written."""


#: Longest quote of a user's value in an error line, characters: enough to recognise it, never
#: a screenful (a value may be a whole file, or a YAML bomb expanded).
QUOTE_CHARS = 60


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name_hint(name: str, valid: Iterable[str]) -> str:
    """``did you mean coast, dawn-coast?`` for a mistyped ``name``, or ``use one of …`` with
    every valid name when none is close (the first few of the alphabet would be no hint)."""
    names = list(valid)
    close = difflib.get_close_matches(name[:40], names, n=3)
    if close:
        return f"did you mean {', '.join(close)}?"
    return f"use one of {', '.join(sorted(names))}"


def brief(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis: how error lines quote what
    a user wrote."""
    return clip(repr(value), limit)
