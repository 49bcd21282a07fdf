"""Story text features: Markdown, front matter, encodings, cues, pronunciation, normalization."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from narrator.errors import ScriptError
from narrator.text.pronunciation import Lexicon, load_lexicon
from narrator.text.script import Script, parse_story, parse_text, words_of
from narrator.text.spoken import spell_out

FOUR_CHAPTERS = """---
title: The Lighthouse Keeper
author: Ada Brook
series: Quiet Harbours
pace: 120
seed: 7
pronounce:
  Nyx: nicks
---
# The Lighthouse Keeper

## Evening

The *keeper* climbs the **stairs**, and [the lamp](https://example.org) glows.
![a picture](lamp.png)

## Night

```
code that is never spoken
```

<span>Waves</span> roll in. [pause 2s] Nyx watches the sea.

## Storm

[scene: storm]
The wind rises over the water.

## Morning

Gulls wheel over the calm bay.
"""


def parse_md(text: str, **kw) -> Script:
    return parse_text(text, source="story.md", markdown=True, **kw)


def test_markdown_story_with_four_chapters():
    script = parse_md(FOUR_CHAPTERS)
    assert script.title == "The Lighthouse Keeper"
    assert script.author == "Ada Brook"
    assert script.meta.series == "Quiet Harbours"
    assert script.meta.options["pace"] == 120 and script.meta.options["seed"] == 7
    assert [c.title for c in script.chapters] == ["Evening", "Night", "Storm", "Morning"]
    texts = [p.text for p in script.passages]
    assert texts[0] == "The keeper climbs the stairs, and the lamp glows."
    assert "code" not in " ".join(texts) and "picture" not in " ".join(texts)
    assert "span" not in " ".join(texts)
    assert [p.chapter for p in script.passages] == [0, 1, 1, 2, 3]
    # The pause cue cut the paragraph: the first half carries the pause, not ending a paragraph.
    assert script.passages[1].text == "Waves roll in."
    assert script.passages[1].pause_after_s == 2.0
    assert not script.passages[1].ends_paragraph
    assert script.passages[3].scene == "storm"
    # Pronunciation: said differently, shown as written.
    assert script.passages[2].sentences == ("Nyx watches the sea.",)
    assert script.passages[2].say == ("nicks watches the sea.",)


def test_the_only_heading_at_a_story_s_top_is_its_title_not_the_file_name(tmp_path):
    """A story of one "# The Lighthouse Keeper" over its paragraphs was titled "Lone" (its
    file name) in its tags, feed and page; a heading further down stays a chapter."""
    lone = tmp_path / "lone.md"
    lone.write_text("# The Lighthouse Keeper\n\nShe slept.\n\nThe waves came.\n")
    script = parse_story(lone)
    assert script.title == "The Lighthouse Keeper"
    assert [c.title for c in script.chapters] == ["The Lighthouse Keeper"]
    # With a title of its own, the story keeps its only heading as a chapter.
    lone.write_text("---\ntitle: Night Harbour\n---\n# Chapter One\n\nShe slept.\n")
    script = parse_story(lone)
    assert script.title == "Night Harbour"
    assert [c.title for c in script.chapters] == ["Chapter One"]
    below = tmp_path / "below.md"
    below.write_text("She slept.\n\n# Morning\n\nThe waves came.\n")
    script = parse_story(below)
    assert script.title == "Below"
    assert [c.title for c in script.chapters] == ["Below", "Morning"]


def test_the_opening_kept_for_a_summary_is_the_story_as_written():
    """The feed's stand-in description had the text made ready for a voice: em dashes as
    commas, curly quotes straight, "Dr." as "Doctor"; a cue left a space before its stop."""
    script = parse_text(
        "The sea — calm and grey — rolled in [scene: coast]. “Hush,” Dr. Lee said… "
        "Quoi ? [sic] ok [pause 1s] now.\n\n[pause 2s]\n\nMore.\n",
        source="s.txt",
    )
    assert script.opening == (
        "The sea — calm and grey — rolled in. “Hush,” Dr. Lee said… Quoi ? [sic] ok now. More."
    )


def test_passages_json_round_trips_into_the_same_script():
    script = parse_md(FOUR_CHAPTERS)
    again = Script.from_dict(json.loads(json.dumps(script.to_dict())))
    assert again == script


def test_toml_front_matter_and_unknown_key_errors():
    script = parse_text('+++\ntitle = "Rain"\nloudness = -18\n+++\nRain falls.', source="s.txt")
    assert script.title == "Rain" and script.meta.options["loudness"] == "-18"
    with pytest.raises(ScriptError, match=r"s\.txt:3: unknown front-matter key 'tital'.*'title'"):
        parse_text("---\nauthor: A\ntital: X\n---\nText.", source="s.txt")
    with pytest.raises(ScriptError, match=r"s\.txt:2: pace must be a number from 60 to 220 wpm"):
        parse_text("---\npace: fast\n---\nText.", source="s.txt")
    with pytest.raises(ScriptError, match="never closed"):
        parse_text("---\ntitle: X\nText.", source="s.txt")
    # A key set twice: YAML would keep the last without a word.
    with pytest.raises(ScriptError, match=r"^s\.txt:4: 'pace' is set twice \(line 2 too\); keep"):
        parse_text("---\npace: 120\ntitle: T\npace: 130\n---\nText.", source="s.txt")
    # A line without its colon is named, not the line after it (the YAML scanner's mark).
    with pytest.raises(ScriptError, match=r"^s\.txt:3: front matter is not valid YAML"):
        parse_text("---\ntitle: A\nauthor B\nvoice: x\n---\nText.", source="s.txt")
    # A parser's error is where it stopped, not the mapping around it (line 2).
    with pytest.raises(ScriptError, match=r"^s\.txt:5: front matter is not valid YAML"):
        parse_text("---\ntitle: Night\nauthor: Ann\npace: 120\n- b\n---\nText.", source="s.txt")
    # A "[" or "{" left open is named where it opened, not at the end the parser reached.
    with pytest.raises(ScriptError, match=r"^s\.txt:4: front matter is not valid YAML"):
        parse_text("---\ntitle: A\npace: 120\nfoo: [1, 2\n---\nText.", source="s.txt")
    # …but a fault inside one that closes is named at the fault.
    with pytest.raises(ScriptError, match=r"^s\.txt:5: front matter is not valid YAML"):
        parse_text("---\ntitle: A\ntags: [\n  a,\n  rain: heavy: x,\n  b]\n---\nT.", source="s.txt")


def test_front_matter_after_blank_lines_is_front_matter_with_its_lines_right():
    """It was read as a heading (title: Late over a ---), and the title was lost in silence."""
    script = parse_text("\n\n---\ntitle: Late\n---\nHello.\n", source="s.md", markdown=True)
    assert script.title == "Late" and script.passages[0].line == 6
    with pytest.raises(ScriptError, match=r"^s\.md:5: pace must be a number"):
        parse_text("\n\n---\ntitle: Late\npace: fast\n---\nHello.", source="s.md")
    # A rule after blank lines, with no key under it, is a rule.
    rule = parse_text("\n\n---\n\nA rule.\n\n---\n\nMore.\n", source="s.md", markdown=True)
    assert [p.text for p in rule.passages] == ["A rule.", "More."]


def test_a_title_written_as_a_yaml_block_is_one_line_and_a_description_keeps_its_lines():
    script = parse_text(
        "---\ntitle: |\n  The Slow\n  Tide\nauthor: >-\n  Ada\n\n  Brook\n"
        "description: |\n  One.\n  Two.\n---\nRain falls.",
        source="s.md",
    )
    assert script.title == "The Slow Tide"
    assert script.meta.author == "Ada Brook"
    assert script.meta.description == "One.\nTwo."


@pytest.mark.parametrize(
    ("cue", "seconds"),
    [
        ("[pause 3s]", 3.0),
        ("[pause: 500ms]", 0.5),
        ("[pause 1.5]", 1.5),
        ('<break time="2s"/>', 2.0),
        ("<break time='750ms'/>", 0.75),
        ('<break strength="strong"/>', 2.0),
    ],
)
def test_pause_cues(cue, seconds):
    script = parse_text(f"First part. {cue} Second part.")
    assert [p.text for p in script.passages] == ["First part.", "Second part."]
    assert script.passages[0].pause_after_s == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Hello.\n\nThen [pause 3600s] more.",
            r"story\.txt:3: \[pause 3600s\] is 3600 s; pauses go",
        ),
        (
            "Hello [pasue 2s] there.",
            r"story\.txt:1: unknown cue \[pasue 2s\]; did you mean pause\? cues are pause, scene, "
            r"add, remove \(write",
        ),
        ("[Paused 2s] The sea.", r":1: unknown cue \[Paused 2s\]; did you mean pause\?"),
        ("A\n[scene: caost]\nB", r"story\.txt:2: unknown scene 'caost'; did you mean coast"),
        ("[add: rian] B", r"story\.txt:1: unknown layer 'rian'; did you mean rain"),
        # Nothing close: every name, not the first few of the alphabet as a "did you mean".
        (
            "A\n[scene: zzzz]\nB",
            r":2: unknown scene 'zzzz'; use one of amphitheater, .*soft-bed, storm$",
        ),
        ("[add: qqqq] B", r":1: unknown layer 'qqqq'; use one of breathing-mirrors, .*, wind$"),
        ("A [pause soon] B", r"needs a duration such as 2s"),
        ('A <break strength="huge"/> B', r"unknown strength"),
    ],
)
def test_bad_cues_name_file_line_and_closest_names(text, message):
    with pytest.raises(ScriptError, match=message):
        parse_text(text, source="story.txt")


def test_cues_side_by_side_are_each_a_cue_and_none_is_read_aloud():
    script = parse_text("A [pause 1.5s][pause 1.5s] B.\n\n[scene: coast][add: gulls] C.")
    assert [p.text for p in script.passages] == ["A", "B.", "C."]
    assert script.passages[0].pause_after_s == pytest.approx(3.0)
    assert script.passages[2].scene == "coast" and script.passages[2].add_layers == ("gulls",)
    assert not script.warnings


def test_brackets_that_name_no_cue_are_read_as_text_with_one_warning():
    script = parse_text("He wrote [sic] it.\n\nAnd [to do] there.", source="s.txt")
    assert [p.text for p in script.passages] == ["He wrote [sic] it.", "And [to do] there."]
    (warning,) = script.warnings
    assert warning.startswith("s.txt:1: [sic] is no cue, so it is read as text (lines 1, 3)")


def test_markdown_links_footnotes_task_boxes_code_and_comments_are_not_cues():
    story = (
        "See [the sea][1] and [the shore](https://example.org/shore).\n\n"
        "[1]: https://example.org/sea\n\n"
        "A word[^1] with a note.\n\n"
        "- [ ] the lamp\n- [x] the door\n\n"
        "Say `[pause 9s]` and `[pause]` softly. <!-- [scene: stormm] --> Then rest.\n\n"
        "<!--\n[scene: stormm]\n[pause 60s]\n-->\n"
        "[^1]: The note is read.\n"
    )
    script = parse_text(story, source="s.md", markdown=True)
    said = " ".join(p.text for p in script.passages)
    assert said == (
        "See the sea and the shore. A word with a note. the lamp the door Say [pause nines] "
        "and [pause] softly. Then rest. The note is read."
    )
    assert all(p.pause_after_s < 9 for p in script.passages)
    assert {p.scene for p in script.passages} == {None}
    assert not script.warnings


@pytest.mark.parametrize(
    ("story", "line"),
    [
        ("The sea is calm.\n\n<!-- a note never closed\n\nThe gulls -- far off -- call.\n", 3),
        (
            "A <!-- one --> b.\n\n<!--\nmulti\n-->\n\nC `<!--` d.\n\n"
            "x <!-- y --> z <!-- open\n\nw\n",
            9,
        ),
        ("<!-- a -->\n<!-- b\nc -->\n<!-- d\ne\n", 4),
    ],
)
def test_an_html_comment_never_closed_is_an_error_at_its_line(story, line):
    """Its note was read aloud ("-- a note never closed The gulls …"), and Markdown itself
    would hide every word after it."""
    with pytest.raises(ScriptError) as info:
        parse_text(story, source="s.md", markdown=True)
    assert str(info.value) == (
        f"s.md:{line}: an HTML comment opened here (<!--) is never closed; end it with -->"
    )
    # In plain text there are no comments: the marks are read as they are.
    assert parse_text(story, source="s.txt").passages


def test_layer_cues_and_escaped_brackets():
    script = parse_text(r"Quiet. [add: rain, wind] Rain now. [remove: wind] Only rain. \[sic\] ok")
    assert script.passages[1].add_layers == ("rain", "wind")
    assert script.passages[2].remove_layers == ("wind",)
    assert script.passages[2].text == "Only rain. [sic] ok"


def test_cue_scene_before_first_text_applies_to_first_passage():
    script = parse_text("[scene: rain]\nIt rains. [pause 2s]")
    assert script.passages[0].scene == "rain"
    assert script.passages[0].pause_after_s == 2.0


def test_lexicon_whole_words_and_case():
    lex = Lexicon({"nyx": "nicks", "May": "Mae", "St Ives": "Saint Ives"})
    assert lex.apply("Nyx and NYX, but not Nyxes.") == "nicks and nicks, but not Nyxes."
    assert lex.apply("May may come to St Ives.") == "Mae may come to Saint Ives."
    # A name's possessive and a compound it heads were sent to the voice unrespelled.
    lex = Lexicon({"Siobhan": "shiv-awn", "nyx": "nicks", "don": "dawn"})
    assert lex.apply("Siobhan's coat, Siobhan’s cat, Siobhan-like.") == (
        "shiv-awn's coat, shiv-awn’s cat, shiv-awn-like."
    )
    assert lex.apply("Nyx's cat; I don't don it.") == "nicks's cat; I don't dawn it."


def test_lexicon_file(tmp_path):
    path = tmp_path / "words.toml"
    path.write_text('[pronounce]\nAoife = "ee-fa"\n', encoding="utf-8")
    script = parse_text("Aoife sleeps.", lexicon=load_lexicon(path))
    assert script.passages[0].say == ("ee-fa sleeps.",)
    path.write_text("Aoife = 3\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="must be text"):
        load_lexicon(path)
    # A respelling that says nothing would drop the word from the voice, not the transcript.
    for entry, says in (('Aoife = ""', "'Aoife' is respelled as '', which says nothing"),
                        ('Aoife = " - "', "'Aoife' is respelled as ' - ', which says nothing"),
                        ('"" = "x"', "an entry has no word to respell")):  # fmt: skip
        path.write_text(entry + "\n", encoding="utf-8")
        with pytest.raises(ScriptError, match=f"^{path}: {says}"):
            load_lexicon(path)
    with pytest.raises(ScriptError, match=r"^s\.md:2: pronounce: 'Nyx' is respelled as ''"):
        parse_text('---\npronounce:\n  Nyx: ""\n---\nNyx lit the lamp.', source="s.md")


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Dr. Lee met Mr. Park.", "Doctor Lee met Mister Park."),
        ("at 3:45 p.m. sharp", "at three forty-five p.m. sharp"),
        ("on Jan. 5th", "on January fifth"),
        # Before a number only: one sentence, every word said in full.
        (
            "See Fig. 3 on p. 12 in ch. 4 of vol. 2, pt. 1.",
            "See figure three on page twelve in chapter four of volume two, part one.",
        ),
        # A unit's full stop where the sentence goes on does not end it.
        (
            "approx. 5 ft. tall, 3 oz. of tea, 2 mi. away.",
            "approximately five feet tall, three ounces of tea, two miles away.",
        ),
        ("The end, etc. The night.", "The end, et cetera. The night."),
        ("the 21st night", "the twenty-first night"),
        ("1,200 stars", "one thousand, two hundred stars"),
        ("in 1984 it", "in nineteen eighty-four it"),
        ("$3.50 each", "three dollars and fifty cents each"),
        ("50% of it", "fifty percent of it"),
        ("It was 7:05 am.", "It was seven oh five a.m."),
        ("St. Mary on Elm St. today", "Saint Mary on Elm Street today"),
    ],
)
def test_normalization_reads_as_a_narrator_would(written, said):
    assert spell_out(written) == said


def sentences_of(text: str) -> tuple[str, ...]:
    """The sentences of ``text``, one paragraph, as the voice is given them."""
    (passage,) = parse_text(text).passages
    return passage.sentences


def test_abbreviations_before_numbers_and_units_do_not_split_a_sentence():
    """Each split added a sentence pause in the middle of a phrase ("on p." | "twelve")."""
    text = "See Fig. 3 on p. 12, approx. 5 ft. tall, vs. the No. 9 bus, 3 oz. of tea."
    assert sentences_of(text) == (
        "See figure three on page twelve, approximately five feet tall, versus the number "
        "nine bus, three ounces of tea.",
    )
    assert [p.sentences for p in parse_text("It is 5 ft. Then it ends.").passages] == [
        ("It is five feet.", "Then it ends.")
    ]


def test_an_abbreviation_that_ends_a_sentence_still_ends_it_and_others_do_not():
    """Read in full, "Ave." and "St." lost their stop: "Elm Avenue The house was old" was one
    sentence, read without a pause. "Fr.", "ca.", "est.", "Ln.", "Apt." were not known: each
    split its sentence in two and reached the voice as letters."""
    text = (
        "She lived on Elm Ave. The house was old. Fog lay on Baker St. The cab waited. "
        "He met Dr. Jones Jr. He smiled. Fr. Brown came in, ca. 1850, to a shop est. 1920. "
        "Apt. 5 on Elm Ln. near the river was dark. They sailed to St. Ives by Mount St. Helens."
    )
    assert sentences_of(text) == (
        "She lived on Elm Avenue.",
        "The house was old.",
        "Fog lay on Baker Street.",
        "The cab waited.",
        "He met Doctor Jones Junior.",
        "He smiled.",
        "Father Brown came in, circa eighteen fifty, to a shop established nineteen twenty.",
        "Apartment five on Elm Lane near the river was dark.",
        "They sailed to Saint Ives by Mount Saint Helens.",
    )
    # Before a name the stop is no sentence's end ("King Junior." | "Day…" was read).
    named = (
        "On King Jr. Day they met at the Park Ave. Hotel by Abbey Rd. Studios. Then Sr. Agnes "
        "came in, est. 200 people."
    )
    assert sentences_of(named) == (
        "On King Junior Day they met at the Park Avenue Hotel by Abbey Road Studios.",
        "Then Sister Agnes came in, estimated two hundred people.",
    )


def test_emoji_are_dropped_with_a_warning():
    script = parse_text("Goodnight 🌙 moon ✨.", source="s.txt")
    assert script.passages[0].text == "Goodnight moon."
    assert any("dropped 2 emoji" in w for w in script.warnings)
    # Counted as a reader sees them: a joined family, a flag, a toned thumb, a styled heart.
    script = parse_text("Home 👨‍👩‍👧 and 🇫🇷, 👍🏽 ❤️ now.", source="s.txt")
    assert script.passages[0].text == "Home and, now."
    assert any("dropped 4 emoji" in w for w in script.warnings), script.warnings
    # The warning says where the first went (a story may hold hundreds of lines).
    script = parse_text("Calm.\n\nThe sea.\n\nA 🌊 wave and a ✨.\n", source="s.txt")
    assert any(w.startswith("s.txt:5: dropped 2 emoji") for w in script.warnings), script.warnings


def test_a_web_page_is_read_as_its_story_rtf_is_refused_stdin_markdown_is_markdown(
    tmp_path, monkeypatch
):
    """A story saved as .html was read as plain text (its tags reached the voice), an RTF
    document too (all control words), and Markdown on standard input lost its chapters."""
    page = tmp_path / "sea.html"
    page.write_text(
        "<!DOCTYPE html>\n<html><head><title>Page</title><style>p{color:red}</style></head>"
        "<body>\n<h1>The Sea</h1>\n<p>The sea is <em>calm</em>\ntonight &amp; still.</p>"
        "<script>alert(1)</script><h2>Two</h2><p>Line one<br>line two<br>line three</p>"
        "</body></html>\n",
        encoding="utf-8",
    )
    script = parse_story(page)
    assert script.title == "The Sea" and [c.title for c in script.chapters] == ["The Sea", "Two"]
    assert [p.text for p in script.passages] == [
        "The sea is calm tonight and still.",
        "Line one, line two, line three",
    ]
    # "</head>" left out (HTML5 allows it), a paragraph opening with a year or a "#".
    page.write_text(
        "<html><head><title>T</title><body><h1>Night</h1><p>1914. The lamps went out.</p>"
        "<p># Not a heading</p>",
        encoding="utf-8",
    )
    script = parse_story(page)
    assert [c.title for c in script.chapters] == ["Night"]
    assert [p.text for p in script.passages] == [
        "nineteen fourteen. The lamps went out.",
        "Not a heading",
    ]
    rtf = tmp_path / "sea.txt"
    rtf.write_text("{\\rtf1\\ansi {\\b Hello} world.}\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"sea\.txt: this is an RTF document .*save it as plain"):
        parse_story(rtf)
    # A PDF whose streams are all text was read aloud as its syntax ("one zero obj…").
    pdf = tmp_path / "sea.pdf"
    pdf.write_text("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
    with pytest.raises(ScriptError, match=r"sea\.pdf: this is a PDF document, not story text"):
        parse_story(pdf)
    stdin = "# Night\n\n## One\n\nSome *soft* words, [a link](https://example.org).\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    script = parse_story("-")
    assert script.title == "Night" and [c.title for c in script.chapters] == ["One"]
    assert [p.text for p in script.passages] == ["Some soft words, a link."]


def test_windows_1252_bytes_decode_with_a_warning(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("Café “quotes”.".encode("cp1252"))
    script = parse_story(path)
    assert script.passages[0].text == 'Café "quotes".'
    assert any("Windows-1252" in w and "old.txt" in w for w in script.warnings)


def test_stdin_story(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"From a pipe.")))
    script = parse_story(Path("-"))
    assert script.source == "<stdin>" and script.passages[0].text == "From a pipe."


def test_words_survive_markdown_inline_forms():
    script = parse_md("A *b* __c__ `d` [e](f) g<br>h.")
    assert words_of(script.passages[0].text) == ["A", "b", "c", "d", "e", "g", "h"]


def test_a_plain_text_story_s_borrowed_markdown_marks_are_not_read():
    text = (
        "# The Title\n\nFirst *soft* _slow_ **part** of snake_case.\n\n- a bullet\n\n-----\n\n"
        "— Who is there?\n"
    )
    said = [p.text for p in parse_text(text, source="s.txt").passages]
    assert said == [
        "The Title",
        "First soft slow part of snake_case.",
        "a bullet",
        "Who is there?",
    ]


def test_a_letter_or_initialism_before_a_sentence_s_opening_word_ends_the_sentence():
    """ "coach B. Then she slept" was one sentence (the segmenter took "B." for an initial)."""
    text = "She boarded coach B. Then she slept. He saw J. A. Smith. Dr. Lee, M.D. They slept."
    assert sentences_of(text) == (
        "She boarded coach B.",
        "Then she slept.",
        "He saw J. A. Smith.",
        "Doctor Lee, M.D.",
        "They slept.",
    )


def test_a_time_phrase_is_no_sentence_of_its_own_and_an_answered_no_ends_one():
    """ "At 5 a.m. John woke" was two sentences, "At five a.m." and "John woke"; "She said
    no. 3 days later" was "number three days later"."""
    text = (
        "At 5 a.m. John woke. I woke at 6 a.m. Anna slept on. Tomorrow at 7 p.m. Anna leaves. "
        "After supper we read until 10 p.m. The fire burned low. "
        "He said no. 3 days later he came. Take the no. 3 bus. The old well no. 3 was dry."
    )
    assert sentences_of(text) == (
        "At five a.m. John woke.",
        "I woke at six a.m.",
        "Anna slept on.",
        "Tomorrow at seven p.m. Anna leaves.",
        "After supper we read until ten p.m.",  # more than a time: a sentence of its own
        "The fire burned low.",
        "He said no.",
        "three days later he came.",
        "Take the number three bus.",
        "The old well number three was dry.",
    )


def test_an_abbreviation_s_stop_inside_a_sentence_does_not_cut_it():
    """A user's stories (a podcast's episode line, a history, a travel note) were cut at
    "Ep.", "Thurs.", "c.", "Bn.", "in.", each next piece opening with a comma or a number
    in words; "Feb." and "Oct." that ended a sentence lost its stop, so the next ran in;
    British titles without a stop, a dialogue dash after a sentence, "snowing.The" and
    "the 80's" were read as written."""
    text = (
        "Sleepy Histories, Ep. 42: The Library. It was recorded on Thurs., Nov. 3rd. "
        "In the 13th c., King John signed it. It was built c. 2560 BCE by many. "
        "He served in the 2nd Bn., Royal Berkshire Regt., then slept. Open Mon.–Fri., 9–5. "
        "The rain was 29.6 in. by midnight. He said no. 3 days later he came. "
        "It was the letter of the 21st Feb. I read it twice. We met on Sat. 19 Oct. The "
        "shop was shut. Mr Brown met Dr Jones at St Paul's. It was snowing.The fox slept in "
        "the 80's. — Will it come? asked Ana. — Maybe. We walked to Rome. 300 men came. At "
        "5 p.m. — the hour of bells — we slept."
    )
    said = tuple(s for p in parse_text(text).passages for s in p.sentences)
    assert said == (
        "Sleepy Histories, episode forty-two: The Library.",
        "It was recorded on Thursday, November third.",
        "In the thirteenth century, King John signed it.",
        "It was built circa twenty-five sixty BCE by many.",
        "He served in the second Bn., Royal Berkshire Regt., then slept.",
        "Open Monday to Friday, nine to five.",
        "The rain was twenty-nine point six inches by midnight.",
        "He said no.",
        "three days later he came.",
        "It was the letter of the twenty-first of February.",
        "I read it twice.",
        "We met on Saturday the nineteenth of October.",
        "The shop was shut.",
        "Mister Brown met Doctor Jones at Saint Paul's.",
        "It was snowing.",
        "The fox slept in the eighties.",
        "Will it come?",
        "asked Ana.",
        "Maybe.",
        "We walked to Rome.",  # a capitalised word's stop before a number: a sentence's end
        "three hundred men came.",
        "At five p.m., the hour of bells, we slept.",  # a dash after "p.m.": a pause
    )


def test_each_speaker_s_line_is_a_sentence_and_typed_dashes_are_pauses():
    """Quoted lines on one line of text ran together with no pause between speakers; " - ",
    " -- " and "a--b" reached the voice as typed (an em dash is a pause)."""
    (talk,) = parse_text('"Mother?" "Yes, dear?" "Goodnight." \'Hush.\' \'Yes.\'').passages
    assert talk.sentences == ('"Mother?"', '"Yes, dear?"', '"Goodnight."', "'Hush.'", "'Yes.'")
    text = (
        "The sea - calm and grey -- stretched on--and on. A 5 - 10 minute walk, 2 -- 3 hours. "
        "The London–Paris train left. Austria–Hungary fell."
    )
    assert sentences_of(text) == (
        "The sea, calm and grey, stretched on, and on.",
        "A five to ten minute walk, two to three hours.",
        "The London Paris train left.",  # two names joined: no pause (and no "to": a union
        "Austria Hungary fell.",  # is no route)
    )


def test_verse_and_list_lines_end_with_a_pause_and_wrapped_prose_runs_on():
    """Lines of a poem and items of a list ran into each other ("the moon lies fair Upon the
    straits", "a blanket a lantern"), and "1." of a numbered list was read "one." as a
    sentence of its own."""
    text = (
        "The sea is calm tonight\nThe tide is full, the moon lies fair\nUpon the straits\n"
        "and on the shore the light\n\n"
        "She packed three things:\n- a blanket\n- a lantern\n- a little book.\n\n"
        "She counted:\n1. the stars\n2) the waves\n\n"
        "- a lantern\n1. a book\n\n"
        "It was a long night, and the wind had long since dropped to nothing at\n"
        "12. Then all was still, and the sea lay quiet under the thin and patient\n"
        "moon.\n\nTwo short\nlines of prose.\n\n"
        "The old keeper climbed the stairs slowly, one hand\n"
        "on the cold iron rail, and at the top he paused to\n"
        "look out over the dark water where the small boats\n"
        "rocked gently at their moorings and the gulls had\nlong since gone to sleep.\n\n"
        "Over the hill\nand far away\n— so we sleep\n\n"
        "[scene: coast]\nThe waves rolled in slowly, one after another, under the\n"
        "pale moon, and the boat rocked gently at its mooring by\nthe old stone pier.\n\n"
        "Dear Anna,\nI hope this finds you well, and that the sea is kind to\n"
        "you and the boats come home each night before the storms.\n"
    )
    said = [p.text for p in parse_text(text, source="s.txt").passages]
    assert said == [
        "The sea is calm tonight, The tide is full, the moon lies fair, Upon the straits, "
        "and on the shore the light",
        "She packed three things: a blanket, a lantern, a little book.",
        "She counted: the stars, the waves",
        "a lantern, a book",  # one number among bullets is an item's too
        "It was a long night, and the wind had long since dropped to nothing at twelve. Then "
        "all was still, and the sea lay quiet under the thin and patient moon.",
        "Two short lines of prose.",
        # Wrapped at 50 columns, it is prose: each line break a space, no pause.
        "The old keeper climbed the stairs slowly, one hand on the cold iron rail, and at the "
        "top he paused to look out over the dark water where the small boats rocked gently at "
        "their moorings and the gulls had long since gone to sleep.",
        "Over the hill, and far away, so we sleep",  # a dash line has its own pause
        # One short line (a cue, a greeting) over wrapped prose does not make it verse.
        "The waves rolled in slowly, one after another, under the pale moon, and the boat "
        "rocked gently at its mooring by the old stone pier.",
        "Dear Anna, I hope this finds you well, and that the sea is kind to you and the boats "
        "come home each night before the storms.",
    ]
    # Markdown: a hard break (two spaces, a backslash) is a pause; a soft one in verse too.
    md = parse_md("# T\n\nThe sea is calm  \nThe tide is full\\\nUpon the straits\n")
    assert [p.text for p in md.passages] == ["The sea is calm, The tide is full, Upon the straits"]
    md = parse_md("# T\n\nThe sea is calm\nThe tide is full\nUpon the straits\n")
    assert [p.text for p in md.passages] == ["The sea is calm, The tide is full, Upon the straits"]
    # The width is the lines' as typed: *emphasis* shortened this wrapped prose's lines.
    wrapped = (
        "# T\n\nThe old keeper climbed the stairs slowly, one hand\n"
        "on the cold iron rail, and at the **top** he paused\n"
        "to look out over the dark water where the boats\nrocked gently.\n"
    )
    assert parse_md(wrapped).passages[0].text == (
        "The old keeper climbed the stairs slowly, one hand on the cold iron rail, and at the "
        "top he paused to look out over the dark water where the boats rocked gently."
    )


def test_a_heading_with_no_words_under_it_is_warned_of_not_dropped_in_silence():
    script = parse_md("# Story\n\n## One\n\nWords.\n\n## Empty\n\n## Two\n\nMore.\n\n## End\n")
    assert [c.title for c in script.chapters] == ["One", "Two"]
    assert script.warnings == (
        "story.md:7: the heading 'Empty' has no words under it (and 1 more), so it is no "
        "chapter (a chapter starts where its words are read); write some under it, or remove it",
    )
    assert parse_md("# Story\n\n## One\n\nWords.\n").warnings == ()


def test_a_markdown_table_is_read_a_row_at_a_time_not_as_pipes_and_dashes():
    script = parse_md("Before.\n\n| Name | Age |\n|------|-----|\n| Tom | 42 |\n| | |\n\nAfter.\n")
    assert [p.sentences for p in script.passages] == [
        ("Before.",),
        ("Name, Age.", "Tom, forty-two."),
        ("After.",),
    ]


def test_the_words_of_an_html_block_are_spoken_and_its_tags_comments_and_scripts_are_not():
    script = parse_md(
        "First para.\n\n<p>The sea was calm.</p>\n\n<div>Dusk</div> falls *slowly* "
        "[here](http://x).\n\n<!-- a note to self -->\n\n"
        "<p>Tea &amp; toast.<script>var x = 1;</script></p>\n\nSome <b>bold</b> text.\n"
    )
    spoken = [w for p in script.passages for w in words_of(p.text)]
    assert spoken == ["First", "para", "The", "sea", "was", "calm", "Dusk", "falls", "slowly",
                      "here", "Tea", "and", "toast", "Some", "bold", "text"]  # fmt: skip
    # A script inside a paragraph is no more spoken than one on its own.
    inline = parse_md("Rain fell <script>alert(1)</script> and <style>p{}</style> it was calm.")
    assert inline.passages[0].text == "Rain fell and it was calm."
    # Inline tags join what they split; entities are decoded once; <pre> is code, unspoken;
    # a cue in a comment is commented out, as a cue is in any comment.
    script = parse_md(
        "<p>un<b>believ</b>able &amp;lt; &#42;x&#42;</p>\n\n<pre>print(1)</pre>\n\n"
        "<p>One. <!-- [pause 5s] --> Two.</p>\n"
    )
    assert [p.text for p in script.passages] == ["unbelievable &lt; *x*", "One. Two."]
    assert script.passages[1].pause_after_s == 0.0


def test_passages_json_takes_front_matter_paths_and_round_trips(tmp_path):
    """Front matter's lexicon: and scenes: are paths; --json wrote a traceback for them."""
    from typer.testing import CliRunner

    from narrator.cli import app

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "lex.toml").write_text('Nyx = "nicks"\n', encoding="utf-8")
    (tmp_path / "sc.toml").write_text("[scenes.calm]\nlayers = { rain = 0 }\n", encoding="utf-8")
    story = tmp_path / "sub" / "a.md"
    story.write_text("---\nlexicon: lex.toml\nscenes: ../sc.toml\n---\nNyx walks.\n", "utf-8")
    result = CliRunner().invoke(app, ["passages", str(story), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["script"]["meta"]["options"]["lexicon"] == str(tmp_path / "sub" / "lex.toml")
    assert data["script"]["passages"][0]["say"] == ["nicks walks."]
    assert Script.from_dict(data["script"]).meta == parse_story(story).meta


def test_passages_command_json_round_trips_and_table_shows_the_plan(tmp_path):
    from typer.testing import CliRunner

    from narrator.cli import app

    story = tmp_path / "story.md"
    story.write_text(FOUR_CHAPTERS, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["passages", str(story), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.output)
    assert Script.from_dict(data["script"]) == parse_story(story)
    rows = data["rows"]
    assert [r["chapter_title"] for r in rows] == ["Evening", "Night", "Night", "Storm", "Morning"]
    assert rows[1]["pause_after_s"] == 2.0 and rows[3]["scene"].startswith("storm")
    assert all(r["estimated_s"] == pytest.approx(r["words"] / 120 * 60, abs=0.01) for r in rows)
    table = runner.invoke(app, ["passages", str(story)], terminal_width=200)
    assert table.exit_code == 0 and "Evening" in table.output and "storm" in table.output
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    bad = runner.invoke(app, ["passages", str(empty)])
    assert bad.exit_code == 1 and bad.stderr.startswith("error:") and "empty" in bad.stderr


def test_cues_after_the_last_words_are_warned_of_by_line_not_dropped_silently():
    text = "Hello there. [pause 2s] A short story. [pause 5s]\n\n[scene: rain] [add: wind]\n"
    script = parse_text(text, source="story.txt")
    # The pause inside is played (after the first passage); nothing follows the last ones.
    assert script.passages[0].pause_after_s == 2.0
    assert [w.split(" after the last words ")[0] for w in script.warnings] == [
        "story.txt:1: the [pause 5s]",
        "story.txt:3: the [scene: rain] cue",
        "story.txt:3: the [add: wind] cue",
    ]
    assert "--tail" in script.warnings[0] and "move it before" in script.warnings[1]
    # Cues that words follow are no news.
    assert parse_text("[scene: rain]\nRain. [pause 1s] More rain.\n").warnings == ()


def test_a_layer_cue_a_scene_cue_replaces_before_any_words_is_warned_of_once():
    text = (
        "Rain begins. [add: rain]\n\n[scene: hearth]\n"
        "The fire settles. [remove: fire] [scene: coast]"
    )
    script = parse_text(text, source="story.txt")
    assert [p.scene for p in script.passages] == [None, "hearth"]
    assert script.passages[1].add_layers == ()
    assert script.warnings == (
        "story.txt:1: the [add: rain] cue is undone by the [scene: hearth] cue after it, before "
        "any words; put it after the scene cue, or words between them",
        "story.txt:4: the [remove: fire] cue is undone by the [scene: coast] cue after it, before "
        "any words; put it after the scene cue, or words between them",
        "story.txt:4: the [scene: coast] cue after the last words changes nothing: no words "
        "follow it; move it before the passage it is for",
    )
    # After the scene cue, the layer cue plays with it.
    script = parse_text("Rain begins.\n\n[scene: hearth] [add: rain]\nThe fire settles.")
    assert script.passages[1].add_layers == ("rain",) and script.warnings == ()


def test_words_an_english_voice_would_spell_letter_by_letter_are_warned_of_with_their_line():
    text = "The sea.\n\nShe whispered שלום and 静かな夜 to the moon; café, π.\n"
    script = parse_text(text, source="s.txt")
    assert script.warnings == (
        "s.txt:3: 'שלום', '静かな夜' are in Hebrew and Chinese or Japanese letters, which an "
        "English voice spells one by one; write how they sound in Latin letters, or respell "
        "them (pronounce: in the front matter, or --lexicon)",
    )
    # Respelled, or a story in another language: nothing to say.
    respelled = "---\npronounce:\n  שלום: shalom\n  静かな夜: shizuka na yoru\n---\n" + text
    assert parse_text(respelled, source="s.md").warnings == ()
    assert parse_text("---\nlanguage: he\n---\nשלום.\n", source="s.md").warnings == ()


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be", "utf-16", "utf-8-sig"])
def test_a_story_with_a_byte_order_mark_is_read_in_its_encoding(tmp_path, codec):
    story = tmp_path / "s.txt"
    data = "Café au lait, ναί. The night is soft.".encode(codec)
    if codec == "utf-32-be":
        data = b"\x00\x00\xfe\xff" + data  # Python writes no mark for a named byte order
    story.write_bytes(data)
    script = parse_story(story)
    assert script.passages[0].text.startswith("Café au lait, ναί.")
    assert script.warnings == ()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_with_a_warning(tmp_path, codec):
    path = tmp_path / "notepad.txt"
    path.write_bytes("Café by the sea. The tide is slow.\n".encode(codec))
    script = parse_story(path)
    assert [p.text for p in script.passages] == ["Café by the sea. The tide is slow."]
    assert any("UTF-16 without a byte-order mark" in w for w in script.warnings)


def test_a_binary_file_is_refused_saying_what_a_story_is(tmp_path):
    path = tmp_path / "picture.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    said = r"picture\.txt: looks like a binary file, not text; give a story saved as text \(UTF-8\)"
    with pytest.raises(ScriptError, match=said):
        parse_story(path)


def test_a_cue_in_a_markdown_heading_acts_where_the_heading_is():
    """It was dropped without a word: no scene, no pause, no warning."""
    story = (
        "# Night\n\n## Part One [scene: music]\n\nThe hall is quiet.\n\n"
        "## Part Two [pause 5s]\n\nYou rest.\n\nSleep.\n"
    )
    script = parse_text(story, source="s.md", markdown=True)
    assert [c.title for c in script.chapters] == ["Part One", "Part Two"]
    assert script.passages[0].scene == "music"
    assert script.passages[0].pause_after_s == 5.0
    assert [p.text for p in script.passages] == ["The hall is quiet.", "You rest.", "Sleep."]
