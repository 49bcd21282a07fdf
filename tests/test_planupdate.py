"""A plan brought up to date after its story changed: the producer's edits stay where their
passages went, new passages are planned, and the command says what it did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrator.cli import app
from narrator.direction.plan import plan_story
from narrator.direction.planfile import PlanError, StalePlanError, read_plan, write_plan
from narrator.direction.planupdate import KEPT, KEPT_EDITED, is_stale, update_plan
from narrator.text.script import parse_text
from tests.test_planfile import edit_entry

ROOT = Path(__file__).resolve().parents[1]
DREAM = (ROOT / "seeds" / "dream.txt").read_text(encoding="utf-8")
STORM = '"storm"'
STORM_LAYERS = "{ storm-hush = -3.0, rain = -12.0 }"


def edited_plan(story: str) -> str:
    """The story's plan with passages 1 and 8 set to a storm by hand."""
    script = parse_text(story, source="dream.txt")
    text = write_plan(script, plan_story(script))
    for which in (1, 8):
        text = edit_entry(text, which, scene=STORM, description="", layers=STORM_LAYERS)
    return text


def storm_at(text: str, story: str) -> list[int]:
    plan = read_plan(text, parse_text(story, source="dream.txt"))
    return [i for i, scene in enumerate(plan.scenes) if scene.name == "storm"]


def test_edits_follow_their_passages_through_insertions_removals_and_edits():
    text = edited_plan(DREAM)
    paragraphs = DREAM.split("\n\n")
    # A passage inserted before the first edit, one removed between the edits, and the
    # second edit's passage itself reworded (a typo fixed).
    changed = [*paragraphs[:1], "A new quiet moment.", *paragraphs[1:4], *paragraphs[5:]]
    story = "\n\n".join(changed).replace("white sand", "pale sand")
    script = parse_text(story, source="dream.txt")
    with pytest.raises(StalePlanError):
        read_plan(text, script)
    assert is_stale(text, script) and not is_stale(text, parse_text(DREAM, source="dream.txt"))
    fresh = plan_story(script)
    done = update_plan(text, script, fresh)
    new_text = write_plan(script, done.plan)
    # Passage 1 moved to 2; passage 8 lost one before it and gained one: still 8, reworded.
    assert storm_at(new_text, story) == [2, 8]
    assert done.new == (1,) and done.edited == (8,) and done.dropped == (4,)
    assert done.kept == tuple(i for i in range(len(script.passages)) if i not in (1, 8))
    assert done.plan.scene_for(1) == fresh.scene_for(1)
    storm = done.plan.scene_for(2)
    assert [(layer.name, layer.gain_db) for layer in storm.layers] == [
        ("storm-hush", -3.0), ("rain", -12.0)
    ]  # fmt: skip
    # The file says which entries were kept, and it reads back for the new story.
    assert done.plan.source_for(2) == KEPT and done.plan.source_for(8) == KEPT_EDITED
    assert f"# {KEPT_EDITED}" in new_text
    assert read_plan(new_text, script).scenes == done.plan.scenes


def test_a_split_passage_keeps_its_entry_for_the_part_that_starts_alike():
    story = "The tide draws out over the sand.\n\nGulls call over the waves far out.\n\nYou rest.\n"
    script = parse_text(story)
    text = edit_entry(write_plan(script, plan_story(script)), 1, scene=STORM, layers=STORM_LAYERS)
    split = story.replace(
        "Gulls call over the waves far out.", "Gulls call over the waves.\n\nFar out."
    )
    now = parse_text(split)
    done = update_plan(text, now, plan_story(now))
    assert [s.name == "storm" for s in done.plan.scenes] == [False, True, False, False]
    assert done.new == (2,) and done.edited == (1,)


def test_an_unreadable_old_plan_is_said_with_its_line():
    script = parse_text(DREAM, source="dream.txt")
    text = edit_entry(edited_plan(DREAM), 2, layers="{ tidee = 0 }")
    with pytest.raises(PlanError, match=r"^old\.toml:\d+: passage 2: unknown layer 'tidee'"):
        update_plan(text, parse_text(DREAM + "\n\nMore.\n"), plan_story(script), source="old.toml")


