"""Text-level helpers: decoding story bytes, normalizing for speech, finding sentences."""

from __future__ import annotations

import re
import unicodedata

from narrator.errors import ScriptError
from narrator.text.abbreviations import OPENER_NEXT
from narrator.text.conventions import joins_days

#: Share of control bytes above which a file is taken for binary rather than text.
_BINARY_CONTROL_SHARE = 0.10


def decode_story_bytes(data: bytes, *, source: str, warnings: list[str] | None = None) -> str:
    """Decode a story file's bytes, refusing binary files.

    UTF-8 (with or without BOM) and UTF-16 and UTF-32 with BOM are read; other bytes fall back to
    Windows-1252. Line endings become ``\\n``.

    Raises
    ------
    ScriptError
        Empty, whitespace-only or binary input.
    """
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16's
        try:
            text = data.decode("utf-32")
        except UnicodeDecodeError:
            raise ScriptError(f"{source}: broken UTF-32 text; save the story as UTF-8") from None
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ScriptError(f"{source}: broken UTF-16 text; save the story as UTF-8") from None
    elif b"\x00" in data and (bomless := _bomless_utf16(data)) is not None:
        text = bomless
        if warnings is not None:
            warnings.append(
                f"{source}: UTF-16 without a byte-order mark; read as such. Save it as UTF-8 "
                "to be sure every character is right"
            )
    else:
        if b"\x00" in data:
            raise ScriptError(f"{source}: {_BINARY}")
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
        raise ScriptError(f"{source}: {_BINARY}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ScriptError(f"{source}: the story is empty; write some text in it")
    return text


_BINARY = "looks like a binary file, not text; give a story saved as text (UTF-8), .txt or .md"
#: Share of one byte lane (the high bytes) that must be NUL for text to be read as UTF-16 with
#: no byte-order mark: Latin text in UTF-16 has a NUL high byte for nearly every character.
_UTF16_NUL_SHARE = 0.3


def _bomless_utf16(data: bytes) -> str | None:
    """``data`` decoded as UTF-16 without a byte-order mark (what some Windows editors save),
    when its NULs all sit in one byte lane and it decodes; else ``None`` (a binary file)."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd >= _UTF16_NUL_SHARE and nul_even == 0:
        codec = "utf-16-le"
    elif nul_even >= _UTF16_NUL_SHARE and nul_odd == 0:
        codec = "utf-16-be"
    else:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2026": "...",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
}  # fmt: skip


#: Dashes between words: em and en dashes, and as typed on a keyboard, " - ", " -- ", "a--b".
_DASH_RE = re.compile(r"\s*([—–]|(?<=\s)--?(?=\s)|(?<=[^\W_])--(?=[^\W_]))\s*")
_THOUSANDS_SPACE_RE = re.compile("[\u00a0\u202f\u2009]")
_SPACED_THOUSANDS_RE = re.compile(r"(?<![\d.,])\d{1,3}(?:[\u00a0\u202f\u2009]\d{3})+(?!\d)")
#: "100 000" with a plain space: the same, where nothing makes it a run of digit groups (a
#: phone number "555 123 4567", "020 7946 0958"): no leading zero, no group before or after.
_PLAIN_SPACED_THOUSANDS_RE = re.compile(
    r"(?<![\d.,])(?<!\d )[1-9]\d{0,2}(?: \d{3})+(?![\d.,\-–]| \d)"
)


#: "It was snowing.The fox slept": a stop between two words with no space after it.
_NO_SPACE_AFTER_STOP_RE = re.compile(r"(?<=[a-z]{2})\.(?=[A-Z][a-z]+\b(?!\.))")

_NUMBER_END_RE = re.compile(r"\d(?:\s?[aApP]\.?[mM]\.?)?$")


_PLACE_BEFORE_RE = re.compile(r"(?<![\w'’-])[A-Z][a-z]+$")


def _dash(m: re.Match[str]) -> str:
    text = m.string
    # After a number, or an hour's a.m./p.m. ("8:30am–9:15am" is a range too).
    after_number = bool(_NUMBER_END_RE.search(text, max(0, m.start() - 6), m.start()))
    between_digits = after_number and text[m.end() : m.end() + 1].isdigit()
    if between_digits and m[1] == "-":
        return m[0]  # "2 - 3 hours": a range, read "to" by spell_out
    if between_digits and (m[1] in ("–", "--") or m[0] == m[1]):
        return "–"  # a range: "1990–1995", "pages 3 – 7" (an unspaced em dash is a typo for it)
    if m[1] == "–" and joins_days(text, m.start(), m.end()):
        return "–"  # "Mon–Fri": read "Monday to Friday"
    if (
        m[0] == "–"
        and _PLACE_BEFORE_RE.search(text, max(0, m.start() - 40), m.start())
        and text[m.end() : m.end() + 1].isupper()
    ):
        # Two names joined ("the London–Paris train", "Austria–Hungary"): no pause, and no
        # "to", which a route takes but a union or a pair of names does not.
        return " "
    if m.start() == 0:  # (the match takes the spaces before it)
        return ""  # a dialogue dash opening the line: "— Who is there?" has no pause before
    if (
        text[: m.start()].rstrip()[-1:] in (".", "?", "!", "…")
        and text[m.end() : m.end() + 1].isupper()
    ):
        return " "  # one after a sentence's end opens the next speaker's line ("— Maybe.")
    return ", "


def normalize_for_speech(text: str) -> str:
    """Typographic marks to plain ones an engine reads calmly; whitespace folded.

    Em and en dashes between words become a comma pause, which is how a narrator reads them;
    an en dash between numbers (``1990–1995``, ``3 – 7``) is a range and is kept for
    :func:`narrator.text.spoken.spell_out` to read as "to".
    """
    text = unicodedata.normalize("NFC", text)
    # "10 000" with a no-break or thin space (SI and French style) is one number, not four.
    text = _SPACED_THOUSANDS_RE.sub(lambda m: _THOUSANDS_SPACE_RE.sub("", m[0]), text)
    text = _PLAIN_SPACED_THOUSANDS_RE.sub(lambda m: m[0].replace(" ", ""), text)
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    text = _NO_SPACE_AFTER_STOP_RE.sub(". ", text)
    text = _DASH_RE.sub(_dash, text)
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


#: Longest stretch of text handed to the segmenter at once, in characters. pysbd's time grows
#: with the square of its input (a 100 kB paragraph took 6 s, 1 MB 9 minutes), so a long
#: paragraph is segmented window by window: linear time, the same cuts for ordinary text.
SEGMENT_WINDOW_CHARS = 2000
#: A cut this close to a window's end may have been made for want of the text after it: the
#: window's last sentence is left for the next window, which sees its whole context.
_WINDOW_MARGIN_CHARS = 200
_SPACE_RE = re.compile(r"\s")


def _segment_cuts(text: str) -> list[int]:
    """pysbd's sentence ends inside ``text`` (offsets, without 0 and ``len(text)``)."""
    return sorted({span.end for span in _segmenter().segment(text) if 0 < span.end < len(text)})


def _window_cuts(text: str) -> list[int]:
    """Sentence ends in ``text`` of any length, segmenting at most a window at a time."""
    cuts: list[int] = []
    start = 0
    while len(text) - start > SEGMENT_WINDOW_CHARS:
        window = text[start : start + SEGMENT_WINDOW_CHARS]
        if not _SPACE_RE.search(window):
            # A run with no space is no place for a sentence end: skip to the next space.
            space = _SPACE_RE.search(text, start + SEGMENT_WINDOW_CHARS)
            if space is None:
                return cuts
            start = space.end()
            cuts.append(start)
            continue
        found = _segment_cuts(window)
        usable = [c for c in found if c <= SEGMENT_WINDOW_CHARS - _WINDOW_MARGIN_CHARS]
        usable = usable or found[:1]
        if usable:
            cuts.extend(start + c for c in usable)
            start += usable[-1]
        else:
            # One sentence longer than the window: cut at its last space (it is split at
            # clauses and spaces later anyway).
            last_space = max(m.end() for m in _SPACE_RE.finditer(window))
            start += last_space
            cuts.append(start)
    cuts.extend(start + c for c in _segment_cuts(text[start:]))
    return cuts


#: A letter or an initialism with its stop, then a word that opens sentences: the segmenter
#: takes "coach B. Then she slept" for an initial in a name and runs the two together.
_LETTER_END_RE = re.compile(rf"(?<![\w.])(?:[A-Z]\.){{1,4}}(?={OPENER_NEXT})")


#: A quotation's end, then another's start: one speaker's line, then the next's.
_QUOTE_TURN_RE = re.compile(r"[.?!]\.{0,2}[\"'](?=\s+[\"'][^\W\d_])")


#: The words a time of day is said in ("half past six", "ten forty-five").
_CLOCK_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|oh|o'clock|half|"
    r"quarter|past|to|about|around|exactly)"
)
#: A time of day and the word that brings it, with no sentence of its own: the segmenter
#: ends one at "a.m." before a name ("At five a.m. John woke" was "At five a.m.", "John woke").
#: Nothing but the time between them: "After supper we read until ten p.m." is a sentence.
_TIME_PHRASE_RE = re.compile(
    r"(?:(?:[Tt]omorrow|[Tt]onight|[Tt]oday|[Yy]esterday|[Tt]hen|[Aa]nd|[Bb]ut|[Ss]o|[Jj]ust"
    r"|[Ee]xactly|[Pp]romptly|(?:[Ee]very|[Ee]ach) (?:day|morning|night|evening)),?\s+)?"
    r"(?:[Aa]t|[Bb]y|[Aa]round|[Aa]bout|[Bb]efore|[Aa]fter|[Uu]ntil|[Tt]ill|[Ss]ince|[Ff]rom"
    rf"|[Nn]ear|[Tt]owards?|[Pp]ast)(?:[\s-]+{_CLOCK_WORDS}){{1,5}}\s?[ap]\.m\."
)


