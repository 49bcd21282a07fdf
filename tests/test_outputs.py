"""Outputs beyond the audio: chapters in every container, the transcript, cover, plot, and
ambience-only renders. Fake engine for speed; every file is read back and measured."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from PIL import Image
from typer.testing import CliRunner

from narrator.cli import app
from soundscapes.ambience import parse_duration
from soundscapes.errors import SoundscapeError
from tests.conftest import FFMPEG, ffmpeg_decodes, ffmpeg_loudness

runner = CliRunner()

CHAPTERED = """---
title: Three Rooms & a Sea
author: Ada Brook
series: Quiet Harbours
year: 2026
---
# Three Rooms & a Sea

## The Attic

Dust floats in a slow beam of light. The old trunk creaks.

## The Kitchen

A kettle hums on the stove. The fire settles in the hearth.

## The Shore

Waves draw in and wash out again on the shore. Gulls drift far away.
"""


@pytest.fixture
def chaptered(tmp_path: Path) -> Path:
    path = tmp_path / "rooms.md"
    path.write_text(CHAPTERED, encoding="utf-8")
    return path


def render(story: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(
        app,
        ["render", str(story), "-o", str(out), "--engine", "fake", "--tail", "3",
         "--cache-dir", str(out.parent / "cache"), "-q", *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(out.with_name(out.name + ".report.json").read_text())


def ffprobe_chapters(path: Path) -> list[tuple[float, str]]:
    """Chapters as ffmpeg reads them (start seconds, title)."""
    text = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    chapters = []
    for section in text.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in section.strip().splitlines() if "=" in line)
        num, den = (int(x) for x in fields["TIMEBASE"].split("/"))
        chapters.append((int(fields["START"]) * num / den, fields.get("title", "")))
    return chapters


def test_mp3_has_id3_chapters_cover_and_tags_matching_the_report(chaptered, tmp_path):
    out = tmp_path / "rooms.mp3"
    report = render(chaptered, out)
    assert [c["title"] for c in report["chapters"]] == ["The Attic", "The Kitchen", "The Shore"]
    tags = ID3(out)
    assert tags["TIT2"].text == ["Three Rooms & a Sea"]
    assert tags["TPE1"].text == ["Ada Brook"] and tags["TALB"].text == ["Quiet Harbours"]
    assert str(tags.getall("TDRC")[0].text[0]) == "2026"
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [c.sub_frames["TIT2"].text[0] for c in chaps] == [c["title"] for c in report["chapters"]]
    for chap, entry in zip(chaps, report["chapters"], strict=True):
        assert chap.start_time == pytest.approx(entry["start_s"] * 1000, abs=1)
        assert chap.end_time == pytest.approx(entry["end_s"] * 1000, abs=1)
    # Each chapter starts before its first passage's first word and after the one before.
    passages = report["passages"]
    for entry in report["chapters"][1:]:
        first = next(p for p in passages if p["start_s"] >= entry["start_s"])
        before = [p for p in passages if p["end_s"] <= entry["start_s"]]
        assert first["start_s"] - entry["start_s"] < 3.0 and before
    tocs = tags.getall("CTOC")
    assert len(tocs) == 1, (
        f"{len(tocs)} CTOC frames: the MP3 needs one table of contents listing the CHAP "
        "frames, or podcast apps show no chapters"
    )
    assert list(tocs[0].child_element_ids) == [c.element_id for c in chaps]
    covers = tags.getall("APIC")
    assert len(covers) == 1, f"{len(covers)} APIC frames: the MP3 needs exactly one cover"
    cover = covers[0]
    assert cover.mime == "image/png" and cover.data.startswith(b"\x89PNG")
    assert ffprobe_chapters(out)[0][1] == "The Attic"


def test_m4b_has_mp4_chapters_and_cover(chaptered, tmp_path):
    out = tmp_path / "rooms.m4b"
    report = render(chaptered, out)
    assert ffmpeg_decodes(out)
    chapters = ffprobe_chapters(out)
    assert [t for _, t in chapters] == ["The Attic", "The Kitchen", "The Shore"]
    for (start, _), entry in zip(chapters, report["chapters"], strict=True):
        assert start == pytest.approx(entry["start_s"], abs=0.05)
    mp4 = MP4(out)
    assert mp4["\xa9nam"] == ["Three Rooms & a Sea"] and mp4["covr"]
    # And as mutagen reads them: titles and start times match the story's headings.
    read_back = list(mp4.chapters)
    assert [c.title for c in read_back] == [c["title"] for c in report["chapters"]]
    for chapter, entry in zip(read_back, report["chapters"], strict=True):
        assert chapter.start == pytest.approx(entry["start_s"], abs=0.05)
    measured = ffmpeg_loudness(out)
    assert abs(measured.integrated_lufs - report["target_lufs"]) <= 0.5


@pytest.mark.parametrize("fmt", ["flac", "ogg", "opus", "wav"])
def test_other_formats_decode_on_target_with_tags(chaptered, tmp_path, fmt):
    out = tmp_path / f"rooms.{fmt}"
    report = render(chaptered, out)
    assert report["format"] == fmt
    assert ffmpeg_decodes(out)
    measured = ffmpeg_loudness(out)
    assert abs(measured.integrated_lufs - report["target_lufs"]) <= 0.5
    assert measured.true_peak_dbtp <= report["true_peak_ceiling_dbtp"] + 0.1
    if fmt != "wav":
        tags = mutagen.File(out)
        assert tags["title"] == ["Three Rooms & a Sea"]
        assert tags["CHAPTER002NAME"] == ["The Kitchen"]


def test_transcript_cues_follow_the_voice(chaptered, tmp_path):
    out = tmp_path / "rooms.mp3"
    report = render(chaptered, out)
    vtt = out.with_name("rooms.mp3.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    cues = re.findall(
        r"^(\d+)-(\d+)\n(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})\n(.+)$",
        vtt,
        re.M,
    )
    sentences = [s for p in report["passages"] for s in re.split(r"(?<=[.!?]) ", p["text"])]
    assert [c[8] for c in cues] == sentences
    # The first cue of each passage starts when the report says the passage starts.
    starts = {}
    for c in cues:
        starts.setdefault(int(c[0]), int(c[2]) * 3600 + int(c[3]) * 60 + float(c[4]))
    for p in report["passages"]:
        assert starts[p["index"]] == pytest.approx(p["start_s"], abs=0.002)
    data = json.loads(out.with_name("rooms.mp3.chapters.json").read_text())
    assert data["version"] == "1.2.0"
    assert [c["title"] for c in data["chapters"]] == [c["title"] for c in report["chapters"]]
    assert [c["startTime"] for c in data["chapters"]] == [c["start_s"] for c in report["chapters"]]


def test_plot_is_a_png(chaptered, tmp_path):
    out = tmp_path / "rooms.ogg"
    report = render(chaptered, out, "--plot")
    # The report names its sidecars relative to its own folder (no local paths in uploads).
    assert report["sidecars"]["plot"] == "rooms.ogg.png"
    png = out.parent / report["sidecars"]["plot"]
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000


def test_stage_timeline_shows_when_each_stage_ran(chaptered, tmp_path):
    out = tmp_path / "rooms.mp3"
    report = render(chaptered, out, "--plot")
    stages = {s["stage"]: (s["start_s"], s["end_s"]) for s in report["stages"]}
    order = ["text", "speech", "mix", "master", "sidecars", "plot"]
    assert [s["stage"] for s in report["stages"] if s["stage"] != "soundscape"] == order
    starts = [stages[name][0] for name in order]
    assert starts == sorted(starts) and starts[0] == 0.0
    for name, (start_s, end_s) in stages.items():
        assert end_s >= start_s, name
    # The pipeline's own stages follow one another; each ends before the next begins.
    for a, b in itertools.pairwise(order):
        assert stages[a][1] <= stages[b][0] + 0.002, (a, b)
    # The ambience renders in its own process while the voice is mixed: its span, stamped in
    # that process, falls inside the mix's.
    mix, bed = stages["mix"], stages["soundscape"]
    assert mix[0] - 0.002 <= bed[0] < bed[1] <= mix[1] + 0.002
    # Busy time fits in the span it was spent in, and everything ends before the total.
    assert report["timings_s"]["speech"] <= stages["speech"][1] - stages["speech"][0] + 0.01
    assert max(end for _, end in stages.values()) <= report["timings_s"]["total"]
    png = out.parent / report["sidecars"]["stages_plot"]
    assert png.name == "rooms.mp3.stages.png"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5_000


def test_front_matter_cover_is_used_and_a_missing_one_is_an_error(tmp_path):
    from narrator.render.sidecars import generated_cover

    image = generated_cover("Own cover")
    (tmp_path / "c.png").write_bytes(image)
    story = tmp_path / "s.txt"
    story.write_text("---\ncover: c.png\n---\nA short night.\n", encoding="utf-8")
    out = tmp_path / "s.mp3"
    render(story, out)
    # Embedded as a picture decoded and encoded afresh (never the file's bytes): a JPEG of
    # the same picture, at most 1400 px.
    art = ID3(out).getall("APIC")[0]
    embedded = Image.open(io.BytesIO(art.data))
    source = Image.open(io.BytesIO(image)).convert("RGB")
    assert art.mime == "image/jpeg" and embedded.format == "JPEG"
    assert embedded.size == source.size == (1400, 1400)
    difference = np.abs(np.asarray(embedded, float) - np.asarray(source, float)).mean()
    assert difference < 3.0, f"the embedded cover differs from the file by {difference:.1f}/255"
    story.write_text("---\ncover: missing.png\n---\nA short night.\n", encoding="utf-8")
    result = runner.invoke(app, ["render", str(story), "-o", str(tmp_path / "t.mp3"),
                                 "--engine", "fake", "-q"])  # fmt: skip
    assert result.exit_code == 1 and "cover image" in result.stderr
    # At the front matter's line, the file named once.
    missing = tmp_path / "missing.png"
    assert result.stderr.startswith(f"error: {story}:2: cover: {missing}: no such file")
    assert not (tmp_path / "t.mp3").exists()


def test_a_cover_that_is_not_square_is_embedded_with_a_warning(tmp_path):
    """Players and podcast apps show a cover square: a wide picture loses its sides. It is
    embedded as it is, and the render says so (a square one says nothing)."""
    for name, size in (("wide.png", (1600, 900)), ("square.png", (900, 900))):
        Image.new("RGB", size, (20, 30, 60)).save(tmp_path / name)
    story = tmp_path / "s.txt"
    # Embedded at most 1400 px on a side, in proportion.
    for name, said, embedded in (
        ("wide.png", True, (1400, 788)),
        ("square.png", False, (900, 900)),
    ):
        story.write_text(f"---\ncover: {name}\n---\nA short night.\n", encoding="utf-8")
        out = tmp_path / f"{name}.mp3"
        result = runner.invoke(app, ["render", str(story), "-o", str(out), "--engine", "fake",
                                     "--tail", "0", "-q"])  # fmt: skip
        assert result.exit_code == 0, result.stderr
        report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
        about_cover = [w for w in report["warnings"] if "not square" in w]
        stderr = " ".join(result.stderr.split())
        if said:
            assert about_cover == [
                f"{story}:2: cover 'wide.png' is 1600×900 px, not square: players show a cover "
                "square, cutting or barring its sides; crop it to a square"
            ], report["warnings"]
            assert "wide.png' is 1600×900 px, not square" in stderr
        else:
            assert about_cover == [] and "not square" not in stderr
        art = Image.open(io.BytesIO(ID3(out).getall("APIC")[0].data))
        assert art.size == embedded


def test_soundscape_command_renders_ambience_on_target(tmp_path):
    out = tmp_path / "bed.ogg"
    result = runner.invoke(app, ["soundscape", "tide", "gulls", "-d", "40s", "-o", str(out),
                                 "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    measured = ffmpeg_loudness(out)
    assert measured.duration_s == pytest.approx(40.0, abs=0.1)
    assert abs(measured.integrated_lufs - (-20.0)) <= 0.5
    result = runner.invoke(app, ["soundscape", "--scene", "coast", "tide", "-o", str(out)])
    assert result.exit_code == 1 and "not both" in result.stderr
    result = runner.invoke(app, ["soundscape", "tdie", "-o", str(tmp_path / "x.mp3")])
    assert result.exit_code == 1 and "tide" in result.stderr


def test_soundscape_without_o_names_its_file_for_format_as_render_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["soundscape", "tide", "-d", "3s", "--format", "wav", "-q"])
    assert result.exit_code == 0, result.stderr  # it said "--format wav does not match .mp3"
    assert sf.info(str(tmp_path / "out" / "ambience.wav")).format == "WAV"
    result = runner.invoke(app, ["soundscape", "tide", "-d", "3s", "-q"])
    assert result.exit_code == 0 and (tmp_path / "out" / "ambience.mp3").is_file()


def test_soundscape_plays_the_soft_bed_and_refuses_a_twice_named_layer(tmp_path):
    from narrator.direction.plan import SOFT_BED

    out = tmp_path / "soft.flac"
    result = runner.invoke(app, ["soundscape", "--scene", "soft-bed", "-d", "30s", "-o", str(out),
                                 "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # The soft bed is its drone: nearly all of its energy sits below 500 Hz.
    audio, rate = sf.read(out, dtype="float32")
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=1))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / rate)
    assert spectrum[freqs < 500].sum() > 0.9 * spectrum.sum()
    assert [layer.name for layer in SOFT_BED.layers] == ["drone"]
    for argv, says in [
        (["--scene", "zzzz"], r"unknown scene 'zzzz'; use one of amphitheater, .*soft-bed, storm$"),
        (["rain", "rain"], r"layer 'rain' is named twice; name each layer once"),
    ]:
        bad = tmp_path / "bad.flac"
        result = runner.invoke(app, ["soundscape", *argv, "-d", "5s", "-o", str(bad)])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1 and re.search(says, lines[0]), lines
        assert not bad.exists()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("8h", 28800),
        ("45m", 2700),
        ("1h30m", 5400),
        ("90s", 90),
        ("90", 90),
        ("1:30:00", 5400),
        ("1h2s", 3602),
        ("2m30s", 150),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["soon", "13h", "0s", "1:xx", "1h2", "3m30", "1:75", "1h61m", "2m90s"]
)
def test_parse_duration_errors(text):
    with pytest.raises(SoundscapeError):
        parse_duration(text)


def test_cache_command_shows_and_clears(short_story, tmp_path):
    cache = tmp_path / "cache"
    render(short_story, tmp_path / "x.mp3")
    result = runner.invoke(app, ["cache", "--cache-dir", str(cache)])
    assert result.exit_code == 0 and "3 passages" in result.output
    result = runner.invoke(app, ["cache", "--cache-dir", str(cache), "--clear"])
    assert "cleared 3" in result.output
    assert "0 passages" in runner.invoke(app, ["cache", "--cache-dir", str(cache)]).output


def test_mp3_constant_and_variable_bit_rate(short_story, tmp_path):
    from mutagen.mp3 import MP3, BitrateMode

    vbr, cbr = tmp_path / "v.mp3", tmp_path / "c.mp3"
    render(short_story, vbr)
    report = render(short_story, cbr, "--bitrate", "128")
    assert MP3(cbr).info.bitrate_mode == BitrateMode.CBR and MP3(cbr).info.bitrate == 128_000
    assert MP3(vbr).info.bitrate_mode != BitrateMode.CBR
    # Constant-rate LAME hands its input back quieter (0.45 LU at 128 kb/s): measured on a
    # preview first, so the one encoding pass lands on target (without it: two passes).
    assert report["master_passes"] == 1
    assert abs(report["integrated_lufs"] - report["target_lufs"]) <= 0.1
    assert abs(ffmpeg_loudness(cbr).integrated_lufs - report["target_lufs"]) <= 0.15
    assert not any("bitrate" in w for w in report["warnings"])
    # At 192 kb/s the shift (0.26 LU) is inside the 0.3 LU tolerance: without the preview, one
    # pass 0.26 LU off target.
    report = render(short_story, tmp_path / "c192.mp3", "--bitrate", "192")
    assert abs(report["integrated_lufs"] - report["target_lufs"]) <= 0.1
    # libsndfile's Ogg Vorbis takes no bit rate: said, not silently dropped.
    report = render(short_story, tmp_path / "c.ogg", "--bitrate", "64")
    assert (
        "--bitrate 64 applies to mp3, opus, m4b; the ogg file is written without it"
        in (report["warnings"])
    )


def test_transcript_times_are_where_the_voice_is_in_the_audio(chaptered, tmp_path):
    """Measured on the written file: each cue's first and last 0.3 s are much louder than the
    0.3 s just outside it (the ambience sits ~18 LU under the voice)."""
    import numpy as np
    import soundfile as sf

    out = tmp_path / "rooms.wav"
    render(chaptered, out)
    audio, sr = sf.read(out, dtype="float32")
    mono = audio.mean(axis=1)
    vtt = out.with_name("rooms.wav.vtt").read_text(encoding="utf-8")
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})", vtt)
    spans = [
        (int(a) * 3600 + int(b) * 60 + float(c), int(d) * 3600 + int(e) * 60 + float(f))
        for a, b, c, d, e, f in stamps
    ]

    def level_db(a_s: float, b_s: float) -> float:
        x = mono[int(a_s * sr) : int(b_s * sr)]
        return 10 * np.log10(np.mean(x**2) + 1e-12)

    checked = 0
    for i, (start, end) in enumerate(spans):
        gap_before = start - (spans[i - 1][1] if i else 0.0)
        gap_after = (spans[i + 1][0] if i + 1 < len(spans) else start + 99) - end
        if gap_before >= 0.35:
            assert level_db(start, start + 0.3) > level_db(start - 0.3, start) + 6, (i, start)
            checked += 1
        if gap_after >= 0.35:
            assert level_db(end - 0.3, end) > level_db(end, end + 0.3) + 6, (i, end)
            checked += 1
    assert checked >= len(spans)


@pytest.mark.parametrize("fmt", ["mp3", "m4b", "opus", "ogg", "flac", "wav"])
@pytest.mark.parametrize(
    ("preset", "lufs", "ceiling"),
    [("sleep", -20, -2), ("podcast", -16, -1), ("broadcast", -23, -1), ("-18", -18, -2)],
)
def test_every_preset_in_every_format_is_on_target_by_ffmpeg(
    short_story, tmp_path, preset, lufs, ceiling, fmt
):
    """Measured on the file as written, by ffmpeg's ebur128 (not narrator's meter)."""
    out = tmp_path / f"{preset}.{fmt}"
    report = render(short_story, out, "--loudness", preset)
    assert (report["target_lufs"], report["true_peak_ceiling_dbtp"]) == (lufs, ceiling)
    assert ffmpeg_decodes(out)
    measured = ffmpeg_loudness(out)
    assert abs(measured.integrated_lufs - lufs) <= 0.5, measured
    assert measured.true_peak_dbtp <= ceiling + 0.1, measured
    # The report gives what the file measures, not what was aimed at.
    assert report["integrated_lufs"] == pytest.approx(measured.integrated_lufs, abs=0.3)
    assert measured.duration_s == pytest.approx(report["duration_s"], abs=0.1)


def test_user_scenes_and_recordings_through_render_and_soundscape(tmp_path):
    import numpy as np
    import soundfile as sf

    t = np.arange(22050 * 4) / 22050
    brook = 0.2 * np.sin(2 * np.pi * 300 * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t))
    sf.write(tmp_path / "brook.wav", brook.astype(np.float32), 22050)  # mono, 22.05 kHz
    scenes = tmp_path / "scenes.toml"
    scenes.write_text(
        '[scenes.brook-night]\nlayers = { "file:brook.wav" = 0, shimmer = -6 }\n',
        encoding="utf-8",
    )
    story = tmp_path / "s.txt"
    story.write_text("A quiet lane.\n\n[scene: brook-night]\nThe brook runs on.\n", "utf-8")
    out = tmp_path / "s.mp3"
    report = render(story, out, "--scenes", str(scenes))
    last = report["passages"][-1]
    assert last["scene"] == "brook-night"
    assert last["layers"] == ["file:brook.wav", "shimmer"]  # by name: no local path
    # Without the scenes file the cue is unknown, named with its line.
    result = runner.invoke(app, ["render", str(story), "--engine", "fake", "-o",
                                 str(tmp_path / "x.mp3")])  # fmt: skip
    assert result.exit_code == 1 and "s.txt:3: unknown scene 'brook-night'" in result.stderr
    bed = tmp_path / "bed.ogg"
    result = runner.invoke(app, ["soundscape", "--scene", "brook-night", "--scenes", str(scenes),
                                 "-d", "20s", "-o", str(bed), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert ffmpeg_loudness(bed).duration_s == pytest.approx(20.0, abs=0.1)
    result = runner.invoke(app, ["soundscape", f"file:{tmp_path / 'nope.wav'}", "-d", "5s",
                                 "-o", str(tmp_path / "n.ogg")])  # fmt: skip
    assert result.exit_code == 1 and "nope.wav" in result.stderr


def _stem(out: Path, report: dict, name: str):
    import soundfile as sf

    path = out.parent / report["sidecars"][f"{name}_wav"]
    return sf.read(path, dtype="float64", always_2d=True)


def test_the_sleep_arc_softens_the_voice_and_darkens_the_bed_and_no_arc_does_not(tmp_path):
    import numpy as np

    from tests.soundscapes.test_layers import integrated_lufs

    story = tmp_path / "calm.txt"
    story.write_text("\n\n".join(["The sea is calm tonight, and the sand is cool."] * 16), "utf-8")

    def ends(*extra: str) -> tuple[float, float]:
        out = tmp_path / f"calm{len(extra)}.wav"
        report = render(story, out, "--stems", *extra)
        voice, rate = _stem(out, report, "voice")
        bed, _ = _stem(out, report, "ambience")
        first, last = report["passages"][0], report["passages"][-1]

        def cut(x: np.ndarray, p: dict) -> np.ndarray:
            return x[round(p["start_s"] * rate) : round(p["end_s"] * rate)].T

        drop_db = integrated_lufs(cut(voice, first)) - integrated_lufs(cut(voice, last))
        # The bed over the story's first and last 20 s (a wave's brightness evens out).
        windows = [{"start_s": first["start_s"], "end_s": first["start_s"] + 20},
                   {"start_s": last["end_s"] - 20, "end_s": last["end_s"]}]  # fmt: skip
        spectrum = [np.abs(np.fft.rfft(cut(bed, w)[0])) ** 2 for w in windows]
        freqs = [np.fft.rfftfreq(2 * len(s) - 2, 1 / rate) for s in spectrum]
        high = [s[f > 4000].sum() / s.sum() for s, f in zip(spectrum, freqs, strict=True)]
        return drop_db, 10 * np.log10(high[1] / high[0])

    arc_drop, arc_dark = ends()
    flat_drop, flat_dark = ends("--no-arc")
    assert arc_drop == pytest.approx(2.0, abs=0.3)  # the voice 2 dB softer by the end
    assert abs(flat_drop) < 0.3, flat_drop
    assert arc_dark < flat_dark - 3.0, (arc_dark, flat_dark)  # far less above 4 kHz at the end


def test_no_tail_ends_with_the_last_word(short_story, tmp_path):
    import numpy as np
    import soundfile as sf

    out = tmp_path / "short.wav"
    report = render(short_story, out, "--tail", "0")
    assert report["duration_s"] == pytest.approx(report["passages"][-1]["end_s"], abs=0.02)
    audio, rate = sf.read(out, dtype="float32")
    assert len(audio) / rate == pytest.approx(report["duration_s"], abs=0.01)
    # The bed fades under the last words instead of stopping dead.
    tail = np.abs(audio[-round(0.05 * rate) :]).max()
    assert tail < 0.1 * np.abs(audio).max()


def test_a_story_of_a_few_seconds_is_mastered_on_target_without_a_false_warning(tmp_path):
    """Four seconds of audio: its loudness moved 2 LU per dB of gain (few gating blocks, the
    encoder), so plain steps swung around the target and the master ended 0.4 LU short,
    blaming a ceiling its peaks were 5 dB under and suggesting a louder preset."""
    story = tmp_path / "short.txt"
    story.write_text("Text [pause 2s]\n", encoding="utf-8")
    out = tmp_path / "short.mp3"
    result = runner.invoke(app, ["render", str(story), "--engine", "fake", "--tail", "2",
                                 "--intro", "1", "-o", str(out), "--cache-dir",
                                 str(tmp_path / "cache"), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "master reached" not in result.stderr
    report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
    # The render's own meter; ffmpeg's reads 0.4 LU apart on a file this short (ten 400 ms
    # blocks, placed differently); on a story's length they agree (test_end_to_end).
    assert report["integrated_lufs"] == pytest.approx(-20.0, abs=0.3)


def test_a_render_without_plot_page_or_stems_removes_an_earlier_render_s(tmp_path):
    """Left beside new audio, an earlier render's page, plot and stems would show its
    transcript, levels and sound as this file's."""
    story = tmp_path / "s.txt"
    story.write_text("The tide comes in. The night is still.\n", encoding="utf-8")
    out = tmp_path / "s.mp3"
    args = ["render", str(story), "--engine", "fake", "--tail", "2", "-o", str(out),
            "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    suffixes = (".html", ".png", ".stages.png", ".voice.wav", ".ambience.wav")
    extras = [out.with_name(f"s.mp3{suffix}") for suffix in suffixes]
    result = runner.invoke(app, [*args, "--page", "--plot", "--stems"])
    assert result.exit_code == 0, result.stderr
    assert all(p.is_file() for p in extras)
    mine = tmp_path / "notes.png"  # not a sidecar of s.mp3: left alone
    mine.write_bytes(b"mine")
    result = runner.invoke(app, [*args, "--page"])
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in extras if p.exists()] == ["s.mp3.html"]
    assert out.with_name("s.mp3.vtt").is_file() and mine.read_bytes() == b"mine"


