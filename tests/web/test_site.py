"""The listening page and the show's website as files: what they hold, that the HTML parses
without a single error, that the user's text stays text, that only what changed is written,
and the one-line errors of bad input. (``test_browser.py`` opens them in a real browser.)
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import pytest

from tests.web.conftest import BASE_URL, HOSTILE_DESCRIPTION, TRICKY_TITLE, cli

XHTML = "{http://www.w3.org/1999/xhtml}"


def pages_of(show: Path) -> list[Path]:
    public = show / "public"
    return [public / "index.html", *sorted((public / "episodes").glob("*.html"))]


def parsed(path: Path):
    """The page as html5lib's strict parser reads it: any parse error raises."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(path.read_bytes())


def text_of(element) -> str:
    return "".join(element.itertext())


def test_every_page_parses_without_an_error(show, rendered_page):
    pages = [*pages_of(show), rendered_page]
    assert len(pages) == 5
    for page in pages:
        tree = parsed(page)  # raises html5lib.html5parser.ParseError on the first error
        assert tree.find(f"{XHTML}head/{XHTML}title") is not None, page
        ids = [e.get("id") for e in tree.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), f"{page.name}: duplicate ids"


def test_the_render_page_holds_everything(rendered_page):
    report = json.loads(rendered_page.with_name("harbour night.mp3.report.json").read_text())
    assert report["sidecars"]["page"] == "harbour night.mp3.html"
    curve = report["loudness_over_time"]
    assert curve["step_s"] >= 1 and len(curve["short_term_lufs"]) == pytest.approx(
        report["duration_s"] / curve["step_s"], abs=1
    )
    tree = parsed(rendered_page)
    audio = tree.find(f".//{XHTML}audio")
    assert audio.get("src") == "harbour%20night.mp3"  # percent-encoded, relative
    assert float(audio.get("data-duration")) == report["duration_s"]
    chapters = tree.findall(f".//{XHTML}ol[@class='chapters']//{XHTML}button")
    assert [float(b.get("data-t")) for b in chapters] == [c["start_s"] for c in report["chapters"]]
    assert [text_of(b).split(" ", 1)[1] for b in chapters] == [
        "The Quay", "The Lighthouse", "Home"
    ]  # fmt: skip
    cues = tree.findall(f".//{XHTML}span[@class='cue']")
    vtt = rendered_page.with_name("harbour night.mp3.vtt").read_text()
    assert len(cues) == vtt.count(" --> ")
    assert text_of(cues[0]) == "The boats rest in the harbour."
    scenes = tree.findall(f".//{XHTML}ol[@class='scenes']//{XHTML}button")
    # A scene and its slower self (the arc's crossfade) are one button.
    changes = [s for i, s in enumerate(report["scenes"])
               if i == 0 or s["scene"] != report["scenes"][i - 1]["scene"]]  # fmt: skip
    assert [float(b.get("data-t")) for b in scenes] == [s["start_s"] for s in changes]
    svg = tree.find(f".//{XHTML}div[@class='loudness']/{{http://www.w3.org/2000/svg}}svg")
    passages = svg.findall("{http://www.w3.org/2000/svg}rect[@class='passage']")
    assert len(passages) == len(report["passages"])
    figures = text_of(tree.find(f".//{XHTML}dl[@class='figures']"))
    for needle in ("Loudness", "True peak", "Loudness range", "Voice over ambience", "Pace"):
        assert needle in figures
    assert f"{report['integrated_lufs']:.1f}".replace("-", "\u2212") in figures


def test_titles_and_descriptions_stay_text(show):
    public = show / "public"
    page = public / "episodes" / "rain.html"
    for path in (page, public / "index.html"):
        tree = parsed(path)
        body = tree.find(f"{XHTML}body")
        assert TRICKY_TITLE in text_of(body), path.name
        assert HOSTILE_DESCRIPTION in text_of(body), path.name
        # No element came from the user's text: one script (the page's own), images only ours.
        assert body.find(f".//{XHTML}b") is None
        assert len(tree.findall(f".//{XHTML}script")) == 1
        assert all(img.get("onerror") is None for img in tree.iter(f"{XHTML}img"))
        assert all(img.get("src") != "x" for img in tree.iter(f"{XHTML}img"))
    assert text_of(parsed(page).find(f".//{XHTML}h1")) == TRICKY_TITLE
    assert parsed(page).find(f"{XHTML}head/{XHTML}title").text == TRICKY_TITLE


