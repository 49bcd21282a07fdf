"""Roman numerals read as a narrator reads them.

An engine spells them, or reads them as letters ("Chapter Roman 4", "King Henry V I I I"), so
the two places they are plainly numbers become words before anything else reads the text:

- after a word that numbers things (``Chapter IV``, ``Book XII``, ``Act III``, ``World War
  II``): the cardinal, "Chapter four";
- after a name monarchs and popes are numbered by (``Henry VIII``, ``Louis XIV``, ``John Paul
  II``): "the" and the ordinal, "Henry the Eighth". Only I, V and X (up to 39), of two
  letters or more, or a lone I where the words around it say it is a king's (``Charles I of
  England``, ``Charles I was beheaded``): ``Malcolm X``, ``Vitamin C`` and the pronoun I
  stay as written.
"""

from __future__ import annotations

import re

from num2words import num2words

_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
#: A well-formed numeral from 1 to 3999 (no IIII, no VX).
NUMERAL = r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
#: Words after which a numeral counts: "Chapter IV" is chapter four.
_COUNTING_WORDS = (
    "Chapter", "Book", "Part", "Volume", "Act", "Scene", "Section", "Psalm", "Canto", "Article",
    "Appendix", "Phase", "Stage", "Level", "Round", "Episode", "Season", "Movement", "Verse",
    "Vol.", "Ch.", "War", "Type", "Class", "Grade", "Category", "Schedule", "Mark", "Apollo",
    "Gemini", "Tier", "Title", "Unit", "Division",
)  # fmt: skip
_COUNTING = "|".join(re.escape(w) for w in _COUNTING_WORDS)
#: As written or in capitals ("CHAPTER IV"), not in lower case ("the audio book CD").
_COUNTING_CASED = "|".join(
    re.escape(w) for w in (*_COUNTING_WORDS, *map(str.upper, _COUNTING_WORDS))
)
#: What may follow a numeral: no more of a word, but a possessive ("Henry VIII's wives").
_AFTER = r"(?!\w|['’](?!s\b))"
_COUNTED_RE = re.compile(
    r"\b(?P<word>" + _COUNTING_CASED + r")\s+"
    r"(?P<n>"
    + NUMERAL
    + r")"
    + _AFTER
    +
    # A lone I before a word in lower case is the pronoun: "Scene I saw" is no scene one;
    # but not before "and" (or "to") and another numeral: "Part I and Part II".
    r"(?<!\bI(?=\s+(?!(?:and|or|to|through)\s+(?:(?:"
    + _COUNTING
    + r")\s+)?"
    r"[IVXLC]+(?![\w'’]))[a-z]))"
)
#: "Chapters I and II", "Acts III–V": the second numeral of a pair counts too.
_COUNTED_PAIR_RE = re.compile(
    r"\b(?P<word>(?:" + _COUNTING_CASED + r")[sS]?)\s+"
    r"(?P<a>" + NUMERAL + r")(?P<join>\s+(?:and|or|to|through)\s+|\s?[–-]\s?)"
    r"(?P<b>" + NUMERAL + r")" + _AFTER + r"(?<!\bI(?=\s+[a-z]))"
)
#: Names monarchs and popes are numbered by: only these, since "Type II", "Rocky II" and
#: "Apollo XI" are no kings.
_REGNAL_NAMES = (
    "Henry", "Edward", "George", "William", "Richard", "Elizabeth", "Charles", "James", "Louis",
    "John", "Paul", "Pius", "Benedict", "Gregory", "Leo", "Innocent", "Clement", "Urban", "Peter",
    "Frederick", "Philip", "Ferdinand", "Victor", "Emmanuel", "Napoleon", "Mary", "Anne",
    "Catherine", "Ivan", "Nicholas", "Alexander", "Constantine", "Ramesses", "Ptolemy",
    "Amenhotep", "Thutmose", "Rameses", "Otto", "Harald", "Olaf", "Haakon", "Gustav", "Carl",
    "Christian", "Frederik", "Alfonso", "Juan", "Felipe", "Wilhelm", "Friedrich", "Ludwig",
    "Rudolf", "Leopold", "Franz", "Sixtus", "Julius", "Boniface", "Celestine", "Honorius",
    "Malcolm", "David", "Robert", "Stephen", "Matilda", "Victoria", "Isabella", "Baldwin",
)  # fmt: skip
#: A monarch's name and a numeral of I, V and X of two letters or more (a lone I is the
#: pronoun as often, and "Malcolm X" is no tenth).
_REGNAL_RE = re.compile(
    r"\b(?P<name>" + "|".join(_REGNAL_NAMES) + r")\s+(?P<n>X{0,3}(?:IX|IV|V?I{0,3}))" + _AFTER
)
#: What says a lone I after a monarch's name is "the First", not the pronoun: a stop or the
#: end, "of England", a possessive, or what only a reign does ("Charles I was beheaded",
#: "reigned"; "I told Peter I was born…", "Tell James I and Sam…" keep the pronoun).
_FIRST_NEXT_RE = re.compile(
    r"\s*(?:[,.;:!?)]|$)|['’]s\b|\s+of\s+[A-Z]|\s+(?:reigned|ruled)\b"
    r"|\s+was\s+(?:king|queen|emperor|empress|tsar|pope|crowned|beheaded|executed|deposed)\b"
)


