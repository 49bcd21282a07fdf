"""Publishing end to end with the fake engine: batch, feed and playlist on real renders.

One manifest of four short episodes (tail 2 s) is rendered once for the module, by the CLI with
two jobs; tests that change inputs work on a copy of that folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import m3u8
import mutagen
import pytest
from typer.testing import CliRunner

import narrator.cli.publish  # noqa: F401  (registers batch, feed and playlist)
from narrator.cli import app
from narrator.publish.batch import run_batch
from narrator.publish.feed import PODCAST_NS, podcast_guid
from narrator.publish.manifest import load_manifest
from narrator.publish.rendered import load_rendered
from soundscapes.output.export import audio_info
from tests.conftest import ffmpeg_loudness, show_toml, write_show

runner = CliRunner()
BASE_URL = "https://example.org/slow tides/"
TRICKY_TITLE = "[draft] Rain, \"again\" & <again> 'softly' 🌧️"

STORIES = {
    "stories/one.txt": "The night is soft and still. You rest.\n\nThe tide draws in.\n",
    "stories/two.md": (
        "---\ntitle: Tea & <Biscuits> \"at\" 'dusk' 🌙\n"
        "description: A quiet kitchen & a warm cup <3\n---\n"
        "The kettle hums. Steam rises slowly.\n\nYou breathe in, and you breathe out.\n"
    ),
    "stories/three.txt": "Rain falls on the roof. Each drop is slow.\n",
    "stories/four.txt": "The fire settles in the stove. The room is warm.\n",
}

MANIFEST = show_toml(
    {
        "title": "Slow Tides & <Friends>",
        "author": "The Night Desk",
        "description": "Sleep stories, read slowly.",
        "base_url": BASE_URL,
        "image": "cover.jpg",
        "categories": ["Health & Fitness/Mental Health"],
    },
    {"story": "stories/one.txt", "number": 1, "season": 1, "published": "2025-01-06"},
    {"story": "stories/two.md", "number": 2, "season": 1, "published": "2025-01-13T21:00:00+01:00"},
    {"story": "stories/three.txt", "title": TRICKY_TITLE, "number": 3, "seed": 7},
    {"story": "stories/four.txt", "number": 4},
)


def lay_out(folder: Path, manifest: str = MANIFEST, stories: dict[str, str] = STORIES) -> Path:
    return write_show(folder, manifest, stories)


def cli(*args: str):
    result = runner.invoke(app, list(args))
    return result, result.output + result.stderr


def report_of(output: Path) -> dict:
    return json.loads(output.with_name(output.name + ".report.json").read_text("utf-8"))


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix == ".mp3"}


def local_file(url: str, folder: Path) -> Path:
    """The file under the output folder that ``url`` (under BASE_URL) serves."""
    path = unquote(urlsplit(url).path)
    prefix = unquote(urlsplit(BASE_URL).path)
    assert path.startswith(prefix), url
    return folder / path[len(prefix) :]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The manifest's folder, every episode rendered by ``narrator batch --jobs 2``."""
    folder = tmp_path_factory.mktemp("podcast")
    manifest = lay_out(folder)
    result, text = cli("batch", str(manifest), "--jobs", "2")
    assert result.exit_code == 0, text
    assert "4 rendered, 0 up to date, 0 failed" in text
    assert "[draft] Rain" in text  # the user's text is not read as rich markup
    return folder


