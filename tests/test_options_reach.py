"""Options reach the stage they are for, whichever place sets them.

Two were lost on the way before options were declared once: ``--pace`` never reached scene
planning, and a manifest could not set ``slow_down``, ``arc`` or ``bitrate``. Each is checked
here by what it does to the output, not by reading the setting back.
"""

from __future__ import annotations

import itertools
import json
import tomllib

import numpy as np
import soundfile as sf
from mutagen.mp3 import MP3, BitrateMode
from typer.testing import CliRunner

from narrator.cli import app

runner = CliRunner()

#: A long shore with a short shower in the middle: 20 words of rain last 20 s at 60 wpm, enough
#: for a scene of its own; at 130 wpm they last 9 s, and the planner folds them into the coast.
SHOWER = """\
You walk down to the beach. The sand is cool and the waves roll in slowly. The tide comes and \
goes along the shore, and the sea breathes with you.

The waves fold over and over on the sand, and the tide is low. The sea is calm and the shore is \
wide and quiet.

Rain begins to fall, soft rain on the roof of a little hut, rain pattering on the leaves, \
raindrops everywhere.

Then the waves again, the sea, the shore, the tide washing the sand in long slow strokes.

The sea is far and wide. The waves come in and the tide goes out, and the shore is long and pale.
"""


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def test_pace_sets_how_long_the_planner_thinks_each_passage_lasts(tmp_path) -> None:
    story = tmp_path / "shower.txt"
    story.write_text(SHOWER, encoding="utf-8")
    slow = json.loads(_cli("passages", str(story), "--json", "--pace", "60"))
    usual = json.loads(_cli("passages", str(story), "--json"))
    for a, b in zip(slow["rows"], usual["rows"], strict=True):
        assert abs(a["estimated_s"] / b["estimated_s"] - 130 / 60) < 0.01
    assert "rain" in slow["rows"][2]["layers"], "at 60 wpm the shower lasts long enough"
    assert "rain" not in usual["rows"][2]["layers"], "at 130 wpm it is too short for a scene"

    # The plan file and the render make the same plan as the overview, at the same pace.
    _cli("plan", str(story), "--pace", "60", "-o", str(tmp_path / "slow.plan.toml"))
    _cli("plan", str(story), "-o", str(tmp_path / "usual.plan.toml"))
    planned = {
        name: tomllib.loads((tmp_path / f"{name}.plan.toml").read_text("utf-8"))["passage"][2]
        for name in ("slow", "usual")
    }
    assert "rain" in planned["slow"]["layers"] and "rain" not in planned["usual"]["layers"]
    for pace, heard in (("60", True), ("130", False)):
        out = tmp_path / f"shower-{pace}.wav"
        cache = str(tmp_path / "cache")
        _cli("render", str(story), "-o", str(out), "--engine", "fake", "--pace", pace,
             "--tail", "0", "--jobs", "1", "--cache-dir", cache, "-q")  # fmt: skip
        report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
        assert ("rain" in report["passages"][2]["layers"]) is heard, report["passages"][2]


#: Six paragraphs alike, in one place, so only the options change the sound.
EVEN = "\n\n".join(["The room is quiet and warm. You rest, and the evening goes slowly on."] * 6)


MANIFEST = """\
output_dir = "public"
cache_dir = "cache"
engine = "fake"
setting = { seconds_per_word = 0.28 }  # quicker than the pace, so pauses fill the rest
tail = 0

[podcast]
title = "Options"
base_url = "https://example.org/"

[[episodes]]
story = "even.txt"
title = "As set"
output = "set.mp3"
guid = "options-set"
slow_down = 0.5
arc = false
bitrate = 96

[[episodes]]
story = "even.txt"
title = "As default"
output = "default.mp3"
guid = "options-default"
"""


def _gaps_s(report: dict) -> list[float]:
    p = report["passages"]
    return [b["start_s"] - a["end_s"] for a, b in itertools.pairwise(p)]


