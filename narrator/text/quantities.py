"""Amounts written in ways the general rules of :mod:`narrator.text.spoken` misread, rewritten
before them: a fraction of a measure (``1/2 tsp``: "one half tsp", now "half a teaspoon"), a
price that describes a thing (``a £10 voucher``: "a ten pounds voucher", now "a ten-pound
voucher"), a price with its symbol after and its cents (``3,50 €``: "three point five zero
euros"), thousands written with a k (``1.2k``: "one point two k"), a ratio (``Mix 2:1``: "two
one"; ``16:9``) and seconds written with an s (``2s faster``: "twos faster").
"""

from __future__ import annotations

import re

from num2words import num2words

from narrator.text.conventions import NAMED_BOOKS
from narrator.text.units import UNITS

_FRACTION_NAMES = {
    2: ("half", "halves"), 3: ("third", "thirds"), 4: ("quarter", "quarters"),
    5: ("fifth", "fifths"), 8: ("eighth", "eighths"), 10: ("tenth", "tenths"),
}  # fmt: skip
#: What a fraction is commonly of, by the word's singular; abbreviations by :data:`UNITS`.
_MEASURES = (
    "cup|hour|mile|minute|second|day|week|month|year|dozen|pint|gallon|quart|teaspoon|"
    "tablespoon|teaspoonful|tablespoonful|spoonful|inch|yard|pound|ounce|liter|litre|meter|"
    "metre|kilo|kilogram|kilometer|kilometre|gram|acre|glass|mug|bottle|stick|lemon|lime|jar|"
    "can|tin|bag|box|bucket|loaf|century"
)
_SHORT_MEASURES = ("tsp", "tbsp", "oz", "lb", "lbs", "kg", "km", "mi", "ml", "mL", "hr",
                   "hrs", "min", "mins", "cm", "mm", "ft", "mg")  # fmt: skip
_FRACTION_MEASURE_RE = re.compile(
    r"(?<![\w.,/])(?<!\d )(?:(?P<w>\d{1,3}) )?(?P<a>\d)/(?P<b>\d{1,2})(?P<sep>\s?|-)"
    r"(?:(?P<word>" + _MEASURES + r"|centur|foot|feet|loave)(?P<plural>ies|es|s)?\b"
    r"|(?P<short>" + "|".join(_SHORT_MEASURES) + r")(?:\.(?=\s+[a-z]))?(?![\w/^]))"
)
_IRREGULAR = {"feet": "foot", "centur": "century", "loave": "loaf"}
#: Measures of stuff, which the stuff follows: "1/3 cup sugar" is a third of a cup of sugar.
_OF_MEASURES = frozenset({
    "cup", "teaspoon", "tablespoon", "teaspoonful", "tablespoonful", "spoonful", "pint", "gallon",
    "quart", "liter", "litre", "pound", "ounce", "gram", "kilo", "kilogram", "glass", "mug",
    "bottle", "jar", "can", "tin", "bag", "box", "bucket", "stick", "loaf", "dozen", "milliliter",
    "milligram",
})  # fmt: skip
#: "2/3 years", "3/4 days a week", "2/3 year olds": two numbers, one or the other.
_EITHER = ("hour", "day", "week", "month", "year", "minute", "time")
#: A price after "a" describes what follows ("a £10 voucher"); after "the", "my" or "that" it
#: is as often the subject ("the $20 was gone", "that £10 bought nothing").
_PRICE_BEFORE = r"[Aa]n?"
#: Words that, after a price, go on the sentence rather than name the thing priced: "slid a
#: $50 across the table" is a banknote, "a £5 cheaper ticket" a difference.
_NOT_PRICED = frozenset({
    "a", "an", "and", "are", "as", "at", "back", "be", "been", "being", "but", "by", "can",
    "could", "did", "do", "does", "down", "each", "every", "for", "from", "had", "has", "have",
    "he", "her", "here", "him", "his", "i", "if", "in", "into", "is", "it", "its", "just", "may",
    "me", "might", "more", "must", "my", "next", "now", "of", "off", "on", "onto", "only", "or",
    "our", "out", "over", "per", "she", "should", "so", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "up",
    "us", "was", "we", "were", "what", "when", "which", "while", "who", "whom", "why", "will",
    "with", "would", "you", "your", "today", "tonight", "tomorrow", "yesterday", "again",
    "already", "instead", "apiece", "cash", "extra", "total", "altogether", "later", "ago",
    "across", "toward", "towards", "behind", "between", "beneath", "below", "above", "inside",
    "without", "until", "till", "since", "against", "along", "around", "among", "beside",
    "near", "past", "not", "well", "less", "went", "lay", "lying", "sat", "cheaper", "dearer",
    "higher", "lower", "bigger", "smaller", "richer", "poorer", "short", "shy", "better", "worse",
})  # fmt: skip
_PRICE_UNITS = {"$": "dollar", "£": "pound", "€": "euro"}
#: Scales written after a number: "$5k", "£2bn", "5 million" (spoken's currency reads them too).
SCALES = {"k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million",
          "bn": "billion", "B": "billion"}  # fmt: skip
