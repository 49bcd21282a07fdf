"""Ways of writing times and numbers that the general rules of :mod:`narrator.text.spoken`
misread, rewritten before them: hours and minutes run together (``2h30``, ``1h 30m``: the
minutes were read as metres), a British time (``9.15 a.m.``: "nine point one five"), a
decimal comma (``1,5 m``: "one,five"), a range of weekdays (``Mon–Fri``: "Mon, Fri"),
of days in a month (``12–14 June``: "twelve–the fourteenth of June"; ``June 12-14``) and of
hours (``5–7 p.m.``, ``8:30am–9:15am``; ``0900-1700``: "zero nine zero zero"), a year before
1100 where the words before it say it is one (``in 1066``: "one thousand and sixty-six"), and
a verse of the Bible (``Luke 2:1-14``: "Luke two one dash fourteen").
"""

from __future__ import annotations

import re

from num2words import num2words

from narrator.text.abbreviations import SENTENCE_NEXT_RE

MONTHS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "sept": "September",
    "oct": "October", "nov": "November", "dec": "December",
}  # fmt: skip
_MONTH_NAMES = {m.lower(): m for m in MONTHS.values()}
MONTH_RE = (
    r"(?P<month>(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?|January|February|March|"
    r"April|May|June|July|August|September|October|November|December)"
)
_DAY_OF_MONTH = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_DASH = r"\s?[–-]\s?"
#: ``12–14 June``, ``12th-14th of June``; ``June 12-14``, ``Jun. 12–14th``.
_DAYS_MONTH_RE = re.compile(
    rf"(?<![\w.,:])(?:(?P<the>[Tt]he)\s+)?(?P<a>{_DAY_OF_MONTH}){_DASH}(?P<b>{_DAY_OF_MONTH})\s+(?:of\s+)?{MONTH_RE}(?!\w)"
)
_MONTH_DAYS_RE = re.compile(
    rf"\b{MONTH_RE}\s+(?P<a>{_DAY_OF_MONTH}){_DASH}(?P<b>{_DAY_OF_MONTH})(?![\w:]|[.,]\d)"
)
_AMPM = r"\s?[aApP]\.?\s?[mM]\b\.?"
#: ``5–7 p.m.``, ``8am-9am``, ``8:30am–9:15am``: a span of hours, the last with its a.m./p.m.
_HOURS_RANGE_RE = re.compile(
    rf"(?<![\w:.])(?P<a>(?:1[0-2]|0?[1-9])(?::[0-5]\d)?(?:{_AMPM})?){_DASH}"
    rf"(?P<b>(?:1[0-2]|0?[1-9])(?::[0-5]\d)?{_AMPM})"
)

#: ``$45/night``, ``3 pills/day``: so much per unit of time or per person, read "a" (a
#: "day/night rhythm" has no number: it stays).
_PER_RE = re.compile(
    r"(?P<q>(?<![\w.,])\d[\d.,]*(?:\s?[A-Za-z]+)?)\s?/\s?"
    r"(?=(?:night|day|hour|week|month|year|person|head)\b)"
)

#: Numbers said as idioms, not as fractions: "twenty-four over seven".
_IDIOMS = {"24/7": "twenty-four seven", "50/50": "fifty-fifty", "9/11": "nine eleven"}
_IDIOM_RE = re.compile(r"(?<![\w/.])(?:24/7|50/50|9/11)(?![\w/]|[.,]\d)")

