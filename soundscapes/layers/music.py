"""Music under a story: a soft synth pad (drone) and a slow piano line (melody)."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from soundscapes import dsp
from soundscapes.layers.modes import _DampedSines, _midi_hz
from soundscapes.layers.spec import LayerInfo, ProceduralLayer, param, placement


class Drone(ProceduralLayer):
    """A soft analogue-style synth pad on a consonant chord between 55 and 220 Hz.

    After rd--/hsc3-graphs' "interesting drone": five voices of a consonant chord (root, fifth,
    octave, twelfth, double octave), each three saw oscillators a few cents apart (the centre one in
    tune, the others 3-8 cents flat and sharp: the slow chorus beating of an ensemble pad), through
    a second-order low-pass whose cutoff drifts slowly between about 400 and 1400 Hz, and thinned
    below 100 Hz so the pad sits behind whatever plays over it; the voices' levels wander like the
    "interesting drone"'s ``LFNoise1`` amplitudes. Built additively (each saw's harmonics up to 1.6
    kHz, weighted by the filter's response at the moment), so the sweep costs nothing per sample.
    """

    info = LayerInfo(
        name="drone",
        words={
            "amphitheater": 1.0, "amphitheatre": 1.0, "cathedral": 0.8, "cavern": 0.8,
            "silence": 0.6, "arena": 0.6, "auditorium": 0.6, "cave": 0.6, "canyon": 0.6,
            "night sky": 0.6, "stillness": 0.5, "hall": 0.5, "temple": 0.5, "void": 0.5, "hum": 0.5,
            "sky": 0.4, "vault": 0.4, "moon": 0.3, "cosmos": 0.3, "celestial": 0.3, "star": 0.2,
        },
        noun_only=frozenset({"cave", "hall", "moon", "sky", "star"}),
        bed=True,
        description="a soft, slowly drifting synth pad on a consonant chord (55-220 Hz)",
        params=(
            param("root_hz", 55.0, (40.0, 80.0), "Hz",
                  "root of the chord (55 Hz = A1); voices sit at 1, 1.5, 2, 3, 4x"),
            *placement(0.5, "brightness and motion of the pad", distance=0.3, width=0.8),
        ),
    )  # fmt: skip
    _GAIN_DB = -33.0  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)
    _DEFAULT_DISTANCE = 0.3
    _RATIOS = (1.0, 1.5, 2.0, 3.0, 4.0)  # just intonation: no beating but the detune's
    _VOICE_LEVELS = (1.0, 0.8, 0.8, 0.6, 0.5)
    _DETUNE_CENTS = (3.0, 8.0)
    _RESONANCE_Q = 0.707  # Butterworth: a smooth, unpeaked sweep
    _HIGHPASS_HZ = 100.0
    _TOP_HZ = 1600.0  # highest partial synthesised (kept under 15 % of the low rate)
    _BLOCK = 256  # low-rate samples between amplitude updates (23 ms at 11 kHz)

    def _build(self, *, root_hz: float, intensity: float, distance: float, width: float) -> None:
        width *= dsp.geometric(1.0, 0.5, distance)  # farther is narrower
        rng, drift_rng = self.rng.spawn(2)
        sr = self.sample_rate_hz
        self._factor = dsp.low_rate_factor(sr, self._TOP_HZ, limit=8)
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
        self._partials = dsp.SineBank(
            self._freqs, rng.uniform(0.0, 2.0 * math.pi, len(freqs)), self._BLOCK, self._low_rate_hz
        )
        self._voice_of = np.array(voices)
        self._saw = np.array(self._VOICE_LEVELS)[self._voice_of] / np.array(harmonics)
        self._pans = dsp.pan_gains(np.array(pans))  # (2, partials)
        # A pad is thinned below ~100 Hz (second-order high-pass) so it sits behind what
        # plays over it rather than rumbling under it.
        square = (self._HIGHPASS_HZ / self._freqs) ** 2
        self._highpass = 1.0 / np.sqrt(1.0 + square * square)
        self._cutoff_low_hz = (350.0 + 250.0 * intensity) * dsp.geometric(1.0, 0.7, distance)
        self._cutoff_span_hz = (300.0 + 600.0 * intensity) * dsp.geometric(1.0, 0.5, distance)
        self._cutoff_phase = drift_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._voice_drift = dsp.SmoothRandom(drift_rng, 6.0, len(self._RATIOS), start=0.5)
        self._motion = 0.15 + 0.3 * intensity
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)
        # Farther is quieter (calibrated at the default distance).
        nearness = dsp.geometric(1.0, 0.6, distance) / dsp.geometric(
            1.0, 0.6, self._DEFAULT_DISTANCE
        )
        self._gain *= nearness

    def _amplitudes(self, t_s: np.ndarray) -> np.ndarray:
        """Partial amplitudes ``(partials, len(t_s))`` at absolute times ``t_s``."""
        # Cutoff drifts at ~0.01-0.03 Hz (two incommensurate slow sines).
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
        words={
            "piano": 1.0, "melody": 1.0, "chord": 1.0, "song": 0.7, "music": 1.0, "lullaby": 1.0,
            "harp": 1.0, "musical": 0.7, "recital": 0.7, "hymn": 0.7, "tune": 0.7, "violin": 0.6,
            "cello": 0.6, "guitar": 0.6, "flute": 0.6, "sing": 0.6, "sang": 0.6, "sung": 0.6,
            "hum": 0.3, "note": 0.3,
        },
        noun_only=frozenset({"note"}),
        description="a slow, soft piano line over low chords in D major pentatonic",
        params=(
            param("rate", 12.0, (4.0, 30.0), "notes/min",
                  "how many melody notes a minute (the chords keep their own pace)"),
            *placement(0.5, "how firmly the notes are played: louder, a little brighter",
                       distance=0.4, width=0.6),
        ),
    )  # fmt: skip
    _GAIN_DB = -26.1  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)
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

    def _build(self, *, rate: float, intensity: float, distance: float, width: float) -> None:
        sr = self.sample_rate_hz
        self._rng, self._strings_rng, self._left_rng = self.rng.spawn(3)
        self._factor = dsp.low_rate_factor(sr, self._LOW_TOP_HZ)
        self._velocity = 0.6 + 0.5 * intensity
        # The felt's corner: a firmer touch stiffens it; distance dulls the sound.
        self._felt_hz = (1500.0 + 1500.0 * intensity) * dsp.geometric(1.0, 0.5, distance)
        self._level = dsp.geometric(1.0, 0.5, distance)
        self._width = width * dsp.geometric(1.0, 0.5, distance)
        self._degree = 3
        self._chord = 0
        # `rate` notes a minute: five notes then a silent slot per phrase.
        self._slot_s = 60.0 / rate * (self._SLOTS_PER_PHRASE - 1) / self._SLOTS_PER_PHRASE
        self._slot = -1
        self._next_note_s = 0.2
        # The harmony changes about every ten seconds, with a melody note.
        self._chord_every = max(1, round(self._HARMONY_S / self._slot_s))
        self._next_pulse_s = math.inf  # the first chord starts the left hand's pulse
        keys = sorted(set(self._SCALE_MIDI).union(self._LOWER_VOICE, *self._CHORDS_MIDI))
        self._lowest, self._highest = keys[0], keys[-1]
        self._sounds: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # The thump's knock: felt, key bottom and the soundboard's low modes (60-900 Hz).
        self._thump_filter = dsp.bandpass(60.0, 900.0, sr, 1)
        self._events = dsp.OverlapAdd(dtype=np.float32)
        self._low_events = dsp.OverlapAdd(dtype=np.float32)
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)

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
        left, right = (float(g) for g in dsp.pan_gains(position * self._width))
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
            sound[:attack] *= dsp.raised_cosine(attack).astype(np.float32)
            parts.append(sound)
        # The thump: low noise dying within tens of milliseconds, at a fixed share of the
        # onset's peak (which the low partials carry), added to the full-rate part.
        n = round(0.06 * sr)
        t = np.arange(n) / sr
        knock = rng.standard_normal(n) * np.exp(-t / 0.012) * dsp.raised_cosine(n)[::-1]
        knock = signal.sosfilt(self._thump_filter, knock)
        onset = float(np.max(np.abs(parts[0][: round(0.05 * sr / self._factor)]), initial=0.0))
        knock *= self._THUMP * onset / float(np.max(np.abs(knock)))
        high = np.zeros(max(n, len(parts[1])), dtype=np.float32)
        high[: len(parts[1])] = parts[1]
        high[:n] += knock.astype(np.float32)
        return parts[0], high


LAYERS: tuple[type[ProceduralLayer], ...] = (Drone, Melody)

__all__ = ["LAYERS", "Drone", "Melody"]
