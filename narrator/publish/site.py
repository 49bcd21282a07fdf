"""The show's website, written by ``narrator site`` into ``output_dir`` with the feed:
``index.html`` (the cover, title, description, the feed's address to copy and subscribe to,
the episodes newest first) and a page per episode, ``episodes/NAME.html`` (the player,
chapters, scenes and loudness, transcript, and a download link).

The feed's items link to these pages (unless the manifest gives an episode its own
``link``), and the pages link to the feed. Every page is made whole each time and written
only when its bytes change, so an upload (or a cache) sees only the pages whose episode or
show changed. Pages hold relative links only, so the folder works offline from ``file://``
as on any plain web server.

A page whose episode left the manifest (or was renamed) is removed, so a synced or uploaded
folder stops serving it: only pages narrator wrote (its ``generator`` meta in the first
kilobytes) that no episode owns now. Anything else in ``episodes/`` is the user's and stays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from narrator.page.episode import EpisodeView, Link, episode_html
from narrator.page.index import EpisodeEntry, ShowView, index_html
from narrator.page.markup import GENERATOR_MARK
from narrator.page.transcript import read_vtt
from narrator.publish.artwork import published_artwork
from narrator.publish.batch import published_files
from narrator.publish.earlier import earlier_feed
from narrator.publish.feed import (
    FeedResult,
    ShowArt,
    build_feed,
    episode_description,
    feed_identity,
    feed_url_for,
    file_url,
    newest_first,
    publication_date,
    publish_artwork,
)
from narrator.publish.manifest import (
    OUR_MARKS,
    SITE_INDEX,
    SITE_PAGES,
    Manifest,
    episode_page,
    manifest_inputs,
    show_files,
)
from narrator.publish.rendered import Rendered, load_rendered
from narrator.publish.web import web_address
from narrator.render.sidecars import sidecar_path
from soundscapes.files import check_outputs, file_head, human_size, same_file
from soundscapes.output.export import write_bytes_if_changed
from soundscapes.output.formats import get_format


@dataclass(frozen=True, kw_only=True)
class SiteResult:
    index: Path
    #: Every episode's page, in manifest order.
    pages: tuple[Path, ...]
    #: The pages (the index among them) whose content changed, so were written.
    written: tuple[Path, ...]
    feed: FeedResult
    #: Pages narrator wrote for episodes the manifest no longer has, removed.
    removed: tuple[Path, ...] = ()


def site_outputs(manifest: Manifest) -> list[tuple[str, Path]]:
    """Every file of the website, as ``(role, path)``: the index and each episode's page.

    Raises
    ------
    PublishError
        Two episodes whose files differ only in their suffix (or folder) would share a page.
    """
    return [pair for pair in show_files(manifest) if pair[0] not in ("feed", "playlist", "closer")]


def write_site(manifest: Manifest, feed: Path, *, feed_url: str | None = None) -> SiteResult:
    """Write the website and the feed (at ``feed``; served at ``feed_url``, by default
    ``base_url`` + its name), each file only when its content changed.

    Nothing is written when an episode has not been rendered, when the show lacks what the
    directories require, or when any page would land on an input.

    Raises
    ------
    PublishError
        One line per problem, saying what to do.
    """
    outputs = site_outputs(manifest)
    made = [*manifest_inputs(manifest), *published_files(manifest)]
    made += [pair for pair in show_files(manifest) if pair[0] in ("playlist", "closer")]
    made += published_artwork(manifest)
    page_marks = {role: (GENERATOR_MARK.encode(),) for role, _ in outputs}
    check_outputs([*outputs, ("feed", feed)], made, marks={**OUR_MARKS, **page_marks})
    rendered = [load_rendered(manifest, ep) for ep in manifest.episodes]  # before any write
    url = web_address(feed_url, "--feed-url") if feed_url else feed_url_for(manifest, feed)
    earlier = earlier_feed(feed)
    identity = feed_identity(manifest, url, rendered, earlier)
    rendered = identity.rendered  # the pages date the episodes as the feed does
    pages = {ep.number_in_manifest: episode_page(manifest, ep) for ep in manifest.episodes}
    art, art_warnings = publish_artwork(manifest)
    xml, warnings = build_feed(
        manifest,
        feed_url=url,
        art=art,
        pages={n: file_url(manifest, page) for n, page in pages.items()},
        rendered=rendered,
        earlier=earlier,
    )
    texts = {pages[r.episode.number_in_manifest]: _episode_page(manifest, r, art) for r in rendered}
    index = manifest.output_dir / SITE_INDEX
    texts[index] = _index_page(manifest, rendered, url, art)
    written = [path for path, text in texts.items() if write_bytes_if_changed(path, text.encode())]
    feed_changed = write_bytes_if_changed(feed, xml)
    # Last, once the new site is whole: a failure above leaves the old pages in place.
    removed = _remove_stale_pages(manifest, set(pages.values()))
    return SiteResult(
        index=index,
        pages=tuple(pages.values()),
        written=tuple(written),
        removed=tuple(removed),
        feed=FeedResult(
            path=feed,
            feed_url=url,
            podcast_guid=identity.guid,
            items=len(manifest.episodes),
            changed=feed_changed,
            warnings=tuple([*art_warnings, *warnings]),
        ),
    )


#: Where a page narrator wrote carries :data:`~narrator.page.markup.GENERATOR_MARK`: in its
#: head, within this many bytes.
_HEAD_BYTES = 4096


def _written_by_narrator(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a link) whose head has narrator's mark."""
    head = file_head(path, _HEAD_BYTES)
    return head is not None and GENERATOR_MARK.encode() in head