#: ``3-2-1``, ``5-4-3-2-1``: a countdown, each number said with a pause ("three dash two").
_COUNTDOWN_RE = re.compile(
    r"(?<![\w.,-])(?:(?:[2-9]-){2,}1|1(?:-[2-9]){2,})(?![\w-]|[.,]\d)"  # and "easy as 1-2-3"
)
#: ``10 - 3 = 7``: a sum, "ten minus three equals seven" (a spaced hyphen is a range else).
_MINUS_RE = re.compile(r"(?<![\w.])(?P<a>\d+(?:\.\d+)?)\s?-\s?(?P<b>\d+(?:\.\d+)?)(?=\s?=)")
#: ``2100 hrs``, ``0600 hours``: a 24-hour time; ``at 2100``, ``until 0630``: one too, where
#: it can be no other (a leading zero, or an hour past twelve; not before a measure).
_HOURS_HRS_RE = re.compile(r"(?<![\w.,:])(?P<t>(?:[01]\d|2[0-3])[0-5]\d)\s?(?:hrs|hours)\b")
#: ``47°30'N``, ``8°15′20″W``: a latitude or longitude in degrees, minutes and seconds.
_COORDINATE_RE = re.compile(
    r"(?<![\w.])(?P<d>\d{1,3})°\s?(?P<m>\d{1,2}(?:\.\d+)?)['′]\s?"
    r"(?:(?P<s>\d{1,2}(?:\.\d+)?)[\"″]\s?)?(?P<dir>[NSEW])\b"
)
_COMPASS = {
    "N": "north", "S": "south", "E": "east", "W": "west", "NE": "north-east",
    "NW": "north-west", "SE": "south-east", "SW": "south-west", "NNE": "north-north-east",
    "ENE": "east-north-east", "ESE": "east-south-east", "SSE": "south-south-east",
    "SSW": "south-south-west", "WSW": "west-south-west", "WNW": "west-north-west",
    "NNW": "north-north-west",
}  # fmt: skip
#: ``225° SW``, ``the wind NW``, ``heading NNE``: a point of the compass, in words.
_COMPASS_RE = re.compile(
    r"(?:(?<=°)|(?<=° )|(?<=\b[Ww]ind )|(?<=\b[Hh]eading )|(?<=\b[Bb]earing ))"
    r"(?P<p>NNE|ENE|ESE|SSE|SSW|WSW|WNW|NNW|NE|NW|SE|SW)\b"
)
#: ``ran it in 2:03:45``: hours, minutes and seconds of a length of time, after a word that
#: says one follows (else a clock's time with its seconds, "twelve thirty forty-five").
_HMS_RE = re.compile(
    r"\b(?P<w>in|took|takes|ran|lasted|lasts|of|time|record)\s(?P<h>\d{1,2}):(?P<m>[0-5]\d)"
    r":(?P<s>[0-5]\d)(?![\w:]|[.,]\d)"
)
#: ``call 999``, ``dial 911``: a number said digit by digit.
_EMERGENCY_RE = re.compile(
    r"\b(?P<w>[Cc]all(?:ed)?|[Dd]ial(?:l?ed)?|[Rr]ing|[Pp]hone(?:d)?)\s(?P<n>999|911|112|000)\b"
    # ending the clause: "He called 999 times" is a count
    r"(?=\s*(?:[,.;:!?)]|$)|\s+(?:and|or|for|if|now|at|immediately|straight)\b)"
)
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_DAYS = {
    "mon": "Monday", "tue": "Tuesday", "tues": "Tuesday", "wed": "Wednesday",
    "thu": "Thursday", "thur": "Thursday", "thurs": "Thursday", "fri": "Friday",
    "sat": "Saturday", "sun": "Sunday", "weds": "Wednesday",
}  # fmt: skip
_DAY = r"(?:Mon|Tues?|Weds?|Thu(?:rs?)?|Fri|Sat|Sun)"
#: A day with its stop, within a sentence ("on Thurs., Nov. 3rd", "by Fri. 5 pm"): in full.
#: Not at a sentence's start, where "Sat." could be nothing else, or before an opener
#: (the stop then ends the sentence and stays).
_DAY_STOP_RE = re.compile(  # not "Sun.": "Goodnight, Sun." is the sun
    r"(?<=[\w,] )(?P<day>Mon|Tues?|Weds?|Thu(?:rs?)?|Fri|Sat)\."
)
#: ``Mon–Fri``, ``Mon.-Fri.``, ``Sat to Sun``: both ends abbreviated, so it is plainly a range.
_DAY_RANGE_RE = re.compile(
    rf"\b(?P<a>{_DAY})\.?(?:\s?[–—-]\s?|\s+(?P<word>to|through|till|until)\s+)(?P<b>{_DAY})\b"
    r"(?P<stop>\.)?"
)
_DAY_BEFORE_RE = re.compile(rf"(?:^|[^A-Za-z]){_DAY}\.?$")
_DAY_AFTER_RE = re.compile(rf"{_DAY}\b")
#: ``2h30``, ``2 h 30``, ``1h 30m``, ``1h45min``: hours, then minutes under sixty.
_HOURS_MINUTES_RE = re.compile(
    r"(?<![\w.,])(?P<h>\d+)\s?h\s?(?P<m>[0-5]?\d)(?:\s?(?:min|mins|m)\b|(?![\w,]|\.\d))"
)
#: ``9.15 a.m.``, ``7.30pm``: a British time, hours and minutes parted by a stop.
_DOTTED_TIME_RE = re.compile(
    r"(?<![\w.,])(?P<h>1[0-2]|0?\d)\.(?P<m>[0-5]\d)(?=\s?(?:[ap]\.?m\b|[AP]\.?M\b))"
)
#: What makes ``2.50`` a measure, not a time.
_MEASURES = (
    r"(?:k?m|cm|mm|kg|mg|g|lbs?|oz|ft|mi|m?l|s|h|x|p|per|percent|metres?|meters?|miles|feet|"
    r"inches|litres?|liters?|pounds|dollars|euros|degrees|times|hours|minutes|seconds|points|"
    r"acres|each|apiece)\b"
)
#: ``at 9.30``, ``until 21.00``: a time after a word that says one follows, in the British
#: way without a.m. or p.m. ("nine point three zero"); "at 2.50 metres" stays a measure.
_AT_DOTTED_TIME_RE = re.compile(
    r"\b(?P<w>[Aa]t|[Uu]ntil|[Tt]ill|[Bb]efore|[Aa]fter|[Ff]rom|[Ss]ince|[Pp]ast|[Aa]round)"
    r"\s(?P<h>[01]?\d|2[0-3])\.(?P<m>[0-5]\d)(?![\d.,]?\d)(?!\s?(?:%|°|" + _MEASURES + r"))"
)
_AT_HOURS_RE = re.compile(
    r"\b(?P<w>[Aa]t|[Uu]ntil|[Tt]ill|[Bb]efore|[Aa]fter|[Ff]rom|[Ss]ince|[Bb]y)\s"
    # 2000-2099 after "at" only: "since 2005", "until 2008" are years.
    r"(?P<t>0\d[0-5]\d|1[3-9][0-5]\d|2[1-3][0-5]\d"
    r"|(?<=[Aa]t )20[0-5]\d(?=\s*(?:[,;:!?)]|\.(?!\d)|$|hrs\b|hours\b|sharp\b)))(?![\w.,:]?\d)"
    r"(?!\s?(?:%|°|" + _MEASURES + r"|feet|foot|metres|meters|m\b|ft\b))"
)
#: ``pre-1914``, ``post-1945``: a year after a prefix (the hyphen hid it: "pre-one thousand,
#: nine hundred and fourteen"); ``2560 BCE``, ``AD 79``: a year by its era.
_PREFIXED_YEAR_RE = re.compile(
    r"\b(?P<p>[Pp]re|[Pp]ost|[Mm]id|[Ll]ate|[Ee]arly)-(?P<y>1[1-9]\d\d|20\d\d)\b(?!s)"
)
_ERA_YEAR_RE = re.compile(
    r"(?<![\w.,])(?P<y>[1-9]\d{2,3})\s?(?P<era>BCE|BC|CE|AD|B\.C\.(?:E\.)?|A\.D\.|C\.E\.)(?!\w)"
)
#: ``AD 272``: the era before the year, read as ``272 AD`` is ("two seventy-two").
_ERA_FIRST_RE = re.compile(r"(?<![\w.])(?P<era>AD|A\.D\.)\s?(?P<y>[1-9]\d{1,3})(?![\w,.]?\d)")
#: ``a ratio of 3:1``, ``odds 2:1``: "three to one", not a time or "three one".
_RATIO_RE = re.compile(r"\b(?P<w>ratios?|odds|scale)(?P<of>\s+of)?\s+(?P<a>\d+):(?P<b>\d+)\b")
#: ``9:00–17:30``, ``10:00-11:00``: a span of clock times (the dash reached the voice).
_TIME_RANGE_RE = re.compile(r"(?<![\w:])(?P<a>\d{1,2}:[0-5]\d)\s?[–-]\s?(?P<b>\d{1,2}:[0-5]\d)\b")
#: ``1,5`` and ``0,25``: a comma before one or two digits, in no list of numbers (``10,20,30``)
#: and no thousands (``1,500``), is a decimal comma.
_DECIMAL_COMMA_RE = re.compile(r"(?<![\d,.])(?P<a>\d+),(?P<b>\d{1,2})(?![\d,]|\.\d)")
#: A year from 1000 to 1099 after a word that says so (the general rules read 1100-2099 as
#: years anywhere; a count such as "1066 soldiers" stays a count), and the range it may start.
_EARLY_YEAR_RE = re.compile(
    r"\b(?P<w>[Ii]n|[Ss]ince|[Uu]ntil|[Tt]ill|[Yy]ear|[Bb]efore|[Aa]fter|[Ff]rom|[Bb]y|"
    r"[Cc]irca|[Bb]etween|AD|A\.D\.)\s+(?P<a>10\d\d)"
    r"(?:(?P<sep>\s?[–-]\s?|\s+(?:to|and|until|till)\s+)(?P<b>1[0-9]\d\d))?(?![\d,.]?\d)"
)

