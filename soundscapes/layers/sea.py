"""The shore: tide (waves on a beach) and gulls."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Filter,
    JitteredGrid,
    OverlapAdd,
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    geometric,
    highpass,
    low_rate_factor,
    lowpass,
    pan_gains,
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


def _pan_gains32(position: np.ndarray) -> np.ndarray:
    """Equal-power pan gains times sqrt(2) (unity in the middle), in float32: ``(2, n)``."""
    angle = (position.astype(np.float32) + np.float32(1.0)) * np.float32(math.pi / 4.0)
    return np.float32(math.sqrt(2.0)) * np.stack([np.cos(angle), np.sin(angle)])


def _rise(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp in float32: 0 for x <= 0, 1 for x >= 1, smooth in between."""
    u = np.clip(x, 0.0, 1.0).astype(np.float32)
    return 0.5 - 0.5 * np.cos(np.float32(np.pi) * u)


class Tide(ProceduralLayer):
    """Waves breaking on a shore, one after another, over the surf farther along the beach.

    A wave is an event in three sounds (SOUND_RECIPES 3.3, shore-wave plan, rebuilt after
    close recordings of surf):

    - *The crash*: a rushing roar (a 300-1100 Hz band) that builds over a second or so as the
      lip curls over, peaks as it plunges, and keeps surging for a few seconds: a crest does
      not break at once but peels along the beach, so the roar comes as a main break and two
      or three later ones, and the breaking point travels across the field. Under it, a soft
      thump of low sea (60-1000 Hz), a few decibels down.
    - *The wash*: the foam running up the sand, a fizzing hiss (a 1.5-10 kHz band, its top
      falling to 3.5 kHz with distance) that swells as the crash fades and recedes over
      several seconds. Foam is a froth of bubbles, and bubbles ring as they form and burst (a
      bubble of radius r rings near 3.3 kHz mm / r, Minnaert 1933; breaking waves entrain them
      in millimetre sizes and smaller, Deane & Stokes 2002, Nature 418): the countless small
      ones are the hiss, and over it single bubbles of 0.5-1.6 mm ring out (2-6.5 kHz), a
      crackle that follows the foam.
    - *The backwash*: the water draining back through the sand, a softer second hiss with
      more crackle for its level, a few seconds after the wash.

    Water that breaks is turbulent: every part surges irregularly, a couple of times a second,
    rather than swelling smoothly (a smoothly swelling noise sounds like a waterfall or pink
    noise, not the sea). Between the near waves the sea is never silent: smaller breakers
    farther along the shore roll in every few seconds, darker, over a steady roar of the whole
    bay (the MCT "Nice Weather" trick: the sea never evaporates). Most of the sound lies
    between 200 Hz and 4 kHz, as in recordings of surf, little of it below. A very slow drift
    ("the tide") changes the size of the waves over minutes.
    """

    _DEFAULT_DISTANCE = 0.4

    info = LayerInfo(
        name="tide",
        description="waves crashing and washing up a shore, over the surf farther along it",
        params=(
            intensity_param(0.5, "size of the waves: louder crashes and longer washes"),
            distance_param(_DEFAULT_DISTANCE),
            width_param(0.8),
            ParamInfo(
                name="rate",
                default=6.0,
                minimum=3.0,
                maximum=10.0,
                unit="waves/min",
                description="how many near waves break per minute (6 = one every ~10 s)",
            ),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 10 seeds).
    _GAIN_DB = -31.8
    #: The sea's body (the distant surf and the near wave's thump), the crash's roar, and the
    #: foam's fizz (Hz); the fizz's top edge falls with distance (air absorption).
    _SEA_HZ = (60.0, 1000.0)
    _ROAR_HZ = (300.0, 1100.0)
    _FIZZ_HZ = (1500.0, 10000.0)
    _FIZZ_FAR_HZ = 3500.0
    #: Turbulent surging: the corner of the random flutter on every part (Hz) and its depth.
    _SURGE_HZ = 2.0
    _SURGE_DEPTH = 0.45
    #: Near waves come once per slot of ``60 / rate`` s, at 30-70 % of it (a swell's period
    #: wanders, but the beat of the waves stays clear).
    _WAVE_JITTER = (0.3, 0.7)
    #: The surf along the shore: the bay's steady roar, and smaller breakers (one every
    #: 0.6-5.4 s, each 0.4-1 times the largest) in the sea band with a little fizz; levels
    #: against the near crash's roar at 1.
    _BAY = 0.3
    _DISTANT_PERIOD_S = 3.0
    _DISTANT = 0.6
    _DISTANT_SIZE = (0.4, 1.0)
    _DISTANT_FIZZ = 0.3
    #: Bubbles heard one by one: how many a second at the height of a wash, their peak over
    #: the fizz's own level, their ring (Q) and the frames a ring is given.
    _POPS_PER_S = 80.0
    _POP_SIZE = 5.0
    _BUBBLE_Q = 8.0
    _BUBBLE_FRAMES = 256

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        rate_per_min = self.params["rate"]
        (
            self._low_rng,
            self._fizz_rng,
            self._wave_rng,
            self._distant_rng,
            wave_schedule_rng,
            distant_schedule_rng,
            drift_rng,
        ) = self.rng.spawn(7)

        sr = self.sample_rate_hz
        # The sea and the roar run at a low rate (11 kHz: their bands lie below its 15 %, all
        # but the roar's gentle upper skirt), the fizz at the audio rate.
        self._factor = low_rate_factor(sr, 1.45 * self._ROAR_HZ[1])
        low = sr / self._factor
        self._low_frames = self.chunk_frames // self._factor
        self._sea_filter = Filter(
            unit_noise_gain(bandpass(*self._SEA_HZ, low, 1), low), dtype=np.float32
        )
        self._roar_filter = Filter(
            unit_noise_gain(bandpass(*self._ROAR_HZ, low, 1), low), dtype=np.float32
        )
        for f in (self._sea_filter, self._roar_filter):
            f.warm_up(white_noise(self._low_rng, (2, int(0.5 * low))))
        fizz_top_hz = geometric(self._FIZZ_HZ[1], self._FIZZ_FAR_HZ, distance)
        # The fizz band: a first-order high-pass, a second-order low-pass at the top and a
        # two-tap average (a third zero at the Nyquist frequency), so the hiss falls away
        # steeply above its top, as air and distance take it. The high-pass and the average
        # share one section; with the low-pass that is one third-order filter.
        high = highpass(self._FIZZ_HZ[0], sr, 1)[0]
        high[:3] = np.convolve(high[:2], [0.5, 0.5])
        self._fizz_filter = Filter(
            unit_noise_gain(np.vstack([lowpass(fizz_top_hz, sr, 2), high]), sr), dtype=np.float32
        )
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        self._control_rate_hz = sr / CONTROL_FACTOR
        self._surge = Filter(
            unit_noise_gain(
                lowpass(self._SURGE_HZ, self._control_rate_hz, 2), self._control_rate_hz
            ),
            (1,),
            np.float32,
        )

        # Levels of unit-RMS bands. A bigger wave crashes louder, washes longer and throws
        # more foam; below the default size the roar and thump step back further (a small
        # spilling wave entrains few large bubbles, so it is mostly fizz). Farther off, the
        # near waves are quieter (by 6 dB from the nearest to the farthest setting, the surf
        # along the shore by half that), the foam's hiss and crackle fade first and the field
        # narrows.
        near = geometric(1.0, 0.5, distance) / geometric(1.0, 0.5, self._DEFAULT_DISTANCE)
        self._wave_level = (0.6 + 0.8 * intensity) * near
        small = min(1.0, 0.5 + intensity)
        dark = geometric(1.0, 0.4, distance)
        self._roar_level = 1.0 * small
        self._thump_level = 0.25 * small
        self._fizz_level = 0.7 * (0.8 + 0.4 * intensity) * dark
        self._wash_scale = 0.8 + 0.4 * intensity
        self._pops_per_s = self._POPS_PER_S * dark
        # The surf along the shore grows with the waves too.
        surf = (0.7 + 0.6 * intensity) * math.sqrt(near)
        self._bed_level = self._BAY * surf
        self._distant_level = self._DISTANT * surf
        self._distant_fizz = self._DISTANT_FIZZ * surf * dark
        self._spread = self._width * geometric(1.0, 0.5, distance)

        self._waves = JitteredGrid(wave_schedule_rng, 60.0 / rate_per_min, *self._WAVE_JITTER)
        self._distant = JitteredGrid(distant_schedule_rng, self._DISTANT_PERIOD_S, 0.1, 0.9)
        # "Tide": wave size drifts over minutes (SOUND_RECIPES 3.3: a 5-20 min drift); the
        # bay's roar wanders by a quarter over seconds.
        self._tide = SmoothRandom(drift_rng, 240.0, start=0.5)
        self._bay = SmoothRandom(drift_rng, 2.5, start=0.5)
        self._next_pan_sign = 1.0 if drift_rng.random() < 0.5 else -1.0
        # Rows: sea L/R, roar L/R, fizz L/R, at the control rate.
        self._envelopes = OverlapAdd(6, dtype=np.float32)
        # Pending bubble pops, one entry per wave: absolute frames, frequencies (Hz) and
        # gains ``(2, k)``; and the tails of the last chunk's bubbles.
        self._pops: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._bubble_tail = np.zeros((2, self._BUBBLE_FRAMES))
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        ctl = self._control_rate_hz
        t0 = self.chunk_start_s
        t_end = t0 + self.control_frames / ctl
        for start_s in self._waves.pop_until(t_end):
            self._envelopes.add(round((start_s - t0) * ctl), self._wave(start_s))
        for start_s in self._distant.pop_until(t_end):
            self._envelopes.add(round((start_s - t0) * ctl), self._distant_wave())
        env = self._envelopes.pop(self.control_frames)
        times_s = t0 + np.arange(self.control_frames) / ctl
        bay = self._bed_level * (0.75 + 0.5 * self._bay.at(times_s)[0])
        env[0:2] += bay.astype(np.float32)
        env *= np.float32(self._gain)

        # The sea and the roar at the low rate, the fizz at the audio rate. Each band's noise
        # is shaped by its envelope before the band's filter (the envelopes move slowly
        # next to the filters' responses, and one gain per control step costs one pass).
        m = self._low_frames
        low = self._stereo_noise(self._low_rng, 2, m)
        low.reshape(4, self.control_frames, -1)[...] *= env[0:4, :, None]
        sea = self._sea_filter(low[0:2])
        sea += self._roar_filter(low[2:4])
        out = self._upsample(sea)
        fizz = self._stereo_noise(self._fizz_rng, 1, self.chunk_frames)
        fizz.reshape(2, self.control_frames, -1)[...] *= env[4:6, :, None]
        out += self._fizz_filter(fizz)
        self._add_bubbles(out)
        return out

    def _stereo_noise(self, rng: np.random.Generator, pairs: int, frames: int) -> np.ndarray:
        """``pairs`` of stereo white noise at the layer's width: float32 ``(2 * pairs, frames)``.

        Drawn as mid and side (:func:`~soundscapes.dsp.stereo_noise`): the same level and
        correlation between the ears as :func:`~soundscapes.dsp.set_width` on independent
        ears, in fewer passes.
        """
        half = math.sqrt(0.5)
        noise = white_noise(rng, (2 * pairs, frames), [half, half * self._width] * pairs)
        out = np.empty_like(noise)
        np.add(noise[0::2], noise[1::2], out=out[0::2])
        np.subtract(noise[0::2], noise[1::2], out=out[1::2])
        return out

    def _add_bubbles(self, out: np.ndarray) -> None:
        """Add the bubbles that start in this chunk (in place), keeping the tails of the last."""
        n = out.shape[1]
        start = self.chunk_start_frame
        end = start + n
        length = self._BUBBLE_FRAMES
        buffer = np.zeros((2, n + length), dtype=np.float64)
        buffer[:, :length] = self._bubble_tail
        pending = []
        for frames, freqs, gains in self._pops:
            split = int(np.searchsorted(frames, end))
            if split:
                grains = self._bubble_shapes(freqs[:split])  # (k, length)
                index = ((frames[:split] - start)[:, None] + np.arange(length)).ravel()
                for row in range(2):
                    buffer[row] += np.bincount(
                        index, (grains * gains[row, :split, None]).ravel(), minlength=n + length
                    )
            if split < len(frames):
                pending.append((frames[split:], freqs[split:], gains[:, split:]))
        self._pops = pending
        out += buffer[:, :n].astype(np.float32)
        self._bubble_tail = buffer[:, n:]

    def _bubble_shapes(self, freqs_hz: np.ndarray) -> np.ndarray:
        """Ringing bubbles of unit amplitude, float64 ``(k, frames)``.

        A bubble rings at its Minnaert frequency and dies within a few cycles (a Q near 8: the
        damping of millimetre bubbles is about 0.1, Leighton, *The Acoustic Bubble*, 1994); its
        ring starts over a few tenths of a millisecond, not in one sample, so it is a pop and
        not a click.
        """
        sr = self.sample_rate_hz
        t = np.arange(self._BUBBLE_FRAMES) / sr
        tau = self._BUBBLE_Q / (math.pi * freqs_hz[:, None])
        onset = _rise(t / 0.0004)
        return np.sin(2.0 * math.pi * freqs_hz[:, None] * t) * np.exp(-t / tau) * onset

    def _surging(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """A random factor around 1 that surges a couple of times a second: float32 ``(n,)``."""
        surge = self._surge.from_rest(white_noise(rng, (n,), self._SURGE_DEPTH))
        surge += np.float32(1.0)
        return np.clip(surge, np.float32(0.3), np.float32(2.0), out=surge)

    def _wave(self, start_s: float) -> np.ndarray:
        """Band envelopes of one near wave at the control rate: float32 ``(6, n)``.

        Rows are (sea L, sea R, roar L, roar R, fizz L, fizz R); they scale unit-RMS noise
        bands. Also queues the wave's single bubbles.
        """
        rng = self._wave_rng
        ctl = self._control_rate_hz
        build_s = rng.uniform(1.0, 1.6)  # the lip curling over
        hold_s = rng.uniform(0.6, 1.4)
        roar_tau_s = rng.uniform(1.0, 1.6)
        wash_at_s = build_s + rng.uniform(0.4, 1.0)
        wash_tau_s = rng.uniform(2.5, 4.0) * self._wash_scale
        back_at_s = wash_at_s + rng.uniform(3.0, 5.0)
        tide = 0.85 + 0.15 * float(self._tide.at(np.array([start_s]))[0, 0])
        # A long wash carries more energy; easing its level keeps each wave's energy within a
        # narrow range, so a minute of sea is equally loud for every seed.
        size = self._wave_level * rng.uniform(0.75, 1.0) * tide * math.sqrt(3.2 / wash_tau_s)
        n = round((back_at_s + 8.0) * ctl)
        t = (np.arange(n) / ctl).astype(np.float32)

        def swell(rise_from: float, peak: float, tau: float) -> np.ndarray:
            """0 until ``rise_from``, a raised-cosine rise to 1 at ``peak``, then decaying."""
            out = np.zeros(n, dtype=np.float32)
            a, b = max(0, math.ceil(rise_from * ctl)), min(n, math.ceil(peak * ctl))
            out[a:b] = _rise((t[a:b] - np.float32(rise_from)) / np.float32(peak - rise_from))
            c = min(n, b + math.ceil(12.0 * tau * ctl))
            out[b:c] = np.exp((t[b:c] - np.float32(peak)) * np.float32(-1.0 / tau))
            return out

        # The crash: the main break and the later ones as it peels along the crest.
        roar = _rise(t / np.float32(build_s)) ** 1.5 * np.exp(
            -np.maximum(t - np.float32(build_s + hold_s), 0.0) / np.float32(roar_tau_s)
        )
        for _ in range(3):
            at_s = build_s + rng.uniform(0.3, 2.5)
            roar += rng.uniform(0.25, 0.5) * swell(at_s - 0.5, at_s, rng.uniform(0.4, 1.0))
        roar *= self._surging(rng, n)
        thump = swell(build_s - 0.3, build_s + 0.3, 0.9)
        wash = swell(0.7 * build_s, wash_at_s, wash_tau_s) * self._surging(rng, n)
        back = 0.3 * swell(back_at_s - 1.5, back_at_s, 2.0)
        foam = wash + back

        # The break travels along the shore: from one side towards the middle and past it;
        # successive waves start on alternate sides.
        side = self._next_pan_sign
        self._next_pan_sign = -side
        start = side * rng.uniform(0.1, 0.5)
        travel = np.clip(t / np.float32(build_s + hold_s + 2.0), 0.0, 1.0)
        pan = np.clip(start - side * 0.6 * travel, -1.0, 1.0) * np.float32(self._spread)
        gains = _pan_gains32(pan)
        rows = np.empty((6, n), dtype=np.float32)
        rows[0:2] = gains * (self._thump_level * size * thump)
        rows[2:4] = gains * (self._roar_level * size * roar)
        rows[4:6] = gains * (self._fizz_level * size * foam)
        self._queue_pops(rng, start_s, foam, wash + 3.0 * back, rows[4:6])
        return rows

    def _queue_pops(
        self,
        rng: np.random.Generator,
        start_s: float,
        foam: np.ndarray,
        density: np.ndarray,
        fizz_rows: np.ndarray,
    ) -> None:
        """Draw a wave's single bubbles: when each rings, at what pitch, where and how loud.

        Their rate follows ``density`` (the backwash, draining through the sand, crackles more
        for its level than the wash), up to :attr:`_POPS_PER_S` at the height of the wash; a
        bubble peaks a few times above the fizz's own level at its moment (``fizz_rows``,
        before the layer's gain), so the crackle thins out with the foam.
        """
        ctl = self._control_rate_hz
        weights = np.maximum(density, 0.0).astype(np.float64)
        expected = self._pops_per_s * float(weights.sum()) / ctl / max(float(foam.max()), 1e-9)
        count = int(rng.poisson(expected))
        if count == 0:
            return
        # Inverse-CDF sampling of sorted uniforms: the pops come out in time order.
        cumulative = np.cumsum(weights)
        target = np.sort(rng.random(count)) * cumulative[-1]
        at = np.minimum(np.searchsorted(cumulative, target), len(weights) - 1)
        within = 1.0 - (cumulative[at] - target) / np.maximum(weights[at], 1e-30)
        frames = round(start_s * self.sample_rate_hz) + (
            (at + np.clip(within, 0.0, 1.0)) * (CONTROL_FACTOR - 1)
        ).astype(np.int64)
        size = np.clip(rng.lognormal(0.0, 0.3, count), 0.6, 1.6) * self._POP_SIZE
        # Bubbles of 0.5-1.6 mm radius: 2-6.5 kHz.
        freqs = np.exp(rng.uniform(math.log(2000.0), math.log(6500.0), count))
        pan = pan_gains(rng.uniform(-0.8, 0.8, count) * self._spread) * math.sqrt(2.0)
        level = fizz_rows.mean(axis=0)[at] * np.float32(self._gain)
        self._pops.append((frames, freqs, pan * (size * level)))

    def _distant_wave(self) -> np.ndarray:
        """A smaller breaker farther along the shore: float32 ``(6, n)`` as :meth:`_wave`."""
        rng = self._distant_rng
        ctl = self._control_rate_hz
        rise_s = rng.uniform(1.0, 2.5)
        tau_s = rng.uniform(1.0, 2.5)
        n = round((rise_s + 5.0 * tau_s) * ctl)
        t = (np.arange(n) / ctl).astype(np.float32)
        shape = _rise(t / np.float32(rise_s)) * np.exp(
            -np.maximum(t - np.float32(rise_s), 0.0) / np.float32(tau_s)
        )
        # Some near, some far; a long one a little softer, so every few seconds of surf carry
        # about the same energy whatever the draw.
        shape *= np.float32(rng.uniform(*self._DISTANT_SIZE) * math.sqrt(3.0 / (rise_s + tau_s)))
        shape *= self._surging(rng, n)
        gains = pan_gains(rng.uniform(-0.9, 0.9) * self._spread) * math.sqrt(2.0)
        rows = np.zeros((6, n), dtype=np.float32)
        rows[0:2] = np.multiply.outer(gains * self._distant_level, shape)
        rows[4:6] = np.multiply.outer(gains * self._distant_fizz, shape)
        return rows


#: Air absorption in dB per metre per Hz squared. ISO 9613-1 (20 degC, 70 % relative humidity)
#: gives about 3.7, 9.7, 33 and 117 dB/km at 1, 2, 4 and 8 kHz: close to this quadratic law
#: above 1 kHz, where a gull's voice lives.
_AIR_DB_PER_M_HZ2 = 1.8e-9
#: Audio frames per step of a note's control signals (pitch, harmonic amplitudes).
_NOTE_STEP = 32


@dataclass(frozen=True)
class _Gull:
    """One bird: its voice and where it stands."""

    f0_hz: float  # peak fundamental of its "kyow"
    gape_hz: float  # resonance of the open beak, where its brightest harmonics sit
    roughness: float  # 0..1: how raucous the voice is (jitter, breath, subharmonics)
    distance_m: float
    pan: float
    other_ratio: float  # fundamental of the syrinx's other side, over this one's
    other_weights: np.ndarray = field(compare=False)  # its harmonics' levels ``(k, 1)``
    breath: Filter = field(compare=False)  # its tract resonances and the air between


@dataclass(frozen=True)
class _NoteShape:
    """Pitch contour of a note type, as ranges drawn per note (fractions of the peak)."""

    duration_s: tuple[float, float]
    start: tuple[float, float]  # fundamental at the onset
    peak_at: tuple[float, float]  # where in the note the peak falls
    end: tuple[float, float]  # fundamental at the end
    gap_s: tuple[float, float]  # silence before the next note


#: "Kyow" / "kee-ow": a quick climb to the peak, then a long fall (SOUND_RECIPES 3.7;
#: Teyssedre 1983 measured yellow-legged gull calls rising for 55-85 ms, falling for 250 ms).
_KYOW = _NoteShape((0.3, 0.45), (0.65, 0.8), (0.12, 0.25), (0.55, 0.7), (0.15, 0.35))
#: "Ha": the first notes of the staccato after a long call's "kyow"s.
_HA = _NoteShape((0.09, 0.16), (0.8, 0.9), (0.25, 0.4), (0.7, 0.8), (0.07, 0.14))
#: "Kek": shorter, sharper notes, where the staccato quickens and in the alarm call's run.
_KEK = _NoteShape((0.06, 0.1), (0.8, 0.9), (0.25, 0.4), (0.7, 0.8), (0.1, 0.18))


class Gulls(ProceduralLayer):
    """Herring gulls along a shore at dawn: now and then a long call, a few birds calling
    around it, a far bird out over the water; quiet between.

    Each note is a source-filter voice (gull calls are harmonic stacks shaped by the
    resonances of the vocal tract, Hardouin & Reby's source-filter studies of herring gull
    calls). The syringeal membranes vibrate at a fundamental that climbs quickly to a peak of
    1.8-2.3 kHz and then falls (the "kee-ow" of SOUND_RECIPES 3.7; Teyssedre 1983 measured
    gull calls rising for 55-85 ms and falling for 250 ms); louder goes with higher, as the
    driving pressure raises both. Their pulsed airflow carries many harmonics (-4 dB per
    octave) onto two broad resonances: the open beak, a horn that passes the highs (Fletcher
    & Tarnopolsky 1999, J. Acoust. Soc. Am. 105), and the tract below it. The other side of
    the syrinx sounds at the same time a fixed interval higher (two-voice phonation: Suthers
    1990, Nature 347; two fundamentals in gull calls, Mathevon et al. 2003, C. R. Biol. 326).
    The voice is rough, not pure: each membrane cycle comes a little early or late and a
    little weak or strong (jitter and shimmer), rough birds break into period doubling (the
    nonlinear dynamics of a syrinx: Fee et al. 1998, Nature 395; Fitch, Neubauer & Herzel
    2002, Anim. Behav. 63), and breath noise pulses with each cycle (Farnell's "semi-chaotic"
    squawk, SOUND_RECIPES 3.7).

    A call starts sharply and stops almost as sharply. The behaviour is a few birds on a
    beach, not a colony (Tinbergen, *The Herring Gull's World*):

    - *Long calls*, ``rate`` a minute, from one of two near birds (8-14 elements in Mierauskas
      & Greimas 1992): one or two drawn-out "kyow"s, then a staccato whose notes grow shorter
      and quicker, "ha-ha" into "kek-kek-kek". Long calls are catching: now and then (30 %)
      the other near bird answers once the first has finished.
    - *The birds around them* (four more, about as far) call every few seconds (0.8-7.2 s
      apart, more often above the default rate, a little less below it): the alarm's
      "kek-kek-kek", or a short long call ("kyow" and a few quick notes).
    - *Far birds* (two to three times as far) give a single falling "yeow" now and then
      (5-45 s apart).

    So the calls come in bouts with real gaps, mostly a few seconds long, and the beach is
    never quiet for long. Distance is physical: level falls as 1/r and air absorption takes
    the high harmonics (ISO 9613-1, exact per harmonic). There is no sea in this layer:
    scenes put gulls over the tide.
    """

    _DEFAULT_DISTANCE = 0.6
    _NEAR_M = (15.0, 90.0)  # where the near birds stand, nearest and farthest setting

    info = LayerInfo(
        name="gulls",
        description="herring gulls along a shore: long calls now and then, a few birds around",
        params=(
            ParamInfo(
                name="rate",
                default=2.0,
                minimum=0.5,
                maximum=6.0,
                unit="bursts/min",
                description="how many long calls the near gulls give per minute (the birds "
                "around them call more often above the default, a little less below it)",
            ),
            intensity_param(0.5, "how long a long call runs (1-2 kyows and 4-9 to 6-13 notes)"),
            distance_param(_DEFAULT_DISTANCE),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 10 seeds).
    _GAIN_DB = -32.1
    #: How many birds of each kind, and how far they stand as a multiple of the near birds'
    #: distance (which the distance parameter sets).
    _NEAR_BIRDS = 2
    _OTHER_BIRDS = 4
    _FAR_BIRDS = 3
    _OTHER_RATIO = (0.9, 1.2)
    _FAR_RATIO = (2.0, 3.0)
    #: The birds around call once per slot of this (s) at the default rate, the far birds
    #: once per slot of the other; above the default both come faster with the rate, below it
    #: slower as its 0.25 power (at 0.5 a minute: 1.4 times as slow). The birds around keep
    #: more than half of every few seconds sounding, which keeps the long calls within 10 LU
    #: of the layer's typical loudness (no startle).
    _OTHER_PERIOD_S = 4.0
    _FAR_PERIOD_S = 25.0
    _DEFAULT_RATE = 2.0
    _SLOW_PACE = 0.25
    #: How many drawn-out "kyow"s open a long call (integers from, to exclusive).
    _KYOWS = (1, 3)
    #: Chance that the other near bird answers a long call, and its pause (s) before it does.
    _ANSWER_CHANCE = 0.3
    _ANSWER_S = (0.2, 1.0)
    #: Share of the birds around whose call is a short long call (the rest: "kek-kek-kek").
    _SHORT_CALL_SHARE = 0.4

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        rate_per_min = self.params["rate"]
        # Farther birds gather into a narrower stretch of the field.
        self._spread = self.params["width"] * geometric(1.0, 0.5, distance)
        (
            near_schedule,
            other_schedule,
            far_schedule,
            self._near_rng,
            self._other_rng,
            self._far_rng,
            birds_rng,
        ) = self.rng.spawn(7)

        # The near birds stand 15-90 m off (the distance parameter), the birds around them
        # about as far, and the far ones two to three times as far.
        near_m = geometric(*self._NEAR_M, distance)

        def flock(count: int, ratio: tuple[float, float]) -> list[_Gull]:
            return [self._gull(birds_rng, near_m * birds_rng.uniform(*ratio)) for _ in range(count)]

        self._near = flock(self._NEAR_BIRDS, (0.9, 1.1))
        self._others = flock(self._OTHER_BIRDS, self._OTHER_RATIO)
        self._far = flock(self._FAR_BIRDS, self._FAR_RATIO)
        self._long_calls = JitteredGrid(near_schedule, 60.0 / rate_per_min, 0.15, 0.85)
        pace = (self._DEFAULT_RATE / rate_per_min) ** (
            1.0 if rate_per_min > self._DEFAULT_RATE else self._SLOW_PACE
        )
        self._other_calls = JitteredGrid(other_schedule, self._OTHER_PERIOD_S * pace, 0.1, 0.9)
        self._far_calls = JitteredGrid(far_schedule, self._FAR_PERIOD_S * pace, 0.1, 0.9)
        self._opening_s: float | None = float(birds_rng.uniform(0.05, 0.5))
        # A long call holds 8-14 elements (Mierauskas & Greimas 1992): 1-2 "kyow"s, then the
        # staccato; deeper intensity, more of it.
        self._staccato = (4 + round(2.0 * intensity), 10 + round(4.0 * intensity))
        self._bouts = OverlapAdd(dtype=np.float32)
        # Levels go as 1/r between birds; the near birds, whose long calls are the loudest,
        # set the reference, so a minute of gulls is equally loud whatever the seed placed
        # where.
        spread = math.sqrt(np.mean([(g.distance_m / near_m) ** -2 for g in self._near]))
        self._reference_m = geometric(*self._NEAR_M, self._DEFAULT_DISTANCE) / spread
        self._gain = db_to_gain(self._GAIN_DB)

    def _gull(self, rng: np.random.Generator, distance_m: float) -> _Gull:
        sr = self.sample_rate_hz
        gape_hz = rng.uniform(4200.0, 5200.0)
        # Breath noise rings in the beak's resonance (at its mean gape) and loses its top to
        # the air like the harmonics do (one filter pass: a resonance and a low-pass).
        air_hz = min(6000.0, math.sqrt(6.0 / (_AIR_DB_PER_M_HZ2 * distance_m)))
        beak = resonator(0.9 * gape_hz, 1.5, sr)
        breath_sos = unit_noise_gain(np.concatenate([beak, lowpass(air_hz, sr, 2)]), sr)
        f0_hz = rng.uniform(1800.0, 2300.0)
        order = np.arange(1, self._harmonics(f0_hz) + 1, dtype=np.float32)[:, None]
        return _Gull(
            f0_hz=f0_hz,
            gape_hz=gape_hz,
            roughness=rng.uniform(0.0, 0.6),
            distance_m=distance_m,
            pan=rng.uniform(-0.8, 0.8) * self._spread,
            # Closer intervals (1.2-1.3) beat with the first voice at a few hundred hertz into a
            # squeak (the tagger hears them so too).
            other_ratio=rng.uniform(1.3, 1.45),
            other_weights=np.float32(rng.uniform(0.2, 0.4)) / np.sqrt(order),
            breath=Filter(breath_sos, (1,), np.float32),
        )

    def _harmonics(self, f0_hz: float) -> int:
        """How many harmonics a voice of peak fundamental ``f0_hz`` carries (up to 11 kHz)."""
        return int(min(0.45 * self.sample_rate_hz, 11000.0) / (f0_hz * 1.1))

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        t_end = t0 + self.chunk_frames / sr
        for start_s in self._long_calls.pop_until(t_end):
            rng = self._near_rng
            caller = int(rng.integers(len(self._near)))
            notes = [_KYOW] * int(rng.integers(*self._KYOWS)) + self._staccato_notes(rng)
            call = self._bout(rng, self._near[caller], notes)
            offset = round((start_s - t0) * sr)
            self._bouts.add(offset, call)
            # Long calls are catching: now and then the other near bird answers once this one
            # has finished.
            if rng.random() < self._ANSWER_CHANCE:
                other = self._near[(caller + 1) % len(self._near)]
                notes = [_KYOW, *self._staccato_notes(rng)]
                delay = call.shape[1] + round(rng.uniform(*self._ANSWER_S) * sr)
                self._bouts.add(offset + delay, self._bout(rng, other, notes))
        other_calls = self._other_calls.pop_until(t_end)
        if self._opening_s is not None and self._opening_s < t_end:
            # The beach is already alive when the layer starts: a call within its first second.
            other_calls.insert(0, self._opening_s)
            self._opening_s = None
        for start_s in other_calls:
            rng = self._other_rng
            gull = self._others[int(rng.integers(len(self._others)))]
            if rng.random() < self._SHORT_CALL_SHARE:
                notes = [_KYOW, _HA] + [_KEK] * int(rng.integers(3, 7))  # a short long call
            else:
                notes = [_KEK] * int(rng.integers(4, 8))  # the alarm's "kek-kek-kek"
            self._bouts.add(round((start_s - t0) * sr), self._bout(rng, gull, notes))
        for start_s in self._far_calls.pop_until(t_end):
            rng = self._far_rng
            gull = self._far[int(rng.integers(len(self._far)))]
            self._bouts.add(round((start_s - t0) * sr), self._bout(rng, gull, [_KYOW]))
        return self._bouts.pop(self.chunk_frames)

    def _staccato_notes(self, rng: np.random.Generator) -> list[_NoteShape]:
        """The staccato of a long call: its notes grow shorter and quicker towards the end."""
        count = int(rng.integers(*self._staccato))
        return [_HA] * 2 + [_KEK] * (count - 2)

    def _bout(self, rng: np.random.Generator, gull: _Gull, notes: list[_NoteShape]) -> np.ndarray:
        """One bird's notes in a row, placed in the field: float32 ``(2, n)``."""
        sr = self.sample_rate_hz
        placed = []
        t_s = 0.0
        for shape in notes:
            duration_s = rng.uniform(*shape.duration_s)
            placed.append((round(t_s * sr), self._note(rng, gull, shape, duration_s)))
            t_s += duration_s + rng.uniform(*shape.gap_s)
        dry = np.zeros(max(o + len(x) for o, x in placed), dtype=np.float32)
        for offset, note in placed:
            dry[offset : offset + len(note)] += note
        level = self._gain * self._reference_m / gull.distance_m
        gains = pan_gains(gull.pan) * (math.sqrt(2.0) * level)
        return np.multiply.outer(gains.astype(np.float32), dry)

    def _note(
        self, rng: np.random.Generator, gull: _Gull, shape: _NoteShape, duration_s: float
    ) -> np.ndarray:
        """One rough harmonic note, dry and mono: float32 ``(n,)`` with unit RMS."""
        sr = self.sample_rate_hz
        step = _NOTE_STEP
        n = round(duration_s * sr)
        m = n // step + 2
        x = np.arange(m) * (step / sr) / duration_s  # position in the note, 0..1

        # Pitch: a quick climb to the peak, then a fall that steepens towards the end.
        start = rng.uniform(*shape.start)
        peak_at = rng.uniform(*shape.peak_at)
        end = rng.uniform(*shape.end)
        pitch = np.where(
            x < peak_at,
            start + (1.0 - start) * _rise(x / peak_at),
            1.0 - (1.0 - end) * np.clip((x - peak_at) / (1.0 - peak_at), 0.0, 1.0) ** 1.4,
        )
        f0_hz = gull.f0_hz * rng.uniform(0.96, 1.04) * pitch

        # Loudness and gape follow the driving pressure: both peak with the pitch.
        # A call starts sharply (the "k" of "kyow" and "kek": 8 ms) and stops almost as
        # sharply (25 ms): a note faded in and out slowly is a beep, not a bird.
        attack = _rise(x * duration_s / 0.008)
        release = _rise((1.0 - x) * duration_s / 0.025)
        envelope = attack * release * pitch**2
        gape_hz = gull.gape_hz * (0.8 + 0.2 * (pitch - end) / (1.0 - end))

        # Harmonics of a pulsed airflow (a flat -4 dB per octave) on the resonances of the open
        # beak, a horn that passes the highs, and of the tract below it.
        harmonics = self._harmonics(gull.f0_hz)
        k = np.arange(1, harmonics + 1)[:, None]
        freq_hz = k * f0_hz
        beak = freq_hz / gape_hz
        tract = freq_hz / (0.65 * gape_hz)
        resonance = (
            0.15
            + 1.0 / np.sqrt(1.0 + 2.25 * (beak - 1.0 / beak) ** 2)
            + 0.5 / np.sqrt(1.0 + 4.0 * (tract - 1.0 / tract) ** 2)
        )
        air_db = _AIR_DB_PER_M_HZ2 * gull.distance_m * freq_hz**2
        amps = k**-0.4 * resonance * 10.0 ** (-air_db / 20.0) * envelope
        amps[freq_hz > 0.45 * sr] = 0.0
        tone_rms = np.sqrt(0.5 * np.sum(amps**2, axis=0))

        # Period doubling: an episode where alternate cycles differ, for the rough birds.
        doubling = np.zeros(m)
        if rng.random() < 0.6 * gull.roughness:
            centre = rng.uniform(0.25, 0.75)
            half_width = rng.uniform(0.1, 0.3)
            doubling = rng.uniform(0.2, 0.5) * _rise(1.0 - np.abs(x - centre) / half_width)
        breath = (0.1 + 0.1 * gull.roughness) * tone_rms * (1.0 + doubling)

        rows = np.vstack([f0_hz, amps, doubling, breath]).astype(np.float32)
        up = _linear_up(rows, step, n)
        # Each cycle of the membranes is a little late or early and a little weak or strong
        # (jitter and shimmer, the roughness of an irregular vibration): random per cycle,
        # eased across the cycle so nothing steps. A note holds at most ~1500 cycles, so
        # float32 keeps the phase to a thousandth of a turn.
        cycles = (np.cumsum(up[0], dtype=np.float64) / sr).astype(np.float32)
        whole = np.floor(cycles)
        within = cycles - whole  # float32: an int32 array would promote it to float64
        index = whole.astype(np.int32)
        count = int(index[-1]) + 2
        late = np.cumsum(rng.standard_normal(count)) * (0.005 + 0.02 * gull.roughness)
        strong = 1.0 + (0.05 + 0.25 * gull.roughness) * rng.standard_normal(count)
        cycles += _between(late.astype(np.float32), index, within)
        strength = _between(np.maximum(strong, 0.2).astype(np.float32), index, within)
        two_pi = np.float32(2.0 * math.pi)
        # Two turns, for the half-rate term (floor, not %: numpy's float32 % is 50x slower).
        half = np.float32(0.5) * cycles
        phase = (half - np.floor(half)) * (np.float32(2.0) * two_pi)
        cosine = np.cos(phase)
        tone = _weighted_harmonics(phase, cosine, up[1 : 1 + harmonics])
        # The other side of the syrinx sounds at once, a fixed interval higher and softer,
        # its harmonics fading faster (a thinner membrane).
        other = cycles * np.float32(gull.other_ratio)
        other = (other - np.floor(other)) * two_pi
        tone += _weighted_harmonics(
            other, np.cos(other), up[1 : 1 + harmonics] * gull.other_weights
        )
        if doubling.any():
            strength *= 1.0 + up[1 + harmonics] * np.cos(np.float32(0.5) * phase)
        tone *= strength

        # Breath noise, pulsed by the vibrating membranes and darkened by the same air.
        pulse = np.float32(0.5) + np.float32(0.5) * cosine
        pulse *= pulse
        pulse *= white_noise(rng, (n,), 1.6)
        tone += gull.breath.from_rest(pulse) * up[2 + harmonics]
        # Every voice equally strong at the source: how loud a call is heard is the distance's
        # doing (and a kyow, sustained, carries more than a ha).
        tone *= np.float32(1.0 / (math.sqrt(np.dot(tone, tone) / n) + 1e-12))
        return tone


def _between(values: np.ndarray, index: np.ndarray, within: np.ndarray) -> np.ndarray:
    """Per-cycle ``values`` eased linearly across each cycle (``index``, fraction ``within``)."""
    out = np.diff(values)[index]
    out *= within
    out += values[index]
    return out


def _linear_up(rows: np.ndarray, step: int, n: int) -> np.ndarray:
    """Control rows ``(k, m)``, one value per ``step`` frames, interpolated to ``(k, n)``.

    Each step is a blend of its two end values: one small matrix product (as in
    :class:`~soundscapes.dsp.Upsampler`), several times faster than a broadcast multiply-add
    over a short last axis.
    """
    u = np.arange(step, dtype=rows.dtype) / rows.dtype.type(step)
    ends = np.stack([rows[:, :-1], rows[:, 1:]], axis=-1)  # (k, m - 1, 2)
    out = ends @ np.stack([1.0 - u, u])
    return out.reshape(rows.shape[0], -1)[:, :n]


def _weighted_harmonics(phase: np.ndarray, cosine: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """``sum_k amps[k-1] * sin(k phase)``, with amplitudes per sample ``(harmonics, n)``.

    Through the Chebyshev recurrence ``sin(k x) = 2 cos(x) sin((k-1) x) - sin((k-2) x)``:
    one ``sin`` and one ``cos`` in all instead of one ``sin`` per harmonic.
    """
    below = np.zeros_like(phase)
    current = np.sin(phase)
    twice_cos = np.float32(2.0) * cosine
    tone = amps[0] * current
    scratch = np.empty_like(phase)
    for row in amps[1:]:
        # In place: the (k-2)th sine's buffer takes the kth.
        np.multiply(twice_cos, current, out=scratch)
        np.subtract(scratch, below, out=below)
        below, current = current, below
        np.multiply(row, current, out=scratch)
        tone += scratch
    return tone


LAYERS: tuple[type[ProceduralLayer], ...] = (Gulls, Tide)

__all__ = ["LAYERS", "Gulls", "Tide"]
