"""Layer and scene specs, and the built-in scenes for a story's places.

Specs are frozen, keyword-only dataclasses: hashable, JSON-able, usable as cache keys. Running
state lives in the sources that :mod:`soundscapes.timeline` creates from them.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

from soundscapes.errors import LayerError


@dataclass(frozen=True, kw_only=True)
class LayerSpec:
    """One layer of a scene: a registered layer name, its gain and parameters."""

    name: str
    gain_db: float = 0.0
    params: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[str, tuple[tuple[str, float], ...]]:
        """Identity of the running source: same name and params share one source."""
        return (self.name, tuple(sorted(self.params)))


@dataclass(frozen=True, kw_only=True)
class Scene:
    """A named set of layers that plays under part of a story."""

    name: str
    layers: tuple[LayerSpec, ...]
    description: str = ""

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)

    def power_gain(self) -> float:
        """Linear power scale that brings the scene to one layer's calibrated loudness.

        Layers are calibrated to the same loudness and are uncorrelated, so their powers add;
        dividing by the sum keeps every scene at the same level and a change of scene is a
        change of colour, not of loudness.
        """
        total = sum(10.0 ** (layer.gain_db / 10.0) for layer in self.layers)
        return 1.0 / total if total > 0 else 0.0

    def layer_amplitudes(self) -> dict[tuple, float]:
        """Linear amplitude of each layer source in this scene, scene-normalized."""
        norm = math.sqrt(self.power_gain())
        return {layer.key: norm * 10.0 ** (layer.gain_db / 20.0) for layer in self.layers}


def _scene(name: str, description: str, *layers: tuple[str, float]) -> Scene:
    return Scene(
        name=name,
        description=description,
        layers=tuple(LayerSpec(name=n, gain_db=g) for n, g in layers),
    )


#: Built-in scenes for the places sleep stories visit. Gains are relative within a scene.
BUILTIN_SCENES: dict[str, Scene] = {
    s.name: s
    for s in (
        _scene("storm", "the hush before a storm", ("storm-hush", 0.0), ("wind", -9.0)),
        _scene("mirror-hall", "a hall of breathing mirrors", ("breathing-mirrors", 0.0),
               ("storm-hush", -6.0)),
        _scene("amphitheater", "a vast, still amphitheater", ("drone", 0.0),
               ("breathing-mirrors", -9.0)),
        _scene("music", "a slow piano line over a soft pad", ("melody", 0.0), ("drone", -6.0)),
        _scene("night-sky", "a starry sky opening above", ("shimmer", 0.0), ("drone", -4.0)),
        _scene("moon-shore", "white sand and a still pool under the moon", ("tide", -3.0),
               ("shimmer", -4.0)),
        _scene("dawn-coast", "gulls and the tide on a dawn-lit coast", ("tide", 0.0),
               ("gulls", -5.0)),
        _scene("coast", "waves on a shore", ("tide", 0.0)),
        _scene("rain", "rain on a roof", ("rain", 0.0), ("wind", -12.0)),
        _scene("hearth", "a fire in a stove", ("fire", 0.0), ("rain", -14.0)),
        _scene("night-garden", "crickets and an owl in a night garden", ("crickets", 0.0),
               ("night", -3.0)),
        _scene("forest", "wind in the trees", ("wind", 0.0), ("night", -10.0)),
        _scene("heartbeat", "a soft, distant drum", ("heartbeat", 0.0), ("drone", -6.0)),
        _scene("chimes", "wind chimes in a breeze", ("chimes", 0.0), ("wind", -8.0)),
    )
}  # fmt: skip


def get_scene(name: str, scenes: dict[str, Scene] | None = None) -> Scene:
    """Look up a scene by name; :class:`LayerError` lists the closest names when unknown."""
    table = BUILTIN_SCENES if scenes is None else scenes
    try:
        return table[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(table), n=3) or sorted(table)[:5]
        raise LayerError(f"unknown scene {name!r}; did you mean {', '.join(close)}?") from None


def available_scenes() -> dict[str, Scene]:
    """Built-in scenes whose layers are all registered."""
    from soundscapes.layers import layer_names

    names = set(layer_names())
    return {k: s for k, s in BUILTIN_SCENES.items() if set(s.layer_names) <= names}
