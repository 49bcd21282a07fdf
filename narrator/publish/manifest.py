"""The publishing manifest: a TOML file that lists a podcast's episodes and how to render them.

::

    output_dir = "public"        # where episodes, sidecars, feed and playlist go
    engine = "piper"             # defaults for every episode's render options
    tail = 300

    [podcast]
    title = "Slow Tides"
    base_url = "https://example.org/slow-tides/"
    ...

    [[episodes]]
    story = "stories/lighthouse.md"   # relative to the manifest
    number = 1
    published = 2025-01-06
    pace = 120                        # this episode's own render options

Every key is checked: an unknown key or a bad value is an error that names the manifest, the
table or episode, and the fix, so a typo never silently does nothing. Paths are relative to the
manifest's folder.
"""

from __future__ import annotations

import difflib
import posixpath
import re
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from narrator.errors import NarratorError, brief, clip
from narrator.options import MANIFEST, OptionError, check_table
from narrator.publish import PublishError
from narrator.publish.web import web_address
from soundscapes.files import InputError, read_input
from soundscapes.output.formats import DEFAULT_FORMAT, format_named_by, get_format
from soundscapes.tomlfile import toml_error

if TYPE_CHECKING:
    from narrator.text.frontmatter import StoryMeta

#: Default folder for rendered episodes, relative to the manifest: the folder you upload to
#: ``base_url``.
DEFAULT_OUTPUT_DIR = "public"


