"""A crackling fire."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from soundscapes import dsp
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, placement


class Fire(ProceduralLayer):
    """A wood fire: crackles of sharp ticks and pops over a hiss and a soft, flickering roar.

    - Crackle (the sound that names a fire): moisture and resin trapped in wood boil and the
      heated wood cracks, each release a sudden burst. Farnell, *Designing Sound*, ch. 34,
      makes a crackle a short noise burst fired by ``Dust`` with a resonance of its own;
      here each tick is a noise burst with a 0.25 ms rise, decaying in 1.2-4 ms, exciting one
      or two modes of the splinter or ember it came from, ringing 1-20 ms at 0.6-7 kHz
      (bigger pieces ring lower and longer). Crackling comes in avalanches with a power-law
      spread of sizes (Sethna, Dahmen & Myers, "Crackling noise", Nature 2001): bursts of
      2-7 ticks within a few hundred milliseconds, many small and few large (capped, so no
      pop startles), over a steady scatter of smaller lone ticks.
    - Hiss: gas and steam jetting from the wood, high-passed noise under Farnell's
      ``LFNoise2(1 Hz) ** 4``, which surges rarely.
    - Roar: turbulent combustion, low noise (peaking near 150 Hz) whose level flickers at the
      flames' puffing rate, a few hertz for a hearth fire (f ~ 1.5 / sqrt(D) Hz for a fire of
      D metres; Cetegen & Ahmed 1993), and breathes slowly.
    """

    info = LayerInfo(
        name="fire",
        words={
            "fire": 1.0, "stove": 1.0, "wood stove": 1.0, "woodstove": 1.0, "hearth": 1.0,
            "ember": 1.0, "fireplace": 1.0, "campfire": 1.0, "bonfire": 1.0, "flame": 0.7,
            "firewood": 0.7, "kindling": 0.7, "coal": 0.6, "crackle": 0.6, "fiery": 0.5, "log": 0.3,
            "smoke": 0.3, "chimney": 0.3,
        },
        noun_only=frozenset({"fire", "log"}),
        bed=True,
        description="a wood fire: sharp crackles and pops over a soft hiss and a flickering roar",
        params=placement(0.4, "how lively the fire is: more crackle bursts (0.5-3 per second)",
                         distance=0.3, width=0.7),
    )  # fmt: skip
    _GAIN_DB = -18.0  # calibrated: the defaults read -30 LUFS (60 s, several seeds)
    _TICKS = 64  # sounds in the tick bank
    _PARETO_EXPONENT = 2.0  # avalanche sizes: P(size > s) ~ s^-2
    _LARGEST = 3.0  # the biggest pop, in times the smallest tick's amplitude
    _TICK_ENERGY_S = 0.002
    _TICK_PEAK = 1.4  # most ticks of that energy would peak at 1.5-3

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        self._width = width
        (
            roar_rng,
            flicker_rng,
            breath_rng,
            hiss_rng,
            surge_rng,
            burst_rng,
            cluster_rng,
            lone_rng,
            bank_rng,
        ) = self.rng.spawn(9)
        self._roar_rng = roar_rng
        self._cluster_rng = cluster_rng  # drawn burst by burst, in time order: any chunking
        sr = self.sample_rate_hz
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR

        # Roar: noise at a low rate, 50-700 Hz, falling 6 dB/octave above 150 Hz.
        self._factor = dsp.low_rate_factor(sr, 700.0)
        low = sr / self._factor
        roar_sos = np.concatenate(
            [dsp.bandpass(50.0, 700.0, low, 1), dsp.one_pole_lowpass(150.0, low)]
        )
        self._roar_filter = dsp.Filter(dsp.unit_noise_gain(roar_sos, low), dtype=np.float32)
        self._roar_filter.warm_up(dsp.white_noise(roar_rng, (2, int(0.5 * low))))
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)
        self._roar_level_up = dsp.Upsampler(dsp.CONTROL_FACTOR // self._factor, 1, smooth=False)
        self._flicker = dsp.SmoothRandom(flicker_rng, 0.15, start=0.5)  # puffing, ~3 Hz
        self._breath = dsp.SmoothRandom(breath_rng, 6.0, start=0.5)
        self._roar_level = 0.2

        top_hz = dsp.geometric(9000.0, 3500.0, distance)
        self._hiss = dsp.NoiseBed(
            hiss_rng,
            np.concatenate([dsp.highpass(2000.0, sr, 2), dsp.lowpass(top_hz, sr, 2)]),
            sr,
            self._width,
        )
        self._hiss_level = 0.06 * dsp.geometric(1.0, 0.4, distance)
        self._surge = dsp.SmoothRandom(surge_rng, 1.0, start=0.5)  # LFNoise2(1 Hz)

        # Crackle: bursts (avalanches) at 0.5-3 a second, lone ticks at 15-50 a second. The
        # bursts carry most of the crackle's energy, so they fall one to a slot of a jittered
        # grid (gaps still from 0 to 2 slots): each minute holds the same number, and its
        # loudness hardly depends on the seed, where Poisson counts would swing it by a dB.
        self._bursts = dsp.JitteredGrid(
            burst_rng, 1.0 / dsp.geometric(0.5, 3.0, intensity), 0.0, 1.0
        )
        self._lone = dsp.PoissonClock(lone_rng, dsp.geometric(15.0, 50.0, intensity), marks=3)
        self._crackle_level = 1.0 * dsp.geometric(1.0, 0.4, distance)
        self._bank = self._tick_bank(bank_rng, dsp.lowpass(top_hz, sr, 2))
        self._events = dsp.OverlapAdd(dtype=np.float32)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        m = self.chunk_frames // self._factor
        ctl = self._control_rate_hz
        t = t0 + np.arange(self.control_frames) / ctl

        # Roar under the flames' flicker (deep, quick) and a slow breathing of the fire.
        level = (0.55 + 0.9 * self._flicker.at(t)[0] ** 2) * (0.8 + 0.4 * self._breath.at(t)[0])
        roar = self._roar_filter(dsp.white_noise(self._roar_rng, (2, m)))
        roar = dsp.set_width(roar, self._width)
        roar *= self._roar_level_up(level[None, :])[0].astype(np.float32)
        out = self._upsample(roar * np.float32(self._roar_level * self._gain))

        # Hiss surges: LFNoise2(1 Hz) ** 4 makes rare loud bursts (Farnell ch. 34).
        surge = (0.3 + 2.0 * self._surge.at(t)[0] ** 4) * (self._hiss_level * self._gain)
        out += self._hiss(self.chunk_frames, surge)

        end_s = t0 + self.chunk_frames / sr
        offsets: list[int] = []
        sounds: list[np.ndarray] = []
        gains: list[tuple[float, float]] = []
        for time_s in self._bursts.pop_until(end_s):
            self._burst(time_s - t0, offsets, sounds, gains)
        times, marks = self._lone.pop_marked_until(end_s)
        for time_s, (pan_u, size_u, variant_u) in zip(times, marks, strict=True):
            amplitude = 0.5 * self._size(size_u)
            self._tick(time_s - t0, pan_u, amplitude, variant_u, offsets, sounds, gains)
        self._events.add_panned_many(offsets, sounds, np.array(gains).reshape(-1, 2))
        self._events.pop_into(out)
        return out

    def _size(self, u: float) -> float:
        """An avalanche size (amplitude, 1 = the smallest tick) from a uniform ``u``:
        Pareto-distributed, capped at :attr:`_LARGEST` so no pop startles."""
        return min(self._LARGEST, (1.0 - u) ** (-1.0 / self._PARETO_EXPONENT))

    def _burst(
        self,
        start_s: float,
        offsets: list[int],
        sounds: list[np.ndarray],
        gains: list[tuple[float, float]],
    ) -> None:
        """One avalanche: 2-7 ticks 5-60 ms apart from one spot in the fire."""
        rng = self._cluster_rng
        pan_u, count_u = rng.random(2)
        count = 2 + int(6.0 * count_u)
        gaps_s = rng.exponential(0.025, count) + 0.005
        gaps_s[0] = 0.0
        for time_s, size_u, variant_u in zip(
            start_s + np.cumsum(gaps_s), rng.random(count), rng.random(count), strict=True
        ):
            pan = min(1.0, max(0.0, pan_u + rng.normal(0.0, 0.05)))
            self._tick(time_s, pan, self._size(size_u), variant_u, offsets, sounds, gains)

    def _tick(
        self,
        start_s: float,
        pan_u: float,
        amplitude: float,
        variant_u: float,
        offsets: list[int],
        sounds: list[np.ndarray],
        gains: list[tuple[float, float]],
    ) -> None:
        """Queue one tick: bigger ones come from the low, long-ringing end of the bank."""
        # Size picks the piece: the largest avalanches crack the biggest (lowest) pieces.
        reach = min(1.0, math.log(amplitude + 1.0) / math.log(self._LARGEST + 1.0))
        index = min(self._TICKS - 1, int((0.6 * variant_u + 0.4 * reach) * self._TICKS))
        angle = (1.0 + (2.0 * pan_u - 1.0) * 0.8 * self._width) * (math.pi / 4.0)
        size = amplitude * self._crackle_level * self._gain
        offsets.append(round(start_s * self.sample_rate_hz))
        sounds.append(self._bank[index])
        gains.append((size * math.cos(angle), size * math.sin(angle)))

    def _tick_bank(self, rng: np.random.Generator, top_sos: np.ndarray) -> list[np.ndarray]:
        """Tick sounds drawn once at start, float32 mono, each with the energy of
        :attr:`_TICK_ENERGY_S` of unit amplitude; ordered from small, high and short (index 0)
        to big, low and long."""
        sr = self.sample_rate_hz
        bank = []
        for index in range(self._TICKS):
            size = (index + rng.random()) / self._TICKS  # 0 small .. 1 big
            # The release: a burst decaying in 1.2-4 ms with a 0.25 ms rise. (Sharper still
            # would be truer to a crack, but a burst much under a millisecond is a lone
            # sample-scale spike that the ear, at bedtime levels, hears as a digital click.)
            burst_s = dsp.geometric(0.0012, 0.004, size)
            n_burst = max(8, round(3.0 * burst_s * sr))
            t = np.arange(n_burst) / sr
            burst = rng.uniform(-1.0, 1.0, n_burst) * np.exp(-t / burst_s)
            rise = max(2, round(0.00025 * sr))
            burst[:rise] *= np.linspace(0.0, 1.0, rise + 1)[1:]
            # The piece rings: one or two modes, 7-0.6 kHz and 1-20 ms as pieces grow.
            decay_s = dsp.geometric(0.001, 0.02, size) * rng.uniform(0.7, 1.4)
            n = n_burst + round(6.0 * decay_s * sr)
            sound = np.zeros(n)
            sound[:n_burst] = burst
            excitation = sound.copy()
            for _ in range(1 + int(rng.random() < 0.5)):
                mode_hz = dsp.geometric(7000.0, 600.0, size) * rng.uniform(0.7, 1.4)
                # A two-pole resonance rings with time constant Q / (pi f).
                ring = dsp.resonator(mode_hz, math.pi * mode_hz * decay_s, sr)
                sound += rng.uniform(1.0, 3.0) * signal.sosfilt(ring, excitation)
            sound = signal.sosfilt(top_sos, sound)
            fade = max(2, round(0.001 * sr))
            sound[-fade:] *= np.linspace(1.0, 0.0, fade)
            # Equal energy (the ear weighs a click by its energy): a big piece rings longer,
            # not louder, and a minute's loudness does not hang on a few long rings.
            sound *= math.sqrt(self._TICK_ENERGY_S * sr / float(np.sum(sound**2)))
            # ... but none peakier than the typical tick: the odd spiky one would snap out
            # of the crackle (as rain's grains).
            sound *= min(1.0, self._TICK_PEAK / float(np.max(np.abs(sound))))
            bank.append(sound.astype(np.float32))
        return bank


LAYERS: tuple[type[ProceduralLayer], ...] = (Fire,)

__all__ = ["LAYERS", "Fire"]
