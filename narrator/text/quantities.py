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
    r"(?<![\w.,/])(?:(?P<w>\d{1,3}) )?(?P<a>\d)/(?P<b>\d{1,2})\s?"
    r"(?:(?P<word>" + _MEASURES + r"|centur|foot|feet|loave)(?:ies|es|s)?\b"
    r"|(?P<short>" + "|".join(_SHORT_MEASURES) + r")(?:\.(?=\s+[a-z]))?(?![\w/^]))"
)
_IRREGULAR = {"feet": "foot", "centur": "century", "loave": "loaf"}
#: A price after "a" describes what follows ("a £10 voucher"); after "the", "my" or "that" it
#: is as often the subject ("the $20 was gone", "that £10 bought nothing").
_PRICE_BEFORE = r"[Aa]n?"
#: Words that, after a price, go on the sentence rather than name the thing priced.
_NOT_PRICED = frozenset({
    "a", "an", "and", "are", "as", "at", "back", "be", "been", "being", "but", "by", "can",
    "could", "did", "do", "does", "down", "each", "every", "for", "from", "had", "has", "have",
    "he", "her", "here", "him", "his", "i", "if", "in", "into", "is", "it", "its", "just", "may",
    "me", "might", "more", "must", "my", "next", "now", "of", "off", "on", "onto", "only", "or",
    "our", "out", "over", "per", "she", "should", "so", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "up",
    "us", "was", "we", "were", "what", "when", "which", "while", "who", "whom", "why", "will",
    "with", "would", "you", "your", "today", "tonight", "tomorrow", "yesterday", "again",
    "already", "instead", "apiece", "cash", "extra", "total", "altogether", "later", "ago"
})  # fmt: skip
_PRICE_UNITS = {"$": "dollar", "£": "pound", "€": "euro"}
_PRICE_SCALES = {"k": "thousand", "K": "thousand", "m": "million", "M": "million",
                 "bn": "billion", "thousand": "thousand", "million": "million",
                 "billion": "billion"}  # fmt: skip
_PRICED_RE = re.compile(
    r"\b(?P<before>" + _PRICE_BEFORE + r")\s+(?P<sym>[$£€])(?P<n>\d{1,3}(?:,\d{3})*|\d+)"
    r"(?:\s?(?P<scale>k|K|m|M|bn)|\s(?P<word>thousand|million|billion))?"
    r"\s+(?P<next>[a-z]+)\b(?!['’-])"
)
#: ``1/2 an hour``: the fraction's own article follows it.
_HALF_A_RE = re.compile(r"(?<![\w.,/])1/2(?= an? [a-z])")
#: ``3.50 €`` (a decimal comma is a stop by now): the symbol first, where cents are read.
_CENTS_AFTER_RE = re.compile(r"(?<![\w.,])(?P<n>\d+\.\d\d)\s?(?P<sym>[€£])(?!\w)")
#: ``1.2k``, ``5k``: thousands, but not a race, a carat or a screen's width ("a 5k run").
_THOUSANDS_RE = re.compile(
    r"(?<![\w.,$£€])(?P<n>\d{1,3}\.\d{1,2}|(?<!\b[Aa] )(?<!\b[Tt]he )\d{1,3})k\b(?!['’-])"
    r"(?!\s+(?:runs?|races?|walks?|fun|gold|white|yellow|rose|[Tt][Vv]|video|screens?|display"
    r"|monitors?|resolution)\b)"
)
#: ``2:1``, ``16:9``, ``1:100``: no time has one digit, or three, after its colon
#: (not after a book of the Bible: "John 3:5" is a verse).
_RATIO_RE = re.compile(
    r"(?<![\w:.,])(?P<a>\d{1,3}):(?P<b>\d{1,3}(?:,\d{3})+|[1-9]\d{2,}|\d)"
    r"(?![\w:]|[.,]\d)"
)
_BOOK_BEFORE_RE = re.compile(r"\b(?:" + NAMED_BOOKS + r")\s$")
#: ``0.5s``, ``2s faster``: seconds; "the 1920s", "in his 20s", "2s and 3s" are not.
_SECONDS_RE = re.compile(
    r"(?<![\w.,])(?P<n>\d+\.\d+|(?<!the )(?<!his )(?<!her )(?<!their )(?<!my )(?<!your )"
    r"(?<!our )(?<!mid )(?<!early )(?<!late )\d{1,3}(?=s\s+(?:faster|slower|later|earlier|ago"
    r"|delay|pause|gap|long|left|behind|ahead|apart|each|of (?:silence|delay|quiet))\b))s\b"
)


def _article(word: str) -> str:
    return "an" if word[0] in "aeio" or word.startswith("hour") else "a"


def _fraction_measure(m: re.Match[str]) -> str:
    a, b = int(m["a"]), int(m["b"])
    if b not in _FRACTION_NAMES or not 0 < a < b:
        return m[0]
    if m["short"]:
        one, many = UNITS[m["short"]]
    else:
        one = _IRREGULAR.get(m["word"], m["word"])
        many = {"foot": "feet", "century": "centuries", "loaf": "loaves", "inch": "inches",
                "glass": "glasses", "box": "boxes"}.get(one, one + "s")  # fmt: skip
    name, names = _FRACTION_NAMES[b]
    if m["w"]:  # "1 1/2 cups": one and a half cups
        part = f"a {name}" if a == 1 else f"{num2words(a)}-{name}"
        return f"{num2words(int(m['w']))} and {part} {many}"
    before = m.string[max(0, m.start() - 3) : m.start()]
    if re.search(r"\b[Aa]n? $", before):  # "a 1/2 cup": a half cup
        return f"{name} {one}" if a == 1 else m[0]
    if a == 1:
        said = "half" if b == 2 else f"{_article(name)} {name} of"
        return f"{said} {_article(one)} {one}"
    return f"{num2words(a)} {names} of {_article(one)} {one}"


def _priced(m: re.Match[str]) -> str:
    if m["next"] in _NOT_PRICED or m["next"].endswith("ly"):
        return m[0]
    scale = _PRICE_SCALES.get(m["scale"] or m["word"] or "")
    unit = _PRICE_UNITS[m["sym"]]
    amount = f"{m['n']} {scale} {unit}" if scale else f"{m['n']}-{unit}"
    return f"{m['before']} {amount} {m['next']}"


def _ratio(m: re.Match[str]) -> str:
    if _BOOK_BEFORE_RE.search(m.string, max(0, m.start() - 12), m.start()):
        return m[0]
    return f"{m['a']} to {m['b']}"


def read_quantities(text: str) -> str:
    """``text`` with the amounts of the module docstring made plain for the later rules."""
    if not any(c.isdigit() for c in text):
        return text
    text = _FRACTION_MEASURE_RE.sub(_fraction_measure, text)
    text = _HALF_A_RE.sub("half", text)
    text = _PRICED_RE.sub(_priced, text)
    text = _CENTS_AFTER_RE.sub(r"\g<sym>\g<n>", text)
    text = _THOUSANDS_RE.sub(r"\g<n> thousand", text)
    text = _RATIO_RE.sub(_ratio, text)
    return _SECONDS_RE.sub(r"\g<n> seconds", text)
