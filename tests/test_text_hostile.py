"""Hostile story text (issue 13, "nothing lost, nothing leaked"): words kept whole, cues that
lost their end, front matter that would explode or hides its line, and inputs large enough to
make a parser slow or an error line long."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.errors import QUOTE_CHARS, ScriptError
from narrator.render.sidecars import transcript_vtt
from narrator.speech.narration import PassageTiming, SentenceTiming
from narrator.text import sentences as text_module
from narrator.text.pronunciation import Lexicon, load_lexicon
from narrator.text.script import MAX_STORY_CHARS, parse_story, parse_text, words_of

runner = CliRunner()
#: No error line may be longer than this, whatever the story holds.
SHORT_LINE = 300
PROSE = "The lantern swings slowly in the warm evening air above the water. "


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:500]
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def error_of(text: str, **kw) -> str:
    with pytest.raises(ScriptError) as info:
        parse_text(text, source="story.md", **kw)
    message = str(info.value)
    assert len(message) < SHORT_LINE, message[:SHORT_LINE]
    return message


def fake_timings(script) -> list[PassageTiming]:
    """One second per sentence, back to back: enough to lay out a transcript."""
    out, t = [], 0.0
    for p in script.passages:
        spans = []
        for _ in p.sentences:
            spans.append(SentenceTiming(start_s=t, end_s=t + 1.0))
            t += 1.0
        out.append(PassageTiming(p.index, p.chapter, spans[0].start_s, spans[-1].end_s, spans))
    return out


def vtt_cue_texts(vtt: str) -> list[str]:
    blocks = vtt.strip().split("\n\n")[1:]
    return [block.split("\n", 2)[2] for block in blocks]


# --- 2. No word is ever split ---------------------------------------------------------------

LONG_WORD = "a" * 300 + "b" * 200


def test_a_500_letter_word_stays_whole_in_the_passages_and_the_transcript():
    story = f"The night is calm. {LONG_WORD} rests here, and the sea hums."
    script = parse_text(story)
    spoken = [w for p in script.passages for w in words_of(p.text)]
    assert spoken == ["The", "night", "is", "calm", LONG_WORD, "rests", "here", "and", "the",
                      "sea", "hums"]  # fmt: skip
    cues = vtt_cue_texts(transcript_vtt(script, fake_timings(script)))
    assert LONG_WORD in cues
    assert [w for cue in cues for w in words_of(cue)] == spoken


def test_long_words_glued_by_marks_are_cut_between_them_never_inside():
    story = f"{LONG_WORD}.{LONG_WORD},{LONG_WORD}!"
    script = parse_text(story)
    sentences = [s for p in script.passages for s in p.sentences]
    assert [w for s in sentences for w in words_of(s)] == [LONG_WORD] * 3
    assert all(len(words_of(s)) == 1 for s in sentences)


def test_a_fake_render_keeps_the_long_word_in_one_cue(tmp_path):
    story = tmp_path / "long.txt"
    story.write_text(f"The night is calm. {LONG_WORD} rests here.\n", encoding="utf-8")
    out = tmp_path / "long.mp3"
    result = runner.invoke(
        app,
        ["render", str(story), "-o", str(out), "--engine", "fake", "--tail", "0", "--no-cache",
         "-q"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cues = vtt_cue_texts(out.with_name("long.mp3.vtt").read_text(encoding="utf-8"))
    assert LONG_WORD in cues
    assert [w for c in cues for w in words_of(c)] == [
        "The", "night", "is", "calm", LONG_WORD, "rests", "here"
    ]  # fmt: skip


def test_transcript_escapes_what_webvtt_would_read_as_markup():
    # ("x --> y" is an arrow, read as a pause; unspaced it stays, and must not end the cue.)
    script = parse_text("Tom & Jerry, AT&T <b>bold</b> and x-->y.")
    cues = vtt_cue_texts(transcript_vtt(script, fake_timings(script)))
    assert cues == ["Tom and Jerry, AT&amp;T &lt;b&gt;bold&lt;/b&gt; and x--&gt;y."]


# --- 3. Cues that lost their end ------------------------------------------------------------


@pytest.mark.parametrize(
    ("story", "where", "quoted"),
    [
        ("Calm.\n\nThen [pause 3s the sea.", "story.md:3", "'[pause 3s the sea.'"),
        ("[scene: coast\nWaves roll.", "story.md:1", "'[scene: coast'"),
        ("Rain. [ADD: rain", "story.md:1", "'[ADD: rain'"),
        ("A\nB [remove wind] C [pause 2s", "story.md:2", "'[pause 2s'"),
    ],
)
def test_an_unclosed_cue_is_an_error_that_says_how_to_fix_it(story, where, quoted):
    message = error_of(story)
    assert message.startswith(f"{where}: cue {quoted} is not closed")
    assert "close it with ]" in message and "\\[" in message


def test_an_unclosed_break_tag_is_an_error():
    message = error_of('One.\nTwo <break time="2s" three.')
    assert message.startswith("story.md:2: '<break time=\"2s\" three.' is not closed")
    assert "/>" in message


def test_a_break_without_its_slash_is_still_a_pause():
    script = parse_text('One. <break time="2s"> Two.')
    assert [p.text for p in script.passages] == ["One.", "Two."]
    assert script.passages[0].pause_after_s == 2.0


def test_other_unmatched_brackets_are_read_as_text_with_one_warning():
    script = parse_text("She said [softly, and left.\n\nThe door ] closed.", source="story.txt")
    assert [p.text for p in script.passages] == [
        "She said [softly, and left.",
        "The door ] closed.",
    ]
    assert script.warnings == (
        "story.txt:1: an unmatched bracket is read as text (lines 1, 3); write \\[ or \\] for a "
        "literal bracket, or close the cue with ]",
    )


def test_thousands_of_unmatched_brackets_make_one_short_warning():
    script = parse_text("a ] b\n" * 3000, source="story.txt")
    assert len(script.warnings) == 1
    assert script.warnings[0].startswith("story.txt:1: an unmatched bracket is read as text")
    assert "(lines 1, 2, 3, 4, 5, …)" in script.warnings[0]


def test_escaped_and_markdown_brackets_make_no_warning():
    script = parse_text(r"A \[pause\] and [a link](https://example.org).", markdown=True)
    assert script.passages[0].text == "A [pause] and a link."
    assert script.warnings == ()


def test_an_unclosed_cue_from_the_command_line_is_one_line(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text("Calm.\n\nThen [pause 3s the sea.\n", encoding="utf-8")
    line = one_error_line(runner.invoke(app, ["passages", str(story)]))
    assert f"{story}:3: cue '[pause 3s the sea.' is not closed" in line


@pytest.mark.parametrize(
    ("front", "line", "says"),
    [
        ("title: T\nengine: bogus\n", 3, "unknown speech engine 'bogus'"),
        ("voice: /nowhere/x.onnx\n", 2, "piper voice file /nowhere/x.onnx does not exist"),
        ("engine: kokoro\nsetting:\n  lang: xx\n", 3, "setting lang='xx' of the kokoro engine"),
    ],
)
def test_a_front_matter_engine_voice_or_setting_that_cannot_speak_names_its_line(
    tmp_path, front, line, says
):
    story = tmp_path / "story.md"
    story.write_text(f"---\n{front}---\nHello.\n", encoding="utf-8")
    args = ["render", str(story), "-o", str(tmp_path / "o.mp3"), "-q"]
    assert one_error_line(runner.invoke(app, args)).startswith(f"error: {story}:{line}: {says}")
    # Set on the command line, the same mistake is not the story's: no line.
    if "engine: bogus" in front:
        story.write_text("Hello.\n", encoding="utf-8")
        said = one_error_line(runner.invoke(app, [*args, "--engine", "bogus"]))
        assert said.startswith("error: unknown speech engine 'bogus'")


# --- 4. TOML errors have their line -----------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ('title = "Rain"\npace = \n', 3),
        ('title = "Rain"\nauthor = "A"\n\nseed = "x\n', 5),
        ('title = "Rain"\ntitle = "Again"\n', 3),
        ('title = "Rain"\nauthor = "A" "B"\n', 3),
    ],
)
def test_toml_front_matter_errors_name_the_story_line(front, line):
    message = error_of(f"+++\n{front}+++\nText.")
    assert message.startswith(f"story.md:{line}: front matter is not valid TOML (")
    assert "(at line" not in message and 'title = "' in message


def test_deeply_nested_toml_is_refused_not_a_crash():
    message = error_of("+++\na = " + "[" * 5000 + "]" * 5000 + "\n+++\nText.")
    assert message.startswith("story.md:2: front matter nests too deeply")


# --- 5. YAML bombs and long values --------------------------------------------------------------


def billion_laughs() -> str:
    lines = ["title: Laughs", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\n---\nText."


def test_a_yaml_alias_bomb_is_refused_at_once_with_a_short_line():
    parse_text("---\ntitle: warm-up\n---\nText.")  # imports out of the timing
    start = time.perf_counter()
    message = error_of(billion_laughs())
    assert time.perf_counter() - start < 0.5
    assert message == (
        "story.md:4: YAML aliases (*name) are not allowed in front matter; write the value out"
    )


def test_a_yaml_bomb_from_the_command_line_is_one_short_line(tmp_path):
    story = tmp_path / "story.md"
    story.write_text(billion_laughs(), encoding="utf-8")
    start = time.perf_counter()
    line = one_error_line(runner.invoke(app, ["passages", str(story)]))
    assert time.perf_counter() - start < 10
    assert line.endswith("story.md:4: YAML aliases (*name) are not allowed in front matter; "
                         "write the value out")  # fmt: skip


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("title: &t Rain", "story.md:2: YAML anchors (&name) are not allowed in front matter"),
        ("title: Rain\nauthor: *t", "story.md:3: YAML aliases (*name) are not allowed"),
        ("pronounce:\n  <<: *base", "story.md:3: YAML aliases (*name) are not allowed"),
        ("title: " + "[" * 30 + "]" * 30, "story.md:2: front matter nests more than 20 levels"),
        ("title: " + "[" * 5000 + "]" * 5000, "story.md:2: front matter "),
    ],
)
@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_anchors_aliases_and_deep_nesting_are_refused(front, expected, loader, monkeypatch):
    import yaml

    from narrator.text import frontmatter

    if loader == "python":  # PyYAML built without libyaml reads the same way, only slower
        monkeypatch.setattr(frontmatter, "_YAML_LOADER", yaml.SafeLoader)
    start = time.perf_counter()
    assert error_of(f"---\n{front}\n---\nText.").startswith(expected)
    assert time.perf_counter() - start < 2
    if loader == "python":
        assert error_of(billion_laughs()).startswith("story.md:4: YAML aliases")


@pytest.mark.parametrize(
    "front",
    [
        "title: [" + ", ".join(["1"] * 20000) + "]",
        "pace: [" + ", ".join(["fast"] * 20000) + "]",
        "loudness: {" + ", ".join(f"k{i}: v" for i in range(5000)) + "}",
        "k" * 1000 + "x: 1",
        "seed: " + "x" * 50_000,
    ],
)
def test_values_quoted_in_front_matter_errors_are_brief(front):
    message = error_of(f"---\n{front}\n---\nText.")
    assert message.startswith("story.md:2: ") and "…" in message


def test_toml_errors_quoting_a_long_key_are_brief():
    key = "k" * 5000
    message = error_of(f'+++\ntitle = "x"\n["{key}"]\n["{key}"]\n+++\nText.')
    assert message.startswith("story.md:4: front matter is not valid TOML") and "…" in message


# --- 6. Size, depth and count: bounded and linear -------------------------------------------


def test_a_long_paragraph_of_lines_and_en_dashes_is_read_in_linear_time():
    """Joining a paragraph's lines re-read all the text joined so far at each line (750 kB of
    lines took 31 s), and each en dash between words scanned the paragraph before it (228 kB
    took 14 s); both are linear now (0.1 s each here)."""
    from narrator.text.markup import plain_blocks
    from narrator.text.sentences import normalize_for_speech

    for work, text in (
        (plain_blocks, "The sea is calm tonight and the boats are still.\n" * 15_000),
        (normalize_for_speech, "She paused–then she spoke softly to the cat. " * 5_000),
    ):
        start = time.perf_counter()
        work(text)
        assert time.perf_counter() - start < 3.0, work.__name__


def test_a_10_mb_story_file_is_refused_before_it_is_read(tmp_path):
    story = tmp_path / "huge.txt"
    story.write_bytes(PROSE.encode() * (10_000_000 // len(PROSE)))
    start = time.perf_counter()
    with pytest.raises(ScriptError, match=r"huge\.txt: the story is 10 MB; narrator reads at most"):
        parse_story(story)
    assert time.perf_counter() - start < 1.0
    line = one_error_line(runner.invoke(app, ["passages", str(story)]))
    assert "split it into episodes" in line and len(line) < SHORT_LINE


def test_a_story_too_long_on_standard_input_or_as_text_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a " * 3_000_000)))
    with pytest.raises(ScriptError, match=r"<stdin>: the story is more than 4 MB"):
        parse_story(Path("-"))
    with pytest.raises(ScriptError, match=r"the story is 1,000,001 characters"):
        parse_text("a" * (MAX_STORY_CHARS + 1))


def test_a_long_single_line_is_segmented_window_by_window(monkeypatch):
    seen: list[int] = []
    segmenter = text_module._segmenter()

    class Recording:
        def segment(self, text):
            seen.append(len(text))
            return segmenter.segment(text)

    monkeypatch.setattr(text_module, "_segmenter", lambda: Recording())
    story = PROSE * 3000  # 200 kB in one paragraph: about nine minutes for pysbd in one piece
    start = time.perf_counter()
    script = parse_text(story)
    assert time.perf_counter() - start < 60
    assert max(seen) <= text_module.SEGMENT_WINDOW_CHARS
    assert [w for p in script.passages for w in words_of(p.text)] == words_of(story)
    assert all(s == PROSE.strip() for p in script.passages for s in p.sentences)


def test_windowed_segmentation_cuts_where_whole_text_segmentation_does(monkeypatch):
    demo = Path(__file__).resolve().parents[1] / "seeds" / "dream.txt"
    paragraph = text_module.normalize_for_speech(demo.read_text(encoding="utf-8"))
    assert len(paragraph) > 4000
    default_windows = text_module.split_sentences(paragraph)
    monkeypatch.setattr(text_module, "SEGMENT_WINDOW_CHARS", 10**9)
    unwindowed = text_module.split_sentences(paragraph)
    monkeypatch.setattr(text_module, "SEGMENT_WINDOW_CHARS", 500)
    small_windows = text_module.split_sentences(paragraph)
    assert default_windows == unwindowed == small_windows
    assert len(unwindowed) > 40


def test_deep_markdown_nesting_is_an_error_not_silently_dropped_text():
    start = time.perf_counter()
    message = error_of("Intro.\n\n" + "> " * 10_000 + "word", markdown=True)
    assert time.perf_counter() - start < 5
    assert message.startswith("story.md:3: lists or quotes are nested too deep here")
    nested = "\n".join("  " * i + f"- item{i}" for i in range(40))
    assert error_of(nested, markdown=True).startswith("story.md:")
    # Ordinary nesting is read in full.
    shallow = "\n".join("  " * i + f"- item{chr(97 + i)}" for i in range(10))
    script = parse_text("> " * 20 + "word\n\n" + shallow, markdown=True)
    spoken = [w for p in script.passages for w in words_of(p.text)]
    assert spoken == ["word", *(f"item{chr(97 + i)}" for i in range(10))]


def test_thousands_of_cues_parse_in_linear_time():
    start = time.perf_counter()
    script = parse_text("Rain falls. [pause 1s] " * 3000)
    assert time.perf_counter() - start < 30  # about 2 s here
    assert len(script.passages) == 3000
    assert all(p.pause_after_s == 1.0 for p in script.passages)


@pytest.mark.parametrize(
    ("story", "start"),
    [
        ("a [pauses " + "x" * 200_000 + "] b", "story.md:1: unknown cue [pauses xxx"),
        ("a [scene: " + "x" * 200_000 + "] b", "story.md:1: unknown scene 'xxx"),
        ("a [add: rain, " + "x" * 200_000 + "] b", "story.md:1: unknown layer 'xxx"),
        ("a [pause " + "9" * 200_000 + "] b", "story.md:1: [pause 999"),
        ('a <break time="' + "x" * 200_000 + '"/> b', "story.md:1: <break time="),
        ("a [pause 3s " + "x" * 200_000, "story.md:1: cue '[pause 3s xxx"),
    ],
)
def test_huge_cues_make_short_error_lines(story, start):
    message = error_of(story)
    assert message.startswith(start) and "…" in message


# --- Pronunciation ----------------------------------------------------------------------------


def test_lexicon_phrases_with_extra_spaces_match_and_never_crash():
    lex = Lexicon({"St  Ives": "Saint Ives", "new   york": "noo york"})
    assert lex.apply("To St Ives, New York and new york.") == (
        "To Saint Ives, noo york and noo york."
    )


def test_lexicon_file_errors_are_clear_and_brief(tmp_path):
    path = tmp_path / "words.toml"
    path.write_text("pronounce = 3\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"\[pronounce\] must be a table"):
        load_lexicon(path)
    path.write_text(f'"{"k" * 5000}" = 3\n', encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_lexicon(path)
    assert len(str(info.value)) < len(str(path)) + 2 * QUOTE_CHARS + 60


def test_lexicon_entries_with_digits_match_their_spelled_out_form():
    story = "---\npronounce:\n  R2-D2: artoo deetoo\n  mp3: em pee three\n---\nR2-D2 hums an MP3."
    passage = parse_text(story).passages[0]
    assert passage.sentences == ("R two-D two hums an MP three.",)
    assert passage.say == ("artoo deetoo hums an em pee three.",)
    # Digits in a respelling are said as words too: none reaches the voice.
    assert Lexicon({"Nyx": "nicks 2"}).apply("Nyx") == "nicks two"


def test_a_large_lexicon_over_a_long_story_takes_linear_time():
    letters = "abcdefghijklmnopqrstuvwxyz"
    keys = {f"{letters[i % 26]}{letters[i // 26 % 26]}{letters[i // 676 % 26]}qx": "x"
            for i in range(17_000)}  # fmt: skip
    lex = Lexicon({**keys, "the warm": "the balmy", "St Ives": "Saint Ives", "St": "Street"})
    text = PROSE * 1500  # 100 kB
    start = time.perf_counter()
    out = lex.apply(text)
    assert time.perf_counter() - start < 1.5  # 0.05 s here; key by key it took seconds
    assert out.startswith("The lantern swings slowly in the balmy evening air")
    # The longest entry wins where several start at the same word.
    assert lex.apply("St Ives, St  Ives and St.") == "Saint Ives, Saint Ives and Street."


def test_lexicon_entries_longer_than_a_phrase_are_refused_with_their_place(tmp_path):
    long_key = "word " * 30
    message = error_of(f"---\npronounce:\n  {long_key}: x\n---\nText.")
    assert message.startswith("story.md:2: pronounce: entry 'word word") and "…" in message
    path = tmp_path / "words.toml"
    path.write_text(f'"{long_key}" = "x"\n', encoding="utf-8")
    with pytest.raises(ScriptError, match=r"words\.toml: entry 'word word.*longer than 100"):
        load_lexicon(path)


@pytest.mark.parametrize(
    "line",
    [
        "*a " * 60_000,  # emphasis opened and never closed: three minutes, quadratic
        "_a " * 60_000,
        "See https://a.bc" + "." * 50_000 + "x now.",  # a web address with a run of marks: 30 s
    ],
    ids=["stars", "underscores", "address"],
)
def test_plain_text_marks_and_web_addresses_take_linear_time(line):
    start = time.perf_counter()
    script = parse_text(line, source="s.txt")
    assert time.perf_counter() - start < 10  # about 1 s here
    assert script.passages
