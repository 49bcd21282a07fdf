"""The speech-engine interface shared by every engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np


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

    A new engine is one module with one subclass, registered in
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
