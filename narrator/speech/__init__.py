"""Speech: engines (piper, kokoro, system, fake), the speech cache, parallel synthesis, the clean
voice, pacing, and the :class:`Narration` the renderer mixes.

Names are imported lazily (PEP 562) so that a synthesis worker process, which imports this
package, does not pay for numpy, scipy and pedalboard before it needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "EngineSpec": "narrator.speech.base",
    "SpeechEngine": "narrator.speech.base",
    "SpeechCache": "narrator.speech.cache",
    "CachedPassage": "narrator.speech.cache",
    "default_cache_folder": "narrator.speech.cache",
    "ensure_cached": "narrator.speech.synthesize",
    "SpeechWorkers": "narrator.speech.synthesize",
    "start_workers": "narrator.speech.synthesize",
    "create_engine": "narrator.speech.registry",
    "default_spec": "narrator.speech.registry",
    "engine_available": "narrator.speech.registry",
    "engine_names": "narrator.speech.registry",
    "list_voices": "narrator.speech.registry",
    "list_speakers": "narrator.speech.registry",
    "DEFAULT_ENGINE": "narrator.speech.registry",
    "DEFAULT_PACE_WPM": "narrator.speech.pacing",
    "Narration": "narrator.speech.narration",
    "NarrationSource": "narrator.speech.narration",
    "PassageTiming": "narrator.speech.narration",
    "SentenceTiming": "narrator.speech.narration",
    "narrate": "narrator.speech.narration",
}

__all__ = [
    "DEFAULT_ENGINE",
    "DEFAULT_PACE_WPM",
    "WORKER_MODULES",
    "CachedPassage",
    "EngineSpec",
    "Narration",
    "NarrationSource",
    "PassageTiming",
    "SentenceTiming",
    "SpeechCache",
    "SpeechEngine",
    "SpeechWorkers",
    "create_engine",
    "default_cache_folder",
    "default_spec",
    "engine_available",
    "engine_names",
    "ensure_cached",
    "list_speakers",
    "list_voices",
    "narrate",
    "preload_workers",
    "start_workers",
    "warm_up_for_render",
]

if TYPE_CHECKING:
    from narrator.speech.base import EngineSpec, SpeechEngine
    from narrator.speech.cache import CachedPassage, SpeechCache, default_cache_folder
    from narrator.speech.narration import (
        Narration,
        NarrationSource,
        PassageTiming,
        SentenceTiming,
        narrate,
    )
    from narrator.speech.pacing import DEFAULT_PACE_WPM
    from narrator.speech.registry import (
        DEFAULT_ENGINE,
        create_engine,
        default_spec,
        engine_available,
        engine_names,
        list_speakers,
        list_voices,
    )
    from narrator.speech.synthesize import SpeechWorkers, ensure_cached, start_workers


#: What a speech worker imports. The fork server the workers are forked from imports them once
#: for all (:func:`preload_workers`): a worker starts with a fork, not an interpreter and its
#: imports (about 0.6 s of a core each, measured on piper).
WORKER_MODULES = ("onnxruntime", "piper", "narrator.speech.synthesize", "narrator.speech.piper")


def preload_workers() -> None:
    """Have the fork server import :data:`WORKER_MODULES` when it starts (call before it does:
    :func:`soundscapes.background.preload`)."""
    from soundscapes.background import preload

    preload(*WORKER_MODULES)


def warm_up_for_render() -> None:
    """Start the fork server a render's processes come from (the ambience's and the speech
    workers'), with :data:`WORKER_MODULES` among its imports; a no-op once it runs."""
    from soundscapes.background import warm_up

    preload_workers()
    warm_up()


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'narrator.speech' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
