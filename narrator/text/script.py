"""Story text → :class:`Script`: front matter, chapters, cues and passages.

Paragraphs become passages; a paragraph too long for the engine is split at sentence
boundaries (a sentence too long at clause, then word, boundaries), never mid-word and never
dropping text: a single word longer than a sentence may be stays whole. Cues split passages
where they stand.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, NoReturn

from narrator.errors import ScriptError
from narrator.options import BY_KEY
from narrator.text.books import gutenberg_book
from narrator.text.cues import PLACEHOLDER_RE, Cue, extract_cues
from narrator.text.frontmatter import StoryMeta, day_first_dates, split_front_matter
from narrator.text.html import HTML_SUFFIXES, html_to_markdown, looks_like_html, looks_like_rtf
from narrator.text.letters import spelled_warning, spelled_words
from narrator.text.markup import Block, markdown_blocks, plain_blocks
from narrator.text.pronunciation import Lexicon
from narrator.text.sentences import decode_story_bytes, normalize_for_speech, split_sentences
from narrator.text.spoken import spell_out
from narrator.text.symbols import drop_symbols
from soundscapes.files import InputError, check_input_file, read_input

#: Longest passage handed to an engine in one go, in characters. Long inputs are where other
#: tools rush or truncate (kokoro-onnx #184, audiblez #155), so passages stay short.
MAX_PASSAGE_CHARS = 600
#: Longest single sentence, in characters, before it is split at clauses.
MAX_SENTENCE_CHARS = 300
#: Longest story read in one render, in characters: about 170,000 words, over twenty hours at a
#: sleep pace. Parsing takes time in proportion to the text (about ten seconds a megabyte of
#: prose here); a longer text is a book, rendered in episodes.
MAX_STORY_CHARS = 1_000_000
#: A story file larger than this cannot hold fewer than MAX_STORY_CHARS characters (UTF-8 takes
#: at most four bytes a character), so it is refused before it is read.
_MAX_STORY_BYTES = 4 * MAX_STORY_CHARS
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")

_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The words of ``text``: runs of letters/digits, with inner apostrophes and hyphens."""
    return _WORD_RE.findall(text)


@dataclass(frozen=True, kw_only=True)
class Chapter:
    """A chapter of the story; ``title`` is what the listener sees in their player."""

    index: int
    title: str
    line: int = 1


@dataclass(frozen=True, kw_only=True)
class Passage:
    """One unit of synthesis: a paragraph, or a piece of one cut by length or by a cue.

    ``sentences`` are the normalized sentences as the listener reads them in the transcript;
    ``say`` the same sentences respelled by the pronunciation lexicon, as the engine gets them.
    ``pause_after_s`` is a cue's silence after this passage, on top of the designed pause.
    ``scene``, ``add_layers`` and ``remove_layers`` are cues that take effect from here on.
    """

    index: int
    chapter: int
    sentences: tuple[str, ...]
    say: tuple[str, ...] = ()
    ends_paragraph: bool = True
    line: int = 1
    pause_after_s: float = 0.0
    scene: str | None = None
    add_layers: tuple[str, ...] = ()
    remove_layers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.say:
            object.__setattr__(self, "say", self.sentences)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def word_count(self) -> int:
        return len(words_of(self.text))


