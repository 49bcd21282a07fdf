"""Scene words: the words and phrases in a story that call up each layer, compiled for
matching (every layer carries its own, :attr:`soundscapes.layers.LayerInfo.words`).

Entries match their word forms (plural, -ing, -ed); a phrase is taken before its words ("wind
chime" is chimes, not wind); a word in a simile or a hyphenated compound counts less.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from narrator.text.script import words_of
from soundscapes.layers import layer_info, layer_names


def layer_words() -> dict[str, Mapping[str, float]]:
    """Each registered layer's words and weights."""
    return {name: layer_info(name).words for name in layer_names()}


def bed_layers() -> frozenset[str]:
    """The continuous layers: a scene holding one never falls silent between events."""
    return frozenset(name for name in layer_names() if layer_info(name).bed)


def _noun_only() -> frozenset[str]:
    return frozenset(w for name in layer_names() for w in layer_info(name).noun_only)


def word_forms(word: str, *, noun_only: bool = False) -> set[str]:
    """The forms of a scene word that match it: plural or third person, -ing and -ed.

    English spelling rules rather than a stemmer, so "breathe" gives "breathing" and "drum"
    gives "drumming", while "hall" never matches "hallway" or "seal" matches "sea".
    """
    forms = {word}
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    else:
        forms.add(word + "s")
    if noun_only:
        return forms
    if word.endswith("e") and not word.endswith("ee"):
        forms |= {word[:-1] + "ing", word + "d"}
    else:
        forms |= {word + "ing", word + "ed"}
    # Short consonant-vowel-consonant words double their last letter: drumming, humming.
    if (
        len(word) >= 3
        and word[-1] not in "aeiouwxy"
        and word[-2] in "aeiou"
        and word[-3] not in "aeiou"
    ):
        forms |= {word + word[-1] + "ing", word + word[-1] + "ed"}
    return forms


class SceneWords:
    """The compiled scene words: finds them in text and scores layers.

    ``words`` maps a layer to its words and weights (default: every registered layer's own,
    :func:`layer_words`); ``noun_only`` are the words that match only as nouns.
    """

    def __init__(
        self,
        words: Mapping[str, Mapping[str, float]] | None = None,
        *,
        noun_only: Iterable[str] | None = None,
    ) -> None:
        nouns = set(_noun_only() if noun_only is None else noun_only)
        self.weights: dict[str, dict[str, float]] = {}
        for layer, terms in (layer_words() if words is None else words).items():
            for term, weight in terms.items():
                self.weights.setdefault(term.lower(), {})[layer] = weight
        # Terms as written first, so a term is never taken for another's form ("sang").
        self._forms: dict[tuple[str, ...], str] = {tuple(t.split()): t for t in self.weights}
        for term in self.weights:
            words = term.split()
            for form in word_forms(words[-1], noun_only=words[-1] in nouns):
                self._forms.setdefault((*words[:-1], form), term)
        self._longest = max((len(k) for k in self._forms), default=1)

    def terms(self, text: str) -> list[tuple[str, float]]:
        """Scene words found in ``text``, in order, each with its strength.

        A word in a simile counts :data:`SIMILE_STRENGTH` ("glowing like an ember" lights no
        fire): a comparison names a sound the listener is not in. So does a word inside a
        hyphenated compound, which describes something else ("mirror-smooth water"). A word
        negated before it in its clause ("no rain", "not a gull", "without wind") is not found.
        """
        return self._scan(text)[0]

    def denied(self, text: str) -> frozenset[str]:
        """The layers whose words ``text`` denies ("there was no rain"): a scene for it must
        not bring them in as a built-in's quiet extra either."""
        return frozenset(layer for term in self._scan(text)[1] for layer in self.weights[term])

    def _scan(self, text: str) -> tuple[list[tuple[str, float]], set[str]]:
        found: list[tuple[str, float]] = []
        denied: set[str] = set()
        # Phrases and similes end with their clause: "like the sea, the rain fell" is rain.
        for clause in _CLAUSE_BREAK.split(text):
            tokens = _tokens(clause)
            words = [w for w, _ in tokens]
            i = 0
            while i < len(tokens):
                for size in range(min(self._longest, len(tokens) - i), 0, -1):
                    window = tokens[i : i + size]
                    term = self._forms.get(tuple(w for w, _ in window))
                    if term is not None and _negated(words, i):
                        denied.add(term)  # "no rain", "without a breath of wind": not heard
                        i += size
                        break
                    if term is not None:
                        strength = min(f for _, f in window)
                        if _in_simile(words, i):
                            strength *= SIMILE_STRENGTH
                        found.append((term, strength))
                        i += size
                        break
                else:
                    i += 1
        return found, denied

    def scores(self, text: str) -> dict[str, float]:
        """Evidence for each layer in ``text`` (layers with none are left out).

        Each term adds ``weight * log2(1 + mentions)``: the second "mirror" adds less than the
        first, so one word repeated does not outweigh several different ones.
        """
        mentions: Counter[str] = Counter()
        for term, strength in self.terms(text):
            mentions[term] += strength
        out: dict[str, float] = {}
        for term, count in mentions.items():
            for layer, weight in self.weights[term].items():
                out[layer] = out.get(layer, 0.0) + weight * math.log2(1.0 + count)
        return out


