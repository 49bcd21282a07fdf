"""Books as published in plain text: a Project Gutenberg file's book without its header and
licence, its title and author from the header, chapters written as lines, the contents list
left unread, and prose wrapped by hand at about 70 columns read as prose, not verse."""

from __future__ import annotations

import json
from pathlib import Path

from mutagen.id3 import ID3
from typer.testing import CliRunner

from narrator.cli import app
from narrator.text.script import parse_story, parse_text, words_of

runner = CliRunner()

HEADER = """\
The Project Gutenberg eBook of The Wind in the Willows

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost and with almost no restrictions
whatsoever. You may copy it, give it away or re-use it under the terms
of the Project Gutenberg License included with this ebook or online
at www.gutenberg.org.

Title: The Wind in the Willows

Author: Kenneth Grahame

Release date: July 1, 1995 [eBook #289]

Language: English

*** START OF THE PROJECT GUTENBERG EBOOK THE WIND IN THE WILLOWS ***
"""
BOOK = """\



THE WIND IN THE WILLOWS

by Kenneth Grahame



Contents

 CHAPTER I. THE RIVER BANK
 CHAPTER II. THE OPEN ROAD



 CHAPTER I.
 THE RIVER BANK


The Mole had been working very hard all the morning, spring-cleaning his
little home. First with brooms, then with dusters; then on ladders and
steps and chairs, with a brush and a pail of whitewash; till he had dust
in his throat and eyes, and splashes of whitewash all over his black fur,
and an aching back and weary arms.

 CHAPTER II.
 THE OPEN ROAD


"Ratty," said the Mole suddenly, one bright summer morning, "if you
please, I want to ask you a favour."

"""
LICENCE = """\
*** END OF THE PROJECT GUTENBERG EBOOK THE WIND IN THE WILLOWS ***

Updated editions will replace the previous one--the old editions will
be renamed.

Creating the works from print editions not protected by U.S. copyright
law means that no one owns a United States copyright in these works.
"""
#: What is read: the book's own words, in order, and nothing of the frame.
READ = [
    "THE WIND IN THE WILLOWS",
    "by Kenneth Grahame",
    "The Mole had been working very hard all the morning, spring-cleaning his little home. "
    "First with brooms, then with dusters; then on ladders and steps and chairs, with a brush "
    "and a pail of whitewash; till he had dust in his throat and eyes, and splashes of "
    "whitewash all over his black fur, and an aching back and weary arms.",
    '"Ratty," said the Mole suddenly, one bright summer morning, "if you please, I want to '
    'ask you a favour."',
]


def test_a_gutenberg_file_is_read_as_its_book_with_its_title_author_and_chapters(tmp_path):
    story = tmp_path / "pg289.txt"
    story.write_text(HEADER + BOOK + LICENCE, encoding="utf-8")
    script = parse_story(story)
    assert [" ".join(p.sentences) for p in script.passages] == READ
    assert (script.title, script.author) == ("The Wind in the Willows", "Kenneth Grahame")
    assert [c.title for c in script.chapters] == [
        "The Wind in the Willows",
        "Chapter I. The River Bank",
        "Chapter II. The Open Road",
    ]
    # Lines are the file's: the Mole's paragraph is on line 38, the chapters on 33 and 45.
    lines = (HEADER + BOOK).split("\n")
    mole = next(p for p in script.passages if p.sentences[0].startswith("The Mole"))
    assert lines[mole.line - 1].startswith("The Mole")
    assert [c.line for c in script.chapters[1:]] == [
        i + 1 for i, line in enumerate(lines) if line.strip().startswith("CHAPTER") and
        line.strip().endswith(".")
    ]  # fmt: skip
    first, last = HEADER.count("\n") + 1, (HEADER + BOOK).count("\n")
    assert script.warnings == (
        f"{story}:{first}: a Project Gutenberg file: only its book (lines {first}-{last}) is "
        "read, not its header and licence",
    )
    # The story's own front matter names it first.
    named = parse_text(
        "---\ntitle: Willows\nauthor: K. G.\n---\n" + HEADER + BOOK + LICENCE, source="s.txt"
    )
    assert (named.title, named.author) == ("Willows", "K. G.")
    assert [" ".join(p.sentences) for p in named.passages] == READ


