"""Episode tags from the manifest: album = show title, artist = show author, track = episode
number, date = published, cover = the show's artwork (or the story's own), in ID3 (MP3), MP4
atoms (M4B) and Vorbis comments (FLAC). Fake engine, real renders by ``narrator batch``, read
back with mutagen and Pillow.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import mutagen
import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4, MP4Cover
from PIL import Image
from typer.testing import CliRunner

import narrator.cli.publish  # noqa: F401  (registers batch)
from narrator.cli import app
from tests.conftest import show_toml

runner = CliRunner()

SHOW = "Slow Tides"
AUTHOR = "The Night Desk"


def story(title: str, front: str = "") -> str:
    head = f"---\n{front}---\n" if front else ""
    return (
        f"{head}# {title}\n\n## The Shore\n\nThe tide draws in. You rest.\n\n"
        "## The Lamp\n\nThe lamp glows softly. The night is still.\n"
    )


STORIES = {
    "stories/one.md": story("The Lighthouse"),
    "stories/two.md": story("The Garden", "cover: own.png\nseries: Garden Nights\n"),
    "stories/three.md": story("The Harbour"),
    "stories/four.md": story("The Orchard"),
}

MANIFEST = show_toml(
    {
        "title": SHOW,
        "author": AUTHOR,
        "base_url": "https://example.org/slow-tides/",
        "image": "cover.png",
    },
    {"story": "stories/one.md", "number": 1, "published": "2025-01-06"},
    {"story": "stories/two.md", "number": 2, "published": "2025-01-13T21:00:00+01:00"},
    {
        "story": "stories/three.md",
        "number": 3,
        "published": "2025-01-20T06:30:00Z",
        "format": "m4b",
    },
    {"story": "stories/four.md", "number": 4, "published": "2025-01-27", "format": "flac"},
)


def gradient(size: int, flip: bool = False) -> Image.Image:
    """A picture that a wrong cover cannot pass for: red across, green down (or the reverse)."""
    ramp = np.linspace(0, 255, size)
    across, down = np.meshgrid(ramp, ramp)
    if flip:
        across, down = down, 255 - across
    pixels = np.stack([across, down, np.full_like(across, 90)], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def batch(manifest: Path, *extra: str) -> str:
    result = runner.invoke(app, ["batch", str(manifest), *extra])
    text = result.output + result.stderr
    assert result.exit_code == 0, text
    return text


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The show's folder, every episode rendered by ``narrator batch --jobs 2`` (the episode's
    metadata crosses into worker processes)."""
    folder = tmp_path_factory.mktemp("show")
    for name, text in STORIES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    gradient(1600).save(folder / "cover.png")
    gradient(1000, flip=True).save(folder / "stories" / "own.png")
    (folder / "podcast.toml").write_text(MANIFEST, encoding="utf-8")
    text = batch(folder / "podcast.toml", "--jobs", "2")
    assert "4 rendered, 0 up to date, 0 failed" in text
    return folder


def difference(art: bytes, source: Path) -> float:
    """Mean absolute difference (of 255) between embedded ``art`` and the picture at ``source``
    brought to the same size, both compared at 64 × 64."""
    embedded = Image.open(io.BytesIO(art)).convert("RGB")
    original = Image.open(source).convert("RGB").resize(embedded.size, Image.Resampling.LANCZOS)
    small = [np.asarray(im.resize((64, 64)), float) for im in (embedded, original)]
    return float(np.abs(small[0] - small[1]).mean())


def check_art(art: bytes, expected: Path, other: Path) -> None:
    image = Image.open(io.BytesIO(art))
    assert image.format == "JPEG" and max(image.size) <= 1400, (image.format, image.size)
    assert difference(art, expected) < 3.0
    assert difference(art, other) > 30.0  # and it is not the other picture


