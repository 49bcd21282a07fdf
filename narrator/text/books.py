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
from narrator.text.roman import NUMERAL  # well formed: no "CIVIL"

_START_RE = re.compile(
    r"^[ \t]*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b.*$"
    # a title too long for the line goes on on the next, to its closing asterisks
    r"(?:(?<!\*)\n[^\n*]*\*{3}[ \t]*$)?",
    re.IGNORECASE | re.M,
)
_END_RE = re.compile(
    r"^[ \t]*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK\b.*$", re.IGNORECASE | re.M
)
_ENDING_RE = re.compile(r"^[ \t]*End of (?:the |this )?Project Gutenberg\b", re.IGNORECASE | re.M)
#: ``Title: …`` and its indented lines after, ``Author: …``.
_FIELD_RE = re.compile(r"^(?P<key>Title|Author):[ \t]*(?P<value>\S.*(?:\n[ \t]+\S.*)*)", re.M)
#: The volunteers' credit at the book's start, the "End of the Project Gutenberg EBook of …"
#: line at its end: the frame's, not the book's.
_CREDIT_RE = re.compile(
    r"\A(?:\s*\n)?[ \t]*(?:Produced by|E-?text prepared by|Transcribed (?:from|by)|This e-?text "
    r"was (?:prepared|produced) by)\b(?:(?!\n[ \t]*\n).)*",
    re.IGNORECASE | re.S,
)
#: What says a paragraph opening "Produced by" is the volunteers' credit, not the book's.
_CREDIT_WORDS_RE = re.compile(
    r"proofread|distributed|gutenberg|https?:|www\.|team|library|scans|images|e-?text",
    re.IGNORECASE,
)
#: The closing line, only as the book's last paragraph.
_CLOSING_RE = re.compile(
    r"\n[ \t]*End of (?:the |this )?Project Gutenberg'?s? (?:(?!\n[ \t]*\n).)*\s*\Z",
    re.IGNORECASE | re.S,
)

#: ``[Illustration: THE MOLE`` … ``AND THE RAT]`` over several lines.
_PICTURE_RE = re.compile(r"\[Illustration\b[^\[\]]*\n[^\[\]]*\]", re.IGNORECASE)

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|first|second|third|fourth|"
    "fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last"
)
#: A chapter's line: its word and number, and perhaps its name after a stop, colon or dash.
_HEADING_RE = re.compile(
    r"^(?P<word>CHAPTER|Chapter|BOOK|Book|PART|Part|STAVE|Stave)\s+"
    r"(?P<n>(?=[IVXLC])"
    + NUMERAL
    + r"\b|\d{1,3}|(?i:(?:the\s+)?(?:"
    + _NUMBER_WORDS
    + r")(?:[- ](?:"
    + _NUMBER_WORDS
    + r"))?))"
    r"(?:(?P<sep>\s*(?:--|[.:—–-])\s*|\s+)(?P<name>.*?))?\.?$"
)
_SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into",
                          "of", "on", "or", "the", "to", "with"})  # fmt: skip
_PAGE_RE = re.compile(r"(?:\s{2,}|\s*\.{2,}\s*)(?:\d{1,4}|[ivxlc]{1,6})$")
_CONTENTS_RE = re.compile(r"^(?:table of )?contents[.:]?$", re.IGNORECASE)
_ROMAN_RE = re.compile(r"^(?=[IVXLC])" + NUMERAL + r"\.?$")
#: A chapter's name: a few words, each capitalised (or all in capitals), ending no sentence.
_MAX_NAME_WORDS = 12


def gutenberg_book(text: str, meta: StoryMeta, *, source: str, first_line: int) -> tuple[
    str, StoryMeta, str | None
]:  # fmt: skip
    """``text`` with every line outside a Project Gutenberg file's book blanked (line numbers
    stay those of the file), ``meta`` with the header's title and author where it has none,
    and a note of what was left out; ``text`` and ``meta`` as they are in any other story."""
    start = _START_RE.search(text)
    if start is None:
        return text, meta, None
    # Without its END line (a file cut short by hand), the book ends at the "End of the
    # Project Gutenberg EBook" line, or with the file.
    end = _END_RE.search(text, start.end()) or _ENDING_RE.search(text, start.end())
    end_at = end.start() if end else len(text)
    header = text[: start.start()]
    fields = {m["key"].lower(): _one_line(m["value"]) for m in _FIELD_RE.finditer(header)}
    meta = replace(
        meta,
        title=meta.title or fields.get("title"),
        author=meta.author or fields.get("author"),
    )
    before, book, after = text[: start.end()], text[start.end() : end_at], text[end_at:]
    # The frame's own lines inside it go too, their lines kept blank.
    credit = _CREDIT_RE.search(book)
    if credit and (credit[0].strip().count("\n") == 0 or _CREDIT_WORDS_RE.search(credit[0])):
        book = "\n" * credit[0].count("\n") + book[credit.end() :]
    book = _CLOSING_RE.sub(lambda m: "\n" * m[0].count("\n"), book, count=1)
    # A picture's mark over lines of its own (one line's is the cues' to leave out).
    book = _PICTURE_RE.sub(lambda m: " " + "\n" * m[0].count("\n"), book)
    blank = "\n" * before.count("\n")
    first = first_line + before.count("\n") + 1  # the line after START
    last = first + book.count("\n") - (2 if end else 1)  # the line before END
    note = (
        f"{source}:{first}: a Project Gutenberg file: only its book (lines {first}-{last}) is "
        "read, not its header and licence"
    )
    return blank + book + "\n" * after.count("\n"), meta, note


