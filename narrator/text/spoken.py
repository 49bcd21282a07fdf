"""Written forms → the words a narrator says: abbreviations, times, dates, ordinals, numbers.

"Dr." → "Doctor", "3:45 p.m." → "three forty-five p.m.", "Jan. 5th" → "January fifth",
"1,200" → "one thousand, two hundred". Engines guess at these differently (espeak reads "St."
as "S T", piper reads "10^30" as "ten^thirty"), so they are spelled out once, here, the same for
every engine.

The rules run from the most specific form to the most general, each turning what it matches into
words (never digits), and a last rule reads any digit still left, so no digit ever reaches the
engine whatever the text:

- numerals of any script and typography first: ``²`` is a power, ``₂`` a plain digit, ``½`` a
  fraction, ``３`` and ``٣`` are 3, ``−`` a minus;
- phone numbers (``555-0123``, ``+1 (555) 012-3456``) digit by digit, in their groups;
- dates in numbers only when they are real dates: ``2025-01-06`` is "January sixth, twenty
  twenty-five"; ``06/01/2025`` reads month first ("June first") unless the story's ``language``
  writes the day first (any language tag but ``en`` and ``en-US``: ``en-GB``, ``fr``, …), and a
  slash date that only one way makes sense (``31/01/2025``) reads that way; ``06.01.2025`` is
  always day first.
  An impossible date (``31/02/2025``, ``2025-13-45``) is read as the numbers written, never as a
  date;
- clock times only when they are real times (``25:30`` is "twenty-five thirty", no "o'clock");
- signs, operators, scientific notation and powers, currency, percentages, temperatures, units,
  fractions, versions, ranges (``1990–1995``, ``5-10``, ``2 - 3``: "to"), ordinals, plurals
  ("1990s"), then plain numbers;
- whatever digits are left, glued to letters or joined by marks, as they stand: ``MP3`` is "MP
  three", ``31/02/2025`` "thirty-one slash zero two slash …";
- numbers longer than :data:`MAX_NUMBER_DIGITS` digits are read digit by digit in groups of
  three: nobody can follow "four duodecillion, …" by ear.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction
from functools import lru_cache

from num2words import num2words

from narrator.text.abbreviations import OPENER_NEXT, SENTENCE_NEXT_RE, read_abbreviations
from narrator.text.conventions import MONTH_RE, MONTHS, month_name, read_conventions, year_words
from narrator.text.marks import read_marks
from narrator.text.quantities import SCALES, read_quantities
from narrator.text.roman import read_roman_numerals
from narrator.text.units import UNITS

#: Whole numbers up to this many digits are read as numbers; longer ones in groups of three.
MAX_NUMBER_DIGITS = 15

_MONTH_LIST = list(dict.fromkeys(MONTHS.values()))  # January … December


_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: A number as written: 1,200 or 1200, with an optional decimal part; or .5.
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
#: Nothing numeric may touch a number on its left (a letter, digit, point or joiner).
_LEFT = r"(?<![\w.,\-–/:^])"
#: … nor on its right, unless the mark is not followed by a digit ("5-year-old", "5.").
_RIGHT = r"(?!\w|[\-–/:^.,]\d)"

#: A web address: read as its site ("example dot org"), not letter by letter, path and all.
#: The address runs to the next space; the sentence's marks after it are put back, stripped
#: off its end (a lazy match looking ahead past every mark took 30 s on 50,000 dots).
_URL_RE = re.compile(r"\b(?:https?://|www\.)(?:www\.)?(?P<host>[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})"
                     r"(?P<rest>[^\s<>\"]*)")  # fmt: skip
#: Feet and inches: 6'2" (or with primes, 6′2″); "6'" alone is left as written.
_FEET_INCHES_RE = re.compile(
    r"(?<![\w.])(?P<ft>\d{1,2})\s?['′]\s?(?P<inch>\d{1,2})\s?(?:\"|″|'')(?![\w'′])"
)

# Phone numbers: +country groups, (area) exchange-line, area-exchange-line, and a bare
# exchange-line whose exchange starts with 2-9 (the North American numbering plan's rule, which
# keeps "100-1000" a range).
_PHONE_RE = re.compile(
    r"(?<![\w.\-+/(])(?:"
    r"(?P<intl>\+\d{1,3}(?:\s?\(\d{1,4}\)|(?:(?<=\))\s?|[ .\-])\d{2,4}(?!\d)){2,5})"
    r"|(?P<nanp>(?:\(\d{3}\)\s?|\d{3}[.\-])\d{3}[.\-]\d{4})"
    r"|(?P<local>[2-9]\d{2}-\d{4})"
    # A trunk 0 and groups (UK 020 7946 0958, 0131 496 0000), a North American number in
    # spaced groups (555 123 4567).
    r"|(?P<trunk>0\d{2,4}(?: \d{3,6}){1,2})|(?P<spaced>[2-9]\d{2} \d{3} \d{4})"
    r")(?![\w\-/]|[.,]\d| \d)"
)
_ISO_DATE_RE = re.compile(_LEFT + r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})" + _RIGHT)
_SLASH_DATE_RE = re.compile(_LEFT + r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})" + _RIGHT)
_DOT_DATE_RE = re.compile(_LEFT + r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})" + _RIGHT)
_DATE_MD_RE = re.compile(MONTH_RE + r"\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b")
_DATE_DM_RE = re.compile(
    r"(?:\b(?P<the>[Tt]he)\s+)?\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + MONTH_RE
    + r"(?!\w)"
)
_TIME_RE = re.compile(
    r"(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])"
    r"(?:\s*(?P<ampm>[aApP])\.?\s?[mM]\.?(?![A-Za-z]))?"
)
_HOUR_AMPM_RE = re.compile(
    r"(?<![\w.:])(?P<h>1[0-2]|0?[1-9])\s?(?P<ampm>[aApP])(?:\.[mM]\.|[mM]\.?)(?![A-Za-z])"
)
_SIGN_RE = re.compile(r"(?<![\w.,)\]}%°^+\-])(?P<sign>[-+±])(?=[$£€¥₹]?\.?\d)")
#: "2 - 3 hours": a spaced hyphen between numbers is a range, as it nearly always is in prose.
_SPACED_HYPHEN_RE = re.compile(r"(?<=\d)\s+-\s+(?=[\d.])")
_OPERATOR_RE = re.compile(r"(?<=[\d)])\s*(?P<op>[+×*÷=])\s*(?=[-+]?\(?[\d.])")
_SIGNS = {"-": "minus ", "+": "plus ", "±": "plus or minus "}
_OPERATORS = {"+": " plus ", "×": " times ", "*": " times ", "÷": " divided by ", "=": " equals "}
_BY_RE = re.compile(r"(?<=\d)\s?[xX]\s?(?=\d)")
_SCIENTIFIC_RE = re.compile(_LEFT + r"(?P<m>\d+(?:\.\d+)?)[eE](?P<exp>[-+]?\d+)" + r"(?!\w|[.,]\d)")
_POWER_RE = re.compile(
    r"(?<=[\w)])\s?\^\s?(?:(?P<exp>[-+]?(?:" + _NUM + r"))(?!\w|\.\d)|(?P<var>[A-Za-z])\b"
    r"|(?=\())"
)
_CURRENCY_SYMBOLS = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
#: Dollars named by their country: "US$200" is "two hundred US dollars".
_DOLLAR_COUNTRIES = {"US": "US", "CA": "Canadian", "C": "Canadian", "AU": "Australian",
                     "A": "Australian", "NZ": "New Zealand", "HK": "Hong Kong",
                     "S": "Singapore"}  # fmt: skip
_CURRENCY_RE = re.compile(
    r"(?<![\w.])(?:(?P<cc>US|CA|AU|NZ|HK|[CAS])(?=\$))?(?P<sym>[$£€¥₹])\s?(?P<n>" + _NUM + r")"
    r"(?:(?P<abbr1>k|K|mn|m|M|bn|B)?\s?[-–]\s?[$£€¥₹]?(?P<n2>" + _NUM + r"))?"
    r"(?:\s(?P<word>thousand|million|billion|trillion)|(?P<abbr>k|K|mn|m|M|bn|B))?"
    r"(?![\w\-–^]|/\d|[.,]\d)"
)
_CURRENCY_AFTER_RE = re.compile(
    _LEFT + r"(?P<n>" + _NUM + r")(?:[-–](?P<n2>" + _NUM + r"))?\s?(?P<sym>[€£¢])"
)
_PERCENT_RE = re.compile(
    _LEFT + r"(?P<n>" + _NUM + r")(?:[-–](?P<n2>" + _NUM + r"))?\s?(?P<sym>%|‰)"
)
_DEGREE_RE = re.compile(
    _LEFT + r"(?P<n>" + _NUM + r")(?:[-–](?P<n2>" + _NUM + r"))?\s?"
    r"(?:°(?:\s?(?P<scale>[CFK](?![A-Za-z])))?|(?P<sign>[℃℉]))"
)
#: "in 1985 L. Ron Hubbard": a letter with its stop before a name is an initial.
_INITIAL_NEXT_RE = re.compile(rf"\.(?!{OPENER_NEXT})\s+[A-Z]")
_LAUGH_NEXT_RE = re.compile(r"[\s,!]*(?:ha|he|hah)\b|!", re.IGNORECASE)
#: A measure's word after "30 m": "a cliff 30 m high" is meters, whatever "5 m" is alone.
_MEASURE_NEXT_RE = re.compile(
    r"\s+(?:high|tall|long|wide|deep|thick|away|above|below|beneath|across|offshore|inland"
    r"|ahead|behind|down|up|further|farther|apart|square|in (?:height|length|width|depth))\b"
)
_UNIT_RE = re.compile(
    _LEFT
    + r"(?P<n>"
    + _NUM
    + r")(?:[-–](?P<n2>"
    + _NUM
    + r"))?(?P<space>\s?)(?P<unit>"
    + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    + r")(?:\^(?P<power>[23]))?(?![\w/^])"
    # "5 ft. tall": the unit's full stop, where the sentence goes on, is not a sentence's end.
    + r"(?:\.(?=\s+[a-z0-9]))?"
)
_FRACTION_NAMES = {
    2: ("half", "halves"), 3: ("third", "thirds"), 4: ("quarter", "quarters"),
    5: ("fifth", "fifths"), 6: ("sixth", "sixths"), 7: ("seventh", "sevenths"),
    8: ("eighth", "eighths"), 9: ("ninth", "ninths"), 10: ("tenth", "tenths"),
}  # fmt: skip
_MIXED_RE = re.compile(_LEFT + r"(?P<w>\d{1,3}) (?P<a>\d)/(?P<b>\d{1,2})" + _RIGHT)
_FRACTION_RE = re.compile(_LEFT + r"(?P<a>\d+)/(?P<b>\d+)" + _RIGHT)
_VERSION_RE = re.compile(
    r"(?<![\w.])(?:[vV](?P<v>\d+(?:\.\d+)+)|(?P<dots>\d+(?:\.\d+){2,}))(?!\w|\.\d)"
)
_RANGE_RE = re.compile(_LEFT + r"(?P<a>" + _NUM + r")(?:\s?–\s?|-)(?P<b>" + _NUM + r")" + _RIGHT)
_ORDINAL_RE = re.compile(r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b")
_PLURAL_RE = re.compile(r"(?<![\w.])['’]?(?P<n>\d+)['’]?s\b")  # "the 80's": the eighties
_NUMBER_RE = re.compile(_LEFT + r"(?P<n>" + _NUM + r")" + _RIGHT)
_LEFTOVER_RE = re.compile(r"\d+(?:[/:.\-]\d+)*")
_LEFTOVER_SEPARATORS = {"/": " slash ", ":": " ", ".": " point ", "-": " dash "}

_SUPERSCRIPT_RE = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_FOOTNOTE_BEFORE = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}$")
_VULGAR_RE = re.compile("[\u00bc-\u00be\u2150-\u215e\u2189]")
_DASHES_AS_MINUS = str.maketrans("\u2212\u2010\u2011\u2012\u2044", "----/")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


# --- Reading numbers ------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _cardinal(n: int) -> str:
    return num2words(n)


def _digit_words(digits: str) -> str:
    """ "0123" → "zero one two three"."""
    return " ".join(_DIGIT_NAMES[int(d)] for d in digits)


def _digit_groups(digits: str) -> str:
    """A long digit string read in groups of three from the right, as thousands are written,
    with a comma (a breath) between groups: "1234567" → "one, two three four, five six seven"."""
    head = len(digits) % 3 or 3
    groups = [digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))]
    return ", ".join(_digit_words(g) for g in groups)


# "two thousand five", as American narrators say it, not "two thousand and five".
_year = year_words


def _integer(written: str, *, year: bool = False) -> str:
    """A whole number as written ("1,200", "007", "1984"); ``year``: 1100-2099 read as years."""
    digits = written.replace(",", "")
    if len(digits) > 1 and digits[0] == "0":
        return _digit_words(digits)
    if len(digits) > MAX_NUMBER_DIGITS:
        return _digit_groups(digits)
    n = int(digits)
    if year and "," not in written and len(digits) == 4 and 1100 <= n <= 2099:
        return _year(n)
    return _cardinal(n)


def _number(written: str, *, year: bool = False) -> str:
    """A number as written, with commas and a decimal part: "3.14" → "three point one four"."""
    whole, point, frac = written.partition(".")
    words = _integer(whole, year=year and not point) if whole else ""
    if point:
        words = f"{words} point {_digit_words(frac)}".strip()
    return words


def _ordinal(digits: str) -> str:
    if len(digits) > MAX_NUMBER_DIGITS or (len(digits) > 1 and digits[0] == "0"):
        head, last = _digit_words(digits[:-1]), num2words(int(digits[-1]), to="ordinal")
        return f"{head} {last}"
    return num2words(int(digits), to="ordinal")


def _plural(words: str) -> str:
    """ "nineteen ninety" → "nineteen nineties", "six" → "sixes"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def _is_one(written: str) -> bool:
    return written == "1"


