"""Marks a writer types that a narrator reads as words, or not at all: an e-mail address
("anna at example dot org"), ``§ 4`` ("section four"), ``~5 kg`` ("about five kilograms"),
``salt + pepper`` ("salt and pepper"), ``@home`` ("at home"), ``w/ jam`` ("with jam"),
``12+ people`` ("twelve or more people"), an arrow (a pause), ``<3`` and the tildes of
``~~struck~~`` (not read). Left as written, each engine says them its own way:
"tilde", "rightwards arrow", "less than three", or nothing.
"""

from __future__ import annotations

import re

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])(?P<user>[A-Za-z0-9][\w.+-]*)@(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,})(?![\w-])"
)
_SECTION_RE = re.compile(r"(?P<mark>§§?|¶)\s?(?=[\dIVXivx])")
_STRUCK_RE = re.compile(r"~~(?=\S)(?P<words>[^~\n]{1,300}?)(?<=\S)~~")
_ABOUT_RE = re.compile(r"(?<![\w~])~\s?(?=[$£€¥]?\d)")
_ARROW_RE = re.compile(r"\s*(?:[→⇒⟶⟹➔➜←⇐⟵]|(?<=\s)-{1,2}>(?=\s))\s*")
_PLUS_RE = re.compile(r"(?<=[A-Za-z])\s+\+\s+(?=[A-Za-z])")
_AT_RE = re.compile(r"(?<![\w@])@(?=[A-Za-z])")
_HEART_RE = re.compile(r"(?<!\S)<3+(?!\S)\s?")
_WITH_RE = re.compile(r"(?<![\w/])[Ww]/(?=\s+[A-Za-z])")
_OR_MORE_RE = re.compile(r"(?<![\w.])(?P<n>\d+)\+(?=\s+[a-z]{3,})")


def _email(m: re.Match[str]) -> str:
    user = " dot ".join(part for part in m["user"].split(".") if part)
    return f"{user} at {' dot '.join(m['host'].lower().split('.'))}"


def read_marks(text: str) -> str:
    """``text`` with the marks of the module docstring as words (or gone)."""
    if not any(c in text for c in "@§¶~+→⇒⟶⟹➔➜←⇐⟵<>/"):
        return text
    text = _WITH_RE.sub("with", text)
    text = _OR_MORE_RE.sub(r"\g<n> or more", text)
    text = _EMAIL_RE.sub(_email, text)
    text = _SECTION_RE.sub(
        lambda m: {"§": "section ", "§§": "sections ", "¶": "paragraph "}[m["mark"]], text
    )
    text = _STRUCK_RE.sub(r"\g<words>", text)
    text = _ABOUT_RE.sub("about ", text)
    text = _ARROW_RE.sub(", ", text)
    text = _PLUS_RE.sub(" and ", text)
    text = _AT_RE.sub("at ", text)
    return _HEART_RE.sub("", text)


__all__ = ["read_marks"]