def test_mp3_tags_come_from_the_manifest(site):
    on_disk = ID3(site / "public" / "one.mp3", translate=False)
    assert on_disk.version == (2, 3, 0)
    assert on_disk["TALB"].text == [SHOW]
    assert on_disk["TPE1"].text == [AUTHOR] and on_disk["TPE2"].text == [AUTHOR]
    assert on_disk["TRCK"].text == ["1"]
    assert on_disk["TYER"].text == ["2025"] and on_disk["TDAT"].text == ["0601"]
    assert "TIME" not in on_disk  # a date alone (midnight UTC)
    # ID3v2.3 has no TDRC: it must not be in the file (v2.3 readers would not see a date).
    assert not on_disk.getall("TDRC"), "a v2.4 TDRC frame in a v2.3 tag"
    check_art(on_disk.getall("APIC")[0].data, site / "cover.png", site / "stories" / "own.png")
    # Chapters survive the conversion to v2.3.
    chaps = sorted(on_disk.getall("CHAP"), key=lambda c: c.start_time)
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == ["The Shore", "The Lamp"]
    tocs = on_disk.getall("CTOC")
    assert len(tocs) == 1 and list(tocs[0].child_element_ids) == [c.element_id for c in chaps]
    # As mutagen presents it (v2.4 view): the full date.
    assert str(ID3(site / "public" / "one.mp3")["TDRC"].text[0]) == "2025-01-06"


def test_the_story_s_own_cover_wins_but_the_show_is_the_album(site):
    on_disk = ID3(site / "public" / "two.mp3", translate=False)
    assert on_disk["TALB"].text == [SHOW]  # the show's title over the story's series
    assert on_disk["TRCK"].text == ["2"]
    # 2025-01-13 21:00 at +01:00 is 20:00 UTC.
    assert on_disk["TYER"].text == ["2025"] and on_disk["TDAT"].text == ["1301"]
    assert on_disk["TIME"].text == ["2000"]
    assert not on_disk.getall("TDRC")
    check_art(on_disk.getall("APIC")[0].data, site / "stories" / "own.png", site / "cover.png")
    assert len(on_disk.getall("CHAP")) == 2 and len(on_disk.getall("CTOC")) == 1


def test_m4b_atoms_come_from_the_manifest(site):
    mp4 = MP4(site / "public" / "three.m4b")
    assert mp4["\xa9alb"] == [SHOW] and mp4["\xa9ART"] == [AUTHOR] and mp4["aART"] == [AUTHOR]
    assert mp4["trkn"] == [(3, 0)]
    assert mp4["\xa9day"] == ["2025-01-20T06:30:00Z"]
    (cover,) = mp4["covr"]
    assert cover.imageformat == MP4Cover.FORMAT_JPEG
    check_art(bytes(cover), site / "cover.png", site / "stories" / "own.png")
    assert [c.title for c in mp4.chapters] == ["The Shore", "The Lamp"]


def test_flac_comments_come_from_the_manifest(site):
    flac = mutagen.File(site / "public" / "four.flac")
    assert flac["ALBUM"] == [SHOW] and flac["ARTIST"] == [AUTHOR]
    assert flac["TRACKNUMBER"] == ["4"]
    assert flac["DATE"] == ["2025-01-27T00:00:00Z"]
    (picture,) = flac.pictures
    check_art(picture.data, site / "cover.png", site / "stories" / "own.png")


