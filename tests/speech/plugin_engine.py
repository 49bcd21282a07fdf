"""A third-party engine for the registry tests: the fake engine's tones, an octave down.

Registered in the tests through the ``narrator.engines`` entry-point group, as a package of
its own would register it in its metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrator.speech import fake
from narrator.speech.base import Engine, EngineSpec

DEFAULT_VOICE = "deep"
DEFAULT_SETTINGS: dict[str, float | int | str] = {"seconds_per_word": 0.4}


class DeepEngine:
    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        inner = EngineSpec(engine="fake", voice="low", settings=spec.settings)
        self._fake = fake.FakeEngine(inner)
        self.sample_rate_hz = self._fake.sample_rate_hz

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        return self._fake.synthesize(sentences)

    def close(self) -> None:
        pass


class Deep(Engine):
    """The plugin's engine, as a third-party package declares it."""

    name = "deep"
    default_voice = DEFAULT_VOICE
    default_settings = DEFAULT_SETTINGS

    def available(self) -> bool:
        return True

    def voices(self) -> list[str]:
        return ["deep"]

    def resolve_voice(self, voice: str) -> str:
        return "deep"

    def version(self, spec: EngineSpec) -> str:
        return "plugin-engine 1.0"

    def create(self, spec: EngineSpec) -> DeepEngine:
        return DeepEngine(spec)
