"""Night: crickets, and the night itself (a far chorus of ground crickets, an owl, soft air)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from soundscapes import dsp
from soundscapes.layers.spec import (
    LayerInfo,
    ProceduralLayer,
    distance_param,
    intensity_param,
    param,
    placement,
    width_param,
)

# --- one singing insect -----------------------------------------------------------------------


def _syllable_train(
    rng: np.random.Generator,
    carrier_hz: float,
    syllable_s: float,
    period_frames: int,
    strengths: np.ndarray,
    sample_rate_hz: float,
    *,
    glide: float,
    harmonics: tuple[float, float],
) -> np.ndarray:
    """Consecutive syllables of one cricket, one per entry of ``strengths``: mono float64.

    A syllable is one closing stroke of the raised forewings. The plectrum of one wing runs
    along the file of teeth on the other, and that escapement keeps the harp (a thin resonant
    plate in the wing) ringing at its own frequency: a nearly pure tone with weak phase-locked
    harmonics (Bennet-Clark 1999, "Resonators in insect sound production"; Bennet-Clark &
    Bailey 2002, "Ticking of the clockwork cricket"). The opening stroke is silent, so each
    syllable starts the harp afresh, with no phase carried from the last one. The frequency
    sags through the stroke (Prestwich, Lenihan & Martin 2000 measured 9 % from the first to the
    last third of a pulse) and varies a little from one syllable to the next (up to 0.8 %, same
    source).

    Syllables start every ``period_frames``; each lasts ``syllable_s``.
    """
    n = max(4, round(syllable_s * sample_rate_hz))
    x = np.arange(n) / n
    # The stroke takes hold over the first third, sags a little as the file runs out, and the
    # harp rings down when the plectrum leaves the file (Q ~ 25 at 4.5 kHz: about 2 ms, the
    # last fifth of a syllable).
    attack = 0.5 - 0.5 * np.cos(np.pi * np.minimum(x / 0.3, 1.0))
    release = 0.5 + 0.5 * np.cos(np.pi * np.clip((x - 0.8) / 0.2, 0.0, 1.0))
    envelope = attack * release * (1.0 - 0.15 * x)
    second, third = harmonics
    out = np.zeros(period_frames * (len(strengths) - 1) + n)
    for i, strength in enumerate(strengths):
        hz = carrier_hz * (1.0 + 0.004 * rng.standard_normal()) * (1.0 + glide * (0.5 - x))
        phase = 2.0 * math.pi * np.cumsum(hz) / sample_rate_hz + rng.uniform(0.0, 2.0 * math.pi)
        tone = np.sin(phase)
        for multiple, amplitude in ((2.0, second), (3.0, third)):
            if multiple * carrier_hz < 0.45 * sample_rate_hz:  # none folded back at low rates
                tone += amplitude * np.sin(multiple * phase)
        out[i * period_frames : i * period_frames + n] += strength * envelope * tone
    return out


def _placed(mono: np.ndarray, pan: float, wet: float, ir: np.ndarray, width: float) -> np.ndarray:
    """A mono song where its singer sits: float32 ``(2, len(mono) + taps - 1)``.

    The direct sound is panned to ``pan``; a share ``wet`` of the energy comes back scattered
    by the ground and the plants around (the stereo ``ir``, unit energy per ear), and ``width``
    narrows the whole towards mono.
    """
    scattered = signal.fftconvolve(mono[None, :], ir, axes=-1)
    out = math.sqrt(0.5 * wet) * scattered
    out[:, : len(mono)] += math.sqrt(1.0 - wet) * dsp.pan_gains(pan)[:, None] * mono
    return dsp.set_width(out, width).astype(np.float32)


@dataclass
class _Cricket:
    """One field cricket: its chirps (3, 4 and 5 syllables, placed) and its chirping rhythm."""

    rng: np.random.Generator
    chirps: list[np.ndarray]  # by syllable count: 3, 4, 5
    weights: np.ndarray  # how often each count is sung
    period_s: float  # its mean chirp period
    next_frame: int = 0
    drift: float = 0.0  # the period's slow wander, as a fraction


class Crickets(ProceduralLayer):
    """A field of field crickets, each chirping on its own near 4.5 kHz.

    The calling song of *Gryllus campestris* (Ragge & Reynolds 1998, "The Songs of the
    Grasshoppers and Crickets of Western Europe"): chirps (echemes) of 3-5 syllables, the first
    quieter, at 25-35 syllables per second and a few chirps per second in warmth, slower on
    cool nights. Each syllable is one closing stroke of the wings, a nearly pure tone at the
    harp's resonance that sags a few percent as the stroke runs on (see
    :func:`_syllable_train`); Farnell (*Designing Sound*, ch. 50) gives the carrier and the
    faint second harmonic.

    Warmer nights chirp faster (Dolbear's law): ``rate`` sets the chirp rate, and the syllable
    rate follows it more gently (as its square root, an assumption; 30 per second at the
    default). Every cricket keeps its own carrier (4.3-5 kHz) and chirp period (0.85-1.2 of the
    typical one), and the period wanders by a few percent, so they drift in and out of step.
    3-8 sing close by; behind them 6-18 more, 10-22 dB quieter, fill the gaps between chirps
    as a far field does. Farther means darker (air takes the harmonics first) and more
    scattered by the plants around: a short diffuse tail, which stays small, as outdoors.

    Each cricket's chirps are rendered once, at the start, with their scattering; a chirp is
    then one addition into the output, so the field costs little however busy it is.
    """

    info = LayerInfo(
        name="crickets",
        words={
            "cricket": 1.0, "night garden": 0.6, "chirp": 0.7, "cicada": 0.7, "grasshopper": 0.7,
            "katydid": 0.7, "garden": 0.4, "meadow": 0.3,
        },
        bed=True,
        description="a field of crickets chirping near 4.5 kHz, drifting in and out of step",
        params=(
            intensity_param(0.4, "how many crickets: 3 to 8 close by, 6 to 18 farther off"),
            param("rate", 1.43, (0.8, 2.5), "chirps/s",
                  "chirps per second of a typical cricket (warmer nights chirp faster)"),
            distance_param(0.4),
            width_param(0.8),
        ),
    )  # fmt: skip
    _GAIN_DB = -21.4  # calibrated: the defaults read -30 LUFS (60 s, 8 seeds)

    #: Syllables per second at the default chirp rate (Ragge & Reynolds: 25-35 in warmth).
    _SYLLABLE_HZ = 30.0
    #: The scattering tail of the garden: its -60 dB time, and its darkening cutoff.
    _TAIL_S = 0.35
    _TAIL_CUTOFF_HZ = 7000.0
    #: Share of a cricket's energy that arrives scattered: at distance 0, added at distance 1,
    #: and added for the far ones. Outdoors the direct sound dominates.
    _WET = (0.03, 0.15, 0.1)
    #: How far the carrier sags through a syllable, as a fraction (Prestwich et al. 2000).
    _GLIDE = 0.08
    #: Crickets farther off: this many, plus up to this many more with ``intensity``.
    _FAR_COUNT = (6, 12)

    def _build(self, *, intensity: float, rate: float, distance: float, width: float) -> None:
        sr = self.sample_rate_hz
        near = 3 + round(5.0 * intensity)
        count = near + self._FAR_COUNT[0] + round(self._FAR_COUNT[1] * intensity)
        rng, ir_rng, *own_rngs = self.rng.spawn(2 + count)
        ir = dsp.decaying_noise_ir(ir_rng, sr, self._TAIL_S, self._TAIL_CUTOFF_HZ)

        carrier_hz = np.minimum(rng.uniform(4300.0, 5000.0, count), 0.4 * sr)
        syllable_hz = self._SYLLABLE_HZ * math.sqrt(rate / 1.43) * rng.uniform(0.92, 1.08, count)
        duty = rng.uniform(0.45, 0.6, count)  # syllable length over syllable period
        period_s = rng.uniform(0.85, 1.2, count) / rate
        usual = rng.integers(3, 5, count)  # the syllable count each one sings most often
        far = np.arange(count) >= near
        level_db = np.where(far, rng.uniform(-22.0, -10.0, count), rng.uniform(-4.0, 0.0, count))
        pans = rng.uniform(-0.8, 0.8, count) * (1.0 - 0.4 * distance)
        # Air absorbs the harmonics (9 and 14 kHz) first, and the far ones have lost them.
        harmonic = dsp.geometric(1.0, 0.2, distance) * np.where(far, 0.3, 1.0)
        wet = np.minimum(
            self._WET[0] + self._WET[1] * distance + np.where(far, self._WET[2], 0.0), 0.85
        )

        self._crickets: list[_Cricket] = []
        powers = np.empty(count)
        for i in range(count):
            period_frames = round(sr / syllable_hz[i])
            chirps = []
            for syllables in (3, 4, 5):
                # The first syllable is the quietest; the rest swell to full (a crescendo).
                strengths = 1.0 - 0.45 * 0.5 ** np.arange(syllables)
                mono = _syllable_train(
                    own_rngs[i],
                    carrier_hz[i],
                    duty[i] / syllable_hz[i],
                    period_frames,
                    strengths,
                    sr,
                    glide=self._GLIDE,
                    harmonics=(0.18 * harmonic[i], 0.05 * harmonic[i]),
                )
                chirps.append(_placed(mono, pans[i], wet[i], ir, width))
            weights = np.array([0.6, 0.3, 0.1] if usual[i] == 3 else [0.2, 0.6, 0.2])
            energy = [float(np.sum(chirp.astype(np.float64) ** 2)) for chirp in chirps]
            powers[i] = float(np.dot(weights, energy)) / (period_s[i] * sr)
            self._crickets.append(_Cricket(own_rngs[i], chirps, weights, period_s[i]))
            self._crickets[-1].next_frame = round(own_rngs[i].uniform(0.0, period_s[i]) * sr)

        # Scale the field so its power is set by the drawn levels and the count alone, the same
        # for every seed: a cricket that happens to sing long syllables must not make the layer
        # louder. 0.02: a typical cricket's mean power at unit level.
        levels = 10.0 ** (level_db / 20.0)
        designed = 0.02 * np.sum(np.where(far, 0.05, 1.0)) * dsp.db_to_gain(-6.0 * distance) ** 2
        scale = math.sqrt(designed / float(np.sum(levels**2 * powers)))
        for cricket, level in zip(self._crickets, levels, strict=True):
            factor = np.float32(level * scale * self._gain)
            cricket.chirps = [chirp * factor for chirp in cricket.chirps]
        self._events = dsp.OverlapAdd(dtype=np.float32)

    def _render_chunk(self) -> np.ndarray:
        start = self.chunk_start_frame
        end = start + self.chunk_frames
        sr = self.sample_rate_hz
        for cricket in self._crickets:
            while cricket.next_frame < end:
                rng = cricket.rng
                chirp = cricket.chirps[int(rng.choice(3, p=cricket.weights))]
                self._events.add(cricket.next_frame - start, chirp)
                # The period wanders slowly (an AR(1) walk, about 6 % either way) and jitters
                # by 2 % from one chirp to the next: neighbours slide in and out of step.
                drift = 0.95 * cricket.drift + 0.02 * rng.standard_normal()
                cricket.drift = min(max(drift, -0.2), 0.2)
                jitter = 1.0 + 0.02 * rng.standard_normal()
                step_s = cricket.period_s * (1.0 + cricket.drift) * jitter
                cricket.next_frame += max(1, round(step_s * sr))
        return self._events.pop(self.chunk_frames)


@dataclass
class _Trill:
    """One ground cricket: its bursts of trill (placed) and where it is in its song."""

    rng: np.random.Generator
    onset: np.ndarray  # the first burst of a trill, swelling in
    steady: np.ndarray
    ending: np.ndarray  # the last burst, dying away
    burst_frames: int  # bursts follow one another this far apart
    next_frame: int = 0
    left: int = 0  # bursts still to sing in this trill


class Night(ProceduralLayer):
    """A still night: a far chorus of trilling ground crickets, soft air, and now and then an owl.

    Insects: ground crickets (Nemobiinae, e.g. *Allonemobius*), smaller than field crickets
    with a smaller harp, trill on a higher carrier at some 27 syllables per second, in trills
    of varying length with short pauses (Hershberger 2021, J. Orthoptera Res. 30: 81-85: 7.7 kHz
    in *A. walkeri*); each singer here draws 6.4-7.4 kHz and 22-32 syllables/s. Each syllable
    is one wing stroke, built as for :class:`Crickets` (:func:`_syllable_train`). 6-16 of them
    sing at once, far off: each trill swells in and dies away, the chorus as a whole wavers
    slowly as sound from afar does, and some of what arrives is scattered (a short diffuse
    tail). Higher and continuous where the crickets layer is a near, chirping 4.5 kHz: the two
    are different insects and mix as a garden does.

    Owl: a tawny owl's hoots near 360-480 Hz (a long "hoooo", a pause, then a brief "hu" and a
    long tremulous "hoooooo"; see :meth:`_phrase`), far away: dark, with a long reverberant
    tail. Calls come every 25-60 s on a jittered grid.

    Air: a faint low band of noise (60-400 Hz) underneath, the night's own hush.
    """

    info = LayerInfo(
        name="night",
        words={
            "owl": 1.0, "night garden": 1.0, "hoot": 0.8, "night air": 0.5, "nightingale": 0.5,
            "frog": 0.5, "firefly": 0.4, "garden": 0.3, "moth": 0.3,
        },
        bed=True,
        description="a still night: a far chorus of trilling insects and an owl now and then",
        params=placement(0.4, "how often the owl calls and how busy the insects are",
                         distance=0.6, width=0.8),
    )  # fmt: skip
    _GAIN_DB = -28.6  # calibrated: the defaults read -30 LUFS (60 s, 10 seeds)

    #: Scattering tail of the chorus: -60 dB time and darkening cutoff.
    _TAIL_S = 0.4
    _TAIL_CUTOFF_HZ = 9000.0
    #: Length of a burst of trill, the unit the chorus is laid out in.
    _BURST_S = 0.45
    #: Share of a singer's energy that arrives scattered: at distance 0, and added at 1.
    _WET = (0.1, 0.3)

    def _build(self, *, intensity: float, distance: float, width: float) -> None:
        self._width = width
        sr = self.sample_rate_hz
        count = 6 + round(10.0 * intensity)
        (chorus_rng, tail_rng, air_rng, owl_rng, schedule_rng, ir_rng, swell_rng, *own_rngs) = (
            self.rng.spawn(7 + count)
        )
        self._owl_rng = owl_rng
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR

        self._chorus_level = 0.5 * dsp.geometric(1.0, 0.5, distance)
        self._trills = self._chorus(chorus_rng, tail_rng, own_rngs, distance)
        self._chorus_events = dsp.OverlapAdd(dtype=np.float32)
        # The chorus wavers as a whole, +-2 dB over some seconds: sound from afar reaches us
        # through a stirring, layered night air.
        self._swell = dsp.SmoothRandom(swell_rng, 4.0, 1, start=0.5)
        self._swell_up = dsp.Upsampler(dsp.CONTROL_FACTOR, 1, smooth=False, dtype=np.float32)

        # The night air (60-400 Hz) runs at a sixteenth of the rate; the owls (all under
        # 1.5 kHz) at a quarter, reverb included, and only while a phrase sounds.
        self._air_factor = dsp.low_rate_factor(sr, 400.0)
        air_rate_hz = sr / self._air_factor
        self._air = dsp.NoiseBed(
            air_rng, dsp.bandpass(60.0, 400.0, air_rate_hz, 1), air_rate_hz, self._width
        )
        self._air_level = 0.23 * dsp.geometric(1.0, 0.5, distance)
        self._air_up = dsp.Upsampler(self._air_factor, dtype=np.float32)
        self._factor = dsp.low_rate_factor(sr, 1500.0, limit=4)
        low = sr / self._factor
        self._low_rate_hz = low
        self._upsample = dsp.Upsampler(self._factor, dtype=np.float32)

        self._phrases = dsp.JitteredGrid(
            schedule_rng, dsp.geometric(60.0, 25.0, intensity), 0.2, 0.8
        )
        self._owl_hz = owl_rng.uniform(360.0, 480.0)
        self._owl_pan = owl_rng.uniform(-0.6, 0.6) * self._width
        self._owl_level = dsp.geometric(1.0, 0.5, distance)
        self._owl_reverb = dsp.Convolver(
            dsp.decaying_noise_ir(ir_rng, low, 2.2, dsp.geometric(1400.0, 800.0, distance))
        )
        self._owl_wet = 0.3 + 0.4 * distance
        # Hoots are filtered from rest (Filter.from_rest): a breath around the fundamental,
        # then the dark top of a distant call.
        self._owl_breath = dsp.Filter(dsp.resonator(self._owl_hz, 4.0, low), (1,))
        self._owl_top = dsp.Filter(
            dsp.lowpass(dsp.geometric(1500.0, 1000.0, distance), low, 2), (1,)
        )
        self._events = dsp.OverlapAdd(dtype=np.float32)

    def _chorus(
        self,
        rng: np.random.Generator,
        tail_rng: np.random.Generator,
        own_rngs: list[np.random.Generator],
        distance: float,
    ) -> list[_Trill]:
        """The ground crickets, each with its bursts rendered and placed."""
        sr = self.sample_rate_hz
        count = len(own_rngs)
        ir = dsp.decaying_noise_ir(tail_rng, sr, self._TAIL_S, self._TAIL_CUTOFF_HZ)
        carrier_hz = np.minimum(rng.uniform(6400.0, 7400.0, count), 0.4 * sr)
        syllable_hz = rng.uniform(22.0, 32.0, count)
        duty = rng.uniform(0.45, 0.6, count)
        level_db = rng.uniform(-10.0, 0.0, count)
        pans = rng.uniform(-0.9, 0.9, count) * (1.0 - 0.4 * distance)
        wet = self._WET[0] + self._WET[1] * distance
        harmonic = dsp.geometric(0.1, 0.02, distance)
        trills = []
        powers = np.empty(count)
        for i, own in enumerate(own_rngs):
            period_frames = round(sr / syllable_hz[i])
            syllables = max(2, round(self._BURST_S * syllable_hz[i]))
            steady = np.ones(syllables)
            # A trill swells in over its first few syllables and dies away over its last.
            onset = np.minimum(1.0, 0.25 + 0.15 * np.arange(syllables))
            ending = np.minimum(1.0, 0.25 + 0.15 * np.arange(syllables)[::-1])
            bursts = [
                _placed(
                    _syllable_train(
                        own,
                        carrier_hz[i],
                        duty[i] / syllable_hz[i],
                        period_frames,
                        strengths,
                        sr,
                        glide=0.06,  # a few percent, as in a field cricket's stroke
                        harmonics=(harmonic, 0.2 * harmonic),
                    ),
                    pans[i],
                    wet,
                    ir,
                    self._width,
                )
                for strengths in (onset, steady, ending)
            ]
            powers[i] = float(np.sum(bursts[1].astype(np.float64) ** 2)) / (
                syllables * period_frames
            )
            trill = _Trill(own, *bursts, burst_frames=syllables * period_frames)
            trill.next_frame = round(own.uniform(0.0, 1.0) * sr)
            trills.append(trill)
        # As for the crickets: the chorus's power is set by the drawn levels and the count, the
        # same for every seed; 0.34 a singer puts the chorus 14 dB over the air.
        levels = 10.0 ** (level_db / 20.0)
        scale = math.sqrt(0.34 * count / float(np.sum(levels**2 * powers)))
        for trill, level in zip(trills, levels, strict=True):
            factor = np.float32(level * scale)
            trill.onset, trill.steady, trill.ending = (
                trill.onset * factor,
                trill.steady * factor,
                trill.ending * factor,
            )
        return trills

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        ctl = self._control_rate_hz
        t = t0 + np.arange(self.control_frames) / ctl

        # The chorus: each singer's next bursts, then the whole under its slow swell.
        start = self.chunk_start_frame
        end = start + self.chunk_frames
        for trill in self._trills:
            while trill.next_frame < end:
                self._chorus_events.add(trill.next_frame - start, self._next_burst(trill, sr))
        swell = 10.0 ** ((self._swell.at(t)[0] - 0.5) * 0.2)  # +-2 dB
        level = self._chorus_level * self._gain
        out = self._chorus_events.pop(self.chunk_frames)
        out *= self._swell_up((level * swell)[None, :].astype(np.float32))

        low = self._low_rate_hz
        m = self.chunk_frames // self._factor
        for phrase_s in self._phrases.pop_until(t0 + self.chunk_frames / sr):
            self._events.add(round((phrase_s - t0) * low), self._phrase_sound(phrase_s))
        air_frames = self.chunk_frames // self._air_factor
        out += self._air_up(self._air(air_frames, self._air_level * self._gain))
        # No owl sounding and none left in the interpolator: its output would be exactly
        # zero (most of the time), so it is skipped.
        silent = self._events.quiet() and self._upsample.at_rest
        owl = self._events.pop(m)
        if not silent:
            out += self._upsample(owl)
        return out

    @staticmethod
    def _next_burst(trill: _Trill, sample_rate_hz: int) -> np.ndarray:
        """The burst a singer sings next, moving it on (and between trills, pausing)."""
        rng = trill.rng
        if trill.left == 0:
            # A new trill of some 3-18 s (Hershberger 2021: trills of varying length).
            trill.left = int(rng.integers(7, 40))
            burst = trill.onset
        elif trill.left == 1:
            burst = trill.ending
        else:
            burst = trill.steady
        trill.left -= 1
        trill.next_frame += trill.burst_frames
        if trill.left == 0:
            trill.next_frame += round(rng.uniform(0.3, 3.0) * sample_rate_hz)
        return burst

    def _phrase(self, start_s: float) -> list[_Hoot]:
        """A tawny owl's call: "hoooo ... hu, hu-hu-hoooooo" (sometimes just the first hoot).

        The first note rises and falls; after a pause of a few seconds comes a very brief
        note and then, straight after, a prolonged tremulous one (wildechoes.org, "Tawny owl";
        Appleby & Redpath 1997 on the male territorial hoot).
        """
        rng = self._owl_rng
        level = self._owl_level * self._gain * rng.uniform(0.8, 1.0)
        hoots = [_Hoot(start_s, rng.uniform(0.6, 0.9), level, 0.0, int(rng.integers(2**62)))]
        if rng.random() < 0.7:
            t = start_s + hoots[0].duration_s + rng.uniform(2.0, 4.0)
            seed = int(rng.integers(2**62))
            hoots.append(_Hoot(t, rng.uniform(0.12, 0.2), 0.7 * level, 0.0, seed))
            t += hoots[-1].duration_s + rng.uniform(0.1, 0.25)
            tremolo_hz = rng.uniform(8.0, 12.0)
            hoots.append(
                _Hoot(t, rng.uniform(1.0, 1.5), level, tremolo_hz, int(rng.integers(2**62)))
            )
        return hoots

    def _phrase_sound(self, start_s: float) -> np.ndarray:
        """A whole phrase at the low rate from its first hoot, reverberant tail included.

        The hoots are laid out dry and share one pass through the reverb (it is linear): one
        convolution a phrase instead of one a hoot.
        """
        hoots = self._phrase(start_s)
        low = self._low_rate_hz
        offsets = [round((hoot.start_s - start_s) * low) for hoot in hoots]
        sounds = [self._hoot(hoot) for hoot in hoots]
        dry = np.zeros(max(o + len(x) for o, x in zip(offsets, sounds, strict=True)))
        for offset, sound in zip(offsets, sounds, strict=True):
            dry[offset : offset + len(sound)] += sound
        out = self._owl_reverb(dry[None, :]) * np.float32(self._owl_wet)
        direct = dsp.pan_gains(self._owl_pan)[:, None] * (math.sqrt(2.0) * (1.0 - self._owl_wet))
        out[:, : len(dry)] += (direct * dry).astype(np.float32)
        return out

    def _hoot(self, hoot: _Hoot) -> np.ndarray:
        """One dry hoot at the low rate, mono float64, at the hoot's level.

        The owl hoots with its throat puffed out and its bill shut: a nearly pure tone from the
        syrinx with weak harmonics, and a little breath. A tremulous note (``tremolo_hz`` > 0)
        quavers in loudness, fast and deep at first (the run of "hu-hu-ho" into it), then
        slower and shallower as the note is held.
        """
        sr = self._low_rate_hz
        n = round(hoot.duration_s * sr)
        t = np.arange(n) / sr
        x = t / hoot.duration_s
        # Pitch rises ~3 % then sinks ~6 % over the note.
        contour = 1.0 + 0.03 * np.sin(np.pi * np.minimum(x / 0.6, 1.0)) - 0.06 * x**2
        phase = 2.0 * np.pi * np.cumsum(self._owl_hz * contour) / sr
        # sin 2x and sin 3x from sin x and cos x (2 sin x cos x; sin x (4 cos^2 x - 1)).
        sin1, cos1 = np.sin(phase), np.cos(phase)
        tone = sin1 * (1.0 + 0.36 * cos1 + 0.06 * (4.0 * cos1 * cos1 - 1.0))
        # A little breath in the hoot: noise around the fundamental, more in a tremulous note
        # (it has "almost a rasping quality").
        noise = np.random.default_rng(hoot.seed).standard_normal(n)
        breath = 0.8 if hoot.tremolo_hz > 0.0 else 0.5
        tone += breath * self._owl_breath.from_rest(noise)
        attack = min(round(0.06 * sr), n // 3)
        release = min(round(0.15 * sr), n // 2)
        envelope = np.ones(n)
        envelope[:attack] = dsp.raised_cosine(attack)
        envelope[n - release :] = dsp.raised_cosine(release)[::-1]
        if hoot.tremolo_hz > 0.0:
            # The quaver's rate slows by a third and its depth falls from 0.8 to 0.3.
            rate_hz = hoot.tremolo_hz * (1.0 - x / 3.0)
            quaver = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.cumsum(rate_hz) / sr)
            envelope *= 1.0 - (0.8 - 0.5 * x) * quaver
        dry = self._owl_top.from_rest(tone * envelope)
        dry *= hoot.level / (math.sqrt(float(np.mean(dry**2))) + 1e-12)
        return dry


@dataclass(frozen=True)
class _Hoot:
    start_s: float
    duration_s: float
    level: float
    tremolo_hz: float  # 0 for a plain hoot
    seed: int  # for the breath noise


LAYERS: tuple[type[ProceduralLayer], ...] = (Crickets, Night)

__all__ = ["LAYERS", "Crickets", "Night"]