# --- Numerals of any script and typography --------------------------------------------------


def _fold_numerals(text: str) -> str:
    """Numerals of any script and typographic number forms → ASCII digits and marks.

    Superscripts after a number, a letter or two, or ``)`` are powers (``x²`` → ``x^2``); after
    a longer word they are footnote marks, read as plain numbers. Subscripts are plain digits
    (``H₂O`` → ``H2O``); vulgar fractions are ``a/b`` (``2½`` → ``2 1/2``); other digits and
    numeric symbols (``３``, ``٣``, ``①``, ``Ⅻ``) become what they stand for.
    """
    if text.isascii():
        return text
    text = text.translate(_DASHES_AS_MINUS)

    def superscript(m: re.Match[str]) -> str:
        plain = m[0].translate(_SUPERSCRIPT_DIGITS)
        if not any(c.isdigit() for c in plain):
            return m[0]
        before = m.string[max(0, m.start() - 40) : m.start()]
        if not before or not (before[-1].isalnum() or before[-1] == ")"):
            return f" {plain}"
        if _FOOTNOTE_BEFORE.search(before):
            return f" {plain}"
        return f"^{plain}"

    text = _SUPERSCRIPT_RE.sub(superscript, text)

    def vulgar(m: re.Match[str]) -> str:
        plain = unicodedata.normalize("NFKC", m[0]).replace("\u2044", "/")
        before = m.string[m.start() - 1 : m.start()]
        return f" {plain}" if before.isdigit() else plain

    text = _VULGAR_RE.sub(vulgar, text)
    return _NON_ASCII_RE.sub(_numeral, text)