def copy_of(site: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(site, folder)
    return folder


def test_feed_parses_and_matches_every_rendered_file(site, tmp_path):
    feed_path = tmp_path / "feed.xml"
    result, text = cli("feed", str(site / "podcast.toml"), "-o", str(feed_path))
    assert result.exit_code == 0, text
    data = feed_path.read_bytes()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Slow Tides & <Friends>"
    assert parsed.feed.podcast_guid == podcast_guid(BASE_URL.replace(" ", "%20") + "feed.xml")
    manifest = load_manifest(site / "podcast.toml")
    by_number = {int(e.itunes_episode): e for e in parsed.entries}
    assert sorted(by_number) == [1, 2, 3, 4]
    for ep in manifest.episodes:
        entry = by_number[ep.number]
        (enclosure,) = entry.enclosures
        assert local_file(enclosure.href, site / "public") == ep.output
        assert int(enclosure.length) == ep.output.stat().st_size
        assert enclosure.type == "audio/mpeg"
        report = report_of(ep.output)
        assert int(entry.itunes_duration) == round(report["duration_s"])
        # The report's duration is the file's: decoded length within a frame or two.
        assert audio_info(ep.output)[2] == pytest.approx(report["duration_s"], abs=0.05)
        assert entry.title == (ep.title or report["title"])
        assert entry.guidislink is False
        for kind, suffix in (("transcript", ".vtt"), ("chapters", ".chapters.json")):
            tag = getattr(entry, f"podcast_{kind}")
            assert local_file(tag["url"], site / "public") == ep.output.with_name(
                ep.output.name + suffix
            )
            assert local_file(tag["url"], site / "public").is_file()
        assert entry.podcast_transcript["type"] == "text/vtt"
        assert entry.podcast_chapters["type"] == "application/json+chapters"
    assert by_number[2].title == "Tea & <Biscuits> \"at\" 'dusk' 🌙"
    assert by_number[2].summary == "A quiet kitchen & a warm cup <3"
    assert by_number[3].title == TRICKY_TITLE
    assert by_number[1].itunes_season == "1" and "itunes_season" not in by_number[4]
    assert by_number[1].published == "Mon, 06 Jan 2025 00:00:00 GMT"
    assert by_number[2].published == "Mon, 13 Jan 2025 20:00:00 GMT"
    assert len({e.id for e in parsed.entries}) == 4
    # The same namespaces, read independently of feedparser.
    root = ET.fromstring(data)
    assert len(root.findall(f"channel/item/{{{PODCAST_NS}}}transcript")) == 4


def test_guids_and_dates_survive_a_re_render(site, tmp_path):
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    before = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    manifest = load_manifest(manifest_path)
    result = run_batch(manifest, jobs=2, force=True)
    assert [r.status for r in result.results] == ["rendered"] * 4
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    after = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert [e.published for e in after.entries] == [e.published for e in before.entries]
    assert after.feed.podcast_guid == before.feed.podcast_guid
    for entry in after.entries:
        (enclosure,) = entry.enclosures
        assert int(enclosure.length) == local_file(enclosure.href, folder / "public").stat().st_size


def test_a_feed_that_moves_keeps_its_show_guid_and_every_episode_s_guid_and_date(site, tmp_path):
    """A new base_url made a new show GUID, and with it new episode GUIDs: podcast apps took
    every episode as new. An episode rendered afresh (into a new folder: its first render's
    date is now) was re-dated. The feed written before keeps both, and says to pin the GUID."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    (folder / "public" / "feed.xml").unlink(missing_ok=True)
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0, text
    before = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    guid = before.feed.podcast_guid
    said = " ".join(text.split())
    # Written for the first time without a pin: said once, with the line that pins it.
    assert f"has no guid: the show's GUID {guid} is made from its address" in said
    assert f'pin it with guid = "{guid}"' in said
    assert "has no guid" not in cli("feed", str(manifest_path))[1]
    text = manifest_path.read_text("utf-8")
    manifest_path.write_text(text.replace(BASE_URL, "https://cdn.example.net/tides/"), "utf-8")
    record_path = folder / "public" / "four.mp3.fingerprint.json"
    record = json.loads(record_path.read_text("utf-8"))
    record["first_rendered"] = "2026-11-30T20:00:00+00:00"  # as if rendered again today
    record_path.write_text(json.dumps(record), "utf-8")
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0, text
    said = " ".join(text.split())
    assert f"kept the GUID {guid} of the feed written before" in said
    assert f'pin it with guid = "{guid}"' in said
    after = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    assert after.feed.podcast_guid == guid
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    assert [e.published for e in after.entries] == [e.published for e in before.entries]
    assert all(e.enclosures[0].href.startswith("https://cdn.example.net/") for e in after.entries)
    # Written under another name (-o): the show is the one at its usual place.
    result, text = cli("feed", str(manifest_path), "-o", str(folder / "public" / "new.xml"))
    renamed = feedparser.parse((folder / "public" / "new.xml").read_bytes())
    assert renamed.feed.podcast_guid == guid
    assert [e.id for e in renamed.entries] == [e.id for e in before.entries]
    # Pinned, it is the manifest's and nothing is said; pinned to another, that is said.
    pinned = text_of(manifest_path).replace("[podcast]\n", f'[podcast]\nguid = "{guid}"\n', 1)
    manifest_path.write_text(pinned, "utf-8")
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0 and "GUID" not in text, text
    other = "11111111-2222-5333-8444-555555555555"
    manifest_path.write_text(text_of(manifest_path).replace(guid, other.upper()), "utf-8")
    result, text = cli("feed", str(manifest_path))
    said = " ".join(text.split())
    assert f"guid {other} is not the GUID {guid} of the feed written before" in said, said
    assert feedparser.parse((folder / "public" / "feed.xml").read_bytes()).feed.podcast_guid == (
        other  # written as apps compare it: lower case
    )
    # No UUID: kept as written (feeds may have gone out with it), with a warning.
    manifest_path.write_text(text_of(manifest_path).replace(other.upper(), "my-show"), "utf-8")
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0 and "guid 'my-show' is no UUID" in " ".join(text.split())
    assert feedparser.parse((folder / "public" / "feed.xml").read_bytes()).feed.podcast_guid == (
        "my-show"
    )


def test_an_earlier_feed_that_cannot_be_read_is_said_before_it_is_replaced(site, tmp_path):
    """A feed cut short (an interrupted upload) was replaced without a word, its GUIDs lost."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    feed = folder / "public" / "feed.xml"
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    feed.write_bytes(feed.read_bytes()[:2000])
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0, text
    said = " ".join(text.split())
    assert f"the feed written before ({feed.relative_to(folder)}) cannot be read" in said or (
        f"the feed written before ({feed}) cannot be read" in said
    ), said


def test_a_story_renamed_keeps_its_episode_s_guid_and_date(site, tmp_path):
    """Its GUID is made from the story's path: renamed, the episode went out again as a new
    one (apps listed it twice). New under the title of one that left, it keeps that GUID."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    before = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    (folder / "stories" / "three.txt").rename(folder / "stories" / "third.txt")
    text = text_of(manifest_path).replace("stories/three.txt", "stories/third.txt")
    manifest_path.write_text(text, "utf-8")
    result, text = cli("batch", str(manifest_path), "--jobs", "1")
    assert result.exit_code == 0, text
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0, text
    assert "(stories/third.txt) is new to the feed under the title of an episode that left it" in (
        " ".join(text.split())
    )
    after = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    assert {e.id for e in after.entries} == {e.id for e in before.entries}
    assert sorted(e.published for e in after.entries) == sorted(e.published for e in before.entries)


def test_an_episode_without_a_description_is_summed_up_in_its_story_s_own_words(site, tmp_path):
    """The stand-in description was the text as the voice says it: "Doctor Lee", "five
    p.m.", "nineteen twenty-three", not as the story wrote it."""
    folder = copy_of(site, tmp_path)
    story = folder / "stories" / "four.txt"
    story.write_text("In 1923, at 5 p.m., Dr. Lee lit the *stove* [scene: hearth]. It hums.\n")
    manifest_path = folder / "podcast.toml"
    assert cli("batch", str(manifest_path), "--jobs", "1")[0].exit_code == 0
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0, text
    items = ET.parse(folder / "public" / "feed.xml").getroot().findall("channel/item")
    four = next(i for i in items if "four" in i.find("enclosure").get("url"))
    assert four.findtext("description") == "In 1923, at 5 p.m., Dr. Lee lit the stove. It hums."


def text_of(path: Path) -> str:
    return path.read_text("utf-8")


def test_an_episode_renamed_keeps_its_first_date_and_leaves_no_old_copy(site, tmp_path):
    """Episode 4 has no date of its own: its pubDate is its first render's. Written in another
    format (a new file name), it was dated anew, and apps listed it as a new episode; and its
    old file stayed in the published folder."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    before = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    text = manifest_path.read_text("utf-8")
    manifest_path.write_text(text.replace("number = 4\n", 'number = 4\nformat = "ogg"\n'), "utf-8")
    first = json.loads((folder / "public" / "four.mp3.fingerprint.json").read_text("utf-8"))
    first["first_rendered"] = "2024-03-01T20:00:00+00:00"  # a date no rerun could make
    (folder / "public" / "four.mp3.fingerprint.json").write_text(json.dumps(first), "utf-8")
    result, text = cli("batch", str(manifest_path), "--jobs", "1")
    assert result.exit_code == 0, text
    assert "1 rendered, 3 up to date" in text
    public = folder / "public"
    assert (public / "four.ogg").is_file()
    # The copy under the old name is gone with its sidecars (it was published with the folder).
    assert not [p.name for p in public.iterdir() if p.name.startswith("four.mp3")]
    assert "written as four.ogg now; its earlier file four.mp3 and its sidecars are removed" in text
    (folder / "public" / "feed.xml").unlink()  # its date from the record, not the feed before
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    after = feedparser.parse((folder / "public" / "feed.xml").read_bytes())
    (entry,) = [e for e in after.entries if e.enclosures[0].href.endswith("four.ogg")]
    assert entry.published == "Fri, 01 Mar 2024 20:00:00 GMT"
    assert {e.id for e in after.entries} == {e.id for e in before.entries}


def test_an_episode_moved_into_a_subfolder_keeps_its_date_and_leaves_no_old_copy(site, tmp_path):
    """Only a file beside the new one was found as the earlier name: moved into a subfolder,
    the episode was dated anew and its old copy stayed in the published folder."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    public = folder / "public"
    first = json.loads((public / "four.mp3.fingerprint.json").read_text("utf-8"))
    text = text_of(manifest_path).replace("number = 4\n", 'number = 4\noutput = "s1/four.mp3"\n')
    manifest_path.write_text(text, "utf-8")
    result, text = cli("batch", str(manifest_path), "--jobs", "1")
    assert result.exit_code == 0, text
    assert (public / "s1" / "four.mp3").is_file()
    assert not [p.name for p in public.iterdir() if p.name.startswith("four.mp3")]
    moved = json.loads((public / "s1" / "four.mp3.fingerprint.json").read_text("utf-8"))
    assert moved["first_rendered"] == first["first_rendered"]


def test_another_show_s_file_in_a_subfolder_is_never_taken_for_an_earlier_name(site, tmp_path):
    """The earlier name was looked for anywhere under the output folder: a new episode took
    the date of another show's file (its story named alike) and removed it."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    kids = folder / "public" / "kids"
    kids.mkdir()
    (kids / "five.mp3").write_bytes(b"ID3 another show's episode")
    record = {"episode": "stories/five.txt", "first_rendered": "2020-01-01T00:00:00+00:00"}
    (kids / "five.mp3.fingerprint.json").write_text(json.dumps(record), "utf-8")
    (folder / "stories" / "five.txt").write_text("The owl calls softly. You rest.\n", "utf-8")
    manifest_path.write_text(
        text_of(manifest_path) + '\n[[episodes]]\nstory = "stories/five.txt"\n'
    )
    result, text = cli("batch", str(manifest_path), "--jobs", "1")
    assert result.exit_code == 0, text
    assert (kids / "five.mp3").read_bytes() == b"ID3 another show's episode"
    made = json.loads((folder / "public" / "five.mp3.fingerprint.json").read_text("utf-8"))
    assert made["first_rendered"] != record["first_rendered"]


def test_playlist_parses_and_its_durations_match_the_reports(site, tmp_path):
    out = tmp_path / "lists" / "bedtime.m3u8"
    result, text = cli("playlist", str(site / "podcast.toml"), "-o", str(out))
    assert result.exit_code == 0, text
    raw = out.read_bytes()
    assert raw.startswith(b"#EXTM3U\n")
    raw.decode("utf-8")  # UTF-8, as .m3u8 promises
    playlist = m3u8.loads(raw.decode("utf-8"))
    manifest = load_manifest(site / "podcast.toml")
    assert len(playlist.segments) == len(manifest.episodes)
    for segment, ep in zip(playlist.segments, manifest.episodes, strict=True):
        assert not os.path.isabs(segment.uri)
        assert (out.parent / segment.uri).resolve() == ep.output.resolve()
        report = report_of(ep.output)
        assert segment.duration == round(report["duration_s"])
        assert segment.title == (ep.title or report["title"])


def test_playlist_closer_is_ambience_under_the_episodes_and_rendered_once(site, tmp_path):
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    args = ["playlist", str(manifest_path), "--closer-minutes", "0.5", "--closer-scene", "rain"]
    result, text = cli(*args)
    assert result.exit_code == 0, text
    assert "(rendered)" in text
    playlist = m3u8.loads((folder / "public" / "bedtime.m3u8").read_text("utf-8"))
    closer = folder / "public" / playlist.segments[-1].uri
    assert len(playlist.segments) == 5 and closer.name == "closer-rain-0.5min.mp3"
    assert playlist.segments[-1].duration == 30
    assert audio_info(closer)[2] == pytest.approx(30.0, abs=0.05)
    # As far under the episodes' target as an episode's open ambience (sleep: -20 - 9 LU).
    measured = ffmpeg_loudness(closer)
    assert measured.integrated_lufs == pytest.approx(-29.0, abs=1.0)
    assert measured.true_peak_dbtp <= -2.0 + 0.1
    stamp = closer.stat().st_mtime_ns
    result, text = cli(*args)
    assert result.exit_code == 0 and "(up to date)" in text
    assert closer.stat().st_mtime_ns == stamp
    # A damaged closer is ours to make again, not an error every run after.
    with closer.open("r+b") as file:
        file.truncate(1000)
    result, text = cli(*args)
    assert result.exit_code == 0 and "(rendered)" in text, text
    assert audio_info(closer)[2] == pytest.approx(30.0, abs=0.05)
    result, text = cli(
        "playlist", str(manifest_path), "--closer-minutes", "1", "--closer-scene", "rian"
    )
    assert result.exit_code == 1 and "unknown scene 'rian'; did you mean rain" in text
    for minutes in ("0.001", "721", "0"):  # too short to be more than its fades, or a night+
        result, text = cli("playlist", str(manifest_path), "--closer-minutes", minutes)
        assert result.exit_code == 1, text
        assert (
            f"--closer-minutes {minutes} is out of range; use from 0.02 (a second) to 720" in text
        )


def test_a_closer_no_playlist_plays_any_more_is_removed(site, tmp_path):
    """Each new closer length or scene was a new file, and the old ones piled up in the
    published folder; one that another playlist still plays stays."""
    folder = copy_of(site, tmp_path)
    public = folder / "public"
    manifest = str(folder / "podcast.toml")
    rain = ["--closer-scene", "rain"]
    other = public / "other.m3u8"
    assert cli("playlist", manifest, "--closer-minutes", "0.1", *rain)[0].exit_code == 0
    assert (
        cli("playlist", manifest, "-o", str(other), "--closer-minutes", "0.2", *rain)[0].exit_code
        == 0
    )
    assert (public / "closer-rain-0.1min.mp3").is_file()
    result, text = cli("playlist", manifest, "--closer-minutes", "0.3", *rain)
    assert result.exit_code == 0, text
    assert "removed closer-rain-0.1min.mp3: no playlist ends with it now" in text
    closers = sorted(p.name for p in public.iterdir() if p.name.startswith("closer-"))
    assert closers == [
        "closer-rain-0.2min.mp3", "closer-rain-0.2min.mp3.fingerprint.json",
        "closer-rain-0.3min.mp3", "closer-rain-0.3min.mp3.fingerprint.json",
    ]  # fmt: skip
    # Without a closer now: the one it had goes too; the other playlist's stays.
    result, text = cli("playlist", manifest)
    assert result.exit_code == 0 and "removed closer-rain-0.3min.mp3" in text
    assert not (public / "closer-rain-0.3min.mp3").exists()
    assert (public / "closer-rain-0.2min.mp3").is_file()
    # A playlist in a subfolder of the published folder: its closer stays.
    nested = public / "lists" / "kids.m3u8"
    result, text = cli("playlist", manifest, "-o", str(nested), "--closer-minutes", "0.5")
    assert result.exit_code == 0, text
    (kept,) = re.findall(r"closer (closer-[\w.-]+\.mp3)", text)
    assert cli("playlist", manifest, "--closer-minutes", "0.5")[0].exit_code == 0
    assert cli("playlist", manifest)[0].exit_code == 0
    assert (public / kept).is_file()
    # A playlist outside the published folder, which no run can see: its closer stays.
    outside = folder / "lists" / "bed.m3u8"
    result, text = cli("playlist", manifest, "-o", str(outside), "--closer-minutes", "0.4")
    assert result.exit_code == 0, text
    (made,) = re.findall(r"closer (closer-[\w.-]+\.mp3)", text)
    assert cli("playlist", manifest, "--closer-minutes", "0.4")[0].exit_code == 0
    result, text = cli("playlist", manifest)
    assert result.exit_code == 0 and made not in text, text
    assert (public / made).is_file() and made in outside.read_text("utf-8")


def test_a_closer_never_writes_over_an_episode_named_like_it(site, tmp_path):
    """An episode written as closer-rain-0.5min.mp3 was replaced by the closer, fingerprint and
    all, and the feed published the ambience as that episode."""
    folder = copy_of(site, tmp_path)
    manifest = folder / "podcast.toml"
    text = manifest.read_text("utf-8")
    manifest.write_text(
        text.replace("number = 4\n", 'number = 4\noutput = "closer-rain-0.5min.mp3"\n'), "utf-8"
    )
    assert cli("batch", str(manifest), "--jobs", "1")[0].exit_code == 0
    episode = folder / "public" / "closer-rain-0.5min.mp3"
    before = episode.read_bytes()
    result, said = cli(
        "playlist", str(manifest), "--closer-minutes", "0.5", "--closer-scene", "rain"
    )
    assert result.exit_code == 1
    assert "the closer would write over the audio of episode 4" in said
    assert episode.read_bytes() == before


def test_a_batch_says_what_each_render_warned_of(tmp_path):
    """The warnings were only inside the reports; narrator render prints them."""
    manifest = lay_out(
        tmp_path,
        show_toml({"title": "T", "base_url": BASE_URL}, {"story": "stories/w.txt"}),
        {"stories/w.txt": "He wrote [sic] it. You rest now.\n"},
    )
    result, text = cli("batch", str(manifest), "--jobs", "1")
    assert result.exit_code == 0, text
    assert "episode 1 (stories/w.txt): line 1: [sic] is no cue, so it is read as text" in text


def test_a_damaged_file_or_a_missing_story_is_not_published_as_it_stands(site, tmp_path):
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    manifest = load_manifest(manifest_path)
    damaged = manifest.episodes[0].output
    size = damaged.stat().st_size
    with damaged.open("r+b") as file:
        file.truncate(1000)
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 1 and f"is 1,000 bytes, not the {size:,} its render wrote" in text
    assert f"render it again with narrator batch {manifest_path}\n" in text  # no --force needed
    # The batch sees it as not up to date, and renders that one only.
    outcome = run_batch(manifest, jobs=1)
    assert [r.status for r in outcome.results] == ["rendered"] + ["skipped"] * 3
    assert cli("feed", str(manifest_path))[0].exit_code == 0
    # A story that is not there: its episode would come back under a new GUID.
    story = manifest.episodes[1].story
    story.rename(story.with_suffix(".moved"))
    for command in ("feed", "site", "playlist"):
        result, text = cli(command, str(manifest_path))
        assert result.exit_code == 1, (command, text)
        assert "episode 2 (stories/two.md): its story stories/two.md is not there" in text


def test_no_publishing_command_writes_over_another_one_s_file(site, tmp_path):
    folder = copy_of(site, tmp_path)
    manifest_path = str(folder / "podcast.toml")
    public = folder / "public"
    for args in (["site"], ["playlist", "--closer-minutes", "0.1", "--closer-scene", "rain"]):
        result, text = cli(args[0], manifest_path, *args[1:])
        assert result.exit_code == 0, text
    (closer,) = public.glob("closer-rain-*.mp3")
    page = next((public / "episodes").glob("*.html"))
    before = mtimes(public)
    for command, target, says in [
        ("feed", public / "index.html", "the feed would overwrite the website's index"),
        ("feed", page, "the feed would overwrite the page of episode"),
        ("feed", public / "bedtime.m3u8", "the feed would overwrite the playlist"),
        ("playlist", public / "feed.xml", "the playlist would overwrite the feed"),
        ("playlist", closer, "the playlist would overwrite the closer"),
        ("playlist", page, "the playlist would overwrite the page of episode"),
    ]:
        result, text = cli(command, manifest_path, "-o", str(target))
        assert result.exit_code == 1 and says in text, (command, target, text)
    assert mtimes(public) == before


def test_no_publishing_command_writes_over_a_file_of_the_user_s(site, tmp_path):
    """``feed -o notes.txt`` and ``playlist -o notes.txt`` replaced the user's notes, and
    ``site`` their own index.html and feed.xml; a playlist of theirs with a line too long
    for a file name, where the playlist goes, was a traceback."""
    folder = copy_of(site, tmp_path)
    manifest_path = str(folder / "podcast.toml")
    public = folder / "public"
    notes = folder / "notes.txt"
    notes.write_text("mine\n")
    for command, role in (("feed", "feed"), ("playlist", "playlist")):
        result, text = cli(command, manifest_path, "-o", str(notes))
        said = " ".join(text.split())
        assert result.exit_code == 1 and f"is not a {role} narrator wrote" in said, said
    assert notes.read_text() == "mine\n"
    for name in ("index.html", "feed.xml"):
        own = public / name
        own.write_text("my own page\n")
        result, text = cli("site", manifest_path)
        assert result.exit_code == 1 and "narrator wrote" in text, text
        assert own.read_text() == "my own page\n"
        own.unlink()
    long_line = public / "mine.m3u"
    long_line.write_text("#EXTM3U\n" + "x" * 300 + "\n")
    result, text = cli("playlist", manifest_path, "-o", str(long_line))
    assert result.exit_code == 0 and "Traceback" not in text, text
    result, text = cli("site", manifest_path)  # its own feed.xml and pages, written again
    assert result.exit_code == 0, text


def test_feed_site_and_playlist_run_again_change_nothing_and_say_so(site, tmp_path):
    folder = copy_of(site, tmp_path)
    manifest_path = str(folder / "podcast.toml")
    public = folder / "public"
    for command in ("site", "playlist"):
        result, text = cli(command, manifest_path)
        said = [line for line in text.splitlines() if not line.startswith("warning:")]
        assert result.exit_code == 0 and said[0].startswith("wrote"), (command, text)
    before = mtimes(public)
    for command in ("site", "playlist", "feed"):
        result, text = cli(command, manifest_path)
        said = [line for line in text.splitlines() if not line.startswith("warning:")]
        assert result.exit_code == 0 and said[0].startswith("up to date:"), (command, text)
    assert mtimes(public) == before  # an uploader sees nothing new


def test_a_second_batch_renders_nothing_and_says_so(site, tmp_path):
    folder = copy_of(site, tmp_path)
    before = mtimes(folder / "public")
    result, text = cli("batch", str(folder / "podcast.toml"), "--jobs", "2")
    assert result.exit_code == 0, text
    assert "nothing to render: all 4 episodes are up to date" in text
    assert text.count("up to date") >= 4  # one row per episode in the summary table
    assert mtimes(folder / "public") == before


def test_a_batch_that_renders_says_which_published_files_to_make_again(site, tmp_path):
    """The feed, site and playlist listed the old renders until their commands ran again, and
    nothing said so."""
    folder = copy_of(site, tmp_path)
    manifest = folder / "podcast.toml"
    story = folder / "stories" / "one.txt"
    story.write_text(story.read_text("utf-8") + "\nThe lamp is low.\n", encoding="utf-8")
    assert cli("feed", str(manifest))[0].exit_code == 0
    result, text = cli("batch", str(manifest), "--jobs", "1")
    assert result.exit_code == 0, text
    said = " ".join(text.split())
    assert f"to publish the new renders, run again: narrator feed {manifest}" in said
    assert cli("playlist", str(manifest))[0].exit_code == 0
    result, text = cli("batch", str(manifest), "--jobs", "1", "--force")
    said = " ".join(text.split())
    assert f"narrator feed {manifest}; narrator playlist {manifest}" in said
    assert "to publish" not in cli("batch", str(manifest), "--jobs", "1")[1]  # nothing new


def test_changing_one_input_re_renders_only_that_episode(site, tmp_path):
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    before = mtimes(folder / "public")
    story = folder / "stories" / "two.md"
    story.write_text(story.read_text("utf-8") + "\nThe cup is empty now.\n", encoding="utf-8")
    manifest = load_manifest(manifest_path)
    assert load_rendered(manifest, manifest.episodes[1]).stale
    assert not load_rendered(manifest, manifest.episodes[0]).stale
    feed_result, feed_text = cli("feed", str(manifest_path))
    assert feed_result.exit_code == 0
    assert "episode 2 (stories/two.md) changed since its last render (the story); the" in feed_text
    # What changed is named: the show's title is every episode's album, not their stories.
    manifest_text = manifest_path.read_text(encoding="utf-8")
    retitled = manifest_text.replace('title = "', 'title = "New ', 1)
    assert retitled != manifest_text
    manifest_path.write_text(retitled, encoding="utf-8")
    feed_result, feed_text = cli("feed", str(manifest_path))
    assert "episode 1 (stories/one.txt) changed since its last render (the show's title)" in (
        feed_text
    )
    manifest_path.write_text(manifest_text, encoding="utf-8")

    events: list[tuple[int, str, int, int]] = []
    result = run_batch(
        manifest,
        jobs=2,
        progress=lambda r, done, total: events.append(
            (r.episode.number_in_manifest, r.status, done, total)
        ),
    )
    assert [r.status for r in result.results] == ["skipped", "rendered", "skipped", "skipped"]
    # One progress call per episode as it settles; the rendered one comes last.
    assert [(done, total) for _, _, done, total in events] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert events[-1][:2] == (2, "rendered")
    after = mtimes(folder / "public")
    assert {name for name in after if after[name] != before[name]} == {"two.mp3"}
    assert "The cup is empty now." in json.dumps(report_of(folder / "public" / "two.mp3"))

    # A per-episode render option is an input too.
    manifest_path.write_text(
        manifest_path.read_text("utf-8").replace("number = 4\n", "number = 4\nseed = 11\n"),
        encoding="utf-8",
    )
    result = run_batch(load_manifest(manifest_path), jobs=1)
    assert [r.status for r in result.results] == ["skipped", "skipped", "skipped", "rendered"]
    assert report_of(folder / "public" / "four.mp3")["seed"] == 11


def test_a_broken_story_is_reported_by_name_and_the_others_complete(tmp_path):
    stories = {
        "stories/one.txt": STORIES["stories/one.txt"],
        "stories/empty.txt": "",
        "stories/three.txt": STORIES["stories/three.txt"],
    }
    manifest = MANIFEST.split("[[episodes]]")[0] + "".join(
        f'[[episodes]]\nstory = "{name}"\n\n' for name in stories
    )
    path = lay_out(tmp_path, manifest, stories)
    result, text = cli("batch", str(path), "--jobs", "2")
    assert result.exit_code == 1, text
    assert "2 rendered, 0 up to date, 1 failed" in text
    assert f"error: {path}: episode 2 (stories/empty.txt): " in " ".join(text.split())
    assert "episode 2 (stories/empty.txt): the story is empty; write some text" in text
    public = tmp_path / "public"
    assert (public / "one.mp3").is_file() and (public / "three.mp3").is_file()
    assert not list(public.glob("empty*"))
    # Nothing half-written is left, and the failure is retried on the next run.
    assert not [p for p in public.iterdir() if p.name.startswith(".")]
    again = run_batch(load_manifest(path), jobs=1)
    assert [r.status for r in again.results] == ["skipped", "failed", "skipped"]


def test_feed_lists_the_newest_episode_first(site, tmp_path):
    """Dates given by hand, out of order in the manifest: the feed must run 4, 2, 1, 3
    (podcast apps show the first item as the latest episode), read by ElementTree and by
    feedparser."""
    from narrator.publish.feed import ITUNES_NS

    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    text = manifest_path.read_text("utf-8")
    text = text.replace("seed = 7\n", "seed = 7\npublished = 2024-12-30\n")
    text = text.replace("number = 4\n", "number = 4\npublished = 2025-02-03T06:30:00Z\n")
    manifest_path.write_text(text, encoding="utf-8")
    feed_path = tmp_path / "feed.xml"
    result, output = cli("feed", str(manifest_path), "-o", str(feed_path))
    assert result.exit_code == 0, output
    data = feed_path.read_bytes()
    root = ET.fromstring(data)
    order = [int(item.findtext(f"{{{ITUNES_NS}}}episode")) for item in root.iter("item")]
    assert order == [4, 2, 1, 3], (
        f"feed items run {order}, not newest first (4, 2, 1, 3): podcast apps would show "
        "the oldest episode as the latest"
    )
    parsed = feedparser.parse(data)
    dates = [entry.published_parsed for entry in parsed.entries]
    assert dates == sorted(dates, reverse=True), "pubDate does not fall from item to item"


def test_a_one_episode_show_is_counted_in_the_singular(site, tmp_path):
    """'1 episode', '1 entry': the lines a one-episode show prints read as English."""
    folder = copy_of(site, tmp_path)
    manifest_path = folder / "podcast.toml"
    show, first = MANIFEST.split("[[episodes]]")[:2]
    manifest_path.write_text(show + "[[episodes]]" + first, encoding="utf-8")
    result, text = cli("feed", str(manifest_path))
    assert result.exit_code == 0, text
    assert ": 1 episode; subscribe at" in " ".join(text.split()), text
    result, text = cli("playlist", str(manifest_path), "-q")
    assert result.exit_code == 0, text
    assert ": 1 entry, " in " ".join(text.split()), text


def test_an_episode_whose_story_names_no_author_reports_the_show_s(site):
    """The report (and so the listening page) names the author the file's artist tag has."""
    output = load_manifest(site / "podcast.toml").episodes[0].output
    assert report_of(output)["author"] == "The Night Desk"
    assert mutagen.File(output, easy=True)["artist"] == ["The Night Desk"]
