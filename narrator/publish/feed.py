"""The podcast feed: RSS 2.0 with Apple's iTunes namespace and the Podcasting 2.0 namespace.

Every item carries an enclosure (URL under ``base_url``, the file's exact byte length, the
format's MIME type), ``itunes:duration``, a GUID that a re-render never changes, ``pubDate``,
episode and season numbers, and the transcript (``podcast:transcript``, WebVTT) and chapters
(``podcast:chapters``, JSON) that every render writes beside its file.

The XML is built with :mod:`xml.etree.ElementTree`, so titles and descriptions are escaped by
the serializer, never by string concatenation.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urljoin, urlsplit

import narrator
from narrator.errors import NarratorError
from narrator.publish.batch import Rendered, load_rendered, published_files
from narrator.publish.manifest import Episode, Manifest, manifest_inputs, web_address
from soundscapes.files import check_outputs
from soundscapes.output.export import atomic_path
from soundscapes.output.formats import get_format

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: Podcasting 2.0 namespace, ``<podcast:guid>``: UUIDv5 of the feed URL (without scheme and
#: trailing slashes) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
DEFAULT_FEED_NAME = "feed.xml"

for _prefix, _uri in (("itunes", ITUNES_NS), ("podcast", PODCAST_NS), ("atom", ATOM_NS)):
    ET.register_namespace(_prefix, _uri)

# Characters XML 1.0 cannot carry at all, even escaped (XML 1.0 §2.2).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, kw_only=True)
class FeedResult:
    path: Path
    feed_url: str
    podcast_guid: str
    items: int
    #: Episodes whose inputs changed since their render: the feed has the old version.
    warnings: tuple[str, ...] = ()


def podcast_guid(feed_url: str) -> str:
    """The ``podcast:guid`` the Podcasting 2.0 namespace derives from a feed URL."""
    parts = urlsplit(feed_url)
    bare = (parts.netloc + parts.path).rstrip("/")
    if parts.query:
        bare += "?" + parts.query
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def episode_guid(channel_guid: str, episode: Episode) -> str:
    """The item GUID: the manifest's ``guid`` if given, else a UUIDv5 of the show's GUID and the
    story's path in the manifest. Nothing a render produces goes in, so re-renders keep it."""
    if episode.guid:
        return episode.guid
    try:
        space = uuid.UUID(channel_guid)
    except ValueError:
        space = uuid.uuid5(PODCAST_GUID_NAMESPACE, channel_guid)
    return str(uuid.uuid5(space, "episode:" + episode.story_ref))


def feed_url_for(manifest: Manifest, output: Path) -> str:
    """Where the feed is served: the manifest's ``feed_url``, else ``base_url`` + its name."""
    return manifest.podcast.feed_url or urljoin(manifest.podcast.base_url, quote(output.name))


def build_feed(manifest: Manifest, *, feed_url: str) -> tuple[bytes, list[str]]:
    """The feed as UTF-8 XML bytes, and warnings for episodes whose render is out of date.

    Raises
    ------
    PublishError
        An episode has not been rendered.
    """
    pod = manifest.podcast
    rendered = [load_rendered(manifest, ep) for ep in manifest.episodes]
    channel_guid = pod.guid or podcast_guid(feed_url)

    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", pod.title)
    _text(channel, "link", pod.link or pod.base_url)
    _text(channel, "description", pod.description or pod.title)
    _text(channel, "language", pod.language)
    ET.SubElement(
        channel,
        _q(ATOM_NS, "link"),
        {"href": feed_url, "rel": "self", "type": "application/rss+xml"},
    )
    _text(channel, "generator", f"narrator {narrator.__version__}")
    dates = [_pub_date(r) for r in rendered]
    # The newest episode's date, not "now": the same inputs give the same feed, byte for byte.
    _text(channel, "lastBuildDate", format_datetime(max(dates), usegmt=True))
    if pod.author:
        _text(channel, _q(ITUNES_NS, "author"), pod.author)
    if pod.email:
        owner = ET.SubElement(channel, _q(ITUNES_NS, "owner"))
        _text(owner, _q(ITUNES_NS, "name"), pod.author or pod.title)
        _text(owner, _q(ITUNES_NS, "email"), pod.email)
    if pod.image:
        image_url = _url(pod.base_url, pod.image)
        ET.SubElement(channel, _q(ITUNES_NS, "image"), {"href": _clean(image_url)})
        image = ET.SubElement(channel, "image")
        _text(image, "url", image_url)
        _text(image, "title", pod.title)
        _text(image, "link", pod.link or pod.base_url)
    for category in pod.categories:
        parent = channel
        for name in category.split("/"):
            parent = ET.SubElement(parent, _q(ITUNES_NS, "category"), {"text": _clean(name)})
    _text(channel, _q(ITUNES_NS, "explicit"), "true" if pod.explicit else "false")
    _text(channel, _q(ITUNES_NS, "type"), "episodic")
    _text(channel, _q(PODCAST_NS, "guid"), channel_guid)

    # Newest first, as podcast apps expect; manifest order breaks ties.
    order = sorted(range(len(rendered)), key=lambda i: (dates[i], i), reverse=True)
    for i in order:
        _item(channel, manifest, rendered[i], dates[i], channel_guid)

    ET.indent(rss, space="  ")
    xml = ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"
    warnings = [
        f"{manifest.path}: {r.episode.name} changed since its last render; the feed has the "
        f"old version until you run narrator batch {manifest.path}"
        for r in rendered
        if r.stale
    ]
    return xml, warnings


