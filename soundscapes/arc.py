"""The sleep arc: over a story the voice grows a little softer and the ambience darker.

Sleep stories start engaging and get softer and slower as they go (Calm's launch
coverage, 2016; Headspace's sleepcasts). The arc runs from the first word to the last and then
holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import signal

from soundscapes.scene import Scene


@dataclass(frozen=True, kw_only=True)
class SleepArc:
    """How the mix changes between ``start_s`` and ``end_s``.

    ``voice_drop_db``: the voice at the last word is this much softer than at the first.
    ``bright_hz`` → ``dark_hz``: the ambience's low-pass corner moves down (log-linearly).
    ``rate_scale``: event rates (waves, breaths, calls) in the second half, as a fraction.
    """

    start_s: float
    end_s: float
    voice_drop_db: float = 2.0
    bright_hz: float = 18_000.0
    dark_hz: float = 3_000.0
    rate_scale: float = 0.8

    def progress(self, t_s: np.ndarray | float) -> np.ndarray:
        span = max(self.end_s - self.start_s, 1e-9)
        return np.clip((np.asarray(t_s, dtype=float) - self.start_s) / span, 0.0, 1.0)

    def voice_gain(self, t_s: np.ndarray) -> np.ndarray:
        """Linear voice gain at ``t_s`` (1 at the first word)."""
        return 10.0 ** (-self.voice_drop_db * self.progress(t_s) / 20.0)

    def cutoff_hz(self, t_s: float) -> float:
        p = float(self.progress(t_s))
        return math.exp(math.log(self.bright_hz) + p * math.log(self.dark_hz / self.bright_hz))


class Darkening:
    """Two one-pole low-passes in series (12 dB/octave, no resonance) following the arc.

    The corner is set once per block; it moves so slowly (minutes per octave) that the step
    between blocks is inaudible, and the filter state carries across blocks. The two poles run
    as one second-order section (the same transfer function, ``a² / (1 - (1 - a) z⁻¹)²``): one
    pass over the block instead of two, a third of the ambience process's filtering time.
    """

    def __init__(self, arc: SleepArc, sample_rate_hz: int, channels: int = 2) -> None:
        self.arc = arc
        self.sample_rate_hz = sample_rate_hz
        self._zi = np.zeros((1, channels, 2))

    def process(self, block: np.ndarray, t0_s: float) -> np.ndarray:
        a = 1.0 - math.exp(-2.0 * math.pi * self.arc.cutoff_hz(t0_s) / self.sample_rate_hz)
        pole = 1.0 - a
        section = np.array([[a * a, 0.0, 0.0, 1.0, -2.0 * pole, pole * pole]])
        out, self._zi = signal.sosfilt(section, block, axis=1, zi=self._zi)
        return out.astype(np.float32)


def slowed(scene: Scene, scale: float) -> Scene:
    """``scene`` with every layer's ``rate`` parameter scaled by ``scale`` (within its range)."""
    from soundscapes.layers import layer_info

    layers = []
    changed = False
    for layer in scene.layers:
        info = {p.name: p for p in layer_info(layer.name).params}
        rate = info.get("rate")
        if rate is None:
            layers.append(layer)
            continue
        params = dict(layer.params)
        value = max(rate.minimum, min(rate.maximum, params.get("rate", rate.default) * scale))
        params["rate"] = round(value, 4)
        layers.append(replace(layer, params=tuple(sorted(params.items()))))
        changed = True
    return replace(scene, layers=tuple(layers)) if changed else scene
