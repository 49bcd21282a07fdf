"""Body rhythms: slow breathing in a hall of mirrors, a distant heartbeat."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from soundscapes import dsp
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, param, placement


def _ramp(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp: 0 for x <= 0, 1 for x >= 1."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def _tract(formants: tuple[tuple[float, float, float], ...], sample_rate_hz: float) -> np.ndarray:
    """Parallel resonators (centre Hz, bandwidth Hz, gain) as one filter, unit noise gain."""
    sections = [dsp.resonator(f_hz, f_hz / bw_hz, sample_rate_hz) for f_hz, bw_hz, _ in formants]
    gains = [gain for _, _, gain in formants]
    return dsp.unit_noise_gain(dsp.parallel(sections, gains), sample_rate_hz)


class BreathingMirrors(ProceduralLayer):
    """Slow breathing in a hall of mirrors.

    The breath is air through a vocal tract (Stevens, *Acoustic
    Phonetics*, 1998, ch. 8: aspiration noise): turbulence at the glottis, a noise source,
    excites the resonances of the tract, so a breath is a whispered vowel. Exhale: a relaxed
    open tract, formants near 600, 1300, 2500 and 3500 Hz; inhale: the tongue a little
    forward and the air faster, formants higher (700, 1800, 2700, 4000 Hz) plus the hiss of
    air drawn past the teeth (3-7 kHz). Bandwidths are those of a breathy tract, 150-300 Hz
    (Klatt 1980, J. Acoust. Soc. Am. 67: wider than voiced formants, still far narrower than
    the octave-wide bands of a water-like hiss). The airflow rises and falls smoothly; the
    sound of turbulence at the tract's walls is a dipole source whose power grows as the sixth
    power of the flow speed (Curle 1955, Proc. R. Soc. A 231), so its amplitude follows the
    cube of the flow: quiet edges, a full middle. Six breaths a minute by default (resonance
    breathing near 0.1 Hz; Steffen et al., Front. Public Health 2017): inhale 40 % of the
    cycle, exhale 50 %, a pause.

    The mirrors: the breath sits in the middle, and its images in the glass come back as
    bright early reflections (11-47 ms, a different set for each ear) whose side moves left to
    right with each inhale and back with each exhale; a faint high shimmer glints across
    the glass from left to right as the breath is drawn in.
    """

    info = LayerInfo(
        name="breathing-mirrors",
        words={
            "mirror": 1.0, "looking glass": 1.0, "breath": 0.7, "breathe": 0.7, "lung": 0.7,
            "inhale": 0.6, "exhale": 0.6, "reflection": 0.3, "sigh": 0.4, "corridor": 0.3,
        },
        description="slow breaths (about six a minute) mirrored in glass that glints left to right",
        params=(
            param("rate", 6.0, (4.0, 10.0), "breaths/min",
                  "breaths per minute (6 = a 10 s cycle, the resonance-breathing pace)"),
            *placement(0.5, "depth of the breaths: louder and a little brighter",
                       distance=0.3, width=1.0),
        ),
    )  # fmt: skip
    _GAIN_DB = -27.4  # calibrated: the defaults read -30 LUFS (60 s, 8 seeds)
    _INHALE_FRACTION = 0.4  # 4 s of a 10 s cycle
    _PAUSE_FRACTION = 0.1  # the rest after the exhale (0.5-1 s in the recipe)
    # Formants (centre Hz, bandwidth Hz, gain).
    _EXHALE = (
        (600.0, 150.0, 1.0),
        (1300.0, 180.0, 1.0),
        (2500.0, 250.0, 1.0),
        (3500.0, 300.0, 1.0),
    )
    _INHALE = (
        (700.0, 150.0, 1.0),
        (1800.0, 200.0, 1.0),
        (2700.0, 250.0, 1.0),
        (4000.0, 300.0, 1.0),
    )
    # Early reflections off the glass (delay ms, gain), one set per ear.
    _LEFT_TAPS = ((11.0, 0.42), (23.0, 0.3), (37.0, 0.2))
    _RIGHT_TAPS = ((13.0, 0.4), (29.0, 0.27), (47.0, 0.18))

    def _build(self, *, rate: float, intensity: float, distance: float, width: float) -> None:
        self._width = width
        self._cycle_s = 60.0 / rate
        self._noise_rng, self._breath_rng = self.rng.spawn(2)
        sr = self.sample_rate_hz

        # Breath noise has little below 250 Hz (no source there); distance takes the top.
        edges = np.concatenate(
            [
                dsp.highpass(250.0, sr, 2),
                dsp.lowpass(dsp.geometric(9000.0, 3500.0, distance), sr, 1),
            ]
        )
        # The inhale's hiss past the teeth is one more, broad, branch of its tract: it shares
        # the breath's envelope, and deeper breaths (faster air) hiss more.
        hiss_hz = dsp.geometric(5000.0, 3500.0, distance)
        inhale = (*self._INHALE, (hiss_hz, 0.6 * hiss_hz, 0.5 + 0.7 * intensity))
        # Thirteenth-order filters over whole half-breaths: matrix products, not lfilter.
        self._formants = {
            True: dsp.long_call_filter(np.concatenate([_tract(inhale, sr), edges]), 1),
            False: dsp.long_call_filter(np.concatenate([_tract(self._EXHALE, sr), edges]), 1),
        }
        self._inhaling = True
        # (absolute frame, inhaling) where the formant filter changes, in time order.
        self._switches: list[tuple[int, bool]] = []
        self._shimmer = dsp.long_call_filter(
            dsp.unit_noise_gain(dsp.bandpass(6000.0, 9000.0, sr, 2), sr), 1
        )
        self._level = 0.6 + 0.8 * intensity
        self._shimmer_level = 0.06 * dsp.geometric(1.0, 0.4, distance)
        # Farther away the images in the glass weigh more against the direct breath.
        self._direct = dsp.geometric(1.0, 0.6, distance)
        self._taps = [
            [(round(d_ms * sr / 1000.0), g) for d_ms, g in taps]
            for taps in (self._LEFT_TAPS, self._RIGHT_TAPS)
        ]
        self._history = np.zeros(max(d for taps in self._taps for d, _ in taps), np.float32)
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR
        # Rows: breath gain, image position (-1 left .. 1 right), shimmer gain.
        self._envelopes = dsp.OverlapAdd(3)
        self._upsample = dsp.Upsampler(dsp.CONTROL_FACTOR, 3, smooth=False, dtype=np.float32)
        self._next_breath_s = 0.0

    def _render_chunk(self) -> np.ndarray:
        ctl = self._control_rate_hz
        t0 = self.chunk_start_s
        first_control = self.chunk_start_frame // dsp.CONTROL_FACTOR
        while self._next_breath_s < t0 + self.control_frames / ctl:
            offset = round((self._next_breath_s - t0) * ctl)
            cycle_s, inhale_steps, rows = self._breath()
            self._envelopes.add(offset, rows)
            # The linear interpolator lags one control step, so the inhale's gain leaves zero
            # one step after its first control value, and the exhale's likewise.
            inhale_frame = (first_control + offset + 1) * dsp.CONTROL_FACTOR
            exhale_frame = inhale_frame + inhale_steps * dsp.CONTROL_FACTOR
            self._switches += [(inhale_frame, True), (exhale_frame, False)]
            self._next_breath_s += cycle_s
        controls = self._upsample(self._envelopes.pop(self.control_frames))
        frames = self.chunk_frames
        noise = dsp.white_noise(self._noise_rng, (2, frames))
        breath, shimmer = self._breath_noise(noise)
        breath *= controls[0] * np.float32(self._gain)

        # The images in the glass: each ear's reflections, weighted by the side they are on.
        history = np.concatenate([self._history, breath])
        self._history = history[-len(self._history) :]
        position = controls[1]
        out = np.empty((2, frames), dtype=np.float32)
        for ear, side in ((0, -1.0), (1, 1.0)):
            images = np.zeros(frames, dtype=np.float32)
            for delay, gain in self._taps[ear]:
                start = len(self._history) - delay
                images += np.float32(gain) * history[start : start + frames]
            weight = np.sqrt(np.maximum(0.0, 0.5 + 0.5 * side * position))
            np.multiply(images, weight, out=out[ear])
            out[ear] += np.float32(self._direct * math.sqrt(0.5)) * breath

        shimmer *= controls[2] * np.float32(self._gain)
        out[0] += shimmer * np.sqrt(np.maximum(0.0, 0.5 - 0.5 * position))
        out[1] += shimmer * np.sqrt(np.maximum(0.0, 0.5 + 0.5 * position))
        return dsp.set_width(out, self._width)

    def _breath_noise(self, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The breath and the shimmer from ``noise`` ``(2, frames)``: float32 ``(frames,)`` each.

        Row 0 runs through the formants of the breath half under way, row 1 through the
        shimmer's band while an inhale lasts (it is silent otherwise, so it is not filtered).
        """
        frames = noise.shape[1]
        breath = np.empty(frames, dtype=np.float32)
        shimmer = np.zeros(frames, dtype=np.float32)
        start = self.chunk_start_frame
        done = 0
        while done < frames:
            if self._switches and self._switches[0][0] <= start + done:
                _, self._inhaling = self._switches.pop(0)
                self._formants[self._inhaling].reset()
                self._shimmer.reset()
                continue
            stop = frames
            if self._switches:
                stop = min(stop, self._switches[0][0] - start)
            breath[done:stop] = self._formants[self._inhaling](noise[:1, done:stop])[0]
            if self._inhaling:
                shimmer[done:stop] = self._shimmer(noise[1:, done:stop])[0]
            done = stop
        return breath, shimmer

    def _breath(self) -> tuple[float, int, np.ndarray]:
        """One breath cycle: its length (s), inhale steps and control rows ``(3, n)``.

        Rows are breath gain, image position and shimmer gain; the inhale fills the first
        ``inhale steps`` of them.
        """
        rng = self._breath_rng
        ctl = self._control_rate_hz
        # A little variation from breath to breath: +-3 % in length, +-1 dB in depth.
        cycle_s = self._cycle_s * rng.uniform(0.97, 1.03)
        inhale_s = self._INHALE_FRACTION * cycle_s
        exhale_s = (1.0 - self._INHALE_FRACTION - self._PAUSE_FRACTION) * cycle_s
        level = self._level * dsp.db_to_gain(rng.uniform(-1.0, 1.0))

        n_in = max(2, round(inhale_s * ctl))
        n_ex = max(2, round(exhale_s * ctl))
        x_in = np.arange(n_in) / n_in
        x_ex = np.arange(n_ex) / n_ex
        # Airflow: the inhale swells and eases off; the exhale leaves quickly and trails away,
        # as a relaxed breath does. Sound amplitude follows the cube of the flow (see above).
        flow_in = np.sin(np.pi * x_in)
        flow_ex = np.sin(np.pi * x_ex**0.6)
        rows = np.zeros((3, n_in + n_ex))
        rows[0, :n_in] = level * flow_in**3
        rows[0, n_in:] = 0.8 * level * flow_ex**3
        # The images travel left to right on the inhale and back on the exhale.
        rows[1, :n_in] = 2.0 * _ramp(x_in) - 1.0
        rows[1, n_in:] = 1.0 - 2.0 * _ramp(x_ex)
        # The shimmer glints across the glass while the breath is drawn in.
        rows[2, :n_in] = self._shimmer_level * level * np.sin(np.pi * x_in) ** 2
        return cycle_s, n_in, rows


