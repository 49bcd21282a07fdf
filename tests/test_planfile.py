"""Editable scene plans: written, edited, read back, refused when stale or wrong."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from narrator.direction.plan import plan_story
from narrator.direction.planfile import (
    PlanError,
    StalePlanError,
    load_plan,
    passage_fingerprint,
    read_plan,
    write_plan,
)
from narrator.errors import NarratorError
from narrator.text.script import Script, parse_story, parse_text
from soundscapes.scene import BUILTIN_SCENES, LayerSpec

ROOT = Path(__file__).resolve().parents[1]
STORIES = Path(__file__).parent / "stories"


@pytest.fixture
def dream() -> Script:
    return parse_story(ROOT / "seeds" / "dream.txt")


def entry_block(text: str, index: int) -> tuple[int, int]:
    """Start and end offsets of passage ``index``'s [[passage]] table in the plan text."""
    starts = [m.start() for m in re.finditer(r"^\[\[passage\]\]", text, re.M)] + [len(text)]
    return starts[index], starts[index + 1]


def edit_entry(text: str, which: int, /, **lines: str) -> str:
    """Replace (or, with an empty value, delete) ``key = …`` lines of entry ``which``."""
    a, b = entry_block(text, which)
    block = text[a:b]
    for key, value in lines.items():
        pattern = re.compile(rf"^{key} = .*\n", re.M)
        new = f"{key} = {value}\n" if value else ""
        block = pattern.sub(new, block) if pattern.search(block) else block + new
    return text[:a] + block + text[b:]


def test_written_plan_is_toml_with_a_fingerprint_and_every_passage(dream):
    plan = plan_story(dream)
    text = write_plan(dream, plan)
    data = tomllib.loads(text)
    assert data["plan"]["version"] == 1
    assert data["plan"]["fingerprint"] == [passage_fingerprint(p.text) for p in dream.passages]
    assert all(re.fullmatch(r"[0-9a-f]{8}", h) for h in data["plan"]["fingerprint"])
    entries = data["passage"]
    assert [e["index"] for e in entries] == list(range(len(dream.passages)))
    assert entries[0]["words"] == "I am dreaming. You are dreaming."
    piano = next(e for e in entries if e["words"].startswith("In the center of the arena"))
    assert piano["scene"] == plan.scene_for(piano["index"]).name
    assert piano["layers"] == {
        layer.name: layer.gain_db for layer in plan.scene_for(piano["index"]).layers
    }
    assert "# inferred; heard: arena, piano" in text


@pytest.mark.parametrize(
    "story", [ROOT / "seeds" / "dream.txt", *sorted(STORIES.glob("*.txt"))], ids=lambda p: p.name
)
def test_plan_round_trips(story):
    script = parse_story(story)
    plan = plan_story(script)
    again = read_plan(write_plan(script, plan), script, source="story.plan.toml")
    assert again.scenes == plan.scenes
    assert again.sources == ("plan",) * len(script.passages)


def test_cue_edited_scenes_round_trip():
    script = parse_text(
        "The waves roll onto the shore.\n\n[add: gulls, rain] Gulls call.\n\n[remove: tide] Hush."
    )
    plan = plan_story(script)
    assert read_plan(write_plan(script, plan), script).scenes == plan.scenes


def test_an_edited_plan_plays_what_the_edit_says(dream):
    text = write_plan(dream, plan_story(dream))
    text = edit_entry(
        text, 4, scene='"rainy piano"', description="", layers="{ rain = 0, melody = -4.5 }"
    )
    text = edit_entry(text, 5, scene='"coast"', layers="")  # a built-in by name alone
    text = edit_entry(text, 6, layers="{ tide = { gain_db = -2.0, intensity = 0.7 }, gulls = -8 }")
    plan = read_plan(text, dream, source="dream.plan.toml")
    rainy = plan.scene_for(4)
    assert rainy.name == "rainy piano" and rainy.description == ""
    assert rainy.layers == (
        LayerSpec(name="rain", gain_db=0.0),
        LayerSpec(name="melody", gain_db=-4.5),
    )
    assert plan.scene_for(5) == BUILTIN_SCENES["coast"]
    assert plan.scene_for(6).layers == (
        LayerSpec(name="tide", gain_db=-2.0, params=(("intensity", 0.7),)),
        LayerSpec(name="gulls", gain_db=-8.0),
    )
    # Untouched passages keep what was written.
    assert plan.scene_for(0) == plan_story(dream).scene_for(0)
    # And an edit with parameters is written back as it was read.
    assert read_plan(write_plan(dream, plan), dream).scenes == plan.scenes