#: How much a word inside a simile counts, and how far back (in words) "like" or "as if"
#: reaches. Four words cover "like puddles left after rain" but not the next clause.
SIMILE_STRENGTH = 0.3
COMPOUND_STRENGTH = 0.3
SIMILE_REACH = 4
_CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]\"“”—–]+|\s-\s")
_SIMILE_MARKS = {("like",), ("as", "if"), ("as", "though"), ("resembling",)}


#: Words that deny the scene word they govern: "no rain", "without a breath of wind", "nor
#: gulls"; "not", "never" and "-n't" only a counted one ("not a gull", "never a sound of the
#: sea"). Between the denial and the word only :data:`_DENIED_GAP` may stand, so "no one
#: minded the rain", "no idea the rain would come" and "without hurry through the rain" are
#: rain, and "shows not the reflection but …" still takes place among mirrors.
_NEGATIONS = frozenset({"no", "without", "nor", "neither"})
_WEAK_NEGATIONS = frozenset({"not", "never"})
_COUNTED = frozenset({"a", "an", "any", "one", "single", "even"})
_DENIED_GAP = frozenset(
    {"a", "an", "any", "single", "even", "more", "longer", "of", "the", "sound", "sounds",
     "trace", "sign", "signs", "breath", "hint", "whisper", "drop", "drops", "gust", "wisp",
     "murmur", "cry", "cries", "call", "calls"}
)  # fmt: skip
NEGATION_REACH = 4


def _negated(words: list[str], i: int) -> bool:
    for k in range(i - 1, max(0, i - NEGATION_REACH) - 1, -1):
        word = words[k]
        weak = word in _WEAK_NEGATIONS or word.endswith(("n't", "n’t"))
        if word in _NEGATIONS or (weak and k + 1 < i and words[k + 1] in _COUNTED):
            return True
        if word not in _DENIED_GAP:
            return False  # "no one minded the rain": the denial is of something else
    return False


def _in_simile(words: list[str], i: int) -> bool:
    before = words[max(0, i - SIMILE_REACH) : i]
    return any(
        tuple(before[k : k + len(mark)]) == mark
        for mark in _SIMILE_MARKS
        for k in range(len(before) - len(mark) + 1)
    )


def _tokens(text: str) -> list[tuple[str, float]]:
    """Lower-case words without possessive endings, with their strength: compounds are split
    into their words at :data:`COMPOUND_STRENGTH`."""
    out: list[tuple[str, float]] = []
    for word in words_of(text):
        word = re.sub(r"'s?$", "", word.lower().replace("’", "'"))
        parts = [p for p in word.split("-") if p]
        strength = 1.0 if len(parts) == 1 else COMPOUND_STRENGTH
        out.extend((part, strength) for part in parts)
    return out


def scene_words() -> SceneWords:
    """Every registered layer's words, compiled once for each set of layers."""
    return _compiled(tuple(layer_names()))


@functools.cache
def _compiled(names: tuple[str, ...]) -> SceneWords:
    return SceneWords()
