"""The speech-engine interface shared by every engine."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from types import ModuleType
from typing import ClassVar, Protocol

import numpy as np

from narrator.errors import SpeechError


@dataclass(frozen=True, kw_only=True)
class EngineSpec:
    """Everything that decides what an engine says and how: part of every cache key.

    ``settings`` holds engine-specific knobs as sorted ``(name, value)`` pairs so the spec stays
    hashable and JSON-able (piper: ``length_scale``, ``noise_scale``, ``noise_w_scale``,
    ``speaker_id``; system: ``rate_wpm``).
    """

    engine: str
    voice: str = ""
    settings: tuple[tuple[str, float | int | str], ...] = field(default_factory=tuple)

    def setting(self, name: str, default: float | int | str | None = None):
        return dict(self.settings).get(name, default)


class SpeechEngine(Protocol):
    """A loaded engine: turns sentences into mono float32 audio at ``sample_rate_hz``."""

    spec: EngineSpec
    sample_rate_hz: int

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """One mono float32 clip per sentence, in order, at ``sample_rate_hz``.

        Clips may carry the engine's own edge silence; the caller trims it.

        Raises
        ------
        SpeechError
            The engine failed on this text after its retries.
        """
        ...

    def close(self) -> None:
        """Release the engine's resources (processes, sessions)."""
        ...


class Engine:
    """A speech engine as the program knows it before loading it: its voices and settings,
    and the hooks that turn a request into an :class:`EngineSpec` and a spec into a loaded
    :class:`SpeechEngine`.

    A new engine is one module with one subclass (or, for an engine written as module
    functions, :func:`module_engine` at its end), registered in
    :data:`narrator.speech.registry.BUILTIN_ENGINES` or, from another package, as an entry
    point ``name = "package.module:Class"`` in the group ``narrator.engines``. Subclasses set
    the class attributes and implement the five methods marked required; every other method
    is an optional hook with a default that suits a plain engine.
    """

    #: The engine's name (``--engine``).
    name: ClassVar[str]
    #: The voice used when none is asked for.
    default_voice: ClassVar[str]
    #: Settings always present in a spec (the sleep-pace defaults).
    default_settings: ClassVar[Mapping[str, float | int | str]] = {}
    #: Further settings accepted when given, with their type.
    optional_settings: ClassVar[Mapping[str, type]] = {}
    #: ``(lowest, highest, unit)`` of each numeric setting, checked before any synthesis.
    setting_ranges: ClassVar[Mapping[str, tuple[float, float, str]]] = {}
    #: How to install the engine, for the error when it is missing.
    install_hint: ClassVar[str] = "install it or choose another --engine"
    #: ``False`` for an engine that runs child processes of its own: ``--jobs`` then runs
    #: that many passages at once from threads (``synthesize`` must be thread-safe).
    use_process_pool: ClassVar[bool] = True

    # --- required -----------------------------------------------------------------------

    def available(self) -> bool:
        """Whether the engine can run on this machine (its library and data are installed)."""
        raise NotImplementedError

    def voices(self) -> list[str]:
        """The voice ids it offers here."""
        raise NotImplementedError

    def resolve_voice(self, voice: str) -> str:
        """The canonical id of ``voice``, or :class:`~narrator.errors.VoiceError` with close
        matches."""
        raise NotImplementedError

    def version(self, spec: EngineSpec) -> str:
        """A string that changes whenever the same text could come out differently (part of
        every cache key)."""
        raise NotImplementedError

    def create(self, spec: EngineSpec) -> SpeechEngine:
        """A loaded engine (an expensive call: models load here)."""
        raise NotImplementedError

    # --- optional hooks -----------------------------------------------------------------

    def check(self, spec: EngineSpec) -> None:
        """A cheap check, in the calling process, of what only loading would find (a voice's
        config, a speaker it does not have); raises :class:`~narrator.errors.VoiceError`."""

    def settings_for_pace(self, pace_wpm: float) -> Mapping[str, float | int]:
        """The speaking-rate settings for a narration paced at ``pace_wpm`` (pauses
        included): the voice speaks a little faster and the pauses make up the rest. An
        engine without a rate setting leaves the pace to the pauses."""
        return {}

    def canonical_settings(
        self, voice: str, settings: dict[str, float | int | str]
    ) -> dict[str, float | int | str]:
        """Settings in the one form the cache keys on (a speaker's name becomes its id)."""
        return settings

    def speakers(self, voice: str) -> list[tuple[int, str]]:
        """``(speaker_id, name)`` of every speaker of ``voice``; one for most voices."""
        return [(0, voice)]

    def warnings(self, spec: EngineSpec) -> list[str]:
        """What a render with ``spec`` should be warned of, once, in its report and on the
        terminal (a voice made for another language)."""
        return []

    def describe(self) -> list[str]:
        """Lines ``narrator voices`` shows under the engine's name, before its voices (where
        its model and voices were found)."""
        return []


#: The class attributes :func:`module_engine` fills, by the module constant it reads.
_MODULE_CONSTANTS = {
    "default_voice": "DEFAULT_VOICE",
    "default_settings": "DEFAULT_SETTINGS",
    "optional_settings": "OPTIONAL_SETTINGS",
    "setting_ranges": "SETTING_RANGES",
    "install_hint": "INSTALL_HINT",
    "use_process_pool": "USE_PROCESS_POOL",
}
_REQUIRED_HOOKS = ("available", "voices", "resolve_voice", "version", "create")
_OPTIONAL_HOOKS = (
    "check",
    "settings_for_pace",
    "canonical_settings",
    "speakers",
    "warnings",
    "describe",
)


def module_engine(module: str, *, name: str, doc: str) -> type[Engine]:
    """The :class:`Engine` of an engine written as a module, made from the module's own names.

    Its constants (``DEFAULT_VOICE``, ``DEFAULT_SETTINGS``, ``OPTIONAL_SETTINGS``,
    ``SETTING_RANGES``, ``INSTALL_HINT``, ``USE_PROCESS_POOL``) become the class attributes,
    and its functions named like the hooks (``create`` may be the loaded engine's class)
    become the hooks; a hook or constant the module leaves out keeps the base's default.
    Called at the end of the module, as ``Piper = module_engine(__name__, name="piper", ...)``:
    the class is named ``name.capitalize()`` and pickles by that name.

    Raises
    ------
    TypeError
        The module lacks a required hook (a programming error, found at import).
    """
    namespace = vars(sys.modules[module])
    class_name = name.capitalize()
    attrs: dict[str, object] = {
        "__module__": module,
        "__qualname__": class_name,
        "__doc__": doc,
        "name": name,
    }
    for attr, constant in _MODULE_CONSTANTS.items():
        if constant in namespace:
            attrs[attr] = namespace[constant]
    missing = [hook for hook in _REQUIRED_HOOKS if not callable(namespace.get(hook))]
    if missing:
        raise TypeError(f"engine module {module} lacks {', '.join(missing)}")
    for hook in (*_REQUIRED_HOOKS, *_OPTIONAL_HOOKS):
        if callable(namespace.get(hook)):
            attrs[hook] = staticmethod(namespace[hook])
    return type(class_name, (Engine,), attrs)


def import_library(module: str, *, engine: str, install_hint: str) -> ModuleType:
    """``module``, imported when an engine loads; missing, a :class:`SpeechError` that says
    how to install ``engine``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SpeechError(f"the {engine} engine is not installed ({exc}); {install_hint}") from None


def dist_version(distribution: str) -> str:
    """The installed version of ``distribution`` (for cache keys), ``unknown`` when absent."""
    try:
        return package_version(distribution)
    except PackageNotFoundError:
        return "unknown"
