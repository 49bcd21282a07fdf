"""A story saved as a web page (``.html``) → the Markdown it stands for: headings as
headings (chapters), paragraphs, list items and quotes as paragraphs, a ``<br>`` as a line
break; the page's head, title, scripts and styles are not story and are not read. Read as
plain text, its tags reached the voice ("less than p greater than").

And a word processor's RTF, which is text too but all control words, is recognised so that
it can be refused with a way out, not read aloud.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HTML_START_RE = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!doctype\s+html|<html\b)", re.I)
_RTF_START_RE = re.compile(r"\A\s*\{\\rtf")

#: A block's start Markdown would read as structure: a list's number (a backslash keeps it
#: text), a heading's # or a bullet (not read: in a paragraph they are typing, not words).
_NUMBER_START_RE = re.compile(r"^(\s*\d{1,9})(?=[.)]\s)")
_MARK_START_RE = re.compile(r"^(\s*)(?:#+|[>+*-])\s")
_SKIPPED = frozenset({"head", "title", "script", "style", "template", "noscript", "svg"})
_BLOCKS = frozenset(
    {"p", "div", "li", "blockquote", "section", "article", "header", "footer", "main", "tr",
     "pre", "ul", "ol", "table", "hr", "body", "figure", "figcaption", "dd", "dt"}
)  # fmt: skip


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START_RE.match(text))


def looks_like_rtf(text: str) -> bool:
    return bool(_RTF_START_RE.match(text))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skipped = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "body":
            self._skipped = 0  # "</head>" may be left out (HTML5): the body ends the head
        if tag in _SKIPPED:
            self._skipped += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in _BLOCKS:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("\\\n")  # Markdown's hard line break: a pause in verse

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipped = max(0, self._skipped - 1)
        elif tag in _BLOCKS or re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipped:
            # Within a block, a web page's line breaks are spaces; what Markdown would take
            # for a heading or a list item at a block's start is text ("1914. The year…").
            text = re.sub(r"\s+", " ", data)
            if not "".join(self.out[-1:]).strip():  # a block starts here
                text = _MARK_START_RE.sub(r"\1", _NUMBER_START_RE.sub(r"\1\\", text))
            self.out.append(text)


def html_to_markdown(text: str) -> str:
    """The story of the web page ``text`` as Markdown (see the module docstring)."""
    page = _Page()
    page.feed(text)
    page.close()
    paragraphs = (p.strip() for p in "".join(page.out).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p) + "\n"


__all__ = ["HTML_SUFFIXES", "html_to_markdown", "looks_like_html", "looks_like_rtf"]