def _numeral(m: re.Match[str]) -> str:
    ch = m[0]
    category = unicodedata.category(ch)
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category not in ("No", "Nl"):
        return ch
    folded = unicodedata.normalize("NFKC", ch)
    if folded.isascii() and folded.strip():
        return folded
    value = Fraction(unicodedata.numeric(ch)).limit_denominator(1000)
    return str(value) if value.denominator == 1 else f" {value}"


# --- The forms ------------------------------------------------------------------------------


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)


def _date_words(year: int, month: int, day: int) -> str:
    return f"{_MONTH_LIST[month - 1]} {num2words(day, to='ordinal')}, {_year(year)}"


def _iso_date(m: re.Match[str]) -> str:
    year, month, day = int(m["y"]), int(m["m"]), int(m["d"])
    return _date_words(year, month, day) if _valid_date(year, month, day) else m[0]


def _dot_date(m: re.Match[str]) -> str:
    year, month, day = int(m["y"]), int(m["m"]), int(m["d"])
    return _date_words(year, month, day) if _valid_date(year, month, day) else m[0]


def _slash_date(m: re.Match[str], *, day_first: bool) -> str:
    a, b, year = int(m["a"]), int(m["b"]), int(m["y"])
    if len(m["y"]) == 2:  # "4/3/24": 2024, "5/6/87": 1987 (the pivot most software uses)
        year += 2000 if year < 50 else 1900
    month_first_ok = _valid_date(year, a, b)
    day_first_ok = _valid_date(year, b, a)
    if month_first_ok and (not day_first_ok or not day_first):
        return _date_words(year, a, b)
    if day_first_ok:
        return _date_words(year, b, a)
    return m[0]