#: What goes on a sentence cut too early: a piece that opens with a comma or the like
#: ("on Thurs." / ", November third"), or in lower case after a short word's stop ("built c."
#: / "twenty-five sixty BCE", "Ep." / "forty-two"): an abbreviation's stop, not the end.
_GOES_ON_RE = re.compile(r"[,;:)\]]")
_SHORT_STOP_RE = re.compile(
    r"\b(?:Str|Bn|Regt|Ave|Rd|Ln|Blvd|Hwy|Apt|Ste|Bldg|Dept|Univ|Corp|Inc|Ltd|Co|Bros|Gov|Sen|"
    r"Rep|Gen|Col|Capt|Lt|Sgt|Cpl|Pvt|Adm|Cmdr|Jr|Sr|Vol|Ch|Fig|Pt|Mt|Ft|Sq|Pl|Rev|Hon|"
    r"c|ca|cf|sp|spp|var|sq|nr|ft|yd|pt|qt|gal|lb|oz|mi|hr|hrs|min|mins|sec|secs|yr|yrs|mo|wk|"
    r"approx|esp|incl|est|fig|vol|ch)\.$"
)


def _goes_on(before: str, piece: str) -> bool:
    """Whether ``piece`` continues the sentence ``before`` (see :data:`_GOES_ON_RE`)."""
    start = piece.lstrip()
    if _GOES_ON_RE.match(start):
        return True
    return start[:1].islower() and bool(_SHORT_STOP_RE.search(before.rstrip()))


def split_sentences(text: str) -> list[str]:
    """Split normalized text into sentences with a real segmenter (pysbd).

    The segmenter only chooses where to cut: the pieces are sliced from ``text`` itself, so
    no character is ever lost or altered, whatever the segmenter does internally.
    """
    if not text.strip():
        return []
    cuts = sorted(
        {
            *_window_cuts(text),
            *(m.end() for m in _LETTER_END_RE.finditer(text)),
            *(m.end() for m in _QUOTE_TURN_RE.finditer(text)),
        }
    )
    cuts = [c for c in cuts if 0 < c < len(text)]
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    # A cut inside a word (which pysbd should never make) is undone by joining the pieces.
    out: list[str] = []
    for piece in pieces:
        if out and (
            (piece[:1].isalnum() and out[-1][-1:].isalnum())
            or _TIME_PHRASE_RE.fullmatch(out[-1].strip())
            or _goes_on(out[-1], piece)
        ):
            out[-1] += piece
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]