@dataclass(frozen=True, kw_only=True)
class Podcast:
    """The show: what the feed's channel says about it."""

    title: str
    base_url: str
    author: str = ""
    description: str = ""
    language: str = "en"
    #: Cover art: a file beside the manifest (checked, fitted and copied into the output
    #: folder by ``narrator feed``), or a URL (used as it is, unchecked).
    image: str | None = None
    #: Apple Podcasts categories; ``"Health & Fitness/Mental Health"`` for a subcategory.
    categories: tuple[str, ...] = ()
    explicit: bool = False
    #: The show's web page (defaults to ``base_url``).
    link: str | None = None
    #: The owner's e-mail (``itunes:owner``), which directories use to verify the show.
    email: str | None = None
    #: Where the feed is served (defaults to ``base_url`` + the feed's file name).
    feed_url: str | None = None
    #: ``podcast:guid`` pinned by hand (to keep it when the feed moves); else derived from
    #: ``feed_url`` as the Podcasting 2.0 namespace specifies.
    guid: str | None = None
    #: ``<copyright>``: who holds it (PSP-1: the holder's name, without the word or a year).
    copyright: str = ""
    #: ``itunes:type``: ``episodic`` (newest first) or ``serial`` (oldest first, numbered).
    type: str = "episodic"
    #: ``podcast:locked``: other platforms may not import the feed without the owner's
    #: e-mail (``email``), which is how Podcasting 2.0 hosts verify a move.
    locked: bool = True
    #: ``podcast:funding``: ``(url, text)``, where listeners can support the show.
    funding: tuple[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class Episode:
    """One ``[[episodes]]`` entry, resolved against the manifest and its defaults."""

    #: 1-based position in the manifest, as messages name it.
    number_in_manifest: int
    #: The story path as written in the manifest (POSIX separators): the episode's identity.
    story_ref: str
    story: Path
    output: Path
    #: Render options by key (``pace``, ``seed``, …): the episode's own over the manifest's
    #: top level, always with a ``format`` (the output's name says it).
    options: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    description: str | None = None
    number: int | None = None
    season: int | None = None
    published: datetime | None = None
    guid: str | None = None
    #: The episode's web page (item ``<link>``); the show's link when not set.
    link: str | None = None
    #: The episode's own artwork, a file beside the manifest (item ``itunes:image``); the
    #: show's when not set.
    image: str | None = None

    @property
    def fmt(self) -> str:
        return str(self.options["format"])

    @property
    def name(self) -> str:
        """How messages and tables name the episode: its position and story."""
        return f"episode {self.number_in_manifest} ({self.story_ref})"


@dataclass(frozen=True, kw_only=True)
class Manifest:
    path: Path
    podcast: Podcast
    episodes: tuple[Episode, ...]
    output_dir: Path
    #: The top level's render options, by key (what every episode starts from).
    defaults: dict[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None

    @property
    def folder(self) -> Path:
        return self.path.parent


_TOP_KEYS = ("output_dir", "podcast", "episodes")
_PODCAST_KEYS = tuple(f.name for f in fields(Podcast))
#: What an ``[[episodes]]`` table may set besides render options: its story, its file name and
#: every field of :class:`Episode` that is the episode's own (not worked out from the others).
_EPISODE_KEYS = (
    "story",
    "output",
    *(f.name for f in fields(Episode) if f.name not in {"number_in_manifest", "story_ref",
                                                        "story", "output", "options"}),
)  # fmt: skip
_RANGES: dict[str, tuple[type, float, float, str]] = {
    "number": (int, 1, 10**9, "a whole number"),
    "season": (int, 1, 10**9, "a whole number"),
}


def load_manifest(path: Path | str) -> Manifest:
    """Read and check the manifest at ``path``.

    Raises
    ------
    PublishError
        A missing or invalid manifest, with where and how to fix it.
    """
    path = Path(path)
    if path.is_dir():
        raise PublishError(f"{path}: is a folder; pass the manifest file (podcast.toml)")
    try:
        text = read_input(path, what="manifest").decode("utf-8-sig")
        data = tomllib.loads(text)
    except InputError as exc:
        raise PublishError(str(exc)) from None
    except UnicodeDecodeError:
        raise PublishError(f"{path}: is not UTF-8 text; save the manifest as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise PublishError(toml_error(exc, str(path), text)) from None
    return parse_manifest(data, path=path)


def parse_manifest(data: Mapping[str, Any], *, path: Path) -> Manifest:
    """Check parsed TOML ``data`` from the manifest at ``path`` (which resolves relative paths)."""
    folder = path.parent
    defaults = _options(data, folder, f"{path}: top level", _TOP_KEYS)
    podcast = _podcast(data.get("podcast"), path)
    output_name = _text(data, "output_dir", f"{path}: top level", DEFAULT_OUTPUT_DIR)
    output_dir = folder / output_name
    if output_dir.exists() and not output_dir.is_dir():
        raise PublishError(
            f"{path}: output_dir {brief(output_name)} is a file, not a folder; name a folder "
            f'inside the manifest\'s folder, e.g. output_dir = "{DEFAULT_OUTPUT_DIR}"'
        )
    if not _strictly_inside(output_dir, folder):
        raise PublishError(
            f"{path}: output_dir {brief(output_name)} must be a folder inside the manifest's "
            f'folder (what you upload), e.g. output_dir = "{DEFAULT_OUTPUT_DIR}"'
        )
    cache_dir = defaults.get("cache_dir")
    raw_episodes = data.get("episodes")
    if not isinstance(raw_episodes, list) or not raw_episodes:
        raise PublishError(
            f'{path}: no episodes; add one [[episodes]] table per story with story = "file.md"'
        )
    episodes = [
        _episode(item, i, path=path, output_dir=output_dir, defaults=defaults)
        for i, item in enumerate(raw_episodes, start=1)
    ]
    _check_unique(episodes, path)
    return Manifest(
        path=path,
        podcast=podcast,
        episodes=tuple(episodes),
        output_dir=output_dir,
        defaults=defaults,
        cache_dir=cache_dir,
    )


def _podcast(raw: Any, path: Path) -> Podcast:
    where = f"{path}: [podcast]"
    if not isinstance(raw, dict):
        raise PublishError(f"{path}: no [podcast] table; add one with at least title and base_url")
    _check_keys(raw, _PODCAST_KEYS, where)
    for key in ("title", "base_url"):
        if not raw.get(key):
            raise PublishError(f'{where}: {key} is missing; add {key} = "…"')
    base_url = web_address(_text(raw, "base_url", where), f"{where} base_url", folder=True)
    categories = raw.get("categories", [])
    if isinstance(categories, str):
        categories = [categories]
    if not isinstance(categories, list) or not all(
        isinstance(c, str) and c.strip() for c in categories
    ):
        raise PublishError(
            f'{where}: categories must be a list of names, e.g. ["Health & Fitness/Mental Health"]'
        )
    explicit = raw.get("explicit", False)
    if not isinstance(explicit, bool):
        raise PublishError(f"{where}: explicit must be true or false, got {explicit!r}")
    feed_url = raw.get("feed_url")
    image = _text(raw, "image", where)
    if image is not None:
        image = _image_ref(image, where)
    show_type = _text(raw, "type", where, "episodic")
    if show_type not in ("episodic", "serial"):
        raise PublishError(f'{where}: type must be "episodic" or "serial", got {brief(show_type)}')
    locked = raw.get("locked", True)
    if not isinstance(locked, bool):
        raise PublishError(f"{where}: locked must be true or false, got {locked!r}")
    return Podcast(
        title=_text(raw, "title", where),
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        author=_text(raw, "author", where, ""),
        description=_text(raw, "description", where, ""),
        # en_GB as a POSIX locale writes it: en-GB in the feed and the pages' lang.
        language=_text(raw, "language", where, "en").strip().replace("_", "-"),
        image=image,
        categories=tuple(c.strip() for c in categories),
        explicit=explicit,
        link=web_address(_text(raw, "link", where), f"{where} link") if raw.get("link") else None,
        email=_email(raw, where),
        feed_url=web_address(_text(raw, "feed_url", where), f"{where} feed_url")
        if feed_url
        else None,
        guid=_show_guid(raw, where),
        copyright=_text(raw, "copyright", where, ""),
        type=show_type,
        locked=locked,
        funding=_funding(raw.get("funding"), where),
    )


def _funding(raw: Any, where: str) -> tuple[str, str] | None:
    """``funding = { url = "https://…", text = "Support the show" }``."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict) or set(raw) - {"url", "text"} or "url" not in raw:
        raise PublishError(
            f'{where}: funding must be a table, e.g. funding = {{ url = "https://…", '
            'text = "Support the show" }'
        )
    text = _text(raw, "text", f"{where} funding", "Support the show")
    if len(text) > 128:  # Podcasting 2.0: "Please do not exceed 128 characters"
        raise PublishError(f"{where}: funding text is {len(text)} characters; keep it to 128")
    return web_address(str(raw["url"]), f"{where} funding url"), text


def _episode(
    raw: Any, number: int, *, path: Path, output_dir: Path, defaults: dict[str, Any]
) -> Episode:
    where = f"{path}: episode {number}"
    if not isinstance(raw, dict):
        raise PublishError(f'{where}: must be a table ([[episodes]] with story = "file.md")')
    story_ref = raw.get("story")
    if not isinstance(story_ref, str) or not story_ref.strip():
        raise PublishError(f'{where}: story is missing; add story = "stories/name.md"')
    # One spelling per story ("./s/a.md", "s//a.md", "s/../s/a.md" are "s/a.md"): it is the
    # episode's identity, its GUID in the feed.
    story_ref = posixpath.normpath(story_ref.strip().replace("\\", "/"))
    where = f"{where} ({clip(story_ref)})"
    if PurePosixPath(story_ref).is_absolute() or not _strictly_inside(
        path.parent / story_ref, path.parent
    ):
        raise PublishError(
            f"{where}: the story must be inside the manifest's folder {path.parent} (a path "
            "relative to it, without ..); move or link it there"
        )
    options = {
        "format": DEFAULT_FORMAT,
        **defaults,
        **_options(raw, path.parent, where, _EPISODE_KEYS),
    }
    name = _text(raw, "output", where)
    if name is not None and (Path(name).is_absolute() or ".." in Path(name).parts):
        raise PublishError(f"{where}: output {name!r} must be a file name inside output_dir")
    named = format_named_by(Path(name)) if name is not None else None
    if named is not None and "format" not in raw:
        # As -o on the command line: the episode's file names its format, over [defaults].
        options["format"] = named
    suffix = get_format(options["format"]).suffix
    output = output_dir / (name or f"{PurePosixPath(story_ref).stem}{suffix}")
    if output.suffix.lower() != suffix:
        raise PublishError(
            f"{where}: output {name!r} does not end in {suffix} for format "
            f"{options['format']!r}; rename it or set format"
        )
    return Episode(
        number_in_manifest=number,
        story_ref=story_ref,
        story=path.parent / story_ref,
        output=output,
        options=options,
        title=_filled(raw, "title", where, instead="the story's title"),
        description=_filled(raw, "description", where, instead="the story's opening lines"),
        number=_number(raw, "number", where),
        season=_number(raw, "season", where),
        published=_published(raw.get("published"), where),
        guid=_guid(raw, where),
        link=web_address(_text(raw, "link", where), f"{where} link") if raw.get("link") else None,
        image=_image_ref(_text(raw, "image", where), where) if raw.get("image") else None,
    )


def _options(
    raw: Mapping[str, Any], folder: Path, where: str, own_keys: tuple[str, ...]
) -> dict[str, Any]:
    """The render options in a table (checked against their declaration; paths relative to
    the manifest's folder); ``own_keys`` are the table's other keys, which the caller reads."""
    try:
        return check_table(raw, MANIFEST, where, base=folder, ignore=own_keys)
    except OptionError as exc:
        raise PublishError(str(exc)) from None


def _check_keys(raw: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            raise PublishError(f"{where}: unknown key {key!r}; {hint}")


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PublishError(f"{where}: {key} must be text (in quotes), got {value!r}")
    if key in _ONE_LINE_KEYS:
        # A title in a multi-line string ("""…""") is one line to an app, a tag and a page.
        return " ".join(str(value).split())
    return str(value)


#: Keys whose text is one line wherever it is shown: line breaks and runs of spaces in them
#: become one space.
_ONE_LINE_KEYS = frozenset({"title", "author", "copyright"})

#: An e-mail address's shape: something, one @, and a domain with a dot (RFC 5322 allows more,
#: but Apple and Spotify write to it: a typo must not go into the feed).
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def _email(raw: Mapping[str, Any], where: str) -> str | None:
    email = _text(raw, "email", where)
    if email is not None and not _EMAIL_RE.fullmatch(email.strip()):
        raise PublishError(
            f"{where} email {email!r} is not an e-mail address; write one like "
            "night@example.org (directories verify the show through it)"
        )
    return email.strip() if email is not None else None


def _filled(raw: Mapping[str, Any], key: str, where: str, *, instead: str) -> str | None:
    """``key``'s text, or ``None`` when absent; a blank one is refused, not published empty
    nor read as absent (``instead``: what stands in for it then)."""
    value = _text(raw, key, where)
    if value is not None and not value.strip():
        raise PublishError(
            f"{where}: {key} is empty; write one, or remove the line to have {instead}"
        )
    return value.strip() if value is not None else None


def _guid(raw: Mapping[str, Any], where: str) -> str | None:
    return _filled(raw, "guid", where, instead="one made from the story's path")


def _show_guid(raw: Mapping[str, Any], where: str) -> str | None:
    """The show's ``podcast:guid``: a UUID written as apps compare it (lower case); one that
    is no UUID is kept as written (feeds may have gone out with it: the feed warns)."""
    value = _filled(raw, "guid", where, instead="one made from the feed's address")
    try:
        return str(uuid.UUID(value)) if value is not None else None
    except ValueError:
        return value


def _number(raw: Mapping[str, Any], key: str, where: str) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    kind, low, high, unit = _RANGES[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (kind is int and not float(value).is_integer())
        or not low <= value <= high
    ):
        raise PublishError(f"{where}: {key} must be {unit} from {low} to {high:,}, got {value!r}")
    return kind(value)


def _published(value: Any, where: str) -> datetime | None:
    """A TOML date, date-time or ISO text; dates are midnight UTC, naive times are UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise PublishError(
                f"{where}: published {value!r} is not a date; write e.g. published = 2025-01-06"
            ) from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=UTC)
    raise PublishError(f"{where}: published must be a date such as 2025-01-06, got {value}")


def _image_ref(value: str, where: str) -> str:
    """An image: a web address, or a file in the manifest's folder (no scheme, no ``..``)."""
    if urlsplit(value).scheme:
        return web_address(value, f"{where} image")
    ref = PurePosixPath(value.strip().replace("\\", "/"))
    if ref.is_absolute() or ".." in ref.parts or not ref.parts:
        raise PublishError(
            f"{where}: image {brief(value)} must be a web address or a file in the manifest's "
            'folder, e.g. image = "cover.jpg"'
        )
    return ref.as_posix()


def _strictly_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves (symlinks followed) to somewhere under ``folder``."""
    inner, outer = path.resolve(), folder.resolve()
    return inner != outer and inner.is_relative_to(outer)


#: The show's website (``narrator site``): the index in ``output_dir``, and one page per
#: episode in this folder under it, named as the episode's file is without its suffix.
SITE_INDEX = "index.html"
SITE_PAGES = "episodes"
#: The feed's and the playlist's file names in ``output_dir`` (unless given another).
DEFAULT_FEED_NAME = "feed.xml"
DEFAULT_PLAYLIST_NAME = "bedtime.m3u8"
#: How a playlist's closer is named in ``output_dir``: ``closer-coast-60min.mp3``.
CLOSER_PREFIX = "closer-"


def page_name(episode: Episode) -> str:
    """The file name of ``episode``'s page: its file's, without folder or suffix, ``.html``."""
    return PurePosixPath(episode.output.name).stem + ".html"


def episode_page(manifest: Manifest, episode: Episode) -> Path:
    """Where the website's page of ``episode`` goes: ``public/episodes/lighthouse.html``."""
    return manifest.output_dir / SITE_PAGES / page_name(episode)


#: What a feed or playlist narrator writes holds in its head, by role: a file of the user's
#: where one would go is refused, not replaced (the site's pages: their generator mark).
OUR_MARKS = {"feed": (b"<rss",), "playlist": (b"#EXTM3U",)}


def show_files(manifest: Manifest) -> list[tuple[str, Path]]:
    """What narrator publishes for the show beside the episodes, as ``(role, path)``: the
    website's index and pages, the feed and the playlist at their usual names, and the
    closers there. None may be written over by another of them (``feed -o index.html``)."""
    folder = manifest.output_dir
    closers = sorted(folder.glob(f"{CLOSER_PREFIX}*")) if folder.is_dir() else []
    return [
        ("website's index", folder / SITE_INDEX),
        *((f"page of {ep.name}", episode_page(manifest, ep)) for ep in manifest.episodes),
        ("feed", folder / DEFAULT_FEED_NAME),
        ("playlist", folder / DEFAULT_PLAYLIST_NAME),
        *(("closer", path) for path in closers if not path.name.endswith(".json")),
    ]


def others(files: list[tuple[str, Path]], *roles: str) -> list[tuple[str, Path]]:
    """``files`` but those of ``roles`` (what a command writes itself)."""
    return [(role, path) for role, path in files if role not in roles]


def manifest_inputs(manifest: Manifest) -> list[tuple[str, Path]]:
    """Every file the publishing commands read: the manifest, the show's and each episode's
    artwork, each episode's story, its cover, lexicon, plan and scenes."""
    inputs: list[tuple[str, Path]] = [("manifest", manifest.path)]
    artwork = [("show artwork", manifest.podcast.image)]
    artwork += [(f"artwork of {ep.name}", ep.image) for ep in manifest.episodes]
    for what, ref in artwork:
        # A file beside the manifest (one already under output_dir is the feed's to refit).
        if ref and not urlsplit(ref).scheme and (manifest.folder / ref).is_file():
            inputs.append((what, manifest.folder / ref))
    for ep in manifest.episodes:
        inputs.append((f"story of {ep.name}", ep.story))
        if (cover := story_cover(ep.story)) is not None:
            inputs.append((f"cover of {ep.name}", cover))
        for key in ("lexicon", "plan", "scenes"):
            if ep.options.get(key) is not None:
                inputs.append((f"{key} of {ep.name}", ep.options[key]))
    return inputs


def story_front_matter(story: Path) -> StoryMeta | None:
    """The story's front matter, or ``None`` when the story cannot be read or parsed (the
    render reports what is wrong with it)."""
    from narrator.text.frontmatter import split_front_matter
    from narrator.text.script import read_story

    try:
        text, _ = read_story(story)
        meta, _, _ = split_front_matter(text, source=str(story))
    except NarratorError:
        return None
    return meta


def story_cover(story: Path, meta: StoryMeta | None = None) -> Path | None:
    """The cover image the story's front matter (``meta``, read from ``story`` if not given)
    names, if any (it is part of the output)."""
    meta = meta or story_front_matter(story)
    if meta is None or not meta.cover:
        return None
    cover = Path(meta.cover)
    return cover if cover.is_absolute() else story.parent / cover


def _check_unique(episodes: list[Episode], path: Path) -> None:
    seen_out: dict[Path, Episode] = {}
    seen_page: dict[str, Episode] = {}
    seen_story: dict[str, Episode] = {}
    seen_number: dict[tuple[int | None, int], Episode] = {}
    for ep in episodes:
        if ep.number is not None:
            slot = (ep.season, ep.number)
            if (other := seen_number.get(slot)) is not None:
                season = f" of season {ep.season}" if ep.season is not None else ""
                raise PublishError(
                    f"{path}: {ep.name} and {other.name} are both number {ep.number}{season}; "
                    "podcast apps order and name episodes by it: give each its own number"
                )
            seen_number[slot] = ep
        if (other := seen_out.get(ep.output)) is not None:
            raise PublishError(
                f"{path}: {ep.name} and {other.name} would both render to {ep.output.name}; "
                'give one of them output = "other-name' + get_format(ep.fmt).suffix + '"'
            )
        if (other := seen_story.get(ep.story_ref)) is not None and not ep.guid:
            raise PublishError(
                f"{path}: {ep.name} repeats the story of {other.name}; give it its own "
                'guid = "…" (and output = "…") so podcast apps can tell the two apart'
            )
        page = page_name(ep)
        if (other := seen_page.get(page)) is not None:
            raise PublishError(
                f"{path}: {ep.name} and {other.name} would share the web page "
                f"{SITE_PAGES}/{page} (their files differ only in folder or suffix); give one "
                "of them another output name"
            )
        seen_out[ep.output] = ep
        seen_page[page] = ep
        seen_story[ep.story_ref] = ep
