"""What the podcast directories require of a show, checked before its feed is written.

Every required element Apple Podcasts, Spotify and the Podcasting 2.0 / PSP-1 standard ask for
is an error naming the manifest key to set; what they recommend is a warning. Sources:

- Apple, "A Podcaster's Guide to RSS" (help.apple.com/itc/podcasts_connect/#/itcb54353390):
  required ``<title>``, ``<description>`` (at most 4000 bytes), ``<itunes:image>``,
  ``<language>`` ("only supports values from the ISO 639 list … such as en-us"),
  ``<itunes:category>`` (from Apple's list, support article 1691), ``<itunes:explicit>``;
  "Episode numbers are … mandatory for serial shows"; supported enclosures M4A, MP3, MOV, MP4,
  M4V and PDF.
- PSP-1, the Podcast RSS Standard (github.com/Podcast-Standards-Project): the same required
  channel elements plus ``<link>`` and ``<atom:link rel="self">``; ``<itunes:author>``,
  ``<podcast:locked>`` and ``<podcast:guid>`` recommended.
- Spotify for Creators verifies a show by the ``<itunes:email>`` of its owner.
- Podcasting 2.0 (podcasting2.0.md): "Make sure your entire podcast is served over HTTPS".
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from narrator.errors import brief

_DATA = Path(__file__).with_name("data")
#: Apple's limit for the show's and each episode's description.
MAX_DESCRIPTION_BYTES = 4000
#: Enclosure types Apple Podcasts lists (the file's suffix decides, Apple says).
APPLE_AUDIO = {".mp3": "audio/mpeg", ".m4a": "audio/x-m4a"}


@dataclass
class Findings:
    """Errors (the feed is not written) and warnings (it is, and they are shown)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@cache
def apple_categories() -> dict[str, tuple[str, ...]]:
    """Apple's 19 categories and their subcategories (support article 1691), exact spelling."""
    data = json.loads((_DATA / "apple_categories.json").read_text(encoding="utf-8"))
    return {name: tuple(subs) for name, subs in data["categories"].items()}


@cache
def _languages() -> dict:
    return json.loads((_DATA / "languages.json").read_text(encoding="utf-8"))


def language_problem(code: str) -> str | None:
    """What is wrong with ``code`` as a feed's language, or ``None``: an ISO 639-1 code
    (``en``), optionally with an ISO 3166-1 region (``en-gb``)."""
    data = _languages()
    # en_GB as a POSIX locale writes it is en-gb (as a story's front matter reads it).
    language, _, region = code.strip().lower().replace("_", "-").partition("-")
    if language not in data["languages"]:
        replaced = data["replaced"].get(language)
        if replaced and replaced.get("preferred"):
            return f"{brief(code)} is an old code; use {replaced['preferred']}"
        by_name = {name.lower(): c for c, name in data["languages"].items()}
        named = by_name.get(code.strip().lower())
        hint = f"{named} for {code.strip()}" if named else "e.g. en, en-us, de, fr-ca"
        return f"{brief(code)} is not an ISO 639-1 language code; use a two-letter code ({hint})"
    if region and region.upper() not in data["regions"]:
        return f"{brief(code)}: {brief(region)} is not an ISO 3166-1 country code (e.g. en-gb)"
    return None


def category_problem(category: str) -> str | None:
    """What is wrong with ``category`` (``Parent`` or ``Parent/Sub``), or ``None``."""
    known = apple_categories()
    parts = [p.strip() for p in category.split("/")]
    if len(parts) > 2:
        return (
            f"{brief(category)} nests {len(parts)} levels; Apple allows a category and one "
            "subcategory"
        )
    parent = parts[0]
    if parent not in known:
        return f"{brief(parent)} is not an Apple Podcasts category; {_closest(parent, known)}"
    if len(parts) == 2 and parts[1] not in known[parent]:
        subs = known[parent]
        if not subs:
            return f"{brief(parent)} has no subcategories; write just {parent!r}"
        return f"{brief(parts[1])} is not a subcategory of {parent}; {_closest(parts[1], subs)}"
    return None