def test_a_story_that_only_quotes_the_markers_is_read_whole():
    text = "She read the line *** START OF THE PROJECT GUTENBERG EBOOK X *** aloud.\n"
    script = parse_text(text, source="s.txt")
    assert "GUTENBERG" in script.passages[0].sentences[0] and not script.warnings


def test_a_gutenberg_file_cut_short_by_hand_is_read_from_start_to_its_end():
    """Without its END line (the licence cut off, or only some chapters kept) the header was
    read; the book ends at the "End of the Project Gutenberg EBook" line, or with the file."""
    for tail in ("", "End of the Project Gutenberg EBook of The Wind in the Willows\n\nMore.\n"):
        script = parse_text(HEADER + BOOK + tail, source="s.txt")
        assert [" ".join(p.sentences) for p in script.passages] == READ
        assert script.title == "The Wind in the Willows"


def test_chapters_written_as_lines_are_chapters_where_a_story_has_two():
    text = (
        "Chapter One: The Harbour\n\nThe boats rock.\n\nCHAPTER 2\nTHE LIGHTHOUSE\n\n"
        "The lamp turns.\n\nChapter three - Home Again\n\nThe door shuts.\n"
    )
    script = parse_text(text, source="s.txt")
    assert [c.title for c in script.chapters] == [
        "Chapter One. The Harbour",
        "Chapter 2. The Lighthouse",
        "Chapter three. Home Again",
    ]
    assert [p.text for p in script.passages] == ["The boats rock.", "The lamp turns.",
                                                  "The door shuts."]  # fmt: skip
    # One such line is no book's chapters: it is read, as it was.
    one = parse_text("Chapter One\n\nThe boats rock.\n", source="s.txt")
    assert [p.text for p in one.passages] == ["Chapter One", "The boats rock."]
    # Prose that starts like a chapter is prose.
    prose = (
        "Chapter 3 was the longest one I wrote.\n\nPart one of the plan was simple.\n\n"
        "Book II\nShe opened the door slowly.\n\nChapter IV\n\nThe end.\n"
    )
    said = [p.text for p in parse_text(prose, source="s.txt").passages]
    assert said[:3] == ["Chapter three was the longest one I wrote.",
                        "Part one of the plan was simple.",
                        "Book two She opened the door slowly."]  # fmt: skip


def test_contents_entries_on_lines_of_their_own_are_not_read_or_made_chapters():
    text = (
        "CONTENTS\n\nCHAPTER I. THE RIVER BANK\n\nCHAPTER II. THE OPEN ROAD\n\n\n"
        "CHAPTER I. THE RIVER BANK\n\nThe Mole worked.\n\nCHAPTER II. THE OPEN ROAD\n\n"
        "The Rat rowed.\n"
    )
    script = parse_text(text, source="s.txt")
    assert [p.text for p in script.passages] == ["The Mole worked.", "The Rat rowed."]
    assert [c.title for c in script.chapters] == [
        "Chapter I. The River Bank",
        "Chapter II. The Open Road",
    ]
    assert not script.warnings


def test_prose_wrapped_by_hand_a_little_past_its_width_is_not_verse():
    """The header's paragraph: one line two columns past the rest (72), where "at" after a
    line of 67 would have fitted; read as prose, not with a pause at every line's end."""
    paragraph = HEADER.split("\n\n")[1]
    assert max(map(len, paragraph.split("\n"))) == 72
    (passage,) = parse_text(paragraph + "\n", source="s.txt").passages
    assert passage.text == (
        "This ebook is for the use of anyone anywhere in the United States and most other "
        "parts of the world at no cost and with almost no restrictions whatsoever. You may copy "
        "it, give it away or re-use it under the terms of the Project Gutenberg License "
        "included with this ebook or online at gutenberg dot org."
    )


