"""Transcript cues a player can show: at most two lines of at most 65 characters a cue
(Podcasting 2.0 recommends 65 for WebVTT lines; captions take two lines at most), broken at
phrase boundaries, timed inside their sentence, and together exactly the story's words.

The WebVTT is read back by a small parser of its own here, and the expected words come from
the story's sentences (or the render's report), never from the code under test."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.render.sidecars import transcript_vtt
from narrator.speech.narration import PassageTiming, SentenceTiming
from narrator.text.script import parse_story, parse_text

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
DREAM = ROOT / "seeds" / "dream.txt"

MAX_LINE = 65
MAX_LINES = 2
#: Words a line must never end on: an article, a possessive or demonstrative, "to", "not", an
#: auxiliary (they belong with what follows).
NEVER_LAST = {"the", "a", "an", "to", "my", "your", "his", "her", "its", "our", "their", "this",
              "that", "not", "is", "was", "were", "are", "will", "would"}  # fmt: skip
CONJUNCTIONS = {"and", "but", "or", "nor", "so", "yet", "for", "as", "while", "when",
                "because", "until", "then", "that", "which", "who", "where", "though",
                "although", "if"}  # fmt: skip
PREPOSITIONS = {"about", "above", "across", "after", "against", "along", "among", "around", "at",
                "before", "behind", "below", "beneath", "beside", "between", "beyond", "by",
                "during", "from", "in", "inside", "into", "like", "near", "of", "on", "onto",
                "over", "past", "through", "to", "toward", "towards", "under", "upon", "with",
                "within", "without"}  # fmt: skip
TIME = r"(\d\d):(\d\d):(\d\d)\.(\d{3})"


@dataclass
class Cue:
    id: str
    start_ms: int
    end_ms: int
    lines: list[str]  # as a player shows them (entities read)

    @property
    def sentence(self) -> str:
        """``passage-sentence``: the sentence this cue is (a part of)."""
        return "-".join(self.id.split("-")[:2])

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _ms(h: str, m: str, s: str, ms: str) -> int:
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


def _unescape(line: str) -> str:
    assert "<" not in line and ">" not in line, f"raw markup in a cue line: {line!r}"
    assert not re.search(r"&(?!(amp|lt|gt);)", line), f"a bare & in a cue line: {line!r}"
    return line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_vtt(vtt: str) -> list[Cue]:
    """Cues of a WebVTT file, checking its shape: the header, then blocks of an id, a timing
    line and one or more text lines, with one blank line between blocks."""
    assert vtt.startswith("WEBVTT\n\n"), vtt[:40]
    cues = []
    for block in vtt[len("WEBVTT\n\n") :].rstrip("\n").split("\n\n"):
        rows = block.split("\n")
        assert len(rows) >= 3, f"a cue needs an id, a timing and text: {block!r}"
        cue_id, timing, *text = rows
        assert re.fullmatch(r"\d+-\d+(-\d+)?", cue_id), cue_id
        found = re.fullmatch(rf"{TIME} --> {TIME}", timing)
        assert found, timing
        assert all(line.strip() for line in text), f"an empty line inside a cue: {block!r}"
        assert all("-->" not in line for line in text)
        g = found.groups()
        cues.append(Cue(cue_id, _ms(*g[:4]), _ms(*g[4:]), [_unescape(t) for t in text]))
    return cues


def by_sentence(cues: list[Cue]) -> dict[str, list[Cue]]:
    groups: dict[str, list[Cue]] = {}
    for cue in cues:
        groups.setdefault(cue.sentence, []).append(cue)
    return groups


def timings(script, seconds_per_char: float = 0.07, gap_s: float = 0.6) -> list[PassageTiming]:
    """Synthetic timings: each sentence as long as its text at a sleepy pace, a gap between."""
    out, t = [], 1.0
    for p in script.passages:
        spans = []
        for sentence in p.sentences:
            spans.append(SentenceTiming(start_s=t, end_s=t + seconds_per_char * len(sentence)))
            t = spans[-1].end_s + gap_s
        out.append(PassageTiming(p.index, p.chapter, spans[0].start_s, spans[-1].end_s, spans))
    return out


def sentences_of(script) -> dict[str, str]:
    return {f"{p.index}-{j}": s for p in script.passages for j, s in enumerate(p.sentences)}


def check_shape(cues: list[Cue]) -> None:
    """At most two lines a cue, at most 65 characters a line (a lone overlong word aside)."""
    for cue in cues:
        assert 1 <= len(cue.lines) <= MAX_LINES, cue
        for line in cue.lines:
            assert len(line) <= MAX_LINE or (len(cue.lines) == 1 and " " not in line), (
                f"{cue.id}: {len(line)} characters: {line!r}"
            )


def check_breaks(cues: list[Cue]) -> None:
    """No line ends on an article, possessive, "to", "not" or an auxiliary."""
    for cue in cues:
        for line in cue.lines:
            last = line.split()[-1]
            assert last.lower() not in NEVER_LAST, f"{cue.id}: line ends on {last!r}: {line!r}"


def check_timing(cues: list[Cue], spans: dict[str, tuple[int, int]]) -> None:
    """Cues in order, never overlapping; a sentence's cues follow on from one another and
    cover its span exactly, each starting where its first character falls in the sentence."""
    for a, b in pairwise(cues):
        assert a.start_ms < a.end_ms <= b.start_ms < b.end_ms, (a, b)
    for key, group in by_sentence(cues).items():
        start, end = spans[key]
        assert group[0].start_ms == start and group[-1].end_ms == end, (key, group)
        for a, b in pairwise(group):
            assert a.end_ms == b.start_ms, (a, b)
        total = len(" ".join(c.text for c in group))
        offset = 0
        for cue in group:  # proportional to characters, to the rounding of a millisecond
            assert cue.start_ms == pytest.approx(start + (end - start) * offset / total, abs=1)
            offset += len(cue.text) + 1


def check_ids(cues: list[Cue]) -> None:
    """``p-s`` for a sentence in one cue, ``p-s-0``, ``p-s-1``… for its parts."""
    for key, group in by_sentence(cues).items():
        ids = [c.id for c in group]
        assert ids == ([key] if len(group) == 1 else [f"{key}-{k}" for k in range(len(group))])
    assert len({c.id for c in cues}) == len(cues)


def breaks_of(cues: list[Cue]) -> list[tuple[str, str]]:
    """Every break inside a sentence: (the line before, the line after)."""
    out = []
    for group in by_sentence(cues).values():
        lines = [line for cue in group for line in cue.lines]
        out += list(pairwise(lines))
    return out


def at_phrase_boundary(before: str, after: str) -> bool:
    """After a punctuation mark, or before a conjunction or preposition."""
    first = after.split()[0].strip("\"'(").lower()
    return before[-1] in ",;:.!?" or first in CONJUNCTIONS | PREPOSITIONS


def transcript(text: str) -> tuple[object, list[Cue], dict[str, tuple[int, int]]]:
    script = parse_text(text)
    timing = timings(script)
    spans = {
        f"{p.index}-{j}": (round(s.start_s * 1000), round(s.end_s * 1000))
        for p, t in zip(script.passages, timing, strict=True)
        for j, s in enumerate(t.sentences)
    }
    return script, parse_vtt(transcript_vtt(script, timing)), spans


def check_words(script, cues: list[Cue]) -> None:
    """The cues of each sentence, joined, are that sentence: nothing lost, nothing doubled."""
    expected = sentences_of(script)
    groups = by_sentence(cues)
    assert list(groups) == list(expected)
    for key, sentence in expected.items():
        assert [w for c in groups[key] for w in c.text.split()] == sentence.split(), key


# --- (a) the demo story ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dream_render(tmp_path_factory) -> tuple[list[Cue], dict]:
    folder = tmp_path_factory.mktemp("dream")
    out = folder / "dream.mp3"
    result = runner.invoke(
        app,
        ["render", str(DREAM), "-o", str(out), "--engine", "fake", "--tail", "0",
         "--cache-dir", str(folder / "cache"), "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    vtt = out.with_name("dream.mp3.vtt").read_text(encoding="utf-8")
    report = json.loads(out.with_name("dream.mp3.report.json").read_text(encoding="utf-8"))
    return parse_vtt(vtt), report


def test_the_rendered_demo_story_has_short_cues_of_its_own_words(dream_render):
    cues, report = dream_render
    check_shape(cues)
    check_breaks(cues)
    check_ids(cues)
    # Each sentence of the report's passages (split at sentence ends, as the voice reads them)
    # is exactly the text of its cues, in order.
    expected = {
        f"{p['index']}-{j}": sentence
        for p in report["passages"]
        for j, sentence in enumerate(re.split(r"(?<=[.!?]) ", p["text"]))
    }
    groups = by_sentence(cues)
    assert list(groups) == list(expected)
    for key, sentence in expected.items():
        assert [w for c in groups[key] for w in c.text.split()] == sentence.split(), key
    assert sum(len(s.split()) for s in expected.values()) == report["words"]
    # The story has sentences of up to 255 characters: some are split, and every sentence
    # that fits two lines stays one cue.
    assert len(cues) > len(expected)
    for key, sentence in expected.items():
        if len(sentence) <= MAX_LINE:
            assert [c.lines for c in groups[key]] == [[sentence]], key
        elif len(sentence) <= 2 * MAX_LINE:
            assert len(groups[key]) == 1, (key, groups[key])


def test_the_rendered_demo_story_cues_follow_on_inside_their_passages(dream_render):
    cues, report = dream_render
    for a, b in pairwise(cues):
        assert a.start_ms < a.end_ms <= b.start_ms < b.end_ms, (a, b)
    for group in by_sentence(cues).values():
        for a, b in pairwise(group):
            assert a.end_ms == b.start_ms, (a, b)
    for p in report["passages"]:
        mine = [c for c in cues if c.id.split("-")[0] == str(p["index"])]
        assert mine[0].start_ms == pytest.approx(p["start_s"] * 1000, abs=1)
        assert mine[-1].end_ms == pytest.approx(p["end_s"] * 1000, abs=1)


def test_the_demo_story_breaks_at_phrase_boundaries():
    script = parse_story(DREAM)
    timing = timings(script)
    cues = parse_vtt(transcript_vtt(script, timing))
    spans = {
        f"{p.index}-{j}": (round(s.start_s * 1000), round(s.end_s * 1000))
        for p, t in zip(script.passages, timing, strict=True)
        for j, s in enumerate(t.sentences)
    }
    check_shape(cues)
    check_breaks(cues)
    check_words(script, cues)
    check_timing(cues, spans)
    breaks = breaks_of(cues)
    good = [b for b in breaks if at_phrase_boundary(*b)]
    assert len(breaks) >= 40
    assert len(good) >= 0.75 * len(breaks), [b for b in breaks if b not in good]


# --- (b) long sentences with commas and conjunctions ----------------------------------------

LONG = (
    "The tide comes in slowly over the wide grey sand, and the gulls settle on the old stone "
    "pier, while the boats rock gently at their moorings and the lamps along the harbour wall "
    "flicker on one by one, until the whole town is quiet, and the only sound is the sea as "
    "you drift toward sleep."
)


def test_a_long_sentence_becomes_several_short_cues_split_at_its_phrases():
    assert len(LONG) > 2 * MAX_LINE
    script, cues, spans = transcript(f"The night is calm. {LONG} Rest now.")
    check_shape(cues)
    check_breaks(cues)
    check_words(script, cues)
    check_timing(cues, spans)
    check_ids(cues)
    parts = by_sentence(cues)["0-1"]
    assert len(parts) >= 2 and [c.id for c in parts] == [f"0-1-{k}" for k in range(len(parts))]
    breaks = breaks_of(cues)
    assert breaks and all(at_phrase_boundary(*b) for b in breaks), breaks
    # A cue ends where a clause does: after a comma, or before a conjunction.
    for a, b in pairwise(parts):
        assert a.lines[-1].endswith(",") or b.lines[0].split()[0] in CONJUNCTIONS, (a, b)


def test_the_only_good_break_is_after_the_comma():
    # 114 characters: two lines, broken where both fit (after character 49 to 65). There the
    # only places are after "green," after "the" (never) and after "baker's" (mid-phrase).
    first = "Morning mist gently covers the sleeping village green,"
    second = "the baker's tired apprentice quietly sweeps the empty square."
    _, cues, _ = transcript(f"{first} {second}")
    assert [c.lines for c in cues] == [[first, second]]
    assert [c.id for c in cues] == ["0-0"]


def test_a_line_breaks_before_a_conjunction_when_there_is_no_comma():
    first = "The lanterns along the quiet harbour wall glow softly and warmly"
    second = "and the fishing boats rest beside the pier all night long."
    _, cues, _ = transcript(f"{first} {second}")
    assert [c.lines for c in cues] == [[first, second]]


@pytest.mark.parametrize(
    "sentence",
    [
        # Every word a line could end on near the middle is one that must not end a line
        # except for the comma far from the middle.
        "Slowly, the old wooden boat drifts to the edge of the bay where the water is the "
        "colour of the evening sky above the hills.",
        "You are not alone here; the stars will stay with you, and the moon will watch over "
        "the sea that is your home tonight and every night to come.",
        "A sentence of many short words that are all a little the same, to see how it falls "
        "into lines of an even length and no line ends on a word it should not.",
    ],
)
def test_no_line_ends_on_an_article_to_or_an_auxiliary(sentence):
    script, cues, spans = transcript(sentence)
    check_shape(cues)
    check_breaks(cues)
    check_words(script, cues)
    check_timing(cues, spans)


def test_a_sentence_that_fits_stays_one_cue_and_one_line():
    _, cues, _ = transcript("The sea is calm. The night is soft and still, and you rest.")
    assert [c.lines for c in cues] == [["The sea is calm."],
                                       ["The night is soft and still, and you rest."]]  # fmt: skip
    assert [c.id for c in cues] == ["0-0", "0-1"]


def test_lines_are_measured_as_a_player_shows_them_not_as_escaped():
    # 65 characters shown, 101 written (each & is &amp;): one line.
    sentence = "AT&T, H&M, P&O, B&Q, M&S, A&W, S&P, R&D and Q&A rest by the sea."
    script, cues, _ = transcript(sentence)
    shown = sentences_of(script)["0-0"]
    assert len(shown) <= MAX_LINE < len(shown.replace("&", "&amp;"))
    assert [c.lines for c in cues] == [[shown]]


def test_two_line_cues_are_balanced():
    _, cues, _ = transcript(LONG)
    for cue in cues:
        if len(cue.lines) == 2:
            a, b = (len(line) for line in cue.lines)
            assert abs(a - b) <= 35, cue


# --- Words longer than a line ---------------------------------------------------------------


@pytest.mark.parametrize("length", [66, 72, 140, 500])
def test_a_word_longer_than_a_line_stands_alone_and_whole(length):
    word = "w" + "o" * (length - 2) + "w"
    script, cues, spans = transcript(
        f"The sea says {word} tonight, and the waves fold over and over on the sand, while the "
        "wind goes quiet and the last gull settles on the rocks below the lighthouse."
    )
    check_shape(cues)
    check_breaks(cues)
    check_words(script, cues)
    check_timing(cues, spans)
    holding = [c for c in cues if "w" + "o" * 10 in c.text]
    assert len(holding) == 1 and holding[0].lines == [word]
    others = [line for c in cues if c is not holding[0] for line in c.lines]
    assert all(len(line) <= MAX_LINE for line in others)


def test_the_escaping_is_kept_in_split_cues():
    sentence = (
        "Tom & Jerry walk to the shore at night, where the <sea> meets the sand-->and the "
        "tide, and AT&T's old cable hums beneath the water as the moon rises over the bay."
    )
    script = parse_text(sentence)
    vtt = transcript_vtt(script, timings(script))
    assert "&lt;sea&gt;" in vtt and "--&gt;" in vtt and "AT&amp;T's" in vtt
    cues = parse_vtt(vtt)  # no raw <, >, bare & or "-->" in any cue line
    check_shape(cues)
    check_words(script, cues)