def _phone(m: re.Match[str]) -> str:
    written = m[0]
    words = []
    if written.startswith("+"):
        words.append("plus " + _digit_words(re.match(r"\+(\d+)", written)[1]))
        written = written[len(re.match(r"\+\d+", written)[0]) :]
    words += [_digit_words(group) for group in re.findall(r"\d+", written)]
    return ", ".join(words)


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match["h"]), int(match["m"])
    ampm = match["ampm"]
    suffix = f" {ampm.lower()}.m." if ampm else ""
    if minute == 0 and not ampm and (hour == 0 or hour > 12):
        # A 24-hour clock's hour: "twenty-one hundred" (not "twenty-one o'clock").
        return "midnight" if hour == 0 else f"{num2words(hour)} hundred"
    if minute == 0:
        return f"{num2words(hour)}{suffix}" if ampm else f"{num2words(hour)} o'clock"
    minutes = f"oh {num2words(minute)}" if minute < 10 else num2words(minute)
    return f"{num2words(hour)} {minutes}{suffix}"


def _scientific(m: re.Match[str]) -> str:
    return f"{_number(m['m'])} times ten {_power_words(m['exp'])}"


def _power_words(exp: str) -> str:
    sign = {"-": "minus ", "+": "plus "}.get(exp[:1], "")
    magnitude = exp.lstrip("+-")
    if not sign and magnitude in ("2", "3"):
        return "squared" if magnitude == "2" else "cubed"
    return f"to the power of {sign}{_number(magnitude)}"


