"""Story body → blocks (headings and paragraphs) with their line numbers.

Plain text: paragraphs are separated by blank lines. Markdown (through markdown-it-py, a
CommonMark parser): headings become chapter titles; emphasis and links are read as their words;
code, images and HTML tags are not spoken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from narrator.errors import ScriptError
from narrator.text.cues import PLACEHOLDER_RE

_BREAKING_TAG = re.compile(r"</?(br|p|div|li|hr|tr|td|h\d)\b", re.IGNORECASE)
#: Deepest block nesting markdown-it parses (each list level takes two: list and item). Past it
#: markdown-it skips the rest of the document without a word, so reaching it is an error here.
MAX_NESTING = 60


@dataclass(frozen=True, kw_only=True)
class Block:
    """A heading (``level`` 1–6) or a paragraph (``level`` 0), with its first line."""

    text: str
    line: int
    level: int = 0


def plain_blocks(text: str, *, first_line: int = 1) -> list[Block]:
    """Paragraphs separated by blank (whitespace-only) lines."""
    out: list[Block] = []
    current: list[str] = []
    start = first_line
    for number, raw in enumerate(text.split("\n"), start=first_line):
        if raw.strip():
            if not current:
                start = number
            current.append(raw.strip())
        elif current:
            out.append(Block(text=" ".join(current), line=start))
            current = []
    if current:
        out.append(Block(text=" ".join(current), line=start))
    return out


def markdown_blocks(text: str, *, first_line: int = 1, source: str = "<text>") -> list[Block]:
    """Headings and paragraphs of a Markdown document, as plain words.

    Raises
    ------
    ScriptError
        Lists or quotes nested so deep that markdown-it would skip text, with ``file:line``.
    """
    tokens = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).parse(text)
    # A token at the last level may mean markdown-it stopped there and dropped what follows.
    deep = next((t for t in tokens if t.level >= MAX_NESTING - 1), None)
    if deep is not None:
        line = first_line + (deep.map[0] if deep.map else 0)
        raise ScriptError(
            f"{source}:{line}: lists or quotes are nested too deep here (more than "
            f"{MAX_NESTING // 2 - 2} levels); flatten them"
        )
    out: list[Block] = []
    for i, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener = tokens[i - 1]
        line = first_line + (token.map[0] if token.map else 0)
        words = _inline_text(token.children or [])
        if not words.strip():
            continue
        if opener.type == "heading_open":
            out.append(Block(text=words.strip(), line=line, level=int(opener.tag[1])))
        else:
            out.append(Block(text=words.strip(), line=line))
    return out


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind == "image":
            continue  # alt text is for eyes, not ears
        if kind == "html_inline":
            # Tags are not spoken; block-ish ones (<br>, <p>) still separate words.
            if _BREAKING_TAG.match(child.content):
                parts.append(" ")
            parts.extend(f" {m.group(0)} " for m in PLACEHOLDER_RE.finditer(child.content))
            continue
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)
