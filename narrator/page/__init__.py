"""Listening pages: static HTML that a browser opens from ``file://`` or any plain web server,
with nothing fetched from anywhere (no CDN, fonts or trackers).

``transcript`` reads the WebVTT a render writes into timed cues; ``markup`` holds the HTML
building blocks (escaping, the document with its inlined style and script, times and
figures); ``picture`` draws the loudness over time with the passages marked and the scene
timeline; ``episode`` makes an episode's page (``narrator render --page``, and each episode of
``narrator site``); ``index`` the show's index page (``narrator site``).

Every text that comes from a story, a manifest or a report is escaped where it is put into
the HTML; what a page needs to seek and highlight is in its own elements (``data-t``), so the
page reads nothing but the audio it plays.
"""

from __future__ import annotations

from narrator.errors import NarratorError


class PageError(NarratorError, ValueError):
    """A page cannot be made: its render's files are missing or unreadable."""


__all__ = ["PageError"]
