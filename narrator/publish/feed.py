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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urljoin, urlsplit

import narrator
from narrator.errors import NarratorError
from narrator.publish import PublishError
from narrator.publish.artwork import (
    artwork_source,
    episode_artwork_stem,
    prepare_artwork,
    published_artwork,
    show_artwork_stem,
)
from narrator.publish.batch import published_files
from narrator.publish.check import check_episode, check_show
from narrator.publish.earlier import EarlierFeed, earlier_feed, is_uuid
from narrator.publish.manifest import (
    DEFAULT_FEED_NAME,
    OUR_MARKS,
    Episode,
    Manifest,
    episode_page,
    manifest_inputs,
    others,
    show_files,
)
from narrator.publish.rendered import Rendered, load_rendered
from narrator.publish.web import web_address
from soundscapes.files import check_outputs
from soundscapes.output.export import write_bytes_if_changed
from soundscapes.output.formats import get_format

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: Podcasting 2.0 namespace, ``<podcast:guid>``: UUIDv5 of the feed URL (without scheme and
#: trailing slashes) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

for _prefix, _uri in (("itunes", ITUNES_NS), ("podcast", PODCAST_NS), ("atom", ATOM_NS)):
    ET.register_namespace(_prefix, _uri)

# Characters XML 1.0 cannot carry at all, even escaped (XML 1.0 §2.2).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, kw_only=True)
class ShowArt:
    """Where the feed says the artwork is: the show's, and episodes' own by position; and
    the files under the output folder that those addresses serve (none for a web address)."""

    show: str | None = None
    episodes: dict[int, str] | None = None
    show_file: Path | None = None
    episode_files: dict[int, Path] | None = None


@dataclass(frozen=True, kw_only=True)
class FeedResult:
    """The feed written: where, the address it is served from, and what it holds."""

    path: Path
    feed_url: str
    #: The show's ``podcast:guid``: a UUIDv5 of ``feed_url``, as the namespace specifies.
    podcast_guid: str
    #: Episodes in the feed.
    items: int
    #: Episodes whose inputs changed since their render: the feed has the old version.
    warnings: tuple[str, ...] = ()
    #: Whether the file changed (it is left alone, time and all, when its bytes would not).
    changed: bool = True


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


def show_guid(manifest: Manifest, feed_url: str, earlier: EarlierFeed) -> tuple[str, str | None]:
    """The show's ``podcast:guid`` and what to say of it. The manifest's ``guid``, else the one
    the feed written before carries (its address may have moved: the GUID must not), else the
    UUIDv5 of ``feed_url``. Podcast apps know the show, and every episode's GUID made from it,
    by this value: one that differs from the feed written before is said, and so is one not
    pinned when the feed is first written, each with the line that pins it."""
    derived, pinned, before = podcast_guid(feed_url), manifest.podcast.guid, earlier.guid
    where, pin = f"{manifest.path}: [podcast]", "podcast apps would take every episode as new"
    if pinned:
        if not is_uuid(pinned):
            return pinned, (
                f"{where} guid {pinned!r} is no UUID, which Podcasting 2.0 asks for; keep it "
                f'if feeds went out with it, else pin the one its address gives: guid = "{derived}"'
            )
        if before and before != pinned:
            return pinned, (
                f"{where} guid {pinned} is not the GUID {before} of the feed written before "
                f'({earlier.path}): {pin}; unless that is meant, set guid = "{before}"'
            )
        return pinned, None
    if before and before != derived:
        return before, (
            f"{where} has no guid: kept the GUID {before} of the feed written before "
            f"({earlier.path}), where its address {feed_url} would give another and {pin}; "
            f'pin it with guid = "{before}"'
        )
    if before:  # said when the feed was first written; the same since
        return derived, None
    if earlier.unreadable:
        return derived, (
            f"{where} has no guid, and the feed written before ({earlier.path}) cannot be read "
            f"to keep its GUIDs: if its podcast:guid was not {derived}, pin that one with "
            f'guid = "…", or {pin}; else pin this one: guid = "{derived}"'
        )
    return derived, (
        f"{where} has no guid: the show's GUID {derived} is made from its address {feed_url} and "
        f'would change if the feed moved ({pin}); pin it with guid = "{derived}"'
    )


def item_guids(
    manifest: Manifest, rendered: Sequence[Rendered], channel_guid: str, earlier: EarlierFeed
) -> tuple[list[str], list[str]]:
    """Each episode's item GUID (see :func:`episode_guid`), and what to say of them.

    An episode without a ``guid`` of its own that is new to the feed under the title of an
    episode that left it is that one renamed (its story file moved, and the GUID is made from
    the story's path): it keeps the GUID it was published under, or apps would list it twice.
    Said, with the line that pins it (a new ``guid`` makes it a new episode instead)."""
    guids = [episode_guid(channel_guid, r.episode) for r in rendered]
    gone = {t: g for g, t in earlier.titles.items() if t and g not in guids}
    said = []
    for k, r in enumerate(rendered):
        if r.episode.guid or guids[k] in earlier.titles or r.title not in gone:
            continue  # its own, or published before: it takes no other's
        guids[k] = old = gone.pop(r.title)
        said.append(
            f"{manifest.path}: {r.episode.name} is new to the feed under the title of an episode "
            f"that left it, so it keeps that one's GUID (its story renamed or moved): pin it "
            f'with guid = "{old}" in its [[episodes]] table, or give it a guid of its own'
        )
    return guids, said


def with_earlier_dates(
    rendered: Sequence[Rendered], guids: Sequence[str], earlier: EarlierFeed
) -> list[Rendered]:
    """``rendered``, each episode without a date in the manifest dated as the feed written
    before dated it (``guids``: their item GUIDs): a date once published stays when the
    episode is rendered afresh (into a new output folder, its record lost), so apps do not
    list it as new again."""
    out = []
    for r, guid in zip(rendered, guids, strict=True):
        when = earlier.dates.get(guid)
        out.append(replace(r, first_rendered=when) if when and not r.episode.published else r)
    return out


@dataclass(frozen=True)
class FeedIdentity:
    """What a feed calls its show and episodes, kept from the feed written before: the show's
    GUID, each episode's GUID, the episodes dated as it dated them, and what to say of it."""

    guid: str
    guids: list[str]
    rendered: list[Rendered]
    warnings: list[str]


def feed_identity(
    manifest: Manifest, feed_url: str, rendered: Sequence[Rendered], earlier: EarlierFeed
) -> FeedIdentity:
    """The feed's identity (see :class:`FeedIdentity`): :func:`show_guid`, :func:`item_guids`
    and :func:`with_earlier_dates` together, as the feed and the site's pages both need."""
    guid, kept = show_guid(manifest, feed_url, earlier)
    guids, renamed = item_guids(manifest, rendered, guid, earlier)
    dated = with_earlier_dates(rendered, guids, earlier)
    return FeedIdentity(guid, guids, dated, [*([kept] if kept else []), *renamed])


def feed_url_for(manifest: Manifest, output: Path) -> str:
    """Where the feed is served: the manifest's ``feed_url``, else ``base_url`` + its path
    under the output folder (``feeds/sleep.xml``), or + its name when it is written elsewhere
    (see :func:`served_elsewhere`)."""
    if manifest.podcast.feed_url:
        return manifest.podcast.feed_url
    folder, where = manifest.output_dir.resolve(), output.resolve()
    relative = where.relative_to(folder).as_posix() if where.is_relative_to(folder) else where.name
    return urljoin(manifest.podcast.base_url, quote(relative))


def served_elsewhere(manifest: Manifest, output: Path, url: str) -> str | None:
    """A warning when the feed is written outside the output folder and nothing says where it
    is served: its self link (``url``) is then only a guess."""
    if manifest.podcast.feed_url or output.resolve().is_relative_to(manifest.output_dir.resolve()):
        return None
    return (
        f"{output} is outside the output folder {manifest.output_dir}, so the feed says it is "
        f"served at {url}; if it is not, set feed_url in [podcast] or give --feed-url"
    )


def build_feed(
    manifest: Manifest,
    *,
    feed_url: str,
    art: ShowArt | None = None,
    pages: dict[int, str] | None = None,
    rendered: Sequence[Rendered] | None = None,
    earlier: EarlierFeed | None = None,
) -> tuple[bytes, list[str]]:
    """The feed as UTF-8 XML bytes, and warnings: what the directories recommend and the
    show lacks, and episodes whose render is out of date.

    ``pages`` are the episodes' web pages by position in the manifest (``narrator site``):
    each item's ``<link>`` when the manifest gives the episode no ``link`` of its own.
    ``rendered``: the episodes as :func:`~narrator.publish.rendered.load_rendered` read them,
    when the caller has them already (reading them hashes every input again).
    ``earlier``: the feed written before at the same place, whose show GUID and dates are kept
    (see :mod:`~narrator.publish.earlier`).

    Raises
    ------
    PublishError
        An episode has not been rendered, or the show lacks what a directory requires (one
        line per missing piece, each naming the manifest key to set).
    """
    pod = manifest.podcast
    if art is None:  # artwork already where the feed says (served under base_url)
        art = ShowArt(show=_url(pod.base_url, pod.image) if pod.image else None)
    if rendered is None:
        rendered = [load_rendered(manifest, ep) for ep in manifest.episodes]
    descriptions = [episode_description(r) for r in rendered]
    findings = check_show(
        manifest,
        image_set=art.show is not None,
        file_names=[r.episode.output.name for r in rendered],
    )
    for r, description in zip(rendered, descriptions, strict=True):
        episode = check_episode(manifest, r.episode, title=r.title, description=description[0])
        findings.errors += episode.errors
        findings.warnings += episode.warnings
    identity = feed_identity(manifest, feed_url, rendered, earlier or EarlierFeed())
    channel_guid, guids, rendered = identity.guid, identity.guids, identity.rendered
    owners: dict[str, Episode] = {}
    for r, guid in zip(rendered, guids, strict=True):
        # Apps keep one episode per GUID: a second would hide or replace it.
        if (other := owners.setdefault(guid, r.episode)) is not r.episode:
            findings.errors.append(
                f"{manifest.path}: {r.episode.name} and {other.name} have the same GUID "
                f"{guid!r}; give each its own guid = (or none: then it is made from the story)"
            )
    if findings.errors:
        raise PublishError("\n".join(findings.errors))

    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", pod.title)
    _text(channel, "link", pod.link or pod.base_url)
    _text(channel, "description", pod.description)
    _text(channel, "language", pod.language.lower())
    if pod.copyright:
        _text(channel, "copyright", pod.copyright)
    ET.SubElement(
        channel,
        _q(ATOM_NS, "link"),
        {"href": feed_url, "rel": "self", "type": "application/rss+xml"},
    )
    _text(channel, "generator", f"narrator {narrator.__version__}")
    dates = [publication_date(r) for r in rendered]
    # The newest episode's date, not "now": the same inputs give the same feed, byte for byte.
    _text(channel, "lastBuildDate", format_datetime(max(dates), usegmt=True))
    if pod.author:
        _text(channel, _q(ITUNES_NS, "author"), pod.author)
    if pod.email:
        owner = ET.SubElement(channel, _q(ITUNES_NS, "owner"))
        _text(owner, _q(ITUNES_NS, "name"), pod.author or pod.title)
        _text(owner, _q(ITUNES_NS, "email"), pod.email)
    if art.show:
        ET.SubElement(channel, _q(ITUNES_NS, "image"), {"href": _clean(art.show)})
        image = ET.SubElement(channel, "image")
        _text(image, "url", art.show)
        _text(image, "title", pod.title)
        _text(image, "link", pod.link or pod.base_url)
    for category in pod.categories:
        parent = channel
        for name in (part.strip() for part in category.split("/")):
            parent = ET.SubElement(parent, _q(ITUNES_NS, "category"), {"text": _clean(name)})
    _text(channel, _q(ITUNES_NS, "explicit"), "true" if pod.explicit else "false")
    _text(channel, _q(ITUNES_NS, "type"), pod.type)
    _text(channel, _q(PODCAST_NS, "guid"), channel_guid)
    locked = _text(channel, _q(PODCAST_NS, "locked"), "yes" if pod.locked else "no")
    if pod.email:
        locked.set("owner", _clean(pod.email))
    if pod.funding:
        _text(channel, _q(PODCAST_NS, "funding"), pod.funding[1]).set("url", pod.funding[0])

    order = newest_first(dates)
    episode_art = art.episodes or {}
    for i in order:
        ep = rendered[i].episode
        item = _item(channel, manifest, rendered[i], dates[i], guids[i])
        _item_extras(
            item,
            manifest,
            ep,
            descriptions[i],
            episode_art.get(ep.number_in_manifest) or art.show,
            (pages or {}).get(ep.number_in_manifest),
        )

    ET.indent(rss, space="  ")
    xml = ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"
    warnings = (
        findings.warnings
        + identity.warnings
        + [
            f"{manifest.path}: {r.episode.name} changed since its last render{r.what_changed}; the "
            f"feed has the old version until you run narrator batch {manifest.path}"
            for r in rendered
            if r.stale
        ]
    )
    return xml, warnings


def publish_artwork(manifest: Manifest) -> tuple[ShowArt, list[str]]:
    """Check the show's and episodes' artwork, fit it to what the directories take, and copy
    it into the output folder: where the feed will say it is, and the warnings."""
    pod, warnings = manifest.podcast, []
    show, episodes = None, {}
    show_file, episode_files = None, {}
    if pod.image and urlsplit(pod.image).scheme:
        show = pod.image
        warnings.append(
            f"{manifest.path}: [podcast] image is a web address, so narrator cannot check it; "
            "directories need a square JPEG or PNG of 1400 to 3000 px"
        )
    elif pod.image:
        stem = show_artwork_stem(pod.image)
        art = _prepared(manifest, pod.image, stem, f"{manifest.path}: [podcast]")
        show, warnings = file_url(manifest, art.path), [*warnings, *art.warnings]
        show_file = art.path
    for ep in manifest.episodes:
        if ep.image and urlsplit(ep.image).scheme:
            episodes[ep.number_in_manifest] = ep.image
        elif ep.image:
            stem = episode_artwork_stem(ep)
            art = _prepared(manifest, ep.image, stem, f"{manifest.path}: {ep.name}")
            episodes[ep.number_in_manifest] = file_url(manifest, art.path)
            episode_files[ep.number_in_manifest] = art.path
            warnings += art.warnings
    art = ShowArt(show=show, episodes=episodes, show_file=show_file, episode_files=episode_files)
    return art, warnings


def _prepared(manifest: Manifest, ref: str, stem: str, where: str):
    source = artwork_source(ref, manifest.folder, manifest.output_dir, where=where)
    return prepare_artwork(source, manifest.output_dir, stem, where=where)


def write_feed(manifest: Manifest, output: Path, *, feed_url: str | None = None) -> FeedResult:
    """Write the feed to ``output`` (atomically; not at all when its bytes are the same) and
    say what went in. Items link to their pages on the show's website where ``narrator site``
    has made them."""
    made = [
        *manifest_inputs(manifest),
        *published_files(manifest),
        *others(show_files(manifest), "feed"),
        *published_artwork(manifest),
    ]
    check_outputs([("feed", output)], made, marks=OUR_MARKS)
    pages = {
        ep.number_in_manifest: file_url(manifest, page)
        for ep in manifest.episodes
        if (page := episode_page(manifest, ep)).is_file()
    }
    url = web_address(feed_url, "--feed-url") if feed_url else feed_url_for(manifest, output)
    guess = None if feed_url else served_elsewhere(manifest, output, url)
    art, art_warnings = publish_artwork(manifest)
    # The feed written before: where this one goes, else the show's usual place (-o renames
    # the file, not the show).
    earlier = earlier_feed(output)
    if earlier.guid is None and not earlier.unreadable:
        earlier = earlier_feed(manifest.output_dir / DEFAULT_FEED_NAME)
    xml, warnings = build_feed(manifest, feed_url=url, art=art, pages=pages, earlier=earlier)
    warnings = [*art_warnings, *warnings, *([guess] if guess else [])]
    changed = write_bytes_if_changed(output, xml)
    return FeedResult(
        path=output,
        feed_url=url,
        podcast_guid=show_guid(manifest, url, earlier)[0],
        items=len(manifest.episodes),
        warnings=tuple(warnings),
        changed=changed,
    )


def newest_first(dates: Sequence[datetime]) -> list[int]:
    """Indices of episodes newest first, as podcast apps expect; on the same date the later
    manifest entry first (the one added last)."""
    return sorted(range(len(dates)), key=lambda i: (dates[i], i), reverse=True)


def _item(
    channel: ET.Element, manifest: Manifest, r: Rendered, published: datetime, guid: str
) -> ET.Element:
    ep, pod = r.episode, manifest.podcast
    item = ET.SubElement(channel, "item")
    _text(item, "title", r.title)
    ET.SubElement(
        item,
        "enclosure",
        {
            "url": _clean(file_url(manifest, ep.output)),
            "length": str(r.size_bytes),
            "type": get_format(ep.fmt).mime,
        },
    )
    _text(item, "guid", guid).set("isPermaLink", "false")
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
                "url": _clean(file_url(manifest, vtt)),
                "type": "text/vtt",
                "language": _clean(pod.language),
            },
        )
    if chapters.is_file():
        ET.SubElement(
            item,
            _q(PODCAST_NS, "chapters"),
            {"url": _clean(file_url(manifest, chapters)), "type": "application/json+chapters"},
        )
    return item


