"""Weather: the hush before a storm, wind, rain."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import signal

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Convolver,
    Filter,
    JitteredGrid,
    NoiseBed,
    OverlapAdd,
    PoissonClock,
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    decaying_noise_ir,
    geometric,
    highpass,
    low_rate_factor,
    lowpass,
    one_pole_lowpass,
    pan_gains,
    raised_cosine,
    resonator,
    set_width,
    stereo_noise,
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


class StormHush(ProceduralLayer):
    """The expectant stillness before a storm.

    A deep brown-noise bed (low-passed near 110 Hz) swelling very slowly, a faint high "air"
    hiss, and now and then a distant rumble: 3-10 s, slow attack, long decay, all below 200 Hz,
    never a crack. Recipe: SOUND_RECIPES 3.4 (Farnell ch. 40 for the rumble).
    """

    info = LayerInfo(
        name="storm-hush",
        description="the hush before a storm: a deep, slowly swelling bed with distant rumbles",
        params=(
            intensity_param(0.3, "how often and how strongly distant thunder rumbles"),
            distance_param(0.7),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -28.6
    _BED_CUTOFF_HZ = 110.0
    _AIR_LEVEL_DB = -28.0  # SOUND_RECIPES 3.4: a very quiet pink "air" layer, about -30 dB

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        bed_rng, air_rng, swell_rng, rumble_rng, schedule_rng = self.rng.spawn(5)
        self._bed_rng, self._rumble_rng = bed_rng, rumble_rng

        sr = self.sample_rate_hz
        self._factor = low_rate_factor(sr, 200.0)
        self._low_rate_hz = sr / self._factor
        self._low_frames = self.chunk_frames // self._factor
        low = self._low_rate_hz

        # Brown bed: a leaky integrator (corner 60 Hz) for the -6 dB/octave slope, band-limited
        # to 35-110 Hz so nothing is wasted below hearing or above the hush.
        bed_sos = np.concatenate(
            [
                one_pole_lowpass(60.0, low),
                highpass(35.0, low, 2),
                lowpass(self._BED_CUTOFF_HZ, low, 4),
            ]
        )
        self._bed_filter = Filter(unit_noise_gain(bed_sos, low))
        self._bed_filter.warm_up(white_noise(bed_rng, (2, int(4 * low))))
        self._upsample = Upsampler(self._factor, dtype=np.float32)

        self._air = NoiseBed(air_rng, bandpass(1800.0, 7000.0, sr, 1), sr, self._width)
        self._air_gain = db_to_gain(self._AIR_LEVEL_DB)

        # Very slow swells at two incommensurate rates (0.013 and 0.021 Hz; Andersen's trick of
        # rates that never line up). Fixed rates with random phases keep a minute's average
        # level steady from seed to seed, which a random walk would not.
        self._swell_depth_db = 1.5 + 2.0 * intensity
        self._swell_hz = np.array([1.0 / 75.0, 1.0 / 47.0])
        self._swell_weights = np.array([0.6, 0.4])
        self._swell_phase = swell_rng.uniform(0.0, 2.0 * math.pi, 2)

        # Rumbles: SOUND_RECIPES 3.4 gives every 40-180 s. A jittered grid whose period shrinks
        # with intensity; slot placement 0.18-0.82 keeps gaps within about 0.36-1.64 periods.
        period_s = geometric(150.0, 55.0, intensity)
        self._rumbles = JitteredGrid(schedule_rng, period_s, 0.18, 0.82)
        self._rumble_gain = db_to_gain(1.0 + 6.0 * (intensity - 0.3) - 6.0 * (distance - 0.7))
        self._rumble_cutoff_hz = geometric(180.0, 90.0, distance)
        self._rumble_wet = 0.4 + 0.5 * distance
        # Farnell (Pd forum): convolve distant thunder with sparse spiky noise (trees,
        # buildings) rather than a smooth reverb; a different response per ear keeps it wide.
        self._rumble_reverb = Convolver(decaying_noise_ir(rumble_rng, low, 3.5, 160.0, sparse=0.97))
        self._rumble_filter_sos = np.concatenate(
            [highpass(22.0, low, 2), lowpass(self._rumble_cutoff_hz, low, 4)]
        )
        self._events = OverlapAdd()
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        low = self._low_rate_hz
        m = self._low_frames
        t0 = self.chunk_start_s
        t = t0 + np.arange(m) / low

        phases = 2.0 * math.pi * self._swell_hz[:, None] * t + self._swell_phase[:, None]
        swell_db = self._swell_depth_db * (self._swell_weights @ np.sin(phases))
        bed = self._bed_filter(white_noise(self._bed_rng, (2, m)))
        bed = set_width(bed, self._width) * (10.0 ** (swell_db / 20.0))

        chunk_end_s = t0 + m / low
        for start_s in self._rumbles.pop_until(chunk_end_s):
            offset = max(0, round((start_s - t0) * low))
            self._events.add(offset, self._rumble())
        low_mix = (bed + self._events.pop(m)) * self._gain
        out = self._upsample(low_mix)

        air_level = self._gain * self._air_gain
        out += self._air(self.chunk_frames, air_level)
        return out

    def _rumble(self) -> np.ndarray:
        """One distant rumble at the low rate: float32 ``(2, n)``.

        Farnell ch. 40: instead of low-passed noise ("no good for anything but a cartoon
        sketch"), a train of parabolic pulses of random sign, denser near the peak, band-limited
        below 200 Hz and smeared by a sparse, dark tail.
        """
        rng = self._rumble_rng
        low = self._low_rate_hz
        duration_s = rng.uniform(3.0, 10.0)
        attack_s = duration_s * rng.uniform(0.3, 0.45)
        decay_s = duration_s * rng.uniform(0.25, 0.4)
        n = round((attack_s + 6.0 * decay_s) * low)
        t = np.arange(n) / low
        envelope = np.where(
            t < attack_s,
            (0.5 - 0.5 * np.cos(np.pi * np.minimum(t / attack_s, 1.0))) ** 1.5,
            np.exp(-(t - attack_s) / decay_s),
        )

        # Pulse positions follow the envelope (inverse-CDF sampling), about 40 per second at
        # the peak; each pulse is a parabola 10-60 ms wide, random sign and size per ear.
        cdf = np.cumsum(envelope)
        cdf /= cdf[-1]
        count = max(4, int(rng.poisson(40.0 * float(np.sum(envelope)) / low)))
        positions = np.searchsorted(cdf, rng.random(count))
        amplitudes = rng.standard_normal((2, count)) * rng.uniform(0.3, 1.0, count)
        widths = rng.integers(0, 3, count)
        source = np.zeros((2, n))
        for width_index, width_s in enumerate((0.012, 0.025, 0.055)):
            chosen = widths == width_index
            if not np.any(chosen):
                continue
            train = np.zeros((2, n))
            for channel in range(2):
                np.add.at(train[channel], positions[chosen], amplitudes[channel, chosen])
            k = max(3, round(width_s * low))
            x = np.linspace(-1.0, 1.0, k)
            kernel = 1.0 - x**2
            source += signal.oaconvolve(train, kernel[None, :], axes=-1)[:, :n]

        dry = signal.sosfilt(self._rumble_filter_sos, source, axis=-1)
        wet = self._rumble_reverb(dry)
        mixed = wet * self._rumble_wet
        mixed[:, :n] += dry * (1.0 - self._rumble_wet)

        # Normalise: the loudest 3 s of the rumble sits at the chosen level relative to the bed,
        # whatever the random pulses did, so no rumble is a startle.
        window = max(1, round(3.0 * low))
        energy = np.concatenate([[0.0], np.cumsum(np.mean(mixed**2, axis=0))])
        peak_power = float(np.max(energy[window:] - energy[:-window])) / window
        level = self._rumble_gain * rng.uniform(0.7, 1.0)
        return mixed * (level / math.sqrt(peak_power + 1e-20))


class Rain(ProceduralLayer):
    """Steady rain: a broadband bed and a dense patter of Poisson drops.

    Rain is a particle system (Farnell, pd-list "Rainy days"): thousands of near-identical
    drops whose variety comes from what they hit. The bed is band-limited noise (SOUND_RECIPES
    3.1 plan: 500 Hz to 9 kHz, swelling slowly); the drops are Poisson events at 20-200 per
    second, each a grain from a bank drawn at start: mostly short noise clicks through a
    resonant band-pass at 1-5 kHz (tent or leaf), some small bubbles (a damped sine at
    1.5-5 kHz gliding up about 10 %, Zheng & James; SDT ``SDTBubble`` rise factor 0.1).
    """

    info = LayerInfo(
        name="rain",
        description="steady rain: a soft broadband bed with a dense patter of drops",
        params=(
            intensity_param(0.4, "how hard it rains: more, louder drops (20-200 per second)"),
            distance_param(0.4),
            width_param(0.9),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -36.5
    _GRAINS = 48
    _DROP_SHARE = 0.6  # drop power relative to the bed's

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        bed_rng, drop_rng, grain_rng, swell_rng = self.rng.spawn(4)
        sr = self.sample_rate_hz
        top_hz = geometric(9000.0, 3000.0, distance)
        bed_sos = np.concatenate([highpass(500.0, sr, 2), lowpass(top_hz, sr, 2)])
        self._bed = NoiseBed(bed_rng, bed_sos, sr, self._width)
        self._swell = SmoothRandom(swell_rng, 20.0, start=0.5)
        self._control_rate_hz = sr / CONTROL_FACTOR

        rate_hz = geometric(20.0, 200.0, intensity)
        self._drops = PoissonClock(drop_rng, rate_hz, marks=3)
        self._grains = self._grain_bank(grain_rng, lowpass(top_hz, sr, 2))
        # Unit-energy grains at `rate_hz` with amplitude a add rate * a^2 / sr of power; the
        # log-uniform +-3 dB sizes average 1.08 in power.
        self._drop_amplitude = math.sqrt(self._DROP_SHARE * sr / rate_hz / 1.08)
        self._drops_out = OverlapAdd(dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

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
                center_hz = geometric(1000.0, 5000.0, rng.random())
                body = np.zeros(round(0.012 * sr))
                body[: len(burst)] = burst
                grain = signal.sosfilt(resonator(center_hz, rng.uniform(2.0, 8.0), sr), body)
                grain *= 0.6
            else:
                # A bubble: a damped sine rising about 10 % (SDT rise factor 0.1).
                tau_s = rng.uniform(0.004, 0.012)
                n = round(5.0 * tau_s * sr)
                t = np.arange(n) / sr
                freq_hz = geometric(1500.0, 5000.0, rng.random()) * (1.0 + 0.1 * t / t[-1])
                phase = 2.0 * np.pi * np.cumsum(freq_hz) / sr
                grain = np.sin(phase) * np.exp(-t / tau_s) * 0.4
                grain[: round(0.0015 * sr)] *= raised_cosine(round(0.0015 * sr))
            fade = round(0.001 * sr)
            grain[-fade:] *= raised_cosine(fade)[::-1]
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


class Wind(ProceduralLayer):
    """Wind: a roaring body, a brighter rush in the gusts, and soft whistles.

    SOUND_RECIPES 3.2: a wind-speed control (slow gusts plus flutter) drives a noise body whose
    brightness rises with speed, and two whistles whose pitch follows the speed (Strouhal:
    f = U / (5.4 d)) through copies of the control delayed by 0.1 s and 1 s (Farnell ch. 41),
    so gusts sweep across the field. The gusts use incommensurate rates plus a random part
    (the Nyquist wind notes warn a fixed envelope becomes periodic).
    """

    info = LayerInfo(
        name="wind",
        description="wind in gusts: a soft roar, a brighter rush and faint whistles",
        params=(
            intensity_param(0.4, "wind speed: louder, brighter gusts and more whistling"),
            distance_param(0.5),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -29.4
    _WHISTLE_DELAYS_S = (0.1, 1.0)  # Farnell ch. 41

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        self._noise_rng, gust_rng, flutter_rng, whistle_rng = self.rng.spawn(4)
        sr = self.sample_rate_hz
        self._control_rate_hz = sr / CONTROL_FACTOR

        self._base = 0.5 + 0.5 * intensity
        self._gust_phase = gust_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._gust_random = SmoothRandom(gust_rng, 6.0, start=0.5)
        # Each lazily drawn control has its own generator: sharing one would make the knots
        # depend on the order the controls happen to be evaluated in.
        self._flutter = SmoothRandom(flutter_rng, 0.7)
        # One noise band, 40 Hz to 1.2-3 kHz, falling 6 dB/octave above 300 Hz: the body. Its
        # first difference (+6 dB/octave) is the rush, flat above 300 Hz; turning the rush up
        # with speed is the low-pass opening in the gusts ("LP at 300 + 1500 v").
        top_hz = geometric(3000.0, 1200.0, distance)
        body_sos = np.concatenate([bandpass(40.0, top_hz, sr, 1), one_pole_lowpass(300.0, sr)])
        self._body_filter = Filter(unit_noise_gain(body_sos, sr), dtype=np.float32)
        self._rush_norm = 1.0 / (2.0 * math.sin(math.pi * 300.0 / sr))  # diff gain at 300 Hz
        self._last = np.zeros((2, 1), dtype=np.float32)
        self._rush_level = 0.5 * geometric(1.0, 0.4, distance)
        self._to_audio = Upsampler(CONTROL_FACTOR, 2, smooth=False, dtype=np.float32)
        # Whistle phases and gains (4 rows); phase is smooth, so linear interpolation from the
        # control rate is exact enough.
        self._whistle_up = Upsampler(CONTROL_FACTOR, 4, smooth=False)
        self._whistle_held = np.zeros(2)
        self._speed_history: np.ndarray | None = None

        # Whistles: each a sine whose pitch follows the delayed speed, its amplitude opening
        # only above a critical speed (Farnell: howls need a window of Reynolds numbers) and
        # fluttering (a random AM that spreads the line into a narrow band, Q ~ 25).
        self._whistle_hz = np.sort(whistle_rng.uniform(380.0, 720.0, 2))
        # (2 ears, 2 whistles), float32 like the tones they pan.
        self._whistle_pans = pan_gains(np.array([-0.5, 0.5]) * self._width).astype(np.float32)
        self._whistle_lags = [round(d * sr / CONTROL_FACTOR) for d in self._WHISTLE_DELAYS_S]
        self._whistle_am = SmoothRandom(whistle_rng, 0.08, 2)
        self._whistle_phase = whistle_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._whistle_level = 0.35 * geometric(1.0, 0.3, distance)
        self._gain = db_to_gain(self._GAIN_DB)

    def _speed(self, t_s: np.ndarray) -> np.ndarray:
        """Wind speed (about 0.75-1.25 times the base) at absolute times ``t_s``."""
        gust = (
            0.5
            + 0.3 * np.sin(2.0 * math.pi * t_s / 17.0 + self._gust_phase[0])
            + 0.2 * np.sin(2.0 * math.pi * t_s / 29.0 + self._gust_phase[1])
        )
        gust += 0.3 * (self._gust_random.at(t_s)[0] - 0.5)
        gust += 0.1 * (self._flutter.at(t_s)[0] - 0.5)
        return self._base * (0.75 + 0.5 * gust)

    def _render_chunk(self) -> np.ndarray:
        ctl = self._control_rate_hz
        frames = self.control_frames
        # The delayed copies of the speed read from the values of earlier chunks.
        lags = self._whistle_lags
        t = self.chunk_start_s + np.arange(frames) / ctl
        speed = self._speed(t)
        if self._speed_history is None:
            self._speed_history = np.full(lags[-1], speed[0])  # before the start: still air
        speed_all = np.concatenate([self._speed_history, speed])
        self._speed_history = speed_all[-lags[-1] :]

        body_level = speed**1.5
        rush_level = speed**2.5 * (self._rush_level * self._rush_norm)
        # body * b + (body - previous body) * r = body * (b + r) - previous body * r: the rush,
        # the body's first difference, costs no pass of its own.
        gains = self._to_audio(np.stack([body_level + rush_level, rush_level]) * self._gain)
        noise = stereo_noise(self._noise_rng, self.chunk_frames, self._width)
        body = self._body_filter(noise)
        out = body * gains[0]
        previous = np.empty_like(body)
        np.multiply(body[:, :-1], gains[1, 1:], out=previous[:, 1:])
        np.multiply(self._last, gains[1, :1], out=previous[:, :1])
        out -= previous
        self._last = body[:, -1:].copy()

        # Whistles: pitch from the delayed speed, phase integrated at the control rate; the
        # audio-rate work is skipped while both are below their critical speed.
        delayed = np.stack([speed_all[lags[-1] - lag : len(speed_all) - lag] for lag in lags])
        freq_hz = self._whistle_hz[:, None] * (0.75 + 0.5 * delayed / self._base)
        increments = 2.0 * math.pi * freq_hz / ctl
        phases = self._whistle_phase[:, None] + np.cumsum(increments, axis=1) - increments
        # Unwrapped: the interpolator between chunks must not see a 2 pi jump.
        self._whistle_phase = phases[:, -1] + increments[:, -1]
        opening = np.clip((delayed - 0.8) / 0.4, 0.0, 1.0) ** 2
        am = self._whistle_am.at(t)
        gains = opening * (0.5 + am) * (self._whistle_level * self._gain)
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
        return out


LAYERS: tuple[type[ProceduralLayer], ...] = (Rain, StormHush, Wind)

__all__ = ["LAYERS", "Rain", "StormHush", "Wind"]
