"""The sea on a shore: waves that build, crash and wash back, over the surf farther along."""

from __future__ import annotations

import math

import numpy as np

from soundscapes import dsp
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, param, placement


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

    A wave is an event in three sounds (rebuilt after close recordings of surf):

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
        words={
            "tide": 1.0, "low tide": 1.0, "wave": 1.0, "surf": 1.0, "shore": 1.0, "coast": 1.0,
            "sea": 1.0, "ocean": 1.0, "beach": 0.8, "shoreline": 0.8, "seaside": 0.8,
            "breaker": 0.8, "foam": 0.5, "seashell": 0.5, "harbor": 0.5, "harbour": 0.5,
            "lagoon": 0.5, "sand": 0.5, "lake": 0.3, "pool": 0.3, "strand": 0.3, "pebble": 0.3,
        },
        noun_only=frozenset({"sea", "wave"}),
        bed=True,
        description="waves crashing and washing up a shore, over the surf farther along it",
        params=(
            *placement(0.5, "size of the waves: louder crashes and longer washes",
                       distance=_DEFAULT_DISTANCE, width=0.8),
            param("rate", 6.0, (3.0, 10.0), "waves/min",
                  "how many near waves break per minute (6 = one every ~10 s)"),
        ),
    )  # fmt: skip
    _GAIN_DB = -31.8  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)
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

    def _build(self, *, intensity: float, distance: float, width: float, rate: float) -> None:
        self._width = width
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
        self._factor = dsp.low_rate_factor(sr, 1.45 * self._ROAR_HZ[1])
        low = sr / self._factor
        self._low_frames = self.chunk_frames // self._factor
        # Fixed filters over whole chunks: matrix products, not lfilter (dsp.StateSpaceFilter).
        self._sea_filter = dsp.long_call_filter(
            dsp.unit_noise_gain(dsp.bandpass(*self._SEA_HZ, low, 1), low)
        )
        self._roar_filter = dsp.long_call_filter(
            dsp.unit_noise_gain(dsp.bandpass(*self._ROAR_HZ, low, 1), low)
        )
        for f in (self._sea_filter, self._roar_filter):
            f.warm_up(dsp.white_noise(self._low_rng, (2, int(0.5 * low))))
        fizz_top_hz = dsp.geometric(self._FIZZ_HZ[1], self._FIZZ_FAR_HZ, distance)
        # The fizz band: a first-order high-pass, a second-order low-pass at the top and a
        # two-tap average (a third zero at the Nyquist frequency), so the hiss falls away
        # steeply above its top, as air and distance take it. The high-pass and the average
        # share one section; with the low-pass that is one third-order filter.
        high = dsp.highpass(self._FIZZ_HZ[0], sr, 1)[0]
        high[:3] = np.convolve(high[:2], [0.5, 0.5])
        self._fizz_filter = dsp.long_call_filter(
            dsp.unit_noise_gain(np.vstack([dsp.lowpass(fizz_top_hz, sr, 2), high]), sr)
        )
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR
        self._surge = dsp.Filter(
            dsp.unit_noise_gain(
                dsp.lowpass(self._SURGE_HZ, self._control_rate_hz, 2), self._control_rate_hz
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
        near = dsp.geometric(1.0, 0.5, distance) / dsp.geometric(1.0, 0.5, self._DEFAULT_DISTANCE)
        self._wave_level = (0.6 + 0.8 * intensity) * near
        small = min(1.0, 0.5 + intensity)
        dark = dsp.geometric(1.0, 0.4, distance)
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
        self._spread = self._width * dsp.geometric(1.0, 0.5, distance)

        self._waves = dsp.JitteredGrid(wave_schedule_rng, 60.0 / rate, *self._WAVE_JITTER)
        self._distant = dsp.JitteredGrid(distant_schedule_rng, self._DISTANT_PERIOD_S, 0.1, 0.9)
        # "Tide": wave size drifts over minutes (a 5-20 min drift); the
        # bay's roar wanders by a quarter over seconds.
        self._tide = dsp.SmoothRandom(drift_rng, 240.0, start=0.5)
        self._bay = dsp.SmoothRandom(drift_rng, 2.5, start=0.5)
        self._next_pan_sign = 1.0 if drift_rng.random() < 0.5 else -1.0
        # Rows: sea L/R, roar L/R, fizz L/R, at the control rate.
        self._envelopes = dsp.OverlapAdd(6, dtype=np.float32)
        # Pending bubble pops, one entry per wave: absolute frames, frequencies (Hz) and
        # gains ``(2, k)``; and the tails of the last chunk's bubbles.
        self._pops: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._bubble_tail = np.zeros((2, self._BUBBLE_FRAMES))

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
        noise = dsp.white_noise(rng, (2 * pairs, frames), [half, half * self._width] * pairs)
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
        surge = self._surge.from_rest(dsp.white_noise(rng, (n,), self._SURGE_DEPTH))
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
            (at + np.clip(within, 0.0, 1.0)) * (dsp.CONTROL_FACTOR - 1)
        ).astype(np.int64)
        size = np.clip(rng.lognormal(0.0, 0.3, count), 0.6, 1.6) * self._POP_SIZE
        # Bubbles of 0.5-1.6 mm radius: 2-6.5 kHz.
        freqs = np.exp(rng.uniform(math.log(2000.0), math.log(6500.0), count))
        pan = dsp.pan_gains(rng.uniform(-0.8, 0.8, count) * self._spread) * math.sqrt(2.0)
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
        gains = dsp.pan_gains(rng.uniform(-0.9, 0.9) * self._spread) * math.sqrt(2.0)
        rows = np.zeros((6, n), dtype=np.float32)
        rows[0:2] = np.multiply.outer(gains * self._distant_level, shape)
        rows[4:6] = np.multiply.outer(gains * self._distant_fizz, shape)
        return rows


LAYERS: tuple[type[ProceduralLayer], ...] = (Tide,)

__all__ = ["LAYERS", "Tide"]
