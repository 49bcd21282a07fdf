"""Night: crickets, and the night itself (distant owls over soft insects)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Convolver,
    Filter,
    JitteredGrid,
    NoiseBed,
    OverlapAdd,
    SineBank,
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
        pans = pan_gains(rng.uniform(-0.8, 0.8, count) * width)  # (2, count)
        self._drift = SmoothRandom(drift_rng, 20.0, count)

        # The oscillators: every carrier, and the second harmonic of the near ones at a third
        # of its amplitude (Farnell): cos 2x, i.e. a sine at twice the frequency and phase
        # plus a quarter turn. ``_of`` maps each oscillator to its cricket's envelope.
        near = np.flatnonzero(self._harmonic > 0.0)
        self._osc_of = np.concatenate([np.arange(count), near])
        self._oscillators = SineBank(
            np.concatenate([self._carrier_hz, 2.0 * self._carrier_hz[near]]),
            np.concatenate([self._carrier_phase, 2.0 * self._carrier_phase[near] + 0.5 * math.pi]),
            CONTROL_FACTOR,
            sr,
        )
        amplitude = np.concatenate([np.ones(count), self._harmonic[near]])
        self._osc_pans = pans[:, self._osc_of] * amplitude  # (2, oscillators)

        self._control_rate_hz = sr / CONTROL_FACTOR
        # The last two control-rate envelope values of the previous chunk (see _bspline).
        self._envelope_history = np.zeros((count, 2))
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
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
        # (float32 sine: the position in the pulse is within one turn.)
        pulse = np.sin(np.float32(np.pi) * (pulse_pos - index).astype(np.float32)) ** 4
        envelope = np.where(inside, pulse * strength, 0.0)
        envelope *= (self._levels * self._gain)[:, None]
        # Each oscillator under its cricket's envelope, panned: sums of sines per ear, with the
        # envelope interpolated smoothly (no slope breaks in the pulses) inside every block.
        coefficients = self._bspline(envelope)[:, None, self._osc_of, :]  # (3, 1, osc, blocks)
        gains = coefficients * self._osc_pans[None, :, :, None]
        return self._oscillators(gains, self.chunk_start_frame)

    def _bspline(self, envelope: np.ndarray) -> np.ndarray:
        """Polynomial coefficients ``(3, count, blocks)`` of the control-rate ``envelope``.

        The quadratic B-spline through control values ``e0, e1, e2`` is, at ``u`` in [0, 1)
        of a block, ``0.5 (1-u)^2 e0 + (0.5 + u - u^2) e1 + 0.5 u^2 e2``; written as powers of
        ``u``, that is what :class:`~soundscapes.dsp.SineBank` takes. It lags the control
        values by one or two of them, as :class:`~soundscapes.dsp.Upsampler` does.
        """
        ext = np.concatenate([self._envelope_history, envelope], axis=1)
        self._envelope_history = ext[:, -2:].copy()
        e0, e1, e2 = ext[:, :-2], ext[:, 1:-1], ext[:, 2:]
        return np.stack([0.5 * (e0 + e1), e1 - e0, 0.5 * e0 - e1 + 0.5 * e2])


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
    _GAIN_DB = -27.9

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        insect_rng, air_rng, owl_rng, schedule_rng, ir_rng, trill_rng = self.rng.spawn(6)
        self._owl_rng = owl_rng
        sr = self.sample_rate_hz
        self._control_rate_hz = sr / CONTROL_FACTOR

        self._insects = NoiseBed(
            insect_rng, bandpass(4500.0, 8000.0, sr, 1), sr, self._width, gain_rows=2
        )
        self._trill_hz = np.array([33.0, 41.0]) * (0.9 + 0.2 * trill_rng.random(2))
        self._trill_phase = trill_rng.random(2)
        self._insect_swell = SmoothRandom(trill_rng, 9.0, 2, start=0.5)
        self._insect_level = 0.5 * (0.7 + 0.6 * intensity)

        # The night air (60-400 Hz) runs at a sixteenth of the rate; the owls (all under
        # 1.5 kHz) at a quarter, reverb included, and only while a phrase sounds.
        self._air_factor = low_rate_factor(sr, 400.0)
        air_rate_hz = sr / self._air_factor
        self._air = NoiseBed(
            air_rng, bandpass(60.0, 400.0, air_rate_hz, 1), air_rate_hz, self._width
        )
        self._air_level = 0.35
        self._air_up = Upsampler(self._air_factor, dtype=np.float32)
        self._factor = low_rate_factor(sr, 1500.0, limit=4)
        low = sr / self._factor
        self._low_rate_hz = low
        self._upsample = Upsampler(self._factor, dtype=np.float32)

        self._phrases = JitteredGrid(schedule_rng, geometric(60.0, 25.0, intensity), 0.2, 0.8)
        self._owl_hz = owl_rng.uniform(360.0, 480.0)
        self._owl_pan = owl_rng.uniform(-0.6, 0.6) * self._width
        self._owl_level = 0.9 * geometric(1.0, 0.5, distance)
        self._owl_reverb = Convolver(
            decaying_noise_ir(ir_rng, low, 2.2, geometric(1400.0, 800.0, distance))
        )
        self._owl_wet = 0.3 + 0.4 * distance
        # Hoots are filtered from rest (Filter.from_rest): a breath around the fundamental,
        # then the dark top of a distant call.
        self._owl_breath = Filter(resonator(self._owl_hz, 4.0, low), (1,))
        self._owl_top = Filter(lowpass(geometric(1500.0, 1000.0, distance), low, 2), (1,))
        self._events = OverlapAdd(dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        ctl = self._control_rate_hz
        t = t0 + np.arange(self.control_frames) / ctl

        low = self._low_rate_hz
        m = self.chunk_frames // self._factor
        for phrase_s in self._phrases.pop_until(t0 + self.chunk_frames / sr):
            self._events.add(round((phrase_s - t0) * low), self._phrase_sound(phrase_s))
        air_frames = self.chunk_frames // self._air_factor
        out = self._air_up(self._air(air_frames, self._air_level * self._gain))
        # No owl sounding and none left in the interpolator: its output would be exactly
        # zero (most of the time), so it is skipped.
        silent = self._events.quiet() and self._upsample.at_rest
        owl = self._events.pop(m)
        if not silent:
            out += self._upsample(owl)

        # A trill per ear (sin^2 AM at 30-45 Hz) over a slow swell; phase from absolute time,
        # in turns reduced to one in float64, so a float32 sine is exact enough.
        turns = (self._trill_hz[:, None] * t + self._trill_phase[:, None]) % 1.0
        trill = np.sin(np.float32(np.pi) * turns.astype(np.float32)) ** 2
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

    def _phrase_sound(self, start_s: float) -> np.ndarray:
        """A whole phrase at the low rate from its first hoot, reverberant tail included.

        The hoots are laid out dry and share one pass through the reverb (it is linear): one
        convolution a phrase instead of one a hoot.
        """
        hoots = self._phrase(start_s)
        low = self._low_rate_hz
        offsets = [round((hoot.start_s - start_s) * low) for hoot in hoots]
        sounds = [self._hoot(hoot) for hoot in hoots]
        dry = np.zeros(max(o + len(x) for o, x in zip(offsets, sounds, strict=True)))
        for offset, sound in zip(offsets, sounds, strict=True):
            dry[offset : offset + len(sound)] += sound
        out = self._owl_reverb(dry[None, :]) * np.float32(self._owl_wet)
        direct = pan_gains(self._owl_pan)[:, None] * (math.sqrt(2.0) * (1.0 - self._owl_wet))
        out[:, : len(dry)] += (direct * dry).astype(np.float32)
        return out

    def _hoot(self, hoot: _Hoot) -> np.ndarray:
        """One dry hoot at the low rate, mono float64, at the hoot's level."""
        sr = self._low_rate_hz
        n = round(hoot.duration_s * sr)
        t = np.arange(n) / sr
        x = t / hoot.duration_s
        # Pitch rises ~3 % then sinks ~6 %; the long final hoot wavers (vibrato 5-8 Hz).
        contour = 1.0 + 0.03 * np.sin(np.pi * np.minimum(x / 0.6, 1.0)) - 0.06 * x**2
        vibrato = 0.015 * np.sin(2.0 * np.pi * hoot.vibrato_hz * t) * np.minimum(x * 3.0, 1.0)
        phase = 2.0 * np.pi * np.cumsum(self._owl_hz * (contour + vibrato)) / sr
        # sin 2x and sin 3x from sin x and cos x (2 sin x cos x; sin x (4 cos^2 x - 1)).
        sin1, cos1 = np.sin(phase), np.cos(phase)
        tone = sin1 * (1.0 + 0.36 * cos1 + 0.06 * (4.0 * cos1 * cos1 - 1.0))
        # A little breath in the hoot: noise around the fundamental.
        noise = np.random.default_rng(hoot.seed).standard_normal(n)
        tone += 0.5 * self._owl_breath.from_rest(noise)
        attack = min(round(0.06 * sr), n // 3)
        release = min(round(0.15 * sr), n // 2)
        envelope = np.ones(n)
        envelope[:attack] = raised_cosine(attack)
        envelope[n - release :] = raised_cosine(release)[::-1]
        dry = self._owl_top.from_rest(tone * envelope)
        dry *= hoot.level / (math.sqrt(float(np.mean(dry**2))) + 1e-12)
        return dry


@dataclass(frozen=True)
class _Hoot:
    start_s: float
    duration_s: float
    level: float
    vibrato_hz: float
    seed: int  # for the breath noise


LAYERS: tuple[type[ProceduralLayer], ...] = (Crickets, Night)

__all__ = ["LAYERS", "Crickets", "Night"]
