"""Books as they are published in plain text, read as books.

- A Project Gutenberg file holds its book between a ``*** START OF THE PROJECT GUTENBERG
  EBOOK … ***`` line and an ``*** END OF …`` one; before it a header, after it a licence of
  some three thousand words. Only the book is read; the header's ``Title:`` and ``Author:``
  name the story where its front matter does not.
- Chapters written as lines of their own (``CHAPTER I.`` over ``THE RIVER BANK``, ``Chapter
  3: The Storm``, ``STAVE ONE``) are chapters, as a Markdown heading is, where a story has two
  or more; the contents list before them (``CONTENTS`` and its entries) is not read.
"""

from __future__ import annotations

import re
from dataclasses import replace

from narrator.text.frontmatter import StoryMeta

_START_RE = re.compile(
    r"^[ \t]*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b.*$", re.IGNORECASE | re.M
)
_END_RE = re.compile(
    r"^[ \t]*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b.*$", re.IGNORECASE | re.M
)
_FIELD_RE = re.compile(r"^(?P<key>Title|Author):[ \t]*(?P<value>\S.*?)\s*$", re.M)

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|first|second|third|fourth|"
    "fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last"
)
#: A chapter's line: its word and number, and perhaps its name after a stop, colon or dash.
_HEADING_RE = re.compile(
    r"^(?P<word>CHAPTER|Chapter|BOOK|Book|PART|Part|STAVE|Stave)\s+"
    r"(?P<n>[IVXLC]+|\d{1,3}|(?i:(?:" + _NUMBER_WORDS + r")(?:[- ](?:" + _NUMBER_WORDS + r"))?))"
    r"(?:\s*[.:—–-]\s*(?P<name>.*?))?\.?$"
)
_SMALL_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    }
)
_CONTENTS_RE = re.compile(r"^(?:table of )?contents\.?$", re.IGNORECASE)
_ROMAN_RE = re.compile(r"^[IVXLC]+\.?$")
#: A chapter's name: a few words, each capitalised (or all in capitals), ending no sentence.
_MAX_NAME_WORDS = 10


def gutenberg_book(text: str, meta: StoryMeta, *, source: str, first_line: int) -> tuple[
    str, StoryMeta, str | None
]:  # fmt: skip
    """``text`` with every line outside a Project Gutenberg file's book blanked (line numbers
    stay those of the file), ``meta`` with the header's title and author where it has none,
    and a note of what was left out; ``text`` and ``meta`` as they are in any other story."""
    start, end = _START_RE.search(text), _END_RE.search(text)
    if start is None or end is None or end.start() < start.end():
        return text, meta, None
    header = text[: start.start()]
    fields = {m["key"].lower(): m["value"] for m in _FIELD_RE.finditer(header)}
    meta = replace(
        meta,
        title=meta.title or fields.get("title"),
        author=meta.author or fields.get("author"),
    )
    before, book, after = text[: start.end()], text[start.end() : end.start()], text[end.start() :]
    blank = "\n" * before.count("\n")
    first = first_line + before.count("\n") + 1  # the line after START
    last = first + book.count("\n") - 2  # the line before END
    note = (
        f"{source}:{first}: a Project Gutenberg file: only its book (lines {first}-{last}, "
        "between its START and END lines) is read, not its header and licence"
    )
    return blank + book + "\n" * after.count("\n"), meta, note


def _is_name(line: str) -> bool:
    words = line.rstrip(".").split()
    if not 0 < len(words) <= _MAX_NAME_WORDS or line.endswith((",", ";", ":")):
        return False
    if line.isupper():
        return True
    letters = [w.lstrip("\"'“‘(") for w in words]
    return all(
        w[:1].isupper() or not w[:1].isalpha() or (i and w in _SMALL_WORDS)
        for i, w in enumerate(letters)
    )


def _cased(text: str) -> str:
    """``THE RIVER BANK`` → "The River Bank"; Roman numerals and mixed case as they are."""
    if not text.isupper():
        return text
    words = text.split()
    small = {i for i, w in enumerate(words) if i and w.lower() in _SMALL_WORDS}
    return " ".join(
        w if _ROMAN_RE.match(w) else w.lower() if i in small else w.capitalize()
        for i, w in enumerate(words)
    )


def chapter_heading(lines: list[str]) -> str | None:
    """The chapter title a block of ``lines`` (stripped) stands for, or None: a chapter's
    line, alone or over its name."""
    if not 1 <= len(lines) <= 2:
        return None
    m = _HEADING_RE.match(lines[0])
    if m is None or (m["name"] and not _is_name(m["name"])):
        return None
    title = f"{_cased(m['word'])} {_cased(m['n']) if m['n'].isupper() else m['n']}"
    name = m["name"]
    if len(lines) == 2:
        if name or _HEADING_RE.match(lines[1]) or not _is_name(lines[1]):
            return None
        name = lines[1]
    return f"{title}. {_cased(name.rstrip('.'))}" if name else title


def is_contents(lines: list[str]) -> bool:
    """Whether a block is a contents list's title, or its entries (chapters' lines only)."""
    if len(lines) == 1 and _CONTENTS_RE.match(lines[0]):
        return True
    return len(lines) > 1 and all(chapter_heading([line]) for line in lines)