class Heartbeat(ProceduralLayer):
    """A soft, distant lub-dub, like a heartbeat heard through a pillow.

    bencholmes/heartbeat (MATLAB, CC0/MIT): a "lub" at 0.8 of the "dub"'s strength, the
    dub after the lub's 0.15 s pulse and a short pause (a quarter of the rest of the period),
    each pulse varied by +-25 % per beat; band-limited well below 200 Hz. Each pulse here is a
    low drum: a damped sine near 55 Hz (the dub two semitones lower) whose pitch sinks in the
    first 40 ms, with a soft thump of low noise; slow attack, no click. Beats are jittered by
    +-2.5 % so it never feels metronomic.
    """

    info = LayerInfo(
        name="heartbeat",
        words={
            "heartbeat": 1.0, "heart beat": 1.0, "drum": 1.0, "pulse": 0.7, "throb": 0.5,
            "thrum": 0.5, "heart": 0.3,
        },
        description="a soft, distant lub-dub heartbeat, slow and never quite regular",
        params=(
            param("bpm", 55.0, (40.0, 72.0), "beats/min", "beats per minute"),
            *placement(0.5, "how firm the beat is: fuller body and more thump",
                       distance=0.6, width=None),
        ),
    )  # fmt: skip
    _GAIN_DB = -11.8  # calibrated: the defaults read -30 LUFS (60 s, 6-8 seeds)
    _PULSE_S = 0.15

    def _build(self, *, bpm: float, intensity: float, distance: float) -> None:
        self._period_s = 60.0 / bpm
        self._beat_rng = self.rng.spawn(1)[0]
        sr = self.sample_rate_hz
        self._factor = dsp.low_rate_factor(sr, 200.0, limit=32)
        self._low_rate_hz = sr / self._factor
        low = self._low_rate_hz
        self._tone_sos = dsp.lowpass(dsp.geometric(160.0, 100.0, distance), low, 2)
        self._thump_sos = dsp.lowpass(80.0, low, 2)
        self._thump = 0.2 + 0.4 * intensity
        self._level = (0.7 + 0.6 * intensity) * dsp.geometric(1.0, 0.5, distance)
        self._next_beat_s = 0.3
        self._events = dsp.OverlapAdd(dtype=np.float32)
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)

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
