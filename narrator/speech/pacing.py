"""Pacing: the pauses that bring a narration to its words-per-minute target.

``--pace`` is words per minute over the whole narration, pauses included (first word to last
word). Engines are set to speak a little faster than that; the designed pauses make up the
rest: after a sentence, longer after a paragraph, longest between chapters. The pause budget
(``words / pace * 60 - speech``) is shared in fixed ratios, each kind clamped to sane bounds;
when a kind hits a bound the others absorb the rest. If every kind is at a bound the target is
missed, and the planned pace says by how much (the narration reports the measured pace).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from narrator.errors import SpeechError
from narrator.text.script import Passage

#: A calm sleep-story pace. Sleep narrators speak at roughly 110–140 wpm with long pauses.
DEFAULT_PACE_WPM = 130.0
MIN_PACE_WPM = 40.0
MAX_PACE_WPM = 400.0


class Gap(Enum):
    """The kind of pause after a sentence."""

    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"
    CHAPTER = "chapter"


@dataclass(frozen=True, kw_only=True)
class PauseRule:
    """How one kind of pause takes its share: ``ratio`` of the unit, within ``[min_s, max_s]``."""

    ratio: float
    min_s: float
    max_s: float


#: Sentence 1 : paragraph 2.2 : chapter 4, each within bounds that still sound like a pause
#: (not a stumble) and not like the story has ended. The long ends are reached only at the
#: slowest paces (60–80 wpm), where sleep narrators do leave seconds between sentences.
DEFAULT_RULES: dict[Gap, PauseRule] = {
    Gap.SENTENCE: PauseRule(ratio=1.0, min_s=0.3, max_s=4.0),
    Gap.PARAGRAPH: PauseRule(ratio=2.2, min_s=0.8, max_s=8.0),
    Gap.CHAPTER: PauseRule(ratio=4.0, min_s=2.0, max_s=12.0),
}


@dataclass(frozen=True, kw_only=True)
class Pauses:
    """Pause lengths for one narration, and the pace they give.

    ``planned_pace_wpm`` equals ``target_pace_wpm`` unless the bounds stopped the target.
    """

    sentence_s: float
    paragraph_s: float
    chapter_s: float
    target_pace_wpm: float
    planned_pace_wpm: float

    def after(self, gap: Gap) -> float:
        """The pause in seconds for ``gap``."""
        return {
            Gap.SENTENCE: self.sentence_s,
            Gap.PARAGRAPH: self.paragraph_s,
            Gap.CHAPTER: self.chapter_s,
        }[gap]

    @property
    def target_met(self) -> bool:
        return abs(self.planned_pace_wpm - self.target_pace_wpm) <= 0.005 * self.target_pace_wpm


def gaps_after(passages: Sequence[Passage]) -> list[list[Gap | None]]:
    """For every sentence of every passage, the kind of pause after it (``None`` after the last).

    A passage that ends its paragraph is followed by a paragraph pause, one cut from a long
    paragraph by a sentence pause, and a change of chapter by a chapter pause.
    """
    out: list[list[Gap | None]] = []
    for i, passage in enumerate(passages):
        kinds: list[Gap | None] = [Gap.SENTENCE] * (len(passage.sentences) - 1)
        if i + 1 == len(passages):
            kinds.append(None)
        elif passages[i + 1].chapter != passage.chapter:
            kinds.append(Gap.CHAPTER)
        elif passage.ends_paragraph:
            kinds.append(Gap.PARAGRAPH)
        else:
            kinds.append(Gap.SENTENCE)
        out.append(kinds)
    return out


def check_pace(pace_wpm: float) -> float:
    """``pace_wpm`` as a float, or :class:`SpeechError` when it is not a usable pace."""
    pace = float(pace_wpm)
    if not MIN_PACE_WPM <= pace <= MAX_PACE_WPM:
        raise SpeechError(
            f"pace {pace_wpm:g} wpm is out of range; choose {MIN_PACE_WPM:g}–{MAX_PACE_WPM:g} "
            f"words per minute ({DEFAULT_PACE_WPM:g} is a calm sleep pace)"
        )
    return pace


def plan_pauses(
    *,
    words: int,
    speech_s: float,
    gaps: Iterable[Gap | None],
    pace_wpm: float = DEFAULT_PACE_WPM,
    rules: dict[Gap, PauseRule] | None = None,
) -> Pauses:
    """Pause lengths that make ``words`` spoken in ``speech_s`` last ``words / pace_wpm`` minutes.

    Parameters
    ----------
    words : int
        Words in the narration.
    speech_s : float
        Voiced time in seconds (trimmed sentence clips, summed).
    gaps : iterable of Gap or None
        The pause after every sentence (``None`` entries are ignored).
    pace_wpm : float
        The target, words per minute over speech and pauses.
    """
    pace = check_pace(pace_wpm)
    rules = rules or DEFAULT_RULES
    counts = Counter(g for g in gaps if g is not None)
    budget_s = words / pace * 60.0 - speech_s

    def total(unit_s: float) -> float:
        return sum(n * _clamp(rules[g].ratio * unit_s, rules[g]) for g, n in counts.items())

    # total() is continuous and non-decreasing in the unit, so bisection finds the unit whose
    # clamped pauses sum to the budget, or the bounds stop it at one end.
    low, high = 0.0, max(r.max_s / r.ratio for r in rules.values())
    if counts and total(low) < budget_s < total(high):
        for _ in range(60):
            mid = 0.5 * (low + high)
            if total(mid) < budget_s:
                low = mid
            else:
                high = mid
        unit_s = 0.5 * (low + high)
    else:
        unit_s = high if counts and budget_s >= total(high) else 0.0

    lengths = {g: _clamp(rules[g].ratio * unit_s, rules[g]) for g in Gap}
    spoken_s = speech_s + sum(n * lengths[g] for g, n in counts.items())
    planned = words / spoken_s * 60.0 if spoken_s > 0 else pace
    return Pauses(
        sentence_s=lengths[Gap.SENTENCE],
        paragraph_s=lengths[Gap.PARAGRAPH],
        chapter_s=lengths[Gap.CHAPTER],
        target_pace_wpm=pace,
        planned_pace_wpm=planned,
    )


MAX_SLOW_DOWN = 0.5


def check_slow_down(slow_down: float) -> float:
    """``slow_down`` as a float, or :class:`SpeechError` when it is out of range."""
    value = float(slow_down)
    if not 0.0 <= value <= MAX_SLOW_DOWN:
        raise SpeechError(
            f"slow-down must be from 0 to {MAX_SLOW_DOWN:g}, got {slow_down:g}; "
            "0 keeps every pause the same, 0.2 is the default"
        )
    return value


def slowed_pauses(
    pauses: Pauses,
    gaps: Sequence[Sequence[Gap | None]],
    slow_down: float,
    rules: dict[Gap, PauseRule] | None = None,
) -> list[list[float]]:
    """Every pause, in seconds, per passage and sentence, growing from the first passage to the
    last while their sum (and so the overall pace) stays that of the flat plan.

    The planned pause of each kind is scaled by ``1 + 2 slow_down r`` (``r`` runs from -1 at
    the first passage to 1 at the last, centred so that the scaling averages to 1 over the
    pauses) and kept within its kind's bounds; a common factor then brings the clamped sum
    back to the flat sum, so a pause near the start never shrinks to a stumble (the bound) and
    the end takes up what the start could not give. ``None`` gaps (after the last sentence)
    are 0.

    Raises
    ------
    SpeechError
        ``slow_down`` outside 0 to :data:`MAX_SLOW_DOWN`.
    """
    check_slow_down(slow_down)
    rules = rules or DEFAULT_RULES
    flat = [[0.0 if g is None else pauses.after(g) for g in kinds] for kinds in gaps]
    if slow_down == 0.0 or len(gaps) < 2:
        return flat
    last = len(gaps) - 1
    ramp = [2.0 * k / last - 1.0 for k in range(len(gaps))]
    counts = [sum(g is not None for g in kinds) for kinds in gaps]
    if sum(counts):
        centre = sum(r * n for r, n in zip(ramp, counts, strict=True)) / sum(counts)
        ramp = [r - centre for r in ramp]
    factors = [max(1.0 + 2.0 * slow_down * r, 0.0) for r in ramp]

    def shaped(scale: float) -> list[list[float]]:
        return [
            [0.0 if g is None else _clamp(pauses.after(g) * f * scale, rules[g]) for g in kinds]
            for kinds, f in zip(gaps, factors, strict=True)
        ]

    def total(rows: list[list[float]]) -> float:
        return sum(sum(row) for row in rows)

    target_s = total(flat)
    # The clamped sum is continuous and non-decreasing in the scale: bisect for the flat sum.
    low, high = 0.0, 1.0
    while total(shaped(high)) < target_s and high < 1e3:
        high *= 2.0
    for _ in range(50):
        mid = 0.5 * (low + high)
        if total(shaped(mid)) < target_s:
            low = mid
        else:
            high = mid
    return shaped(0.5 * (low + high))


def _clamp(value_s: float, rule: PauseRule) -> float:
    return min(max(value_s, rule.min_s), rule.max_s)