def _power(m: re.Match[str]) -> str:
    if m["exp"]:
        return f" {_power_words(m['exp'])}"
    if m["var"]:
        return f" to the power of {m['var']}"
    return " to the power of "


def _range_or(n: str, n2: str | None) -> str:
    return f"{_number(n)} to {_number(n2)}" if n2 else _number(n)


def _currency(m: re.Match[str]) -> str:
    one, many, small_one, small_many = _CURRENCY_SYMBOLS[m["sym"]]
    if m["cc"]:
        one, many = (f"{_DOLLAR_COUNTRIES[m['cc']]} {unit}" for unit in (one, many))
    scale = m["word"] or SCALES.get(m["abbr"] or m["abbr1"] or "", "")  # "$5k-$10k"
    if scale:
        return f"{_range_or(m['n'], m['n2'])} {scale} {many}"
    if m["n2"]:
        return f"{_range_or(m['n'], m['n2'])} {many}"
    whole, _, cents = m["n"].partition(".")
    if cents and (len(cents) > 2 or not small_one):
        return f"{_number(m['n'])} {many}"
    words = f"{_integer(whole or '0')} {one if _is_one(whole) else many}"
    c = int(cents.ljust(2, "0")) if cents else 0
    if not c:
        return words
    small = f"{_cardinal(c)} {small_one if c == 1 else small_many}"
    return small if not whole.strip("0,") else f"{words} and {small}"


def _currency_after(m: re.Match[str]) -> str:
    one, many = ("cent", "cents") if m["sym"] == "¢" else _CURRENCY_SYMBOLS[m["sym"]][:2]
    return f"{_range_or(m['n'], m['n2'])} {one if _is_one(m['n']) and not m['n2'] else many}"


def _percent(m: re.Match[str]) -> str:
    return f"{_range_or(m['n'], m['n2'])} {'percent' if m['sym'] == '%' else 'per mille'}"