def test_plan_update_from_the_command_line(tmp_path):
    runner = CliRunner()
    story = tmp_path / "dream.txt"
    story.write_text(DREAM, encoding="utf-8")
    plan = tmp_path / "dream.plan.toml"
    assert runner.invoke(app, ["plan", str(story), "-o", str(plan)]).exit_code == 0
    text = edit_entry(plan.read_text(encoding="utf-8"), 1, scene=STORM, layers=STORM_LAYERS)
    plan.write_text(text, encoding="utf-8")
    story.write_text(DREAM.replace("white sand", "pale sand"), encoding="utf-8")

    # The render refuses the stale plan and names the command that mends it.
    render = runner.invoke(app, ["passages", str(story), "--plan", str(plan)])
    assert render.exit_code == 1
    assert f"narrator plan {story} -o {plan} --update" in render.stderr
    # Planning again without a flag keeps the file and says what to do (not --plan).
    again = runner.invoke(app, ["plan", str(story), "-o", str(plan)])
    assert again.exit_code == 1 and plan.read_text(encoding="utf-8") == text
    [line] = again.stderr.strip().splitlines()
    assert "made before the story changed" in line and "--update" in line
    assert "--plan" not in line
    both = runner.invoke(app, ["plan", str(story), "-o", str(plan), "--update", "--force"])
    assert both.exit_code == 1 and "disagree" in both.stderr

    updated = runner.invoke(app, ["plan", str(story), "-o", str(plan), "--update"])
    assert updated.exit_code == 0, updated.stderr
    assert re.search(
        r"updated .*11 passages kept their scenes, 1 of them reworded in the story \(passage 8\)",
        updated.output.replace("\n", " "),
    ), updated.output
    shown = runner.invoke(app, ["passages", str(story), "--plan", str(plan), "--json"])
    assert shown.exit_code == 0, shown.stderr
    assert '"scene": "storm"' in shown.output
    stamp = plan.stat().st_mtime_ns
    same = runner.invoke(app, ["plan", str(story), "-o", str(plan), "--update"])
    assert same.exit_code == 0 and "up to date with the story" in same.output
    assert plan.stat().st_mtime_ns == stamp


def test_a_passage_moved_whole_keeps_its_entry():
    story = "The tide draws out over the sand.\n\nA fire crackles in the grate.\n\nYou rest.\n"
    script = parse_text(story)
    text = edit_entry(write_plan(script, plan_story(script)), 1, scene=STORM, layers=STORM_LAYERS)
    moved = "A fire crackles in the grate.\n\nThe tide draws out over the sand.\n\nYou rest.\n"
    now = parse_text(moved)
    done = update_plan(text, now, plan_story(now))
    assert [s.name == "storm" for s in done.plan.scenes] == [True, False, False]
    assert done.new == () and done.dropped == () and done.edited == ()


def test_a_scene_cue_written_after_the_plan_is_taken_in_by_update(tmp_path):
    """The fingerprint is the words alone: a cue added to an unedited passage left the plan
    'up to date', and the render said the cue was not played."""
    runner = CliRunner()
    story = tmp_path / "s.txt"
    words = "The fire crackles in the stove.\n\n{cue}The room is warm.\n\nThe sea rolls on.\n"
    story.write_text(words.format(cue=""), encoding="utf-8")
    plan = tmp_path / "s.plan.toml"
    assert runner.invoke(app, ["plan", str(story), "-o", str(plan)]).exit_code == 0
    text = edit_entry(plan.read_text(encoding="utf-8"), 2, scene=STORM, layers=STORM_LAYERS)
    plan.write_text(text, encoding="utf-8")
    story.write_text(words.format(cue="[scene: night-garden]\n"), encoding="utf-8")
    render = runner.invoke(app, ["passages", str(story), "--plan", str(plan)])
    assert f"narrator plan {story} -o {plan} --update" in render.stderr.replace("\n", " ")
    updated = runner.invoke(app, ["plan", str(story), "-o", str(plan), "--update"])
    assert updated.exit_code == 0, updated.stderr
    said = " ".join(updated.output.split())
    assert "2 passages kept their scenes; 1 takes the scene of its cue (passage 1)" in said
    scenes = [
        s.name for s in read_plan(plan.read_text("utf-8"), parse_text(story.read_text())).scenes
    ]
    assert scenes[1] == "night-garden" and scenes[2] == "storm"  # the hand edit stays
    again = runner.invoke(app, ["plan", str(story), "-o", str(plan), "--update"])
    assert "up to date with the story" in " ".join(again.output.split())
