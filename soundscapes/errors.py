"""The package's one root exception and its builtin-flavoured subclasses."""

from __future__ import annotations


class SoundscapeError(Exception):
    """Root of every error :mod:`soundscapes` raises on purpose."""


class LayerError(SoundscapeError, ValueError):
    """An unknown layer, or a layer parameter out of its range."""


class ExportError(SoundscapeError, OSError):
    """An output file could not be written."""
