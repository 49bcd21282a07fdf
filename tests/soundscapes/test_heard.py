"""Heard as named: every layer and every built-in scene, judged by an AudioSet tagger nobody
here wrote (YAMNet, see ``tests/ears.py``).

Each layer is rendered alone on three seeds and at both ends of each of its parameters; the
steady middle 40 s (from 30 s to 70 s) is heard at the sleep target (-20 LUFS). A continuous
layer passes when one of its accepted labels is in the clip's top 5 (scores averaged over the
0.96 s patches); an event layer (calls, strikes, beats, notes) must also reach 0.5 on an
accepted label in its best patch, so that single events are recognised, not just the wash.
A scene passes when its leading layer's labels reach its top 10.
"""

from __future__ import annotations

import numpy as np
import pytest

from soundscapes.layers import create_layer, layer_info, layer_names
from soundscapes.scene import BUILTIN_SCENES
from soundscapes.timeline import Timeline
from tests import ears

SR = 44_100
CLIP_S = (30.0, 70.0)
SEEDS = (0, 1, 2)

#: The AudioSet labels each layer may be heard as (issue 14).
ACCEPTED: dict[str, tuple[str, ...]] = {
    "rain": ("Rain", "Raindrop", "Rain on surface"),
    "tide": ("Ocean", "Waves, surf"),
    "gulls": ("Bird", "Bird vocalization, bird call, bird song", "Squawk", "Caw"),
    "storm-hush": ("Thunder", "Thunderstorm", "Rumble", "Wind"),
    "breathing-mirrors": ("Breathing",),
    "wind": ("Wind", "Rustling leaves"),
    "fire": ("Fire", "Crackle"),
    "crickets": ("Cricket", "Insect"),
    "night": ("Insect", "Cricket", "Owl", "Hoot"),
    "chimes": ("Wind chime", "Chime", "Bell", "Tubular bells"),
    "heartbeat": ("Heart sounds, heartbeat",),
    "melody": ("Piano", "Electric piano", "Keyboard (musical)"),
    "shimmer": ("Chime", "Bell", "Wind chime", "Singing bowl", "Glockenspiel"),
    "drone": ("Synthesizer", "Ambient music", "Hum"),
}
#: Layers made of separate events: each event must be recognised on its own too.
EVENT_LAYERS = frozenset({"gulls", "chimes", "shimmer", "melody", "heartbeat"})
TOP_N = 5
EVENT_BEST_PATCH = 0.5
SCENE_TOP_N = 10


def _cases() -> list[tuple[str, int, tuple[tuple[str, float], ...]]]:
    cases = []
    for name in layer_names():
        cases += [(name, seed, ()) for seed in SEEDS]
        for p in layer_info(name).params:
            cases += [(name, 0, ((p.name, p.minimum),)), (name, 0, ((p.name, p.maximum),))]
    return cases


def _case_id(case: tuple[str, int, tuple[tuple[str, float], ...]]) -> str:
    name, seed, params = case
    return f"{name}-" + (",".join(f"{k}={v:g}" for k, v in params) or f"seed{seed}")


def test_every_layer_has_accepted_labels() -> None:
    assert sorted(ACCEPTED) == layer_names()
    names = set(ears.class_names())
    for labels in ACCEPTED.values():
        assert set(labels) <= names


def _middle(source_frames: np.ndarray) -> np.ndarray:
    return source_frames[:, round(CLIP_S[0] * SR) :]


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_layer_is_heard_as_named(case: tuple[str, int, tuple[tuple[str, float], ...]]) -> None:
    name, seed, params = case
    audio = create_layer(name, seed=seed, **dict(params)).render(round(CLIP_S[1] * SR))
    heard = ears.hear(_middle(audio), SR)
    label, rank = heard.best_rank(ACCEPTED[name])
    assert rank <= TOP_N, (
        f"{_case_id(case)} is heard as {heard.describe()}; best accepted label "
        f"{label!r} ranks #{rank}"
    )
    if name in EVENT_LAYERS:
        best = max(ACCEPTED[name], key=heard.best_patch)
        assert heard.best_patch(best) >= EVENT_BEST_PATCH, (
            f"{_case_id(case)}: no single event is recognised; best patch "
            f"{best!r} {heard.best_patch(best):.2f} (heard as {heard.describe()})"
        )


def _leading_layer(scene_name: str) -> str:
    layers = BUILTIN_SCENES[scene_name].layers
    return max(layers, key=lambda layer: layer.gain_db).name


@pytest.mark.parametrize("scene_name", sorted(BUILTIN_SCENES))
def test_scene_is_heard_by_its_leading_layer(scene_name: str) -> None:
    timeline = Timeline(
        {0.0: BUILTIN_SCENES[scene_name]}, duration_s=CLIP_S[1] + 30.0, fade_out_s=1.0, seed=0
    )
    audio = timeline.source().render(round(CLIP_S[1] * SR))
    heard = ears.hear(_middle(audio), SR)
    leading = _leading_layer(scene_name)
    label, rank = heard.best_rank(ACCEPTED[leading])
    assert rank <= SCENE_TOP_N, (
        f"scene {scene_name} (led by {leading}) is heard as {heard.describe(10)}; "
        f"best accepted label {label!r} ranks #{rank}"
    )


def test_the_ears_hear_a_pure_tone_and_noise_apart() -> None:
    """The front end is YAMNet's: noise is heard as noise, a sine as a sine, silence as
    silence. (A broken mel matrix or log offset fails this, not only the layers.)"""
    rng = np.random.default_rng(0)
    t = np.arange(5 * SR) / SR
    assert ears.hear(0.1 * rng.standard_normal(5 * SR), SR).top(1)[0][0] == "White noise"
    assert ears.hear(0.1 * np.sin(2 * np.pi * 1000 * t), SR).best_rank(("Sine wave",))[1] <= 3
    assert ears.hear(np.zeros(5 * SR), SR, lufs=None).top(1)[0][0] == "Silence"