def served(url: str, show: Path) -> Path:
    path = unquote(urlsplit(url).path)
    prefix = urlsplit(BASE_URL).path
    assert path.startswith(prefix), url
    return show / "public" / path[len(prefix) :]


def test_the_feed_links_the_pages_and_the_index_the_feed(show):
    channel = ET.fromstring((show / "public" / "feed.xml").read_bytes()).find("channel")
    assert channel.findtext("link") == BASE_URL  # where index.html is served
    links = {item.findtext("title"): item.findtext("link") for item in channel.iter("item")}
    assert links[TRICKY_TITLE] == BASE_URL + "episodes/rain.html"
    assert links["The Harbour"] == BASE_URL + "episodes/harbour.html"
    assert all(served(link, show).is_file() for link in links.values())
    index = parsed(show / "public" / "index.html")
    hrefs = [a.get("href") for a in index.iter(f"{XHTML}a")]
    assert BASE_URL + "feed.xml" in hrefs
    assert "podcast://example.org/night-desk/feed.xml" in hrefs
    copy = index.find(f".//{XHTML}button[@id='copy']")
    assert copy.get("data-copy") == BASE_URL + "feed.xml"
    # Newest first, with date and length.
    titles = [text_of(h) for h in index.iter(f"{XHTML}h3")]
    assert titles == ["Hearth", TRICKY_TITLE, "The Harbour"]
    assert "20 January 2025" in text_of(index.find(f".//{XHTML}ol[@class='episodes']"))
    # narrator feed on its own keeps the links, now that the pages are there.
    before = (show / "public" / "feed.xml").read_bytes()
    code, text = cli("feed", str(show / "podcast.toml"))
    assert code == 0, text
    assert (show / "public" / "feed.xml").read_bytes() == before


def test_links_and_images_resolve_to_files(show):
    for page in pages_of(show):
        tree = parsed(page)
        for element in tree.iter():
            for attribute in ("href", "src"):
                url = element.get(attribute)
                if url is None or url.startswith(("data:", "podcast://", "#")):
                    continue
                parts = urlsplit(url)
                if parts.scheme in ("http", "https"):
                    assert attribute == "href", f"{page.name}: fetches {url}"
                    target = served(url, show)
                else:
                    assert not parts.scheme and not url.startswith("/"), url
                    target = page.parent / unquote(parts.path)
                assert target.is_file(), f"{page.name}: {url} leads to no file"
                if target.suffix == ".html" and attribute == "href":
                    assert not url.endswith("/")


def stamps(paths: list[Path]) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


def test_only_what_changed_is_written_again(show, tmp_path):
    folder = tmp_path / "show"
    shutil.copytree(show, folder)
    manifest = folder / "podcast.toml"
    pages = pages_of(folder)
    feed = folder / "public" / "feed.xml"
    before = stamps([*pages, feed])
    code, text = cli("site", str(manifest))
    assert code == 0, text
    assert "(4 pages: 0 changed, 4 up to date)" in " ".join(text.split())
    assert stamps([*pages, feed]) == before  # not one file touched
    # One episode's description changes: its page, the index and the feed are written.
    edited = manifest.read_text().replace(
        "A warm room, and the fire settling.", "A warm room; the fire settles."
    )
    manifest.write_text(edited, encoding="utf-8")
    code, text = cli("site", str(manifest))
    assert code == 0, text
    assert "(4 pages: 2 changed, 2 up to date)" in " ".join(text.split())
    after = stamps([*pages, feed])
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {"hearth.html", "index.html", "feed.xml"}
    assert "A warm room; the fire settles." in (folder / "public/episodes/hearth.html").read_text()
    # The show's title is on every page: all of them.
    manifest.write_text(edited.replace('title = "The Night Desk"', 'title = "Night Desk"'))
    code, text = cli("site", str(manifest))
    assert code == 0, text
    assert "(4 pages: 4 changed, 0 up to date)" in " ".join(text.split())


