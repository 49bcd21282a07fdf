"""narrator: story text in, a narrated, scored and mastered sleep story out."""

from __future__ import annotations

from narrator.errors import NarratorError

__all__ = ["NarratorError"]
__version__ = "0.1.0"