_PRICED_RE = re.compile(
    r"\b(?P<before>" + _PRICE_BEFORE + r")\s+(?P<sym>[$£€])(?P<n>\d{1,3}(?:,\d{3})*|\d+)"
    r"(?:\s?(?P<scale>k|K|m|M|bn)|\s(?P<word>thousand|million|billion))?"
    r"\s+(?P<next>[a-z]+)\b(?!['’-])"
)
#: ``a £10-voucher``, ``a $5-a-day habit``: a price joined to the word it describes.
_JOINED_PRICE_RE = re.compile(r"(?<![\w.,])(?P<sym>[$£€])(?P<n>\d+)-(?=[a-z])")
#: After "the", "my" or "each" a price describes only what is plainly priced: "the $20 note".
_PRICED_THING_RE = re.compile(
    r"\b(?P<before>[Tt]he|[Tt]his|[Tt]hat|[Mm]y|[Yy]our|[Hh]is|[Hh]er|[Oo]ur|[Tt]heir|[Ee]ach"
    r"|[Ee]very)\s+(?P<sym>[$£€])(?P<n>\d{1,3}(?:,\d{3})*|\d+)"
    r"\s+(?P<next>notes?|bills?|coins?|fee|fine|tickets?|voucher|tip|deposit|prize|bet|cheque"
    r"|check|gift|meal|dinner|lunch|fare|ride|haircut|entry|bottle|book)\b(?!['’-])"
)
#: ``1/2 an hour``: the fraction's own article follows it.
_HALF_A_RE = re.compile(r"(?<![\w.,/])1/2(?= an? [a-z])")
#: ``3.50 €`` (a decimal comma is a stop by now): the symbol first, where cents are read.
_CENTS_AFTER_RE = re.compile(r"(?<![\w.,$£€])(?P<n>\d+\.\d\d)\s?(?P<sym>[€£])(?!\w)")
#: ``1.2k``, ``5k steps``, ``30k-40k a year``: thousands where a count or a sum follows; a
#: bare ``5k`` may be a race ("I ran 5k"), a 401k or a carat, and is read as written.
_THOUSANDS_RE = re.compile(
    r"(?<![\w.,$£€])(?P<n>\d{1,3}(?:\.\d{1,2})?)(?:k?\s?[-–]\s?(?P<n2>\d{1,3}(?:\.\d{1,2})?))?k"
    r"(?=\s+(?:people|men|women|children|a (?:year|month|week)|per|salary|budget|bonus|prize"
    r"|loan|grant|debt|fine|deposit|(?!(?:does|goes|plus|thus|less)\b)[a-z]{2,}[^\Wisu]s)\b)"
    r"(?!\s+(?:cameras|screens|tvs|monitors|displays|videos|rings|earrings|chains|necklaces"
    r"|bracelets|runs|races|walks)\b)"
    r"|(?<![\w.,$£€])(?P<d>\d{1,3}\.\d{1,2})(?P<scale>[kKM])\b(?![-'’])"
)
#: ``2:1``, ``16:9``, ``a 1:100 model``: no time has one digit, or three, after its colon
#: (three only after "a": ``Quran 2:255`` is a reference). Not after
#: a name (``Hamlet 3:1``, ``Quran 2:255``, ``Matt. 5:9``: a reference) or "at" (``at 12:5``,
#: a time mistyped), and not a degree's class (``a 2:1 in History``: "a two-one").
_RATIO_RE = re.compile(
    r"(?<![\w:.,])(?P<a>\d{1,3}):(?P<b>\d{1,3}(?:,\d{3})+|\d"
    r"|(?<=\b[Aa] \d:)[1-9]\d{2,}|(?<=\b[Aa] \d\d:)[1-9]\d{2,})(?![\w:]|[.,]\d)"
)
#: A capital's word before, and what comes before it: a sentence's first word ("Mix 2:1") or
#: a name in it ("read Hamlet 3:1").
_CAPITAL_BEFORE_RE = re.compile(r"(?:^|(?P<pre>\S)\s+)[A-Z][A-Za-z]*\.?\s$")
_AT_BEFORE_RE = re.compile(r"\b[Aa]t\s$")
#: A sentence's first word before a ratio that says it is one ("Mix 2:1"), where any other
#: capital's word names what is referred to ("Hamlet 3:1 is the famous scene").
_MIXING_RE = re.compile(
    r"(?:Mix|Dilute|Combine|Blend|Use|Add|Stir|Whisk|Pour|Make|Keep|Try|Aim|Set|A|An|The|This"
    r"|That|Its|It's|My|Our|Your|His|Her|Their|We|They|It|Odds|Ratio|Scale)$"
)
_DEGREE_RE = re.compile(r"(?<=\b[Aa] )2:([12])(?=\s+(?:in|from|at|degree)\b|[.,;]|$)")
#: ``1:45.3``: minutes, seconds and tenths, a race's time.
_RACE_TIME_RE = re.compile(
    r"(?<![\w:.,])(?P<m>\d{1,2}):(?P<s>[0-5]\d)\.(?P<f>\d{1,3})(?![\d:]|\.\d)"
)
_BOOK_BEFORE_RE = re.compile(r"\b(?:" + NAMED_BOOKS + r")\s$")
#: ``0.5s``, ``2s faster``: seconds; "the 1920s", "in his 20s", "two 4s left", "in 2s and 3s"
#: and "size 7.5s" are not.
_SECONDS_RE = re.compile(
    r"(?<![\w.,])(?P<n>\d+\.\d+|\d{1,3}(?=s\s+(?:faster|slower|later|earlier|ago|delay|pause"
    r"|gap|long|left|behind|ahead|apart|each|of (?:silence|delay|quiet))\b))s\b"
)
#: ``waited 30s``, ``every 5s``: what is timed.
_TIMED_RE = re.compile(
    r"\b(?P<v>waited|wait|waits|took|takes|lasted|lasts|after|every|within) (?P<n>\d{1,3})s\b"
    r"(?!['’])"
)
_NOT_SECONDS_BEFORE_RE = re.compile(
    r"\b(?:the|these|those|his|her|their|my|your|our|mid|early|late|in|of|size|sizes|one|two"
    r"|three|four|five|six|seven|eight|nine|ten|eleven|twelve|some|many|few|all|\d+)\s$",
    re.IGNORECASE,
)