#: ``0900-1700``, ``0630 – 1415``: a span of 24-hour times written as four digits, one with
#: its leading zero at least (``1100-1400`` may be years, and reads the same as hours).
_HOURS_SPAN_RE = re.compile(
    r"(?<![\w.,:])(?P<a>(?:[01]\d|2[0-3])[0-5]\d)\s?[–-]\s?(?P<b>(?:[01]\d|2[0-3])[0-5]\d)"
    r"(?![\w.,:]?\d)"
)
#: Books of the Bible whose names are no first names or plain words: "Isaiah 40:31" is a verse.
_BOOKS = (
    "Genesis|Exodus|Leviticus|Deuteronomy|Chronicles|Nehemiah|Psalms?|Proverbs|Ecclesiastes|"
    "Song of Songs|Song of Solomon|Isaiah|Jeremiah|Lamentations|Ezekiel|Hosea|Obadiah|"
    "Habakkuk|Zephaniah|Haggai|Zechariah|Malachi|Corinthians|Galatians|Ephesians|"
    "Philippians|Colossians|Thessalonians|Philemon|Hebrews|Revelation"
)
#: Those that are names or words too ("Daniel 7:30 would be fine"): a verse only with its
#: book's number before it ("1 John 3:16", "II Kings 2:11") or a span of verses after it.
NAMED_BOOKS = (
    "Numbers|Joshua|Judges|Ruth|Samuel|Kings|Ezra|Esther|Job|Daniel|Joel|Amos|Jonah|Micah|"
    "Nahum|Matthew|Mark|Luke|John|Acts|Romans|Timothy|Titus|James|Peter|Jude"
)
#: ``Luke 2:1-14``, ``1 John 3:16``: a book, its chapter and verses (not after "at": "at
#: John 9:30" is no verse; not before a.m. or p.m.).
_VERSE_RE = re.compile(
    r"(?<![Aa]t )(?<![Bb]y )\b(?:(?P<nth>[123]|II|III)\s)?(?P<book>"
    + _BOOKS
    + "|"
    + NAMED_BOOKS
    + r")\s(?P<c>\d{1,3}):(?P<v>\d{1,3})(?:\s?[–-]\s?(?P<v2>\d{1,3}))?"
    r"(?![\w:]|[.,]\d|\s?[ap]\.?m\b)"
)
_NAMED_BOOK_RE = re.compile(NAMED_BOOKS)
_NTH = {"1": "First", "2": "Second", "3": "Third", "II": "Second", "III": "Third"}


