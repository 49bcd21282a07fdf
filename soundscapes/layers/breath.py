"""Body rhythms: slow breathing mirrored across the stereo field, a distant heartbeat."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import signal

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Filter,
    OverlapAdd,
    Upsampler,
    db_to_gain,
    geometric,
    low_rate_factor,
    lowpass,
    pan_gains,
    parallel,
    resonator,
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


def _ramp(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp: 0 for x <= 0, 1 for x >= 1."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


class BreathingMirrors(ProceduralLayer):
    """A slow breathing texture, mirrored across the stereo field.

    About six breaths a minute (SOUND_RECIPES 3.11 and 8.4: resonance breathing near 0.1 Hz):
    a 4 s inhale and a 6 s exhale ending in a short pause. Each is white noise through two
    formant resonators (a breathy "hhh": brighter on the inhale, warmer on the exhale) under a
    raised-cosine envelope. The mirror: the inhale travels left to right, the exhale returns
    right to left.

    Inhale and exhale never sound at once, so one noise stream runs through one formant
    filter at a time: the inhale's from where an inhale starts, the exhale's from where it
    ends. Each switch restarts the filter from rest where the envelope is still at zero.
    """

    info = LayerInfo(
        name="breathing-mirrors",
        description="slow breaths (about six a minute) that travel left to right and back",
        params=(
            ParamInfo(
                name="rate",
                default=6.0,
                minimum=4.0,
                maximum=10.0,
                unit="breaths/min",
                description="breaths per minute (6 = a 10 s cycle, the resonance-breathing pace)",
            ),
            intensity_param(0.5, "depth of the breaths: louder and a little brighter"),
            distance_param(0.3),
            width_param(1.0),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -31.3
    _INHALE_FRACTION = 0.4  # 4 s of a 10 s cycle
    _PAUSE_FRACTION = 0.08  # the rest after the exhale (0.5-1 s in the recipe)

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        width = self.params["width"]
        self._cycle_s = 60.0 / self.params["rate"]
        self._noise_rng, self._breath_rng = self.rng.spawn(2)
        sr = self.sample_rate_hz

        # Formants of a breathy "hhh" (SOUND_RECIPES 3.11: ~500 Hz and ~1.5 kHz, Q 2-4); the
        # inhale sits higher. Each pair runs as one 4-pole filter. Distance darkens the upper
        # formant (air absorption).
        upper = geometric(1.0, 0.35, distance)
        inhale = parallel([resonator(1100.0, 2.0, sr), resonator(2600.0, 3.0, sr)], [1.0, upper])
        exhale = parallel([resonator(450.0, 1.5, sr), resonator(1300.0, 2.5, sr)], [1.0, upper])
        self._formants = {
            True: Filter(unit_noise_gain(inhale, sr), (1,), np.float32),
            False: Filter(unit_noise_gain(exhale, sr), (1,), np.float32),
        }
        self._inhaling = True
        # (absolute frame, inhaling) where the formant filter changes, in time order.
        self._switches: list[tuple[int, bool]] = []
        self._mirror = 0.85 * width
        self._level = 0.6 + 0.8 * intensity
        self._control_rate_hz = sr / CONTROL_FACTOR
        self._envelopes = OverlapAdd(2)
        self._upsample = Upsampler(CONTROL_FACTOR, 2, smooth=False, dtype=np.float32)
        self._next_breath_s = 0.0
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        ctl = self._control_rate_hz
        t0 = self.chunk_start_s
        first_control = self.chunk_start_frame // CONTROL_FACTOR
        while self._next_breath_s < t0 + self.control_frames / ctl:
            offset = round((self._next_breath_s - t0) * ctl)
            cycle_s, inhale_steps, rows = self._breath()
            self._envelopes.add(offset, rows)
            # The linear interpolator lags one control step, so the inhale's gain leaves zero
            # one step after its first control value, and the exhale's likewise.
            inhale_frame = (first_control + offset + 1) * CONTROL_FACTOR
            exhale_frame = inhale_frame + inhale_steps * CONTROL_FACTOR
            self._switches += [(inhale_frame, True), (exhale_frame, False)]
            self._next_breath_s += cycle_s
        gains = self._upsample(self._envelopes.pop(self.control_frames) * self._gain)
        noise = white_noise(self._noise_rng, (1, self.chunk_frames))
        return gains * self._breath_noise(noise)

    def _breath_noise(self, noise: np.ndarray) -> np.ndarray:
        """``noise`` ``(1, frames)`` through the formants of the breath half under way."""
        out = np.empty(noise.shape[1], dtype=np.float32)
        start = self.chunk_start_frame
        done = 0
        while done < len(out):
            if self._switches and self._switches[0][0] <= start + done:
                _, self._inhaling = self._switches.pop(0)
                self._formants[self._inhaling].reset()
                continue
            stop = len(out)
            if self._switches:
                stop = min(stop, self._switches[0][0] - start)
            out[done:stop] = self._formants[self._inhaling](noise[:, done:stop])[0]
            done = stop
        return out

    def _breath(self) -> tuple[float, int, np.ndarray]:
        """One breath cycle: its length (s), inhale steps and control-rate gains ``(2, n)``.

        Rows are the two ears; the inhale fills the first ``inhale steps`` of them.
        """
        rng = self._breath_rng
        ctl = self._control_rate_hz
        # A little variation from breath to breath: +-3 % in length, +-1 dB in depth.
        cycle_s = self._cycle_s * rng.uniform(0.97, 1.03)
        inhale_s = self._INHALE_FRACTION * cycle_s
        exhale_s = (1.0 - self._INHALE_FRACTION - self._PAUSE_FRACTION) * cycle_s
        level = self._level * db_to_gain(rng.uniform(-1.0, 1.0))

        n_in = max(2, round(inhale_s * ctl))
        n_ex = max(2, round(exhale_s * ctl))
        x_in = np.arange(n_in) / n_in
        x_ex = np.arange(n_ex) / n_ex
        # The inhale swells over 60 % of its time and eases off; the exhale rises quickly
        # (25 %) and fades slowly, the way a relaxed breath does.
        env_in = np.where(x_in < 0.6, _ramp(x_in / 0.6), 1.0 - _ramp((x_in - 0.6) / 0.4))
        env_ex = np.where(x_ex < 0.25, _ramp(x_ex / 0.25), 1.0 - _ramp((x_ex - 0.25) / 0.75))
        # The mirror: inhale pans left to right, exhale right to left.
        pan_in = self._mirror * (2.0 * _ramp(x_in) - 1.0)
        pan_ex = -self._mirror * (2.0 * _ramp(x_ex) - 1.0)

        rows = np.empty((2, n_in + n_ex))
        rows[:, :n_in] = pan_gains(pan_in) * (env_in * level * math.sqrt(2.0))
        # The exhale is the longer, softer half of the cycle.
        rows[:, n_in:] = pan_gains(pan_ex) * (env_ex * level * 0.9 * math.sqrt(2.0))
        return cycle_s, n_in, rows


class Heartbeat(ProceduralLayer):
    """A soft, distant lub-dub, like a heartbeat heard through a pillow.

    bencholmes/heartbeat (SOUND_RECIPES 3.9): a "lub" at 0.8 of the "dub"'s strength, the
    dub after the lub's 0.15 s pulse and a short pause (a quarter of the rest of the period),
    each pulse varied by +-25 % per beat; band-limited well below 200 Hz. Each pulse here is a
    low drum: a damped sine near 55 Hz (the dub two semitones lower) whose pitch sinks in the
    first 40 ms, with a soft thump of low noise; slow attack, no click. Beats are jittered by
    +-2.5 % so it never feels metronomic.
    """

    info = LayerInfo(
        name="heartbeat",
        description="a soft, distant lub-dub heartbeat, slow and never quite regular",
        params=(
            ParamInfo(
                name="bpm",
                default=55.0,
                minimum=40.0,
                maximum=72.0,
                unit="beats/min",
                description="beats per minute",
            ),
            intensity_param(0.5, "how firm the beat is: fuller body and more thump"),
            distance_param(0.6),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -11.8
    _PULSE_S = 0.15

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._period_s = 60.0 / self.params["bpm"]
        self._beat_rng = self.rng.spawn(1)[0]
        sr = self.sample_rate_hz
        self._factor = low_rate_factor(sr, 200.0, limit=32)
        self._low_rate_hz = sr / self._factor
        low = self._low_rate_hz
        self._tone_sos = lowpass(geometric(160.0, 100.0, distance), low, 2)
        self._thump_sos = lowpass(80.0, low, 2)
        self._thump = 0.2 + 0.4 * intensity
        self._level = (0.7 + 0.6 * intensity) * geometric(1.0, 0.5, distance)
        self._next_beat_s = 0.3
        self._events = OverlapAdd(dtype=np.float32)
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        low = self._low_rate_hz
        t0 = self.chunk_start_s
        m = self.chunk_frames // self._factor
        while self._next_beat_s < t0 + m / low:
            self._beat(round((self._next_beat_s - t0) * low))
            self._next_beat_s += self._period_s * self._beat_rng.uniform(0.975, 1.025)
        mono = self._events.pop(m)[0]
        return self._upsample(np.stack([mono, mono]))

    def _beat(self, offset: int) -> None:
        rng = self._beat_rng
        pause_s = 0.25 * (self._period_s - 2.0 * self._PULSE_S)
        for delay_s, strength, pitch_hz, decay_s in (
            (0.0, 0.8, 55.0, 0.07),
            (self._PULSE_S + pause_s, 1.0, 55.0 * 2.0 ** (-2.0 / 12.0), 0.055),
        ):
            pulse = self._pulse(
                pitch_hz * rng.uniform(0.97, 1.03),
                decay_s * rng.uniform(0.75, 1.25),
                rng,
            )
            scale = strength * rng.uniform(0.75, 1.25) * self._level * self._gain
            start = offset + round(delay_s * self._low_rate_hz)
            self._events.add_panned(start, pulse, (scale,))

    def _pulse(self, pitch_hz: float, decay_s: float, rng: np.random.Generator) -> np.ndarray:
        """One drum-like pulse at the low rate, peak about 1."""
        low = self._low_rate_hz
        n = round((0.01 + 6.0 * decay_s) * low)
        t = np.arange(n) / low
        # Pitch sinks from 1.35x to the note in the first 40 ms, like a soft drum.
        freq_hz = pitch_hz * (1.0 + 0.35 * np.exp(-t / 0.04))
        phase = 2.0 * math.pi * np.cumsum(freq_hz) / low
        attack = np.minimum(t / 0.008, 1.0)
        envelope = (0.5 - 0.5 * np.cos(np.pi * attack)) * np.exp(-t / decay_s)
        tone = signal.sosfilt(self._tone_sos, np.sin(phase) * envelope)
        thump = signal.sosfilt(self._thump_sos, rng.standard_normal(n)) * envelope
        thump *= self._thump / (np.max(np.abs(thump)) + 1e-12)
        pulse = tone / (np.max(np.abs(tone)) + 1e-12) + thump
        fade = max(2, round(0.02 * low))
        pulse[-fade:] *= np.linspace(1.0, 0.0, fade)
        return pulse


LAYERS: tuple[type[ProceduralLayer], ...] = (BreathingMirrors, Heartbeat)

__all__ = ["LAYERS", "BreathingMirrors", "Heartbeat"]
