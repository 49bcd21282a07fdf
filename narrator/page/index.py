"""The show's index page (``index.html`` of ``narrator site``): the cover, title, author and
description, the feed's address with a copy button and the links that subscribe to it, and
the episodes, newest first, each with its date, length and summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from narrator.page.markup import clock, document, esc, href, iso_duration, long_date


@dataclass(frozen=True, kw_only=True)
class EpisodeEntry:
    """One episode in the index."""

    title: str
    #: Its page, relative to the index (``episodes/dream.html``).
    page: str
    published: date
    duration_s: float
    summary: str = ""


@dataclass(frozen=True, kw_only=True)
class ShowView:
    """Everything the index shows."""

    title: str
    feed_url: str
    #: Newest first.
    episodes: Sequence[EpisodeEntry]
    author: str = ""
    description: str = ""
    lang: str = "en"
    #: The show's artwork, relative to the index, when it is a file served beside it.
    image: str | None = None


def app_url(feed_url: str) -> str:
    """The ``podcast://`` form of a feed's address, which opens it in the reader's podcast
    app: ``https://example.org/feed.xml`` → ``podcast://example.org/feed.xml``."""
    parts = urlsplit(feed_url)
    return urlunsplit(("podcast", parts.netloc, parts.path, parts.query, ""))


def index_html(show: ShowView) -> str:
    """The index page of ``show`` as HTML."""
    parts = ["<main>", '<header class="show">']
    if show.image:
        parts.append(
            f'<img src="{href(show.image)}" width="160" height="160" '
            f'alt="{esc("Cover of " + show.title)}">'
        )
    parts.append(f'<div class="about"><h1>{esc(show.title)}</h1>')
    if show.author:
        parts.append(f'<p class="meta">{esc(show.author)}</p>')
    if show.description:
        parts.append(f"<p>{esc(show.description)}</p>")
    parts.append("</div></header>")
    feed = esc(show.feed_url)
    parts.append(
        '<section aria-labelledby="h-subscribe"><h2 id="h-subscribe">Subscribe</h2>'
        "<p>Follow the show in any podcast app with its feed:</p>"
        f'<p class="feed"><code id="feed-url">{feed}</code> '
        f'<button type="button" id="copy" data-copy="{feed}" aria-describedby="copied">'
        "Copy the feed\u2019s address</button> "
        '<span id="copied" class="status" role="status"></span></p>'
        '<ul class="subscribe">'
        f'<li><a href="{esc(app_url(show.feed_url))}">Open in your podcast app</a></li>'
        f'<li><a href="{feed}" type="application/rss+xml">The RSS feed</a></li>'
        "</ul></section>"
    )
    items = []
    for ep in show.episodes:
        summary = f"<p>{esc(ep.summary)}</p>" if ep.summary else ""
        items.append(
            f'<li><article><h3><a href="{href(ep.page)}">{esc(ep.title)}</a></h3>'
            f'<p class="meta"><time datetime="{ep.published.isoformat()}">'
            f"{long_date(ep.published)}</time> · "
            f'<time datetime="{iso_duration(ep.duration_s)}">{clock(ep.duration_s)}</time></p>'
            f"{summary}</article></li>"
        )
    parts.append(
        '<section aria-labelledby="h-episodes"><h2 id="h-episodes">Episodes</h2>'
        f'<ol class="episodes">{"".join(items)}</ol></section>'
    )
    parts.append("</main>")
    parts.append("<footer><p>Made with narrator</p></footer>")
    return document(
        title=show.title, body="\n".join(parts), lang=show.lang, description=show.description
    )
