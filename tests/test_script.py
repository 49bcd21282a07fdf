"""Story text → passages: every word kept, in order; long paragraphs split at boundaries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from narrator.errors import NarratorError, ScriptError
from narrator.text.markup import plain_blocks
from narrator.text.script import (
    MAX_PASSAGE_CHARS,
    MAX_SENTENCE_CHARS,
    parse_story,
    parse_text,
    words_of,
)
from narrator.text.sentences import decode_story_bytes, normalize_for_speech, split_sentences
from narrator.text.spoken import spell_out
from narrator.text.symbols import drop_symbols

SEED_STORY = Path(__file__).resolve().parents[1] / "seeds" / "dream.txt"


def spoken_words(text: str) -> list[str]:
    return [w for p in parse_text(text).passages for w in words_of(p.text)]


def test_paragraphs_become_passages_in_order():
    script = parse_text("One little line.\n\nTwo lines\nof a paragraph.\n\n\nThree.")
    assert [p.text for p in script.passages] == [
        "One little line.",
        "Two lines of a paragraph.",
        "Three.",
    ]
    assert [p.line for p in script.passages] == [1, 3, 7]
    assert all(p.ends_paragraph for p in script.passages)


def test_long_paragraph_splits_at_sentences_without_losing_words():
    sentence = "The lantern swings slowly in the warm evening air above the water."
    paragraph = " ".join([sentence] * 30)
    script = parse_text(paragraph)
    assert len(script.passages) > 1
    for passage in script.passages:
        assert len(passage.text) <= MAX_PASSAGE_CHARS
        # Split at sentence ends: every passage is whole sentences.
        assert all(s == sentence for s in passage.sentences)
    assert [p.ends_paragraph for p in script.passages][-1]
    assert not script.passages[0].ends_paragraph
    assert spoken_words(paragraph) == words_of(paragraph)


def test_sentence_without_stops_is_split_at_clauses_then_spaces():
    clause = "and the river runs on, "
    long = (clause * 40).strip() + " forever"
    script = parse_text(long)
    assert len(script.passages) >= 1
    assert all(len(s) <= 300 for p in script.passages for s in p.sentences)
    assert spoken_words(long) == words_of(long)


def test_sentence_split_respects_abbreviations_and_initials():
    text = "Dr. Smith met J. R. Jones at 5 p.m. on Main St. today. They walked. Did it rain? Yes!"
    assert split_sentences(text) == [
        "Dr. Smith met J. R. Jones at 5 p.m. on Main St. today.",
        "They walked.",
        "Did it rain?",
        "Yes!",
    ]


def test_normalization_of_typography():
    text = "“Hello”—she said… it’s\u00a0late"
    assert normalize_for_speech(text) == '"Hello", she said... it\'s late'


def within_bounds(passage) -> bool:
    """Passages and sentences within their lengths, or one sentence that is one long word."""
    sentences_ok = all(
        len(s) <= MAX_SENTENCE_CHARS or len(words_of(s)) == 1 for s in passage.sentences
    )
    return sentences_ok and (len(passage.text) <= MAX_PASSAGE_CHARS or len(passage.sentences) == 1)


def normalized_words(text: str) -> list[str]:
    """Words of the input as the parser normalizes it, paragraph by paragraph (chapters'
    headings are not read)."""
    return [
        w
        for block in plain_blocks(text)
        if not block.level
        for w in words_of(spell_out(normalize_for_speech(drop_symbols(block.text)[0])))
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=3000))
def test_every_word_spoken_in_order_for_any_text(text):
    """Any text parses, and splitting into passages loses no word. The expected words come
    from the parser's own normalization, so this checks the splitting only; the words
    themselves are checked against the story in test_plain_words_are_spoken_exactly_as_written.
    """
    try:
        script = parse_text(text)
    except NarratorError:
        # Parsing raises nothing but the package's own errors.
        return
    assert all(within_bounds(p) for p in script.passages)
    assert all(p.sentences and all(words_of(s) for s in p.sentences) for p in script.passages)
    cue_free = not any(c in text for c in "[]<\\") and text.split("\n")[0].strip() not in (
        "---",
        "+++",
    )
    # A word longer than a sentence may be is spoken whole too: no length condition here.
    if cue_free:
        spoken = [w for p in script.passages for w in words_of(p.text)]
        assert spoken == normalized_words(text)


def test_long_words_are_spoken_whole():
    text = "Understanding comes slowly: extraordinarily quiet, incomprehensibly vast skies."
    spoken = [p.text for p in parse_text(text).passages]
    assert spoken == [text], f"the long words were lost or changed: {spoken}"


_LETTERS = "abcdefghijklmnopqrstuvwxyzéèàçñøåäöüß"
#: Words that normalization leaves alone (lowercase letters, inner hyphens and apostrophes;
#: none of them an abbreviation spell_out expands), each with what follows it in the story.
_WORD = st.builds(
    lambda a, joint, b: a + joint + b if joint else a,
    st.text(_LETTERS, min_size=1, max_size=24),
    st.sampled_from(["", "", "", "-", "'", "\u2019"]),
    st.text(_LETTERS, min_size=1, max_size=12),
).filter(lambda w: w not in ("vs", "etc", "approx"))
_PLAIN_GAPS = [" ", "  ", "\t", "\n", "\n\n", ", ", ". ", "! ", "? ", "; ", ": ", " (", ") "]
_TYPOGRAPHIC_GAPS = [" \u2014 ", "\u2014", " \u2013 ", "\u2026 ", "\u00a0", " \u201c", "\u201d "]
_BETWEEN = st.sampled_from([*_PLAIN_GAPS, *_TYPOGRAPHIC_GAPS])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_WORD, _BETWEEN), min_size=1, max_size=40))
@example([("night", " "), ("understanding", ", "), ("incomprehensibilities", ".")])
def test_plain_words_are_spoken_exactly_as_written(pieces):
    """Expected words are the generated ones (curly apostrophes read as straight), not the
    parser's own normalization run again: a word it drops is missing from one side only."""
    script = parse_text("".join(word + gap for word, gap in pieces))
    spoken = [w for p in script.passages for w in words_of(p.text)]
    expected = [word.replace("\u2019", "'") for word, _ in pieces]
    missing = [w for w in expected if w not in spoken]
    assert spoken == expected, f"spoken words differ from the story's; missing: {missing}"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Dr. Who",
                "3:45 p.m.",
                "a",
                "[pause 2s]",
                "[scene: rain]",
                "\\[",
                "]",
                '<break time="1s"/>',
                ".",
                "!",
                "\n\n",
                " ",
                "1,200",
                "Jan. 5th",
                "é",
                "🌙",
                "[nope]",
                "\x00",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_parsing_cue_rich_text_raises_only_our_errors(text):
    try:
        script = parse_text(text)
    except NarratorError:
        return
    assert all(within_bounds(p) for p in script.passages)