def _degrees(m: re.Match[str]) -> str:
    scale = m["scale"] or {"℃": "C", "℉": "F"}.get(m["sign"] or "", "")
    unit = "degree" if _is_one(m["n"]) and not m["n2"] else "degrees"
    name = {"C": " Celsius", "F": " Fahrenheit", "K": " Kelvin", "": ""}[scale]
    if scale == "K":
        unit = "kelvin"
        name = ""
    glued = m.string[m.end() : m.end() + 1].isalpha()  # "5°N": five degrees N
    return f"{_range_or(m['n'], m['n2'])} {unit}{name}" + (" " if glued else "")


def _unit(m: re.Match[str]) -> str:
    unit = m["unit"]
    if unit == "ha" and _LAUGH_NEXT_RE.match(m.string, m.end()):
        return m[0]  # "I got 3 ha ha" is a laugh
    # "175 g butter", "2 L water": grams and litres, spaced or not; "5 m" only before a
    # measure's word ("30 m high"), since it may be minutes or a million.
    rest = m.string[m.end() : m.end() + 2]
    if unit == "in." and not re.match(r"\s[a-z]", rest):
        return m[0]  # "drop 2 in. Then stir": the word in, and the sentence's end
    if len(unit) == 1 and rest[:1] in ("-", "'", "’"):
        return m[0]  # "3 L-shaped rooms", "the 5 g's"
    measured = (unit in ("g", "L") and not _INITIAL_NEXT_RE.match(m.string, m.end())) or (
        unit == "m" and _MEASURE_NEXT_RE.match(m.string, m.end())
    )
    if m["space"] and len(unit) == 1 and not m["power"] and not measured:
        return m[0]  # "5 m" may be minutes, meters or a million: left to be read as written
    one, many = UNITS[unit]
    name = one if _is_one(m["n"]) and not m["n2"] else many
    if m["power"] and "/" in unit:  # m/s²: the power is the second's, "per second squared"
        name = f"{name} {'squared' if m['power'] == '2' else 'cubed'}"
    elif m["power"]:
        name = f"{'square' if m['power'] == '2' else 'cubic'} {name}"
    return f"{_range_or(m['n'], m['n2'])} {name}"


def _web_address(m: re.Match[str]) -> str:
    """``https://Example.org/a?b=1,`` → ``example dot org,``: the site, and the marks after."""
    rest = m["rest"]
    return m["host"].lower().replace(".", " dot ") + rest[len(rest.rstrip(".,;:!?)]")) :]


def _feet_inches(m: re.Match[str]) -> str:
    """6'2" → "six foot two", as a height is said."""
    return f"{_cardinal(int(m['ft']))} foot {_cardinal(int(m['inch']))}"


def _fraction_words(a: int, b: int) -> str | None:
    """Proper fractions with a denominator up to ten: "three quarters"; else None."""
    if b not in _FRACTION_NAMES or not 0 < a < b:
        return None
    one, many = _FRACTION_NAMES[b]
    return f"{_cardinal(a)} {one if a == 1 else many}"


def _mixed(m: re.Match[str]) -> str:
    a, b = int(m["a"]), int(m["b"])
    words = _fraction_words(a, b)
    if words is None:
        return m[0]
    part = ("a " + words.split(" ", 1)[1]) if a == 1 else words
    return f"{_integer(m['w'])} and {part}"


def _fraction(m: re.Match[str]) -> str:
    if len(m["a"]) <= 2 and len(m["b"]) <= 2:
        words = _fraction_words(int(m["a"]), int(m["b"]))
        if words is not None:
            return words
    return f"{_integer(m['a'])} over {_integer(m['b'])}"


def _version(m: re.Match[str]) -> str:
    groups = (m["v"] or m["dots"]).split(".")
    words = " point ".join(_integer(g) for g in groups)
    return f"version {words}" if m["v"] else words


def _range(m: re.Match[str]) -> str:
    a, b = m["a"], m["b"]
    if len(b) > 1 and b[0] == "0" and "." not in b:
        return m[0]  # "2025-01" is not a range: left to be read as the numbers written
    return f"{_number(a, year=True)} to {_number(b, year=True)}"


