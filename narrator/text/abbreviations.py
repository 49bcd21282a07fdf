"""Abbreviations read in full: "Dr." is "Doctor", "p. 12" is "page twelve", "No. 5" is
"number five", and "St." is "Saint" before a name and "Street" after one.

Engines read them differently (espeak says "St." as "S T") and a stop left behind looks like
a sentence's end, so they are spelled out before the text is cut into sentences. An
abbreviation that comes after a name or a number ("Elm Ave.", "Jones Jr.", "etc.") may end
the sentence with its stop too: followed by a capital or by nothing, it keeps the stop there,
or "Elm Ave. The house was old." would be one sentence, "Elm Avenue The house was old".
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor",
    "Jr.": "Junior", "Sr.": "Senior", "Mt.": "Mount", "vs.": "versus", "etc.": "et cetera",
    "e.g.": "for example", "i.e.": "that is", "approx.": "approximately", "Capt.": "Captain",
    "Gen.": "General", "Lt.": "Lieutenant", "Sgt.": "Sergeant", "Rev.": "Reverend",
    "Fr.": "Father", "Ave.": "Avenue", "Rd.": "Road", "Ln.": "Lane", "Blvd.": "Boulevard",
    "Hwy.": "Highway", "Apt.": "Apartment", "Pvt.": "Private", "Cpl.": "Corporal",
    "Col.": "Colonel", "Maj.": "Major", "Adm.": "Admiral", "Pres.": "President",
    "Gov.": "Governor", "Sen.": "Senator", "Insp.": "Inspector", "Det.": "Detective",
    "Supt.": "Superintendent", "Hon.": "Honourable", "Mx.": "Mix", "Ft.": "Fort",
}  # fmt: skip
#: Those whose stop may end the sentence too (they come after a name or a number): it does
#: before nothing, or before a word that opens sentences ("Elm Ave. The house"), not before
#: a name ("Park Ave. Hotel", "King Jr. Day").
_MAY_END = frozenset({"Jr.", "Sr.", "Ave.", "Rd.", "Ln.", "Blvd.", "Hwy.", "etc.", "St."})
_TEXT_END_RE = re.compile(r"\s*$")
_NAME_NEXT_RE = re.compile(r"\s+[A-Z]")

_ABBREV_RE = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")(?!\w)"
)
_ST_RE = re.compile(r"(?<![\w.])St\.(?!\w)")
#: Words that open sentences, not names: after "Baker St." or "coach B." they say that the
#: stop ended a sentence ("Baker St. The cab waited"), where a name says it did not.
SENTENCE_OPENERS = (
    "The|A|An|It|He|She|They|We|I|You|His|Her|Its|Their|There|Then|But|And|In|On|At|So|As|"
    "When|After|Before|Now|Later|Soon|This|That|These|Those|My|Our|Your|Yet|Still|Here|"
    "Nobody|Everyone|Someone|No|All|Outside|Inside|Slowly"
)
#: An opener after a stop's space (and an opening quote), not itself an initial ("A.").
OPENER_NEXT = rf"\s+[\"“‘(]?(?:{SENTENCE_OPENERS})\b(?!\.)"
_OPENER_RE = re.compile(OPENER_NEXT)
#: After a stop: the sentence ended there (a word that opens sentences, or nothing more).
SENTENCE_NEXT_RE = re.compile(rf"{OPENER_NEXT}|\s*$")
_AFTER_WORD_RE = re.compile(r"[A-Za-z]\s+$")
_NUMBER_SIGN_RE = re.compile(r"(?<![\w.])(?:[Nn]o\.|№|#)\s?(?=\d)")
#: Abbreviations read in full before a number only ("p. 12"; a "p." alone may be anything).
_BEFORE_NUMBER = {"p": "page", "pp": "pages", "ch": "chapter", "vol": "volume", "fig": "figure",
                  "pt": "part", "ca": "circa", "c": "circa", "est": "established",
                  "ep": "episode"}  # fmt: skip
#: Titles written without their stop, the British way ("Mr Brown", "Dr Jones", "St Paul's"),
#: before a name.
_BARE_TITLES = {"Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Dr": "Doctor", "St": "Saint",
                "Mx": "Mix"}  # fmt: skip
_BARE_TITLE_RE = re.compile(
    r"\b(" + "|".join(_BARE_TITLES) + r")(?=\s+(?:[A-Z][a-z]|and\s+M(?:r|rs|s)\b))"
)
#: "down Baker St in the rain": a street after its name.
_BARE_STREET_RE = re.compile(r"(?P<name>\b[A-Z][a-z]{2,} )St(?=\s+[a-z]|[,;:]|\s*$)")
#: "built c. 2560 BCE" once the era's rule has said the year: circa.
_CIRCA_WORDS_RE = re.compile(
    r"(?<![\w.])c\.(?=\s+(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety)\b)"
)
#: "the 13th c.": the century.
_CENTURY_RE = re.compile(r"(?<=\d(?:st|nd|rd|th)) c\.(?=\s*[,;:)]|\s+[a-z])")
_BEFORE_NUMBER_RE = re.compile(
    r"(?<![\w.])(?P<a>" + "|".join(_BEFORE_NUMBER) + r")\.\s?(?=\d)", re.IGNORECASE
)


def _in_full(m: re.Match[str], written: str, full: str) -> str:
    """``full`` for the abbreviation ``written`` matched by ``m``, with its stop when that
    also ends the sentence."""
    opener = _OPENER_RE.match(m.string, m.end())
    if written == "Sr." and _NAME_NEXT_RE.match(m.string, m.end()) and not opener:
        return "Sister"  # before a name (Sr. Agnes); after one, "Senior" (John Smith Sr.)
    ends = written in _MAY_END and (opener or _TEXT_END_RE.match(m.string, m.end()))
    return full + "." if ends else full


def _saint_or_street(m: re.Match[str]) -> str:
    after_word = _AFTER_WORD_RE.search(m.string[max(0, m.start() - 40) : m.start()])
    name_next = re.match(r"\s+[A-Z]", m.string[m.end() : m.end() + 2])
    if name_next and not (after_word and _OPENER_RE.match(m.string, m.end())):
        return "Saint"
    return _in_full(m, "St.", "Street") if after_word else m[0]


def _before_number(m: re.Match[str]) -> str:
    if m["a"] == "C":
        return m[0]  # "Appendix C. 12 pages": a letter; circa is "c."
    said = _BEFORE_NUMBER[m["a"].lower()]
    if m.start() == 0 or m.string[: m.start()].rstrip()[-1:] in ".!?":
        said = said.capitalize()  # "Ep. 4 aired.": the sentence's first word
    if said == "established" and not _YEAR_NEXT_RE.match(m.string, m.end()):
        said = "estimated"  # "est. 200 people"; "est. 1920" is a year a place was founded
    return said + " "


#: A word after which "no." is the answer, not "number": "She said no. 3 days later…".
_ANSWER_BEFORE_RE = re.compile(
    r"\b(?:said|say|says|saying|answered|replied|whispered|shouted|cried|nodded|shook)\s+$"
)


def _number_sign(m: re.Match[str]) -> str:
    before = m.string[max(0, m.start() - 20) : m.start()]
    if m[0].startswith("no.") and _ANSWER_BEFORE_RE.search(before):
        return m[0]
    return "number "


_YEAR_NEXT_RE = re.compile(r"1[0-9]\d\d\b|20\d\d\b")


def read_abbreviations(text: str) -> str:
    """``text`` with the abbreviations of the module docstring in full."""
    text = _ST_RE.sub(_saint_or_street, text)
    text = _BARE_STREET_RE.sub(r"\g<name>Street", text)
    text = _BARE_TITLE_RE.sub(lambda m: _BARE_TITLES[m[1]], text)
    text = _CENTURY_RE.sub(" century", text)
    text = _CIRCA_WORDS_RE.sub("circa", text)
    text = _NUMBER_SIGN_RE.sub(_number_sign, text)
    text = _BEFORE_NUMBER_RE.sub(_before_number, text)
    return _ABBREV_RE.sub(lambda m: _in_full(m, m[1], _ABBREVIATIONS[m[1]]), text)


__all__ = ["OPENER_NEXT", "SENTENCE_NEXT_RE", "SENTENCE_OPENERS", "read_abbreviations"]
