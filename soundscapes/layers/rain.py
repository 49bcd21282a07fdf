"""Rain on a roof and leaves."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from soundscapes import dsp
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, placement


class Rain(ProceduralLayer):
    """Steady rain: a broadband bed and a dense patter of Poisson drops.

    Rain is a particle system (Farnell, pd-list "Rainy days"): thousands of near-identical
    drops whose variety comes from what they hit. The bed is band-limited noise (pink noise
    between 500 Hz and 9 kHz, swelling slowly); the drops are Poisson events at 20-200 per
    second, each a grain from a bank drawn at start: mostly short noise clicks through a
    resonant band-pass at 1-5 kHz (tent or leaf), some small bubbles (a damped sine at
    1.5-5 kHz gliding up about 10 %, Zheng & James; SDT ``SDTBubble`` rise factor 0.1).
    """

    info = LayerInfo(
        name="rain",
        words={
            "rain": 1.0, "rainy": 1.0, "drizzle": 1.0, "raindrop": 1.0, "downpour": 1.0,
            "rainfall": 1.0, "rainstorm": 1.0, "patter": 0.6, "umbrella": 0.5, "puddle": 0.4,
            "drip": 0.4, "gutter": 0.3,
        },
        bed=True,
        description="steady rain: a soft broadband bed with a dense patter of drops",
        params=placement(0.4, "how hard it rains: more, louder drops (20-200 per second)",
                         distance=0.4, width=0.9),
    )  # fmt: skip
    _GAIN_DB = -36.5  # calibrated: the defaults read -30 LUFS (60 s, 6-8 seeds)
    _GRAINS = 48
    _DROP_SHARE = 0.6  # drop power relative to the bed's

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        self._width = width
        bed_rng, drop_rng, grain_rng, swell_rng = self.rng.spawn(4)
        sr = self.sample_rate_hz
        top_hz = dsp.geometric(9000.0, 3000.0, distance)
        bed_sos = np.concatenate([dsp.highpass(500.0, sr, 2), dsp.lowpass(top_hz, sr, 2)])
        self._bed = dsp.NoiseBed(bed_rng, bed_sos, sr, self._width)
        self._swell = dsp.SmoothRandom(swell_rng, 20.0, start=0.5)
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR

        rate_hz = dsp.geometric(20.0, 200.0, intensity)
        self._drops = dsp.PoissonClock(drop_rng, rate_hz, marks=3)
        self._grains = self._grain_bank(grain_rng, dsp.lowpass(top_hz, sr, 2))
        # Unit-energy grains at `rate_hz` with amplitude a add rate * a^2 / sr of power; the
        # log-uniform +-3 dB sizes average 1.08 in power.
        self._drop_amplitude = math.sqrt(self._DROP_SHARE * sr / rate_hz / 1.08)
        self._drops_out = dsp.OverlapAdd(dtype=np.float32)

    def _grain_bank(self, rng: np.random.Generator, air_sos: np.ndarray) -> list[np.ndarray]:
        """Drop sounds, each float32 mono with unit energy."""
        sr = self.sample_rate_hz
        grains = []
        for index in range(self._GRAINS):
            if index % 10 < 7:
                # A click: a 0.8-2.5 ms noise burst through a short resonant band-pass (the
                # recipe's 0.5-2 ms, a little softer for sleep).
                burst = rng.uniform(-1.0, 1.0, max(4, round(rng.uniform(0.0008, 0.0025) * sr)))
                burst *= np.hanning(len(burst))
                center_hz = dsp.geometric(1000.0, 5000.0, rng.random())
                body = np.zeros(round(0.012 * sr))
                body[: len(burst)] = burst
                grain = signal.sosfilt(dsp.resonator(center_hz, rng.uniform(2.0, 8.0), sr), body)
                grain *= 0.6
            else:
                # A bubble: a damped sine rising about 10 % (SDT rise factor 0.1).
                tau_s = rng.uniform(0.004, 0.012)
                n = round(5.0 * tau_s * sr)
                t = np.arange(n) / sr
                freq_hz = dsp.geometric(1500.0, 5000.0, rng.random()) * (1.0 + 0.1 * t / t[-1])
                phase = 2.0 * np.pi * np.cumsum(freq_hz) / sr
                grain = np.sin(phase) * np.exp(-t / tau_s) * 0.4
                grain[: round(0.0015 * sr)] *= dsp.raised_cosine(round(0.0015 * sr))
            fade = round(0.001 * sr)
            grain[-fade:] *= dsp.raised_cosine(fade)[::-1]
            grain = signal.sosfilt(air_sos, grain)
            grain /= math.sqrt(float(np.sum(grain**2)))
            # Unit energy, but no grain peakier than the typical click: the odd sharp one
            # would tick out of the patter.
            grain *= min(1.0, 0.3 / float(np.max(np.abs(grain))))
            grains.append(grain.astype(np.float32))
        return grains

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        ctl = self._control_rate_hz
        times, marks = self._drops.pop_marked_until(t0 + self.chunk_frames / sr)
        variant, size, place = marks.T
        # Every drop's numbers at once, then the grains laid down in one call.
        amplitude = self._drop_amplitude * self._gain * 10.0 ** ((size - 0.5) * 0.3)  # +-3 dB
        angle = (1.0 + (2.0 * place - 1.0) * self._width) * (math.pi / 4.0)
        gains = (amplitude * np.stack([np.cos(angle), np.sin(angle)])).T
        offsets = np.round((times - t0) * sr).astype(np.int64).tolist()
        grains = [self._grains[i] for i in (variant * self._GRAINS).astype(np.int64).tolist()]
        self._drops_out.add_panned_many(offsets, grains, gains)

        control_t = t0 + np.arange(self.control_frames) / ctl
        swell = (0.92 + 0.16 * self._swell.at(control_t)[0]) * self._gain
        out = self._bed(self.chunk_frames, swell)
        self._drops_out.pop_into(out)
        return out


LAYERS: tuple[type[ProceduralLayer], ...] = (Rain,)

__all__ = ["LAYERS", "Rain"]