def _hour_words(hhmm: str) -> str:
    """``0900`` → "zero nine hundred", ``1730`` → "seventeen thirty", as a 24-hour time."""
    hours, minutes = int(hhmm[:2]), int(hhmm[2:])
    said = ("zero " if hhmm[0] == "0" else "") + num2words(hours)
    if not minutes:
        return f"{said} hundred"
    return f"{said} {'oh ' if minutes < 10 else ''}{num2words(minutes)}"


def _hours_span(m: re.Match[str]) -> str:
    a, b = m["a"], m["b"]
    # Hours are kept on the fives and run forward: "0121-1234" is a phone number, "2023-0415"
    # a file's; "1100-1400" may be years (read the same way).
    if "0" not in (a[0], b[0]) or int(a[2:]) % 5 or int(b[2:]) % 5 or b <= a:
        return m[0]
    return f"{_hour_words(a)} to {_hour_words(b)}"


def _coordinate(m: re.Match[str]) -> str:
    said = f"{m['d']} degrees {m['m']} minutes"
    said += f" {m['s']} seconds" if m["s"] else ""
    return f"{said} {_COMPASS[m['dir']]}"


def _hms(m: re.Match[str]) -> str:
    hours, minutes, seconds = int(m["h"]), int(m["m"]), int(m["s"])
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return f"{m['w']} {', '.join(parts)} and {seconds} second{'s' if seconds != 1 else ''}"


