"""Herring gulls along a shore: long calls in bouts, a few birds around, far ones now and then."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from soundscapes import dsp
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, param, placement
from soundscapes.layers.tide import _rise

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
    breath: dsp.Filter = field(compare=False)  # its tract resonances and the air between


@dataclass(frozen=True)
class _NoteShape:
    """Pitch contour of a note type, as ranges drawn per note (fractions of the peak)."""

    duration_s: tuple[float, float]
    start: tuple[float, float]  # fundamental at the onset
    peak_at: tuple[float, float]  # where in the note the peak falls
    end: tuple[float, float]  # fundamental at the end
    gap_s: tuple[float, float]  # silence before the next note


#: "Kyow" / "kee-ow": a quick climb to the peak, then a long fall (Teyssedre
#: 1983 measured yellow-legged gull calls rising for 55-85 ms, falling for 250 ms).
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
    1.8-2.3 kHz and then falls (the "kee-ow"; Teyssedre 1983 measured
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
    squawk, pd-list 2008).

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
        words={
            "gull": 1.0, "seagull": 1.0, "seabird": 0.8, "sea bird": 0.8, "tern": 0.6,
            "pelican": 0.5,
        },
        description="herring gulls along a shore: long calls now and then, a few birds around",
        params=(
            param("rate", 2.0, (0.5, 6.0), "bursts/min",
                  "how many long calls the near gulls give per minute (the birds "
                  "around them call more often above the default, a little less below it)"),
            *placement(0.5, "how long a long call runs (1-2 kyows and 4-9 to 6-13 notes)",
                       distance=_DEFAULT_DISTANCE, width=0.8),
        ),
    )  # fmt: skip
    _GAIN_DB = -32.1  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)
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

    def _build(self, *, rate: float, intensity: float, distance: float, width: float) -> None:
        # Farther birds gather into a narrower stretch of the field.
        self._spread = width * dsp.geometric(1.0, 0.5, distance)
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
        near_m = dsp.geometric(*self._NEAR_M, distance)

        def flock(count: int, ratio: tuple[float, float]) -> list[_Gull]:
            return [self._gull(birds_rng, near_m * birds_rng.uniform(*ratio)) for _ in range(count)]

        self._near = flock(self._NEAR_BIRDS, (0.9, 1.1))
        self._others = flock(self._OTHER_BIRDS, self._OTHER_RATIO)
        self._far = flock(self._FAR_BIRDS, self._FAR_RATIO)
        self._long_calls = dsp.JitteredGrid(near_schedule, 60.0 / rate, 0.15, 0.85)
        pace = (self._DEFAULT_RATE / rate) ** (
            1.0 if rate > self._DEFAULT_RATE else self._SLOW_PACE
        )
        self._other_calls = dsp.JitteredGrid(other_schedule, self._OTHER_PERIOD_S * pace, 0.1, 0.9)
        self._far_calls = dsp.JitteredGrid(far_schedule, self._FAR_PERIOD_S * pace, 0.1, 0.9)
        self._opening_s: float | None = float(birds_rng.uniform(0.05, 0.5))
        # A long call holds 8-14 elements (Mierauskas & Greimas 1992): 1-2 "kyow"s, then the
        # staccato; deeper intensity, more of it.
        self._staccato = (4 + round(2.0 * intensity), 10 + round(4.0 * intensity))
        self._bouts = dsp.OverlapAdd(dtype=np.float32)
        # Levels go as 1/r between birds; the near birds, whose long calls are the loudest,
        # set the reference, so a minute of gulls is equally loud whatever the seed placed
        # where.
        spread = math.sqrt(np.mean([(g.distance_m / near_m) ** -2 for g in self._near]))
        self._reference_m = dsp.geometric(*self._NEAR_M, self._DEFAULT_DISTANCE) / spread

    def _gull(self, rng: np.random.Generator, distance_m: float) -> _Gull:
        sr = self.sample_rate_hz
        gape_hz = rng.uniform(4200.0, 5200.0)
        # Breath noise rings in the beak's resonance (at its mean gape) and loses its top to
        # the air like the harmonics do (one filter pass: a resonance and a low-pass).
        air_hz = min(6000.0, math.sqrt(6.0 / (_AIR_DB_PER_M_HZ2 * distance_m)))
        beak = dsp.resonator(0.9 * gape_hz, 1.5, sr)
        breath_sos = dsp.unit_noise_gain(np.concatenate([beak, dsp.lowpass(air_hz, sr, 2)]), sr)
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
            breath=dsp.Filter(breath_sos, (1,), np.float32),
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
        gains = dsp.pan_gains(gull.pan) * (math.sqrt(2.0) * level)
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
        pulse *= dsp.white_noise(rng, (n,), 1.6)
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


LAYERS: tuple[type[ProceduralLayer], ...] = (Gulls,)

__all__ = ["LAYERS", "Gulls"]