def test_the_page_shows_a_scene_and_its_slower_self_as_one_scene():
    """The sleep arc crossfades the middle scene to a slower copy of the same name: the page
    showed "coast | coast"."""
    from narrator.page.picture import scene_spans, scene_timeline

    report = {
        "duration_s": 60.0,
        "scenes": [
            {"start_s": 0.0, "scene": "coast"},
            {"start_s": 20.0, "scene": "coast"},
            {"start_s": 40.0, "scene": "dawn-coast+melody"},
        ],
    }
    assert scene_spans(report) == [(0.0, 40.0, "coast"), (40.0, 60.0, "dawn-coast+melody")]
    assert scene_timeline(report).count("<button") == 2


def test_the_report_lists_scene_changes_not_a_scene_s_slower_self(tmp_path):
    """With the sleep arc the middle scene crossfades to a slower copy of itself: a story
    played over one scene (``--scene coast``) reported "coast" at 0 s and again mid-way."""
    story = tmp_path / "three.txt"
    story.write_text("The lamp is lit.\n\nThe stairs are long.\n\nThe keeper sleeps.\n")
    report = render(story, tmp_path / "three.mp3", "--scene", "coast", "--tail", "2")
    assert [s["scene"] for s in report["scenes"]] == ["coast"]
    arc_less = render(story, tmp_path / "flat.mp3", "--scene", "coast", "--no-arc")
    assert [s["scene"] for s in arc_less["scenes"]] == ["coast"]


