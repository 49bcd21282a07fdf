"""Story body → blocks (headings and paragraphs) with their line numbers.

Plain text: paragraphs are separated by blank lines; the Markdown marks such text borrows (a
heading's #, a bullet, *emphasis*) are not read. Markdown (through markdown-it-py, a
CommonMark parser): headings become chapter titles; emphasis and links are read as their words;
code, images, HTML tags and comments are not spoken, the words inside HTML blocks are.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token

from narrator.errors import ScriptError
from narrator.text.books import book_headings, chapter_heading, is_contents
from narrator.text.cues import PLACEHOLDER_RE

_BREAKING_TAG = re.compile(r"</?(br|p|div|li|hr|tr|td|h\d)\b", re.IGNORECASE)
_UNSPOKEN_TAG = re.compile(r"<(?P<close>/)?(?:script|style|template)\b", re.IGNORECASE)
#: Deepest block nesting markdown-it parses (each list level takes two: list and item). Past it
#: markdown-it skips the rest of the document without a word, so reaching it is an error here.
MAX_NESTING = 60


@dataclass(frozen=True, kw_only=True)
class Block:
    """A heading (``level`` 1–6) or a paragraph (``level`` 0), with its first line."""

    text: str
    line: int
    level: int = 0


#: Marks a plain-text story borrows from Markdown and e-mail, which the voice must not read:
#: a heading's #s and a list's bullet opening a line, and *emphasis* or _emphasis_ around words.
_LINE_MARK_RE = re.compile(r"^(?:#{1,6}|[-*+•])\s+")
#: The emphasised words hold no marker and run at most a few hundred characters: unbounded,
#: a line of "*a *a *a …" made the search quadratic (three minutes for 180 kB).
_EMPHASIS_RE = re.compile(
    r"(?<![\w*_])(\*{1,2}|_{1,2})(?=[^\s*_])([^*_\n]{1,300}?)(?<=[^\s*_])\1(?![\w*_])"
)


#: A list item opening a line: a bullet, or a number or letter with a stop ("2.", "b)"): the
#: latter only where two lines of the paragraph have one, so that a wrapped line opening with
#: "12. Then" or "A. A. Milne" keeps its words.
_BULLET_RE = re.compile(r"^[-*+•]\s+(?=\S)")
_NUMBERED_RE = re.compile(r"^(?:\d{1,3}[.)]|[a-zA-Z]\))\s+(?=\S)")
#: A paragraph of three or more lines, one of which (the first aside) could have taken the
#: next line's first word and stayed within the longest (:data:`WRAP_SLACK`), was not wrapped
#: to a width: it is verse, or a list without bullets, and each line ends with a pause.
#: (Wrapped prose leaves no such room: a wrapper breaks a line only when the next word does
#: not fit.)
VERSE_MIN_LINES = 3
#: Nobody wraps prose this narrow: three lines all shorter are verse, room or none.
PROSE_MIN_WIDTH = 40
#: Columns of slack in that test where the next line goes on in lower case: lines wrapped by
#: hand run a little past their width.
WRAP_SLACK = 3
#: ... in lines at least this wide (books are wrapped at about 70; verse runs shorter).
WRAP_SLACK_MIN_WIDTH = 65
#: What already ends a line with a pause (a cue's placeholder counts: it makes its own).
_PAUSED_END_RE = re.compile(r"(?:[.,;:!?…—–\-]|[.,;:!?…][\"”’')\]]|\ue001)$")
#: A hard line break (Markdown's two trailing spaces or backslash): always a pause.
_HARD_BREAK = "\u2028"


def _paused(line: str) -> str:
    line = line.rstrip()
    return line if not line or _PAUSED_END_RE.search(line) else line + ","


def is_verse(lines: list[str]) -> bool:
    """Whether ``lines`` as typed (marks and all: the width was theirs) are verse."""
    lines = [line.strip() for line in lines if line.strip()]
    if len(lines) < VERSE_MIN_LINES:
        return False
    width = max(len(line) for line in lines)
    # Not the first line's break: a short first line (a cue, "Chapter One", "Dear Anna,")
    # over wrapped prose leaves room there.
    slack = WRAP_SLACK if width >= WRAP_SLACK_MIN_WIDTH else 0
    # A few columns of slack before a line that goes on in lower case: prose wrapped by hand
    # (a Project Gutenberg book's, at about 70) has lines a little past its width, where the
    # next word would have fitted the longest; a line of verse opens with a capital.
    return width < PROSE_MIN_WIDTH or any(
        len(line) + 1 + len(after.split()[0]) <= width - (slack if after[0].islower() else 0)
        for line, after in itertools.pairwise(lines[1:])
    )


def joined_lines(lines: list[str], *, verse: bool | None = None) -> str:
    """A paragraph's lines as the text to read. Lines wrapped by hand join with a space; a
    list item's line ("- a lantern", "2. a book") and a line of verse end with a pause (a
    comma where they have no mark of their own) instead of running into the next, as
    "the moon lies fair Upon the straits" did, and the item's bullet or number is not read.
    ``verse``: :func:`is_verse` of the lines as typed, when marks were taken out since."""
    lines = [line.strip() for line in lines if line.strip()]
    verse = is_verse(lines) if verse is None else verse
    # Numbered items: two of them, or one among bullets ("- a lantern", "1. a book").
    numbers = sum(1 for line in lines if _NUMBERED_RE.match(line))
    numbered = numbers > 1 or (numbers and any(_BULLET_RE.match(line) for line in lines))
    parts: list[str] = []  # the text read, a line at a time (only the last one is paused)
    for line in lines:
        item = _BULLET_RE.match(line) or (numbered and _NUMBERED_RE.match(line))
        line = line[item.end() :] if item else line
        # A line opening with a dash has its pause ("— and so we sleep").
        if parts and (item or verse) and not line.startswith(("—", "–", "- ")):
            parts[-1] = _paused(parts[-1])
        *broken, last = line.split(_HARD_BREAK)
        parts += [_paused(part) for part in broken] + [last.strip()]
    return " ".join(part for part in parts if part).strip()


def plain_blocks(text: str, *, first_line: int = 1) -> list[Block]:
    """Paragraphs separated by blank (whitespace-only) lines, without the marks above; where
    two or more are chapters' lines (``CHAPTER I.`` over its name: :mod:`narrator.text.books`),
    those are headings and the contents list before them goes."""
    out: list[Block] = []
    headings: dict[int, str] = {}  # chapters' lines by their place in ``out``
    contents: set[int] = set()
    lines: list[list[str]] = []  # each block's, as stripped
    current: list[str] = []
    typed: list[str] = []  # the same lines as written, for their width
    start = first_line

    def close() -> None:
        if (title := chapter_heading(current)) is not None:
            headings[len(out)] = title
        elif is_contents(current):
            contents.add(len(out))
        out.append(Block(text=joined_lines(current, verse=is_verse(typed)), line=start))
        lines.append(list(current))

    for number, raw in enumerate(text.split("\n"), start=first_line):
        if raw.strip():
            if not current:
                start = number
            line = raw.strip()
            line = line if _BULLET_RE.match(line) else _LINE_MARK_RE.sub("", line)
            current.append(_EMPHASIS_RE.sub(r"\2", line))
            typed.append(raw)
        elif current:
            close()
            current, typed = [], []
    if current:
        close()
    kept, skipped = book_headings(headings, contents, lines)
    return [
        Block(text=kept[i], line=b.line, level=2) if i in kept else b
        for i, b in enumerate(out)
        if i not in skipped
    ]


def markdown_blocks(text: str, *, first_line: int = 1, source: str = "<text>") -> list[Block]:
    """Headings and paragraphs of a Markdown document, as plain words.

    Raises
    ------
    ScriptError
        Lists or quotes nested so deep that markdown-it would skip text, with ``file:line``.
    """
    # Tables too (GitHub's): read a row at a time, not as the pipes and dashes they are typed.
    tokens = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable("table").parse(text)
    # A token at the last level may mean markdown-it stopped there and dropped what follows.
    deep = next((t for t in tokens if t.level >= MAX_NESTING - 1), None)
    if deep is not None:
        line = first_line + (deep.map[0] if deep.map else 0)
        raise ScriptError(
            f"{source}:{line}: lists or quotes are nested too deep here (more than "
            f"{MAX_NESTING // 2 - 2} levels); flatten them"
        )
    out: list[Block] = []
    inline = MarkdownIt("commonmark")
    # A table is one paragraph, a sentence a row ("Tom, forty-two."); cells of the row under way.
    rows: list[str] = []
    row: list[str] | None = None
    table_line = first_line
    for i, token in enumerate(tokens):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "table_open":
            rows, table_line = [], line
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if cells := [cell for cell in row or [] if cell]:
                rows.append(", ".join(cells).rstrip(".") + ".")
            row = None
        elif token.type == "table_close" and rows:
            out.append(Block(text=" ".join(rows), line=table_line))
        elif row is not None and token.type == "inline":
            row.append(_inline_text(token.children or []).strip())
        if token.type.startswith(("table", "thead", "tbody", "tr", "th", "td")) or row is not None:
            continue
        if token.type == "html_block":
            # A paragraph wrapped in <p> or <div>: its tags are not spoken, its words are
            # (CommonMark leaves the Markdown inside unparsed, so it is read inline here).
            words = _inline_text(inline.parseInline(_html_text(token.content))[0].children or [])
            if words.strip():
                out.append(Block(text=words.strip(), line=line))
            continue
        if token.type != "inline":
            continue
        opener = tokens[i - 1]
        words = _inline_text(token.children or [], verse=is_verse(token.content.split("\n")))
        if not words.strip():
            continue
        if opener.type == "heading_open":
            out.append(Block(text=words.strip(), line=line, level=int(opener.tag[1])))
        else:
            out.append(Block(text=words.strip(), line=line))
    return out


class _HtmlText(HTMLParser):
    """The words of an HTML fragment: its text, not its tags, comments, scripts, styles or
    preformatted code; block-level tags separate words, inline ones do not. Entities are
    kept as written, for the Markdown reader to decode once; a cue's placeholder is kept
    wherever it stands, as in a paragraph."""

    _UNSPOKEN = frozenset({"script", "style", "template", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self._hidden = 0

    def _tag(self, tag: str, *, start: bool) -> None:
        if tag in self._UNSPOKEN:
            self._hidden = self._hidden + 1 if start else max(0, self._hidden - 1)
        if _BREAKING_TAG.match(f"<{tag}"):
            self.parts.append(" ")
        if start:  # a cue written in an attribute still counts
            self._placeholders(self.get_starttag_text() or "")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._tag(tag, start=True)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, start=False)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            self._placeholders(data)
        else:
            self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        if not self._hidden:
            self.parts.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self._hidden:
            self.parts.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._placeholders(data)

    def _placeholders(self, text: str) -> None:
        self.parts.extend(f" {m.group(0)} " for m in PLACEHOLDER_RE.finditer(text))


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def _inline_text(children: list[Token], *, verse: bool = False) -> str:
    parts: list[str] = []
    hidden = 0  # inside an inline <script> or <style>: its text is code, never spoken
    for child in children:
        kind = child.type
        if kind == "image":
            continue  # alt text is for eyes, not ears
        if kind == "html_inline":
            # Tags are not spoken; block-ish ones (<br>, <p>) still separate words.
            if _BREAKING_TAG.match(child.content):
                parts.append(" ")
            if m := _UNSPOKEN_TAG.match(child.content):
                hidden = max(0, hidden + (-1 if m["close"] else 1))
            parts.extend(f" {m.group(0)} " for m in PLACEHOLDER_RE.finditer(child.content))
            continue
        if hidden:
            continue
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append("\n")
        elif kind == "hardbreak":
            parts.append(_HARD_BREAK)
    return joined_lines("".join(parts).split("\n"), verse=verse)
