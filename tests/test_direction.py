"""The scene plan: lexicon, inference on stories of different places, smoothing, cues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrator.direction.plan import DirectionSettings, compose_scene, estimate_seconds, plan_story
from narrator.direction.words import SceneWords, bed_layers, layer_words, word_forms
from narrator.errors import ScriptError
from narrator.text.script import Script, parse_story, parse_text
from soundscapes.layers import layer_names
from soundscapes.scene import BUILTIN_SCENES

ROOT = Path(__file__).resolve().parents[1]
STORIES = Path(__file__).parent / "stories"
PACE_WPM = 130.0


def layers_of(script: Script, index: int) -> set[str]:
    return set(plan_story(script).scene_for(index).layer_names)


def passage_with(script: Script, words: str) -> int:
    """Index of the one passage whose text contains ``words``."""
    found = [p.index for p in script.passages if words in p.text]
    assert len(found) == 1, f"{words!r} is in passages {found}"
    return found[0]


# --------------------------------------------------------------------------- lexicon


def test_lexicon_names_only_registered_layers():
    words = layer_words()
    assert set(words) == set(layer_names()) and all(words.values())
    assert all(0.0 < w <= 1.0 for terms in words.values() for w in terms.values())


@pytest.mark.parametrize(
    ("word", "noun_only", "forms"),
    [
        ("breathe", False, {"breathe", "breathes", "breathing", "breathed"}),
        ("drum", False, {"drums", "drumming", "drummed"}),
        ("sky", True, {"sky", "skies"}),
        ("wave", True, {"wave", "waves"}),
        ("hush", False, {"hushes", "hushing", "hushed"}),
    ],
)
def test_word_forms(word, noun_only, forms):
    got = word_forms(word, noun_only=noun_only)
    assert forms <= got
    if noun_only:
        assert not {f for f in got if f.endswith(("ing", "ed"))}


def test_terms_match_forms_phrases_and_possessives():
    lex = SceneWords()
    terms = [t for t, _ in lex.terms("The seagulls' cries. Crickets chirping in the night garden.")]
    assert terms == ["seagull", "cricket", "chirp", "night garden"]
    # A phrase is taken before its words: wind chimes are chimes, not wind.
    assert lex.scores("Wind chimes tinkled on the porch.").keys() == {"chimes"}
    assert "wind" in lex.scores("The wind rose over the moor.")
    # Verb forms of nouns-only words are something else: a waved hand, a winding path.
    assert lex.scores("She waved, and the path went winding on.") == {}


def test_similes_and_compounds_count_little():
    lex = SceneWords()
    literal = lex.scores("An ember glows in the grate.")["fire"]
    assert lex.scores("Her eyes glowed like an ember.")["fire"] < 0.5 * literal
    assert lex.scores("The water lay mirror-smooth.")["breathing-mirrors"] < 0.5
    # The simile ends with its clause: the rain after the comma is real.
    scores = lex.scores("It sounded like the sea, but the rain fell on the roof.")
    assert scores["rain"] == pytest.approx(1.0) and scores["tide"] < 0.5


def test_a_sound_the_story_denies_is_not_played():
    """ "There was no rain" played rain: the planner heard the word and not the "no"."""
    lex = SceneWords()
    for denied in (
        "There was no rain that night.",
        "Not a single gull cried.",
        "There wasn't a gull in sight.",
        "They sat without a fire.",
        "no waves, no wind, no gulls.",
    ):
        assert lex.terms(denied) == [], denied
    # What the denial does not reach is heard: past "but", after its clause, uncounted.
    assert [t for t, _ in lex.terms("No sound but the sea.")] == ["sea"]
    assert [t for t, _ in lex.terms("No wind, and the rain fell.")] == ["rain"]
    for not_denied in (  # a denial of something else before the word
        "No one minded the rain.",
        "She had no idea the rain would come.",
        "She walked without hurry through the rain.",
    ):
        assert [t for t, _ in lex.terms(not_denied)] == ["rain"], not_denied
    assert lex.terms("There was no sound of rain.") == []
    assert [t for t, _ in lex.terms("It shows not the reflection but the lake.")] == [
        "reflection", "lake"
    ]  # fmt: skip
    clear = "The night was clear, with no rain and no wind. Crickets sang in the garden."
    assert layers_of(parse_text(clear), 0) & {"rain", "wind"} == set()
    assert "crickets" in layers_of(parse_text(clear), 0)
    # Nor as a built-in's quiet extra: the hearth brings faint rain, unless the story says no.
    assert layers_of(parse_text("The fire crackled in the stove."), 0) == {"fire", "rain"}
    dry = "There was no rain tonight. The fire crackled in the stove."
    assert layers_of(parse_text(dry), 0) == {"fire"}


def test_repeats_count_less_and_less():
    lex = SceneWords()
    once, twice, four = (lex.scores(" ".join(["The rain."] * n))["rain"] for n in (1, 2, 4))
    assert once < twice < four < 4 * once


def test_compose_scene_names_built_ins_and_keeps_a_bed():
    assert compose_scene({"tide": 4.0, "gulls": 2.0}) == BUILTIN_SCENES["dawn-coast"]
    # A subset of a built-in led by the same layer takes the built-in, with its quiet extras.
    assert compose_scene({"fire": 3.0}) == BUILTIN_SCENES["hearth"]
    # No bed among the layers: the last bed joins (else the drone).
    music = compose_scene({"melody": 3.0})
    assert music == BUILTIN_SCENES["music"]
    under_sea = compose_scene({"gulls": 2.0}, last_bed="tide")
    assert set(under_sea.layer_names) == {"gulls", "tide"}
    extra = compose_scene({"melody": 3.0, "shimmer": 2.0, "drone": 1.0})
    assert extra.name == "music+shimmer" and extra.layers[0].name == "melody"
    # A stray weak layer does not join.
    assert compose_scene({"rain": 5.0, "tide": 0.4}) == BUILTIN_SCENES["rain"]


# --------------------------------------------------------------------------- stories

# Per passage: layers that must play ("rain") and must not ("-fire").
EXPECTED = {
    "rain_on_a_roof.txt": ["rain -fire -tide"] * 5,
    "fire_in_a_stove.txt": ["fire -breathing-mirrors -melody"] * 5,
    "crickets_in_a_garden.txt": ["crickets night -tide -storm-hush -melody"] * 5,
    "waves_at_low_tide.txt": ["tide -gulls"] * 3 + ["tide gulls"] * 2,
    "rain_then_hearth.txt": ["rain -fire"] * 3 + ["fire"] * 3,
    "quiet_room.txt": ["drone"] * 4,
}


@pytest.mark.parametrize("story", sorted(EXPECTED))
def test_story_layers_per_passage(story):
    script = parse_story(STORIES / story)
    plan = plan_story(script)
    assert len(script.passages) == len(EXPECTED[story])
    for passage, expected in zip(script.passages, EXPECTED[story], strict=True):
        layers = set(plan.scene_for(passage.index).layer_names)
        for item in expected.split():
            if item.startswith("-"):
                assert item[1:] not in layers, f"{story} passage {passage.index}: {layers}"
            else:
                assert item in layers, f"{story} passage {passage.index}: {layers}"


@pytest.mark.parametrize(
    ("story", "scenes"),
    [
        ("rain_on_a_roof.txt", ["rain"]),
        ("fire_in_a_stove.txt", ["hearth"]),
        ("crickets_in_a_garden.txt", ["night-garden"]),
        ("waves_at_low_tide.txt", ["coast", "dawn-coast"]),
        ("rain_then_hearth.txt", ["rain", "hearth"]),
        ("quiet_room.txt", ["soft-bed"]),
    ],
)
def test_story_scenes_hold_until_the_place_changes(story, scenes):
    plan = plan_story(parse_story(STORIES / story))
    assert [scene.name for _, _, scene in plan.runs()] == scenes
    assert set(plan.sources) == {"inferred"}


def test_the_change_comes_where_the_story_moves():
    script = parse_story(STORIES / "rain_then_hearth.txt")
    plan = plan_story(script)
    kitchen = passage_with(script, "the old stove is already lit")
    assert plan.runs()[1][0] == kitchen
    assert plan.scene_for(kitchen).layers[0].name == "fire"
    assert plan.scene_for(kitchen - 1).layers[0].name == "rain"


def test_demo_story_scores_as_a_listener_expects():
    script = parse_story(ROOT / "seeds" / "dream.txt")
    plan = plan_story(script)

    def layers(words: str) -> set[str]:
        return set(plan.scene_for(passage_with(script, words)).layer_names)

    assert "storm-hush" in layers("the hush before a storm")
    assert "storm-hush" in plan.scene_for(0).layer_names  # the storm's hush from the start
    assert "breathing-mirrors" in layers("sound of their breathing")
    assert "melody" in layers("grand piano gleams")
    assert "melody" in layers("Each chord you strike")
    assert "shimmer" in layers("reveal a night sky")
    coast = layers("dawn-lit coast")
    assert {"tide", "gulls"} <= coast
    assert {"tide", "gulls"} <= set(plan.scenes[-1].layer_names)  # and to the end
    # The hall is not scored as a fire for one simile ("glowing like an ember").
    assert "fire" not in layers("glowing like an ember")
    assert plan.scene_for(passage_with(script, "glowing like an ember")) == plan.scene_for(1)


def test_a_stray_word_does_not_flip_the_scene():
    paragraph = "The rain falls softly on the roof, and the gutters run with rain. " * 2
    stray = "You think of a friend who loved the sea. " * 2
    text = "\n\n".join([paragraph, paragraph, stray + paragraph, paragraph, paragraph])
    plan = plan_story(parse_text(text))
    assert {s.name for s in plan.scenes} == {"rain"}


def test_alternating_weak_mentions_do_not_flap():
    text = "\n\n".join(
        ("The room is warm and you are drowsy. A drizzle outside." if i % 2 else
         "The room is warm and you are drowsy. Embers in the grate.")
        for i in range(8)
    )  # fmt: skip
    plan = plan_story(parse_text(text))
    assert len(plan.runs()) == 1


def test_min_scene_length_and_penalty_are_settings():
    script = parse_story(STORIES / "waves_at_low_tide.txt")
    assert len(plan_story(script).runs()) == 2
    assert len(plan_story(script, settings=DirectionSettings(min_scene_s=120)).runs()) == 1
    assert len(plan_story(script, settings=DirectionSettings(switch_penalty_s=60)).runs()) == 1


# --------------------------------------------------------------------------- cues and sources


def test_scene_cue_wins_and_holds_until_the_story_moves():
    text = (
        "[scene: storm]\nThe rain drums on the roof and drips from the eaves. The rain goes on.\n\n"
        "The rain runs down the windows, a soft and steady rain.\n\n"
        "In the kitchen the stove is lit. The fire crackles, the embers glow, the flames lean.\n\n"
        "The fire burns low in the stove. The hearth is warm; the embers settle.\n"
    )
    # Short passages: a short minimum lets the story move within them.
    plan = plan_story(parse_text(text), settings=DirectionSettings(min_scene_s=10))
    assert [s.name for s in plan.scenes] == ["storm", "storm", "hearth", "hearth"]
    assert plan.sources == ("cue", "cue", "inferred", "inferred")


def test_add_and_remove_cues_edit_the_playing_scene():
    text = (
        "The waves roll onto the shore, and the tide draws out again over the sand.\n\n"
        "[add: gulls] Gulls call out over the sea as the waves come in.\n\n"
        "[remove: tide, gulls] The sea goes quiet and still.\n"
    )
    plan = plan_story(parse_text(text))
    assert plan.scenes[0].layer_names == ("tide",)
    assert set(plan.scenes[1].layer_names) == {"tide", "gulls"}
    # Removing every layer leaves the soft bed: the soundscape never drops to silence.
    assert plan.scenes[2].layer_names == ("drone",)
    assert plan.sources[1:] == ("cue", "cue")


def test_front_matter_scene_replaces_inference():
    text = "---\nscene: night-garden\n---\nThe waves roll in.\n\n[scene: rain]\nRain falls.\n"
    plan = plan_story(parse_text(text))
    assert [s.name for s in plan.scenes] == ["night-garden", "rain"]
    assert plan.sources == ("front matter", "cue")
    # --scene (or a manifest's scene) wins, and the plan says where it came from.
    for origin in ("command line", "manifest"):
        chosen = plan_story(
            parse_text(text), settings=DirectionSettings(scene="hearth", scene_from=origin)
        )
        assert [s.name for s in chosen.scenes] == ["hearth", "rain"]
        assert chosen.sources == (origin, "cue")


def test_unknown_front_matter_scene_is_a_clear_error():
    script = parse_text("---\ntitle: T\nscene: caost\n---\nThe waves roll in.\n", source="story.md")
    with pytest.raises(ScriptError, match=r"^story\.md:3: front matter scene 'caost'.*coast\?$"):
        plan_story(script)
    # The same name reaching the planner as the resolved option: where it was set is told.
    for origin, said in [
        ("front matter", r"^story\.md:3: front matter scene 'caost'"),
        ("manifest", r"^story\.md: the manifest's scene 'caost' is unknown"),
        ("command line", r"^story\.md: --scene 'caost' is unknown"),
    ]:
        settings = DirectionSettings(scene="caost", scene_from=origin)
        with pytest.raises(ScriptError, match=said):
            plan_story(script, settings=settings)
    # Nothing close: every scene that may be chosen, the planner's soft bed among them.
    script = parse_text("---\nscene: zzzz\n---\nThe waves roll in.\n", source="story.md")
    with pytest.raises(ScriptError, match=r"'zzzz' is unknown; use one of .*rain, soft-bed"):
        plan_story(script)


def test_the_soft_bed_a_plan_file_lists_may_be_chosen_by_name():
    text = "---\nscene: soft-bed\n---\nThe waves roll in.\n"
    plan = plan_story(parse_text(text))
    assert [s.name for s in plan.scenes] == ["soft-bed"]
    assert plan.scenes[0].layer_names == ("drone",)
    # A cue may name it too, and the words do not move it.
    plan = plan_story(
        parse_text("The waves roll in.\n\n[scene: soft-bed]\nGulls cry over the waves.")
    )
    assert [s.name for s in plan.scenes] == ["coast", "soft-bed"] and plan.sources[1] == "cue"


def test_heard_explains_the_plan():
    plan = plan_story(parse_text("Gulls wheel over the waves, glowing like an ember."))
    assert plan.heard[0] == ("gull", "wave", "ember (weak)")


# --------------------------------------------------------------------------- properties

SENTENCES = [
    "The rain patters on the roof.",
    "A fire crackles in the stove, and the embers glow.",
    "Crickets chirp in the night garden, and an owl calls.",
    "The tide draws out over the sand, and the waves fold onto the shore.",
    "Gulls wheel overhead.",
    "A piano plays a slow melody.",
    "The stars come out across the night sky.",
    "The wind moves through the trees.",
    "A storm gathers, and thunder rumbles far away.",
    "A wind chime sounds on the porch.",
    "You breathe slowly, in and out, before the mirror.",
    "Your heartbeat slows like a distant drum.",
    "You rest, and your shoulders soften.",
    "Everything is quiet and warm and still.",
    "You let the day go.",
]
CUES = ["[scene: rain]", "[scene: coast]", "[add: gulls]", "[remove: tide]", "[remove: rain]"]

paragraphs = st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=5).map(" ".join)
cued = st.tuples(st.sampled_from(["", "", "", *CUES]), paragraphs).map(lambda t: " ".join(t))
stories = st.lists(cued, min_size=1, max_size=14).map("\n\n".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=stories,
    front=st.sampled_from(["", "---\nscene: forest\n---\n"]),
    min_scene_s=st.sampled_from([10.0, 30.0, 60.0]),
)
def test_every_passage_has_a_scene_with_a_bed_and_scenes_last(text, front, min_scene_s):
    script = parse_text(front + text)
    plan = plan_story(script, settings=DirectionSettings(min_scene_s=min_scene_s))
    passages = script.passages
    assert len(plan.scenes) == len(passages) == len(plan.sources)
    registered = set(layer_names())
    for scene in plan.scenes:
        assert scene.layers and set(scene.layer_names) <= registered
        assert bed_layers() & set(scene.layer_names), f"no bed in {scene}"
        assert all(-40.0 <= layer.gain_db <= 12.0 for layer in scene.layers)

    def cue_at(i: int) -> bool:
        p = passages[i]
        return bool(p.scene or p.add_layers or p.remove_layers)

    runs = plan.runs()
    for first, end, scene in runs:
        seconds = sum(estimate_seconds(p, PACE_WPM) for p in passages[first:end])
        whole = len(runs) == 1
        demanded = cue_at(first) or (end < len(passages) and cue_at(end))
        assert seconds >= min_scene_s - 1e-6 or whole or demanded, (first, end, scene.name)


def test_a_layer_cue_that_changes_nothing_is_warned_of_by_line():
    text = "The waves roll in over the shore.\n\n[remove: rain] [add: tide, wind] The gulls cry.\n"
    plan = plan_story(parse_text(text, source="s.txt"))
    scene = plan.scenes[0]
    assert "tide" in scene.layer_names and "rain" not in scene.layer_names
    shown = f"{scene.name} ({', '.join(scene.layer_names)})"
    assert plan.warnings == (
        f"s.txt:3: the [remove: rain] cue before passage 1 changes nothing: rain is not playing "
        f"in {shown}",
        f"s.txt:3: the [add: tide] cue before passage 1 changes nothing: tide is playing in "
        f"{shown} already",
    )
    assert "wind" in plan.scenes[1].layer_names  # the cue's other layer still joins
    # Named for what changed: wind joined; tide (playing) and rain (not) did not move.
    assert plan.scenes[1].name == f"{scene.name}+wind"
    assert plan_story(parse_text("Rain on the roof.\n\n[remove: rain] Quiet now.\n")).warnings == ()
    # Cues that change nothing leave the scene as it was: no new name, no change in the plan.
    idle = plan_story(parse_text(text.replace(", wind", ""), source="s.txt"))
    assert idle.scenes[1] is idle.scenes[0] and idle.sources[1] == idle.sources[0]


def test_passages_shows_the_plan_s_warnings_as_render_does(tmp_path):
    from typer.testing import CliRunner

    from narrator.cli import app

    story = tmp_path / "s.txt"
    story.write_text("The waves roll in.\n\n[remove: fire] The gulls cry.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["passages", str(story)])
    assert result.exit_code == 0, result.output
    assert "s.txt:3: the [remove: fire] cue before passage 1 changes nothing" in " ".join(
        result.stderr.split()
    )
    result = CliRunner().invoke(app, ["passages", str(story), "--json"])
    assert any("[remove: fire]" in w for w in json.loads(result.stdout)["warnings"])