def _one_line(value: str) -> str:
    """A header field's lines as one: "A Christmas Carol: A Ghost Story of Christmas", "The
    Murders in the Rue Morgue and Other Stories"."""
    lines = [" ".join(line.split()) for line in value.split("\n")]
    return "".join(f"{': ' if line[:1].isupper() else ' '}{line}" for line in lines[1:]).join(
        [lines[0], ""]
    )


def _is_name(line: str, *, alone: bool = False, loose: bool = False) -> bool:
    """Whether ``line`` is a chapter's name: a few words, all in capitals or each capitalised
    but small words (``loose``: only the first, "Rachel Lynde is Surprised", where a stop or a
    colon has set it apart). ``alone``: on a line of its own under the chapter's, where it
    must also end no sentence ("Chapter 1" over "Rain." is a chapter and its first line)."""
    words = line.rstrip(".").split()
    if not 0 < len(words) <= _MAX_NAME_WORDS or line.endswith((",", ";", ":")):
        return False
    if alone and not line.isupper() and re.search(r"[.!?…][\"'”’)]*$", line):
        return False
    if line.isupper():
        return True
    if loose:  # "Rachel Lynde is Surprised", "the Golden Thread"
        opening = line.lstrip("\"'“‘(")
        capital = opening[:1].isupper() or (words[0] in _SMALL_WORDS and line != line.lower())
        return capital and not line.endswith(("!", "?"))
    letters = [w.lstrip("\"'“‘(") for w in words]
    return all(
        w[:1].isupper() or not w[:1].isalpha() or (i and w in _SMALL_WORDS)
        for i, w in enumerate(letters)
    )


def _cased_word(word: str, i: int) -> str:
    if _ROMAN_RE.match(word) or re.search(r"\w\.\w", word):
        return word  # "XIV.", "U.S.A."
    chars = list(word.lower())
    if i and word.lower() in _SMALL_WORDS:
        return "".join(chars)
    # The first letter, after any quote ("“Like"), and the one after "O'" (O'Brien).
    letters = [k for k, c in enumerate(chars) if c.isalpha()][:1]
    if after := re.match(r"[^\w]*\w['’](\w)", word):
        letters.append(after.start(1))
    for k in letters:
        chars[k] = chars[k].upper()
    return "".join(chars)


def _cased(text: str) -> str:
    """``THE RIVER BANK`` → "The River Bank"; Roman numerals and mixed case as they are."""
    if not text.isupper():
        return text
    return " ".join(_cased_word(w, i) for i, w in enumerate(text.split()))


def chapter_heading(lines: list[str]) -> str | None:
    """The chapter title a block of ``lines`` (stripped) stands for, or None: a chapter's
    line, alone or over its name."""
    if not 1 <= len(lines) <= 2:
        return None
    m = _HEADING_RE.match(lines[0])
    set_apart = bool(m and m["sep"] and m["sep"].strip())
    if m is None or (m["name"] and not _is_name(m["name"], loose=set_apart)):
        return None
    title = _cased(f"{m['word']} {' '.join(m['n'].split())}")  # "Chapter the Fifth"
    # A contents entry's page number ("THE RIVER BANK    1", "THE OPEN ROAD ..... 9") is not
    # its name's: without it, the entry's title is the chapter's.
    name = _PAGE_RE.sub("", m["name"]) if m["name"] else m["name"]
    if len(lines) == 2:
        if name or _HEADING_RE.match(lines[1]) or not _is_name(lines[1], alone=True, loose=True):
            return None
        name = lines[1]
    if name and name.endswith(".") and not re.search(r"\w\.\w+\.$", name):
        name = name[:-1]  # the heading's stop, not an "U.S.A."'s
    return f"{title}. {_cased(name)}" if name else title


