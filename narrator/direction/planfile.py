"""Editable scene plans: a TOML file with the scene under every passage.

``narrator plan STORY -o story.plan.toml`` writes one (:func:`write_plan`); the producer edits
scenes, layers and gains; ``narrator render STORY --plan story.plan.toml`` renders exactly what
it says (:func:`read_plan`). A fingerprint of the story's passages (a short hash of each
passage's text) ties the file to its story, so a plan never plays under passages it was not
written for.

A passage entry::

    [[passage]]
    index = 4
    words = "In the center of the arena a grand piano…"
    scene = "music"
    layers = { melody = 0.0, drone = -6.0 }

``layers`` maps layer names to gains in dB within the scene (-40 to +12); a layer may take
parameters too: ``tide = { gain_db = 0.0, intensity = 0.6 }``. ``scene`` alone, without
``layers``, plays the built-in scene of that name.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import textwrap
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from narrator.direction.plan import Plan
from narrator.errors import NarratorError, name_hint
from narrator.text.script import Passage, Script
from soundscapes.files import InputError, read_input
from soundscapes.layers import layer_info, layer_names
from soundscapes.recording import is_recording_name, recording_path
from soundscapes.scene import LayerSpec, Scene, available_scenes, choosable
from soundscapes.tomlfile import TomlLines, toml_error

#: Version of the file layout; bumped when an old reader would misread a new file.
PLAN_VERSION = 1
#: Gains a plan may set, in dB: below -40 a layer is inaudible under the voice (leave it out
#: instead), above +12 it would swamp the scene's other layers.
MIN_GAIN_DB = -40.0
MAX_GAIN_DB = 12.0
#: Words of each passage shown in the file, so the producer sees which passage is which.
FIRST_WORDS = 8

_PASSAGE_KEYS = ("index", "words", "scene", "description", "layers")
_HEADER_KEYS = ("version", "story", "title", "passages", "fingerprint")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class PlanError(NarratorError, ValueError):
    """A scene plan file cannot be read, or says something that cannot be played."""


class StalePlanError(PlanError):
    """A scene plan was written for other passages than the story has now."""


def passage_fingerprint(text: str) -> str:
    """Short hash (8 hex digits) of a passage's text: enough to notice any edit."""
    return hashlib.blake2s(text.encode("utf-8"), digest_size=4).hexdigest()


def story_fingerprint(script: Script) -> tuple[str, ...]:
    """One :func:`passage_fingerprint` per passage, in order."""
    return tuple(passage_fingerprint(p.text) for p in script.passages)


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def known_scenes() -> dict[str, Scene]:
    """Scenes a plan may name without layers: the built-ins and the soft bed."""
    return choosable(available_scenes())


def plays_cue(passage: Passage, scene: Scene) -> bool:
    """Whether ``scene`` plays the passage's scene cue (or it has none): the cue's scene, or
    that scene with layers added or taken away ("hearth+tide")."""
    return not passage.scene or bool(re.match(rf"{re.escape(passage.scene)}(?:$|[+-])", scene.name))


def overridden(
    script: Script, plan: Plan, path: Path, *, scene: str | None, scene_named: str = "--scene"
) -> list[str]:
    """What the plan at ``path`` keeps from being heard: a ``scene`` given beside it, and scene
    cues of the story it does not play (written after it: its fingerprint is the words alone).
    Said, not lost in silence."""
    said = []
    if scene:
        said.append(
            f"{scene_named} {scene} is not played: the plan {path} sets the scene of every "
            "passage; edit the plan, or render without it"
        )
    unplayed = [p for p in script.passages if not plays_cue(p, plan.scenes[p.index])]
    if unplayed:
        first = unplayed[0]
        more = f" (and {len(unplayed) - 1} more)" if len(unplayed) > 1 else ""
        said.append(
            f"{script.source}:{first.line}: the [scene: {first.scene}] cue is not played{more}: "
            f"the plan {path} has passage {first.index} in {plan.scenes[first.index].name}; "
            f"edit the plan, or let it take the cue: narrator plan {script.source} -o {path} "
            "--update"
        )
    return said