def test_the_page_of_an_episode_that_left_the_show_is_removed_and_nothing_else(show, tmp_path):
    folder = tmp_path / "show"
    shutil.copytree(show, folder)
    manifest = folder / "podcast.toml"
    episodes = folder / "public" / "episodes"
    hearth = episodes / "hearth.html"
    assert hearth.is_file()
    # Beside the pages: the user's own file, and a link to a page narrator wrote elsewhere.
    notes = episodes / "notes.html"
    notes.write_text("<p>my own notes</p>\n", encoding="utf-8")
    elsewhere = tmp_path / "kept.html"
    shutil.copy(hearth, elsewhere)
    (episodes / "alias.html").symlink_to(elsewhere)
    text = manifest.read_text(encoding="utf-8")
    last = text.rindex("[[episodes]]")
    assert "hearth" in text[last:]
    manifest.write_text(text[:last], encoding="utf-8")  # the hearth leaves the show

    code, out = cli("site", str(manifest))
    assert code == 0, out
    assert "(3 pages: 1 changed, 2 up to date, 1 removed: hearth.html)" in " ".join(out.split())
    assert not hearth.exists()
    assert notes.read_text(encoding="utf-8") == "<p>my own notes</p>\n"
    assert (episodes / "alias.html").is_symlink() and elsewhere.is_file()
    assert sorted(p.name for p in episodes.iterdir()) == [
        "alias.html", "harbour.html", "notes.html", "rain.html",
    ]  # fmt: skip
    assert "hearth" not in (folder / "public" / "index.html").read_text(encoding="utf-8")
    assert "hearth" not in (folder / "public" / "feed.xml").read_text(encoding="utf-8")
    # Once gone, gone: the next run has nothing to remove.
    code, out = cli("site", str(manifest))
    assert code == 0, out
    assert "removed" not in out


def one_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    assert "Traceback" not in text
    return lines[0]


def test_a_show_not_yet_rendered_is_one_line_and_nothing_is_written(tmp_path):
    from tests.conftest import write_show
    from tests.web.conftest import SHOW, STORIES

    manifest = write_show(tmp_path, SHOW, STORIES)
    code, text = cli("site", str(manifest))
    assert code == 1
    line = one_error(text)
    assert "episode 1 (stories/harbour.md): not rendered yet" in line
    assert f"run narrator batch {manifest} first" in line
    assert not (tmp_path / "public").exists()


def test_a_page_that_would_overwrite_a_story_is_refused(tmp_path):
    from tests.conftest import write_show
    from tests.web.conftest import SHOW, STORIES

    # A story kept where its own page would go (rain.html → the page of rain.mp3).
    story = tmp_path / "public" / "episodes" / "rain.html"
    stories = {**STORIES, "public/episodes/rain.html": "Rain on the roof.\n"}
    manifest = write_show(
        tmp_path, SHOW.replace("stories/rain.txt", "public/episodes/rain.html"), stories
    )
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, text = cli("site", str(manifest))
    assert code == 1
    line = one_error(text)
    assert "the page of episode 2 (public/episodes/rain.html) would overwrite the story" in line
    assert story.read_text() == "Rain on the roof.\n"
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_two_episodes_that_would_share_a_page_are_refused(tmp_path):
    from tests.conftest import write_show
    from tests.web.conftest import SHOW, STORIES

    manifest = write_show(
        tmp_path,
        SHOW.replace(
            'story = "stories/rain.txt"',
            'story = "stories/rain.txt"\noutput = "harbour.ogg"\nformat = "ogg"',
        ),
        STORIES,
    )
    code, text = cli("site", str(manifest))
    assert code == 1
    line = one_error(text)
    shared = "episode 2 (stories/rain.txt) and episode 1 (stories/harbour.md) would share"
    assert f"{shared} the web page episodes/harbour.html" in line
    assert not (tmp_path / "public").exists()


