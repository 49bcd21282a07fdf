"""Struck metal: wind chimes (tubes) and a starry shimmer (small bars)."""

from __future__ import annotations

import math

import numpy as np

from soundscapes import dsp
from soundscapes.layers.modes import _DampedSines, _midi_hz
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, placement

_DEFAULT_DISTANCE = 0.4


class Chimes(ProceduralLayer):
    """Wind chimes: five tuned metal tubes rung by a clapper that the wind swings.

    A chime tube rings as a free-free bar (Fletcher & Rossing, *The Physics of Musical Instruments*,
    2nd ed., sec. 2.16): inharmonic bending modes at 1 : 2.756 : 5.404 : 8.933 : 13.34 : 18.64 :
    24.81 times the lowest. Modal synthesis after Lukkari & Valimaki (2004, "Modal synthesis of wind
    chime sounds"): their measured gains and decays for the first three modes (the third loudest;
    T60 = 40 s capped at 20, 7 and 2 s); the upper modes radiate well but lose their energy fast
    (T60 1 s down to 0.2 s), which makes the bright "tink" of each strike. A tube is never perfectly
    round, so every mode is a close doublet (split by 0.01-0.06 %), its halves excited by how
    squarely the clapper lands: the slow beating of a struck tube as it rings.

    The wind swings the clapper (Lukkari & Valimaki's stochastic trigger): every few tens of
    milliseconds it may reach a tube, more likely the stronger the wind, so strikes come as a
    Poisson stream whose rate follows the wind: in the breeze one every second or two, in a
    gust (every 8-30 s, 3-6 s long) a run of up to a few a second, each on a neighbour of the
    last tube struck. The clapper gathers the wind's energy between strikes and spends it on
    the next (their ``sqrt(E + 0.1)`` amplitude), so a quick rebound lands softly and a strike
    after a lull firmly. A faint breeze underneath, swelling with the gusts, is the wind that
    moves them.
    """

    info = LayerInfo(
        name="chimes",
        words={
            "chime": 1.0, "wind chime": 1.0, "windchime": 1.0, "bell": 0.8, "music box": 0.6,
            "tinkle": 0.6,
        },
        noun_only=frozenset({"bell"}),
        description="pentatonic wind chimes rung by a breeze, in runs as it gusts",
        params=placement(0.3, "how windy: gusts come more often and ring more tubes",
                         distance=_DEFAULT_DISTANCE, width=0.8),
    )  # fmt: skip
    _GAIN_DB = -5.8  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)
    # Free-free bar modes (Fletcher & Rossing eq. 2.64: (beta_n L)^2 over (4.730)^2).
    _MODE_RATIOS = np.array([1.0, 2.756, 5.404, 8.933, 13.345, 18.638, 24.812])
    _MODE_GAINS = np.array([0.0787, 0.1849, 1.0, 0.4, 0.3, 0.2, 0.12])
    _T60_S = np.array([20.0, 7.0, 2.0, 1.0, 0.6, 0.35, 0.2])
    _TUNING_MIDI = (69.0, 71.0, 74.0, 76.0, 78.0)  # A4 B4 D5 E5 F#5: pentatonic
    _LOW_MODES = 2
    #: Highest strike rate (a gust's peak at full intensity), for thinning.
    _MAX_RATE_HZ = 3.0
    #: Leak of the clapper's gathered energy (0.9999 a sample at 11025 Hz, Lukkari & Valimaki).
    _LEAK_S = 0.9
    _BREEZE_LEVEL = 0.005
    #: A mode stops where it has fallen this far below the strike's loudest mode.
    _FLOOR = 1e-3

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        rngs = self.rng.spawn(4)
        gust_rng, strike_rng, tube_rng, self._breeze_rng = rngs
        sr = self.sample_rate_hz
        tuned = np.array([_midi_hz(note) for note in self._TUNING_MIDI])
        modes_hz = tuned[:, None] * self._MODE_RATIOS
        # Each mode a doublet split by 0.01-0.06 % of its frequency (an imperfectly round tube).
        split = tube_rng.uniform(1e-4, 6e-4, modes_hz.shape)
        doublets = np.stack([modes_hz * (1.0 - split / 2), modes_hz * (1.0 + split / 2)], axis=-1)
        decay_per_s = np.repeat(6.908 / self._T60_S, 2)  # -60 dB (ln 1000) over T60
        # The two low modes ring for many seconds but stay under about 2 kHz: they are rendered
        # at a low rate (with the breeze) and raised once per chunk; the bright modes at the
        # full rate.
        low_partials = 2 * self._LOW_MODES
        self._factor = dsp.low_rate_factor(sr, float(doublets[:, : self._LOW_MODES].max()))
        low = sr / self._factor
        self._low_tubes = [
            _DampedSines(row.ravel()[:low_partials], decay_per_s[:low_partials], low)
            for row in doublets
        ]
        self._high_tubes = [
            _DampedSines(
                np.minimum(row.ravel()[low_partials:], 0.45 * sr), decay_per_s[low_partials:], sr
            )
            for row in doublets
        ]
        self._audible = np.repeat(modes_hz < 0.45 * sr, 2, axis=1)  # (tubes, partials)
        # Distance dulls the upper modes (air absorption, per kHz) and lowers the level; the
        # dulling keeps a strike's first 3 s of energy as at the default distance, so a near
        # strike is brighter, not a jolt above the ringing it leaves.
        per_khz = modes_hz.mean(axis=0) / 1000.0
        tone = self._MODE_GAINS * dsp.geometric(1.0, 0.4, distance) ** per_khz
        reference = self._MODE_GAINS * dsp.geometric(1.0, 0.4, _DEFAULT_DISTANCE) ** per_khz
        tone *= math.sqrt(self._early_energy(reference) / self._early_energy(tone))
        nearness = dsp.geometric(1.0, 0.5, distance)
        self._mode_gains = tone * nearness * self._gain
        self._breeze_level = self._BREEZE_LEVEL * nearness * self._gain
        # Farther is narrower too.
        width *= dsp.geometric(1.0, 0.5, distance)
        self._pans = dsp.pan_gains(np.linspace(-0.6, 0.6, 5) * width)  # (2, tubes)
        self._tube = int(tube_rng.integers(5))
        # How windy: gusts come more often, strikes too, and a gust pushes harder.
        self._gusts = dsp.JitteredGrid(gust_rng, dsp.geometric(30.0, 8.0, intensity), 0.1, 0.9)
        self._gust_rng = gust_rng
        self._active: list[tuple[float, float]] = []  # (start, duration) of gusts under way
        # Strikes as a Poisson stream whose rate follows the wind (Lukkari & Valimaki's
        # 30-50 ms clapper checks, each a small chance of a hit), drawn by thinning a stream
        # at the highest rate: a steady breeze rings a tube every few seconds, a gust's peak
        # a few a second.
        self._breeze_rate_hz = 0.5 + 0.3 * intensity
        self._gust_rate_hz = 1.2 + 1.5 * intensity
        self._candidates = dsp.PoissonClock(strike_rng, self._MAX_RATE_HZ, marks=4)
        self._last_strike_s = -1.0
        self._gust_push = 0.5 + 1.0 * intensity
        self._events = dsp.OverlapAdd(dtype=np.float32)
        self._low_events = dsp.OverlapAdd(dtype=np.float32)
        self._wind = dsp.OverlapAdd(1, capacity=4096)
        self._breeze_filter = dsp.Filter(
            dsp.unit_noise_gain(dsp.bandpass(150.0, 700.0, low, 2), low)
        )
        self._wind_up = dsp.Upsampler(dsp.CONTROL_FACTOR // self._factor, 1, smooth=False)
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)
        self._width = width

    @classmethod
    def _early_energy(cls, gains: np.ndarray) -> float:
        """Energy of a strike's first 3 s, up to a constant: each mode decays by 60 dB over
        its T60, so its energy over a window grows with ``gain²`` and the shorter of the two."""
        return float(np.sum(gains**2 * np.minimum(cls._T60_S, 3.0)))

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        end_s = (self.chunk_start_frame + self.chunk_frames) / sr
        for gust_s in self._gusts.pop_until(end_s):
            self._gust(gust_s)
        # Each candidate carries whether it is kept, how hard it lands, which way the clapper
        # then moves and how squarely it meets the tube.
        times_s, marks = self._candidates.pop_marked_until(end_s)
        gust = self._gust_at(times_s)
        rate_hz = self._breeze_rate_hz + (self._gust_rate_hz - self._breeze_rate_hz) * gust
        for time_s, wind, (keep, force, step, angle), r in zip(
            times_s, gust, marks, rate_hz, strict=True
        ):
            # A clapper cannot land twice within its 30-50 ms rebound.
            since_s = time_s - self._last_strike_s
            if keep < r / self._MAX_RATE_HZ and since_s > 0.04:
                self._last_strike_s = float(time_s)
                self._tube = (self._tube + (1 if step < 0.5 else -1)) % 5
                # Lukkari & Valimaki: the clapper gathers the wind's energy between strikes,
                # E = w tau (1 - exp(-dt / tau)) with their leak (tau = 0.9 s), and strikes
                # with an amplitude of sqrt(E + 0.1): a quick rebound lands softly.
                push = 1.0 + self._gust_push * wind
                energy = push * (1.0 - math.exp(-since_s / self._LEAK_S))
                velocity = 0.55 * math.sqrt(energy + 0.1) * (0.9 + 0.1 * force)
                self._strike(float(time_s), self._tube, velocity, float(angle))
        self._active = [(s, d) for s, d in self._active if s + d > end_s]
        m = self.chunk_frames // self._factor
        wind = self._wind.pop(self.chunk_frames // dsp.CONTROL_FACTOR)
        level = self._wind_up(1.0 + wind)[0].astype(np.float32)
        breeze = self._breeze_filter(dsp.white_noise(self._breeze_rng, (2, m), self._breeze_level))
        low = dsp.set_width(breeze * level, self._width).astype(np.float32)
        self._low_events.pop_into(low)
        out = self._upsample(low)
        self._events.pop_into(out)
        return out

    def _gust(self, gust_s: float) -> None:
        """A gust begins: its strength rises and falls as a half sine over its length."""
        duration_s = float(self._gust_rng.uniform(3.0, 6.0))
        self._active.append((gust_s, duration_s))
        # The breeze swells with it (on the control grid, from absolute time).
        ctl = self.sample_rate_hz / dsp.CONTROL_FACTOR
        first = round(gust_s * ctl)
        n = round((gust_s + duration_s) * ctl) - first
        swell = 2.0 * np.sin(np.pi * (np.arange(n) + first - gust_s * ctl) / (duration_s * ctl))
        self._wind.add(first - self.chunk_start_frame // dsp.CONTROL_FACTOR, swell[None, :] ** 2)

    def _gust_at(self, times_s: np.ndarray) -> np.ndarray:
        """Strength (0-1) of the strongest gust under way at each time."""
        strength = np.zeros(len(times_s))
        for start_s, duration_s in self._active:
            u = np.clip((times_s - start_s) / duration_s, 0.0, 1.0)
            strength = np.maximum(strength, np.sin(np.pi * u))
        return strength

    def _strike(self, time_s: float, tube: int, velocity: float, angle: float) -> None:
        """One strike of the clapper on ``tube``: every mode rings from the same instant."""
        sr = self.sample_rate_hz
        # The clapper lands at an angle to the tube's two axes: each doublet's halves ring in
        # proportion to the cosine and sine of it, in phase at the strike.
        theta = 0.5 * math.pi * angle
        halves = np.array([math.cos(theta), math.sin(theta)])
        amplitudes = ((self._mode_gains * velocity)[:, None] * halves).ravel()
        amplitudes = np.where(self._audible[tube], amplitudes, 0.0)
        floor = self._FLOOR * float(np.max(amplitudes))
        t60_s = np.repeat(self._T60_S, 2)
        lengths_s = t60_s * np.log(np.maximum(amplitudes, floor) / floor) / 6.908
        split = 2 * self._LOW_MODES
        left, right = self._pans[:, tube]
        for bank, rate, part in (
            (self._low_tubes[tube], sr / self._factor, slice(0, split)),
            (self._high_tubes[tube], sr, slice(split, None)),
        ):
            sound = bank(amplitudes[part], np.zeros(len(amplitudes[part])), lengths_s[part] * rate)
            attack = round(0.001 * rate)  # the clapper's contact: about a millisecond
            sound[:attack] *= dsp.raised_cosine(attack).astype(np.float32)
            events = self._low_events if rate < sr else self._events
            offset = round(time_s * rate) - round(self.chunk_start_frame * rate / sr)
            events.add_panned(offset, sound, (float(left), float(right)))


class Shimmer(ProceduralLayer):
    """A high, soft sparkle for a starry sky: tiny bells struck softly, here and there.

    Each star is a small metal bar, like the top octave of a glockenspiel, struck with a soft
    yarn mallet on a high D major pentatonic set (D7-E8, 2.3-5.3 kHz). A bar rings in its
    free-free bending modes (Fletcher & Rossing, *The Physics of Musical Instruments*, 2nd
    ed., sec. 2.16 and 19.2: 1 : 2.756 : 5.404), the soft mallet's long contact (a few
    milliseconds) exciting the upper two only faintly, so what is heard is the ringing
    fundamental (T60 about 3 s), its onset soft rather than a tick. No bar is perfectly
    uniform: each mode is a doublet a few hertz apart, and as the two halves beat the star
    twinkles while it fades. Strikes come at random moments on a steady grid (1-4 a second),
    each at a random place in the field, so the sky sparkles evenly and never swells.
    """

    info = LayerInfo(
        name="shimmer",
        words={
            "star": 1.0, "starry": 1.0, "starlight": 1.0, "night sky": 1.0, "shimmer": 0.8,
            "twinkle": 0.8, "constellation": 0.8, "stardust": 0.8, "milky way": 0.8, "galaxy": 0.7,
            "nebula": 0.7, "nebulae": 0.7, "moonlight": 0.7, "moon": 0.6, "sky": 0.6,
            "celestial": 0.6, "cosmos": 0.6, "meteor": 0.5, "comet": 0.5, "cosmic": 0.5,
            "sparkle": 0.5, "glitter": 0.5, "glimmer": 0.5, "firefly": 0.4,
        },
        noun_only=frozenset({"moon", "sky", "star"}),
        description="a high, soft sparkle of tiny struck bells, like a starry sky",
        params=placement(0.4, "how many stars twinkle at once (1-4 new ones a second)",
                         distance=0.3, width=1.0),
    )  # fmt: skip
    _GAIN_DB = -19.5  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)
    _PITCHES_MIDI = (86, 88, 90, 93, 95, 98, 100)  # D6 .. E7, pentatonic
    _MODE_RATIOS = np.array([1.0, 2.756, 5.404])
    _MODE_GAINS = np.array([1.0, 0.35, 0.12])  # a soft mallet: the upper modes faintly
    #: Fundamental T60 at D7; a shorter bar rings shorter (as the square root of the pitch).
    _T60_S = 3.0
    _MODE_T60_SHARE = np.array([1.0, 0.35, 0.15])
    #: Each bar's doublet: its halves this far apart, in Hz (a twinkle of a few a second).
    _SPLIT_HZ = (2.0, 5.0)
    _ATTACK_S = 0.004  # the yarn mallet's contact
    _FLOOR = 3e-3  # a mode ends 50 dB under the strike's strongest

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        self._width = width * dsp.geometric(1.0, 0.5, distance)
        sr = self.sample_rate_hz
        schedule_rng, self._star_rng, bar_rng = self.rng.spawn(3)
        rate_hz = dsp.geometric(1.0, 4.0, intensity)
        # One star per slot of 1/rate seconds, at a random moment in it: the count per minute
        # (and so the loudness) is steady, the timing still irregular.
        self._stars = dsp.JitteredGrid(schedule_rng, 1.0 / rate_hz, 0.0, 1.0)
        pitches_hz = np.array([_midi_hz(m) for m in self._PITCHES_MIDI])
        modes_hz = pitches_hz[:, None] * self._MODE_RATIOS
        t60_s = self._T60_S * np.sqrt(pitches_hz[0] / pitches_hz)[:, None] * self._MODE_T60_SHARE
        split_hz = bar_rng.uniform(*self._SPLIT_HZ, modes_hz.shape)
        doublets = np.stack([modes_hz - split_hz / 2, modes_hz + split_hz / 2], axis=-1)
        self._audible = np.repeat(modes_hz < 0.45 * sr, 2, axis=1)
        self._decays = np.repeat(6.908 / t60_s, 2, axis=1)  # -60 dB (ln 1000) over T60
        self._bars = [
            _DampedSines(np.minimum(row.ravel(), 0.45 * sr), decay, sr)
            for row, decay in zip(doublets, self._decays, strict=True)
        ]
        # Distance dulls the upper modes and the higher bars (air absorption) and lowers the
        # level; the sum stays steady whatever the density (each star softer as more overlap).
        dulling = dsp.geometric(1.0, 0.3, distance) ** (modes_hz / 5000.0)
        self._mode_gains = self._MODE_GAINS * dulling  # (bars, modes)
        self._level = dsp.geometric(1.0, 0.6, distance) / math.sqrt(rate_hz)
        self._events = dsp.OverlapAdd(dtype=np.float32)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        end_s = (self.chunk_start_frame + self.chunk_frames) / sr
        for time_s in self._stars.pop_until(end_s):
            self._star(time_s)
        return self._events.pop(self.chunk_frames)

    def _star(self, time_s: float) -> None:
        """One soft strike on a random bar, at a random place in the field."""
        rng = self._star_rng
        sr = self.sample_rate_hz
        bar = int(rng.integers(len(self._PITCHES_MIDI)))
        size = 10.0 ** rng.uniform(-0.15, 0.15)
        # The mallet meets the bar at an angle to its two axes: each doublet's halves ring in
        # proportion to the cosine and sine of it, in phase at the strike.
        theta = rng.uniform(0.0, 0.5 * math.pi)
        halves = np.array([math.cos(theta), math.sin(theta)])
        amplitudes = (self._mode_gains[bar][:, None] * halves).ravel()
        amplitudes = np.where(self._audible[bar], amplitudes, 0.0)
        floor = self._FLOOR * float(np.max(amplitudes))
        lengths = np.log(np.maximum(amplitudes, floor) / floor) / self._decays[bar] * sr
        sound = self._bars[bar](amplitudes, np.zeros(len(amplitudes)), lengths)
        attack = round(self._ATTACK_S * sr)
        sound[:attack] *= dsp.raised_cosine(attack).astype(np.float32)
        level = self._level * size * self._gain
        left, right = dsp.pan_gains(rng.uniform(-1.0, 1.0) * self._width)
        offset = round(time_s * sr) - self.chunk_start_frame
        self._events.add_panned(offset, sound, (level * float(left), level * float(right)))


LAYERS: tuple[type[ProceduralLayer], ...] = (Chimes, Shimmer)

__all__ = ["LAYERS", "Chimes", "Shimmer"]