def test_stale_plan_names_the_changed_passage(dream, tmp_path):
    text = write_plan(dream, plan_story(dream))
    story = (ROOT / "seeds" / "dream.txt").read_text(encoding="utf-8")
    changed = parse_text(story.replace("white sand", "grey sand"), source="dream.txt")
    with pytest.raises(StalePlanError) as info:
        read_plan(text, changed, source="plan.toml")
    assert str(info.value) == (
        "plan.toml: passage 8 changed since the plan was written "
        "('The moon's surface softens into grey…'); bring it up to date, its edits kept, with "
        "narrator plan dream.txt -o plan.toml --update"
    )
    assert isinstance(info.value, NarratorError) and isinstance(info.value, ValueError)


def test_stale_plan_names_added_and_removed_passages(dream):
    text = write_plan(dream, plan_story(dream))
    story = (ROOT / "seeds" / "dream.txt").read_text(encoding="utf-8")
    paragraphs = story.split("\n\n")
    added = parse_text("\n\n".join([*paragraphs[:3], "A new quiet moment.", *paragraphs[3:]]))
    with pytest.raises(
        StalePlanError, match=r"passage 3 is new since .*\('A new quiet moment\.'\)"
    ):
        read_plan(text, added)
    removed = parse_text("\n\n".join(paragraphs[:2] + paragraphs[3:]))
    with pytest.raises(
        StalePlanError, match=r"passage 2 of the plan is no longer in the story \('A single door"
    ):
        read_plan(text, removed)
    other = parse_story(STORIES / "rain_on_a_roof.txt")
    with pytest.raises(StalePlanError, match="another story"):
        read_plan(text, other)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"layers": "{ tdie = 0.0 }"},
            r"plan\.toml:(\d+): passage 4: unknown layer 'tdie'; did you mean tide\?",
        ),
        (
            {"layers": "{ tide = 20.0 }"},
            r"plan\.toml:(\d+): passage 4: gain 20 dB for 'tide' is out of range; use -40 to "
            r"\+12 dB",
        ),
        (
            {"scene": '"caost"', "layers": "", "description": ""},
            r"plan\.toml:(\d+): passage 4: unknown scene 'caost'; did you mean coast",
        ),
        ({"layers": "{}"}, r"plan\.toml:(\d+): passage 4 has no layers"),
        (
            {"layers": "{ tide = { gain_db = 0.0, intensty = 0.5 } }"},
            r"plan\.toml:(\d+): passage 4: layer 'tide' has no parameter 'intensty'; "
            r"did you mean intensity",
        ),
        (
            {"layers": "{ tide = { intensity = 3.0 } }"},
            r"plan\.toml:(\d+): passage 4: tide intensity must be a number from 0 to 1",
        ),
        ({"layer": "{ tide = 0.0 }"}, r"plan\.toml:(\d+): unknown key 'layer'; did you mean"),
        ({"index": "3"}, r"plan\.toml:(\d+): passage 3 appears twice"),
        ({"index": "40"}, r"plan\.toml:(\d+): passage 40 does not exist"),
        ({"scene": '""'}, r"plan\.toml:(\d+): scene must be a name, e\.g\. \"coast\""),
    ],
)
def test_plan_mistakes_are_one_line_errors_with_the_line(dream, edit, message):
    text = edit_entry(write_plan(dream, plan_story(dream)), 4, **edit)
    with pytest.raises(PlanError, match=message) as info:
        read_plan(text, dream, source="plan.toml")
    assert "\n" not in str(info.value)
    line = int(re.match(message, str(info.value))[1])
    a, b = entry_block(text, 4)
    assert text.count("\n", 0, a) < line <= text.count("\n", 0, b)  # inside passage 4's table


def test_an_unknown_key_in_the_plan_header_is_an_error_with_its_line(dream):
    text = write_plan(dream, plan_story(dream)).replace("[plan]\n", "[plan]\nversoin = 2\n")
    with pytest.raises(
        PlanError,
        match=r"^plan\.toml:\d+: unknown key 'versoin' in \[plan\]; did you mean 'version'",
    ):
        read_plan(text, dream, source="plan.toml")


def test_a_changed_passage_count_in_the_header_is_refused_with_its_line(dream):
    """It was accepted and did nothing; the user meant something by changing it."""
    text = write_plan(dream, plan_story(dream)).replace("passages = 11\n", "passages = 12\n")
    with pytest.raises(PlanError) as info:
        read_plan(text, dream, source="plan.toml")
    line = text.split("\n").index("passages = 12") + 1
    assert str(info.value).startswith(
        f"plan.toml:{line}: passages = 12, but the fingerprint lists 11"
    )


