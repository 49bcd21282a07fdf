"""Wind in gusts and lulls, with a moving resonance and an occasional whistle."""

from __future__ import annotations

import math

import numpy as np

from soundscapes import dsp
from soundscapes.layers.air import _AeolianCloud, _Gusts, _SpectralNoise
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, placement


class Wind(ProceduralLayer):
    """Wind in trees: gusts and lulls sweeping a cloud of Aeolian tones, and a thin whistle.

    Wind sounds where it meets obstacles (:class:`_AeolianCloud`): every twig, branch and needle
    sheds vortices at a pitch proportional to the wind speed and radiates with its sixth power. A
    tree is thousands of such sources; here 32 with diameters spread log-evenly from 1.2 to 15 mm
    (67-830 Hz at the default 5 m/s; a bare tree's recorded spectrum peaks near 200 Hz, Wigton
    Physics), so together they make the moving resonance of Farnell's wind (*Designing Sound*, ch.
    41): a broad band that rises, brightens and swells in each gust, and falls back, darker, in the
    lulls. The wind itself (:class:`_Gusts`) turns from gust to lull every 3-13 s with eddies on
    top, and each obstacle feels a gust up to 2.5 s after the first, so gusts sweep through the
    trees. In the stronger gusts a thin wire or edge sings (a narrow Aeolian tone at 0.6-1.2 kHz;
    Farnell ch. 41: a howl sounds only within a window of Reynolds numbers), its pitch following the
    speed 0.1 and 1 s late.
    """

    info = LayerInfo(
        name="wind",
        words={
            "wind": 1.0, "windy": 1.0, "breeze": 1.0, "breezy": 0.8, "gust": 1.0, "gale": 1.0,
            "rustle": 0.6, "howl": 0.5, "forest": 0.4, "tree": 0.3, "whistle": 0.3, "pine": 0.3,
        },
        noun_only=frozenset({"wind"}),
        bed=True,
        description="wind in the trees: gusts and lulls, a moving roar and a thin whistle",
        params=placement(0.4, "wind speed: louder, brighter gusts and more whistling",
                         distance=0.5, width=0.8),
    )  # fmt: skip
    _GAIN_DB = -26.7  # calibrated: the defaults read -30 LUFS (60 s, several seeds)
    _DIAMETERS_M = (0.0012, 0.015)  # needles and twigs to small branches
    _SPREAD_S = 2.5  # how much later the last obstacle feels a gust than the first
    _WHISTLE_DELAYS_S = (0.1, 1.0)  # Farnell ch. 41
    _WIRE_DIAMETERS_M = (0.0008, 0.0016)  # a wire, a thin edge: 0.6-1.2 kHz at 5 m/s

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        self._width = width
        cloud_rng, gust_rng, whistle_rng = self.rng.spawn(3)
        sr = self.sample_rate_hz
        group = _SpectralNoise.HOP * _SpectralNoise.GROUP
        if self.chunk_frames % group:
            raise ValueError(f"wind renders whole groups of {group} frames")
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR

        # Mean speed from a gentle (3.5 m/s) to a fresh breeze (9 m/s). The gusts keep their
        # relative depth: turbulence intensity near the ground hardly changes with speed.
        speed_ms = dsp.geometric(3.5, 9.0, intensity)
        self._gusts = _Gusts(
            gust_rng,
            self._control_rate_hz,
            gust_depth=0.17,
            eddy_depth=0.12,
            history_s=self._SPREAD_S + 0.1,
        )
        self._cloud = _AeolianCloud(
            cloud_rng,
            sample_rate_hz=sr,
            speed_ms=speed_ms,
            diameters_m=self._DIAMETERS_M,
            sources=32,
            spread_s=self._SPREAD_S,
            pan_spread=0.8 * self._width * (1.0 - 0.5 * distance),
            width=self._width * (1.0 - 0.5 * distance),
            dark_hz=dsp.geometric(4000.0, 800.0, distance),
            top_hz=12_000.0,
        )
        # The layer's mean level rises as U^2 over the intensity range (the gusts within it
        # keep the full U^6): a stronger wind reads as livelier, not 25 dB louder.
        self._cloud_gain = (speed_ms / 5.0) * dsp.geometric(1.0, 0.5, distance)

        # Whistles: a sine whose pitch follows the delayed speed, its amplitude opening only
        # in the stronger gusts and fluttering (a random AM that spreads the line into a
        # narrow band, Q ~ 25). A wire sings only within a window of Reynolds numbers
        # (Farnell ch. 41); the gusts of a stronger wind reach it more often.
        wire_m = whistle_rng.uniform(*self._WIRE_DIAMETERS_M, 2)
        self._whistle_hz = _AeolianCloud.STROUHAL * speed_ms / wire_m
        self._whistle_opens = 1.17 - 0.05 * intensity  # times the mean speed
        self._whistle_pans = dsp.pan_gains(np.array([-0.5, 0.5]) * self._width).astype(np.float32)
        self._whistle_lags = [round(d * self._control_rate_hz) for d in self._WHISTLE_DELAYS_S]
        self._whistle_am = dsp.SmoothRandom(whistle_rng, 0.08, 2)
        self._whistle_phase = whistle_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._whistle_level = 1.0 * (0.5 + intensity) * dsp.geometric(1.0, 0.3, distance)
        self._whistle_up = dsp.Upsampler(dsp.CONTROL_FACTOR, 4, smooth=False)
        self._whistle_held = np.zeros(2)

    def _render_chunk(self) -> np.ndarray:
        t = self.chunk_start_s + np.arange(self.control_frames) / self._control_rate_hz
        speed = self._gusts(t)  # log(U / U_mean), history first
        out = self._cloud(speed, t)
        out *= np.float32(self._gain * self._cloud_gain)
        self._whistles(speed, out)
        return out

    def _whistles(self, speed: np.ndarray, out: np.ndarray) -> None:
        """Add the whistles (pitch from the speed ``delays`` late) into ``out``."""
        ctl = self._control_rate_hz
        history = self._gusts.history
        frames = len(speed) - history
        t = self.chunk_start_s + np.arange(frames) / ctl
        delayed = np.stack(
            [speed[history - lag : history - lag + frames] for lag in self._whistle_lags]
        )
        relative = np.exp(delayed)
        freq_hz = self._whistle_hz[:, None] * relative
        increments = 2.0 * math.pi * freq_hz / ctl
        phases = self._whistle_phase[:, None] + np.cumsum(increments, axis=1) - increments
        # Unwrapped: the interpolator between chunks must not see a 2 pi jump.
        self._whistle_phase = phases[:, -1] + increments[:, -1]
        opening = np.clip((relative - self._whistle_opens) / 0.1, 0.0, 1.0) ** 2
        am = self._whistle_am.at(t)
        gains = opening * (0.5 + am) * relative**3 * (self._whistle_level * self._gain)
        controls = np.concatenate([phases, gains])
        if np.any(gains) or np.any(self._whistle_held):
            audio = self._whistle_up(controls)
            # float32 sine of the phase less whole turns, taken per sample in float64.
            turns = np.floor(audio[0:2] / (2.0 * math.pi)) * (2.0 * math.pi)
            tones = np.sin((audio[0:2] - turns).astype(np.float32))
            tones *= audio[2:4].astype(np.float32)
            out += self._whistle_pans @ tones
        else:
            self._whistle_up.hold(controls)  # keep the interpolator's history current
        self._whistle_held = gains[:, -1].copy()


LAYERS: tuple[type[ProceduralLayer], ...] = (Wind,)

__all__ = ["LAYERS", "Wind"]
