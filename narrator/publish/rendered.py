"""An episode's finished render as the feed, the website and the playlist read it: its report,
its file's size, when it was first rendered, and whether it is still what the manifest and the
story describe (:func:`load_rendered` refuses what cannot be published as it stands)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from narrator.publish import PublishError
from narrator.publish.batch import (
    episode_inputs,
    fingerprint,
    read_fingerprint,
    report_path,
    written_whole,
)
from narrator.publish.manifest import Episode, Manifest


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """An episode's finished render, as the feed and the playlist read it."""

    episode: Episode
    report: dict[str, Any]
    size_bytes: int
    #: When the episode was first rendered (kept across re-renders), if known.
    first_rendered: datetime | None
    #: The inputs changed since this render: publishing it would publish the old version.
    stale: bool
    #: What changed, in words (``the story``, ``the show's title``), when the record says.
    changed: tuple[str, ...] = ()

    @property
    def what_changed(self) -> str:
        """``" (the show's title)"``, or nothing when not known: for a stale episode's line."""
        return f" ({', '.join(self.changed)})" if self.changed else ""

    @property
    def duration_s(self) -> float:
        return float(self.report["duration_s"])

    @property
    def title(self) -> str:
        """The manifest's title for the episode, else the story's."""
        return self.episode.title or str(self.report.get("title") or self.episode.story_ref)


def load_rendered(manifest: Manifest, episode: Episode) -> Rendered:
    """The episode's render: its report, file size and freshness.

    Raises
    ------
    PublishError
        The episode has not been rendered (or its report is unreadable), its story is not
        there (an episode is known by its story's path: its GUID would change), or its file
        is not the one its render wrote.
    """
    out = episode.output
    where = f"{manifest.path}: {episode.name}"
    if not episode.story.is_file():
        raise PublishError(
            f"{where}: its story {episode.story_ref} is not there; restore it or fix story = "
            "(podcast apps know an episode by its story's path: a new path is a new episode)"
        )
    try:
        size_bytes = out.stat().st_size
        report = json.loads(report_path(out).read_text(encoding="utf-8"))
        float(report["duration_s"])
    except FileNotFoundError as exc:
        raise PublishError(
            f"{where}: not rendered yet ({exc.filename} is missing); run "
            f"narrator batch {manifest.path} first"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PublishError(
            f"{where}: cannot read the render's report ({exc}); run narrator batch "
            f"{manifest.path} --force"
        ) from None
    record = read_fingerprint(out) or {}
    if not written_whole(out, record):
        written = record.get("size_bytes")
        shown = f"{written:,}" if isinstance(written, int) else repr(written)
        raise PublishError(
            f"{where}: {out.name} is {size_bytes:,} bytes, not the {shown} its render wrote "
            f"(damaged or replaced); render it again with narrator batch {manifest.path}"
        )
    first: datetime | None = None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        first = datetime.fromisoformat(record["first_rendered"])
    if first is None:
        first = datetime.fromtimestamp(out.stat().st_mtime, tz=UTC)
    inputs = episode_inputs(manifest, episode)
    stale = record.get("fingerprint") != fingerprint(inputs)
    before = record.get("inputs") if isinstance(record.get("inputs"), dict) else {}
    changed = tuple(
        _INPUT_WORDS.get(key, key.replace("_", " "))
        for key in inputs
        if stale and before and before.get(key) != inputs[key]
    )
    return Rendered(
        episode=episode,
        report=report,
        size_bytes=size_bytes,
        first_rendered=first,
        stale=stale,
        changed=changed,
    )


#: The fingerprint's inputs (:func:`~narrator.publish.batch.episode_inputs`) in words.
_INPUT_WORDS = {
    "narrator": "narrator's version",
    "speech": "the engine or voice",
    "story_sha256": "the story",
    "files_sha256": "a file its options name",
    "cover_sha256": "the story's cover",
    "options": "its options",
    "title": "its title",
    "artist": "the show's author",
    "album": "the show's title",
    "number": "its number",
    "published": "its date",
    "show_cover_sha256": "the show's artwork",
}
