"""Engines by name: create, describe and check them.

An engine is a module (built in, or a third-party one registered under the entry-point group
``narrator.engines``) that provides:

``DEFAULT_VOICE: str``
    the voice used when none is asked for;
``DEFAULT_SETTINGS: Mapping[str, float | int | str]``
    settings always present in a spec (the sleep-pace defaults);
``OPTIONAL_SETTINGS: Mapping[str, type]``
    further settings accepted when given, with their type;
``create(spec) -> SpeechEngine``
    a loaded engine;
``resolve_voice(voice: str) -> str``
    the canonical voice id, or :class:`~narrator.errors.VoiceError` with close matches;
``voices() -> list[str]``, ``available() -> bool``, ``version(spec) -> str``
    the voice list, whether the engine can run here, and a version string that changes whenever
    the same text could come out differently (it is part of every cache key).
``OPTIONAL_SETTINGS``, ``INSTALL_HINT``, ``USE_PROCESS_POOL`` (optional)
    extra settings; how to install the engine; ``False`` when ``--jobs`` should not start a
    process pool for it but run that many passages at once from threads (an engine that
    runs its own child processes; its ``synthesize`` must then be thread-safe).
``check(spec) -> None`` (optional)
    a cheap check, in the calling process, of what only loading would find (a voice's
    config, a speaker it does not have), raising :class:`~narrator.errors.VoiceError`;
``SETTING_RANGES: Mapping[str, tuple[float, float, str]]`` (optional)
    the smallest and largest value of a numeric setting and its unit or meaning, checked
    (with finiteness) before any synthesis;
``settings_for_pace(pace_wpm) -> Mapping[str, float | int]`` (optional)
    the speaking-rate settings for a narration paced at ``pace_wpm`` (pauses included): the
    voice speaks a little faster than that and the designed pauses make up the rest.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType

from narrator.errors import SpeechError, brief
from narrator.speech.base import EngineSpec, SpeechEngine

#: Built-in engines, in the order they are offered; the first is the default.
BUILTIN_ENGINES: dict[str, str] = {
    "piper": "narrator.speech.piper",
    "system": "narrator.speech.system",
    "fake": "narrator.speech.fake",
}
DEFAULT_ENGINE = "piper"
ENTRY_POINT_GROUP = "narrator.engines"

_REQUIRED = ("DEFAULT_VOICE", "DEFAULT_SETTINGS", "create", "resolve_voice", "voices",
             "available", "version")  # fmt: skip


@lru_cache(maxsize=1)
def _plugin_engines() -> dict[str, str]:
    """Third-party engines: entry points ``name = "package.module"`` in ``narrator.engines``."""
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in BUILTIN_ENGINES:
            found[ep.name] = ep.value
    return found


def engine_names() -> list[str]:
    """Every engine name this installation knows (built-in first), installed or not."""
    return [*BUILTIN_ENGINES, *sorted(_plugin_engines())]


def engine_module(engine: str) -> ModuleType:
    """The module implementing ``engine``.

    Raises
    ------
    SpeechError
        For an unknown name, listing the close ones.
    """
    path = BUILTIN_ENGINES.get(engine) or _plugin_engines().get(engine)
    if path is None:
        names = engine_names()
        close = difflib.get_close_matches(engine, names, n=3, cutoff=0.4)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise SpeechError(
            f"unknown speech engine {engine!r}; {hint}choose one of: {', '.join(names)}"
        )
    try:
        module = importlib.import_module(path.split(":")[0])
    except ImportError as exc:
        raise SpeechError(f"speech engine {engine!r} ({path}) cannot be imported: {exc}") from None
    missing = [name for name in _REQUIRED if not hasattr(module, name)]
    if missing:
        raise SpeechError(
            f"speech engine {engine!r} ({path}) is incomplete: it lacks {', '.join(missing)}"
        )
    return module


def engine_available(engine: str) -> bool:
    """Whether ``engine`` can run on this machine (its library and data are installed)."""
    return bool(engine_module(engine).available())


def list_voices(engine: str) -> list[str]:
    """The voice ids ``engine`` offers here (empty when it is not installed)."""
    module = engine_module(engine)
    return list(module.voices()) if module.available() else []


def list_speakers(engine: str, voice: str) -> list[tuple[int, str]]:
    """``(speaker_id, name)`` of every speaker ``voice`` has; one for an engine without
    multi-speaker voices.

    Raises
    ------
    VoiceError
        Unknown voice.
    """
    module = engine_module(engine)
    resolved = module.resolve_voice(voice)
    speakers = getattr(module, "speakers", None)
    return list(speakers(resolved)) if speakers is not None else [(0, resolved)]


def default_spec(
    engine: str,
    voice: str | None = None,
    *,
    pace_wpm: float | None = None,
    **settings: float | int | str,
) -> EngineSpec:
    """A complete spec: the engine's default voice and sleep-pace settings, overridden by ours.

    The voice is checked and made canonical (so ``en-us`` and ``gmw/en-us`` share a cache
    entry); settings are checked by name and type. With ``pace_wpm``, the engine's speaking
    rate follows the pace (``settings_for_pace``), unless ``settings`` set it explicitly.

    Raises
    ------
    SpeechError
        Unknown engine, unknown setting, or a setting of the wrong type.
    VoiceError
        Unknown voice, with close matches.
    """
    module = engine_module(engine)
    paced = getattr(module, "settings_for_pace", None)
    if pace_wpm is not None and paced is not None:
        settings = {**paced(float(pace_wpm)), **settings}
    merged = _check_settings(engine, module, settings)
    resolved = module.resolve_voice(voice if voice else module.DEFAULT_VOICE)
    canonical = getattr(module, "canonical_settings", None)
    if canonical is not None:  # e.g. a speaker's name becomes its id
        merged = canonical(resolved, merged)
    return EngineSpec(engine=engine, voice=resolved, settings=tuple(sorted(merged.items())))


def check_spec(spec: EngineSpec) -> None:
    """Fail early, in the calling process, on a spec that cannot synthesize.

    Raises
    ------
    SpeechError
        Unknown engine or setting, or the engine is not installed.
    VoiceError
        Unknown voice.
    """
    module = engine_module(spec.engine)
    if not module.available():
        raise SpeechError(
            f"speech engine {spec.engine!r} is not installed here; "
            f"{getattr(module, 'INSTALL_HINT', 'install it or choose another --engine')}"
        )
    _check_settings(spec.engine, module, dict(spec.settings))
    module.resolve_voice(spec.voice or module.DEFAULT_VOICE)
    check = getattr(module, "check", None)
    if check is not None:
        check(spec)


def create_engine(spec: EngineSpec) -> SpeechEngine:
    """Load the engine ``spec`` names (an expensive call: models load here)."""
    check_spec(spec)
    return engine_module(spec.engine).create(spec)


def engine_version(spec: EngineSpec) -> str:
    """The version string of the engine and voice ``spec`` uses; part of every cache key."""
    return str(engine_module(spec.engine).version(spec))


def _check_settings(
    engine: str, module: ModuleType, settings: Mapping[str, float | int | str]
) -> dict[str, float | int | str]:
    defaults: Mapping[str, float | int | str] = module.DEFAULT_SETTINGS
    optional: Mapping[str, type] = getattr(module, "OPTIONAL_SETTINGS", {})
    known = {name: type(value) for name, value in defaults.items()} | dict(optional)
    merged: dict[str, float | int | str] = dict(defaults)
    for name, value in settings.items():
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise SpeechError(
                f"unknown setting {name!r} for the {engine} engine; {hint}"
                f"known settings: {', '.join(sorted(known)) or 'none'}"
            )
        merged[name] = _coerce(engine, name, value, known[name])
    ranges: Mapping[str, tuple[float, float, str]] = getattr(module, "SETTING_RANGES", {})
    for name, value in merged.items():
        if isinstance(value, str):
            continue
        low, high, unit = ranges.get(name, (-math.inf, math.inf, ""))
        if not (math.isfinite(value) and low <= value <= high):
            span = f"from {low:g} to {high:g}{f' {unit}' if unit else ''}"
            raise SpeechError(
                f"setting {name}={brief(value)} of the {engine} engine is out of range; "
                f"use a number {span}"
            )
    return merged


def _coerce(engine: str, name: str, value: object, kind: type) -> float | int | str:
    try:
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)  # type: ignore[call-overload]
        if kind is float:
            return float(value)  # type: ignore[arg-type]
        return str(value)
    except (TypeError, ValueError):
        raise SpeechError(
            f"setting {name!r} of the {engine} engine must be a {kind.__name__}, got {brief(value)}"
        ) from None