def _voiced_level_db(audio: np.ndarray, rate: int, start_s: float, end_s: float) -> float:
    """The level of a passage's speech, not its pauses (which slow_down stretches): the power
    of the samples whose 10 ms envelope is within 15 dB of the passage's loudest."""
    part = audio[int(start_s * rate) : int(end_s * rate)].astype(np.float64).mean(axis=1)
    window = int(0.01 * rate)
    envelope = np.sqrt(np.convolve(part**2, np.ones(window) / window, mode="same"))
    voiced = envelope > envelope.max() * 10 ** (-15 / 20)
    return float(10 * np.log10(np.mean(part[voiced] ** 2)))


def test_a_manifest_episode_renders_with_slow_down_arc_and_bitrate(tmp_path) -> None:
    (tmp_path / "even.txt").write_text(EVEN + "\n", encoding="utf-8")
    (tmp_path / "podcast.toml").write_text(MANIFEST, encoding="utf-8")
    _cli("batch", str(tmp_path / "podcast.toml"), "--jobs", "1")
    public = tmp_path / "public"
    files = {slug: public / f"{slug}.mp3" for slug in ("set", "default")}
    reports = {
        k: json.loads(v.with_name(v.name + ".report.json").read_text("utf-8"))
        for k, v in files.items()
    }

    # bitrate = 96: constant-rate 96 kb/s; the default is LAME's VBR.
    info = {k: MP3(v).info for k, v in files.items()}
    assert (info["set"].bitrate_mode, info["set"].bitrate) == (BitrateMode.CBR, 96_000)
    assert info["default"].bitrate_mode != BitrateMode.CBR

    # slow_down = 0.5: the pauses grow more from the first passage to the last than at 0.2.
    gaps = {k: _gaps_s(r) for k, r in reports.items()}
    growth = {k: g[-1] - g[0] for k, g in gaps.items()}
    assert growth["set"] > growth["default"] + 0.3, gaps

    # arc = false: the voice keeps its level to the last passage; the arc drops it by 2 dB.
    drop_db = {}
    for key, path in files.items():
        audio, rate = sf.read(str(path), dtype="float32")
        first, last = reports[key]["passages"][0], reports[key]["passages"][-1]
        drop_db[key] = _voiced_level_db(
            audio, rate, first["start_s"], first["end_s"]
        ) - _voiced_level_db(audio, rate, last["start_s"], last["end_s"])
    assert abs(drop_db["set"]) < 0.3, drop_db
    assert drop_db["default"] > drop_db["set"] + 1.2, drop_db

    # And the report says where each came from.
    said = reports["set"]["settings"]
    assert {k: said[k] for k in ("slow_down", "arc", "bitrate")} == {
        "slow_down": {"value": 0.5, "from": "manifest"},
        "arc": {"value": False, "from": "manifest"},
        "bitrate": {"value": 96, "from": "manifest"},
    }
    assert reports["default"]["settings"]["arc"] == {"value": True, "from": "default"}


def test_batch_cache_dir_on_the_command_line_wins_over_the_manifest(tmp_path) -> None:
    """``--cache-dir`` (declared once, for render and batch) puts the speech there instead of
    the manifest's ``cache_dir``; a second batch into another folder reuses it all."""
    from narrator.speech import SpeechCache

    (tmp_path / "even.txt").write_text(EVEN + "\n", encoding="utf-8")
    (tmp_path / "podcast.toml").write_text(MANIFEST, encoding="utf-8")
    chosen = tmp_path / "chosen-cache"
    _cli("batch", str(tmp_path / "podcast.toml"), "--jobs", "1", "--cache-dir", str(chosen), "-q")
    assert len(SpeechCache(chosen)) >= 1
    assert not (tmp_path / "cache").exists() or len(SpeechCache(tmp_path / "cache")) == 0
    report = json.loads((tmp_path / "public" / "set.mp3.report.json").read_text("utf-8"))
    assert report["cache"]["misses"] >= 1

    _cli("batch", str(tmp_path / "podcast.toml"), "--force", "--cache-dir", str(chosen), "-q")
    again = json.loads((tmp_path / "public" / "set.mp3.report.json").read_text("utf-8"))
    assert again["cache"]["misses"] == 0 and again["cache"]["hits"] >= 1