def _plural_number(m: re.Match[str]) -> str:
    # "the 80's" is the eighties; "Route 40's old bridge" is the route's.
    if m[0][-2] in "'’" and not _DECADE_BEFORE_RE.search(m.string, 0, m.start()):
        return m[0]
    return _plural(_integer(m["n"], year=True))


_DECADE_BEFORE_RE = re.compile(r"(?:\b(?:the|The|early|late|mid|of|in)\s+|^|['’])$")


def _leftover(m: re.Match[str]) -> str:
    """Any digits still left, glued to letters or joined by marks: read as they stand."""
    parts = re.split(r"([/:.\-])", m[0])
    words = "".join(
        _LEFTOVER_SEPARATORS[p] if p in _LEFTOVER_SEPARATORS else _integer(p) for p in parts
    )
    text = m.string
    before = text[m.start() - 1 : m.start()]
    after = text[m.end() : m.end() + 1]
    return (" " if before.isalpha() else "") + words + (" " if after.isalnum() else "")


def _month_stop(m: re.Match[str]) -> str:
    """The stop of a month written short ("the 21st Feb. I read it") where it also ends
    the sentence: kept, or the next sentence ran into the date."""
    return "." if m["month"].endswith(".") and SENTENCE_NEXT_RE.match(m.string, m.end()) else ""


def spell_out(text: str, *, day_first: bool = False) -> str:
    """Abbreviations, times, dates, numbers (Roman ones where plainly numbers: see
    :mod:`narrator.text.roman`) and their symbols as words; no digit is left. ``day_first``:
    an ambiguous slash date (``06/01/2025``) is the 6th of January, not June 1st."""
    text = read_marks(_URL_RE.sub(_web_address, text))
    text = read_quantities(read_conventions(text))
    text = read_roman_numerals(_fold_numerals(text))
    text = read_abbreviations(text)
    if not any(c.isdigit() for c in text):
        return text.replace(" & ", " and ")
    text = _FEET_INCHES_RE.sub(_feet_inches, text)
    text = _PHONE_RE.sub(_phone, text)
    text = _ISO_DATE_RE.sub(_iso_date, text)
    text = _SLASH_DATE_RE.sub(lambda m: _slash_date(m, day_first=day_first), text)
    text = _DOT_DATE_RE.sub(_dot_date, text)
    text = _DATE_MD_RE.sub(
        lambda m: f"{month_name(m['month'])} {num2words(int(m['day']), to='ordinal')}", text
    )
    text = _DATE_DM_RE.sub(
        lambda m: (
            f"{m['the'] or 'the'} {num2words(int(m['day']), to='ordinal')} of "
            f"{month_name(m['month'])}{_month_stop(m)}"
        ),
        text,
    )
    text = _TIME_RE.sub(_time, text)
    text = _HOUR_AMPM_RE.sub(lambda m: f"{_cardinal(int(m['h']))} {m['ampm'].lower()}.m.", text)
    text = _SPACED_HYPHEN_RE.sub(" – ", text)
    text = _OPERATOR_RE.sub(lambda m: _OPERATORS[m["op"]], text)
    text = _BY_RE.sub(" by ", text)
    text = _SIGN_RE.sub(lambda m: _SIGNS[m["sign"]], text)
    text = _SCIENTIFIC_RE.sub(_scientific, text)
    text = _CURRENCY_RE.sub(_currency, text)
    text = _CURRENCY_AFTER_RE.sub(_currency_after, text)
    text = _PERCENT_RE.sub(_percent, text)
    text = _DEGREE_RE.sub(_degrees, text)
    text = _UNIT_RE.sub(_unit, text)
    text = _POWER_RE.sub(_power, text)
    text = _MIXED_RE.sub(_mixed, text)
    text = _FRACTION_RE.sub(_fraction, text)
    text = _VERSION_RE.sub(_version, text)
    text = _RANGE_RE.sub(_range, text)
    text = _ORDINAL_RE.sub(lambda m: _ordinal(m["n"].replace(",", "")), text)
    text = _PLURAL_RE.sub(_plural_number, text)
    text = _NUMBER_RE.sub(lambda m: _number(m["n"], year=True), text)
    text = _LEFTOVER_RE.sub(_leftover, text)
    return text.replace(" & ", " and ")
