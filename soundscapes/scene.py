"""Layer and scene specs, and the built-in scenes for a story's places.

Specs are frozen, keyword-only dataclasses: hashable, JSON-able, usable as cache keys. Running
state lives in the sources that :mod:`soundscapes.timeline` creates from them.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from soundscapes.errors import LayerError, SoundscapeError, name_hint
from soundscapes.tomlfile import TomlLines, toml_error


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


#: Built-in scenes for the places sleep stories visit. Gains are relative within a scene, and
#: set so that each scene is heard as its leading layer (tests/soundscapes/test_heard.py): the
#: night's insects sit 16 dB under the forest's wind, the breeze 12 dB under the chimes, the
#: moonlit shimmer 10 dB under the shore's waves (its struck tones outweigh surf), and the
#: heartbeat has slow breaths under it rather than a pad (a pad's tones swamp a beat whose
#: energy is almost all under 125 Hz; tests/soundscapes/HEARD.md).
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
        _scene("moon-shore", "white sand and a still pool under the moon", ("tide", 0.0),
               ("shimmer", -10.0)),
        _scene("dawn-coast", "gulls and the tide on a dawn-lit coast", ("tide", 0.0),
               ("gulls", -5.0)),
        _scene("coast", "waves on a shore", ("tide", 0.0)),
        _scene("rain", "rain on a roof", ("rain", 0.0), ("wind", -12.0)),
        _scene("hearth", "a fire in a stove", ("fire", 0.0), ("rain", -14.0)),
        _scene("night-garden", "crickets and an owl in a night garden", ("crickets", 0.0),
               ("night", -3.0)),
        _scene("forest", "wind in the trees", ("wind", 0.0), ("night", -16.0)),
        _scene("heartbeat", "a soft, distant drum, and slow breaths", ("heartbeat", 0.0),
               ("breathing-mirrors", -12.0)),
        _scene("chimes", "wind chimes in a breeze", ("chimes", 0.0), ("wind", -12.0)),
    )
}  # fmt: skip


def get_scene(name: str, scenes: dict[str, Scene] | None = None) -> Scene:
    """Look up a scene by name; :class:`LayerError` names the closest ones when unknown, or
    every one when none is close (the first few alphabetically would be no hint)."""
    table = BUILTIN_SCENES if scenes is None else scenes
    try:
        return table[name]
    except KeyError:
        raise LayerError(f"unknown scene {name!r}; {name_hint(name, table)}") from None


#: The bed a story gets when it names no sound at all: a soft pad that suggests no place. A
#: planner's scene, not the library's (:data:`BUILTIN_SCENES`): it is never composed from
#: words, but a cue, a plan file or a command may name it.
SOFT_BED = Scene(
    name="soft-bed",
    layers=(LayerSpec(name="drone", gain_db=0.0),),
    description="a soft pad, for a story that names no sounds",
)


def choosable(scenes: Mapping[str, Scene]) -> dict[str, Scene]:
    """``scenes`` and the soft bed, in that order: what a cue, a plan, ``--scene`` or a
    closer may name. A scene of that name in ``scenes`` (a user's own) wins."""
    return {**scenes, SOFT_BED.name: scenes.get(SOFT_BED.name, SOFT_BED)}


def available_scenes() -> dict[str, Scene]:
    """Built-in scenes whose layers are all registered."""
    from soundscapes.layers import layer_names

    names = set(layer_names())
    return {k: s for k, s in BUILTIN_SCENES.items() if set(s.layer_names) <= names}


# --- user scenes ------------------------------------------------------------------------------

#: Gains a user scene may give a layer: quieter than -40 dB is inaudible under the others, and
#: more than +12 dB would only push the other layers down (scenes are loudness-normalized).
MIN_GAIN_DB = -40.0
MAX_GAIN_DB = 12.0

_SCENE_KEYS = ("description", "layers")


def _closest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "valid: " + ", ".join(choices)


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None (TOML booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _user_layer(where: str, name: object, value: object, folder: Path) -> LayerSpec:
    """One ``name = gain`` or ``name = { gain_db = ..., param = ... }`` entry of a scene."""
    from soundscapes.layers import layer_info, layer_names

    if not isinstance(name, str) or not name.strip():
        raise LayerError(f"{where}: layer names must be non-empty strings, got {name!r}")
    if name.startswith("file:"):
        # Relative recordings are found next to the TOML, wherever it is run from.
        path = Path(name[len("file:") :]).expanduser()
        path = path if path.is_absolute() else folder / path
        if not path.is_file():
            raise LayerError(
                f"{where}: recording not found: {path}; paths are relative to the scene file"
            )
        name = f"file:{path.resolve()}"
    elif name not in layer_names():
        raise LayerError(f"{where}: unknown layer {name!r}; {_closest(name, layer_names())}")

    settings = dict(value) if isinstance(value, dict) else {"gain_db": value}
    raw_gain = settings.pop("gain_db", 0.0)
    gain_db = _number(raw_gain)
    if gain_db is None or not MIN_GAIN_DB <= gain_db <= MAX_GAIN_DB:
        raise LayerError(
            f"{where}: layer {name!r}: gain must be a number of dB in "
            f"[{MIN_GAIN_DB:g}, {MAX_GAIN_DB:g}], got {raw_gain!r}"
        )
    known = {p.name: p for p in layer_info(name).params}
    params: list[tuple[str, float]] = []
    for key, raw in settings.items():
        if key not in known:
            valid = ["gain_db", *known]
            raise LayerError(
                f"{where}: layer {name!r} has no parameter {key!r}; {_closest(key, valid)}"
            )
        spec = known[key]
        number = _number(raw)
        if number is None or not spec.minimum <= number <= spec.maximum:
            unit = f" {spec.unit}" if spec.unit else ""
            raise LayerError(
                f"{where}: layer {name!r}: {key} must be in "
                f"[{spec.minimum:g}, {spec.maximum:g}]{unit}, got {raw!r}"
            )
        params.append((key, number))
    return LayerSpec(name=name, gain_db=gain_db, params=tuple(sorted(params)))


_SCENE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def load_scenes(path: str | Path) -> dict[str, Scene]:
    """Read user scenes from a TOML file, in file order.

    ::

        [scenes.brook-night]
        description = "a brook under the stars"
        layers = { "file:brook.flac" = 0, shimmer = -6 }   # gains in dB
        [scenes.windy-shore]
        layers = { tide = 0, wind = { gain_db = -4, intensity = 0.6 } }

    Layer names are registered layers or ``file:PATH`` recordings (relative paths start at the
    TOML file's folder; the returned specs hold absolute paths). Gains are in
    [:data:`MIN_GAIN_DB`, :data:`MAX_GAIN_DB`]; parameters are checked against the layer's
    ranges (:func:`soundscapes.layers.layer_info`).

    Raises
    ------
    SoundscapeError
        The file cannot be read or is not TOML.
    LayerError
        A scene, layer, gain or parameter is invalid; the one-line message names the file, the
        scene and the closest valid names.
    """
    import tomllib

    from soundscapes.files import read_input

    file = Path(path).expanduser()
    try:
        text = read_input(file, what="scene file").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SoundscapeError(f"{file}: not UTF-8 text; save the scene file as UTF-8") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SoundscapeError(
            toml_error(
                exc,
                str(file),
                text,
                fix="write scenes like [scenes.calm] with layers = { rain = 0, wind = -6 }",
            )
        ) from None
    lines = TomlLines(text, str(file))
    extra = [key for key in document if key != "scenes"]
    if extra:
        raise LayerError(
            f"{lines.find(str(extra[0]))}: unknown top-level key {extra[0]!r}; scenes go under "
            "[scenes.NAME]"
        )
    tables = document.get("scenes")
    if not isinstance(tables, dict) or not tables:
        raise LayerError(f"{file}: no scenes; add one as [scenes.NAME] with layers = {{ ... }}")
    folder = file.resolve().parent
    scenes: dict[str, Scene] = {}
    for scene_name, table in tables.items():
        start, end = lines.table("scenes", scene_name)
        where = f"{lines.at(start)}: scene {scene_name!r}"
        if not isinstance(table, dict):
            raise LayerError(f"{where}: must be a table, [scenes.{scene_name}]")
        if not _SCENE_NAME_RE.fullmatch(scene_name):
            # A cue must be able to name it ([scene: a]b] cannot), and "+" and "-" join a
            # scene to the layers a cue adds or removes (hearth+tide).
            raise LayerError(
                f"{where}: a scene name is letters, digits, - and _ (starting with a letter or "
                "digit, no spaces, + or brackets), e.g. [scenes.brook-night]"
            )
        for key in table:
            if key not in _SCENE_KEYS:
                raise LayerError(
                    f"{lines.find(key, start, end)}: scene {scene_name!r}: unknown key {key!r}; "
                    f"{_closest(key, list(_SCENE_KEYS))}"
                )
        description = table.get("description", "")
        if not isinstance(description, str):
            at = lines.find("description", start, end)
            raise LayerError(f"{at}: scene {scene_name!r}: description must be a string")
        layers = table.get("layers")
        if not isinstance(layers, dict) or not layers:
            raise LayerError(f"{where}: needs layers, e.g. layers = {{ tide = 0, wind = -6 }}")
        specs = tuple(
            _user_layer(f"{lines.find(str(n), start, end)}: scene {scene_name!r}", n, v, folder)
            for n, v in layers.items()
        )
        scenes[scene_name] = Scene(name=scene_name, layers=specs, description=description)
    return scenes