def test_demo_story_passages():
    script = parse_story(SEED_STORY)
    raw = SEED_STORY.read_text(encoding="utf-8")
    assert script.title == "Dream"
    assert script.passages[0].text == "I am dreaming. You are dreaming."
    assert [w for p in script.passages for w in words_of(p.text)] == normalized_words(raw)
    # And against the file read independently: plain prose, so every word as written (curly
    # apostrophes straightened), "understanding" and "disappointments" among them.
    written = re.findall(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*", raw.replace("\u2019", "'"))
    spoken = [w for p in script.passages for w in words_of(p.text)]
    assert spoken == written, f"missing: {sorted(set(written) - set(spoken))}"
    assert script.passages[-1].text.startswith("And you know")
    assert script.passages[-1].text.endswith("beyond the reach of doubt.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n\t\r\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(1, 32)) * 20, "binary"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(data, message):
    with pytest.raises(ScriptError, match=message):
        decode_story_bytes(data, source="story.txt")


def test_encodings_are_read(tmp_path):
    text = "Café au lait — naïve dreams.\r\nSecond line."
    for name, data in {
        "utf8.txt": text.encode("utf-8"),
        "bom.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "utf16.txt": text.encode("utf-16"),
        "cp1252.txt": text.encode("cp1252"),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        script = parse_story(path)
        assert words_of(script.passages[0].text)[:4] == ["Café", "au", "lait", "naïve"], name


def test_missing_file_error_names_the_path(tmp_path):
    with pytest.raises(ScriptError, match=r"nope\.txt: no such file"):
        parse_story(tmp_path / "nope.txt")
