"""Transcript cues: a sentence laid out as captions, at most two lines of at most 65
characters a cue, broken where a reader pauses (after punctuation, before a conjunction or a
preposition), never inside a word or between words that belong together.
"""

from __future__ import annotations

import re
from bisect import bisect_left

#: Longest transcript line, characters as a player shows them: Podcasting 2.0 recommends at
#: most 65 for WebVTT (podcast-namespace, docs/examples/transcripts/transcripts.md).
CUE_LINE_CHARS = 65
#: Most lines in one cue: two, as in captioning practice (the same page, "Max number of
#: lines: 2").
CUE_MAX_LINES = 2

# Where a line may break, after the Netflix Timed Text Style Guide (English): "after
# punctuation marks, before conjunctions, before prepositions", and never between an article
# and its noun, a pronoun and its verb, a verb and its auxiliary, preposition or negation.
# Costs of breaking between two words; lower is better.
_AFTER_MARK = 0  # "calm, / and"
_BEFORE_QUOTE = 2  # "she said / \"Come\""
_BEFORE_CONJUNCTION = 3  # "the hall / and the door"
_BEFORE_PREPOSITION = 5  # "the hall / beneath the moon"
_PLAIN = 10  # between two other words
_WEAK_END = 60  # a line ending in a pronoun, preposition or conjunction: "you / stand"
_NAME = 300  # "Ada / Brook"
_NEVER = 1000  # "the / sea", "to / rest", "is / calm", "not / yet": only if nothing else fits
#: A cue more, on top of its breaks, when a sentence must be split: fewer cues, unless a cue
#: more lets every cue end at a phrase boundary.
_CUE = 60
#: Cue boundaries weigh more than line breaks inside a cue (a cue is read on its own).
_CUE_BREAK_WEIGHT = 2
#: Below this many characters, a cue of a split sentence flashes by: each character short
#: costs this much.
_SHORT_CUE_CHARS, _SHORT_CUE_COST = 25, 2
#: Two lines of a cue as even as the breaks allow: the cost of lines a whole line apart in
#: length (it grows with the square of the difference).
_BALANCE_COST = 40


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CONJUNCTIONS = _word_set(
    "and but or nor so yet for as while when whenever because until then although though "
    "since unless whereas whether if once where wherever which who whom whose that than "
    "till before after"
)
_PREPOSITIONS = _word_set(
    "about above across against along alongside amid amidst among amongst around at before "
    "behind below beneath beside besides between beyond by despite during except for from in "
    "inside into like near of on onto outside over past per through throughout to toward "
    "towards under underneath unlike upon via with within without"
)
# Words a line never ends on: articles, possessives, determiners, "to", negations and
# auxiliaries (and contractions of them, matched below).
_NO_BREAK_AFTER = _word_set(
    "a an the my your his her its our their whose this that these those to not no nor every "
    "each some any such am is are was were be been being will would shall should can could may "
    "might must do does did has have had very own"
)
_AUXILIARIES = _word_set("am is are was were will would shall should can could may might must")
_WEAK_ENDS = (
    _PREPOSITIONS
    | _CONJUNCTIONS
    | _word_set("i you he she it we they me him us them one so too quite rather")
    | _word_set("still already also just even never always ever only")
)
_REFLEXIVES = _word_set(
    "myself yourself himself herself itself oneself ourselves yourselves themselves"
)
_TITLES = _word_set("mr mrs ms dr st mt")  # "Mr. / Brook" is a name cut in two
_CONTRACTION = re.compile(
    r".+n't|(?:i|you|he|she|it|we|they|that|there|what|who|here)'(?:m|re|s|ve|ll|d)"
)
_CLOSERS = "\"'”’)]}»"
_OPENERS = "\"'“‘([{«"
_MARKS = (",", ";", ":", "—", "–", "-", "…", "...", ".", "!", "?")


def _core(word: str) -> str:
    """``word`` without the marks around it, lowercase, one kind of apostrophe."""
    return word.strip(_CLOSERS + _OPENERS + ",;:.!?…—–-").lower().replace("’", "'")


