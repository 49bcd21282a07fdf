"""The CLI with the fake engine: exit codes, the report, tags, the cache, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from narrator.cli import app
from tests.conftest import ffmpeg_decodes, ffmpeg_loudness

REPORT_FIELDS = {
    "output", "format", "duration_s", "sample_rate", "channels", "target_lufs",
    "true_peak_ceiling_dbtp", "integrated_lufs", "true_peak_dbtp", "loudness_range_lu",
    "voice_over_ambience_lu", "engine", "voice", "seed", "passages", "chapters", "timings_s",
    "cache",
}  # fmt: skip

runner = CliRunner()


def render(args: list[str]):
    return runner.invoke(app, ["render", *args], catch_exceptions=False)


@pytest.fixture
def fake_args(tmp_path: Path) -> list[str]:
    return ["--engine", "fake", "--tail", "4", "--cache-dir", str(tmp_path / "cache"), "-q"]


def test_render_writes_a_mastered_tagged_mp3_and_report(short_story, tmp_path, fake_args):
    out = tmp_path / "out" / "shore.mp3"
    result = render([str(short_story), "-o", str(out), *fake_args])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    report = json.loads((tmp_path / "out" / "shore.mp3.report.json").read_text())
    assert report.keys() >= REPORT_FIELDS
    assert set(report["timings_s"]) >= {"speech", "soundscape", "mix", "master", "encode", "total"}
    assert report["format"] == "mp3" and report["engine"] == "fake"
    assert report["cache"] == {"hits": 0, "misses": len(report["passages"])}
    assert len(report["passages"]) == 3
    first, last = report["passages"][0], report["passages"][-1]
    assert first["text"].startswith("The night is soft") and first["start_s"] > 1.0
    assert last["end_s"] + 4.0 == pytest.approx(report["duration_s"], abs=0.2)
    assert all(p["scene"] and p["layers"] for p in report["passages"])
    # The file as written: decodes cleanly, on target by an independent meter.
    assert ffmpeg_decodes(out)
    measured = ffmpeg_loudness(out)
    assert abs(measured.integrated_lufs - report["target_lufs"]) <= 1.0
    assert measured.true_peak_dbtp <= report["true_peak_ceiling_dbtp"] + 0.1
    assert abs(report["integrated_lufs"] - report["target_lufs"]) <= 0.5
    assert report["voice_over_ambience_lu"] >= 15.0
    tags = ID3(out)
    assert tags["TIT2"].text == ["Shore"]
    assert tags["TPE1"].text == ["narrator"]
    # Nothing else left beside the output: no temporary or mix files.
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "shore.mp3",
        "shore.mp3.chapters.json",
        "shore.mp3.report.json",
        "shore.mp3.vtt",
    ]


def test_second_render_synthesizes_nothing(short_story, tmp_path, fake_args):
    out = tmp_path / "a.mp3"
    assert render([str(short_story), "-o", str(out), *fake_args]).exit_code == 0
    assert render([str(short_story), "-o", str(out), "--seed", "7", *fake_args]).exit_code == 0
    report = json.loads(out.with_name("a.mp3.report.json").read_text())
    assert report["cache"] == {"hits": 3, "misses": 0}
    assert report["seed"] == 7


def test_default_output_goes_to_out_folder(short_story, tmp_path, fake_args, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert render([str(short_story), *fake_args]).exit_code == 0
    assert (tmp_path / "out" / "shore.mp3").stat().st_size > 10_000
    # From standard input: out/stdin.mp3 (it was out/story.mp3, a story.txt's render too).
    story = tmp_path / "story.txt"
    story.write_text("A lamp is lit.\n")
    assert render([str(story), *fake_args]).exit_code == 0
    rendered = (tmp_path / "out" / "story.mp3").read_bytes()
    piped = runner.invoke(app, ["render", "-", *fake_args], input="The tide comes in.\n")
    assert piped.exit_code == 0, piped.stderr
    assert (tmp_path / "out" / "stdin.mp3").is_file()
    assert (tmp_path / "out" / "story.mp3").read_bytes() == rendered


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"", "empty"),
        (b"   \n\n\t  \n", "empty"),
        (b"\x00\x01\x02PK\x03\x04binary", "binary"),
    ],
    ids=["missing", "empty", "whitespace", "binary"],
)
def test_bad_story_exits_1_with_one_line_and_writes_nothing(tmp_path, fake_args, content, expected):
    story = tmp_path / "story.txt"
    if content is not None:
        story.write_bytes(content)
    out = tmp_path / "out" / "story.mp3"
    result = render([str(story), "-o", str(out), *fake_args])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert not out.exists() and not out.with_name("story.mp3.report.json").exists()


def test_story_file_is_never_overwritten(short_story, fake_args):
    before = short_story.read_bytes()
    result = render([str(short_story), "-o", str(short_story), "--format", "mp3", *fake_args])
    assert result.exit_code == 1
    assert "would overwrite the story" in result.stderr
    assert short_story.read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["-o", "x.aiff"], "unknown output format"),
        (["-o", "x.mp3", "--format", "flac"], "does not match"),
        (["--loudness", "loud"], "preset"),
        (["--pace", "900"], "--pace"),
        (["--engine", "nope"], "engine"),
    ],
)
def test_bad_options_exit_1(short_story, tmp_path, fake_args, extra, expected):
    args = [str(short_story), *fake_args, *extra]
    if "-o" not in extra:
        args += ["-o", str(tmp_path / "x.mp3")]
    result = render(args)
    assert result.exit_code == 1, result.output
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_shows_examples_and_every_command_has_help():
    result = runner.invoke(app, ["render", "--help"])
    assert result.exit_code == 0
    assert "narrator render seeds/dream.txt" in result.output
    for command in app.registered_commands:
        assert command.callback.__doc__, command.name


def test_engine_settings_reach_the_engine_and_bad_ones_are_refused(short_story, tmp_path):
    args = ["--engine", "fake", "--tail", "1", "--cache-dir", str(tmp_path / "c"), "-q"]
    out = tmp_path / "a.mp3"
    assert render([str(short_story), "-o", str(out), *args]).exit_code == 0
    result = render([str(short_story), "-o", str(out), "--setting", "sample_rate_hz=16000", *args])
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.with_name("a.mp3.report.json").read_text())
    # Another setting is other speech: nothing of the first render's cache fits.
    assert report["cache"] == {"hits": 0, "misses": 3}
    bad = render([str(short_story), "-o", str(out), "--setting", "lenght_scale=2", *args])
    assert bad.exit_code == 1 and "unknown setting 'lenght_scale'" in bad.stderr
    bad = render([str(short_story), "-o", str(out), "--setting", "oops", *args])
    assert bad.exit_code == 1 and "KEY=VALUE" in bad.stderr


def test_error_text_with_brackets_is_printed_as_written(tmp_path, fake_args):
    story = tmp_path / "s.txt"
    story.write_text("Hello [pasue 2s] there.", encoding="utf-8")
    result = render([str(story), "-o", str(tmp_path / "s.mp3"), *fake_args])
    assert result.exit_code == 1
    assert "unknown cue [pasue 2s]" in result.stderr
    assert "write \\[ and \\] for literal brackets" in result.stderr


def test_keep_mix_keeps_the_unmastered_mix_for_your_own_mastering(short_story, tmp_path, fake_args):
    import soundfile as sf

    out = tmp_path / "shore.flac"
    mix = tmp_path / "stems" / "shore-mix.wav"
    result = render([str(short_story), "-o", str(out), "--keep-mix", str(mix), *fake_args])
    assert result.exit_code == 0, result.output
    report = json.loads(Path(f"{out}.report.json").read_text())
    info = sf.info(mix)
    assert info.subtype == "FLOAT" and info.channels == 2
    assert info.duration == pytest.approx(report["duration_s"], abs=0.05)
    # The master is this mix with the reported gain (and a limiter that takes little).
    unmastered = ffmpeg_loudness(mix).integrated_lufs
    assert unmastered + report["master_gain_db"] == pytest.approx(
        report["integrated_lufs"], abs=0.5
    )
    assert not list(tmp_path.glob(".narrator-*"))


def test_keep_mix_must_be_a_wav_and_not_the_output(short_story, tmp_path, fake_args):
    out = tmp_path / "shore.mp3"
    result = runner.invoke(
        app, ["render", str(short_story), "-o", str(out), "--keep-mix", str(tmp_path / "m.mp3"),
              *fake_args],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--keep-mix" in result.output and "name it .wav" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["render", "s.txt", "--pace", "slow"], "'--pace'"),
        (["render", "s.txt", "--jobs", "two"], "'--jobs'"),
        (["render", "s.txt", "--tail", "long"], "'--tail'"),
        (["render", "s.txt", "--bitrate", "high"], "'--bitrate'"),
        (["render", "s.txt", "--colour"], "--colour"),
        # Only close options are offered: "--jobs" is nothing like "--bogus".
        (["render", "s.txt", "--bogus"], "No such option: --bogus; see: narrator render --help"),
        (["render", "s.txt", "--pase", "9"], "--pase (did you mean --page, --pace?); see:"),
        (["soundscape", "tide", "--seed", "x"], "'--seed'"),
        (["rendr", "s.txt"], "rendr"),
    ],
)
def test_a_mistyped_command_line_is_one_error_line_and_exit_1(argv, says, capsys):
    from narrator.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], captured.err
    assert "--help" in lines[0] and "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["render", "s.txt", "--seed", "-3"], "--seed must be 0 or more, got -3"),
        (["soundscape", "tide", "--seed", "-3"], "--seed must be 0 or more, got -3"),
        (["render", "s.txt", "--seed", str(2**63)], "--seed must be from 0 to 9,223,372,036,"),
        (["soundscape", "tide", "--seed", str(2**63)], "--seed must be from 0 to 9,223,372,036,"),
        (["render", "s.txt", "--jobs", "99999"], "--jobs must be from 1 to 4096, got 99999"),
        (["batch", "podcast.toml", "--jobs", "99999"], "--jobs must be from 1 to 4096, got 99999"),
    ],
)
def test_a_number_out_of_range_is_told_the_same_range_by_every_command(argv, says, capsys):
    from narrator.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and err.startswith(f"error: {says}"), err


def test_pace_reaches_the_engine_and_a_missed_pace_is_a_warning(short_story, tmp_path, fake_args):
    out = tmp_path / "paced.mp3"
    assert render([str(short_story), "-o", str(out), "--pace", "170", *fake_args]).exit_code == 0
    report = json.loads(out.with_name("paced.mp3.report.json").read_text())
    assert report["pace_wpm"] == pytest.approx(170, rel=0.05) and report["warnings"] == []
    # An explicit rate beats the pace: the voice alone is then too slow for 170 wpm.
    slow = [str(short_story), "-o", str(out), "--pace", "170", *fake_args]
    result = render([*slow, "--setting", "seconds_per_word=0.7"])
    assert result.exit_code == 0
    report = json.loads(out.with_name("paced.mp3.report.json").read_text())
    assert report["pace_wpm"] < 150
    assert len(report["warnings"]) == 1 and "slower than --pace 170" in report["warnings"][0]
    assert "warning:" in result.output and "length_scale" in result.output


def test_a_pace_held_up_by_cue_pauses_says_so_not_that_the_voice_is_slow(tmp_path, fake_args):
    story = tmp_path / "keeper.txt"
    story.write_text(
        "The lighthouse stood at the edge of the sea. Waves rolled in slowly.\n\n"
        "The keeper climbed the stairs. [pause 2s] He lit the lamp, and the gulls went quiet.\n",
        encoding="utf-8",
    )
    out = tmp_path / "keeper.mp3"
    assert render([str(story), "-o", str(out), *fake_args]).exit_code == 0
    (warning,) = json.loads(out.with_name("keeper.mp3.report.json").read_text())["warnings"]
    assert "slower than --pace 130" in warning and "fixed pauses ([pause] cues" in warning
    assert "length_scale" not in warning


def test_a_pace_held_up_by_chapter_breaks_blames_the_breaks_and_shows_the_summary_s_figure(
    tmp_path, fake_args
):
    # Short chapters: their 2 s breaks (the least a chapter break may be) outlast what 130 wpm
    # leaves for pauses, while the fake voice speaks at the pace itself.
    story = tmp_path / "h.md"
    story.write_text(
        "# One\n\nThe sea is calm tonight.\n\n# Two\n\nThe boats are still.\n\n"
        "# Three\n\nThe lamps go out.\n",
        encoding="utf-8",
    )
    out = tmp_path / "h.mp3"
    result = render([str(story), "-o", str(out), *fake_args])
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.with_name("h.mp3.report.json").read_text())
    (warning,) = report["warnings"]
    assert "shortest breaks between chapters" in warning and "length_scale" not in warning
    assert f"runs at {report['pace_wpm']:.0f} wpm" in warning  # the summary line's figure
    # The story has no [pause] cue: the advice does not send the user to look for one.
    assert "cue" not in warning and "set a slower --pace" in warning


def test_an_earlier_interrupt_in_process_is_not_the_next_commands(tmp_path, capsys):
    import signal

    import narrator.cli.app as cli_app
    from narrator.cli import main

    story = tmp_path / "s.txt"
    story.write_text("Hello.\n\n[scene: zzzz]\nThere.\n", encoding="utf-8")
    before = signal.getsignal(signal.SIGINT)
    cli_app._stopped_by = signal.SIGINT  # as an interrupted earlier call left it
    with pytest.raises(SystemExit) as exit_info:
        main(["passages", str(story)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "interrupted" not in err
    assert err.startswith("error: ") and "unknown scene 'zzzz'; use one of" in err
    # Called in-process, it gives the caller's handler back.
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ([], "fm.md:3: front matter scene 'caost' is unknown; did you mean coast?"),
        (["--scene", "qqq"], "fm.md: --scene 'qqq' is unknown; use one of amphitheater, "),
    ],
)
def test_an_unknown_scene_is_told_where_it_was_set(tmp_path, extra, says):
    story = tmp_path / "fm.md"
    story.write_text("---\ntitle: T\nscene: caost\n---\nThe sea.\n", encoding="utf-8")
    out = tmp_path / "fm.mp3"
    result = render([str(story), "-o", str(out), "--engine", "fake", *extra])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {tmp_path}/{says}"), lines
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "last_line"),
    [
        ("Hello there, moon.\n", "1 passage, 3 words, about 1 s at 130 wpm"),
        (("The sea is calm tonight. " * 40) + "\n", "2 passages, 200 words, about 1.5 min at"),
    ],
)
def test_passages_sums_up_in_words_a_person_would_write(tmp_path, text, last_line):
    story = tmp_path / "s.txt"
    story.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["passages", str(story)])
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1].startswith(last_line)
