"""The package's one root exception and its builtin-flavoured subclasses.

Messages say what was expected, where (``story.md:12``) and how to fix it: the CLI prints them
as one line.
"""

from __future__ import annotations

# How error lines quote a user's value (cut with an ellipsis) and hint at a mistyped name: one
# rule for both packages.
from soundscapes.errors import QUOTE_CHARS, brief, clip, name_hint  # noqa: F401


class NarratorError(Exception):
    """Root of every error :mod:`narrator` raises on purpose."""


class ScriptError(NarratorError, ValueError):
    """The story text cannot be read or parsed."""


class SpeechError(NarratorError, RuntimeError):
    """A speech engine failed or is not installed."""


class VoiceError(SpeechError, LookupError):
    """An unknown voice for an engine."""


class RenderError(NarratorError, RuntimeError):
    """The render could not be completed or written."""


class CacheError(NarratorError, OSError):
    """The speech cache folder cannot be used."""