def _verse(m: re.Match[str]) -> str:
    if _NAMED_BOOK_RE.fullmatch(m["book"]) and not (m["nth"] or m["v2"]):
        return m[0]  # "Mark 3:15 was the time the train left"
    book = f"{_NTH[m['nth']]} {m['book']}" if m["nth"] else m["book"]
    chapter, verse = num2words(int(m["c"])), num2words(int(m["v"]))
    # A psalm is numbered, not a chapter: "Psalm twenty-three, verse four".
    chapter = chapter if book.startswith("Psalm") else f"chapter {chapter}"
    if m["v2"]:
        return f"{book} {chapter}, verses {verse} to {num2words(int(m['v2']))}"
    return f"{book} {chapter}, verse {verse}"


def month_name(token: str) -> str:
    """``Jun.``, ``sept``, ``JUNE`` → "June"; anything else as it is."""
    key = token.rstrip(".").lower()
    return MONTHS.get(key[:4] if key.startswith("sept") else key[:3], _MONTH_NAMES.get(key, token))


def _ordinal(day: str) -> str:
    return num2words(int(day.rstrip("stndrh")), to="ordinal")


def year_words(year: int) -> str:
    """``1984`` → "nineteen eighty-four"; ``2005`` → "two thousand five", as American
    narrators say it, not "two thousand and five"."""
    if 1000 < year < 1010:  # "ten oh-five", as 1905 is "nineteen oh-five"
        return f"ten oh-{num2words(year - 1000)}"
    return num2words(year, to="year").replace("thousand and", "thousand")


def _day_range(m: re.Match[str]) -> str:
    # "Mon.–Fri., 9–5": the stop of the abbreviation, not of the sentence, goes.
    ends = m["stop"] and SENTENCE_NEXT_RE.match(m.string, m.end())
    said = f"{_DAYS[m['a'].lower()]} {m['word'] or 'to'} {_DAYS[m['b'].lower()]}"
    return said + ("." if ends else "")


def _day_stop(m: re.Match[str]) -> str:
    ends = SENTENCE_NEXT_RE.match(m.string, m.end())
    return _DAYS[m["day"].lower()] + ("." if ends else "")


def _hours_minutes(m: re.Match[str]) -> str:
    hours, minutes = int(m["h"]), int(m["m"])
    said = f"{m['h']} hour{'s' if hours != 1 else ''}"
    return f"{said} and {minutes} minute{'s' if minutes != 1 else ''}" if minutes else said