def test_changing_the_show_re_renders_every_episode(site, tmp_path):
    folder = tmp_path / "show"
    shutil.copytree(site, folder)
    manifest = folder / "podcast.toml"
    assert "nothing to render: all 4 episodes are up to date" in batch(manifest)
    manifest.write_text(MANIFEST.replace(f'title = "{SHOW}"', 'title = "Slower Tides"'))
    assert "4 rendered, 0 up to date, 0 failed" in batch(manifest)
    assert ID3(folder / "public" / "one.mp3", translate=False)["TALB"].text == ["Slower Tides"]
    assert MP4(folder / "public" / "three.m4b")["\xa9alb"] == ["Slower Tides"]
    # A new show picture re-renders the episodes (all but the one with its own cover would
    # change; the fingerprint does not know which story has one, so all four render).
    gradient(1600, flip=True).save(folder / "cover.png")
    assert "4 rendered" in batch(manifest)
    new_art = ID3(folder / "public" / "one.mp3", translate=False).getall("APIC")[0].data
    check_art(new_art, folder / "cover.png", site / "cover.png")
    # An episode's number and date: that episode alone.
    manifest.write_text(
        manifest.read_text().replace("number = 1\npublished = 2025-01-06", "number = 5\n"
                                     "published = 2025-02-03")
    )  # fmt: skip
    assert "1 rendered, 3 up to date, 0 failed" in batch(manifest)
    on_disk = ID3(folder / "public" / "one.mp3", translate=False)
    assert on_disk["TRCK"].text == ["5"] and on_disk["TDAT"].text == ["0302"]
    assert "nothing to render" in batch(manifest)


def test_an_episode_s_own_image_is_embedded_in_its_audio(site, tmp_path):
    """The feed showed an episode's ``image`` but its audio embedded the show's artwork, so a
    player showed another picture than the podcast app. A web address cannot be embedded:
    that episode keeps the show's; an image that is no picture is one error, by its episode."""
    folder = tmp_path / "show"
    shutil.copytree(site, folder)
    gradient(1400, flip=True).save(folder / "harbour.png")
    manifest = folder / "podcast.toml"
    own = MANIFEST.replace(
        'story = "stories/three.md"', 'story = "stories/three.md"\nimage = "harbour.png"'
    ).replace(
        'story = "stories/four.md"',
        'story = "stories/four.md"\nimage = "https://example.org/orchard.jpg"',
    )
    assert own.count("image = ") == 3
    manifest.write_text(own)
    assert "1 rendered, 3 up to date, 0 failed" in batch(manifest)  # the harbour alone
    (cover,) = MP4(folder / "public" / "three.m4b")["covr"]
    check_art(bytes(cover), folder / "harbour.png", folder / "cover.png")
    (picture,) = mutagen.File(folder / "public" / "four.flac").pictures
    check_art(picture.data, folder / "cover.png", folder / "harbour.png")
    # An image that is not there (the feed says so): the show's artwork, not a drawn cover.
    from narrator.publish.artwork import embedded_cover
    from narrator.publish.manifest import load_manifest

    missing = load_manifest(Path(str(manifest)))
    (folder / "harbour.png").rename(folder / "gone.png")
    assert embedded_cover(missing, missing.episodes[2]) == folder / "cover.png"
    (folder / "gone.png").rename(folder / "harbour.png")
    (folder / "harbour.png").write_text("not a picture")
    result = runner.invoke(app, ["batch", str(manifest)])
    text = " ".join((result.output + result.stderr).split())
    assert (
        result.exit_code == 1
        and "the image of episode 3 (stories/three.md) 'harbour.png' is not" in text
    ), text
    assert "Traceback" not in text


def test_an_episode_s_description_in_the_manifest_is_its_comment_tag(site, tmp_path):
    """The manifest's description went to the feed, but the file's comment said "Narrated
    with narrator" (a story's own ``description:`` reached it). Only that episode renders."""
    folder = tmp_path / "show"
    shutil.copytree(site, folder)
    manifest = folder / "podcast.toml"
    manifest.write_text(
        MANIFEST.replace(
            'story = "stories/one.md"',
            'story = "stories/one.md"\ndescription = "A lamp on the shore, and the tide."',
        )
    )
    assert "1 rendered, 3 up to date, 0 failed" in batch(manifest)
    comments = ID3(folder / "public" / "one.mp3", translate=False).getall("COMM")
    assert [c.text for c in comments] == [["A lamp on the shore, and the tide."]]
    others = ID3(folder / "public" / "two.mp3", translate=False).getall("COMM")
    assert [c.text for c in others] == [["Narrated with narrator"]]