def test_a_render_page_that_would_overwrite_the_story_is_refused(tmp_path):
    story = tmp_path / "night.mp3.html"
    story.write_text("The night is soft.\n", encoding="utf-8")
    code, text = cli(
        "render", str(story), "-o", str(tmp_path / "night.mp3"), "--engine", "fake", "--page"
    )
    assert code == 1
    line = one_error(text)
    assert "the listening page would overwrite the story" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["night.mp3.html"]
    assert story.read_text() == "The night is soft.\n"


def test_a_story_may_ask_for_its_page(tmp_path):
    story = tmp_path / "s.md"
    story.write_text("---\npage: true\n---\nThe night is soft.\n", encoding="utf-8")
    output = tmp_path / "out" / "s.ogg"
    code, text = cli(
        "render", str(story), "-o", str(output), "--engine", "fake", "--tail", "1", "-q",
        "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    assert code == 0, text
    assert (tmp_path / "out" / "s.ogg.html").is_file()
    assert "s.ogg" in parsed(tmp_path / "out" / "s.ogg.html").find(f".//{XHTML}audio").get("src")
    assert not re.search(r"https?://", (tmp_path / "out" / "s.ogg.html").read_text())


def test_the_transcript_reads_back_as_written():
    from narrator.page.episode import EpisodeView, episode_html
    from narrator.page.transcript import parse_vtt

    vtt = (
        "WEBVTT\n\n0-0\n00:00:01.000 --> 00:00:02.500\nTom &amp; Jerry &lt;b&gt;3&lt;/b&gt;\n"
        "&quot;again&quot;\n\nNOTE not a cue\n\n1-0-1\n01:00:00.000 --> 01:00:01.000 align:start\n"
        "\U0001f319\n\nbroken\nno time here\n"
    )
    cues = parse_vtt(vtt)
    assert [(c.id, c.start_s, c.end_s, c.text, c.passage) for c in cues] == [
        ("0-0", 1.0, 2.5, 'Tom & Jerry <b>3</b> "again"', 0),
        ("1-0-1", 3600.0, 3601.0, "\U0001f319", 1),
    ]
    page = episode_html(
        EpisodeView(title="t", audio="a b.mp3", report={"duration_s": 3601}, cues=cues)
    )
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(page)
    spans = tree.findall(f".//{XHTML}span[@class='cue']")
    assert [text_of(s) for s in spans] == ['Tom & Jerry <b>3</b> "again"', "\U0001f319"]
    assert tree.find(f".//{XHTML}b") is None
    assert tree.find(f".//{XHTML}audio").get("src") == "a%20b.mp3"
    assert "1:00:01" in text_of(tree.find(f".//{XHTML}span[@id='time']"))


def test_the_loudness_over_time_is_a_value_a_step():
    from narrator.render.report import loudness_over_time

    curve = loudness_over_time([(1.5, -30.0), (2.9, -20.04), (2.95, -40.0), (4.6, -25.0)], 5.0)
    assert curve == {"step_s": 1.0, "short_term_lufs": [None, -30.0, -20.0, -20.0, -25.0]}
    long = loudness_over_time([(t * 1.5, -20.0) for t in range(1, 19_200)], 8 * 3600.0)
    assert long["step_s"] == 48 and len(long["short_term_lufs"]) == 600
    assert loudness_over_time([], 0.0) == {"step_s": 1.0, "short_term_lufs": []}


def test_a_report_edited_by_hand_still_makes_a_page():
    from narrator.page.episode import EpisodeView, episode_html

    report = {
        "duration_s": 60.0,
        "target_lufs": "loud",
        "chapters": [{"title": "One", "start_s": 0.0}, {"title": "Two"}, "three"],
        "passages": [{"index": 0, "start_s": 1.0, "end_s": 5.0}, {"index": "x"}, None],
        "scenes": [{"start_s": 0.0, "scene": "coast"}, {"scene": "rain"}],
        "loudness_over_time": {"step_s": 1.0, "short_term_lufs": [None, -20.0, "x", -22.5]},
    }
    page = episode_html(EpisodeView(title="t", audio="a.mp3", report=report))
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(page)
    assert len(tree.findall(f".//{XHTML}ol[@class='chapters']/{XHTML}li")) == 1
    assert len(tree.findall(f".//{XHTML}ol[@class='scenes']/{XHTML}li")) == 1