# --------------------------------------------------------------------------- writing


def write_plan(script: Script, plan: Plan, folder: Path | None = None) -> str:
    """The plan as editable TOML text (see the module docstring for the layout), for a file in
    ``folder``: recordings (``file:``) are written relative to it, so the plan moves with them.

    Reading it back with :func:`read_plan` gives the same scenes.
    """
    if len(plan.scenes) != len(script.passages):
        raise PlanError(
            f"the plan has {len(plan.scenes)} scenes for {len(script.passages)} passages; "
            "make it with plan_story(script)"
        )
    builtins = known_scenes()
    about = [
        f"Scene plan for {_string(script.title)} ({script.source}), written by narrator. Edit the"
        " scene and layers of any passage, then render with: narrator render STORY --plan FILE",
        f"layers = {{ name = gain in dB ({MIN_GAIN_DB:g} to +{MAX_GAIN_DB:g}), … }}; a layer"
        " with parameters: tide = { gain_db = 0.0, intensity = 0.6 }. A scene named alone"
        ' (scene = "coast", no layers) plays as built in, or as your scene file has it.',
        "Layers: " + ", ".join(layer_names()) + ".",
        "Built-in scenes: "
        + ", ".join(f"{s.name} ({', '.join(s.layer_names)})" for s in builtins.values())
        + ".",
        "The fingerprint ties this plan to the story's passages: when they change, the plan"
        " stops working until narrator plan STORY -o FILE --update carries it over (your edits"
        " stay).",
    ]
    lines = [
        *(f"# {line}" for para in about for line in textwrap.wrap(para, 96)),
        "",
        "[plan]",
        f"version = {PLAN_VERSION}",
        f"story = {_string(script.source)}",
        f"title = {_string(script.title)}",
        f"passages = {len(script.passages)}",
        "fingerprint = [",
        *(f'  "{h}",  # {i}' for i, h in enumerate(story_fingerprint(script))),
        "]",
    ]
    for passage, scene in zip(script.passages, plan.scenes, strict=True):
        i = passage.index
        lines += [
            "",
            "[[passage]]",
            f"index = {i}",
            f"words = {_string(first_words(passage.text))}",
            f"scene = {_string(scene.name)}",
        ]
        builtin = builtins.get(scene.name)
        if scene.description and (builtin is None or builtin.description != scene.description):
            lines.append(f"description = {_string(scene.description)}")
        lines.append(f"layers = {_layers_toml(scene.layers, folder)}")
        note = _note(plan, i)
        if note:
            lines.append(f"# {note}")
    return "\n".join(lines) + "\n"


def _note(plan: Plan, i: int) -> str:
    """Why the passage has its scene: the source and the sound words heard in it."""
    source = plan.source_for(i)
    heard = plan.heard[i] if i < len(plan.heard) else ()
    if source and heard:
        return f"{source}; heard: {', '.join(heard)}"
    return source or (f"heard: {', '.join(heard)}" if heard else "")


def _layers_toml(layers: tuple[LayerSpec, ...], folder: Path | None = None) -> str:
    parts = []
    for layer in layers:
        name = layer.name
        if is_recording_name(name) and folder is not None:
            name = f"file:{os.path.relpath(recording_path(name), folder.absolute())}"
        key = name if _BARE_KEY.match(name) else _string(name)
        if layer.params:
            inner = ", ".join(
                [f"gain_db = {_number(layer.gain_db)}"]
                + [f"{k} = {_number(v)}" for k, v in layer.params]
            )
            parts.append(f"{key} = {{ {inner} }}")
        else:
            parts.append(f"{key} = {_number(layer.gain_db)}")
    return "{ " + ", ".join(parts) + " }"


def _number(value: float) -> str:
    return repr(float(value))


def _string(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX for control characters).
    return json.dumps(text, ensure_ascii=False)


# --------------------------------------------------------------------------- reading


