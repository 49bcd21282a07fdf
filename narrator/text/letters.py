"""Words in letters an English voice cannot read: it spells them one letter at a time.

Piper's English voices (through espeak-ng), espeak-ng itself and Kokoro's English phonemizer
read Hebrew, Chinese or Arabic letters by their names ("Hebrew letter shin, Hebrew letter
lamed, …", checked by ear with Whisper on ``שלום`` and ``静かな夜``). A story in English that
borrows such a word is warned of, with the words and where, so the author can write how it
sounds (``shalom``) or respell it with ``pronounce:``. Latin letters with any accents, and
Greek (read by letter names that are words: "pi"), are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Unicode's script word (the first of a letter's name) → what the warning calls it.
_SCRIPT_NAMES = {
    "CJK": "Chinese or Japanese", "HIRAGANA": "Japanese", "KATAKANA": "Japanese",
    "HANGUL": "Korean",
}  # fmt: skip
#: Scripts an English voice reads.
_READ = frozenset({"LATIN", "GREEK"})
#: Words named in the warning at most.
SHOWN_WORDS = 4
_WORD_RE = re.compile(r"[^\W\d_]+")


def script_of(word: str) -> str | None:
    """The script of the first letter of ``word`` an English voice cannot read, or ``None``."""
    for ch in word:
        if not ch.isalpha():
            continue
        script = unicodedata.name(ch, "").split(" ", 1)[0]
        if script and script not in _READ:
            return _SCRIPT_NAMES.get(script, script.title())
    return None


def spelled_words(lines: Iterable[tuple[int, str]]) -> list[tuple[int, str, str]]:
    """``(line, word, script)`` for each word of ``lines`` (``(line, text)``) that an English
    voice would spell letter by letter, once each, in order."""
    found: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for line, text in lines:
        if text.isascii():  # Latin letters only: nothing to look up (nearly every story)
            continue
        for word in _WORD_RE.findall(text):
            if word in seen or word.isascii():
                continue
            seen.add(word)
            if (script := script_of(word)) is not None:
                found.append((line, word, script))
    return found


def spelled_warning(source: str, words: list[tuple[int, str, str]]) -> str | None:
    """One warning naming the first such words, their scripts and the first line."""
    if not words:
        return None
    shown = ", ".join(f"{word!r}" for _, word, _ in words[:SHOWN_WORDS])
    more = f" and {len(words) - SHOWN_WORDS} more" if len(words) > SHOWN_WORDS else ""
    scripts = " and ".join(dict.fromkeys(script for _, _, script in words))
    return (
        f"{source}:{words[0][0]}: {shown}{more} {'is' if len(words) == 1 else 'are'} in "
        f"{scripts} letters, which an English voice spells one by one; write how they sound "
        "in Latin letters, or respell them (pronounce: in the front matter, or --lexicon)"
    )
