"""Text-level helpers: decoding story bytes, normalizing for speech, finding sentences."""

from __future__ import annotations

import re
import unicodedata

from narrator.errors import ScriptError

#: Share of control bytes above which a file is taken for binary rather than text.
_BINARY_CONTROL_SHARE = 0.10


def decode_story_bytes(data: bytes, *, source: str, warnings: list[str] | None = None) -> str:
    """Decode a story file's bytes, refusing binary files.

    UTF-8 (with or without BOM) and UTF-16 with BOM are read; other bytes fall back to
    Windows-1252. Line endings become ``\\n``.

    Raises
    ------
    ScriptError
        Empty, whitespace-only or binary input.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ScriptError(f"{source}: broken UTF-16 text; save the story as UTF-8") from None
    else:
        if b"\x00" in data:
            raise ScriptError(f"{source}: looks like a binary file, not text; pass a .txt story")
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            if warnings is not None:
                warnings.append(
                    f"{source}: not valid UTF-8; read as Windows-1252. Save it as "
                    "UTF-8 to be sure every character is right"
                )
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if text and controls / len(text) > _BINARY_CONTROL_SHARE:
        raise ScriptError(f"{source}: looks like a binary file, not text; pass a .txt story")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ScriptError(f"{source}: the story is empty; write some text in it")
    return text


_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2026": "...",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
}  # fmt: skip


def normalize_for_speech(text: str) -> str:
    """Typographic marks to plain ones an engine reads calmly; whitespace folded.

    Em and en dashes between words become a comma pause, which is how a narrator reads them.
    """
    text = unicodedata.normalize("NFC", text)
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    text = re.sub(r"\s*[—–]\s*", ", ", text)
    text = re.sub(r"\s+", " ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))
    return re.sub(r" {2,}", " ", text).strip()


_SEGMENTER = None


def _segmenter():
    # pysbd: rule-based sentence boundary disambiguation (Golden Rules for English), which
    # knows abbreviations, initials, decimals, ellipses and quotes.
    global _SEGMENTER
    if _SEGMENTER is None:
        import pysbd

        _SEGMENTER = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return _SEGMENTER


def split_sentences(text: str) -> list[str]:
    """Split normalized text into sentences with a real segmenter (pysbd).

    The segmenter only chooses where to cut: the pieces are sliced from ``text`` itself, so
    no character is ever lost or altered, whatever the segmenter does internally.
    """
    if not text.strip():
        return []
    cuts = sorted({span.end for span in _segmenter().segment(text) if 0 < span.end < len(text)})
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    # A cut inside a word (which pysbd should never make) is undone by joining the pieces.
    out: list[str] = []
    for piece in pieces:
        if out and piece[:1].isalnum() and out[-1][-1:].isalnum():
            out[-1] += piece
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]
