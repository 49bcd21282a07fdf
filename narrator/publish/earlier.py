"""What a feed already published promised its subscribers: the show's GUID and each item's
date. Podcast apps know a show by its ``podcast:guid`` and an episode by its GUID; one that
changes makes every episode new again (listeners get them twice), and a date that changes
reorders them. So a feed written where one was keeps both, even when the address they were
made from (``base_url``, ``feed_url``) or the render records that dated them have moved.

Podcasting 2.0, ``<podcast:guid>``: "this value should never change, even if the feed url
changes" (podcastindex.org/namespace/1.0#guid).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from soundscapes.files import read_input

_PODCAST_GUID = "{https://podcastindex.org/namespace/1.0}guid"


@dataclass(frozen=True)
class EarlierFeed:
    """The promises of the feed at a path; empty when there is none (or it is not a feed)."""

    guid: str | None = None
    #: Each item's publication date by its GUID.
    dates: dict[str, datetime] = field(default_factory=dict)
    #: Each item's title by its GUID.
    titles: dict[str, str] = field(default_factory=dict)
    #: Where it was read.
    path: Path | None = None
    #: A file was there and could not be read as a feed (cut short, not RSS).
    unreadable: bool = False


def earlier_feed(path: Path) -> EarlierFeed:
    """What the RSS feed at ``path`` published. A missing, unreadable or foreign file gives
    an empty record: the feed is then made afresh, as before it was ever written."""
    if not path.is_file():
        return EarlierFeed()
    try:
        channel = ET.fromstring(read_input(path, what="feed")).find("channel")
    except (OSError, ValueError, ET.ParseError):  # InputError is a ValueError
        channel = None
    if channel is None:
        return EarlierFeed(path=path, unreadable=True)
    guid = (channel.findtext(_PODCAST_GUID) or "").strip()
    dates: dict[str, datetime] = {}
    titles: dict[str, str] = {}
    for item in channel.iter("item"):
        item_guid = (item.findtext("guid") or "").strip()
        if item_guid:
            titles[item_guid] = (item.findtext("title") or "").strip()
        try:
            when = parsedate_to_datetime((item.findtext("pubDate") or "").strip())
        except (TypeError, ValueError):
            continue
        if item_guid:
            dates[item_guid] = when if when.tzinfo else when.replace(tzinfo=UTC)
    guid = str(uuid.UUID(guid)) if is_uuid(guid) else None
    return EarlierFeed(guid=guid, dates=dates, titles=titles, path=path)


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (a show's ``podcast:guid`` must be one)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