def write_feed(manifest: Manifest, output: Path, *, feed_url: str | None = None) -> FeedResult:
    """Write the feed to ``output`` (atomically) and say what went in."""
    check_outputs([("feed", output)], [*manifest_inputs(manifest), *published_files(manifest)])
    url = web_address(feed_url, "--feed-url") if feed_url else feed_url_for(manifest, output)
    xml, warnings = build_feed(manifest, feed_url=url)
    with atomic_path(output) as tmp:
        tmp.write_bytes(xml)
    return FeedResult(
        path=output,
        feed_url=url,
        podcast_guid=manifest.podcast.guid or podcast_guid(url),
        items=len(manifest.episodes),
        warnings=tuple(warnings),
    )


def _item(
    channel: ET.Element, manifest: Manifest, r: Rendered, published: datetime, channel_guid: str
) -> None:
    ep, pod = r.episode, manifest.podcast
    item = ET.SubElement(channel, "item")
    _text(item, "title", r.title)
    description = ep.description or _story_description(ep) or r.title
    _text(item, "description", description)
    ET.SubElement(
        item,
        "enclosure",
        {
            "url": _clean(_file_url(manifest, ep.output)),
            "length": str(r.size_bytes),
            "type": get_format(ep.fmt).mime,
        },
    )
    _text(item, "guid", episode_guid(channel_guid, ep)).set("isPermaLink", "false")
    _text(item, "pubDate", format_datetime(published, usegmt=True))
    _text(item, _q(ITUNES_NS, "duration"), str(round(r.duration_s)))
    author = r.report.get("author") or pod.author
    if author:
        _text(item, _q(ITUNES_NS, "author"), str(author))
    if ep.number is not None:
        _text(item, _q(ITUNES_NS, "episode"), str(ep.number))
    if ep.season is not None:
        _text(item, _q(ITUNES_NS, "season"), str(ep.season))
    _text(item, _q(ITUNES_NS, "episodeType"), "full")
    _text(item, _q(ITUNES_NS, "explicit"), "true" if pod.explicit else "false")
    vtt = ep.output.with_name(ep.output.name + ".vtt")
    chapters = ep.output.with_name(ep.output.name + ".chapters.json")
    if vtt.is_file():
        ET.SubElement(
            item,
            _q(PODCAST_NS, "transcript"),
            {
                "url": _clean(_file_url(manifest, vtt)),
                "type": "text/vtt",
                "language": _clean(pod.language),
            },
        )
    if chapters.is_file():
        ET.SubElement(
            item,
            _q(PODCAST_NS, "chapters"),
            {"url": _clean(_file_url(manifest, chapters)), "type": "application/json+chapters"},
        )


def _pub_date(r: Rendered) -> datetime:
    when = r.episode.published or r.first_rendered or datetime.now(UTC)
    return when.astimezone(UTC)


def _story_description(episode: Episode) -> str | None:
    """The ``description`` in the story's front matter, if any."""
    from narrator.text.frontmatter import split_front_matter
    from narrator.text.script import read_story

    try:
        text, _ = read_story(episode.story)
        meta, _, _ = split_front_matter(text, source=str(episode.story))
    except NarratorError:
        return None
    return meta.description


def _file_url(manifest: Manifest, path: Path) -> str:
    relative = PurePosixPath(path.relative_to(manifest.output_dir).as_posix())
    return urljoin(manifest.podcast.base_url, quote(str(relative)))


def _url(base_url: str, ref: str) -> str:
    """``ref`` as is when it is a URL, else under ``base_url``."""
    return ref if urlsplit(ref).scheme in ("http", "https") else urljoin(base_url, quote(ref))


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _clean(text)
    return element