#: What follows the pronoun I, not a king: "King John I think", "Queen Mary I saw".
_PRONOUN_NEXT_RE = re.compile(
    r"['’](?:m|d|ll|ve)\b|\s+(?:am|think|thought|believe|believed|know|knew|guess|suppose|mean"
    r"|hope|hoped|feel|felt|saw|see|heard|remember|recall|imagine|wonder|wish|want|wanted|met"
    r"|said|say|told|tell|love|loved|like|liked)\b"
)
_WW_RE = re.compile(r"\bWW(II|I|2|1)\b")
_TITLED_RE = re.compile(
    r"\b(?P<t>King|Queen|Emperor|Empress|Pope|Tsar|Tsarina|Czar|Kaiser|Prince|Princess|Duke)"
    r"\s+(?P<name>[A-Z][a-z]+)\s+(?P<n>X{0,3}(?:IX|IV|V?I{1,3}|V))" + _AFTER
)
#: "Act II, Scene iii": a scene numbered in lower case.
_SCENE_RE = re.compile(r"\b(?P<w>Scene|SCENE)\s+(?P<n>(?:x{0,3})(?:ix|iv|v?i{1,3}|v))\b(?![\w'’])")


def roman_value(numeral: str) -> int:
    """``"XIV"`` → 14 (the numeral is well formed)."""
    total = 0
    for a, b in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _VALUES[a]
        total += -value if b and _VALUES[b] > value else value
    return total


#: Numerals of one letter that are letters where they stand: "Appendix C", "Grade D", "Part
#: L" are no hundred, five hundred or fifty.
_LETTERS = frozenset("LCDM")


def _word(word: str) -> str:
    """The counting word as said: "Vol." and "Ch." in full (their stop ended a sentence)."""
    return {"vol.": "Volume", "ch.": "Chapter"}.get(word.lower(), word)


def _first(m: re.Match[str]) -> bool:
    """Whether the lone numeral of ``m`` (a regnal match) is "the First"."""
    return m["n"] == "I" and bool(_FIRST_NEXT_RE.match(m.string, m.end()))


def read_roman_numerals(text: str) -> str:
    """``text`` with its counted and regnal numerals as words (see the module docstring)."""
    if not re.search(r"\b[IVXLCDM]", text):
        return text

    def counted(m: re.Match[str]) -> str:
        if not m["n"] or m["n"] in _LETTERS:
            return m[0]
        return f"{_word(m['word'])} {num2words(roman_value(m['n']))}"

    def regnal(m: re.Match[str]) -> str:
        numeral = m["n"]
        if not numeral or (len(numeral) < 2 and not _first(m)):
            return m[0]
        return f"{m['name']} the {num2words(roman_value(numeral), to='ordinal').capitalize()}"

    def titled(m: re.Match[str]) -> str:
        # A lone I before what only "I" does is the pronoun ("King John I think …"); after a
        # title it is otherwise the reign ("Queen Elizabeth I never married").
        if m["n"] == "I" and not _first(m) and _PRONOUN_NEXT_RE.match(m.string, m.end()):
            return m[0]
        nth = num2words(roman_value(m["n"]), to="ordinal").capitalize()
        return f"{m['t']} {m['name']} the {nth}"

    def pair(m: re.Match[str]) -> str:
        if not (m["a"] and m["b"]) or {m["a"], m["b"]} & _LETTERS:
            return m[0]
        join = m["join"].strip()
        join = "to" if join in ("–", "-") else join
        a, b = (num2words(roman_value(m[k])) for k in "ab")
        return f"{_word(m['word'])} {a} {join} {b}"

    # "World War I ended": the war, whatever word follows (the pronoun guard kept its "I").
    text = re.sub(r"\b(World War|WORLD WAR) I(?![\w'’])", r"\1 one", text)
    text = _WW_RE.sub(lambda m: f"World War {'two' if m[1] in ('II', '2') else 'one'}", text)
    # "King Harold II", "Queen Anne I": a title says the numeral is a reign, whatever name.
    text = _TITLED_RE.sub(titled, text)
    text = _SCENE_RE.sub(lambda m: f"{m['w']} {num2words(roman_value(m['n'].upper()))}", text)
    text = _COUNTED_PAIR_RE.sub(pair, text)
    return _REGNAL_RE.sub(regnal, _COUNTED_RE.sub(counted, text))