def _article(word: str) -> str:
    return "an" if word[0] in "aeio" or word.startswith("hour") else "a"


def _fraction_measure(m: re.Match[str]) -> str:
    a, b = int(m["a"]), int(m["b"])
    rest = m.string[m.end() : m.end() + 12]
    if (
        m["word"] in _EITHER
        and not m["w"]
        and b == a + 1
        and (m["plural"] or re.match(r"[- ]olds?\b", rest))
    ):  # "2/3 years", "2/3 year olds": one or the other
        return f"{a} or {b} {m['word']}{m['plural'] or ''}"
    if b not in _FRACTION_NAMES or not 0 < a < b:
        return m[0]
    if m["word"] in ("can", "tin") and not rest.startswith(" of "):
        return m[0]  # "1/2 can be recycled"
    if m["short"]:
        one, many = UNITS[m["short"]]
    else:
        one = _IRREGULAR.get(m["word"], m["word"])
        many = {"foot": "feet", "century": "centuries", "loaf": "loaves", "inch": "inches",
                "glass": "glasses", "box": "boxes"}.get(one, one + "s")  # fmt: skip
    name, names = _FRACTION_NAMES[b]
    compound = name if a == 1 else f"{num2words(a)}-{name}"  # "three-quarter"
    if m["w"]:  # "1 1/2 cups": one and a half cups
        part = f"a {name}" if a == 1 else compound
        return f"{num2words(int(m['w']))} and {part} {many}"
    before = m.string[max(0, m.start() - 3) : m.start()]
    if m["sep"] == "-" or re.search(r"\b[Aa]n? $", before):  # "1/2-inch", "a 3/4 inch bolt"
        return f"{compound}{m['sep'] or ' '}{one}"
    # "1/3 cup sugar": a third of a cup of sugar (a measure of stuff, not "1/2 mile away").
    after = re.match(r" ([a-z]+)\b", m.string[m.end() : m.end() + 24])
    stuff = after and one in _OF_MEASURES and after[1] not in _NOT_PRICED
    of = " of" if stuff and not after[1].endswith("ly") else ""
    if a == 1:
        said = "half" if b == 2 else f"{_article(name)} {name} of"
        return f"{said} {_article(one)} {one}{of}"
    return f"{num2words(a)} {names} of {_article(one)} {one}{of}"


