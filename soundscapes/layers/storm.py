"""The hush before a storm: distant rolling thunder, a low gusting wind, the weight of the air."""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy import signal

from soundscapes import dsp
from soundscapes.layers.air import _AeolianCloud, _Gusts, _SpectralNoise
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, placement


class StormHush(ProceduralLayer):
    """The hush before a storm: a low gusting wind, the air's slow weight, distant thunder.

    Three things are heard while a storm is still far off:

    - A low, gusting wind: the cloud of Aeolian tones of :class:`Wind`, of branches and
      twigs (2-15 mm: 70-500 Hz at 5 m/s), heard from afar: darkened below about a
      kilohertz, no whistles.
    - The air's weight: brown noise below 110 Hz swelling over a minute or two.
    - Distant rolling thunder, built the way thunder is made (Few 1969; Ribner & Roy 1982,
      "Acoustics of thunder: a quasilinear model for tortuous lightning"). A lightning
      channel (4-8 km to the ground, or 6-14 km along the cloud base) with a few branches
      wanders like a random walk of 5 m segments. Each segment's shock reaches the listener
      r / c later as an N-wave (6-12 ms, lengthening slowly with distance), spread over the
      time sound takes to cross the segment as seen from the listener: segments square to
      the line of sight arrive at once as claps, those along it as a soft roll, and the
      kilometres between the nearest and farthest segments make a roll several seconds
      long with irregular swells of its own. Return strokes repeat the pulse 40-100 ms apart.
      Over 3-12 km the air takes nearly everything above a few hundred hertz (ISO 9613-2
      absorption), turbulence scatters each arrival into a short coda, rays from the lowest
      few degrees are refracted away (the ground shadow), and sparse spiky echoes stand for
      hills and trees (Farnell, Pd forum): no crack, only rumble. Each segment is heard from
      its own bearing, so a roll moves across the sky.
    """

    info = LayerInfo(
        name="storm-hush",
        words={
            "storm": 1.0, "stormy": 1.0, "thunder": 1.0, "thunderstorm": 1.0, "tempest": 1.0,
            "hush": 0.7, "lightning": 0.7, "rumble": 0.6, "thundercloud": 0.8, "rainstorm": 0.5,
        },
        bed=True,
        description="the hush before a storm: a low gusting wind and distant rolling thunder",
        params=placement(0.3, "how often and how strongly distant thunder rumbles",
                         distance=0.7, width=0.8),
    )  # fmt: skip
    _GAIN_DB = -31.0  # calibrated: the defaults read -30 LUFS (60 s, several seeds)
    _SOUND_SPEED_MS = 343.0
    _SEGMENT_M = 5.0
    _SUB_PULSES = 4
    _TURN_RAD = 0.28  # rms turn a segment, about Few's 16 degree mean tortuosity
    _BED_CUTOFF_HZ = 110.0
    # Air absorption at 20 C and 70 % humidity (ISO 9613-2 table 2; 31.5 Hz extrapolated),
    # dB per km by frequency (Hz).
    _ABSORPTION_HZ = (31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0)
    _ABSORPTION_DB_KM = (0.03, 0.1, 0.3, 1.1, 2.8, 5.0, 9.0)

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        self._width = width
        cloud_rng, gust_rng, bed_rng, swell_rng, thunder_rng, schedule_rng, echo_rng = (
            self.rng.spawn(7)
        )
        self._bed_rng, self._thunder_rng = bed_rng, thunder_rng
        sr = self.sample_rate_hz
        group = _SpectralNoise.HOP * _SpectralNoise.GROUP
        if self.chunk_frames % group:
            raise ValueError(f"storm-hush renders whole groups of {group} frames")
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR

        # The low wind: gusty (turbulence ahead of a storm), farther is darker, quieter and
        # narrower.
        self._gusts = _Gusts(
            gust_rng, self._control_rate_hz, gust_depth=0.2, eddy_depth=0.1, history_s=3.1
        )
        narrowing = 1.0 - 0.4 * distance
        self._cloud = _AeolianCloud(
            cloud_rng,
            sample_rate_hz=sr,
            speed_ms=5.0,
            diameters_m=(0.002, 0.015),
            sources=24,
            spread_s=3.0,
            pan_spread=0.8 * self._width * narrowing,
            width=self._width * narrowing,
            dark_hz=dsp.geometric(1300.0, 600.0, distance),
            top_hz=8000.0,
        )
        self._cloud_gain = dsp.geometric(1.4, 0.85, distance)

        # The air's weight and the thunder run at a lower rate (content below 800 Hz).
        self._factor = dsp.low_rate_factor(sr, 800.0)
        low = sr / self._factor
        self._low_rate_hz = low
        self._low_frames = self.chunk_frames // self._factor
        # Brown bed: a leaky integrator (corner 60 Hz) for the -6 dB/octave slope, kept to
        # 35-110 Hz, under very slow swells at two incommensurate rates (0.013 and 0.021 Hz;
        # Andersen's rates that never line up).
        bed_sos = np.concatenate(
            [
                dsp.one_pole_lowpass(60.0, low),
                dsp.highpass(35.0, low, 2),
                dsp.lowpass(self._BED_CUTOFF_HZ, low, 4),
            ]
        )
        self._bed_filter = dsp.Filter(dsp.unit_noise_gain(bed_sos, low))
        self._bed_filter.warm_up(dsp.white_noise(bed_rng, (2, int(4 * low))))
        self._bed_level = 0.3
        self._swell_hz = np.array([1.0 / 75.0, 1.0 / 47.0])
        self._swell_phase = swell_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)

        # Thunder: a jittered grid (every 45-15 s as intensity rises) keeps each minute's
        # count, hence its loudness, steady from seed to seed; slots placed 0.2-0.8 keep gaps
        # between 0.4 and 1.6 periods.
        self._flashes = dsp.JitteredGrid(
            schedule_rng, dsp.geometric(45.0, 15.0, intensity), 0.2, 0.8
        )
        self._flash_m = 1000.0 * dsp.geometric(3.0, 12.0, distance)
        # Loudest 3 s of a roll above the wind's mean level (both unit power per ear).
        self._thunder_gain = dsp.db_to_gain(7.0 + 6.0 * (intensity - 0.3) - 3.0 * (distance - 0.7))
        self._echo_wet = 0.3 + 0.4 * distance
        # Farnell (Pd forum): convolve distant thunder with sparse spiky noise (trees,
        # buildings) rather than a smooth reverb; a different response per ear keeps it wide.
        self._echoes = dsp.Convolver(dsp.decaying_noise_ir(echo_rng, low, 6.0, 400.0, sparse=0.97))
        # Kilometres of turbulent air scatter every arrival into a short dense coda (as a
        # seismogram's): a decaying noise of ~60 ms per ear, so claps roll rather than knock.
        self._scatter = dsp.Convolver(dsp.decaying_noise_ir(echo_rng, low, 0.4, 1500.0))
        # Nothing below hearing, nothing the lower rate cannot carry (the air has taken
        # nearly everything up there already).
        self._thunder_sos = np.concatenate([dsp.highpass(25.0, low, 2), dsp.lowpass(800.0, low, 4)])
        self._events = dsp.OverlapAdd()

    def _render_chunk(self) -> np.ndarray:
        low = self._low_rate_hz
        m = self._low_frames
        t0 = self.chunk_start_s
        t = t0 + np.arange(m) / low

        phases = 2.0 * math.pi * self._swell_hz[:, None] * t + self._swell_phase[:, None]
        swell = 10.0 ** ((0.9 * np.sin(phases[0]) + 0.6 * np.sin(phases[1])) / 20.0)
        bed = self._bed_filter(dsp.white_noise(self._bed_rng, (2, m)))
        bed = dsp.set_width(bed, self._width) * (self._bed_level * swell)
        for start_s in self._flashes.pop_until(t0 + m / low):
            self._events.add(max(0, round((start_s - t0) * low)), self._thunder())
        out = self._upsample((bed + self._events.pop(m)) * self._gain)

        control_t = t0 + np.arange(self.control_frames) / self._control_rate_hz
        wind = self._cloud(self._gusts(control_t), control_t)
        out += wind * np.float32(self._gain * self._cloud_gain)
        return out

    def _channel(
        self, rng: np.random.Generator, start: np.ndarray, length_m: float, climb_rad: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A tortuous channel from ``start``: segment ends and unit directions, ``(3, n)`` each.

        Heading and climb turn by about 16 degrees a segment (Few's tortuosity); the climb is
        pulled back towards ``climb_rad`` (down for a stroke to ground, level in a cloud).
        """
        count = max(2, round(length_m / self._SEGMENT_M))
        heading = rng.uniform(-math.pi, math.pi) + np.cumsum(rng.normal(0.0, self._TURN_RAD, count))
        wander = signal.lfilter([self._TURN_RAD], [1.0, -0.95], rng.standard_normal(count))
        climb = np.clip(wander + climb_rad, -1.45, 1.45)
        direction = np.stack(
            [np.cos(climb) * np.cos(heading), np.cos(climb) * np.sin(heading), np.sin(climb)]
        )
        return start[:, None] + self._SEGMENT_M * np.cumsum(direction, axis=1), direction

    def _thunder(self) -> np.ndarray:
        """One distant roll of thunder at the low rate: float64 ``(2, n)``."""
        rng = self._thunder_rng
        low = self._low_rate_hz
        c = self._SOUND_SPEED_MS

        # The channel: a random walk of segments whose direction turns a little each step,
        # with a few branches leaving it. Cloud-to-ground strokes head down from the cloud
        # base, cloud flashes wander level.
        to_ground = rng.random() < 0.4
        range_m = self._flash_m * rng.uniform(0.8, 1.25)
        bearing = rng.uniform(-math.pi, math.pi)
        start = np.array(
            [range_m * math.cos(bearing), range_m * math.sin(bearing), rng.uniform(3e3, 5e3)]
        )
        # Cloud flashes run far along the cloud base (spider lightning reaches tens of km).
        main_m = rng.uniform(4000.0, 8000.0) if to_ground else rng.uniform(6000.0, 14000.0)
        ends, direction = self._channel(rng, start, main_m, -0.9 if to_ground else 0.0)
        for _ in range(rng.integers(2, 6)):
            fork = ends[:, rng.integers(0, ends.shape[1])]
            branch = self._channel(rng, fork, rng.uniform(0.2, 0.5) * main_m, -0.6)
            ends = np.concatenate([ends, branch[0]], axis=1)
            direction = np.concatenate([direction, branch[1]], axis=1)
        middles = ends - 0.5 * self._SEGMENT_M * direction
        middles[2] = np.abs(middles[2])  # a stroke that reaches the ground stays above it

        # What reaches the listener (at the origin): each segment's N-wave at r / c, spread
        # over the time its length takes to cross the line of sight. A channel is crooked
        # at every scale, so each segment arrives as a few sub-pulses scattered over that
        # time rather than one smooth smear: end-on segments roll, square-on ones clap.
        r = np.sqrt(np.sum(middles**2, axis=0))
        ray = middles / r
        along = np.abs(np.sum(direction * ray, axis=0))
        arrival_s = (r - np.min(r)) / c + 0.5
        spread_s = self._SEGMENT_M * along / c
        amplitude = self._SEGMENT_M / r / self._SUB_PULSES  # 1 / r spreading
        # Low rays are refracted upward and away on their way (the ground shadow of distant
        # sound): the lowest few degrees fade, so a distant ground stroke does not crack.
        elevation = np.arcsin(np.clip(ray[2], -1.0, 1.0))
        amplitude *= np.clip(elevation / 0.15, 0.0, 1.0)
        # Each segment heard from its own direction: panned by its bearing.
        gains = dsp.pan_gains(ray[1] * self._width) * amplitude
        n = round((float(np.max(arrival_s + spread_s)) + 1.0) * low)
        offsets = rng.random((self._SUB_PULSES, len(r)))
        at = np.round((arrival_s + offsets * spread_s) * low).astype(np.int64).ravel()
        impulses = np.stack(
            [np.bincount(at, np.tile(gains[ear], self._SUB_PULSES), n) for ear in range(2)]
        )

        # The N-wave: a linear fall from +1 to -1, 6-12 ms (a spectrum peaking near 100 Hz,
        # Few's dominant frequency) and lengthening slowly with distance as the shock weakens.
        period_s = rng.uniform(0.006, 0.012) * (range_m / 5000.0) ** 0.25
        taps = max(3, round(period_s * low))
        pulse = np.linspace(1.0, -1.0, taps)
        # A flash is often several return strokes down the same channel, 40-100 ms apart and
        # each weaker (Uman, "The Lightning Discharge"): the pulse repeats.
        strokes = rng.integers(1, 5)
        gaps = np.round(np.cumsum(rng.uniform(0.04, 0.1, strokes - 1)) * low).astype(np.int64)
        comb = np.zeros(taps + (int(gaps[-1]) if strokes > 1 else 0))
        comb[:taps] = pulse
        for index, gap in enumerate(gaps):
            comb[gap : gap + taps] += pulse * 0.6 ** (index + 1)
        source = signal.oaconvolve(impulses, comb[None, :], axes=-1)

        # Air absorption over the mean path, applied as a spectrum.
        size = source.shape[1]
        fast = scipy.fft.next_fast_len(size, real=True)
        freqs_hz = np.fft.rfftfreq(fast, 1.0 / low)
        per_km = np.exp(
            np.interp(
                np.log(np.maximum(freqs_hz, 1.0)),
                np.log(self._ABSORPTION_HZ),
                np.log(self._ABSORPTION_DB_KM),
            )
        )
        loss_db = per_km * float(np.mean(r)) / 1000.0
        spectrum = scipy.fft.rfft(source, fast, axis=-1) * 10.0 ** (-loss_db / 20.0)
        dry = scipy.fft.irfft(spectrum, fast, axis=-1)[:, :size]
        dry = signal.sosfilt(self._thunder_sos, dry, axis=-1)
        scattered = self._scatter(dry)
        scattered[:, :size] += 0.5 * dry
        wet = self._echoes(scattered)
        mixed = wet * self._echo_wet
        mixed[:, : scattered.shape[1]] += scattered * (1.0 - self._echo_wet)

        # Normalise: the loudest 3 s of the roll sits at the chosen level above the wind,
        # whatever the geometry did, so no roll is a startle.
        window = max(1, round(3.0 * low))
        energy = np.concatenate([[0.0], np.cumsum(np.mean(mixed**2, axis=0))])
        peak_power = float(np.max(energy[window:] - energy[:-window])) / window
        level = self._thunder_gain * rng.uniform(0.7, 1.0)
        return mixed * (level / math.sqrt(peak_power + 1e-20))


LAYERS: tuple[type[ProceduralLayer], ...] = (StormHush,)

__all__ = ["LAYERS", "StormHush"]
