"""Pacing: the pause budget, its ratios and bounds, and the kind of every gap."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrator.errors import SpeechError
from narrator.speech.pacing import (
    DEFAULT_RULES,
    Gap,
    check_pace,
    check_slow_down,
    gaps_after,
    plan_pauses,
    slowed_pauses,
)
from narrator.text.script import Passage


def _gaps(sentence: int, paragraph: int, chapter: int) -> list[Gap | None]:
    return (
        [Gap.SENTENCE] * sentence + [Gap.PARAGRAPH] * paragraph + [Gap.CHAPTER] * chapter + [None]
    )


def test_budget_is_met_in_the_fixed_ratios():
    words, speech_s = 400, 150.0
    gaps = _gaps(20, 5, 1)
    pauses = plan_pauses(words=words, speech_s=speech_s, gaps=gaps, pace_wpm=130)
    total_s = speech_s + 20 * pauses.sentence_s + 5 * pauses.paragraph_s + pauses.chapter_s
    assert words / total_s * 60 == pytest.approx(130, rel=1e-6)
    assert pauses.paragraph_s / pauses.sentence_s == pytest.approx(2.2)
    assert pauses.chapter_s / pauses.sentence_s == pytest.approx(4.0)
    assert pauses.target_met and pauses.planned_pace_wpm == pytest.approx(130)


@pytest.mark.parametrize(
    ("speech_s", "bound"),
    [(40.0, "max"), (125.0, "min")],
    ids=["chapter-at-longest", "chapter-at-shortest"],
)
def test_a_clamped_kind_hands_its_share_to_the_others(speech_s, bound):
    # The chapter pause hits a bound; sentence and paragraph pauses keep their 1 : 2.2 ratio
    # and absorb the difference, so the target is still met.
    words = 300
    gaps = _gaps(10, 4, 3)
    pauses = plan_pauses(words=words, speech_s=speech_s, gaps=gaps, pace_wpm=130)
    rule = DEFAULT_RULES[Gap.CHAPTER]
    assert pauses.chapter_s == (rule.max_s if bound == "max" else rule.min_s)
    assert pauses.chapter_s != pytest.approx(4.0 * pauses.sentence_s, rel=0.01)
    assert pauses.paragraph_s / pauses.sentence_s == pytest.approx(2.2)
    total_s = speech_s + 10 * pauses.sentence_s + 4 * pauses.paragraph_s + 3 * pauses.chapter_s
    assert words / total_s * 60 == pytest.approx(130, rel=1e-6)
    assert pauses.target_met


def test_speech_already_slower_than_the_target_is_reported_not_hidden():
    words, speech_s = 100, 60.0  # 100 wpm of speech alone; target 130
    gaps = _gaps(8, 2, 0)
    pauses = plan_pauses(words=words, speech_s=speech_s, gaps=gaps, pace_wpm=130)
    assert pauses.sentence_s == DEFAULT_RULES[Gap.SENTENCE].min_s
    assert pauses.paragraph_s == DEFAULT_RULES[Gap.PARAGRAPH].min_s
    total_s = speech_s + 8 * pauses.sentence_s + 2 * pauses.paragraph_s
    assert pauses.planned_pace_wpm == pytest.approx(words / total_s * 60)
    assert pauses.planned_pace_wpm < 100 and not pauses.target_met


def test_a_target_too_slow_for_the_bounds_stops_at_the_longest_pauses():
    pauses = plan_pauses(words=100, speech_s=30.0, gaps=_gaps(5, 1, 0), pace_wpm=50)
    assert pauses.sentence_s == DEFAULT_RULES[Gap.SENTENCE].max_s
    assert pauses.paragraph_s == DEFAULT_RULES[Gap.PARAGRAPH].max_s
    assert pauses.planned_pace_wpm > 50 and not pauses.target_met


@given(
    words=st.integers(20, 5000),
    speed_wpm=st.floats(120, 220),
    counts=st.tuples(st.integers(0, 300), st.integers(0, 60), st.integers(0, 8)),
    pace=st.floats(80, 180),
)
def test_pauses_stay_in_bounds_and_the_plan_is_honest(words, speed_wpm, counts, pace):
    speech_s = words / speed_wpm * 60
    pauses = plan_pauses(words=words, speech_s=speech_s, gaps=_gaps(*counts), pace_wpm=pace)
    for gap in Gap:
        rule = DEFAULT_RULES[gap]
        assert rule.min_s <= pauses.after(gap) <= rule.max_s
    total_s = speech_s + sum(n * pauses.after(g) for n, g in zip(counts, Gap, strict=True))
    assert pauses.planned_pace_wpm == pytest.approx(words / total_s * 60, rel=1e-9)
    if pauses.target_met:
        assert pauses.planned_pace_wpm == pytest.approx(pace, rel=0.005)


def test_gap_kinds_follow_sentences_paragraphs_and_chapters():
    passages = [
        Passage(index=0, chapter=0, sentences=("A.", "B."), ends_paragraph=False),
        Passage(index=1, chapter=0, sentences=("C.",), ends_paragraph=True),
        Passage(index=2, chapter=0, sentences=("D.", "E."), ends_paragraph=True),
        Passage(index=3, chapter=1, sentences=("F.",), ends_paragraph=True),
    ]
    assert gaps_after(passages) == [
        [Gap.SENTENCE, Gap.SENTENCE],  # a long paragraph cut in two: a sentence pause
        [Gap.PARAGRAPH],
        [Gap.SENTENCE, Gap.CHAPTER],
        [None],
    ]


@pytest.mark.parametrize("pace", [0, -10, 10, 1000, float("nan")])
def test_an_unusable_pace_is_refused(pace):
    with pytest.raises(SpeechError, match="wpm"):
        check_pace(pace)


def _story_gaps(passages: int) -> list[list[Gap | None]]:
    """Passages of three sentences; a paragraph ends every other passage, a chapter at half."""
    out: list[list[Gap | None]] = []
    for k in range(passages):
        end = Gap.CHAPTER if k == passages // 2 else Gap.PARAGRAPH if k % 2 else Gap.SENTENCE
        out.append([Gap.SENTENCE, Gap.SENTENCE, None if k == passages - 1 else end])
    return out


@pytest.mark.parametrize("slow_down", [0.1, 0.2, 0.35, 0.5])
@pytest.mark.parametrize("pace", [100, 130, 160])  # at 160 every pause is already the shortest
def test_slowing_grows_the_pauses_keeps_their_sum_and_never_shrinks_one_to_a_stumble(
    slow_down, pace
):
    gaps = _story_gaps(24)
    words, speech_s = 24 * 30, 24 * 30 / 165 * 60
    pauses = plan_pauses(
        words=words, speech_s=speech_s, gaps=[g for row in gaps for g in row], pace_wpm=pace
    )
    flat = slowed_pauses(pauses, gaps, 0.0)
    slowed = slowed_pauses(pauses, gaps, slow_down)
    # The overall pace is the flat plan's: the pauses sum to the same time.
    assert sum(map(sum, slowed)) == pytest.approx(sum(map(sum, flat)), abs=1e-3)
    for row, kinds in zip(slowed, gaps, strict=True):
        for pause_s, gap in zip(row, kinds, strict=True):
            if gap is None:
                assert pause_s == 0.0
            else:  # within the bounds that still sound like a pause
                assert DEFAULT_RULES[gap].min_s <= pause_s <= DEFAULT_RULES[gap].max_s
    # Sentence pauses grow, passage by passage, and the last are longer than the first.
    sentence_s = [row[0] for row in slowed]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(sentence_s))
    if pauses.sentence_s > DEFAULT_RULES[Gap.SENTENCE].min_s:
        assert sentence_s[-1] > (1 + slow_down) * sentence_s[0]
        assert sentence_s[-1] > pauses.sentence_s > sentence_s[0]
    else:  # no room to give at the start: nothing moves
        assert slowed == flat


def test_slowing_off_or_a_single_passage_leaves_the_plan_as_it_is():
    gaps = _story_gaps(6)
    pauses = plan_pauses(words=200, speech_s=70, gaps=[g for row in gaps for g in row])
    assert slowed_pauses(pauses, gaps, 0.0) == [
        [0.0 if g is None else pauses.after(g) for g in row] for row in gaps
    ]
    one = [[Gap.SENTENCE, None]]
    assert slowed_pauses(pauses, one, 0.5) == [[pauses.sentence_s, 0.0]]


@pytest.mark.parametrize("slow_down", [-0.1, 0.51, 2, float("nan")])
def test_an_unusable_slow_down_is_refused(slow_down):
    with pytest.raises(SpeechError, match=r"slow-down must be from 0 to 0\.5"):
        check_slow_down(slow_down)
