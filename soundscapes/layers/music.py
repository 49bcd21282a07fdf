"""Tonal layers: a soft drone, wind chimes, a slow melody, a high shimmer."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from soundscapes.dsp import (
    Filter,
    JitteredGrid,
    OverlapAdd,
    SineBank,
    SmoothRandom,
    Upsampler,
    bandpass,
    db_to_gain,
    geometric,
    low_rate_factor,
    pan_gains,
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

_SINE_BLOCK = 1024


def _block_length(frames: int) -> int:
    """``frames`` rounded up to a whole number of 1024-frame blocks (see :func:`_ringing`)."""
    return -(-frames // _SINE_BLOCK) * _SINE_BLOCK


def _ringing(
    freqs_hz: np.ndarray,
    phases_rad: np.ndarray,
    decay_per_s: np.ndarray,
    edge_gains: np.ndarray,
    sample_rate_hz: float,
) -> np.ndarray:
    """Exponentially decaying partials from frame 0, summed: float32 ``(blocks * 1024,)``.

    ``edge_gains`` ``(partials, blocks + 1)`` holds each partial's gain (on top of its decay)
    at the edges of 1024-frame blocks; it is interpolated linearly inside each block.
    """
    gains = np.stack([edge_gains[:, :-1], np.diff(edge_gains, axis=1)])[:, None, :, :]
    bank = SineBank(freqs_hz, phases_rad, _SINE_BLOCK, sample_rate_hz, decay_per_s)
    return bank(gains, 0)[0]


def _sounding(lengths: list[int], blocks: int) -> np.ndarray:
    """Edge gains ``(partials, blocks + 1)``: 1 while each partial sounds, then 0.

    A partial of ``n`` frames (a whole number of blocks) thus fades out linearly over its last
    block (23 ms) instead of stopping with a step.
    """
    ends = np.array(lengths) // _SINE_BLOCK
    return (np.arange(blocks + 1)[None, :] < ends[:, None]).astype(np.float64)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


class Drone(ProceduralLayer):
    """A soft pad on a consonant chord between 55 and 220 Hz, slowly drifting.

    SOUND_RECIPES 3.10: 3-5 voices of a consonant chord (root, fifth, octave, twelfth, double
    octave), each two detuned saw-like oscillators (+-3-8 cents) through a low-pass whose cutoff
    drifts between 300 and 900 Hz; voice levels wander like the "interesting drone"'s
    ``LFNoise1`` amplitudes. Built additively (harmonics of each oscillator weighted by the
    low-pass response), so the filter sweep costs nothing per sample.
    """

    info = LayerInfo(
        name="drone",
        description="a soft, slowly drifting pad on a consonant chord (55-220 Hz)",
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

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -31.3
    _RATIOS = (1.0, 1.5, 2.0, 3.0, 4.0)  # just intonation: no beating but the detune's
    _VOICE_LEVELS = (1.0, 0.7, 0.6, 0.4, 0.3)
    _TOP_HZ = 750.0  # highest partial synthesised (kept under 15 % of the low rate)
    _BLOCK = 256  # low-rate samples between amplitude updates (46 ms at 5.5 kHz)

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        root_hz = self.params["root_hz"]
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        width = self.params["width"]
        rng, drift_rng = self.rng.spawn(2)
        sr = self.sample_rate_hz
        self._factor = low_rate_factor(sr, self._TOP_HZ, limit=8)
        self._low_rate_hz = sr / self._factor

        freqs, voices, harmonics, pans = [], [], [], []
        for voice, ratio in enumerate(self._RATIOS):
            for sign in (-1.0, 1.0):
                cents = sign * rng.uniform(3.0, 8.0)
                base_hz = root_hz * ratio * 2.0 ** (cents / 1200.0)
                pan = rng.uniform(-0.6, 0.6) * width
                for k in range(1, 9):
                    if k * base_hz > self._TOP_HZ:
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
        self._cutoff_low_hz = 300.0 + 150.0 * intensity
        self._cutoff_span_hz = (300.0 + 300.0 * intensity) * geometric(1.0, 0.5, distance)
        self._cutoff_phase = drift_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._voice_drift = SmoothRandom(drift_rng, 6.0, len(self._RATIOS), start=0.5)
        self._motion = 0.15 + 0.3 * intensity
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _amplitudes(self, t_s: np.ndarray) -> np.ndarray:
        """Partial amplitudes ``(partials, len(t_s))`` at absolute times ``t_s``."""
        # Cutoff drifts at ~0.01-0.03 Hz (two incommensurate slow sines, SOUND_RECIPES 3.10).
        drift = 0.5 + 0.3 * np.sin(2.0 * math.pi * t_s / 67.0 + self._cutoff_phase[0])
        drift += 0.2 * np.sin(2.0 * math.pi * t_s / 41.0 + self._cutoff_phase[1])
        cutoff_hz = self._cutoff_low_hz + self._cutoff_span_hz * drift
        # Second-order Butterworth magnitude at each partial.
        ratio = (self._freqs[:, None] / cutoff_hz) ** 2
        response = 1.0 / np.sqrt(1.0 + ratio * ratio)
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
    """Wind chimes: five tubes tuned to a pentatonic set, struck a few times a minute.

    Modal synthesis after Lukkari & Valimaki (2004, SOUND_RECIPES 3.8): five modes per tube with
    the measured frequency ratios, gains [0.0787, 0.1849, 1, 0.0136, 0.0275] (the third mode
    loudest) and decays T60 = [40, 7, 2, 1, 0.5] s (the first capped at 20 s), fundamentals on
    A3 B3 D4 E4 F#4 (the paper's own tubes sit close to these). A soft 6 ms mallet instead of a
    noise burst. The wind moves the clapper in gusts: 1-3 strikes on neighbouring tubes, gusts
    every 8-30 s. A faint breeze underneath is the wind that moves them.
    """

    info = LayerInfo(
        name="chimes",
        description="pentatonic wind chimes struck a few times a minute in a faint breeze",
        params=(
            intensity_param(0.3, "how windy: gusts and strikes come more often"),
            distance_param(_DEFAULT_DISTANCE),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -5.7
    # Lukkari & Valimaki 2004: mode frequencies (Hz) of five tubes, one row per tube.
    _MODES_HZ = np.array(
        [
            [219.8, 590.2, 1115.4, 1766.2, 2513.9],
            [245.8, 657.6, 1239.2, 1955.3, 2773.1],
            [293.9, 782.4, 1465.2, 2311.8, 3278.8],
            [331.6, 875.5, 1633.0, 2576.5, 3654.2],
            [366.1, 967.5, 1794.2, 2831.0, 4015.1],
        ]
    )
    _MODE_GAINS = np.array([0.0787, 0.1849, 1.0, 0.0136, 0.0275])
    _T60_S = np.array([20.0, 7.0, 2.0, 1.0, 0.5])
    _TUNING_MIDI = (57.0, 59.0, 62.0, 64.0, 66.0)  # A3 B3 D4 E4 F#4: pentatonic
    _BREEZE_LEVEL = 0.05

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        width = self.params["width"]
        schedule_rng, self._strike_rng, self._breeze_rng = self.rng.spawn(3)
        sr = self.sample_rate_hz
        tuned = np.array([_midi_hz(note) for note in self._TUNING_MIDI])
        ratios = self._MODES_HZ / self._MODES_HZ[:, :1]
        self._modes_hz = np.minimum(ratios * tuned[:, None], 0.45 * sr)
        # Distance dulls the upper modes (air absorption) and lowers the level. The dulling
        # keeps a strike's energy over its first 3 s (what short-term loudness sees) as at the
        # default distance: a near strike is brighter, not a jolt above the ringing it leaves.
        tone = self._MODE_GAINS * geometric(1.0, 0.25, distance) ** np.arange(5)
        reference = self._MODE_GAINS * geometric(1.0, 0.25, _DEFAULT_DISTANCE) ** np.arange(5)
        tone *= math.sqrt(self._early_energy(reference) / self._early_energy(tone))
        nearness = geometric(1.0, 0.5, distance)
        self._gains = tone * nearness
        # The breeze comes nearer with the tubes: a near chime rings no further above its own
        # bed than a far one (a closer strike over the same faint breeze would startle).
        self._breeze_level = self._BREEZE_LEVEL * nearness / geometric(1.0, 0.5, _DEFAULT_DISTANCE)
        self._pans = np.linspace(-0.5, 0.5, 5) * width
        self._gusts = JitteredGrid(schedule_rng, geometric(30.0, 8.0, intensity), 0.2, 0.8)
        self._events = OverlapAdd(dtype=np.float32)
        self._factor = low_rate_factor(sr, 700.0)
        low = sr / self._factor
        self._breeze_filter = Filter(unit_noise_gain(bandpass(150.0, 700.0, low, 1), low))
        self._upsample = Upsampler(self._factor, dtype=np.float32)
        self._width = width
        self._gain = db_to_gain(self._GAIN_DB)

    @classmethod
    def _early_energy(cls, gains: np.ndarray) -> float:
        """Energy of a strike's first 3 s, up to a constant: each mode decays by 60 dB over
        its T60, so its energy over a window grows with ``gain²`` and the shorter of the two."""
        return float(np.sum(gains**2 * np.minimum(cls._T60_S, 3.0)))

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        for gust_s in self._gusts.pop_until(t0 + self.chunk_frames / sr):
            self._gust(round((gust_s - t0) * sr))
        m = self.chunk_frames // self._factor
        breeze = self._breeze_filter(
            white_noise(self._breeze_rng, (2, m), self._breeze_level * self._gain)
        )
        out = self._upsample(set_width(breeze, self._width))
        self._events.pop_into(out)
        return out

    def _gust(self, offset: int) -> None:
        """A gust: the clapper strikes 1-3 neighbouring tubes (Lukkari & Valimaki's walk)."""
        rng = self._strike_rng
        sr = self.sample_rate_hz
        strikes = int(rng.integers(1, 4))
        tube = int(rng.integers(0, 5))
        # Fewer strikes ring a little louder, so every gust carries about the same energy.
        velocity = rng.uniform(0.8, 1.0) * math.sqrt(2.0 / strikes)
        for _ in range(strikes):
            self._strike(offset, tube, velocity, float(rng.uniform(0.0, 2.0 * math.pi)))
            offset += round(rng.uniform(0.15, 0.6) * sr)
            tube = int(np.clip(tube + rng.choice([-1, 1]), 0, 4))
            velocity *= rng.uniform(0.6, 0.9)

    def _strike(self, offset: int, tube: int, velocity: float, phase: float) -> None:
        sr = self.sample_rate_hz
        lengths = [_block_length(round(t60 * sr)) for t60 in self._T60_S]
        blocks = lengths[0] // _SINE_BLOCK
        # T60 decay: -60 dB (ln 1000 = 6.908) over each mode's (block-rounded) T60, where the
        # mode fades out over its last block.
        decay_per_s = 6.908 * sr / np.array(lengths)
        edge_gains = _sounding(lengths, blocks) * (self._gains * velocity * self._gain)[:, None]
        phases = phase * np.arange(1, 6)
        sound = _ringing(self._modes_hz[tube], phases, decay_per_s, edge_gains, sr)
        attack = round(0.006 * sr)  # a soft mallet, not a click
        sound[:attack] *= (0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)).astype(
            np.float32
        )
        left, right = pan_gains(self._pans[tube])
        self._events.add_panned(offset, sound, (float(left), float(right)))