def is_contents(lines: list[str]) -> bool:
    """Whether a block is a contents list's title, or its entries (chapters' lines only)."""
    if len(lines) == 1 and _CONTENTS_RE.match(lines[0]):
        return True
    return len(lines) > 1 and all(chapter_heading([line]) for line in lines)


def _named_apart(line: str) -> bool:
    """Whether a line after a blank one under a chapter's line is its name: in capitals, of
    two words or more ("THE RIVER BANK"); "Yes" or "BANG" opening the chapter are its words."""
    return line.isupper() and len(line.split()) > 1 and _is_name(line, alone=True)


def _entry_like(lines: list[str]) -> bool:
    """Whether a block could be a line of a contents list: short lines that end no sentence
    (a page's number after them or not), or chapters' lines."""
    return all(
        chapter_heading([line]) is not None
        or (len(line.split()) <= _MAX_NAME_WORDS and not re.search(r"[.!?…][\"'”’)]*$", line))
        for line in lines
    )


def book_headings(headings: dict[int, str], contents: set[int], lines: list[list[str]]) -> tuple[
    dict[int, str], set[int]
]:  # fmt: skip
    """Which of a plain story's chapter lines are its chapters, by their place among its
    blocks (``headings``: place → title; ``contents``: places of contents lists; ``lines``:
    each block's lines): the chapters kept, titles folded, and the places of blocks not to
    read.

    A book has two chapters or more with words under them; else none is a heading. A chapter's
    line over a block of one line that names it ("CHAPTER I.", a blank line, "THE RIVER BANK")
    takes that name. From a contents list's title to the chapters, the entries go (short
    lines, page numbers, chapters' lines); else a run of headings whose titles come again is
    the contents' entries; a heading straight over another ("BOOK ONE" over "CHAPTER I") is
    folded into its title ("Book One. Chapter I").
    """
    blocks = len(lines)
    headings = dict(headings)
    names = {i + 1 for i, title in headings.items()
             if ". " not in title and i + 1 < blocks and i + 1 not in headings
             and len(lines[i + 1]) == 1 and _named_apart(lines[i + 1][0])}  # fmt: skip
    for i in names:
        headings[i - 1] = f"{headings[i - 1]}. {_cased(lines[i][0].rstrip('.'))}"
    places = sorted(headings)

    def under(i: int) -> int:  # the block after a heading (and its name)
        return i + 2 if i + 1 in names else i + 1

    filled = [i for i in places if under(i) < blocks and under(i) not in headings]
    if len(filled) < 2:
        return {}, set()
    skipped = set(names)
    titles = [headings[i] for i in places]
    last = {title: k for k, title in enumerate(titles)}
    again = {i for k, i in enumerate(places) if last[headings[i]] > k}  # its title comes again
    listed = [i for i in sorted(contents) if len(lines[i]) == 1 and i < filled[-1]]
    if listed:
        # From the list's title on, what is entry-like goes; the last heading before the
        # first words is the first chapter.
        # The list ends at the first chapter's line that is no entry of it (its title does
        # not come again), or at the first words that are no entry.
        real = next((i for i in places if i > listed[0] and i not in again), blocks)
        stop = next((k for k in range(listed[0] + 1, real)
                     if k not in names and not _entry_like(lines[k])), real)  # fmt: skip
        first = real if stop == real else next((i for i in places if under(i) == stop), None)
        over = {under(i): i for i in places if i not in again}  # not the list's own entries
        while first in over:
            first = over[first]  # "BOOK ONE" over the first chapter's line
        skipped |= set(range(listed[0], first if first is not None else stop))
    else:
        # Entries of a contents list: in a run of headings one under the other, two or more
        # that come again later (the last may have a preface under it; "BOOK ONE" over a
        # "CHAPTER I" that a second book repeats is no list).
        runs: list[list[int]] = []
        for i in places:
            if runs and under(runs[-1][-1]) == i:
                runs[-1].append(i)
            else:
                runs.append([i])
        skipped |= {i for run in runs if len([k for k in run if k in again]) > 1 for i in run
                    if i in again}  # fmt: skip
        first = min((i for i in places if i not in skipped), default=blocks)
        skipped |= {i for i in contents if i < first}
    kept: dict[int, str] = {}
    held: list[str] = []  # titles of headings straight over this one
    for i in places:
        if i in skipped:
            continue
        if under(i) in headings and under(i) not in skipped:
            held.append(headings[i])
            skipped.add(i)
            continue
        kept[i] = ". ".join([*held, headings[i]])
        held = []
    return kept, skipped