def _closest(name: str, names) -> str:
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)
    if not close:
        return "see the list at podcasters.apple.com/support/1691"
    return "did you mean " + " or ".join(repr(by_lower[c]) for c in close) + "?"


def check_show(manifest, *, image_set: bool, file_names: list[str]) -> Findings:
    """The show's required and recommended elements. ``image_set``: the show has artwork
    (already checked as an image); ``file_names``: the files the feed links to."""
    pod = manifest.podcast
    where = f"{manifest.path}: [podcast]"
    found = Findings()
    error, warn = found.errors.append, found.warnings.append
    if not pod.description.strip():
        error(f'{where} description is missing; add description = "…" (what the show is, '
              "in a sentence or two; Apple, Spotify and PSP-1 require one)")  # fmt: skip
    elif len(pod.description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        error(f"{where} description is {len(pod.description.encode())} bytes; Apple allows "
              f"{MAX_DESCRIPTION_BYTES}: shorten it")  # fmt: skip
    if not image_set:
        error(f'{where} image is missing; add image = "cover.jpg" (a square JPEG or PNG, 1400 '
              "to 3000 px, beside the manifest; Apple and Spotify require artwork)")  # fmt: skip
    problem = language_problem(pod.language)
    if problem:
        error(f"{where} language {problem}")
    if not pod.categories:
        error(f'{where} categories is missing; add e.g. categories = ["Health & Fitness/'
              'Mental Health"] (Apple and Spotify require a category)')  # fmt: skip
    for category in pod.categories:
        problem = category_problem(category)
        if problem:
            error(f"{where} categories: {problem}")
    if pod.type == "serial":
        for ep in manifest.episodes:
            if ep.number is None:
                error(f"{manifest.path}: {ep.name} has no number; a serial show needs one on "
                      "every episode (add number = …) or set type = \"episodic\"")  # fmt: skip
    if not pod.author:
        warn(f'{where} author is missing; add author = "…" (Apple and PSP-1 recommend it)')
    if not pod.email:
        warn(f'{where} email is missing; add email = "you@example.org": Spotify checks '
             "ownership through it, and podcast:locked names it")  # fmt: skip
    urls = {"base_url": pod.base_url, "link": pod.link, "feed_url": pod.feed_url}
    plain = [key for key, url in urls.items() if url and urlsplit(url).scheme == "http"]
    if plain:
        warn(f"{where} {' and '.join(plain)} {'is' if len(plain) == 1 else 'are'} http; "
             "Podcasting 2.0 asks for HTTPS everywhere")  # fmt: skip
    for name in file_names:
        if not name.isascii() or " " in name:
            warn(f"{manifest.path}: {name!r}: Apple asks for ASCII file names (a-z, 0-9, - _ .); "
                 "set output = \"…\" for that episode")  # fmt: skip
    return found


def check_episode(manifest, episode, *, title: str, description: str | None) -> Findings:
    """One episode's elements: its title, its description and its audio format."""
    found = Findings()
    where = f"{manifest.path}: {episode.name}"
    if not title.strip():
        found.errors.append(f'{where} has no title; add title = "…"')
    if description is None:
        found.warnings.append(
            f"{where} has no description; the feed uses the story's opening lines (add "
            'description = "…" to the episode, or description: to the story\'s front matter)'
        )
    elif len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        found.errors.append(
            f"{where} description is over {MAX_DESCRIPTION_BYTES} bytes; shorten it"
        )
    suffix = episode.output.suffix.lower()
    if suffix not in APPLE_AUDIO:
        found.warnings.append(
            f"{where} is {suffix[1:].upper()}; Apple Podcasts lists only MP3 and M4A audio, "
            'so this episode will not appear there (set format = "mp3")'
        )
    return found