def test_a_gutenberg_book_renders_with_its_tags_and_chapters_and_without_its_licence(tmp_path):
    story = tmp_path / "pg289.txt"
    story.write_text(HEADER + BOOK + LICENCE, encoding="utf-8")
    out = tmp_path / "willows.mp3"
    args = ["render", str(story), "-o", str(out), "--engine", "fake", "--tail", "2",
            "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "a Project Gutenberg file: only its book" in " ".join(result.stderr.split())
    tags = ID3(out, translate=False)
    assert tags["TIT2"].text == ["The Wind in the Willows"]
    assert tags["TPE1"].text == ["Kenneth Grahame"]
    assert [f.sub_frames["TIT2"].text[0] for f in tags.getall("CHAP")] == [
        "The Wind in the Willows",
        "Chapter I. The River Bank",
        "Chapter II. The Open Road",
    ]
    transcript = out.with_name(out.name + ".vtt").read_text("utf-8")
    assert "Mole" in transcript and "Gutenberg" not in transcript
    report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
    assert report["words"] == sum(len(words_of(r)) for r in READ)


def test_an_older_gutenberg_layout_loses_its_credit_and_closing_line_too():
    """A START line wrapped onto the next, a title of two lines, the volunteers' credit after
    START and the "End of the Project Gutenberg EBook" line before END (found in the
    review of this feature: each was read aloud)."""
    text = (Path(__file__).parent / "stories" / "gutenberg-old.txt").read_text("utf-8")
    script = parse_text(text, source="poe.txt")
    assert (script.title, script.author) == (
        "The Murders in the Rue Morgue and Other Stories",
        "Edgar Allan Poe",
    )
    assert [p.text for p in script.passages] == [
        "The mental features discoursed of as the analytical, are, in themselves, but little "
        "susceptible of analysis.",
        "It was a dark night.",
    ]


def test_contents_part_and_book_headings_and_first_lines_that_look_like_names():
    # One contents entry a block, the last with a preface under it: none is a chapter.
    contents = (
        "Contents.\n\nCHAPTER I.    THE RIVER BANK\n\nCHAPTER II.   THE OPEN ROAD\n\n"
        "PREFACE\n\nA word first.\n\nCHAPTER I. THE RIVER BANK\n\nThe Mole worked.\n\n"
        "CHAPTER II. THE OPEN ROAD\n\nThe Rat rowed.\n"
    )
    script = parse_text(contents, source="s.txt")
    assert [c.title for c in script.chapters[1:]] == [
        "Chapter I. The River Bank",
        "Chapter II. The Open Road",
    ]
    # From the list's title to the first chapter, short lines are its entries ("PREFACE").
    assert [p.text for p in script.passages] == ["A word first.", "The Mole worked.",
                                                  "The Rat rowed."]  # fmt: skip
    # A book's and a part's headings are folded into the chapter under them, and two books'
    # "CHAPTER I" are both chapters.
    books = (
        "BOOK ONE\n\nCHAPTER I\n\nThe shore was quiet.\n\nCHAPTER II\n\nThe boats came in.\n\n"
        "BOOK TWO\n\nCHAPTER I\n\nThe hills were green.\n\nPART THREE: THE SHORE\n\n"
        "CHAPTER II.\n\nRain fell.\n"
    )
    assert [c.title for c in parse_text(books, source="s.txt").chapters] == [
        "Book One. Chapter I",
        "Chapter II",
        "Book Two. Chapter I",
        "Part Three. The Shore. Chapter II",
    ]
    # A first line under a chapter's that ends a sentence is the story's, and read.
    story = (
        'Chapter 1\nRain.\n\nIt fell all night.\n\nChapter 2\n"Run!"\n\nThey ran.\n\n'
        "Part One: The Flood\n\nPart Two: The Bear\n\nBoth were long.\n"
    )
    said = [p.text for p in parse_text(story, source="s.txt").passages]
    assert said == ["Chapter one Rain.", "It fell all night.", 'Chapter two "Run!"',
                    "They ran.", "Part One: The Flood", "Part Two: The Bear",
                    "Both were long."]  # fmt: skip
    # Names in capitals are shown as a title is written.
    names = (
        'CHAPTER I. "LIKE SUMMER TEMPESTS CAME HIS TEARS"\n\nOne.\n\n'
        "CHAPTER II. MR. MCGREGOR'S GARDEN AND O'BRIEN\n\nTwo.\n\n"
        "CHAPTER III. THE CIVIL WAR\n\nThree.\n\nChapter 4 The Beginning\n\nFour.\n\n"
        "CHAPTER THE FIFTH\n\nFive.\n"
    )
    assert [c.title for c in parse_text(names, source="s.txt").chapters] == [
        'Chapter I. "Like Summer Tempests Came His Tears"',
        "Chapter II. Mr. Mcgregor's Garden and O'Brien",
        "Chapter III. The Civil War",
        "Chapter 4. The Beginning",
        "Chapter the Fifth",
    ]


def test_verse_of_long_even_lines_is_still_verse():
    """The slack for prose wrapped by hand is only before a line going on in lower case: a
    lullaby's lines (48, 42, 48, 41 columns), each opening with a capital, keep their pause."""
    lullaby = (
        "Sleep little one while the night wind is singing\n"
        "The candle is low and the shadows are long\n"
        "Dream of the meadows where bluebells are ringing\n"
        "And wake in the morning to sing me a song\n"
    )
    (passage,) = parse_text(lullaby, source="s.txt").passages
    assert passage.text == (
        "Sleep little one while the night wind is singing, The candle is low and the shadows "
        "are long, Dream of the meadows where bluebells are ringing, And wake in the morning "
        "to sing me a song"
    )


def test_a_book_s_illustration_marks_are_not_read():
    """Project Gutenberg marks a picture "[Illustration: …]": it was read aloud, with a
    warning for each; it is for the eye, as a Markdown image is."""
    text = (
        "The Mole sat.[Illustration]\n\n[Illustration: The Mole and the Rat]\n\n"
        "He rose. The [illustration of a boat] was fine.\n"
    )
    script = parse_text(text, source="s.txt")
    assert [p.text for p in script.passages] == [
        "The Mole sat.",
        "He rose. The [illustration of a boat] was fine.",  # words in brackets: still read
    ]
    assert len(script.warnings) == 1 and "[illustration of a boat] is no cue" in script.warnings[0]
    # In a Gutenberg book, one over several lines too.
    book = (
        HEADER
        + "\nThe Mole sat.\n\n[Illustration: THE MOLE\n    AND THE RAT]\n\nHe rose.\n\n"
        + LICENCE
    )
    script = parse_text(book, source="s.txt")
    assert [p.text for p in script.passages] == ["The Mole sat.", "He rose."]
    assert len(script.warnings) == 1  # the book's own note


def test_the_chapter_styles_and_contents_lists_of_a_user_test():
    """Found by a user test of this feature: names in sentence case, a name after a blank
    line, "--" as a dash, a contents list with page numbers and books, a two-line title."""
    styles = (
        "CHAPTER I. Rachel Lynde is Surprised\n\nOne.\n\nCHAPTER II.\nMatthew Cuthbert is "
        "Surprised\n\nTwo.\n\nChapter 3: Where the fox lives\n\nThree.\n\nChapter 4 -- The Fox"
        "\n\nFour.\n\nSTAVE FIVE.\n\nTHE END OF IT.\n\nFive.\n"
    )
    script = parse_text(styles, source="s.txt")
    assert [c.title for c in script.chapters] == [
        "Chapter I. Rachel Lynde is Surprised",
        "Chapter II. Matthew Cuthbert is Surprised",
        "Chapter 3. Where the fox lives",
        "Chapter 4. The Fox",
        "Stave Five. The End of It",
    ]
    assert [p.text for p in script.passages] == ["One.", "Two.", "Three.", "Four.", "Five."]
    contents = (
        "CONTENTS\n\nPAGE\n\nPREFACE    v\n\nBook the First--Recalled to Life\n\n"
        "CHAPTER I. THE PERIOD    1\nCHAPTER II. THE MAIL    9\n\n"
        "Book the Second--the Golden Thread\n\nCHAPTER I. FIVE YEARS LATER    40\n\n\n"
        "PREFACE\n\nA word first.\n\nBook the First--Recalled to Life\n\nCHAPTER I.\nTHE PERIOD"
        "\n\nIt was the best of times.\n\nCHAPTER II.\nTHE MAIL\n\nIt was the Dover road.\n\n"
        "Book the Second--the Golden Thread\n\nCHAPTER I.\nFIVE YEARS LATER\n\nTellson's Bank.\n"
    )
    script = parse_text(contents, source="s.txt")
    assert [p.text for p in script.passages] == [
        "A word first.",
        "It was the best of times.",
        "It was the Dover road.",
        "Tellson's Bank.",
    ]
    assert [c.title for c in script.chapters[1:]] == [
        "Book the First. Recalled to Life. Chapter I. The Period",
        "Chapter II. The Mail",
        "Book the Second. the Golden Thread. Chapter I. Five Years Later",
    ]
    two_line = HEADER.replace(
        "Title: The Wind in the Willows", "Title: A Christmas Carol\n       A Ghost Story"
    )
    assert parse_text(two_line + BOOK + LICENCE, source="s.txt").title == (
        "A Christmas Carol: A Ghost Story"
    )


def test_verse_in_lower_case_of_mid_length_lines_is_still_verse():
    """The slack is for lines wrapped at a book's width (65 columns or more): four lines of
    about 55, each opening in lower case, keep their pause."""
    verse = (
        "the boats come home across the water in the evening light\n"
        "and the gulls go quiet one by one along the harbour wall\n"
        "the lamps are lit in every window facing on the sea\n"
        "and the tide turns slowly in the dark and comes to me\n"
    )
    (passage,) = parse_text(verse, source="s.txt").passages
    assert passage.text.count(",") == 3


def test_footnote_marks_are_not_read_and_their_notes_are():
    """A book's footnote mark ("door-nail.[1]") was read "[one]" with a warning; a number in
    brackets standing apart is still read as written."""
    text = (
        "Marley was dead as a door-nail.[1] It was late.\n\n"
        "He counted [2] things.\n\n[1] Dead as a door-nail: an old saying.\n"
    )
    script = parse_text(text, source="s.txt")
    assert [p.text for p in script.passages] == [
        "Marley was dead as a door-nail. It was late.",
        "He counted [two] things.",
        "Dead as a door-nail: an old saying.",
    ]
    assert len(script.warnings) == 1 and "[2] is no cue" in script.warnings[0]
    # Markdown's reference links keep their brackets.
    md = parse_text("# T\n\nSee [the harbour][1] at dusk.\n\n[1]: https://example.org\n",
                    source="s.md", markdown=True)  # fmt: skip
    assert [p.text for p in md.passages] == ["See the harbour at dusk."]


def test_no_word_of_a_book_is_lost_to_its_frame_its_contents_or_a_chapter_s_name():
    """Found by the session's last review: each of these lost words of the story."""
    # The first chapter's heading and its epigraph, after a contents list.
    alice = (
        "CONTENTS\n\nCHAPTER I. Down the Rabbit-Hole\nCHAPTER II. The Pool of Tears\n\n"
        "CHAPTER I. Down the Rabbit-Hole\n\nAll in the golden afternoon\nFull leisurely we "
        "glide\nBoth our oars with little skill\n\nAlice was beginning to get very tired.\n\n"
        "CHAPTER II. The Pool of Tears\n\nCuriouser and curiouser.\n"
    )
    script = parse_text(alice, source="s.txt")
    assert [c.title for c in script.chapters] == [
        "Chapter I. Down the Rabbit-Hole",
        "Chapter II. The Pool of Tears",
    ]
    assert [p.text for p in script.passages] == [
        "All in the golden afternoon, Full leisurely we glide, Both our oars with little skill",
        "Alice was beginning to get very tired.",
        "Curiouser and curiouser.",
    ]
    # A one-line paragraph opening a chapter is its words, not its name.
    yes = "CHAPTER I\n\nYes\n\nIt was raining.\n\nCHAPTER II\n\nBANG\n\nNo more.\n"
    script = parse_text(yes, source="s.txt")
    assert [c.title for c in script.chapters] == ["Chapter I", "Chapter II"]
    assert [p.text for p in script.passages] == ["Yes", "It was raining.", "BANG", "No more."]
    # A "Produced by" line in the book's first paragraph; paragraphs after a closing line.
    start = "*** START OF THE PROJECT GUTENBERG EBOOK FOO ***\n\n"
    credit = start + "Produced by Someone\nHello there, this is the book.\n\nSecond para.\n"
    assert [p.text for p in parse_text(credit, source="s.txt").passages] == [
        "Produced by Someone Hello there, this is the book.",
        "Second para.",
    ]
    closing = (
        start + "One.\n\nEnd of the Project Gutenberg EBook of Foo, he said.\n\nTwo.\n\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK FOO ***\n"
    )
    assert [p.text for p in parse_text(closing, source="s.txt").passages] == [
        "One.",
        "End of the Project Gutenberg EBook of Foo, he said.",
        "Two.",
    ]
    # A number in brackets inside a word is no footnote's mark.
    assert parse_text("The code x[12]y was odd.\n", source="s.txt").passages[0].text == (
        "The code x[twelve]y was odd."
    )