def _item_extras(
    item: ET.Element,
    manifest: Manifest,
    ep: Episode,
    description: tuple[str | None, str],
    image_url: str | None,
    page_url: str | None,
) -> None:
    """The item's description (the episode's, else its story's, else the story's opening
    lines), its page (the manifest's ``link``, else its page on the show's website, else the
    show's) and its artwork."""
    own, opening = description
    _text(item, "description", own or opening)
    _text(item, "link", ep.link or page_url or manifest.podcast.link or manifest.podcast.base_url)
    if image_url:
        ET.SubElement(item, _q(ITUNES_NS, "image"), {"href": _clean(image_url)})


def publication_date(r: Rendered) -> datetime:
    """When the episode is published: the manifest's date, else its first render's (UTC)."""
    when = r.episode.published or r.first_rendered or datetime.now(UTC)
    return when.astimezone(UTC)


#: How much of the story's opening stands in for a missing description.
_OPENING_CHARS = 280


def episode_description(r: Rendered) -> tuple[str | None, str]:
    """The episode's description (the manifest's, else the story's front matter), and the
    story's opening sentences, which stand in for it when there is none (never the title:
    Apple advises against repeating it)."""
    from narrator.text.script import parse_story
    from narrator.text.sentences import split_sentences

    ep = r.episode
    try:
        script = parse_story(ep.story)
    except NarratorError:
        return ep.description, r.title
    opening = ""
    # As written ("Dr. Lee, 5 p.m."), not as said ("Doctor Lee, five p.m.").
    written = split_sentences(script.opening) if script.opening else None
    for sentence in written or (s for p in script.passages for s in p.sentences):
        if opening and len(opening) + len(sentence) > _OPENING_CHARS:
            break
        opening = f"{opening} {sentence}".strip()
    return ep.description or script.meta.description, opening or r.title


def file_url(manifest: Manifest, path: Path) -> str:
    """The web address of ``path``, a file under the output folder, under ``base_url``."""
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
