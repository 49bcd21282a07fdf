"""The shore: tide (waves on a beach) and gulls."""

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
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    decaying_noise_ir,
    geometric,
    low_rate_factor,
    lowpass,
    pan_gains,
    parallel,
    resonator,
    set_width,
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


def _rise(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp in float32: 0 for x <= 0, 1 for x >= 1, smooth in between."""
    u = np.clip(x, 0.0, 1.0).astype(np.float32)
    return 0.5 - 0.5 * np.cos(np.float32(np.pi) * u)


class Tide(ProceduralLayer):
    """Waves drawing in and washing out on a shore.

    Each wave is an event (SOUND_RECIPES 3.3, shore-wave plan): a rising "draw" of low roar,
    a crash that opens the spectrum (a low-pass sweep approximated by four noise bands that open
    one after another), and a long wash whose high bands die first, so the sweep closes again.
    A foam band fizzes on the crash. An always-on low bed keeps the sea from ever falling
    silent between waves (the MCT "Nice Weather" trick), and a very slow drift ("the tide")
    changes the size of the waves over minutes.
    """

    info = LayerInfo(
        name="tide",
        description="waves drawing in and washing out on a shore, with foam and a low sea bed",
        params=(
            intensity_param(0.5, "size of the waves: louder, brighter crashes over the bed"),
            distance_param(0.4),
            width_param(0.8),
            ParamInfo(
                name="rate",
                default=6.0,
                minimum=3.0,
                maximum=10.0,
                unit="waves/min",
                description="how many waves break per minute (6 = one every ~10 s)",
            ),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -27.8
    # Band edges (Hz) of the sweep: body and mid run at a low rate, wash (and the foam made
    # from it) at the audio rate.
    _BODY_HZ = (60.0, 350.0)
    _MID_HZ = (350.0, 800.0)
    _WASH_HZ = (800.0, 2500.0)
    # Per band: level during the draw, peak level, delay of the peak after the body's (s),
    # and wash decay as a fraction of the wave's wash time. Higher bands open later and close
    # sooner: that is the low-pass sweep.
    _DRAW = np.array([0.35, 0.15, 0.05, 0.0])
    _PEAK_DELAY_S = np.array([0.0, 0.1, 0.2, 0.35])
    _DECAY_FRACTION = np.array([0.45, 0.33, 0.25, 0.18])

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        rate_per_min = self.params["rate"]
        (
            self._low_rng,
            self._high_rng,
            self._wave_rng,
            schedule_rng,
            drift_rng,
        ) = self.rng.spawn(5)

        sr = self.sample_rate_hz
        self._factor = low_rate_factor(sr, self._MID_HZ[1])
        low = sr / self._factor
        self._low_rate_hz = low
        self._low_frames = self.chunk_frames // self._factor

        # Body and mid bands at the low rate; the always-on bed is the body band held at a
        # floor level (the MCT trick), so it costs nothing extra.
        self._body_filter = Filter(
            unit_noise_gain(bandpass(*self._BODY_HZ, low, 2), low), dtype=np.float32
        )
        self._mid_filter = Filter(
            unit_noise_gain(bandpass(*self._MID_HZ, low, 2), low), dtype=np.float32
        )
        for f in (self._body_filter, self._mid_filter):
            f.warm_up(white_noise(self._low_rng, (2, int(0.5 * low))))
        # The high bands share one broad band-pass; the foam is its first difference (+6 dB
        # per octave), so raising the foam envelope tilts the spectrum bright, and lowering it
        # closes the sweep again.
        high_hz = geometric(8000.0, 3000.0, distance)
        self._high_filter = Filter(
            unit_noise_gain(bandpass(self._WASH_HZ[0], high_hz, sr, 1), sr), dtype=np.float32
        )
        self._high_last = np.zeros((2, 1), dtype=np.float32)
        self._foam_norm = 1.0 / math.sqrt(
            2.0 - 2.0 * math.cos(2.0 * math.pi * math.sqrt(self._WASH_HZ[0] * high_hz) / sr)
        )
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        self._flutter = Filter(lowpass(15.0, sr / CONTROL_FACTOR, 2), (1,))
        # Wave envelopes live at the control rate and are raised to each band's rate.
        self._control_rate_hz = sr / CONTROL_FACTOR
        self._low_envelope = Upsampler(
            CONTROL_FACTOR // self._factor, 4, smooth=False, dtype=np.float32
        )
        self._high_envelope = Upsampler(CONTROL_FACTOR, 4, smooth=False, dtype=np.float32)

        # Spectral balance at the crash (amplitudes of unit-RMS bands): roughly -5 dB per band,
        # brighter for bigger waves, darker with distance (air absorption).
        self._band_levels = np.array(
            [
                1.0,
                0.7,
                0.45 * (0.7 + 0.6 * intensity) * geometric(1.0, 0.5, distance),
                0.28 * (0.5 + intensity) * geometric(1.0, 0.2, distance) * self._foam_norm,
            ]
        )
        self._wave_level = 0.6 + 0.8 * intensity
        self._bed_level = 0.3
        self._waves = JitteredGrid(schedule_rng, 60.0 / rate_per_min, 0.3, 0.7)
        # "Tide": wave size drifts over minutes (SOUND_RECIPES 3.3: a 5-20 min drift).
        self._tide = SmoothRandom(drift_rng, 240.0, start=0.5)
        self._next_pan_sign = 1.0 if drift_rng.random() < 0.5 else -1.0
        self._envelopes = OverlapAdd(8, dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        ctl = self._control_rate_hz
        m = self._low_frames
        t0 = self.chunk_start_s
        for start_s in self._waves.pop_until(t0 + self.control_frames / ctl):
            self._envelopes.add(round((start_s - t0) * ctl), self._wave(start_s))
        env = self._envelopes.pop(self.control_frames) * np.float32(self._gain)

        # The bed follows the tide too, evaluated on the control grid (absolute time).
        times_s = t0 + np.arange(self.control_frames) / ctl
        bed = (0.9 + 0.2 * self._tide.at(times_s)) * (self._bed_level * self._gain)
        env[0:2] += bed.astype(np.float32)
        low_env = self._low_envelope(env[0:4])
        noise = white_noise(self._low_rng, (4, m))
        body = self._body_filter(noise[0:2]) * low_env[0:2]
        mid = self._mid_filter(noise[2:4]) * low_env[2:4]
        out = self._upsample(set_width(body + mid, self._width))

        # wash * high + foam * (high - previous high) = (wash + foam) * high - foam * previous:
        # the foam's first difference costs no pass of its own.
        env[4:6] += env[6:8]
        gains = self._high_envelope(env[4:8])
        high = self._high_filter(white_noise(self._high_rng, (2, self.chunk_frames)))
        scaled = high * gains[0:2]
        out += scaled
        np.multiply(high[:, :-1], gains[2:4, 1:], out=scaled[:, 1:])
        np.multiply(self._high_last, gains[2:4, :1], out=scaled[:, :1])
        out -= scaled
        self._high_last = high[:, -1:].copy()
        return out

    def _wave(self, start_s: float) -> np.ndarray:
        """Band envelopes of one wave at the control rate: float32 ``(8, n)``.

        Rows are (body L, body R, mid L, mid R, wash L, wash R, foam L, foam R); they scale
        unit-RMS noise bands. Computed in float32, which is plenty for envelopes and makes
        the exponentials and cosines several times cheaper.
        """
        rng = self._wave_rng
        ctl = self._control_rate_hz
        draw_s = rng.uniform(2.0, 4.0)
        rise_s = rng.uniform(0.4, 0.9)
        wash_s = rng.uniform(4.0, 8.0)
        tide = 0.85 + 0.15 * float(self._tide.at(np.array([start_s]))[0, 0])
        # A long wash carries more energy; easing its level keeps each wave's energy within a
        # narrow range, so a minute of sea is equally loud for every seed.
        strength = self._wave_level * rng.uniform(0.8, 1.0) * tide * math.sqrt(6.0 / wash_s)
        taus = self._DECAY_FRACTION * wash_s
        n = round((draw_s + rise_s + 5.0 * taus[0]) * ctl)
        t = (np.arange(n) / ctl).astype(np.float32)

        peaks_s = (draw_s + rise_s + self._PEAK_DELAY_S).astype(np.float32)[:, None]
        draw = self._DRAW.astype(np.float32)[:, None] * _rise(t / np.float32(draw_s))
        attack = _rise((t - np.float32(draw_s)) / (peaks_s - np.float32(draw_s)))
        crash = draw + (1.0 - draw) * attack
        wash = np.exp(-np.maximum(t - peaks_s, 0.0) / taus.astype(np.float32)[:, None])
        bands = crash * wash * (self._band_levels * strength).astype(np.float32)[:, None]

        # Foam fizzes: a fast random flutter (below 15 Hz) on the foam band only.
        flutter = self._flutter.from_rest(white_noise(rng, (n,)))
        flutter /= np.std(flutter) + 1e-12
        bands[3] *= np.clip(0.75 + 0.25 * flutter, 0.2, 1.4).astype(np.float32)

        # Successive waves lean a little to alternate sides.
        pan = self._next_pan_sign * rng.uniform(0.1, 0.45) * self._width
        self._next_pan_sign = -self._next_pan_sign
        left, right = (pan_gains(pan) * math.sqrt(2.0)).astype(np.float32)
        rows = np.empty((8, n), dtype=np.float32)
        np.multiply(bands, left, out=rows[0::2])
        np.multiply(bands, right, out=rows[1::2])
        return rows


@dataclass(frozen=True)
class _Call:
    """One gull call, fully drawn when its burst is scheduled."""

    start_s: float
    duration_s: float
    pitch_hz: float
    drop: float  # fraction the pitch falls by
    fm_index: float
    pan: float
    level: float
    seed: int  # for the call's own flutter noise


class Gulls(ProceduralLayer):
    """Distant gulls calling in natural bursts.

    Each call is a falling "kee-ow" (SOUND_RECIPES 3.7, gull recipe): a harmonic tone near
    700-1200 Hz that rises for 50 ms and then falls by 30-50 % over 0.3-0.6 s, roughened by a
    subharmonic FM (standing in for Farnell's FM-with-feedback squawk) and a raucous flutter,
    shaped by a 2-3 kHz formant and low-passed for distance. A burst is one gull calling 2-6
    times with 0.2-0.5 s gaps; bursts come every 10-50 s from a drifting point in the field.
    A faint band-limited sea-air bed runs underneath so the layer never drops to silence.
    """

    info = LayerInfo(
        name="gulls",
        description="distant gulls calling in bursts of falling 'kee-ow' cries over faint sea air",
        params=(
            ParamInfo(
                name="rate",
                default=2.0,
                minimum=0.5,
                maximum=6.0,
                unit="bursts/min",
                description="how many bursts of calls per minute",
            ),
            intensity_param(0.5, "how many calls a burst holds (2-5, up to 6)"),
            distance_param(0.6),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -27.6
    _BED_LEVEL = 0.38  # relative to a call's RMS: keeps a burst within ~8 LU of the bed
    _MEAN_CALLS = 3.5

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        schedule_rng, self._call_rng, bed_rng, ir_rng = self.rng.spawn(4)
        sr = self.sample_rate_hz

        self._bursts = JitteredGrid(schedule_rng, 60.0 / self.params["rate"], 0.17, 0.83)
        self._max_calls = 4 + round(2.0 * intensity)
        self._pending: list[_Call] = []
        self._calls = OverlapAdd(dtype=np.float32)

        # Formant near 2.5 kHz over the harmonic source, then air absorption (LP 5 -> 3 kHz).
        formant = parallel([resonator(2500.0, 1.5, sr), resonator(1000.0, 0.7, sr)], [1.0, 0.6])
        # Calls are filtered from rest (Filter.from_rest); the filters hold no running state.
        self._call_filter = Filter(
            np.concatenate([formant, lowpass(geometric(5000.0, 3000.0, distance), sr, 2)]),
            (1,),
            np.float32,
        )
        self._jitter_filter = Filter(lowpass(120.0, sr, 2), (1,))
        self._reverb = Convolver(decaying_noise_ir(ir_rng, sr, 1.4, 3000.0))
        self._wet = 0.25 + 0.35 * distance
        self._bed = NoiseBed(bed_rng, bandpass(700.0, 2800.0, sr, 1), sr, self._width)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        t_end = t0 + self.chunk_frames / sr
        for burst_s in self._bursts.pop_until(t_end):
            self._pending.extend(self._burst(burst_s))
        while self._pending and self._pending[0].start_s < t_end:
            call = self._pending.pop(0)
            self._calls.add(round((call.start_s - t0) * sr), self._call(call))
        out = self._bed(self.chunk_frames, self._BED_LEVEL * self._gain)
        self._calls.pop_into(out)  # most chunks fall between bursts: then it costs nothing
        return out

    def _burst(self, start_s: float) -> list[_Call]:
        """Every parameter of every call in one burst, drawn up front in call order."""
        rng = self._call_rng
        count = int(rng.integers(2, self._max_calls + 1))
        pitch_hz = rng.uniform(700.0, 1200.0)
        pan = rng.uniform(-0.7, 0.7) * self._width
        # A long chatter is a little softer per call, so every burst carries about the same
        # energy and a minute of gulls is equally loud for every seed.
        level = self._gain * math.sqrt(self._MEAN_CALLS / count)
        calls = []
        t = start_s
        for _ in range(count):
            call = _Call(
                start_s=t,
                duration_s=rng.uniform(0.3, 0.6),
                pitch_hz=pitch_hz * rng.uniform(0.96, 1.04),
                drop=rng.uniform(0.3, 0.5),
                fm_index=rng.uniform(0.3, 0.8),
                pan=pan,
                level=level * rng.uniform(0.8, 1.0),
                seed=int(rng.integers(2**63)),
            )
            calls.append(call)
            pan = float(np.clip(pan + rng.uniform(-0.05, 0.05), -1.0, 1.0))
            t += call.duration_s + rng.uniform(0.2, 0.5)
        return calls

    def _call(self, call: _Call) -> np.ndarray:
        """One "kee-ow": float32 ``(2, n)`` including its reverberant tail.

        Per-sample math runs in float32 (a float64 ``sin`` costs ten times more); only the
        phase is accumulated in float64, then reduced to two turns, where float32 is exact.
        """
        sr = self.sample_rate_hz
        duration_s = call.duration_s
        n = round(duration_s * sr)
        t = (np.arange(n) / sr).astype(np.float32)
        rise_s = 0.05
        fall = np.clip((t - rise_s) / np.float32(duration_s - rise_s), 0.0, 1.0) ** np.float32(1.3)
        pi = np.float32(np.pi)
        rise = 0.5 - 0.5 * np.cos(pi * np.clip(t / np.float32(rise_s), 0.0, 1.0))
        freq_hz = call.pitch_hz * (0.9 + 0.1 * rise) * (1.0 - call.drop * fall)
        phase = np.cumsum(freq_hz, dtype=np.float64) * (2.0 * np.pi / sr)
        # Two turns: the subharmonic FM below runs at half the phase.
        phase = (phase % (4.0 * np.pi)).astype(np.float32)

        # Roughness: FM from the subharmonic (index 0.3-0.8) plus a fast random flutter.
        phase += np.float32(call.fm_index) * np.sin(np.float32(0.5) * phase)
        noise = white_noise(np.random.default_rng(call.seed), (n,))
        jitter = self._jitter_filter.from_rest(noise)
        jitter /= np.std(jitter) + 1e-12
        tone = _harmonic_series(phase, max(2, int(4500.0 // call.pitch_hz)))
        tone *= (1.0 + 0.25 * np.clip(jitter, -3.0, 3.0)).astype(np.float32)

        attack = np.clip(t / np.float32(0.025), 0.0, 1.0)
        release = np.clip((np.float32(duration_s) - t) / np.float32(0.09), 0.0, 1.0)
        envelope = (0.5 - 0.5 * np.cos(pi * attack)) * (0.5 - 0.5 * np.cos(pi * release))
        envelope *= 1.0 - np.float32(0.3 / duration_s) * t
        dry = self._call_filter.from_rest(tone * envelope)
        dry *= np.float32(call.level / (math.sqrt(np.mean(dry**2)) + 1e-12))

        wet = self._reverb(dry[None, :]) * np.float32(self._wet)
        direct = pan_gains(call.pan) * (math.sqrt(2.0) * (1.0 - self._wet))
        wet[:, :n] += np.multiply.outer(direct.astype(np.float32), dry)
        return wet


def _harmonic_series(phase: np.ndarray, harmonics: int) -> np.ndarray:
    """``sum_k sin(k phase) / k**0.7`` for ``k = 1..harmonics`` (a bright, buzzy source).

    Through the Chebyshev recurrence ``sin(k x) = 2 cos(x) sin((k-1) x) - sin((k-2) x)``:
    one ``sin`` and one ``cos`` in all instead of one ``sin`` per harmonic.
    """
    below = np.zeros_like(phase)
    current = np.sin(phase)
    twice_cos = 2.0 * np.cos(phase)
    tone = current.copy()
    for k in range(2, harmonics + 1):
        below, current = current, twice_cos * current - below
        tone += current / k**0.7
    return tone


LAYERS: tuple[type[ProceduralLayer], ...] = (Gulls, Tide)

__all__ = ["LAYERS", "Gulls", "Tide"]
