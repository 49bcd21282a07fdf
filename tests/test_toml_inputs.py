"""Every TOML input says a mistake the same way, at its line: scene files, plans, lexicons and
manifests (scene files named no line at all, and each input worded a syntax error its own way)."""

from __future__ import annotations

import pytest

from narrator.direction.plan import plan_story
from narrator.direction.planfile import PlanError, read_plan, write_plan
from narrator.errors import ScriptError
from narrator.publish import PublishError
from narrator.publish.manifest import load_manifest
from narrator.text.pronunciation import load_lexicon
from narrator.text.script import parse_text
from soundscapes.errors import SoundscapeError
from soundscapes.scene import load_scenes

SCENES = """\
# my scenes
[scenes.calm]
description = "rain on the roof"
layers = { rain = 0, wind = -6 }

[scenes.shore]
layers = { tide = 0, "gulls" = -5 }
"""


def scene_error(tmp_path, text: str) -> str:
    path = tmp_path / "my.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SoundscapeError) as info:
        load_scenes(path)
    message = str(info.value)
    assert message.startswith(f"{path}:") and "\n" not in message
    return message[len(str(path)) :]


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('"gulls" = -5', '"gull" = -5', ":7: scene 'shore': unknown layer 'gull'; did you mean"),
        ("wind = -6", "wind = 40", ":4: scene 'calm': layer 'wind': gain must be a number of dB"),
        ("description =", "descripton =", ":3: scene 'calm': unknown key 'descripton'"),
        ('layers = { tide = 0, "gulls" = -5 }', "layers = {}", ":6: scene 'shore': needs layers"),
        ("[scenes.shore]", "[scenes.sh ore]", ":6: not valid TOML ("),
        ("wind = -6 }", "wind = -6", ":4: not valid TOML ("),
    ],
)  # fmt: skip
def test_a_scene_file_mistake_names_its_line(tmp_path, old, new, said):
    text = SCENES.replace(old, new)
    assert text != SCENES
    assert scene_error(tmp_path, text).startswith(said)


def test_a_dotted_scene_table_is_found_too(tmp_path):
    text = "scenes.calm.layers = { rain = 0 }\n\nscenes.night.layers = { crickts = 0 }\n"
    assert scene_error(tmp_path, text).startswith(":3: scene 'night': unknown layer 'crickts'")


def test_syntax_errors_read_alike_with_their_line_in_every_toml_input(tmp_path):
    broken = 'first = "a"\nsecond = "b\n'
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text(broken, encoding="utf-8")
    with pytest.raises(ScriptError) as lex:
        load_lexicon(lexicon)
    manifest = tmp_path / "podcast.toml"
    manifest.write_text(broken, encoding="utf-8")
    with pytest.raises(PublishError) as pod:
        load_manifest(manifest)
    scenes = tmp_path / "scenes.toml"
    scenes.write_text(broken, encoding="utf-8")
    with pytest.raises(SoundscapeError) as scene:
        load_scenes(scenes)
    story = parse_text("The waves roll in.\n")
    with pytest.raises(PlanError) as plan:
        read_plan(write_plan(story, plan_story(story)) + broken, story, source="s.plan.toml")
    plan_line = write_plan(story, plan_story(story)).count("\n") + 2
    for info, path, line in [(lex, lexicon, 2), (pod, manifest, 2), (scene, scenes, 2),
                             (plan, "s.plan.toml", plan_line)]:  # fmt: skip
        assert str(info.value).startswith(f"{path}:{line}: not valid TOML ("), str(info.value)
    assert str(lex.value).endswith('write lines like Nyx = "nicks"')


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("lexicon", "nolex.toml", "nolex.toml: no such file; check the path of the lexicon"),
        ("scenes", "nothere.toml", "nothere.toml: no such file; check the path of the scene file"),
        ("scenes", "bad.toml", "bad.toml:1: scene 'calm': unknown layer 'rian'"),
    ],
)
def test_a_file_the_front_matter_names_is_said_at_its_line_of_the_story(tmp_path, key, value, said):
    """The path alone did not say that the story's front matter gave it, nor where."""
    from narrator.errors import NarratorError
    from narrator.render.story import load_story

    (tmp_path / "bad.toml").write_text("scenes.calm.layers = { rian = 0 }\n", encoding="utf-8")
    story = tmp_path / "story.md"
    story.write_text(f"---\ntitle: Night\n{key}: {value}\n---\nThe rain falls.\n", encoding="utf-8")
    with pytest.raises((NarratorError, SoundscapeError)) as info:
        load_story(story)
    assert str(info.value).startswith(f"{story}:3: {tmp_path / said}")
