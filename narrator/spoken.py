"""Written forms → the words a narrator says: abbreviations, times, dates, ordinals, numbers.

"Dr." → "Doctor", "3:45 p.m." → "three forty-five p.m.", "Jan. 5th" → "January fifth",
"1,200" → "one thousand, two hundred". Engines guess at these differently (espeak reads "St."
as "S T"), so they are spelled out once, here, the same for every engine.
"""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words

_MONTHS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "sept": "September",
    "oct": "October", "nov": "November", "dec": "December",
}  # fmt: skip
_MONTH_NAMES = {m.lower(): m for m in _MONTHS.values()}
_MONTH_RE = (
    r"(?P<month>(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?|January|February|March|"
    r"April|May|June|July|August|September|October|November|December)"
)

#: Abbreviations read in full. "St." is "Saint" before a name and "Street" after one.
_ABBREVIATIONS = {
    "Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor",
    "Jr.": "Junior", "Sr.": "Senior", "Mt.": "Mount", "vs.": "versus", "etc.": "et cetera",
    "e.g.": "for example", "i.e.": "that is", "approx.": "approximately", "Capt.": "Captain",
    "Gen.": "General", "Lt.": "Lieutenant", "Sgt.": "Sergeant", "Rev.": "Reverend",
    "Ave.": "Avenue", "Rd.": "Road",
}  # fmt: skip

_ABBREV_RE = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")(?!\w)"
)
_SAINT_RE = re.compile(r"(?<![\w.])St\.(?=\s+[A-Z])")
_STREET_RE = re.compile(r"(?<=[A-Za-z])\s+St\.(?!\w)")
_NUMBER_SIGN_RE = re.compile(r"(?<![\w.])No\.\s*(?=\d)")
_TIME_RE = re.compile(
    r"(?<![\d:])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])"
    r"(?:\s*(?P<ampm>[aApP])\.?\s?[mM]\.?(?![A-Za-z]))?"
)
_DATE_MD_RE = re.compile(_MONTH_RE + r"\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b")
_DATE_DM_RE = re.compile(
    r"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE + r"(?!\w)"
)
_ORDINAL_RE = re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b")
_CURRENCY_RE = re.compile(r"(?P<sym>[$£€])(?P<n>\d[\d,]*(?:\.\d+)?)")
_PERCENT_RE = re.compile(r"(?P<n>\d[\d,]*(?:\.\d+)?)\s?%")
_YEAR_RE = re.compile(r"(?<![\d,.])(?P<y>1[1-9]\d\d|20\d\d)(?!\d|,\d|\.\d)")
_NUMBER_RE = re.compile(r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?(?![\w])")
_CURRENCY_NAMES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
}


def _month(token: str) -> str:
    key = token.rstrip(".").lower()
    return _MONTHS.get(key[:4] if key.startswith("sept") else key[:3], _MONTH_NAMES.get(key, token))


def _cardinal(digits: str) -> str:
    return num2words(int(digits.replace(",", "")))


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match["h"]), int(match["m"])
    ampm = match["ampm"]
    suffix = f" {ampm.lower()}.m." if ampm else ""
    if minute == 0:
        return f"{num2words(hour)}{suffix}" if ampm else f"{num2words(hour)} o'clock"
    minutes = f"oh {num2words(minute)}" if minute < 10 else num2words(minute)
    return f"{num2words(hour)} {minutes}{suffix}"


def _currency(match: re.Match[str]) -> str:
    one, many, small_one, small_many = _CURRENCY_NAMES[match["sym"]]
    whole, _, cents = match["n"].replace(",", "").partition(".")
    words = f"{num2words(int(whole))} {one if int(whole) == 1 else many}"
    if cents and int(cents[:2].ljust(2, "0")):
        c = int(cents[:2].ljust(2, "0"))
        words += f" and {num2words(c)} {small_one if c == 1 else small_many}"
    return words


def _number(match: re.Match[str]) -> str:
    words = _cardinal(match["n"])
    if match["frac"]:
        words += " point " + " ".join(num2words(int(d)) for d in match["frac"][1:])
    return words


def drop_symbols(text: str) -> tuple[str, int]:
    """Remove emoji and pictographs (Unicode "So" symbols and their modifiers); count them."""
    kept: list[str] = []
    dropped = 0
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "So" or (cat == "Sk" and 0x1F3FB <= ord(ch) <= 0x1F3FF) or ch in "\u200d\ufe0f":
            dropped += cat == "So"
            continue
        kept.append(ch)
    text = "".join(kept)
    if dropped:
        text = re.sub(r"(?<=\S)\s+(?=[.,;:!?](?:\s|$))", "", text)  # "moon ✨." → "moon."
    return text, dropped


def spell_out(text: str) -> str:
    """Abbreviations, times, dates, ordinals, currency, percentages and numbers as words."""
    text = _SAINT_RE.sub("Saint", text)
    text = _STREET_RE.sub(" Street", text)
    text = _NUMBER_SIGN_RE.sub("number ", text)
    text = _ABBREV_RE.sub(lambda m: _ABBREVIATIONS[m[1]], text)
    text = _TIME_RE.sub(_time, text)
    text = _DATE_MD_RE.sub(
        lambda m: f"{_month(m['month'])} {num2words(int(m['day']), to='ordinal')}", text
    )
    text = _DATE_DM_RE.sub(
        lambda m: f"the {num2words(int(m['day']), to='ordinal')} of {_month(m['month'])}", text
    )
    text = _CURRENCY_RE.sub(_currency, text)
    text = _PERCENT_RE.sub(lambda m: f"{_number(_NUMBER_RE.match(m['n']))} percent", text)
    text = _ORDINAL_RE.sub(lambda m: num2words(int(m["n"]), to="ordinal"), text)
    # "two thousand five", as American narrators say it, not "two thousand and five".
    text = _YEAR_RE.sub(
        lambda m: num2words(int(m["y"]), to="year").replace("thousand and", "thousand"), text
    )
    text = _NUMBER_RE.sub(_number, text)
    return text.replace(" & ", " and ")
