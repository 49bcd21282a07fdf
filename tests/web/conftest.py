"""The web tests' fixtures: a small show rendered once (fake engine) with its website, a
render with ``--page``, and a real browser — Debian's Chromium driven by Playwright's Python
package, never a browser downloaded at run time.

``.ci/setup`` installs both (``chromium`` with apt-get, ``playwright`` in the test extra).
Without them the browser tests skip, saying what is missing; the tests that only read the
HTML run anyway.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from tests.conftest import show_toml, write_show

#: Debian's Chromium (``apt-get install chromium``); NARRATOR_CHROMIUM names another.
CHROMIUM = os.environ.get("NARRATOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Beyond what Playwright passes (headless, no sandbox, no background networking, muted):
#: no GPU, no QUIC, and no name lookups at all (Chromium asks for Google's update and account
#: hosts even with background networking off), so a page cannot reach anything off the machine.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
#: Screenshots are kept here (gitignored) as the tests' artefacts; NARRATOR_ARTIFACTS moves them.
ARTIFACTS = Path(os.environ.get("NARRATOR_ARTIFACTS") or Path(__file__).with_name("artifacts"))

BASE_URL = "https://example.org/night-desk/"
TRICKY_TITLE = 'Tom & "Jerry\'s" <b>night</b> \U0001f319'
HOSTILE_DESCRIPTION = (
    '<script>window.__pwned = 1</script> & <img src=x onerror="window.__pwned = 2"> '
    "'quoted' \"twice\""
)

STORIES = {
    "stories/harbour.md": (
        "---\ntitle: The Harbour\ndescription: Boats at rest, and the water lapping.\n---\n"
        "# The Long Night\n\n"
        "## The Quay\n\n"
        "The boats rest in the harbour. Water laps at the stones, and the gulls are quiet "
        "now. A rope creaks against a post.\n\n"
        "You breathe slowly. The lamps along the quay glow softly, one after another.\n\n"
        "## The Lighthouse\n\n"
        "Far out, the lighthouse turns its slow beam across the water. Once, and again, and "
        "again.\n\n"
        "The sea is calm. The light passes over the boats and away.\n\n"
        "## Home\n\n"
        "You walk home along the sea wall. The night is soft and still, and you rest.\n"
    ),
    "stories/rain.txt": "Rain falls on the roof. Each drop is slow and soft.\n\nYou rest.\n",
    "stories/hearth.txt": "The fire settles in the stove. The room is warm and still.\n",
}

SHOW = show_toml(
    {
        "title": "The Night Desk",
        "author": "Ada Brook",
        "description": "Sleep stories, read slowly, over the sea & the rain.",
        "language": "en-gb",
        "base_url": BASE_URL,
        "image": "cover.jpg",
        "categories": ["Health & Fitness/Mental Health"],
        "email": "night@example.org",
    },
    {"story": "stories/harbour.md", "number": 1, "published": "2025-01-06"},
    {"story": "stories/rain.txt", "title": TRICKY_TITLE, "description": HOSTILE_DESCRIPTION,
     "number": 2, "published": "2025-01-13"},
    {"story": "stories/hearth.txt", "number": 3, "published": "2025-01-20",
     "description": "A warm room, and the fire settling."},
    tail=3,
)  # fmt: skip

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="session")
def show(tmp_path_factory) -> Path:
    """The fixture show, rendered, with its website and feed: the manifest's folder."""
    folder = tmp_path_factory.mktemp("show")
    manifest = write_show(folder, SHOW, STORIES)
    code, text = cli("batch", str(manifest), "--jobs", "2", "-q")
    assert code == 0, text
    code, text = cli("site", str(manifest))
    assert code == 0, text
    return folder


@pytest.fixture(scope="session")
def rendered_page(tmp_path_factory) -> Path:
    """``narrator render --page`` of the chaptered story: the page's path."""
    folder = tmp_path_factory.mktemp("render")
    story = folder / "harbour.md"
    story.write_text(STORIES["stories/harbour.md"], encoding="utf-8")
    output = folder / "out" / "harbour night.mp3"  # a space: links must be percent-encoded
    code, text = cli(
        "render", str(story), "-o", str(output), "--engine", "fake", "--tail", "3",
        "--cache-dir", str(folder / "cache"), "--page", "-q",
    )  # fmt: skip
    assert code == 0, text
    return output.with_name(output.name + ".html")


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One headless Chromium for these tests. Closed when they end: Playwright's sync API runs
    an event loop in this thread while it is open, and ``asyncio.run`` (Dask's client, in
    tests run after these) refuses to start inside it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (bash .ci/setup does)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install '.[test]'"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


#: Adds up layout shifts as the page loads (what Core Web Vitals calls CLS); shifts right
#: after input do not count, as the metric defines.
_CLS = (
    "window.__cls = 0; new PerformanceObserver((list) => { for (const e of list.getEntries()) "
    "if (!e.hadRecentInput) window.__cls += e.value; })"
    ".observe({ type: 'layout-shift', buffered: true });"
)


#: Playback held still: a click that seeks also asks to play (to listen from there), and a
#: playing clock would move under the seek tests. The asks are counted in ``window.__plays``.
_STILL = (
    "window.__plays = 0; HTMLMediaElement.prototype.play = function () { window.__plays += 1; "
    "return Promise.resolve(); };"
)


@pytest.fixture
def open_page(browser):
    """``open_page(path, width=390, height=844, scheme="dark", still=True)``: a fresh browser
    context at that size and colour scheme, on the page at ``path`` (from file://), with the
    clipboard granted; ``page.errors`` collects console errors and uncaught exceptions. With
    ``still``, the audio never really plays (see :data:`_STILL`)."""
    contexts = []

    def open_(path: Path, *, width: int = 390, height: int = 844, scheme: str = "dark", still=True):
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.add_init_script(_CLS)
        if still:
            page.add_init_script(_STILL)
        page.goto(path.as_uri())
        if page.locator("#audio").count():
            page.wait_for_function("document.getElementById('audio').readyState >= 1")
        return page

    yield open_
    for context in contexts:
        context.close()
