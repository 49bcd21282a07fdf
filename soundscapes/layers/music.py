"""Tonal layers: a soft drone, wind chimes, a slow melody, a high shimmer."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import signal

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Filter,
    JitteredGrid,
    OverlapAdd,
    PoissonClock,
    SineBank,
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    geometric,
    low_rate_factor,
    pan_gains,
    raised_cosine,
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

#: Largest matrix product handed to BLAS at once (as in :class:`~soundscapes.dsp.SineBank`).
_MATMUL_MACS = 1 << 19


class _DampedSines:
    """Events made of exponentially decaying sines (struck modes), rendered whole at once.

    A sum ``sum_k a_k exp(-d_k n) sin(w_k n + phi_k)`` over ``n = b * block + j`` is, block by
    block, ``Im(A_kb W_kj)``: a complex amplitude per block (``a_k e^{i phi_k}`` times the decay
    and turn up to the block start) times a fixed in-block waveform ``W_kj = e^{(i w_k - d_k) j}``,
    computed once per bank. One matrix product per event then replaces a ``sin`` per sample and
    mode (the trick of :class:`~soundscapes.dsp.SineBank`, for one-off events). A mode ends,
    fading out over one block, where the caller says it has fallen below hearing; modes are
    taken longest first, so each stretch of blocks multiplies only the modes still sounding.
    """

    BLOCK = 1024

    def __init__(
        self, freqs_hz: np.ndarray, decay_per_s: np.ndarray, sample_rate_hz: float
    ) -> None:
        self._omega = 2.0 * math.pi * np.asarray(freqs_hz, dtype=np.float64) / sample_rate_hz
        self._damping = np.asarray(decay_per_s, dtype=np.float64) / sample_rate_hz
        j = np.arange(self.BLOCK)
        shape = np.exp(-self._damping[:, None] * j)
        inner = self._omega[:, None] * j
        # Rows paired per mode (sin, cos), so the first 2m rows are the first m modes.
        waves = np.stack([shape * np.sin(inner), shape * np.cos(inner)], axis=1)
        self._waves = waves.reshape(-1, self.BLOCK).astype(np.float32)
        self._ramp = (j / self.BLOCK).astype(np.float32)

    def __call__(
        self, amplitudes: np.ndarray, phases_rad: np.ndarray, lengths: np.ndarray
    ) -> np.ndarray:
        """One event: float32 ``(blocks * BLOCK,)``, long enough for the longest mode.

        ``lengths`` are in frames per mode (rounded up to whole blocks, the last one a fade);
        a mode of length 0 is left out.
        """
        block = self.BLOCK
        ends = -(-np.asarray(lengths, dtype=np.int64) // block)
        order = np.argsort(-ends, kind="stable")
        ends = ends[order]
        blocks = int(ends[0]) if len(ends) else 0
        if blocks == 0:
            return np.zeros(0, dtype=np.float32)
        # Complex amplitude at each block start, a e^{i phi} z^b with z = e^{(i w - d) block}:
        # a running product (one complex multiply per block) instead of a sin, cos and exp.
        step = np.exp((1j * self._omega[order] - self._damping[order]) * block)
        start = np.asarray(amplitudes)[order] * np.exp(1j * np.asarray(phases_rad)[order])
        steps = np.empty((blocks, len(order)), dtype=np.complex128)
        steps[0] = start
        steps[1:] = step
        # Im(A W) = Re(A) Im(W) + Im(A) Re(W): the real and imaginary parts of each A, side by
        # side, pair with the rows (sin, cos) of W.
        weights = np.cumprod(steps, axis=0).view(np.float64).astype(np.float32)
        waves = (
            self._waves
            if np.all(order == np.arange(len(order)))
            else (self._waves.reshape(-1, 2, block)[order].reshape(-1, block))
        )
        out = np.zeros((blocks, block), dtype=np.float32)
        first = 0
        for count in range(len(ends), 0, -1):
            last = int(ends[count - 1])
            # Products kept small: past about a million multiply-adds OpenBLAS splits them
            # across threads, which on one core costs far more than it saves (see dsp.SineBank).
            rows = max(1, _MATMUL_MACS // (2 * count * block))
            for row in range(first, last, rows):
                end = min(row + rows, last)
                np.matmul(weights[row:end, : 2 * count], waves[: 2 * count], out=out[row:end])
            first = max(first, last)
        # Each mode fades out linearly over its last block rather than stopping with a step
        # (a step, however small, is a click where little else sounds).
        modes = np.flatnonzero(ends > 0)
        rows = ends[modes] - 1  # descending, so modes ending in one block sit together
        pairs = waves.reshape(-1, 2, block)[modes]
        halves = weights[rows[:, None], 2 * modes[:, None] + np.arange(2)]
        last_blocks = np.einsum("kh,khj->kj", halves, pairs)
        firsts = np.flatnonzero(np.diff(rows, prepend=-1))
        out[rows[firsts]] -= np.add.reduceat(last_blocks, firsts, axis=0) * self._ramp
        return out.reshape(-1)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


class Drone(ProceduralLayer):
    """A soft analogue-style synth pad on a consonant chord between 55 and 220 Hz.

    SOUND_RECIPES 3.10: five voices of a consonant chord (root, fifth, octave, twelfth, double
    octave), each three saw oscillators a few cents apart (the centre one in tune, the others
    3-8 cents flat and sharp: the slow chorus beating of an ensemble pad), through a
    second-order low-pass whose cutoff drifts slowly between about 400 and 1400 Hz, and thinned
    below 100 Hz so the pad sits behind whatever plays over it; the voices' levels wander like
    the "interesting drone"'s ``LFNoise1`` amplitudes. Built additively (each saw's harmonics
    up to 1.6 kHz, weighted by the filter's response at the moment), so the sweep costs
    nothing per sample.
    """

    info = LayerInfo(
        name="drone",
        description="a soft, slowly drifting synth pad on a consonant chord (55-220 Hz)",
        params=(
            ParamInfo(
                name="root_hz",
                default=55.0,
                minimum=40.0,
                maximum=80.0,
                unit="Hz",
                description="root of the chord (55 Hz = A1); voices sit at 1, 1.5, 2, 3, 4x",
            ),
            intensity_param(0.5, "brightness and motion of the pad"),
            distance_param(0.3),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 10 seeds).
    _GAIN_DB = -33.0
    _DEFAULT_DISTANCE = 0.3
    _RATIOS = (1.0, 1.5, 2.0, 3.0, 4.0)  # just intonation: no beating but the detune's
    _VOICE_LEVELS = (1.0, 0.8, 0.8, 0.6, 0.5)
    _DETUNE_CENTS = (3.0, 8.0)
    _RESONANCE_Q = 0.707  # Butterworth: a smooth, unpeaked sweep
    _HIGHPASS_HZ = 100.0
    _TOP_HZ = 1600.0  # highest partial synthesised (kept under 15 % of the low rate)
    _BLOCK = 256  # low-rate samples between amplitude updates (23 ms at 11 kHz)

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        root_hz = self.params["root_hz"]
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        width = self.params["width"] * geometric(1.0, 0.5, distance)  # farther is narrower
        rng, drift_rng = self.rng.spawn(2)
        sr = self.sample_rate_hz
        self._factor = low_rate_factor(sr, self._TOP_HZ, limit=8)
        self._low_rate_hz = sr / self._factor
        top_hz = min(self._TOP_HZ, 0.15 * self._low_rate_hz)

        freqs, voices, harmonics, pans = [], [], [], []
        for voice, ratio in enumerate(self._RATIOS):
            for sign in (-1.0, 0.0, 1.0):
                cents = sign * rng.uniform(*self._DETUNE_CENTS)
                base_hz = root_hz * ratio * 2.0 ** (cents / 1200.0)
                # The in-tune oscillator in the middle, the detuned pair spread either side.
                pan = sign * rng.uniform(0.3, 0.7) * width
                for k in range(1, 64):
                    if k * base_hz > top_hz:
                        break
                    freqs.append(k * base_hz)
                    voices.append(voice)
                    harmonics.append(k)
                    pans.append(pan)
        self._freqs = np.array(freqs)
        self._partials = SineBank(
            self._freqs, rng.uniform(0.0, 2.0 * math.pi, len(freqs)), self._BLOCK, self._low_rate_hz
        )
        self._voice_of = np.array(voices)
        self._saw = np.array(self._VOICE_LEVELS)[self._voice_of] / np.array(harmonics)
        self._pans = pan_gains(np.array(pans))  # (2, partials)
        # A pad is thinned below ~100 Hz (second-order high-pass) so it sits behind what
        # plays over it rather than rumbling under it.
        square = (self._HIGHPASS_HZ / self._freqs) ** 2
        self._highpass = 1.0 / np.sqrt(1.0 + square * square)
        self._cutoff_low_hz = (350.0 + 250.0 * intensity) * geometric(1.0, 0.7, distance)
        self._cutoff_span_hz = (300.0 + 600.0 * intensity) * geometric(1.0, 0.5, distance)
        self._cutoff_phase = drift_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._voice_drift = SmoothRandom(drift_rng, 6.0, len(self._RATIOS), start=0.5)
        self._motion = 0.15 + 0.3 * intensity
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        # Farther is quieter (calibrated at the default distance).
        nearness = geometric(1.0, 0.6, distance) / geometric(1.0, 0.6, self._DEFAULT_DISTANCE)
        self._gain = db_to_gain(self._GAIN_DB) * nearness

    def _amplitudes(self, t_s: np.ndarray) -> np.ndarray:
        """Partial amplitudes ``(partials, len(t_s))`` at absolute times ``t_s``."""
        # Cutoff drifts at ~0.01-0.03 Hz (two incommensurate slow sines, SOUND_RECIPES 3.10).
        drift = 0.5 + 0.3 * np.sin(2.0 * math.pi * t_s / 67.0 + self._cutoff_phase[0])
        drift += 0.2 * np.sin(2.0 * math.pi * t_s / 41.0 + self._cutoff_phase[1])
        cutoff_hz = self._cutoff_low_hz + self._cutoff_span_hz * drift
        # Second-order low-pass magnitude at each partial.
        ratio = self._freqs[:, None] / cutoff_hz
        square = ratio * ratio
        response = 1.0 / np.sqrt((1.0 - square) ** 2 + square / self._RESONANCE_Q**2)
        response *= self._highpass[:, None]
        voice_level = 1.0 - self._motion + self._motion * self._voice_drift.at(t_s)
        return self._saw[:, None] * response * voice_level[self._voice_of] * self._gain

    def _render_chunk(self) -> np.ndarray:
        m = self.chunk_frames // self._factor
        block = self._BLOCK
        blocks = m // block
        start = self.chunk_start_frame // self._factor
        # Amplitudes change slowly: evaluate them at block edges and interpolate linearly inside
        # each block, panned per partial: two gain terms per ear for the sum of sines.
        edges_s = (start + block * np.arange(blocks + 1)) / self._low_rate_hz
        amplitude = self._amplitudes(edges_s)
        gains = np.stack([amplitude[:, :-1], np.diff(amplitude, axis=1)])
        gains = gains[:, None, :, :] * self._pans[None, :, :, None]  # (2, ears, partials, blocks)
        low = self._partials(gains, start)
        return self._upsample(low)


_DEFAULT_DISTANCE = 0.4


class Chimes(ProceduralLayer):
    """Wind chimes: five tuned metal tubes rung by a clapper that the wind swings.

    A chime tube rings as a free-free bar (Fletcher & Rossing, *The Physics of Musical
    Instruments*, 2nd ed., sec. 2.16): inharmonic bending modes at 1 : 2.756 : 5.404 : 8.933 :
    13.34 : 18.64 : 24.81 times the lowest. Modal synthesis after Lukkari & Valimaki (2004,
    SOUND_RECIPES 3.8): their measured gains and decays for the first three modes (the third
    loudest; T60 = 40 s capped at 20, 7 and 2 s); the upper modes radiate well but lose their
    energy fast (T60 1 s down to 0.2 s), which makes the bright "tink" of each strike. A tube is
    never perfectly round, so every mode is a close doublet (split by 0.01-0.06 %), its halves
    excited by how squarely the clapper lands: the slow beating of a struck tube as it rings.

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
        description="pentatonic wind chimes rung by a breeze, in runs as it gusts",
        params=(
            intensity_param(0.3, "how windy: gusts come more often and ring more tubes"),
            distance_param(_DEFAULT_DISTANCE),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 10 seeds).
    _GAIN_DB = -5.8
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

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        width = self.params["width"]
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
        self._factor = low_rate_factor(sr, float(doublets[:, : self._LOW_MODES].max()))
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
        tone = self._MODE_GAINS * geometric(1.0, 0.4, distance) ** per_khz
        reference = self._MODE_GAINS * geometric(1.0, 0.4, _DEFAULT_DISTANCE) ** per_khz
        tone *= math.sqrt(self._early_energy(reference) / self._early_energy(tone))
        nearness = geometric(1.0, 0.5, distance)
        self._mode_gains = tone * nearness * db_to_gain(self._GAIN_DB)
        self._breeze_level = self._BREEZE_LEVEL * nearness * db_to_gain(self._GAIN_DB)
        # Farther is narrower too.
        width *= geometric(1.0, 0.5, distance)
        self._pans = pan_gains(np.linspace(-0.6, 0.6, 5) * width)  # (2, tubes)
        self._tube = int(tube_rng.integers(5))
        # How windy: gusts come more often, strikes too, and a gust pushes harder.
        self._gusts = JitteredGrid(gust_rng, geometric(30.0, 8.0, intensity), 0.1, 0.9)
        self._gust_rng = gust_rng
        self._active: list[tuple[float, float]] = []  # (start, duration) of gusts under way
        # Strikes as a Poisson stream whose rate follows the wind (Lukkari & Valimaki's
        # 30-50 ms clapper checks, each a small chance of a hit), drawn by thinning a stream
        # at the highest rate: a steady breeze rings a tube every few seconds, a gust's peak
        # a few a second.
        self._breeze_rate_hz = 0.5 + 0.3 * intensity
        self._gust_rate_hz = 1.2 + 1.5 * intensity
        self._candidates = PoissonClock(strike_rng, self._MAX_RATE_HZ, marks=4)
        self._last_strike_s = -1.0
        self._gust_push = 0.5 + 1.0 * intensity
        self._events = OverlapAdd(dtype=np.float32)
        self._low_events = OverlapAdd(dtype=np.float32)
        self._wind = OverlapAdd(1, capacity=4096)
        self._breeze_filter = Filter(unit_noise_gain(bandpass(150.0, 700.0, low, 2), low))
        self._wind_up = Upsampler(CONTROL_FACTOR // self._factor, 1, smooth=False)
        self._upsample = Upsampler(self._factor, dtype=np.float32)
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
        wind = self._wind.pop(self.chunk_frames // CONTROL_FACTOR)
        level = self._wind_up(1.0 + wind)[0].astype(np.float32)
        breeze = self._breeze_filter(white_noise(self._breeze_rng, (2, m), self._breeze_level))
        low = set_width(breeze * level, self._width).astype(np.float32)
        self._low_events.pop_into(low)
        out = self._upsample(low)
        self._events.pop_into(out)
        return out

    def _gust(self, gust_s: float) -> None:
        """A gust begins: its strength rises and falls as a half sine over its length."""
        duration_s = float(self._gust_rng.uniform(3.0, 6.0))
        self._active.append((gust_s, duration_s))
        # The breeze swells with it (on the control grid, from absolute time).
        ctl = self.sample_rate_hz / CONTROL_FACTOR
        first = round(gust_s * ctl)
        n = round((gust_s + duration_s) * ctl) - first
        swell = 2.0 * np.sin(np.pi * (np.arange(n) + first - gust_s * ctl) / (duration_s * ctl))
        self._wind.add(first - self.chunk_start_frame // CONTROL_FACTOR, swell[None, :] ** 2)

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
            sound[:attack] *= raised_cosine(attack).astype(np.float32)
            events = self._low_events if rate < sr else self._events
            offset = round(time_s * rate) - round(self.chunk_start_frame * rate / sr)
            events.add_panned(offset, sound, (float(left), float(right)))


class Melody(ProceduralLayer):
    """A slow piano piece in D major pentatonic, played softly with the sustain pedal down.

    The right hand walks the scale (D4-E5) by small steps in phrases of five notes that come
    to rest on D or A, with a breath between phrases, a second voice a third or fourth
    under the line. About every ten seconds, with a melody note, the left hand rolls a low
    open chord that holds it (D, Bm, Em7 or Asus2: every tone in the pentatonic set) and
    then keeps a soft pulse, sounding the chord's upper two tones again every 2-3 s.

    Each note is a struck piano string (Fletcher & Rossing, *The Physics of Musical
    Instruments*, 2nd ed., ch. 12; Bank, Zambon & Fontana, "A modal-based real-time piano
    synthesizer", IEEE TASLP 18, 2010):

    - Stiff-string partials ``f_k = k f0 sqrt(1 + B k^2)``, B about 0.0004 at middle C and
      doubling an octave up (Fletcher, JASA 36, 1964): slightly stretched overtones.
    - The hammer strikes an eighth of the way along the string: partial k's bridge force
      goes with ``|sin(pi k / 8)|`` times the spectrum of the felt's force pulse, which falls
      by about 6 dB an octave above a few hundred hertz and by 12 more above a corner that
      rises with a firmer touch (the felt stiffens with force; Hall & Askenfelt, JASA 83,
      1988). The soundboard radiates little below about 250 Hz.
    - Two-stage decay (Weinreich, "Coupled piano strings", JASA 62, 1977): the three unison
      strings first swing together and hand their energy to the bridge fast (the prompt
      sound); what is left swinging against each other decays slowly (the aftersound), its
      two components a fraction of a cent apart, beating slowly. Upper partials lose their
      energy faster (a decay rate ``b1 + b3 f^2``, Bank et al.): a bright onset, a mellow
      tail.
    - The hammer's thump: a short, low knock of felt, key and soundboard under the onset.

    The sustain pedal stays down, so every note rings on under the next. A key struck again
    at the same touch gives the same waveform, so each key's sound is rendered once and
    replayed at the velocity of each stroke.
    """

    info = LayerInfo(
        name="melody",
        description="a slow, soft piano line over low chords in D major pentatonic",
        params=(
            ParamInfo(
                name="rate",
                default=12.0,
                minimum=4.0,
                maximum=30.0,
                unit="notes/min",
                description="how many melody notes a minute (the chords keep their own pace)",
            ),
            intensity_param(0.5, "how firmly the notes are played: louder, a little brighter"),
            distance_param(0.4),
            width_param(0.6),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 10 seeds).
    _GAIN_DB = -26.1
    _SCALE_MIDI = (62, 64, 66, 69, 71, 74, 76)  # D4 E4 F#4 A4 B4 D5 E5
    _LOWER_VOICE = (57, 59, 62, 64, 66, 69, 71)  # two scale steps under each
    _RESTING = (0, 3, 5)  # phrases end on D4, A4 or D5
    _SLOTS_PER_PHRASE = 6  # five notes and a rest
    #: Left-hand chords, voiced open and low: D, Bm, Em7 (no third), Asus2.
    _CHORDS_MIDI = ((38, 45, 54), (35, 42, 50), (40, 47, 50), (33, 40, 47))
    _HARMONY_S = 10.0  # about how long each chord lasts
    _PULSE_S = 2.4  # the left hand's pulse between chords
    _LEFT_HAND = 0.6  # the accompaniment is played softer than the line
    _ROLL_S = 0.04  # a soft chord is rolled, bottom up
    #: Inharmonicity at middle C (Fletcher 1964); it doubles about every octave up.
    _INHARMONICITY_C4 = 0.0004
    _STRIKE_POINT = 1.0 / 8.0  # of the speaking length, from the agraffe
    _PULSE_HZ = 300.0  # where the force pulse's spectrum starts to fall
    _TOP_HZ = 8000.0  # partials above carry nothing audible at these levels
    _MAX_PARTIALS = 40
    #: Aftersound: the share of each partial left to the slow decay (about -14 dB).
    _AFTERSOUND = 0.2
    #: The soundboard radiates efficiently only above about here.
    _RADIATION_HZ = 250.0
    #: Decay of the aftersound, 1/s, as b1 + b3 f^2 (Bank et al.): T60 about 25 s at D4,
    #: 14 s at 1 kHz, 3 s at 3 kHz.
    _B1_PER_S = 0.25
    _B3_PER_S_HZ2 = 2.5e-7
    #: The prompt sound decays this many times faster (plus a constant): about 10 dB/s at D4.
    _PROMPT_FACTOR = 2.0
    _PROMPT_EXTRA_PER_S = 0.6
    _FLOOR = 3e-3  # a partial ends 50 dB under the note's strongest
    _THUMP = 0.15  # the knock's peak, as a share of the onset's
    _LOW_TOP_HZ = 1500.0  # partials under this ring long and are rendered at a low rate

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        sr = self.sample_rate_hz
        self._rng, self._strings_rng, self._left_rng = self.rng.spawn(3)
        self._factor = low_rate_factor(sr, self._LOW_TOP_HZ)
        self._velocity = 0.6 + 0.5 * intensity
        # The felt's corner: a firmer touch stiffens it; distance dulls the sound.
        self._felt_hz = (1500.0 + 1500.0 * intensity) * geometric(1.0, 0.5, distance)
        self._level = geometric(1.0, 0.5, distance)
        self._width = self.params["width"] * geometric(1.0, 0.5, distance)
        self._degree = 3
        self._chord = 0
        # `rate` notes a minute: five notes then a silent slot per phrase.
        self._slot_s = (
            60.0 / self.params["rate"] * (self._SLOTS_PER_PHRASE - 1) / self._SLOTS_PER_PHRASE
        )
        self._slot = -1
        self._next_note_s = 0.2
        # The harmony changes about every ten seconds, with a melody note.
        self._chord_every = max(1, round(self._HARMONY_S / self._slot_s))
        self._next_pulse_s = math.inf  # the first chord starts the left hand's pulse
        keys = sorted(set(self._SCALE_MIDI).union(self._LOWER_VOICE, *self._CHORDS_MIDI))
        self._lowest, self._highest = keys[0], keys[-1]
        self._sounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # The thump's knock: felt, key bottom and the soundboard's low modes (60-900 Hz).
        self._thump_filter = bandpass(60.0, 900.0, sr, 1)
        self._events = OverlapAdd(dtype=np.float32)
        self._low_events = OverlapAdd(dtype=np.float32)
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        end_s = (self.chunk_start_frame + self.chunk_frames) / sr
        # Both hands in time order (the left hand's pulse follows its chords).
        while min(self._next_note_s, self._next_pulse_s) < end_s:
            if self._next_note_s <= self._next_pulse_s:
                self._play(self._next_note_s)
            else:
                self._pulse(self._next_pulse_s)
        out = self._upsample(self._low_events.pop(self.chunk_frames // self._factor))
        self._events.pop_into(out)
        return out

    def _play(self, time_s: float) -> None:
        """The right hand's next note; on a new harmony, the left hand's chord under it."""
        rng = self._rng
        self._slot += 1
        in_phrase = self._slot % self._SLOTS_PER_PHRASE
        if in_phrase == self._SLOTS_PER_PHRASE - 2:
            # The phrase's last note comes to rest on the nearest of D4, A4, D5; the slot
            # after it stays silent (the breath between phrases).
            self._degree = min(self._RESTING, key=lambda d: abs(d - self._degree))
            skip = 2
        else:
            step = int(rng.choice([-2, -1, 1, 2], p=[0.2, 0.3, 0.3, 0.2]))
            degree = self._degree + step
            if not 0 <= degree < len(self._SCALE_MIDI):
                degree = self._degree - step
            self._degree = degree
            skip = 1
        melody = self._SCALE_MIDI[self._degree]
        velocity = self._velocity * rng.uniform(0.85, 1.0)
        self._note(time_s, melody, velocity)
        self._note(time_s + 0.02, self._LOWER_VOICE[self._degree], 0.75 * velocity)
        if in_phrase % self._chord_every == 0:
            # A new chord that holds the melody note, rolled bottom up by the left hand.
            fits = [
                i
                for i, chord in enumerate(self._CHORDS_MIDI)
                if i != self._chord and any((melody - n) % 12 == 0 for n in chord)
            ]
            self._chord = int(rng.choice(fits)) if fits else self._chord
            for i, midi in enumerate(self._CHORDS_MIDI[self._chord]):
                soft = self._LEFT_HAND * self._velocity * rng.uniform(0.85, 1.0)
                self._note(time_s + i * self._ROLL_S, midi, soft)
            self._next_pulse_s = time_s + self._PULSE_S * rng.uniform(0.85, 1.15)
        # Notes sit on a slow grid of slots, each pushed early or late by up to a fifth of a
        # slot: the line breathes, yet every minute holds the same number of notes (so the
        # same loudness for every seed).
        self._slot += skip - 1
        self._next_note_s = (self._slot + 1 + rng.uniform(-0.2, 0.2)) * self._slot_s

    def _pulse(self, time_s: float) -> None:
        """The left hand between chords: the chord's upper two tones again, softly."""
        rng = self._left_rng
        for i, midi in enumerate(self._CHORDS_MIDI[self._chord][1:]):
            velocity = self._LEFT_HAND * self._velocity * rng.uniform(0.75, 0.9)
            self._note(time_s + i * self._ROLL_S, midi, velocity)
        self._next_pulse_s = time_s + self._PULSE_S * rng.uniform(0.85, 1.15)

    def _note(self, time_s: float, midi: int, velocity: float) -> None:
        """Strike ``midi`` at ``time_s`` (which may be a little before the chunk's end)."""
        sr = self.sample_rate_hz
        if midi not in self._sounds:
            self._sounds[midi] = self._sound(midi)
        scale = velocity * self._level * self._gain
        # Low notes to the left, high notes to the right, as from the piano bench; a soft
        # reflection from the other side 17 ms later gives the room.
        position = ((midi - self._lowest) / (self._highest - self._lowest) - 0.5) * 0.8
        left, right = (float(g) for g in pan_gains(position * self._width))
        for sound, factor, events in zip(
            self._sounds[midi], (self._factor, 1), (self._low_events, self._events), strict=True
        ):
            rate = sr / factor
            offset = round(time_s * rate) - self.chunk_start_frame // factor
            events.add_panned(offset, sound, (scale * left, scale * right))
            events.add_panned(
                offset + round(0.017 * rate), sound, (0.25 * scale * right, 0.25 * scale * left)
            )

    def _sound(self, midi: int) -> tuple[np.ndarray, np.ndarray]:
        """One key's note at unit velocity: float32 (low-rate part, full-rate part)."""
        sr = self.sample_rate_hz
        rng = self._strings_rng
        f0 = _midi_hz(midi)
        inharmonicity = self._INHARMONICITY_C4 * 2.0 ** ((midi - 60) / 12.0)
        k = np.arange(1, self._MAX_PARTIALS + 1)
        freqs = k * f0 * np.sqrt(1.0 + inharmonicity * k * k)
        keep = freqs < min(self._TOP_HZ, 0.45 * sr)
        k, freqs = k[keep], freqs[keep]
        excitation = np.abs(np.sin(np.pi * k * self._STRIKE_POINT))
        excitation /= (1.0 + freqs / self._PULSE_HZ) * (1.0 + (freqs / self._felt_hz) ** 2)
        excitation /= np.sqrt(1.0 + (self._RADIATION_HZ / freqs) ** 2)
        # Three components per partial: the prompt sound, then the aftersound's two, the
        # unison's outer strings 0.3-1 cent either side of the middle one.
        detune = rng.uniform(0.3, 1.0, 2) * [1.0, -1.0]
        mistuned = freqs[None, :] * 2.0 ** (detune[:, None] / 1200.0)
        components = np.concatenate([freqs, *mistuned])
        after = self._B1_PER_S + self._B3_PER_S_HZ2 * freqs**2
        prompt = self._PROMPT_FACTOR * after + self._PROMPT_EXTRA_PER_S
        decays = np.concatenate([prompt, after, after])
        share = 0.5 * self._AFTERSOUND * excitation
        amplitudes = np.concatenate([(1.0 - self._AFTERSOUND) * excitation, share, share])
        # Every key carries the same energy (a decaying sine's is a^2 / (4 d)): low notes ring
        # longer and would otherwise make a minute's loudness depend on where the tune went.
        amplitudes /= math.sqrt(float(np.sum(amplitudes**2 / (4.0 * decays))))
        floor = self._FLOOR * float(np.max(amplitudes))
        lengths_s = np.log(np.maximum(amplitudes, floor) / floor) / decays
        phases = np.tile(rng.uniform(0.0, 2.0 * math.pi, len(freqs)), 3)
        low = np.tile(freqs < self._LOW_TOP_HZ, 3)
        parts = []
        for part, rate in ((low, sr / self._factor), (~low, sr)):
            bank = _DampedSines(components[part], decays[part], rate)
            sound = bank(amplitudes[part], phases[part], lengths_s[part] * rate)
            attack = round(0.002 * rate)  # the hammer's contact, about 2 ms
            sound[:attack] *= raised_cosine(attack).astype(np.float32)
            parts.append(sound)
        # The thump: low noise dying within tens of milliseconds, at a fixed share of the
        # onset's peak (which the low partials carry), added to the full-rate part.
        n = round(0.06 * sr)
        t = np.arange(n) / sr
        knock = rng.standard_normal(n) * np.exp(-t / 0.012) * raised_cosine(n)[::-1]
        knock = signal.sosfilt(self._thump_filter, knock)
        onset = float(np.max(np.abs(parts[0][: round(0.05 * sr / self._factor)]), initial=0.0))
        knock *= self._THUMP * onset / float(np.max(np.abs(knock)))
        high = np.zeros(max(n, len(parts[1])), dtype=np.float32)
        high[: len(parts[1])] = parts[1]
        high[:n] += knock.astype(np.float32)
        return parts[0], high


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
        description="a high, soft sparkle of tiny struck bells, like a starry sky",
        params=(
            intensity_param(0.4, "how many stars twinkle at once (1-4 new ones a second)"),
            distance_param(0.3),
            width_param(1.0),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 10 seeds).
    _GAIN_DB = -19.5
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

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"] * geometric(1.0, 0.5, distance)
        sr = self.sample_rate_hz
        schedule_rng, self._star_rng, bar_rng = self.rng.spawn(3)
        rate_hz = geometric(1.0, 4.0, intensity)
        # One star per slot of 1/rate seconds, at a random moment in it: the count per minute
        # (and so the loudness) is steady, the timing still irregular.
        self._stars = JitteredGrid(schedule_rng, 1.0 / rate_hz, 0.0, 1.0)
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
        dulling = geometric(1.0, 0.3, distance) ** (modes_hz / 5000.0)
        self._mode_gains = self._MODE_GAINS * dulling  # (bars, modes)
        self._level = geometric(1.0, 0.6, distance) / math.sqrt(rate_hz)
        self._events = OverlapAdd(dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

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
        sound[:attack] *= raised_cosine(attack).astype(np.float32)
        level = self._level * size * self._gain
        left, right = pan_gains(rng.uniform(-1.0, 1.0) * self._width)
        offset = round(time_s * sr) - self.chunk_start_frame
        self._events.add_panned(offset, sound, (level * float(left), level * float(right)))


LAYERS: tuple[type[ProceduralLayer], ...] = (Chimes, Drone, Melody, Shimmer)

__all__ = ["LAYERS", "Chimes", "Drone", "Melody", "Shimmer"]