@dataclass(frozen=True, kw_only=True)
class Script:
    """A parsed story: metadata, chapters, and passages in reading order."""

    title: str
    author: str = ""
    source: str = ""
    meta: StoryMeta = field(default_factory=StoryMeta)
    chapters: tuple[Chapter, ...] = field(default_factory=tuple)
    passages: tuple[Passage, ...] = field(default_factory=tuple)
    opening_pause_s: float = 0.0
    warnings: tuple[str, ...] = ()
    #: The first paragraphs as written (markup and cues gone, numbers as typed), for a feed's
    #: or a page's summary: the passages hold what the voice says ("Doctor", "nineteen").
    opening: str = ""

    @property
    def word_count(self) -> int:
        return sum(p.word_count for p in self.passages)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` reads it back into an equal Script."""
        data = asdict(self)
        options = data["meta"]["options"]  # front matter's lexicon, plan, scenes: paths
        data["meta"]["options"] = {
            k: str(v) if isinstance(v, Path) else v for k, v in options.items()
        }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        def pick(kind: type, item: dict[str, Any]) -> dict[str, Any]:
            names = {f.name for f in fields(kind)}
            return {
                k: tuple(v) if isinstance(v, list) else v for k, v in item.items() if k in names
            }

        top = pick(cls, data)
        meta = pick(StoryMeta, data.get("meta", {}))
        meta["options"] = {
            k: Path(v) if k in BY_KEY and BY_KEY[k].kind == "path" and v is not None else v
            for k, v in meta.get("options", {}).items()
        }
        top["meta"] = StoryMeta(**meta)
        top["chapters"] = tuple(Chapter(**pick(Chapter, c)) for c in data.get("chapters", []))
        top["passages"] = tuple(Passage(**pick(Passage, p)) for p in data.get("passages", []))
        return cls(**top)


def read_story(path: Path) -> tuple[str, list[str]]:
    """Read a story file (``-`` for standard input) as text, with its decoding warnings."""
    source = "<stdin>" if str(path) == "-" else str(path)
    if str(path) == "-":
        try:
            data = sys.stdin.buffer.read(_MAX_STORY_BYTES + 1)
        except OSError as exc:
            raise ScriptError(f"<stdin>: cannot be read ({exc.strerror})") from None
    else:
        # A regular file only (a FIFO would hang, a device would never end), read whole
        # only when it is small enough.
        try:
            check_input_file(path, what="story")
            if path.stat().st_size > _MAX_STORY_BYTES:
                _too_long(source, f"{path.stat().st_size / 1e6:.0f} MB")
            data = read_input(path, what="story", max_bytes=_MAX_STORY_BYTES)
        except InputError as exc:
            raise ScriptError(str(exc)) from None
    if len(data) > _MAX_STORY_BYTES:
        _too_long(source, f"more than {_MAX_STORY_BYTES / 1e6:.0f} MB")
    if data.lstrip()[:5] == b"%PDF-":  # one that is all text would be read as its syntax
        raise ScriptError(
            f"{source}: this is a PDF document, not story text; copy its text into a .txt or "
            ".md file and give that"
        )
    warnings: list[str] = []
    text = decode_story_bytes(data, source=source, warnings=warnings)
    if looks_like_rtf(text):
        raise ScriptError(
            f"{source}: this is an RTF document (a word processor's file), not story text; "
            "save it as plain text (.txt) or Markdown (.md) and give that"
        )
    return text, warnings


def _too_long(source: str, size: str) -> NoReturn:
    raise ScriptError(
        f"{source}: the story is {size}; narrator reads at most {MAX_STORY_CHARS:,} characters "
        "(about twenty hours) in one render: split it into episodes (narrator batch)"
    )


def is_markdown(path: Path) -> bool:
    """Whether the story at ``path`` is read as Markdown (by its suffix)."""
    return path.suffix.lower() in MARKDOWN_SUFFIXES


#: Standard input has no suffix: Markdown by its headings or links.
_MARKDOWN_SIGNS_RE = re.compile(r"^#{1,6}[ \t]+\S|\[[^\]\n]+\]\([^)\s]+\)", re.MULTILINE)


def story_markup(path: Path, text: str) -> tuple[str, bool]:
    """The text to parse and whether it is Markdown: a web page (by its suffix or its first
    tag) as the Markdown it stands for, standard input by its look, a file by its suffix."""
    if path.suffix.lower() in HTML_SUFFIXES or looks_like_html(text):
        return html_to_markdown(text), True
    if str(path) == "-":
        return text, bool(_MARKDOWN_SIGNS_RE.search(text))
    return text, is_markdown(path)


def parse_story(
    path: Path | str,
    *,
    title: str | None = None,
    lexicon: Lexicon | None = None,
    markdown: bool | None = None,
    extra_scenes: Collection[str] = (),
) -> Script:
    """Read and parse the story at ``path`` (``-``: standard input)."""
    path = Path(path)
    text, warnings = read_story(path)
    source = "<stdin>" if str(path) == "-" else str(path)
    text, is_md = story_markup(path, text)
    is_md = is_md if markdown is None else markdown
    return parse_text(
        text,
        source=source,
        title=title,
        default_title=title_from_path(path),
        lexicon=lexicon,
        markdown=is_md,
        warnings=warnings,
        extra_scenes=extra_scenes,
    )


def title_from_path(path: Path) -> str:
    """A title from the file name, for a story that gives none."""
    stem = "" if str(path) == "-" else path.stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else "Untitled story"


def parse_text(
    text: str,
    *,
    source: str = "<text>",
    title: str | None = None,
    default_title: str = "Untitled story",
    lexicon: Lexicon | None = None,
    markdown: bool = False,
    warnings: list[str] | None = None,
    extra_scenes: Collection[str] = (),
) -> Script:
    """Parse story text into chapters and passages.

    Raises
    ------
    ScriptError
        Bad front matter or cues (with ``file:line``), or a story with no words to speak.
    """
    from soundscapes.layers import layer_names
    from soundscapes.scene import available_scenes, choosable

    warnings = list(warnings or [])
    if len(text) > MAX_STORY_CHARS:
        _too_long(source, f"{len(text):,} characters")
    meta, body, first_line = split_front_matter(text, source=source)
    body, meta, book_note = gutenberg_book(body, meta, source=source, first_line=first_line)
    warnings += [book_note] if book_note else []
    body, cues = extract_cues(
        body,
        source=source,
        first_line=first_line,
        scenes=[*choosable(available_scenes()), *extra_scenes],
        layers=layer_names(),
        markdown=markdown,
        warnings=warnings,
    )
    blocks = (
        markdown_blocks(body, first_line=first_line, source=source)
        if markdown
        else plain_blocks(body, first_line=first_line)
    )
    lex = (lexicon or Lexicon()).merged(meta.pronounce)
    builder = _Builder(cues=cues, lexicon=lex, day_first=day_first_dates(meta.language))
    chapter_level, title_block = _chapter_level(blocks, titled=bool(title or meta.title))
    story_title = (
        title or meta.title or (_display(title_block.text, cues) if title_block else default_title)
    )
    for block in blocks:
        if block.level:
            if block.level == chapter_level and block is not title_block:
                builder.start_chapter(_display(block.text, cues), block.line)
            # Deeper headings are structure for the eye only; a cue in any heading acts, as
            # on a line of its own there ("## Part One [scene: music]" was dropped silently).
            acting = [m[0] for m in PLACEHOLDER_RE.finditer(block.text)
                      if cues[int(m[1])].kind != "literal"]  # fmt: skip
            if acting:
                builder.paragraph(" ".join(acting), block.line)
            continue
        builder.paragraph(block.text, block.line)
    if not builder.passages:
        raise ScriptError(f"{source}: the story has no words to speak; write some text in it")
    if builder.dropped_symbols:
        warnings.append(
            f"{source}:{builder.first_dropped_line}: dropped {builder.dropped_symbols} emoji or "
            "symbols that cannot be spoken (the first in the paragraph here); where one means "
            "something, write the word instead"
        )
    warnings += [
        f"{source}:{cue.line}: {_shown(cue)} is undone by {_shown(scene)} after it, before any "
        "words; put it after the scene cue, or words between them"
        for cue, scene in builder.undone
    ]
    told = {id(cue) for cue, _ in builder.undone}  # each cue is told of once
    warnings += [_unplayed(cue, source) for cue in builder.since_last if id(cue) not in told]
    if (meta.language or "en").lower().startswith("en"):  # what is said, respellings applied
        said = [(p["line"], " ".join(p["say"] or p["sentences"])) for p in builder.passages]
        if spelled := spelled_warning(source, spelled_words(said)):
            warnings.append(spelled)
    used = {p["chapter"] for p in builder.passages}
    if empty := [c for c in builder.chapters if c.index not in used]:
        more = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
        warnings.append(
            f"{source}:{empty[0].line}: the heading {empty[0].title!r} has no words under it"
            f"{more}, so it is no chapter (a chapter starts where its words are read); write "
            "some under it, or remove it"
        )
    chapters, passages = _number_chapters(builder, story_title)
    return Script(
        title=story_title,
        author=meta.author or "",
        source=source,
        meta=meta,
        chapters=tuple(chapters),
        passages=tuple(passages),
        opening_pause_s=builder.opening_pause_s,
        warnings=tuple(warnings),
        opening=_opening(blocks, cues),
    )


#: How much of the story's written opening a Script keeps (a summary takes less).
_OPENING_KEPT_CHARS = 1000


def _opening(blocks: list[Block], cues: list[Cue]) -> str:
    """The story's first paragraphs as written (its dashes, quotes and spacing: not made
    ready for a voice), headings and cues left out."""
    out = ""
    for block in blocks:
        if block.level:
            continue
        text = PLACEHOLDER_RE.sub(
            lambda m: cues[int(m[1])].text if cues[int(m[1])].kind == "literal" else "\0",
            block.text,
        )
        # A cue goes with the spaces around it ("day [scene: coast]." is "day.").
        text = _CUE_GONE_RE.sub(lambda m: "" if m["mark"] is not None else " ", text)
        if text := " ".join(text.split()):
            out = f"{out} {text}".strip()
            if len(out) >= _OPENING_KEPT_CHARS:
                break
    return out


_CUE_GONE_RE = re.compile(r"\s*\0\s*(?:(?=[.,;:!?])(?P<mark>))?")


def _shown(cue: Cue) -> str:
    """A scene or layer cue as written: ``the [add: rain, wind] cue``."""
    return f"the [{cue.kind}: {', '.join(cue.names)}] cue"


def _unplayed(cue: Cue, source: str) -> str:
    """What a cue after the story's last words is told: nothing follows it to play."""
    if cue.kind == "pause":
        return (
            f"{source}:{cue.line}: the [pause {cue.seconds:g}s] after the last words adds "
            "nothing: the ambience plays on after them for the tail; lengthen that (--tail)"
        )
    return (
        f"{source}:{cue.line}: {_shown(cue)} after the last words changes nothing: no words "
        "follow it; move it before the passage it is for"
    )


def _number_chapters(builder: _Builder, story_title: str) -> tuple[list[Chapter], list[Passage]]:
    """Chapters that hold passages, numbered from 0; text before the first heading opens a
    chapter named after the story."""
    chapters = list(builder.chapters)
    raw = [p["chapter"] for p in builder.passages]
    if not chapters or min(raw) < 0:
        line = builder.passages[0]["line"]
        chapters = [Chapter(index=-1, title=story_title, line=line), *chapters]
    by_raw = {c.index: c for c in chapters}
    used = sorted(set(raw))
    new_index = {old: new for new, old in enumerate(used)}
    out_chapters = [
        Chapter(index=new_index[i], title=by_raw[i].title, line=by_raw[i].line) for i in used
    ]
    out_passages = [
        Passage(index=i, **{**p, "chapter": new_index[p["chapter"]]})
        for i, p in enumerate(builder.passages)
    ]
    return out_chapters, out_passages


def _chapter_level(blocks: list[Block], *, titled: bool) -> tuple[int, Block | None]:
    """Heading level that makes chapters, and a lone top heading used as the story title
    (``titled``: the story has a title already, so its only heading stays a chapter)."""
    headings = [b for b in blocks if b.level]
    if not headings:
        return 0, None
    top = min(b.level for b in headings)
    tops = [b for b in headings if b.level == top]
    deeper = [b for b in headings if b.level > top]
    if len(tops) == 1 and deeper and blocks[0] is tops[0]:
        return min(b.level for b in deeper), tops[0]
    if len(headings) == 1 and blocks[0] is tops[0] and not titled:
        return top, tops[0]  # "# The Lighthouse" over the whole story is its title
    return top, None


def _display(text: str, cues: list[Cue]) -> str:
    """Heading text for the eye: literal brackets restored, other cue marks removed."""
    out = PLACEHOLDER_RE.sub(
        lambda m: cues[int(m[1])].text if cues[int(m[1])].kind == "literal" else "", text
    )
    return normalize_for_speech(out)


class _Builder:
    """Accumulates passages and chapters while walking the blocks in order."""

    def __init__(self, *, cues: list[Cue], lexicon: Lexicon, day_first: bool = False) -> None:
        self.cues = cues
        self.lexicon = lexicon
        self.day_first = day_first
        self.passages: list[dict[str, Any]] = []
        self.chapters: list[Chapter] = []
        self.opening_pause_s = 0.0
        self.dropped_symbols = 0
        self.first_dropped_line = 0
        self._pending: dict[str, Any] = {}
        #: Cues met since the last passage began: after the story's last words, unplayed.
        self.since_last: list[Cue] = []
        #: ``[add:]``/``[remove:]`` cues a ``[scene:]`` replaced before any words: (it, scene).
        self.undone: list[tuple[Cue, Cue]] = []
        self._layer_cues: list[Cue] = []

    def start_chapter(self, title: str, line: int) -> None:
        self.chapters.append(Chapter(index=len(self.chapters), title=title, line=line))

    def paragraph(self, text: str, line: int) -> None:
        pieces = PLACEHOLDER_RE.split(text)
        buffer = pieces[0]
        for k in range(1, len(pieces), 2):
            cue = self.cues[int(pieces[k])]
            if cue.kind == "literal":
                buffer += cue.text + pieces[k + 1]
                continue
            self._flush(buffer, line, ends_paragraph=False)
            buffer = pieces[k + 1]
            self.since_last.append(cue)
            if cue.kind == "pause":
                if self.passages:
                    self.passages[-1]["pause_after_s"] += cue.seconds
                else:
                    self.opening_pause_s += cue.seconds
            elif cue.kind == "scene":
                self._pending["scene"] = cue.names[0]
                self._pending.pop("add_layers", None)
                self._pending.pop("remove_layers", None)
                self.undone += [(undone, cue) for undone in self._layer_cues]
                self._layer_cues = []
            else:
                key = f"{cue.kind}_layers"
                self._pending[key] = (*self._pending.get(key, ()), *cue.names)
                self._layer_cues.append(cue)
        self._flush(buffer, line, ends_paragraph=True)
        if self.passages:
            self.passages[-1]["ends_paragraph"] = True

    def _flush(self, raw: str, line: int, *, ends_paragraph: bool) -> None:
        text, dropped = drop_symbols(raw)
        if dropped and not self.dropped_symbols:
            self.first_dropped_line = line
        self.dropped_symbols += dropped
        sentences = bounded_sentences(
            spell_out(normalize_for_speech(text), day_first=self.day_first)
        )
        if not sentences:
            return
        groups = group_sentences(sentences)
        for i, group in enumerate(groups):
            entry: dict[str, Any] = {
                "chapter": len(self.chapters) - 1,
                "sentences": tuple(group),
                "say": tuple(self.lexicon.apply(s) for s in group) if self.lexicon else (),
                "ends_paragraph": ends_paragraph and i == len(groups) - 1,
                "line": line,
                "pause_after_s": 0.0,
            }
            if i == 0 and self._pending:
                entry.update(self._pending)
                self._pending = {}
            self.passages.append(entry)
            self.since_last = []
            self._layer_cues = []


def bounded_sentences(text: str) -> list[str]:
    """Sentences of ``text``, each at most :data:`MAX_SENTENCE_CHARS` long unless it is one
    word longer than that (a word is never cut: the engine reads it whole)."""
    out: list[str] = []
    for sentence in split_sentences(text):
        out.extend(_split_long(sentence, MAX_SENTENCE_CHARS))
    return [s for s in out if words_of(s)]


_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+")


def _split_long(sentence: str, limit: int) -> list[str]:
    """Split at clause marks, then spaces, then between words, so no piece exceeds ``limit``.

    A single word longer than ``limit`` is never cut: it becomes a piece of its own.
    """
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    for piece in _pack(_CLAUSE_BREAK.split(sentence), limit):
        for part in [piece] if len(piece) <= limit else _pack(piece.split(" "), limit):
            out.extend([part] if len(part) <= limit else _cut_between_words(part, limit))
    return out


def _cut_between_words(text: str, limit: int) -> list[str]:
    """Cut ``text`` (no spaces) outside its words, each piece within ``limit`` where it can be:
    a word longer than ``limit`` is a piece of its own, whole."""
    spans = [m.span() for m in _WORD_RE.finditer(text)]
    out: list[str] = []
    start = 0
    k = 0  # index of the first word ending after ``start``
    while len(text) - start > limit:
        end = start + limit
        while k < len(spans) and spans[k][1] <= end:
            k += 1
        if k < len(spans) and spans[k][0] < end:  # ``end`` falls inside word k
            word_start, word_end = spans[k]
            end = word_start if word_start > start else word_end
        out.append(text[start:end])
        start = end
    out.append(text[start:])
    # Marks after a long word ("…word." cut after the word) stay with it, not in a piece of
    # their own that has no word to be spoken with.
    merged: list[str] = []
    for piece in out:
        if merged and not _WORD_RE.search(piece) and _WORD_RE.fullmatch(merged[-1]):
            merged[-1] += piece
        elif piece:
            merged.append(piece)
    return merged


def _pack(parts: list[str], limit: int) -> list[str]:
    """Greedily join ``parts`` with spaces into runs no longer than ``limit`` (when possible)."""
    out: list[str] = []
    current = ""
    for part in parts:
        if not part:
            continue
        candidate = f"{current} {part}" if current else part
        if current and len(candidate) > limit:
            out.append(current)
            current = part
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def group_sentences(sentences: list[str]) -> list[list[str]]:
    """Pack consecutive sentences into passages of at most :data:`MAX_PASSAGE_CHARS`."""
    groups: list[list[str]] = []
    size = 0
    for sentence in sentences:
        if groups and size + 1 + len(sentence) <= MAX_PASSAGE_CHARS:
            groups[-1].append(sentence)
            size += 1 + len(sentence)
        else:
            groups.append([sentence])
            size = len(sentence)
    return groups
