"""The speech-engine interface shared by every engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

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
