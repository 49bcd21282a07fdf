"""The scene plan: which scene plays under each passage.

Inferred from the words: a lexicon of sound-bearing words scores each sentence, a passage takes
the scene its sentences vote for, and smoothing holds a scene until the story has clearly moved
(a passage with one stray word does not flip the bed).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from narrator.script import Script, words_of
from soundscapes.scene import LayerSpec, Scene, available_scenes

#: Words (lower case stems) that call up a scene. Matched on word forms: a lexicon entry
#: "mirror" matches "mirror", "mirrors", "mirrored".
LEXICON: dict[str, tuple[str, ...]] = {
    "storm": ("storm", "thunder", "hush", "lightning", "tempest"),
    "mirror-hall": ("mirror", "breath", "breathing", "lungs", "hall", "corridor"),
    "amphitheater": ("amphitheater", "amphitheatre", "arena", "audience", "silhouette"),
    "music": ("piano", "melody", "chord", "song", "music", "recital", "note", "keys"),
    "night-sky": ("star", "sky", "constellation", "celestial", "stardust", "nebula", "vault"),
    "moon-shore": ("moon", "sand", "pool", "barefoot"),
    "dawn-coast": ("gull", "seagull", "tide", "wave", "coast", "shore", "sunrise", "dawn"),
    "coast": ("surf", "sea", "ocean", "beach"),
    "rain": ("rain", "drizzle", "raindrop", "downpour"),
    "hearth": ("fire", "stove", "hearth", "embers", "fireplace", "flame"),
    "night-garden": ("cricket", "owl", "garden"),
    "forest": ("wind", "breeze", "trees", "forest", "leaves"),
    "heartbeat": ("heartbeat", "drum"),
    "chimes": ("chime",),
}

#: A passage switches scene when a new scene scores at least this many words in it.
SWITCH_SCORE = 2
#: Scene used when nothing in the story calls one up.
DEFAULT_SCENE = "storm"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Scene for each passage, by passage index."""

    scenes: tuple[Scene, ...]

    def scene_for(self, passage_index: int) -> Scene:
        return self.scenes[passage_index]


def _matches(word: str, stem: str) -> bool:
    return word == stem or (
        word.startswith(stem)
        and re.fullmatch(r"(s|es|ed|ing|ings|y)", word[len(stem) :]) is not None
    )


def sentence_scores(sentence: str) -> Counter[str]:
    """How many words of each scene's lexicon the sentence holds."""
    scores: Counter[str] = Counter()
    for word in (w.lower() for w in words_of(sentence)):
        for scene, stems in LEXICON.items():
            if any(_matches(word, stem) for stem in stems):
                scores[scene] += 1
    return scores


def plan_story(script: Script) -> Plan:
    """A scene for every passage of ``script``.

    Sources, strongest first: cues in the text (``[scene: …]``, ``[add: …]``, ``[remove: …]``),
    the front matter's ``scene``, and otherwise inference from the words.
    """
    scenes = available_scenes()
    fixed = script.meta.scene
    inferred = [fixed] * len(script.passages) if fixed else _infer(script, scenes)
    current: Scene | None = None
    held_since: str | None = None  # the inferred scene when a cue took over
    chosen: list[Scene] = []
    for i, passage in enumerate(script.passages):
        if held_since is not None and inferred[i] != held_since:
            held_since = None  # the story has moved on from where the cue was placed
        if passage.scene:
            current, held_since = scenes[passage.scene], inferred[i]
        elif held_since is None:
            current = scenes[inferred[i]]
        assert current is not None
        if passage.add_layers or passage.remove_layers:
            current = _edit(current, passage.add_layers, passage.remove_layers)
            held_since = inferred[i]
        chosen.append(current)
    return Plan(scenes=tuple(chosen))


def _edit(scene: Scene, add: tuple[str, ...], remove: tuple[str, ...]) -> Scene:
    layers = [layer for layer in scene.layers if layer.name not in remove]
    have = {layer.name for layer in layers}
    # An added layer joins a little under the scene's main layer.
    layers += [LayerSpec(name=n, gain_db=-3.0) for n in add if n not in have]
    if not layers:
        layers = [LayerSpec(name="drone", gain_db=0.0)]  # never drop to silence
    name = scene.name
    if add:
        name += "+" + "+".join(add)
    if remove:
        name += "-" + "-".join(remove)
    return Scene(name=name, layers=tuple(layers), description=scene.description)


def _infer(script: Script, scenes: dict[str, Scene]) -> list[str]:
    """Scene names inferred from the words, one per passage."""
    per_passage: list[Counter[str]] = []
    first_seen: str | None = None
    for passage in script.passages:
        total: Counter[str] = Counter()
        for sentence in passage.sentences:
            s = Counter({k: v for k, v in sentence_scores(sentence).items() if k in scenes})
            if s and first_seen is None:
                first_seen = s.most_common(1)[0][0]
            total += s
        per_passage.append(total)
    default = DEFAULT_SCENE if DEFAULT_SCENE in scenes else next(iter(scenes))
    current = first_seen or default
    chosen: list[str] = []
    for scores in per_passage:
        if scores:
            best, best_score = scores.most_common(1)[0]
            if best != current and best_score >= SWITCH_SCORE and best_score > scores[current]:
                current = best
        chosen.append(current)
    return chosen
