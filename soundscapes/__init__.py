"""Procedural and recorded ambience: layers, scenes, timelines, mixing, mastering and export.

A library of its own: it never imports :mod:`narrator`. Audio is float32 shaped
``(channels, frames)`` with the sample rate passed explicitly.
"""

from __future__ import annotations

from soundscapes.errors import SoundscapeError
from soundscapes.source import SAMPLE_RATE_HZ, Source

__all__ = ["SAMPLE_RATE_HZ", "SoundscapeError", "Source"]
