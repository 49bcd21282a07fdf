"""The pages in a real browser (headless Chromium, from file://): the audio loads with the
report's length, chapters, scenes and sentences seek, the sentence being read is highlighted,
the feed's address copies, every link and image leads to a file, the keyboard reaches and
works everything, nothing shifts as the audio loads, the page is dark unless the reader's
system asks for light, a phone never scrolls sideways, and no script ever fails.

Screenshots at 390×844 and 1280×800 of the index and an episode page are kept in
``tests/web/artifacts/`` (``NARRATOR_ARTIFACTS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.web.conftest import ARTIFACTS, BASE_URL, TRICKY_TITLE

AUDIO = "document.getElementById('audio')"


def report_of(page_path: Path, audio_name: str) -> dict:
    return json.loads(page_path.parent.joinpath(audio_name + ".report.json").read_text())


def settle(page) -> None:
    """Wait until the audio has finished seeking and the page has caught up with it."""
    page.wait_for_function(f"!{AUDIO}.seeking")
    page.wait_for_timeout(50)


def test_the_audio_loads_with_the_reports_length(open_page, rendered_page, show):
    for path, audio in (
        (rendered_page, "harbour night.mp3"),
        (show / "public/episodes/harbour.html", "../harbour.mp3"),
    ):
        page = open_page(path)
        duration = page.evaluate(f"{AUDIO}.duration")
        assert duration == pytest.approx(report_of(path, audio)["duration_s"], abs=1.0)
        assert page.evaluate(f"{AUDIO}.error") is None
        assert page.errors == []


def test_a_chapter_seeks_and_the_sentence_read_there_is_highlighted(open_page, rendered_page):
    page = open_page(rendered_page)
    report = report_of(rendered_page, "harbour night.mp3")
    second = report["chapters"][1]
    page.locator(".chapters button").nth(1).click()
    settle(page)
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(second["start_s"], abs=0.05)
    assert page.evaluate("window.__plays") == 1  # clicked while paused: it plays from there
    assert page.locator(".chapters button").nth(1).get_attribute("aria-current") == "true"
    # The chapter starts in the pause before its first sentence: the one before is still lit.
    first_passage = next(p for p in report["passages"] if p["chapter"] == 1)
    previous = f"cue-{first_passage['index'] - 1}-"
    assert page.locator(".cue.active").get_attribute("id").startswith(previous)
    # Seeking into a sentence lights it, and only it.
    cue = page.locator(f"#cue-{first_passage['index']}-0")
    start = float(cue.get_attribute("data-t"))
    page.evaluate(f"{AUDIO}.currentTime = {start + 0.2}")
    settle(page)
    assert page.locator(".cue.active").count() == 1
    assert page.locator(".cue.active").get_attribute("id") == cue.get_attribute("id")
    assert page.locator(".cue.active").get_attribute("aria-current") == "true"
    assert page.errors == []


def test_a_sentence_and_a_scene_and_the_picture_seek(open_page, rendered_page):
    page = open_page(rendered_page, width=1280, height=800)
    cue = page.locator(".cue").nth(5)
    cue.click()
    settle(page)
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(
        float(cue.get_attribute("data-t")), abs=0.05
    )
    assert page.locator(".cue.active").get_attribute("id") == cue.get_attribute("id")
    scenes = page.locator(".scenes button")
    scene = scenes.nth(scenes.count() - 1)
    scene.click()
    settle(page)
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(
        float(scene.get_attribute("data-t")), abs=0.05
    )
    box = page.locator(".loudness").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)
    assert page.evaluate("window.__plays") == 3  # a sentence, a scene, the picture: each plays
    duration = page.evaluate(f"{AUDIO}.duration")
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(duration / 2, abs=duration / 50)
    x = float(page.locator("#playhead").get_attribute("x1"))
    assert x == pytest.approx(500, abs=20)
    assert page.errors == []


def test_the_player_plays_and_pauses(open_page, show):
    page = open_page(show / "public/episodes/harbour.html", still=False)
    play = page.locator("#play")
    assert play.get_attribute("aria-label") == "Play"
    label = "document.getElementById('play').getAttribute('aria-label')"
    play.click()
    page.wait_for_function(f"!{AUDIO}.paused && {AUDIO}.currentTime > 0.3", timeout=10_000)
    page.wait_for_function(f"{label} === 'Pause'")  # set by the audio's play event
    play.click()
    page.wait_for_function(f"{AUDIO}.paused && {label} === 'Play'")
    assert page.locator("#time").text_content().startswith("0:0")
    assert page.errors == []


def test_the_keyboard_reaches_a_chapter_and_a_sentence(open_page, rendered_page):
    page = open_page(rendered_page)
    report = report_of(rendered_page, "harbour night.mp3")
    target = report["chapters"][2]["start_s"]
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.t") == f"{target:.3f}":
            break
    else:
        pytest.fail("Tab never reached the third chapter")
    assert page.evaluate("document.activeElement.closest('.chapters') !== null")
    page.keyboard.press("Enter")
    settle(page)
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(target, abs=0.05)
    # A sentence: focusable, and Enter (or Space) listens from it.
    cue = page.locator(".cue").nth(2)
    cue.focus()
    page.keyboard.press("Space")
    settle(page)
    assert page.evaluate(f"{AUDIO}.currentTime") == pytest.approx(
        float(cue.get_attribute("data-t")), abs=0.05
    )
    # The play button and the slider are reached and named.
    page.locator("#play").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "seek"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Position"
    page.keyboard.press("End")
    settle(page)
    assert page.evaluate(f"{AUDIO}.currentTime") > report["duration_s"] - 1.5
    assert page.errors == []


def test_the_copy_button_copies_the_feeds_address(open_page, show):
    page = open_page(show / "public" / "index.html")
    page.locator("#copy").click()
    page.wait_for_function("document.getElementById('copied').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == BASE_URL + "feed.xml"
    assert page.errors == []


def served(url: str, show: Path) -> Path:
    path = unquote(urlsplit(url).path)
    prefix = urlsplit(BASE_URL).path
    assert path.startswith(prefix), url
    return show / "public" / path[len(prefix) :]


def test_every_link_and_image_of_the_site_leads_to_a_file(open_page, show):
    """From the index, every page it links and every page they link, as the browser
    resolves them."""
    seen: set[Path] = set()
    todo = [show / "public" / "index.html"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        page = open_page(path)
        assert page.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
        ), f"{path.name}: an image did not load"
        urls = page.evaluate(
            "Array.from(document.querySelectorAll('[href], [src]'))"
            ".map(e => [e.tagName, e.getAttribute('href') ?? e.getAttribute('src'),"
            " e.href || e.src])"
        )
        for tag, written, url in urls:
            parts = urlsplit(url)
            if parts.scheme == "data" or parts.scheme == "podcast":
                continue
            if parts.scheme in ("http", "https"):
                assert tag == "A", f"{path.name}: <{tag}> fetches {url} from the web"
                target = served(url, show)
            else:
                assert parts.scheme == "file", url
                target = Path(unquote(parts.path))
                if parts.fragment and target == path:
                    assert page.locator(f"#{parts.fragment}").count() == 1, written
            assert target.is_file(), f"{path.name}: {written} leads to no file"
            if target.suffix == ".html":
                todo.append(target)
        assert page.errors == [], path.name
    assert len(seen) == 4  # the index and three episodes


def test_titles_stay_text_in_the_browser(open_page, show):
    page = open_page(show / "public/episodes/rain.html")
    assert page.locator("h1").text_content() == TRICKY_TITLE
    assert page.title() == TRICKY_TITLE
    assert page.locator("h1 b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []


def test_nothing_shifts_and_a_phone_never_scrolls_sideways(open_page, show, rendered_page):
    for path in (show / "public/index.html", show / "public/episodes/harbour.html", rendered_page):
        page = open_page(path)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__cls") < 0.01, path.name
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path.name
        assert page.errors == []


def test_dark_by_default_and_light_when_asked(open_page, show):
    colours = {}
    for scheme in ("dark", "light"):
        page = open_page(show / "public/episodes/harbour.html", scheme=scheme)
        colours[scheme] = page.evaluate(
            "['backgroundColor', 'color'].map(k => getComputedStyle(document.body)[k])"
        )
    assert colours["dark"] != colours["light"]
    dark_bg = [int(c) for c in colours["dark"][0][4:-1].split(",")]
    light_bg = [int(c) for c in colours["light"][0][4:-1].split(",")]
    assert sum(dark_bg) < 100 < 600 < sum(light_bg)


def test_screenshots(open_page, show):
    """Kept as the tests' artefacts: the index and an episode page, on a phone and a desktop."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in (("index", "index.html"), ("episode", "episodes/harbour.html")):
        for width, height in ((390, 844), (1280, 800)):
            page = open_page(show / "public" / path, width=width, height=height)
            shot = ARTIFACTS / f"{name}-{width}x{height}.png"
            page.screenshot(path=shot)
            assert shot.stat().st_size > 10_000
            assert page.errors == []