def _early_year(m: re.Match[str]) -> str:
    if not m["b"] and re.match(r"\s+(?:Arabian\s+)?Nights\b", m.string[m.end() :]):
        return m[0]  # "from 1001 Nights": the book, a thousand and one
    said = f"{m['w']} {year_words(int(m['a']))}"
    if m["b"]:
        sep = m["sep"].strip()
        said += f" {'to' if sep in ('–', '-') else sep} {year_words(int(m['b']))}"
    return said


def joins_days(text: str, start: int, end: int) -> bool:
    """Whether the dash at ``text[start:end]`` joins two weekdays (``Mon–Fri``): a range,
    read "to", not a pause."""
    before = text[max(0, start - 7) : start]  # a day and its stop, and what comes before
    return bool(_DAY_BEFORE_RE.search(before) and _DAY_AFTER_RE.match(text, end))


def read_conventions(text: str) -> str:
    """``text`` with the writings of the module docstring made plain for the later rules."""
    text = _DAY_RANGE_RE.sub(_day_range, text)
    text = _DAY_STOP_RE.sub(_day_stop, text)
    if not any(c.isdigit() for c in text):
        return text
    text = _DAYS_MONTH_RE.sub(
        lambda m: (
            f"{m['the'] or 'the'} {_ordinal(m['a'])} to the {_ordinal(m['b'])} of "
            f"{month_name(m['month'])}"
        ),
        text,
    )
    text = _MONTH_DAYS_RE.sub(
        lambda m: f"{month_name(m['month'])} {_ordinal(m['a'])} to {_ordinal(m['b'])}", text
    )
    text = _HOURS_RANGE_RE.sub(r"\g<a> to \g<b>", text)
    text = _COUNTDOWN_RE.sub(lambda m: ", ".join(m[0].split("-")), text)
    text = _MINUS_RE.sub(r"\g<a> minus \g<b>", text)
    text = _HOURS_HRS_RE.sub(lambda m: f"{_hour_words(m['t'])} hours", text)
    text = _AT_HOURS_RE.sub(lambda m: f"{m['w']} {_hour_words(m['t'])}", text)
    text = _COORDINATE_RE.sub(_coordinate, text)
    text = _COMPASS_RE.sub(lambda m: _COMPASS[m["p"]], text)
    text = _HMS_RE.sub(_hms, text)
    text = _EMERGENCY_RE.sub(
        lambda m: f"{m['w']} {' '.join(_DIGITS[int(d)] for d in m['n'])}", text
    )
    text = _IDIOM_RE.sub(lambda m: _IDIOMS[m[0]], text)
    text = _PER_RE.sub(
        lambda m: f"{m['q']} {'an' if m.string.startswith('hour', m.end()) else 'a'} ", text
    )
    text = _PREFIXED_YEAR_RE.sub(lambda m: f"{m['p']}-{year_words(int(m['y']))}", text)
    text = _ERA_YEAR_RE.sub(lambda m: f"{year_words(int(m['y']))} {m['era']}", text)
    text = _ERA_FIRST_RE.sub(lambda m: f"{m['era']} {year_words(int(m['y']))}", text)
    text = _RATIO_RE.sub(lambda m: f"{m['w']}{m['of'] or ''} {m['a']} to {m['b']}", text)
    text = _HOURS_MINUTES_RE.sub(_hours_minutes, text)
    text = _DOTTED_TIME_RE.sub(r"\g<h>:\g<m>", text)
    text = _AT_DOTTED_TIME_RE.sub(r"\g<w> \g<h>:\g<m>", text)
    text = _TIME_RANGE_RE.sub(r"\g<a> to \g<b>", text)
    text = _HOURS_SPAN_RE.sub(_hours_span, text)
    text = _VERSE_RE.sub(_verse, text)
    text = _DECIMAL_COMMA_RE.sub(r"\g<a>.\g<b>", text)
    return _EARLY_YEAR_RE.sub(_early_year, text)


__all__ = ["MONTHS", "MONTH_RE", "joins_days", "month_name", "read_conventions", "year_words"]