def test_missing_passage_and_bad_toml(dream):
    text = write_plan(dream, plan_story(dream))
    a, b = entry_block(text, 7)
    with pytest.raises(PlanError, match=r"plan\.toml: passage 7 has no \[\[passage\]\] entry"):
        read_plan(text[:a] + text[b:], dream, source="plan.toml")
    broken = text.replace('scene = "music"', 'scene = "music', 1)
    with pytest.raises(PlanError, match=r"plan\.toml:\d+: not valid TOML"):
        read_plan(broken, dream, source="plan.toml")
    with pytest.raises(PlanError, match="no \\[plan\\] table"):
        read_plan('[[passage]]\nindex = 0\nscene = "coast"\n', dream, source="plan.toml")


def test_load_plan_reads_a_file_and_reports_a_missing_one(dream, tmp_path):
    path = tmp_path / "dream.plan.toml"
    with pytest.raises(PlanError, match=r"dream\.plan\.toml: no such plan file"):
        load_plan(path, dream)
    path.write_text(write_plan(dream, plan_story(dream)), encoding="utf-8")
    assert load_plan(path, dream).scenes == plan_story(dream).scenes


def test_render_with_an_edited_plan_plays_the_edit(tmp_path):
    """End to end through the CLI with the fake engine: the report's scenes are the edit's."""
    from typer.testing import CliRunner

    from narrator.cli import app

    runner = CliRunner()
    story = tmp_path / "shore.txt"
    story.write_text(
        "The tide draws out over the sand.\n\nGulls call over the waves.\n\nYou rest.\n",
        encoding="utf-8",
    )
    script = parse_story(story)
    plan_path = tmp_path / "shore.plan.toml"
    result = runner.invoke(app, ["plan", str(story), "-o", str(plan_path)])
    assert result.exit_code == 0, result.stderr
    text = plan_path.read_text(encoding="utf-8")
    text = edit_entry(text, 1, scene='"fireside"', description="", layers="{ fire = 0, rain = -9 }")
    text = edit_entry(text, 2, scene='"fireside"', description="", layers="{ fire = 0, rain = -9 }")
    plan_path.write_text(text, encoding="utf-8")
    out = tmp_path / "shore.wav"
    result = runner.invoke(app, ["render", str(story), "-o", str(out), "--plan", str(plan_path),
                                 "--engine", "fake", "--tail", "1", "--jobs", "1",
                                 "--cache-dir", str(tmp_path / "cache"), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.with_name("shore.wav.report.json").read_text())
    shown = runner.invoke(app, ["passages", str(story), "--plan", str(plan_path), "--json"])
    assert [r["scene"] for r in json.loads(shown.output)["rows"]][1:] == ["fireside"] * 2
    scenes = [(p["scene"], p["layers"]) for p in report["passages"]]
    assert scenes[1:] == [("fireside", ["fire", "rain"])] * 2
    assert scenes[0][0] == plan_story(script).scene_for(0).name
    assert [c["scene"] for c in report["scenes"]] == [scenes[0][0], "fireside"]
    saved = json.loads((tmp_path / "shore.wav.report.json").read_text(encoding="utf-8"))
    assert saved["passages"][2]["scene"] == "fireside"
    # Planning again keeps the edit unless told to write over it.
    again = runner.invoke(app, ["plan", str(story), "-o", str(plan_path)])
    assert again.exit_code == 1 and plan_path.read_text(encoding="utf-8") == text
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "a plan is there already and differs" in lines[0], lines
    assert f"--plan {plan_path}" in lines[0] and "--force" in lines[0]
    forced = runner.invoke(app, ["plan", str(story), "-o", str(plan_path), "--force"])
    assert forced.exit_code == 0 and "fireside" not in plan_path.read_text(encoding="utf-8")
    # The same plan again: nothing written, and it says so.
    stamp = plan_path.stat().st_mtime_ns
    same = runner.invoke(app, ["plan", str(story), "-o", str(plan_path)])
    assert same.exit_code == 0 and "is up to date" in same.output
    assert plan_path.stat().st_mtime_ns == stamp


def test_toml_inputs_saved_with_a_byte_order_mark_are_read(tmp_path):
    """Some editors save UTF-8 with a byte-order mark; TOML calls it an 'Invalid statement'
    at line 1. A plan, a scene file, a lexicon and a manifest are read as without it."""
    from narrator.publish.manifest import load_manifest
    from narrator.text.pronunciation import load_lexicon
    from soundscapes.scene import load_scenes

    bom = b"\xef\xbb\xbf"
    story = parse_text("The waves roll in.\n\nRain falls on the roof.\n")
    plan = tmp_path / "s.plan.toml"
    plan.write_bytes(bom + write_plan(story, plan_story(story)).encode("utf-8"))
    assert load_plan(plan, story).scenes == plan_story(story).scenes
    scenes = tmp_path / "my.toml"
    scenes.write_bytes(bom + b"[scenes.calm]\nlayers = { rain = 0 }\n")
    assert "calm" in load_scenes(scenes)
    lexicon = tmp_path / "lex.toml"
    lexicon.write_bytes(bom + b'Nyx = "nicks"\n')
    assert load_lexicon(lexicon).entries == {"Nyx": "nicks"}
    manifest = tmp_path / "podcast.toml"
    manifest.write_bytes(
        bom + b'[podcast]\ntitle = "T"\nbase_url = "https://e.org/"\n'
        b'[[episodes]]\nstory = "a.txt"\n'
    )
    assert load_manifest(manifest).podcast.title == "T"


def test_a_plan_of_a_story_with_its_own_scenes_and_a_recording_renders_as_written(tmp_path):
    """The plan wrote file:/abs/path that the render then refused as an unknown layer, and a
    scene named alone knew only the built-in ones (the story's own "coast" lost to them)."""
    import soundfile as sf
    from typer.testing import CliRunner

    from narrator.cli import app

    rng = np.random.default_rng(0)
    sf.write(tmp_path / "brook.flac", (0.1 * rng.standard_normal((3 * 44100, 2))), 44100)
    (tmp_path / "my.toml").write_text(
        '[scenes.brook-night]\nlayers = { "file:brook.flac" = 0, shimmer = -6 }\n'
        "[scenes.coast]\nlayers = { tide = -2, gulls = -10 }\n",
        encoding="utf-8",
    )
    (tmp_path / "sub").mkdir()
    story = tmp_path / "sub" / "s.md"
    story.write_text(
        "---\nscenes: ../my.toml\nscene: brook-night\n---\nThe brook runs under the night.\n\n"
        "[scene: coast]\nGulls call over the tide.\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(app, ["plan", str(story)]).exit_code == 0
    plan = story.with_name("s.plan.toml")
    text = plan.read_text("utf-8")
    assert '"file:../brook.flac" = 0.0' in text and '"file:/' not in text
    # Name both scenes alone: the story's own are played, not the built-in coast.
    plan.write_text(re.sub(r"\nlayers = .*", "", text), encoding="utf-8")
    out = tmp_path / "out" / "s.mp3"
    args = ["render", str(story), "--plan", str(plan), "--engine", "fake", "--tail", "2",
            "-o", str(out), "--cache-dir", str(tmp_path / "cache"), "-q"]  # fmt: skip
    result = runner.invoke(app, [*args, "--scene", "rain"])
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert f"--scene rain is not played: the plan {plan} sets the scene of every passage" in said
    report = json.loads(out.with_name("s.mp3.report.json").read_text("utf-8"))
    assert [p["layers"] for p in report["passages"]] == [
        ["file:brook.flac", "shimmer"],  # by name: a published report holds no local path
        ["tide", "gulls"],
    ]
    assert "file:/" not in json.dumps(report)


def test_a_scene_cue_written_after_the_plan_is_warned_of_not_lost(tmp_path):
    from narrator.direction.planfile import overridden

    before = parse_text("The waves roll in.\n\nThe gulls call.\n", source="s.txt")
    text = write_plan(before, plan_story(before))
    after = parse_text("The waves roll in.\n\n[scene: rain]\nThe gulls call.\n", source="s.txt")
    plan = read_plan(text, after, source="s.plan.toml")  # the words are the same: it loads
    said = overridden(after, plan, Path("s.plan.toml"), scene=None)
    assert len(said) == 1 and said[0].startswith(
        "s.txt:3: the [scene: rain] cue is not played: the plan s.plan.toml has passage 1 in "
    )
    assert overridden(before, plan_story(before), Path("p"), scene=None) == []
    assert overridden(before, plan, Path("p"), scene="hearth")[0].startswith(
        "--scene hearth is not played: the plan p sets the scene of every passage"
    )


def test_plan_says_what_it_did_on_one_line_however_long_the_path(tmp_path):
    """The line names the plan whole, never broken at the terminal's width (a script that
    looks for 'is up to date', or a person copying the path, read it broken before)."""
    from typer.testing import CliRunner

    from narrator.cli import app

    runner = CliRunner()
    folder = tmp_path / ("a-folder-with-a-long-name-" * 4)
    folder.mkdir()
    story = folder / "shore.txt"
    story.write_text("The waves roll in.\n\nRain falls on the roof.\n", encoding="utf-8")
    plan_path = folder / "shore.plan.toml"
    made = runner.invoke(app, ["plan", str(story), "-o", str(plan_path)])
    assert made.exit_code == 0 and made.output == f"wrote {plan_path}: 2 passages\n"
    same = runner.invoke(app, ["plan", str(story), "-o", str(plan_path)])
    assert same.exit_code == 0
    assert same.output == f"{plan_path} is up to date\n"