def _break_cost(word: str, after: str) -> int:
    """How bad a line break between ``word`` and the word ``after`` it is."""
    if word.rstrip(_CLOSERS).endswith(_MARKS) and _core(word) not in _TITLES:
        return _AFTER_MARK
    if not any(c.isalnum() for c in after):  # a dash or mark of its own stays with the line
        return _NEVER // 2
    core, next_core = _core(word), _core(after)
    if core in _NO_BREAK_AFTER or _CONTRACTION.fullmatch(core):
        return _NEVER
    if next_core in _REFLEXIVES:
        return _NAME
    if next_core in _AUXILIARIES:  # "the sea / is calm": a subject cut from its verb
        return _WEAK_END
    if word[:1].isupper() and after[:1].isupper() and core != "i" and next_core != "i":
        return _NAME
    cost = _WEAK_END if core in _WEAK_ENDS else 0
    if after.startswith(tuple(_OPENERS)):
        return cost + _BEFORE_QUOTE
    if next_core in _CONJUNCTIONS:
        return cost + _BEFORE_CONJUNCTION
    if next_core in _PREPOSITIONS:
        return cost + _BEFORE_PREPOSITION
    return cost + _PLAIN


def sentence_cues(sentence: str) -> list[list[str]]:
    """The cues of one sentence, each a list of one or two lines of its words (whitespace
    between them normalized to one space), at most :data:`CUE_LINE_CHARS` characters a line.

    A sentence that fits two lines is one cue, unless its only way into two lines is a break
    that must never be made ("the / sea"). A longer one is as few cues as its phrases allow,
    each ending at a phrase boundary where it can, with the best breaks (:func:`_break_cost`)
    and the most even lines. A word longer than a line is a cue of its own, whole (the one
    line that may be longer).
    """
    words = sentence.split()
    cues: list[list[str]] = []
    run: list[str] = []
    for word in [*words, None]:
        if word is not None and len(word) <= CUE_LINE_CHARS:
            run.append(word)
            continue
        cues += _lay_out(run)
        run = []
        if word is not None:
            cues.append([word])
    return cues


def _lay_out(words: list[str]) -> list[list[str]]:
    """Cues of ``words`` (each at most a line long) by dynamic programming over cue starts."""
    n = len(words)
    if not n:
        return []
    ends = [0]  # ends[k]: length of " ".join(words[:k]) plus one
    for word in words:
        ends.append(ends[-1] + len(word) + 1)

    def width(a: int, b: int) -> int:
        return ends[b] - ends[a] - 1

    breaks = [_break_cost(words[k], words[k + 1]) for k in range(n - 1)]
    line, cue_chars = CUE_LINE_CHARS, CUE_LINE_CHARS * CUE_MAX_LINES + 1

    def two_lines(a: int, b: int) -> tuple[float, int | None]:
        """The best break of ``words[a:b]`` into two lines, and its cost (inf: none fits)."""
        cost, split = float("inf"), None
        # From the first break that leaves a second line short enough: width(k, b) <= line.
        for k in range(max(a + 1, bisect_left(ends, ends[b] - line - 1)), b):
            first, second = width(a, k), width(k, b)
            if first > line:
                break
            if second <= line:
                here = breaks[k - 1] + _BALANCE_COST * (abs(first - second) / line) ** 2
                if here < cost:
                    cost, split = here, k
        return cost, split

    if width(0, n) <= line:
        return [[" ".join(words)]]
    if width(0, n) <= cue_chars:  # a sentence that fits one cue stays one, if it breaks well
        cost, split = two_lines(0, n)
        if cost < _NEVER:
            return [[" ".join(words[:split]), " ".join(words[split:])]]
    best: list[float] = [0.0] * (n + 1)
    choice: list[tuple[int, int | None]] = [(n, None)] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i] = float("inf")
        j = i + 1
        while j <= n and width(i, j) <= cue_chars:
            chars = width(i, j)
            split: int | None = None
            if chars <= line:
                inner = 0.0
            else:
                inner, split = two_lines(i, j)
            if inner < float("inf"):
                total = _CUE + inner + best[j]
                if j < n:
                    total += _CUE_BREAK_WEIGHT * breaks[j - 1]
                total += _SHORT_CUE_COST * max(0, _SHORT_CUE_CHARS - chars)
                if total < best[i]:
                    best[i], choice[i] = total, (j, split)
            j += 1
    cues, i = [], 0
    while i < n:
        j, split = choice[i]
        if split is None:
            cues.append([" ".join(words[i:j])])
        else:
            cues.append([" ".join(words[i:split]), " ".join(words[split:j])])
        i = j
    return cues