def _priced(m: re.Match[str]) -> str:
    word = m["next"]
    participle = len(word) > 5 and word.endswith(("ed", "ing"))
    if word in _NOT_PRICED or word.endswith("ly") or participle:
        return m[0]  # "a $20 folded in half", "a $5 well spent": the banknote itself
    said = m.groupdict()  # "the $20 note" has no scale
    scale = said.get("word") or SCALES.get(said.get("scale") or "")
    unit = _PRICE_UNITS[m["sym"]]
    amount = f"{m['n']} {scale} {unit}" if scale else f"{m['n']}-{unit}"
    return f"{m['before']} {amount} {word}"


def _thousands(m: re.Match[str]) -> str:
    if m["d"]:  # "1.2k", "1.2K fans", "1.2M views"
        return f"{m['d']} {'million' if m['scale'] == 'M' else 'thousand'}"
    return f"{m['n']} to {m['n2']} thousand" if m["n2"] else f"{m['n']} thousand"


def _ratio(m: re.Match[str]) -> str:
    start = max(0, m.start() - 40)
    before = m.string[start : m.start()]
    if _BOOK_BEFORE_RE.search(before) or _AT_BEFORE_RE.search(before):
        return m[0]
    name = _CAPITAL_BEFORE_RE.search(before)
    opens = (name is not None and not start and not name["pre"]) or (
        name is not None and (name["pre"] or "") in '.!?:;"“('
    )
    if name and not (opens and _MIXING_RE.match(name[0].lstrip(name["pre"] or "").strip())):
        return m[0]  # a reference: "Hamlet 3:1", "1 Cor 13:4", "Act 2:1"
    return f"{m['a']} to {m['b']}"


def _seconds(m: re.Match[str]) -> str:
    if _NOT_SECONDS_BEFORE_RE.search(m.string, max(0, m.start() - 12), m.start()):
        return m[0]
    return f"{m['n']} seconds"


def read_quantities(text: str) -> str:
    """``text`` with the amounts of the module docstring made plain for the later rules."""
    if not any(c.isdigit() for c in text):
        return text
    text = _FRACTION_MEASURE_RE.sub(_fraction_measure, text)
    text = _HALF_A_RE.sub("half", text)
    text = _PRICED_THING_RE.sub(_priced, _PRICED_RE.sub(_priced, text))
    text = _JOINED_PRICE_RE.sub(lambda m: f"{m['n']}-{_PRICE_UNITS[m['sym']]}-", text)
    text = _CENTS_AFTER_RE.sub(r"\g<sym>\g<n>", text)
    text = _THOUSANDS_RE.sub(_thousands, text)
    text = _RACE_TIME_RE.sub(r"\g<m> \g<s> point \g<f>", text)
    text = _DEGREE_RE.sub(r"two-\1", text)
    text = _RATIO_RE.sub(_ratio, text)
    return _TIMED_RE.sub(r"\g<v> \g<n> seconds", _SECONDS_RE.sub(_seconds, text))