class Melody(ProceduralLayer):
    """A slow generative piano-like line in D major pentatonic.

    Notes walk the scale by small steps in phrases of five notes that come to rest on D or A,
    with a breath between phrases. Each note is additive: six slightly stretched partials
    (piano inharmonicity B = 0.0004) with decays shortening up the series, the lowest two on a
    pair of strings detuned by under a cent for a slow beat; a soft 10 ms felt attack.
    """

    info = LayerInfo(
        name="melody",
        description="a slow, soft piano-like line wandering a pentatonic scale",
        params=(
            ParamInfo(
                name="rate",
                default=12.0,
                minimum=4.0,
                maximum=30.0,
                unit="notes/min",
                description="how many notes a minute",
            ),
            intensity_param(0.5, "how firmly the notes are played: louder, a little brighter"),
            distance_param(0.4),
            width_param(0.6),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -18.5
    _SCALE_MIDI = (62, 64, 66, 69, 71, 74, 76)  # D4 E4 F#4 A4 B4 D5 E5
    _RESTING = (0, 3, 5)  # phrases end on D4, A4 or D5
    _SLOTS_PER_PHRASE = 6  # five notes and a rest
    _INHARMONICITY = 0.0004
    #: Decay time of the lowest partial, as a share of the time between notes, at slow rates.
    _PEDAL = 0.45

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        self._rng = self.rng.spawn(1)[0]
        self._beat_s = 60.0 / self.params["rate"]
        self._velocity = 0.6 + 0.5 * intensity
        self._brightness = (0.5 + 0.5 * intensity) * geometric(1.0, 0.4, distance)
        self._level = geometric(1.0, 0.5, distance)
        self._degree = 3
        # `rate` notes a minute: five notes then a silent slot per phrase.
        self._slot_s = (
            60.0 / self.params["rate"] * (self._SLOTS_PER_PHRASE - 1) / (self._SLOTS_PER_PHRASE)
        )
        self._slot = -1
        self._next_note_s = 0.1
        self._events = OverlapAdd(dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        while self._next_note_s < t0 + self.chunk_frames / sr:
            self._play(round((self._next_note_s - t0) * sr))
        return self._events.pop(self.chunk_frames)

    def _play(self, offset: int) -> None:
        rng = self._rng
        self._slot += 1
        if self._slot % self._SLOTS_PER_PHRASE == self._SLOTS_PER_PHRASE - 1:
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
        velocity = self._velocity * rng.uniform(0.85, 1.0)
        self._note(offset, self._SCALE_MIDI[self._degree], velocity, rng)
        # Notes sit on a slow grid of slots, each pushed early or late by up to a fifth of a
        # slot: the line breathes, yet every minute holds the same number of notes (so the
        # same loudness for every seed).
        self._slot += skip - 1
        self._next_note_s = (self._slot + 1 + rng.uniform(-0.2, 0.2)) * self._slot_s

    def _note(self, offset: int, midi: int, velocity: float, rng: np.random.Generator) -> None:
        sr = self.sample_rate_hz
        f0 = _midi_hz(midi)
        # Lower notes ring longer; at slow rates the pedal is held, so a note rings on until
        # about the next one and the line never falls to silence between notes (a lone note
        # out of silence would startle however soft it is).
        tau1_s = max(2.2 * (262.0 / f0) ** 0.3, self._PEDAL * self._slot_s)
        length = _block_length(round(4.0 * tau1_s * sr))  # to -35 dB, then a short fade
        blocks = length // _SINE_BLOCK
        edges_s = np.arange(blocks + 1) * (_SINE_BLOCK / sr)
        freqs_hz, phases, taus_s, lengths, gains = [], [], [], [], []
        for k in range(1, 7):
            freq_hz = k * f0 * math.sqrt(1.0 + self._INHARMONICITY * k * k)
            if freq_hz > 0.45 * sr:
                break
            tau_s = tau1_s / (1.0 + 0.7 * (k - 1))
            # Each partial ends where it has decayed 35 dB, fading out over its last block.
            lengths.append(min(length, _block_length(round(4.0 * tau_s * sr))))
            # A soft hammer excites fewer high partials.
            amplitude = k**-1.5 * math.exp(-(k - 1) * (1.2 - self._brightness * velocity))
            freqs_hz.append(freq_hz)
            phases.append(rng.uniform(0.0, 2.0 * math.pi))
            taus_s.append(tau_s)
            gain = np.full(blocks + 1, amplitude)
            if k <= 2:
                # Two strings 1.2 cents apart: their sum is one sine under a slow beat,
                # cos(pi * df * t) (sin a + sin b = 2 sin((a+b)/2) cos((a-b)/2)); at under
                # 1 Hz it is smooth enough to follow from the block edges.
                beat_hz = freq_hz * (2.0 ** (1.2 / 1200.0) - 1.0)
                beat = np.cos(edges_s * (math.pi * beat_hz) + rng.uniform(0, 1))
                gain *= 0.3 + 0.7 * np.abs(beat)
            gains.append(gain)
        edge_gains = np.array(gains) * _sounding(lengths, blocks)
        decay_per_s = 1.0 / np.array(taus_s)
        note = _ringing(np.array(freqs_hz), np.array(phases), decay_per_s, edge_gains, sr)
        attack = round(0.01 * sr)
        note[:attack] *= (0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)).astype(np.float32)
        fade = round(0.05 * sr)
        note[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        # Every note carries the same energy at a given velocity: low notes ring longer and
        # would otherwise make a minute's loudness depend on where the tune wandered.
        note *= np.float32(1.0 / math.sqrt(float(np.dot(note, note)) / sr))
        scale = velocity * self._level * self._gain
        # Low notes a little left, high notes a little right, as from a piano bench; a soft
        # reflection from the other side 17 ms later gives the room.
        position = (self._SCALE_MIDI.index(midi) / (len(self._SCALE_MIDI) - 1) - 0.5) * 0.8
        left, right = pan_gains(position * self._width)
        self._events.add_panned(offset, note, (scale * float(left), scale * float(right)))
        echo = 0.25 * scale
        self._events.add_panned(
            offset + round(0.017 * sr), note, (echo * float(right), echo * float(left))
        )


class Shimmer(ProceduralLayer):
    """A high, slow sparkle for a starry sky.

    Faint sine "stars" on a high D major pentatonic set (2.3-5.3 kHz), each fading in and out
    over two to five seconds with a gentle twinkle (a 3-7 Hz tremolo), one every 0.25-1 s at a
    random moment and place in the field. Seven continuous oscillators (one per pitch) carry
    them: a star only adds its envelope, per ear, to its pitch's gain on the control grid.
    """

    info = LayerInfo(
        name="shimmer",
        description="a high, slow sparkle of faint tones, like a starry sky",
        params=(
            intensity_param(0.4, "how many stars twinkle at once (1-4 new ones a second)"),
            distance_param(0.3),
            width_param(1.0),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -28.6
    _PITCHES_MIDI = (98, 100, 102, 105, 107, 110, 112)  # D7 .. E8, pentatonic
    _BLOCK = 256  # audio frames between envelope points handed to the mixer

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        sr = self.sample_rate_hz
        schedule_rng, self._star_rng, phase_rng = self.rng.spawn(3)
        rate_hz = geometric(1.0, 4.0, intensity)
        # One star per slot of 1/rate seconds, at a random moment in it: the count per minute
        # (and so the loudness) is steady, the timing still irregular.
        self._stars = JitteredGrid(schedule_rng, 1.0 / rate_hz, 0.0, 1.0)
        self._pitches_hz = np.array([min(_midi_hz(m), 0.45 * sr) for m in self._PITCHES_MIDI])
        phases = phase_rng.uniform(0.0, 2.0 * math.pi, len(self._pitches_hz))
        self._sines = SineBank(self._pitches_hz, phases, self._BLOCK, sr)
        # Higher stars fade more with distance.
        self._dulling = geometric(1.0, 0.3, distance) ** np.linspace(0.0, 1.0, 7)
        # Keep the sum steady whatever the density: each star's level falls as more overlap.
        self._level = geometric(1.0, 0.6, distance) / math.sqrt(rate_hz)
        self._control_rate_hz = sr / self._BLOCK
        self._envelopes = OverlapAdd(2 * len(self._pitches_hz), capacity=4096)
        self._last = np.zeros((2 * len(self._pitches_hz), 1))
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        ctl = self._control_rate_hz
        t0 = self.chunk_start_s
        blocks = self.chunk_frames // self._BLOCK
        for time_s in self._stars.pop_until(t0 + self.chunk_frames / sr):
            self._star(round((time_s - t0) * ctl))
        # Envelope points at block edges, linear inside each block (as in Drone): per ear and
        # pitch, a gain and its step for the sum of sines.
        points = np.concatenate([self._last, self._envelopes.pop(blocks)], axis=1)
        self._last = points[:, -1:]
        pitches = len(self._pitches_hz)
        edges = points.reshape(2, pitches, blocks + 1)
        gains = np.stack([edges[:, :, :-1], np.diff(edges, axis=2)])
        return self._sines(gains, self.chunk_start_frame)

    def _star(self, offset: int) -> None:
        """Add one star's envelope (per ear) to its pitch's rows, on the block grid."""
        rng = self._star_rng
        ctl = self._control_rate_hz
        index = int(rng.integers(len(self._pitches_hz)))
        duration_s = rng.uniform(2.0, 5.0)
        n = max(2, round(duration_s * ctl))
        t = np.arange(n) / ctl
        envelope = np.sin(np.pi * t / duration_s) ** 2
        twinkle_hz = rng.uniform(3.0, 7.0)
        envelope *= 1.0 - 0.3 * np.sin(np.pi * twinkle_hz * t) ** 2
        # A longer star is softer, so every star carries the same energy.
        size = 10.0 ** (rng.uniform(-0.15, 0.15)) * math.sqrt(3.5 / duration_s)
        level = self._level * self._dulling[index] * size * self._gain
        left, right = pan_gains(rng.uniform(-1.0, 1.0) * self._width)
        rows = np.zeros((2 * len(self._pitches_hz), n))
        rows[index] = envelope * (level * left)
        rows[len(self._pitches_hz) + index] = envelope * (level * right)
        self._envelopes.add(offset, rows)


LAYERS: tuple[type[ProceduralLayer], ...] = (Chimes, Drone, Melody, Shimmer)

__all__ = ["LAYERS", "Chimes", "Drone", "Melody", "Shimmer"]
