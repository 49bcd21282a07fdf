"""Emoji and pictographs: not spoken, but counted for the warning that says they went."""

from __future__ import annotations

import re
import unicodedata

#: Skin tones: modifiers of the emoji before them.
_SKIN_TONES = range(0x1F3FB, 0x1F400)
#: Regional indicators: two of them are one flag (🇫🇷).
_REGIONAL = range(0x1F1E6, 0x1F200)
_JOINER, _VARIATION = "\u200d", "\ufe0f"


def drop_symbols(text: str) -> tuple[str, int]:
    """Remove emoji and pictographs (Unicode "So" symbols and their modifiers); count them as
    a reader sees them: a family joined by zero-width joiners (👨‍👩‍👧) or a flag is one.

    Symbols that are read as words (°, ℃, ℉, №) are kept for
    :func:`narrator.text.spoken.spell_out`.
    """
    kept: list[str] = []
    dropped = 0
    joined = False  # the symbol before was joined to this one
    flag_half = False  # a regional indicator waits for its pair
    gap = False  # a symbol was dropped since the last character kept
    for ch in text:
        cat, code = unicodedata.category(ch), ord(ch)
        if ch in "°℃℉№":
            kept.append(ch)
            continue
        if ch == _JOINER:
            joined = True
            continue
        if ch == _VARIATION or (cat == "Sk" and code in _SKIN_TONES):
            continue
        if cat == "So":
            if code in _REGIONAL:
                dropped += not flag_half
                flag_half = not flag_half
            else:
                dropped += not joined
                flag_half = False
            joined = False
            gap = True
            continue
        joined = flag_half = False
        if gap and kept and not kept[-1].isspace() and (ch.isalnum() or ch in "\"'‘“("):
            kept.append(" ")  # "night🌙sleep" is two words, not "nightsleep"
        gap = False
        kept.append(ch)
    text = "".join(kept)
    if dropped:
        text = re.sub(r"(?<=\S)\s+(?=[.,;:!?](?:\s|$))", "", text)  # "moon ✨." → "moon."
    return text, dropped
