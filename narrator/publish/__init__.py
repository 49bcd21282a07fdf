"""Publishing: many episodes from a manifest, a podcast feed, and bedtime playlists.

``manifest`` reads the TOML manifest; ``batch`` renders its episodes in parallel and skips the
ones whose inputs have not changed; ``feed`` writes the RSS 2.0 podcast feed; ``site`` writes
the show's website (an index and a page per episode, :mod:`narrator.page`) with the feed;
``playlist`` writes an extended M3U playlist, optionally ending with an ambience-only closer.
"""

from __future__ import annotations

from narrator.errors import NarratorError


class PublishError(NarratorError, ValueError):
    """A manifest cannot be read, or a feed or playlist cannot be made from it."""


__all__ = ["PublishError"]
