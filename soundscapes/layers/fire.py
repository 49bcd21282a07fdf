"""A crackling fire."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import signal

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Filter,
    NoiseBed,
    OverlapAdd,
    PoissonClock,
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    geometric,
    highpass,
    low_rate_factor,
    lowpass,
    raised_cosine,
    resonator,
    set_width,
    unit_noise_gain,
    white_noise,
)
from soundscapes.layers.spec import (
    LayerInfo,
    ProceduralLayer,
    distance_param,
    intensity_param,
    width_param,
)


class Fire(ProceduralLayer):
    """A calm fire: lapping flames, a faint hiss and sparse crackles.

    Farnell ch. 34 (Wikibooks SC port): *lapping* is noise through a 30 Hz band-pass, driven
    into a soft clip and DC-blocked, a fluttering low roar; *hiss* is high-passed noise under
    ``LFNoise2(1 Hz) ** 4``, so it surges rarely; *crackles* are 20-30 ms noise bursts fired by
    ``Dust``, each with a resonance at an exponentially random 100-1000 Hz. For bedtime
    (SOUND_RECIPES 3.5): lapping is the main bed, the hiss is much quieter, 0.5-3 crackles per
    second, everything low-passed near 6-8 kHz, and each crackle gets a 1 ms attack.
    """

    info = LayerInfo(
        name="fire",
        description="a calm fire: soft lapping flames, faint hiss and sparse crackles",
        params=(
            intensity_param(0.4, "how lively the fire is: more crackles (0.5-3 per second)"),
            distance_param(0.3),
            width_param(0.7),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -25.9
    _CRACKLES = 32  # sounds in the crackle bank

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        lap_rng, hiss_rng, crackle_rng, surge_rng, bank_rng = self.rng.spawn(5)
        self._lap_rng = lap_rng
        sr = self.sample_rate_hz
        self._factor = low_rate_factor(sr, 700.0)
        low = sr / self._factor
        self._control_rate_hz = sr / CONTROL_FACTOR

        # Lapping: BPF(white, 30 Hz, rq 0.2) -> clip -> LeakDC (Farnell ch. 34), then kept to
        # 60-700 Hz: the 30 Hz flutter itself is felt more than heard (and K-weighting ignores
        # it), its clipped harmonics carry the sound. A wider band adds the flames' breath.
        # float32 throughout (each filter checks it stays exact enough; see Filter).
        f32 = np.float32
        self._lap_filter = Filter(unit_noise_gain(resonator(30.0, 5.0, low), low), dtype=f32)
        self._breath_filter = Filter(unit_noise_gain(bandpass(80.0, 500.0, low, 1), low), dtype=f32)
        self._after_clip = Filter(
            np.concatenate([highpass(60.0, low, 2), lowpass(700.0, low, 2)]), dtype=f32
        )
        for f in (self._lap_filter, self._breath_filter):
            f.warm_up(white_noise(lap_rng, (2, int(low))))
        self._upsample = Upsampler(self._factor, dtype=np.float32)

        top_hz = geometric(7000.0, 3000.0, distance)
        self._hiss = NoiseBed(hiss_rng, bandpass(1500.0, top_hz, sr, 1), sr, self._width)
        self._hiss_level = 0.2 * geometric(1.0, 0.4, distance)
        self._surge = SmoothRandom(surge_rng, 1.0, start=0.5)  # LFNoise2(1 Hz)

        self._crackles = PoissonClock(crackle_rng, geometric(0.5, 3.0, intensity), marks=4)
        self._crackle_level = 3.0 * geometric(1.0, 0.35, distance)
        self._bank = self._crackle_bank(bank_rng, lowpass(top_hz, sr, 2))
        self._events = OverlapAdd(dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        m = self.chunk_frames // self._factor
        noise = white_noise(self._lap_rng, (4, m))
        lap = self._lap_filter(noise[0:2])
        lap = np.tanh(np.float32(1.8) * lap)  # clip2-like soft clip: the flapping
        lap = self._after_clip(lap) + np.float32(0.5) * self._breath_filter(noise[2:4])
        out = self._upsample(set_width(lap, self._width) * np.float32(self._gain))

        # Hiss surges: LFNoise2(1 Hz) ** 4 makes rare loud bursts (Farnell ch. 34).
        t = t0 + np.arange(self.control_frames) / self._control_rate_hz
        surge = (0.25 + 1.5 * self._surge.at(t) ** 4) * (self._hiss_level * self._gain)
        out += self._hiss(self.chunk_frames, surge[0])

        times, marks = self._crackles.pop_marked_until(t0 + self.chunk_frames / sr)
        for time_s, mark in zip(times, marks, strict=True):
            self._crackle(round((time_s - t0) * sr), mark)
        self._events.pop_into(out)
        return out

    def _crackle_bank(self, rng: np.random.Generator, top_sos: np.ndarray) -> list[np.ndarray]:
        """Crackle sounds drawn once at start (like rain's drop grains), float32 mono."""
        sr = self.sample_rate_hz
        bank = []
        attack = round(0.001 * sr)
        fade = round(0.003 * sr)
        for index in range(self._CRACKLES):
            n = round(0.02 * (1.0 + 0.5 * rng.random()) * sr)  # 20-30 ms, Env.perc
            envelope = np.linspace(1.0, 0.0, n) ** 2
            envelope[:attack] *= raised_cosine(attack)
            burst = np.zeros(2 * n)
            burst[:n] = rng.uniform(-1.0, 1.0, n) * envelope
            # A resonance at an exponentially random 100-1000 Hz: son + BPF(son, f).
            center_hz = 100.0 * 10.0 ** ((index + rng.random()) / self._CRACKLES)
            sound = burst + 3.0 * signal.sosfilt(resonator(center_hz, 6.0, sr), burst)
            sound = signal.sosfilt(top_sos, sound)
            sound[-fade:] *= raised_cosine(fade)[::-1]
            sound *= 0.25 / math.sqrt(float(np.mean(sound[:n] ** 2)))
            bank.append(sound.astype(np.float32))
        return bank

    def _crackle(self, offset: int, mark: np.ndarray) -> None:
        """One crackle (sometimes a quick cluster of 2-3 pops) into the event buffer."""
        sr = self.sample_rate_hz
        variant_u, size_u, pan_u, cluster_u = mark
        pops = 1 + int(cluster_u * 3.0) if cluster_u > 0.6 else 1
        angle = (1.0 + (2.0 * pan_u - 1.0) * 0.6 * self._width) * (math.pi / 4.0)
        for pop in range(pops):
            sound = self._bank[(int(variant_u * self._CRACKLES) + 17 * pop) % self._CRACKLES]
            size = self._crackle_level * 10.0 ** ((size_u - 0.5) * 0.5) * 0.7**pop * self._gain
            gains = (size * math.cos(angle), size * math.sin(angle))
            self._events.add_panned(offset + pop * round(0.035 * sr), sound, gains)


LAYERS: tuple[type[ProceduralLayer], ...] = (Fire,)

__all__ = ["LAYERS", "Fire"]