def load_plan(path: Path | str, script: Script, scenes: Mapping[str, Scene] | None = None) -> Plan:
    """Read the plan file at ``path`` for ``script`` (see :func:`read_plan`); ``scenes``: the
    user's own, which it may name as built-in ones (and which win over them, as in cues)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise PlanError(f"{path}: no such plan file; write one with narrator plan STORY -o {path}")
    # utf-8-sig: a byte-order mark some editors save is no TOML (as for every TOML input).
    try:
        text = read_input(path, what="plan").decode("utf-8-sig")
    except InputError as exc:
        raise PlanError(str(exc)) from None
    except UnicodeDecodeError:
        raise PlanError(f"{path}: cannot be read (not UTF-8 text); check the file") from None
    return read_plan(text, script, source=str(path), scenes=scenes, folder=path.parent)


def read_plan(
    text: str,
    script: Script,
    *,
    source: str = "<plan>",
    scenes: Mapping[str, Scene] | None = None,
    folder: Path | None = None,
) -> Plan:
    """The plan in ``text`` (TOML written by :func:`write_plan`, maybe edited) for ``script``.

    The result plays exactly what the file says: every passage's scene and layers, with no
    inference and no cues applied on top.

    Raises
    ------
    StalePlanError
        The story's passages changed since the plan was written (the message names the first
        change).
    PlanError
        The file is not valid TOML, or names an unknown scene, layer or parameter, or a gain
        out of range (with ``file:line`` and the closest valid names).
    """
    header, entries, lines = _parsed(text, source)
    _check_fingerprint(header["fingerprint"], entries, script, lines)
    chosen = _chosen(entries, len(script.passages), lines, scenes, folder)
    missing = [i for i in range(len(script.passages)) if i not in chosen]
    if missing:
        raise PlanError(
            f"{source}: passage {missing[0]} has no [[passage]] entry "
            f"('{first_words(script.passages[missing[0]].text, 6)}'); every passage needs one"
        )
    n = len(script.passages)
    return Plan(scenes=tuple(chosen[i] for i in range(n)), sources=("plan",) * n)


def plan_entries(
    text: str,
    *,
    source: str = "<plan>",
    scenes: Mapping[str, Scene] | None = None,
    folder: Path | None = None,
) -> tuple[tuple[str, ...], dict[int, Scene], dict[int, str]]:
    """What the plan in ``text`` says, whatever story it was written for: its fingerprint, the
    scene of each passage index it has an entry for, and each entry's first words.

    Raises
    ------
    PlanError
        As :func:`read_plan` does, but for staleness.
    """
    header, entries, lines = _parsed(text, source)
    fingerprint = header["fingerprint"]
    chosen = _chosen(entries, len(fingerprint), lines, scenes, folder)
    words = {e["index"]: str(e.get("words", "")) for e in entries}
    return tuple(fingerprint), chosen, words


def _parsed(text: str, source: str) -> tuple[dict[str, Any], list[dict[str, Any]], _Lines]:
    """The ``[plan]`` header, the ``[[passage]]`` tables and the lines of a plan's TOML, its
    header checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(toml_error(exc, source, text)) from None
    lines = _Lines(text, source)
    header = data.get("plan")
    if not isinstance(header, dict) or "fingerprint" not in header:
        raise PlanError(
            f"{source}: no [plan] table with a fingerprint; write the plan with narrator plan"
        )
    for key in [*header, *(k for k in data if k not in ("plan", "passage"))]:
        if key not in _HEADER_KEYS:  # a typo here would otherwise be ignored in silence
            close = difflib.get_close_matches(str(key), _HEADER_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"keys: {', '.join(_HEADER_KEYS)}"
            table = " in [plan]" if key in header else ""
            raise PlanError(f"{lines.find(str(key))}: unknown key {key!r}{table}; {hint}")
    version = header.get("version")
    if version != PLAN_VERSION:
        raise PlanError(
            f"{lines.find('version')}: plan version {version!r} is not {PLAN_VERSION}; "
            "write the plan again with this narrator"
        )
    count, fingerprint = header.get("passages"), header["fingerprint"]
    if not isinstance(fingerprint, list) or not all(isinstance(h, str) for h in fingerprint):
        raise PlanError(
            f"{lines.find('fingerprint')}: fingerprint must be a list of passage hashes; "
            "write the plan again with narrator plan"
        )
    if count is not None and count != len(fingerprint):
        raise PlanError(
            f"{lines.find('passages')}: passages = {count!r}, but the fingerprint lists "
            f"{len(fingerprint)}; narrator plan writes the count: set it back to "
            f"{len(fingerprint)}"
        )
    entries = data.get("passage", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PlanError(f"{lines.find('passage')}: passages must be [[passage]] tables")
    return header, entries, lines


def _chosen(
    entries: list[dict[str, Any]],
    passages: int,
    lines: _Lines,
    scenes: Mapping[str, Scene] | None,
    folder: Path | None,
) -> dict[int, Scene]:
    """The scene of each entry's passage (of ``passages``), by index; each index once."""
    named = {**known_scenes(), **(scenes or {})}
    chosen: dict[int, Scene] = {}
    for order, entry in enumerate(entries):
        index, scene = _entry_scene(entry, order, passages, lines, named, folder)
        if index in chosen:
            raise PlanError(
                f"{lines.in_entry(order, 'index')}: passage {index} appears twice; "
                "keep one entry per passage"
            )
        chosen[index] = scene
    return chosen


def _check_fingerprint(
    fingerprint: list[str], entries: list[dict[str, Any]], script: Script, lines: _Lines
) -> None:
    now = list(story_fingerprint(script))
    if fingerprint == now:
        return
    old_words = {
        e.get("index"): str(e.get("words", "")) for e in entries if isinstance(e.get("words"), str)
    }
    source = lines.source
    story = script.source or "STORY"
    again = f"bring it up to date, its edits kept, with narrator plan {story} -o {source} --update"
    if not set(fingerprint) & set(now):
        raise StalePlanError(
            f"{source}: written for other passages (none of its {len(fingerprint)} matches the "
            f"story's {len(now)}); is it the plan of another story? Write the story's own "
            "with narrator plan"
        )
    matcher = difflib.SequenceMatcher(None, fingerprint, now, autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    tag, i1, i2, j1, j2 = changes[0]
    more = len(changes) - 1
    also = f" (and {more} more change{'s' if more > 1 else ''})" if more else ""

    def span(a: int, b: int) -> str:
        return f"passage {a}" if b - a == 1 else f"passages {a}–{b - 1}"

    if tag == "replace":
        what = f"{span(j1, j2)} changed since the plan was written"
        words = script.passages[j1].text
    elif tag == "insert":
        verb = "is" if j2 - j1 == 1 else "are"
        what = f"{span(j1, j2)} {verb} new since the plan was written"
        words = script.passages[j1].text
    else:
        verb = "is" if i2 - i1 == 1 else "are"
        what = f"{span(i1, i2)} of the plan {verb} no longer in the story"
        words = old_words.get(i1, "")
    quoted = f" ('{first_words(words, 6)}')" if words else ""
    raise StalePlanError(f"{source}: {what}{quoted}{also}; {again}")


def _entry_scene(
    entry: dict[str, Any],
    order: int,
    passages: int,
    lines: _Lines,
    named: Mapping[str, Scene],
    folder: Path | None,
) -> tuple[int, Scene]:
    where = lines.in_entry(order, "index")
    for key in entry:
        if key not in _PASSAGE_KEYS:
            close = difflib.get_close_matches(key, _PASSAGE_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"keys: {', '.join(_PASSAGE_KEYS)}"
            raise PlanError(f"{lines.in_entry(order, key)}: unknown key {key!r}; {hint}")
    index = entry.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise PlanError(f"{where}: each [[passage]] needs index = N (a whole number)")
    if not 0 <= index < passages:
        raise PlanError(
            f"{where}: passage {index} does not exist; the story has passages 0 to {passages - 1}"
        )
    name = entry.get("scene")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise PlanError(
            f'{lines.in_entry(order, "scene")}: scene must be a name, e.g. "coast" (or remove '
            "the line: the layers name the scene)"
        )
    description = entry.get("description")
    if description is not None and not isinstance(description, str):
        raise PlanError(f"{lines.in_entry(order, 'description')}: description must be text")
    if "layers" not in entry:
        if not name:
            raise PlanError(f"{where}: passage {index} needs a scene or layers (or both)")
        if name not in named:
            raise PlanError(
                f"{lines.in_entry(order, 'scene')}: passage {index}: unknown scene {name!r}; "
                f"{name_hint(name, named)} (or give its layers)"
            )
        return index, named[name]
    layers = _layers(entry["layers"], order, index, lines, folder)
    if not name:
        name = "+".join(layer.name for layer in layers)
    if description is None:
        description = named[name].description if name in named else ""
    return index, Scene(name=name, layers=layers, description=description)


def _layers(
    value: Any, order: int, index: int, lines: _Lines, folder: Path | None
) -> tuple[LayerSpec, ...]:
    where = lines.in_entry(order, "layers")
    if not isinstance(value, dict):
        raise PlanError(
            f"{where}: passage {index}: layers must be a table, e.g. "
            "layers = { tide = 0.0, gulls = -5.0 }"
        )
    if not value:
        raise PlanError(
            f"{where}: passage {index} has no layers; give at least one (the soundscape "
            "never drops to silence)"
        )
    known = layer_names()
    out: list[LayerSpec] = []
    for name, setting in value.items():
        at = lines.in_entry(order, name)
        if is_recording_name(name):  # a recording: relative to the plan, as a scene file's
            path = recording_path(name)
            path = path if path.is_absolute() or folder is None else folder / path
            if not path.is_file():
                raise PlanError(
                    f"{at}: passage {index}: recording not found: {path}; paths are relative "
                    "to the plan file"
                )
            name = f"file:{path.resolve()}"
        elif name not in known:
            raise PlanError(
                f"{at}: passage {index}: unknown layer {name!r}; {name_hint(name, known)}"
            )
        params: dict[str, Any] = {}
        if isinstance(setting, dict):
            params = dict(setting)
            gain = params.pop("gain_db", 0.0)
        else:
            gain = setting
        if isinstance(gain, bool) or not isinstance(gain, int | float):
            raise PlanError(f"{at}: passage {index}: the gain of {name!r} must be a number in dB")
        if not MIN_GAIN_DB <= gain <= MAX_GAIN_DB:
            raise PlanError(
                f"{at}: passage {index}: gain {gain:g} dB for {name!r} is out of range; use "
                f"{MIN_GAIN_DB:g} to +{MAX_GAIN_DB:g} dB (or remove the layer)"
            )
        out.append(
            LayerSpec(name=name, gain_db=float(gain), params=_params(name, params, at, index))
        )
    return tuple(out)


def _params(
    layer: str, params: dict[str, Any], at: str, index: int
) -> tuple[tuple[str, float], ...]:
    info = {p.name: p for p in layer_info(layer).params}
    out = []
    for key, value in params.items():
        spec = info.get(key)
        if spec is None:
            valid = ["gain_db", *info]
            raise PlanError(
                f"{at}: passage {index}: layer {layer!r} has no parameter {key!r}; "
                f"{name_hint(key, valid)}"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not spec.minimum <= value <= spec.maximum
        ):
            unit = f" {spec.unit}" if spec.unit else ""
            raise PlanError(
                f"{at}: passage {index}: {layer} {key} must be a number from {spec.minimum:g} "
                f"to {spec.maximum:g}{unit}, got {value!r}"
            )
        out.append((key, float(value)))
    return tuple(out)


class _Lines(TomlLines):
    """:class:`TomlLines` that also knows the plan's ``[[passage]]`` tables."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source)
        self.entries = [
            n for n, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*passage\s*\]\]", line)
        ]

    def in_entry(self, order: int, key: str) -> str:
        """``source:line`` of ``key`` inside the ``order``-th ``[[passage]]`` table."""
        if order >= len(self.entries):
            return self.source
        start = self.entries[order]
        end = self.entries[order + 1] if order + 1 < len(self.entries) else None
        return self.find(key, start, end)


__all__ = [
    "PlanError",
    "StalePlanError",
    "load_plan",
    "passage_fingerprint",
    "read_plan",
    "story_fingerprint",
    "write_plan",
]