def _remove_stale_pages(manifest: Manifest, current: set[Path]) -> list[Path]:
    """Remove the pages in ``episodes/`` that narrator wrote and no episode owns now; the
    removed paths, sorted. A page that cannot be removed is left (the next run tries again)."""
    folder = manifest.output_dir / SITE_PAGES
    try:
        candidates = sorted(p for p in folder.iterdir() if p.suffix == ".html")
    except OSError:
        return []
    # An episode's own listening page (``NAME.mp3.html``) may live here too: never stale.
    owned = [*manifest_inputs(manifest), *published_files(manifest)]
    kept = [*current, *(path for _, path in owned)]
    removed = []
    for page in candidates:
        # Cheapest first: most candidates are today's pages, by the very same path.
        if page in current or not _written_by_narrator(page):
            continue
        if any(same_file(page, other) for other in kept):
            continue
        try:
            page.unlink()
        except OSError:  # gone already, or not ours to remove after all: leave it be
            continue
        removed.append(page)
    return removed


def _relative(path: Path, page: Path) -> str:
    """``path`` as a link from ``page`` (both under the output folder): POSIX, relative."""
    return PurePosixPath(os.path.relpath(path, page.parent).replace(os.sep, "/")).as_posix()


def _episode_page(manifest: Manifest, r: Rendered, art: ShowArt) -> str:
    ep, pod = r.episode, manifest.podcast
    page = episode_page(manifest, ep)
    audio = _relative(ep.output, page)
    vtt = sidecar_path(ep.output, ".vtt")
    image = (art.episode_files or {}).get(ep.number_in_manifest)
    alt = f"Artwork of {r.title}"
    if image is None and art.show_file is not None:
        image, alt = art.show_file, f"Cover of {pod.title}"
    kind = get_format(ep.fmt).suffix.lstrip(".").upper()
    return episode_html(
        EpisodeView(
            title=r.title,
            audio=audio,
            report=r.report,
            cues=read_vtt(vtt),
            transcript=_relative(vtt, page) if vtt.is_file() else None,
            lang=pod.language,
            author=str(r.report.get("author") or pod.author),
            description=episode_description(r)[0] or "",
            published=publication_date(r).date(),
            show=Link(href=_relative(manifest.output_dir / SITE_INDEX, page), text=pod.title),
            download=Link(href=audio, text=f"Download the {kind} ({human_size(r.size_bytes)})"),
            image=Link(href=_relative(image, page), text=alt) if image is not None else None,
        )
    )


def _index_page(manifest: Manifest, rendered: list[Rendered], feed_url: str, art: ShowArt) -> str:
    pod = manifest.podcast
    index = manifest.output_dir / SITE_INDEX
    dates = [publication_date(r) for r in rendered]
    order = newest_first(dates)  # as the feed orders them
    entries = []
    for i in order:
        r = rendered[i]
        own, opening = episode_description(r)
        entries.append(
            EpisodeEntry(
                title=r.title,
                page=_relative(episode_page(manifest, r.episode), index),
                published=dates[i].date(),
                duration_s=r.duration_s,
                summary=own or (opening if opening != r.title else ""),
            )
        )
    return index_html(
        ShowView(
            title=pod.title,
            feed_url=feed_url,
            episodes=entries,
            author=pod.author,
            description=pod.description,
            lang=pod.language,
            image=_relative(art.show_file, index) if art.show_file is not None else None,
        )
    )
