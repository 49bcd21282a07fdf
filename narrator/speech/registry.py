"""Engines by name: find, describe, check and create them.

An engine is a subclass of :class:`~narrator.speech.base.Engine` (its voices, settings and
hooks). The built-in ones are listed in :data:`BUILTIN_ENGINES`; another package adds one with
an entry point ``name = "package.module:Class"`` in the group ``narrator.engines``. Everything
else here works through the base class's methods, so a new engine is one module and one line.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib.metadata import entry_points

from narrator.errors import SpeechError, brief
from narrator.speech.base import Engine, EngineSpec, SpeechEngine

#: Built-in engines, in the order they are offered; the first is the default.
BUILTIN_ENGINES: dict[str, str] = {
    "piper": "narrator.speech.piper:Piper",
    "kokoro": "narrator.speech.kokoro:Kokoro",
    "system": "narrator.speech.system:System",
    "fake": "narrator.speech.fake:Fake",
}
DEFAULT_ENGINE = "piper"
ENTRY_POINT_GROUP = "narrator.engines"


@lru_cache(maxsize=1)
def _plugin_engines() -> dict[str, str]:
    """Third-party engines: entry points ``name = "package.module"`` in ``narrator.engines``."""
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in BUILTIN_ENGINES:
            found[ep.name] = ep.value
    return found


#: Engines registered at run time (:func:`register_engine`), by name.
_REGISTERED: dict[str, type[Engine]] = {}


def register_engine(engine_class: type[Engine]) -> type[Engine]:
    """Make ``engine_class`` available by its :attr:`~Engine.name` in this process (an
    application embedding narrator, a test); a package registers through an entry point
    instead, so that every process finds it. Usable as a class decorator."""
    _REGISTERED[engine_class.name] = engine_class
    return engine_class


def engine_names() -> list[str]:
    """Every engine name this installation knows (built-in first), installed or not."""
    return [*BUILTIN_ENGINES, *sorted({*_plugin_engines(), *_REGISTERED})]


def engine(name: str) -> Engine:
    """The engine called ``name``.

    Raises
    ------
    SpeechError
        For an unknown name (listing the close ones), or an engine that cannot be imported.
    """
    return _load(name)


@cache
def _load(name: str) -> Engine:
    if name in _REGISTERED:
        return _REGISTERED[name]()
    path = BUILTIN_ENGINES.get(name) or _plugin_engines().get(name)
    if path is None:
        names = engine_names()
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise SpeechError(
            f"unknown speech engine {name!r}; {hint}choose one of: {', '.join(names)}"
        )
    module_name, _, attribute = path.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute or "ENGINE")
    except (ImportError, AttributeError) as exc:
        raise SpeechError(f"speech engine {name!r} ({path}) cannot be imported: {exc}") from None
    if not (isinstance(found, type) and issubclass(found, Engine)):
        raise SpeechError(
            f"speech engine {name!r} ({path}) is not a narrator.speech.base.Engine subclass"
        )
    return found()


def engine_available(name: str) -> bool:
    """Whether ``name`` can run on this machine (its library and data are installed)."""
    return bool(engine(name).available())


def list_voices(name: str) -> list[str]:
    """The voice ids engine ``name`` offers here (empty when it is not installed)."""
    found = engine(name)
    return list(found.voices()) if found.available() else []


def list_speakers(name: str, voice: str) -> list[tuple[int, str]]:
    """``(speaker_id, name)`` of every speaker ``voice`` has; one for an engine without
    multi-speaker voices.

    Raises
    ------
    VoiceError
        Unknown voice.
    """
    # Checked as a render checks it (Kokoro's names against its voices file), then listed.
    return list(engine(name).speakers(default_spec(name, voice).voice))


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
    found = _load(engine)
    if pace_wpm is not None:
        settings = {**found.settings_for_pace(float(pace_wpm)), **settings}
    merged = _check_settings(found, settings)
    resolved = found.resolve_voice(voice if voice else found.default_voice)
    merged = found.canonical_settings(resolved, merged)  # e.g. a speaker's name becomes its id
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
    found = engine(spec.engine)
    if not found.available():
        raise SpeechError(
            f"speech engine {spec.engine!r} is not installed here; {found.install_hint}"
        )
    _check_settings(found, dict(spec.settings))
    found.resolve_voice(spec.voice or found.default_voice)
    found.check(spec)


def create_engine(spec: EngineSpec) -> SpeechEngine:
    """Load the engine ``spec`` names (an expensive call: models load here)."""
    check_spec(spec)
    return engine(spec.engine).create(spec)


def engine_warnings(spec: EngineSpec) -> list[str]:
    """What a render with ``spec`` should be warned of (:meth:`Engine.warnings`)."""
    return [str(line) for line in engine(spec.engine).warnings(spec)]


def describe_engine(name: str) -> list[str]:
    """What ``narrator voices`` says of an installed engine besides its voices."""
    return [str(line) for line in engine(name).describe()]


def engine_version(spec: EngineSpec) -> str:
    """The version string of the engine and voice ``spec`` uses; part of every cache key."""
    return str(engine(spec.engine).version(spec))


def _check_settings(
    found: Engine, settings: Mapping[str, float | int | str]
) -> dict[str, float | int | str]:
    engine = found.name
    known = {name: type(value) for name, value in found.default_settings.items()}
    known |= dict(found.optional_settings)
    merged: dict[str, float | int | str] = dict(found.default_settings)
    for name, value in settings.items():
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise SpeechError(
                f"unknown setting {name!r} for the {engine} engine; {hint}"
                f"known settings: {', '.join(sorted(known)) or 'none'}"
            )
        merged[name] = _coerce(engine, name, value, known[name])
    for name, value in merged.items():
        if isinstance(value, str):
            continue
        low, high, unit = found.setting_ranges.get(name, (-math.inf, math.inf, ""))
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