def test_a_file_of_the_user_s_named_like_a_sidecar_is_never_replaced_or_removed(tmp_path):
    """A plain render deleted the user's own ``q.mp3.html`` and ``q.mp3.voice.wav`` (taken
    for an earlier render's page and stem) and wrote over their ``q.mp3.vtt``."""
    story = tmp_path / "s.txt"
    story.write_text("The tide comes in. The night is still.\n", encoding="utf-8")
    out = tmp_path / "q.mp3"
    args = ["render", str(story), "--engine", "fake", "--tail", "2", "-o", str(out),
            "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    mine = {name: f"my own {name}" for name in ("q.mp3.html", "q.mp3.voice.wav", "q.mp3.png")}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert {name: (tmp_path / name).read_text() for name in mine} == mine
    # A sidecar this render writes, where the user's file is: refused before any work.
    (tmp_path / "q.mp3.vtt").write_text("my own notes")
    before = out.read_bytes()
    for extra in ([], ["--page"]):
        if not extra:
            result = runner.invoke(app, args)
        else:
            (tmp_path / "q.mp3.vtt").unlink()
            result = runner.invoke(app, [*args, *extra])
        message = " ".join(result.stderr.split())
        assert result.exit_code == 1 and "narrator did not write it" in message, message
        assert "Traceback" not in message
    assert (tmp_path / "q.mp3.html").read_text() == mine["q.mp3.html"]
    assert out.read_bytes() == before


def test_audio_that_cannot_be_put_in_place_leaves_the_earlier_render_whole(tmp_path, monkeypatch):
    """The new transcript and chapters were in place before the audio, so when the audio
    could not replace the earlier one (a file made immutable) the set was mismatched."""
    import os

    story = tmp_path / "s.txt"
    story.write_text("The tide comes in. The night is still.\n", encoding="utf-8")
    out = tmp_path / "x.mp3"
    args = ["render", "--engine", "fake", "--tail", "2", "-o", str(out), "--stems", "--plot",
            "--keep-mix", str(tmp_path / "x.mix.wav"), "--cache-dir", str(tmp_path / "cache"),
            "-q"]  # fmt: skip
    assert runner.invoke(app, [*args, str(story)]).exit_code == 0
    earlier = {p.name: p.read_bytes() for p in tmp_path.glob("x.m*")}
    assert len(earlier) == 9  # audio, report, transcript, chapters, 2 plots, 2 stems, mix
    other = tmp_path / "t.txt"
    other.write_text("A lamp is lit in the window.\n", encoding="utf-8")
    replace = os.replace

    def refused(src, dst, *a, **kw):
        if Path(dst) == out:
            raise PermissionError(1, "Operation not permitted")
        return replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", refused)
    result = runner.invoke(app, [*args, str(other)])
    message = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "cannot put the file there" in message, message
    assert "choose another output path" in message
    assert {p.name: p.read_bytes() for p in tmp_path.glob("x.m*")} == earlier
