"""Night: crickets, and the night itself (distant owls over soft insects)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import signal

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Filter,
    JitteredGrid,
    NoiseBed,
    OverlapAdd,
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    decaying_noise_ir,
    geometric,
    low_rate_factor,
    lowpass,
    pan_gains,
    raised_cosine,
    resonator,
    set_width,
    sine_bank,
    unit_noise_gain,
    white_noise,
)
from soundscapes.layers.spec import (
    LayerInfo,
    ParamInfo,
    ProceduralLayer,
    distance_param,
    intensity_param,
    width_param,
)


class Crickets(ProceduralLayer):
    """A field of crickets, each chirping near 4.5 kHz about every 0.7 s.

    Farnell ch. 50 (Fig 50.7, synchronous AM): a chirp phasor at 1.43 Hz gates a train of ~58 Hz
    pulses (7 per chirp, rising in strength, Fig 50.8) on a ~4.5 kHz carrier with a second
    harmonic at a third of its amplitude. SOUND_RECIPES 3.6 bed: 3-8 instances with their own
    carriers (4.2-4.9 kHz), periods (0.6-0.9 s) and places, a few of them distant (quieter,
    no harmonic). Each instance's period wanders by about 1.5 %, so they drift in and out of
    step as real crickets do.
    """

    info = LayerInfo(
        name="crickets",
        description="a field of crickets chirping near 4.5 kHz, drifting in and out of step",
        params=(
            intensity_param(0.4, "how many crickets (3 to 8)"),
            ParamInfo(
                name="rate",
                default=1.43,
                minimum=0.8,
                maximum=2.5,
                unit="chirps/s",
                description="chirps per second of a typical cricket (warmer nights chirp faster)",
            ),
            distance_param(0.4),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -20.1

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        width = self.params["width"]
        rng, drift_rng = self.rng.spawn(2)
        sr = self.sample_rate_hz
        count = 3 + round(5.0 * intensity)
        self._count = count
        self._carrier_hz = np.minimum(rng.uniform(4200.0, 4900.0, count), 0.4 * sr)
        self._carrier_phase = rng.uniform(0.0, 2.0 * math.pi, count)
        self._period_s = rng.uniform(0.85, 1.25, count) / self.params["rate"]
        self._pulses = rng.integers(5, 8, count)
        self._pulse_hz = rng.uniform(50.0, 62.0, count)
        self._cycles = rng.random(count)  # chirp phase, in cycles
        far = np.arange(count) >= count - max(1, count // 3)  # the last third are distant
        level_db = rng.uniform(-4.0, 0.0, count) - np.where(far, 10.0, 0.0)
        levels = 10.0 ** (level_db / 20.0)
        self._harmonic = np.where(far, 0.0, 1.0 / 3.0) * geometric(1.0, 0.3, distance)
        # Each cricket's mean power depends on its duty cycle (pulses, pulse rate, period);
        # scale the field so its total power is set by the levels alone, the same for every
        # seed: a loud, busy cricket drawn by chance must not make the whole layer louder.
        x = np.linspace(0.0, 1.0, 4096, endpoint=False)[None, :]
        pulse_pos = x * self._period_s[:, None] * self._pulse_hz[:, None]
        index = np.floor(pulse_pos)
        strength = (index + 2.0) / (self._pulses[:, None] + 1.0)
        shape = np.where(index < self._pulses[:, None], np.sin(np.pi * pulse_pos) ** 4, 0.0)
        duty_power = np.mean((shape * strength) ** 2, axis=1) * (0.5 + 0.5 * self._harmonic**2)
        designed = 0.02 * np.sum(np.where(far, 0.1, 1.0))  # 0.02: a typical duty power
        designed *= db_to_gain(-6.0 * distance) ** 2
        self._levels = levels * math.sqrt(designed / np.sum(levels**2 * duty_power))
        self._pans32 = pan_gains(rng.uniform(-0.8, 0.8, count) * width).astype(np.float32)
        self._harmonic32 = self._harmonic.astype(np.float32)[:, None]
        self._drift = SmoothRandom(drift_rng, 20.0, count)

        self._control_rate_hz = sr / CONTROL_FACTOR
        # Quadratic B-spline (smooth) interpolation: no slope breaks in the pulse envelopes.
        self._to_audio = Upsampler(CONTROL_FACTOR, count, smooth=True, dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        ctl = self._control_rate_hz
        t = self.chunk_start_s + np.arange(self.control_frames) / ctl
        # Chirp phase: the integral of 1 / period, the period drifting +-1.5 %.
        rate_hz = 1.0 / (self._period_s[:, None] * (1.0 + 0.03 * (self._drift.at(t) - 0.5)))
        steps = rate_hz / ctl
        cycles = self._cycles[:, None] + np.cumsum(steps, axis=1) - steps
        self._cycles = (cycles[:, -1] + steps[:, -1]) % 1.0
        # The pulse envelope, built on the control grid (12 points per pulse) and raised to
        # audio rate by linear interpolation.
        since_chirp_s = (cycles % 1.0) * self._period_s[:, None]
        pulse_pos = since_chirp_s * self._pulse_hz[:, None]
        index = np.floor(pulse_pos)
        inside = index < self._pulses[:, None]
        # Pulses rise in strength through the chirp ((i + 2) / 9, Farnell Fig 50.8).
        strength = (index + 2.0) / (self._pulses[:, None] + 1.0)
        # sin^4 pulses: they leave zero with zero slope and curvature, so the linear
        # interpolation from the control grid starts each chirp without a kink.
        envelope = np.where(inside, np.sin(np.pi * (pulse_pos - index)) ** 4 * strength, 0.0)
        envelope *= (self._levels * self._gain)[:, None]
        envelope = self._to_audio(envelope)

        tone = sine_bank(
            self._carrier_hz, self._carrier_phase, self.chunk_start_frame, self.chunk_frames, sr
        )
        # Second harmonic at 1/3 (Farnell): cos 2x = 1 - 2 sin^2 x, cheaper than another sine.
        tone += self._harmonic32 * (np.float32(1.0) - np.float32(2.0) * tone * tone)
        tone *= envelope
        return self._pans32 @ tone


class Night(ProceduralLayer):
    """A still night: soft trilling insects, night air, and a distant owl now and then.

    Insects: high band-passed noise trilled at 30-45 Hz (katydid-like), a different trill in
    each ear. Owls: phrases of soft hoots near 360-480 Hz, a tawny-owl pattern (a long "hooo",
    a pause, then a few quick "hu"s and a long wavering "hoooo"), far away: dark, with a long
    reverberant tail. Phrases come every 25-60 s on a jittered grid.
    """

    info = LayerInfo(
        name="night",
        description="a still night: soft trilling insects and a distant owl now and then",
        params=(
            intensity_param(0.4, "how often the owl calls and how busy the insects are"),
            distance_param(0.6),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -28.1

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        insect_rng, air_rng, owl_rng, schedule_rng, ir_rng, trill_rng = self.rng.spawn(6)
        self._air_rng, self._owl_rng = air_rng, owl_rng
        sr = self.sample_rate_hz
        self._control_rate_hz = sr / CONTROL_FACTOR

        self._insects = NoiseBed(
            insect_rng, bandpass(4500.0, 8000.0, sr, 1), sr, self._width, gain_rows=2
        )
        self._trill_hz = np.array([33.0, 41.0]) * (0.9 + 0.2 * trill_rng.random(2))
        self._trill_phase = trill_rng.random(2)
        self._insect_swell = SmoothRandom(trill_rng, 9.0, 2, start=0.5)
        self._insect_level = 0.5 * (0.7 + 0.6 * intensity)

        # The night air and the owls (all under 1.5 kHz) run at a quarter of the rate,
        # reverb included, and are raised to the audio rate together.
        self._factor = low_rate_factor(sr, 1500.0, limit=4)
        low = sr / self._factor
        self._low_rate_hz = low
        self._air_filter = Filter(unit_noise_gain(bandpass(60.0, 400.0, low, 1), low))
        self._air_level = 0.35
        self._upsample = Upsampler(self._factor)

        self._phrases = JitteredGrid(schedule_rng, geometric(60.0, 25.0, intensity), 0.2, 0.8)
        self._pending: list[_Hoot] = []
        self._owl_hz = owl_rng.uniform(360.0, 480.0)
        self._owl_pan = owl_rng.uniform(-0.6, 0.6) * self._width
        self._owl_level = 0.9 * geometric(1.0, 0.5, distance)
        self._owl_ir = decaying_noise_ir(ir_rng, low, 2.2, geometric(1400.0, 800.0, distance))
        self._owl_wet = 0.3 + 0.4 * distance
        self._owl_top_sos = lowpass(geometric(1500.0, 1000.0, distance), low, 2)
        self._events = OverlapAdd()
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        ctl = self._control_rate_hz
        t = t0 + np.arange(self.control_frames) / ctl

        low = self._low_rate_hz
        m = self.chunk_frames // self._factor
        t_end = t0 + self.chunk_frames / sr
        for phrase_s in self._phrases.pop_until(t_end):
            self._pending.extend(self._phrase(phrase_s))
        while self._pending and self._pending[0].start_s < t_end:
            hoot = self._pending.pop(0)
            self._events.add(round((hoot.start_s - t0) * low), self._hoot(hoot))
        air = self._air_filter(white_noise(self._air_rng, (2, m), self._air_level * self._gain))
        out = self._upsample(set_width(air, self._width) + self._events.pop(m))

        # A trill per ear (sin^2 AM at 30-45 Hz) over a slow swell; phase from absolute time.
        trill = np.sin(np.pi * (self._trill_hz[:, None] * t + self._trill_phase[:, None])) ** 2
        swell = 0.8 + 0.4 * self._insect_swell.at(t)
        gains = (0.45 + 0.55 * trill) * swell * (self._insect_level * self._gain)
        out += self._insects(self.chunk_frames, gains)
        return out

    def _phrase(self, start_s: float) -> list[_Hoot]:
        """A tawny-owl-like phrase: "hooo ... hu hu hoooo" (sometimes just the first hoot)."""
        rng = self._owl_rng
        level = self._owl_level * self._gain * rng.uniform(0.8, 1.0)
        hoots = [_Hoot(start_s, rng.uniform(0.6, 0.9), level, 0.0, int(rng.integers(2**62)))]
        if rng.random() < 0.7:
            t = start_s + hoots[0].duration_s + rng.uniform(2.0, 4.0)
            for _ in range(int(rng.integers(1, 4))):
                seed = int(rng.integers(2**62))
                hoots.append(_Hoot(t, rng.uniform(0.14, 0.22), 0.7 * level, 0.0, seed))
                t += hoots[-1].duration_s + rng.uniform(0.08, 0.15)
            vibrato_hz = rng.uniform(5.0, 8.0)
            hoots.append(
                _Hoot(t, rng.uniform(0.8, 1.2), level, vibrato_hz, int(rng.integers(2**62)))
            )
        return hoots

    def _hoot(self, hoot: _Hoot) -> np.ndarray:
        """One hoot at the low rate, stereo with its reverberant tail: float64 ``(2, n)``."""
        sr = self._low_rate_hz
        n = round(hoot.duration_s * sr)
        t = np.arange(n) / sr
        x = t / hoot.duration_s
        # Pitch rises ~3 % then sinks ~6 %; the long final hoot wavers (vibrato 5-8 Hz).
        contour = 1.0 + 0.03 * np.sin(np.pi * np.minimum(x / 0.6, 1.0)) - 0.06 * x**2
        vibrato = 0.015 * np.sin(2.0 * np.pi * hoot.vibrato_hz * t) * np.minimum(x * 3.0, 1.0)
        phase = 2.0 * np.pi * np.cumsum(self._owl_hz * (contour + vibrato)) / sr
        tone = np.sin(phase) + 0.18 * np.sin(2.0 * phase) + 0.06 * np.sin(3.0 * phase)
        # A little breath in the hoot: noise around the fundamental.
        noise = np.random.default_rng(hoot.seed).standard_normal(n)
        breath = signal.sosfilt(resonator(self._owl_hz, 4.0, sr), noise)
        tone += 0.5 * breath
        attack = min(round(0.06 * sr), n // 3)
        release = min(round(0.15 * sr), n // 2)
        envelope = np.ones(n)
        envelope[:attack] = raised_cosine(attack)
        envelope[n - release :] = raised_cosine(release)[::-1]
        dry = signal.sosfilt(self._owl_top_sos, tone * envelope)
        dry *= hoot.level / (math.sqrt(float(np.mean(dry**2))) + 1e-12)
        wet = signal.oaconvolve(dry[None, :], self._owl_ir, axes=-1) * self._owl_wet
        direct = pan_gains(self._owl_pan)[:, None] * (math.sqrt(2.0) * (1.0 - self._owl_wet))
        wet[:, :n] += direct * dry
        return wet


@dataclass(frozen=True)
class _Hoot:
    start_s: float
    duration_s: float
    level: float
    vibrato_hz: float
    seed: int  # for the breath noise


LAYERS: tuple[type[ProceduralLayer], ...] = (Crickets, Night)

__all__ = ["LAYERS", "Crickets", "Night"]
