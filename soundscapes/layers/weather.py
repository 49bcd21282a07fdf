"""Weather: the hush before a storm, wind, rain."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import scipy.fft
from scipy import signal

from soundscapes.dsp import (
    CONTROL_FACTOR,
    Convolver,
    Filter,
    JitteredGrid,
    NoiseBed,
    OverlapAdd,
    PoissonClock,
    SmoothRandom,
    Upsampler,
    db_to_gain,
    decaying_noise_ir,
    geometric,
    highpass,
    low_rate_factor,
    lowpass,
    one_pole_lowpass,
    pan_gains,
    raised_cosine,
    resonator,
    set_width,
    unit_noise_gain,
    white_noise,
)
from soundscapes.layers.spec import (
    LayerInfo,
    ProceduralLayer,
    distance_param,
    intensity_param,
    width_param,
)


class _SpectralNoise:
    """Stereo noise whose power spectrum is set anew every few frame hops.

    Each frame is a random spectrum (a complex Gaussian per bin, so random phases) shaped by
    the amplitudes of its group of hops, brought to the time domain by an inverse FFT and
    windowed. Frames overlap by half and the squared windows sum to exactly one, so a steady
    spectrum gives steady noise; a changing one glides from frame to frame. The ears share the
    mid noise and differ by the side noise, ``width`` times as strong (as
    :func:`~soundscapes.dsp.stereo_noise`). Frames are drawn in order from one stream, so any
    split of the frames between calls gives the same samples.
    """

    FRAME = 1024
    HOP = FRAME // 2
    #: Hops that share one spectrum (46 ms): gusts and eddies change far more slowly.
    GROUP = 4

    def __init__(self, rng: np.random.Generator, width: float, bins: int) -> None:
        self._rng = rng
        #: Bins from DC that sound (the caller keeps DC at zero); the rest stay silent.
        self.bins = min(bins, self.FRAME // 2)
        self._width = np.float32(width)
        # The Vorbis power-complementary window: w(n)^2 + w(n + FRAME/2)^2 = 1, and smooth
        # where frames meet (a square-root Hann window has a corner there, which a dark sound
        # lets through as a tick every hop).
        n = np.arange(self.FRAME)
        self._window = np.sin(0.5 * np.pi * np.sin(np.pi * n / self.FRAME) ** 2).astype(np.float32)
        self._tail = np.zeros((2, self.HOP), dtype=np.float32)
        # irfft gives each bin 2 / FRAME of its amplitude; unit-variance real and imaginary
        # parts, and the mid and side summed, give each ear sum(amplitude^2) of variance.
        self._scale = np.float32(self.FRAME / 2.0 / math.sqrt(1.0 + width**2))

    def __call__(self, amplitudes: np.ndarray) -> np.ndarray:
        """``(groups, 2, bins)`` RMS amplitudes per bin and ear -> float32
        ``(2, groups * GROUP * HOP)``."""
        groups = amplitudes.shape[0]
        hops = groups * self.GROUP
        noise = white_noise(self._rng, (hops * 4 * self.bins,))
        spectra = noise.view(np.complex64).reshape(groups, self.GROUP, 2, self.bins)
        ears = np.empty_like(spectra)
        np.multiply(spectra[:, :, 1], self._width, out=ears[:, :, 1])
        np.add(spectra[:, :, 0], ears[:, :, 1], out=ears[:, :, 0])
        np.subtract(spectra[:, :, 0], ears[:, :, 1], out=ears[:, :, 1])
        ears *= (amplitudes * self._scale)[:, None]
        frames = np.fft.irfft(ears.reshape(hops, 2, self.bins), n=self.FRAME, axis=-1)
        frames *= self._window
        first = frames[:, :, : self.HOP].transpose(1, 0, 2)
        second = frames[:, :, self.HOP :].transpose(1, 0, 2)
        out = first.copy()
        out[:, 0] += self._tail
        out[:, 1:] += second[:, :-1]
        self._tail = second[:, -1].copy()
        return out.reshape(2, hops * self.HOP)


class _GustCycle:
    """Gusts and lulls in turn, in [-1, 1], joined by raised cosines (flat at each knot, so
    the wind dwells in its gusts and lulls).

    Knots alternate between a gust (0.7 to 0.9) and a lull (-0.7 to -0.9), 3-13 s apart, so
    gusts neither keep time nor all come alike. Alternating keeps every minute holding
    several of each, so a minute's loudness hardly depends on the seed, where a free random
    walk can leave a whole minute in a lull. Knots are drawn lazily in time order.
    """

    _SPACING_S = (3.0, 13.0)

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._times = [0.0]
        self._values = [0.0]  # the first knot at the mean, whatever the seed
        self._sign = 1.0 if rng.random() < 0.5 else -1.0

    def at(self, t_s: np.ndarray) -> np.ndarray:
        """Values at ascending times ``t_s`` (never before the previous call's first time)."""
        while self._times[-1] <= t_s[-1]:
            self._times.append(self._times[-1] + self._rng.uniform(*self._SPACING_S))
            self._values.append(self._sign * self._rng.uniform(0.7, 0.9))
            self._sign = -self._sign
        times = np.array(self._times)
        values = np.array(self._values)
        index = np.searchsorted(times, t_s, side="right") - 1
        frac = (t_s - times[index]) / (times[index + 1] - times[index])
        blend = 0.5 - 0.5 * np.cos(np.pi * frac)
        out = values[index] + (values[index + 1] - values[index]) * blend
        keep = int(index[0])
        del self._times[:keep], self._values[:keep]
        return out


class _Gusts:
    """The wind speed over time as ``log(U / U_mean)``, on the control grid.

    Gusts and lulls in turn (:class:`_GustCycle`) plus eddies at about 1.3 s and 0.45 s, each
    weaker than the last: the energy of atmospheric turbulence falls with frequency (the
    Kolmogorov -5/3 law), and their randomness keeps the wind from turning periodic (the
    Nyquist wind notes). Turbulence intensity near the ground is 0.2-0.3 (sigma_u / U), hence
    depths of that order. Values already computed are kept for ``history_s`` so sources
    further downwind can read the same gust later.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        control_rate_hz: float,
        gust_depth: float,
        eddy_depth: float,
        history_s: float,
    ) -> None:
        gust_rng, eddy_rng, small_rng = rng.spawn(3)
        # One generator per control: sharing one would tie the knots to evaluation order.
        self._gust = _GustCycle(gust_rng)
        self._eddy = SmoothRandom(eddy_rng, 1.3)
        self._small = SmoothRandom(small_rng, 0.45)
        self._gust_depth = gust_depth
        self._eddy_depth = eddy_depth
        self.history = max(1, round(history_s * control_rate_hz))
        self._past: np.ndarray | None = None

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        """``log(U / U_mean)`` at the control times ``t_s`` preceded by ``history`` earlier
        values: float64 ``(history + len(t_s),)``."""
        gust = self._gust.at(t_s)
        eddy = 0.6 * (2.0 * self._eddy.at(t_s)[0] - 1.0)
        eddy += 0.4 * (2.0 * self._small.at(t_s)[0] - 1.0)
        now = self._gust_depth * gust + self._eddy_depth * eddy
        if self._past is None:
            self._past = np.full(self.history, now[0])  # before the start: the same air
        joined = np.concatenate([self._past, now])
        self._past = joined[-self.history :]
        return joined


class _AeolianCloud:
    """A cloud of obstacles singing in a gusting wind: stereo noise from their Aeolian tones.

    Each obstacle of diameter d sheds vortices at f = St U / d (Strouhal number St ~ 0.2;
    Strutt 1879; SOUND_RECIPES 3.2, Jeans' rule) and radiates as a dipole whose power grows as
    U^6 (Curle 1955; Lyons, Hart & Raspet, Acoustics Today 2021), and, for a cylinder, with
    its diameter. Turbulence broadens each tone into a resonance of Q ~ 4 ("nature is a
    crappy resonator", etherealwake), so many obstacles together make a broad band whose
    centre and level follow the speed. Each feels the gust ``spread_s`` or less after the
    first (a gust crossing a stand of trees) plus small eddies of its own, so a gust sweeps
    through the spectrum and across the field instead of turning the whole band up at once.

    Obstacles land on a log-frequency grid (12 points an octave); a fixed matrix spreads each
    grid point's resonance over the FFT bins of :class:`_SpectralNoise`.
    """

    STROUHAL = 0.2
    SOURCE_Q = 4.0
    _STEPS_PER_OCTAVE = 12
    _EDDY_DEPTH = 0.08  # log speed: each obstacle's own eddies
    #: Most multiply-adds in one matrix product: past about 1.4 million OpenBLAS fans out over
    #: threads, which on a process pinned to one core costs far more than it saves.
    _MATMUL_MACS = 1 << 19

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        sample_rate_hz: int,
        speed_ms: float,
        diameters_m: tuple[float, float],
        sources: int,
        spread_s: float,
        pan_spread: float,
        width: float,
        dark_hz: float,
        top_hz: float,
    ) -> None:
        noise_rng, source_rng, eddy_rng = rng.spawn(3)
        sr = sample_rate_hz
        self._control_rate_hz = sr / CONTROL_FACTOR
        self.per_group = _SpectralNoise.HOP * _SpectralNoise.GROUP // CONTROL_FACTOR
        # Log-evenly spread (one at random in each of ``sources`` equal steps): every seed
        # gets the same kind of tree, so the same spectrum and loudness.
        fractions = (np.arange(sources) + source_rng.random(sources)) / sources
        diameters = diameters_m[0] * (diameters_m[1] / diameters_m[0]) ** fractions
        pitch_hz = self.STROUHAL * speed_ms / diameters
        self.max_lag = max(1, round(spread_s * self._control_rate_hz))
        self._lags = source_rng.integers(0, self.max_lag + 1, sources)
        pans = source_rng.permutation(np.linspace(-1.0, 1.0, sources)) * pan_spread
        power = diameters / np.sum(diameters)  # bigger is louder (Curle)
        self._source_power = (pan_gains(pans) ** 2 * power)[:, :, None]  # (ears, sources, 1)
        self._eddies = SmoothRandom(eddy_rng, 0.7, sources)

        # The grid reaches an octave below the lowest pitch and two above the highest, more
        # than any gust moves them.
        steps = self._STEPS_PER_OCTAVE
        grid_low_hz = float(np.min(pitch_hz)) / 2.0
        self._grid_count = int(steps * math.log2(4.0 * np.max(pitch_hz) / grid_low_hz)) + 2
        self._grid_pos = steps * np.log2(pitch_hz / grid_low_hz)
        grid_hz = grid_low_hz * 2.0 ** (np.arange(self._grid_count) / steps)
        # Bins up to ``top_hz`` only: above it the resonances' darkened tails are far down,
        # and leaving those bins silent saves spectral work.
        bins = math.ceil(top_hz * _SpectralNoise.FRAME / sr)
        self._noise = _SpectralNoise(noise_rng, width, bins)
        bins_hz = np.arange(self._noise.bins) * sr / _SpectralNoise.FRAME
        ratio = np.maximum(bins_hz[None, :], 1.0) / grid_hz[:, None]
        shape = 1.0 / (1.0 + (self.SOURCE_Q * (ratio - 1.0 / ratio)) ** 2)
        shape[:, (bins_hz < 20.0) | (bins_hz >= sr / 2)] = 0.0
        self._resonances = (shape / shape.sum(axis=1, keepdims=True)).astype(np.float32)
        # Air absorption and the ground darken what arrives: a gentle low-pass.
        self._darkening = (1.0 / np.sqrt(1.0 + (bins_hz / dark_hz) ** 2)).astype(np.float32)

    def __call__(self, speed: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        """The cloud's sound over the control times ``t_s``: float32 ``(2, len(t_s) * 64)``.

        ``speed`` is ``log(U / U_mean)`` at those times preceded by at least ``max_lag``
        earlier values (as :class:`_Gusts` gives it); at ``U_mean`` each ear's power is one.
        """
        history = len(speed) - len(t_s)
        step = self.per_group
        # Each obstacle's log speed at each group's middle: the gust, delayed, plus its eddies.
        index = history + np.arange(step // 2, len(t_s), step)
        groups = len(index)
        local = speed[index[None, :] - self._lags[:, None]]
        local += self._EDDY_DEPTH * (2.0 * self._eddies.at(t_s[index - history]) - 1.0)
        # Pitch scales with U (Strouhal), power with U^6 (dipole): each obstacle lands on the
        # grid between two points, shared linearly.
        pos = self._grid_pos[:, None] + local * (self._STEPS_PER_OCTAVE / math.log(2.0))
        pos = np.clip(pos, 0.0, self._grid_count - 1.001)
        low = pos.astype(np.int64)
        upper = pos - low
        power = np.exp(6.0 * local) * self._source_power  # (ears, sources, groups)
        rows = np.arange(2 * groups).reshape(2, 1, groups) * self._grid_count
        index = np.concatenate([(rows + low).ravel(), (rows + low + 1).ravel()])
        weights = np.concatenate([(power * (1.0 - upper)).ravel(), (power * upper).ravel()])
        grid = np.bincount(index, weights, 2 * groups * self._grid_count)
        grid = grid.reshape(2 * groups, self._grid_count).astype(np.float32)
        bins = self._noise.bins
        power_bins = np.empty((2 * groups, bins), dtype=np.float32)
        step_rows = max(1, self._MATMUL_MACS // (self._grid_count * bins))
        for first in range(0, 2 * groups, step_rows):
            last = first + step_rows
            np.matmul(grid[first:last], self._resonances, out=power_bins[first:last])
        amplitudes = np.sqrt(power_bins, out=power_bins) * self._darkening
        return self._noise(amplitudes.reshape(2, groups, -1).transpose(1, 0, 2))


class StormHush(ProceduralLayer):
    """The hush before a storm: a low gusting wind, the air's slow weight, distant thunder.

    Three things are heard while a storm is still far off (SOUND_RECIPES 3.4):

    - A low, gusting wind: the cloud of Aeolian tones of :class:`Wind`, of branches and
      twigs (2-15 mm: 70-500 Hz at 5 m/s), heard from afar: darkened below about a
      kilohertz, no whistles (SOUND_RECIPES 3.2, the storm-hush variant).
    - The air's weight: brown noise below 110 Hz swelling over a minute or two.
    - Distant rolling thunder, built the way thunder is made (Few 1969; Ribner & Roy 1982,
      "Acoustics of thunder: a quasilinear model for tortuous lightning"). A lightning
      channel (4-8 km to the ground, or 6-14 km along the cloud base) with a few branches
      wanders like a random walk of 5 m segments. Each segment's shock reaches the listener
      r / c later as an N-wave (6-12 ms, lengthening slowly with distance), spread over the
      time sound takes to cross the segment as seen from the listener: segments square to
      the line of sight arrive at once as claps, those along it as a soft roll, and the
      kilometres between the nearest and farthest segments make a roll several seconds
      long with irregular swells of its own. Return strokes repeat the pulse 40-100 ms apart.
      Over 3-12 km the air takes nearly everything above a few hundred hertz (ISO 9613-2
      absorption), turbulence scatters each arrival into a short coda, rays from the lowest
      few degrees are refracted away (the ground shadow), and sparse spiky echoes stand for
      hills and trees (Farnell, Pd forum): no crack, only rumble. Each segment is heard from
      its own bearing, so a roll moves across the sky.
    """

    info = LayerInfo(
        name="storm-hush",
        description="the hush before a storm: a low gusting wind and distant rolling thunder",
        params=(
            intensity_param(0.3, "how often and how strongly distant thunder rumbles"),
            distance_param(0.7),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, several seeds).
    _GAIN_DB = -31.0
    _SOUND_SPEED_MS = 343.0
    _SEGMENT_M = 5.0
    _SUB_PULSES = 4
    _TURN_RAD = 0.28  # rms turn a segment, about Few's 16 degree mean tortuosity
    _BED_CUTOFF_HZ = 110.0
    # Air absorption at 20 C and 70 % humidity (ISO 9613-2 table 2; 31.5 Hz extrapolated),
    # dB per km by frequency (Hz).
    _ABSORPTION_HZ = (31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0)
    _ABSORPTION_DB_KM = (0.03, 0.1, 0.3, 1.1, 2.8, 5.0, 9.0)

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        cloud_rng, gust_rng, bed_rng, swell_rng, thunder_rng, schedule_rng, echo_rng = (
            self.rng.spawn(7)
        )
        self._bed_rng, self._thunder_rng = bed_rng, thunder_rng
        sr = self.sample_rate_hz
        group = _SpectralNoise.HOP * _SpectralNoise.GROUP
        if self.chunk_frames % group:
            raise ValueError(f"storm-hush renders whole groups of {group} frames")
        self._control_rate_hz = sr / CONTROL_FACTOR

        # The low wind: gusty (turbulence ahead of a storm), farther is darker, quieter and
        # narrower.
        self._gusts = _Gusts(
            gust_rng, self._control_rate_hz, gust_depth=0.2, eddy_depth=0.1, history_s=3.1
        )
        narrowing = 1.0 - 0.4 * distance
        self._cloud = _AeolianCloud(
            cloud_rng,
            sample_rate_hz=sr,
            speed_ms=5.0,
            diameters_m=(0.002, 0.015),
            sources=24,
            spread_s=3.0,
            pan_spread=0.8 * self._width * narrowing,
            width=self._width * narrowing,
            dark_hz=geometric(1300.0, 600.0, distance),
            top_hz=8000.0,
        )
        self._cloud_gain = geometric(1.4, 0.85, distance)

        # The air's weight and the thunder run at a lower rate (content below 800 Hz).
        self._factor = low_rate_factor(sr, 800.0)
        low = sr / self._factor
        self._low_rate_hz = low
        self._low_frames = self.chunk_frames // self._factor
        # Brown bed: a leaky integrator (corner 60 Hz) for the -6 dB/octave slope, kept to
        # 35-110 Hz, under very slow swells at two incommensurate rates (0.013 and 0.021 Hz;
        # Andersen's rates that never line up).
        bed_sos = np.concatenate(
            [
                one_pole_lowpass(60.0, low),
                highpass(35.0, low, 2),
                lowpass(self._BED_CUTOFF_HZ, low, 4),
            ]
        )
        self._bed_filter = Filter(unit_noise_gain(bed_sos, low))
        self._bed_filter.warm_up(white_noise(bed_rng, (2, int(4 * low))))
        self._bed_level = 0.3
        self._swell_hz = np.array([1.0 / 75.0, 1.0 / 47.0])
        self._swell_phase = swell_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._upsample = Upsampler(self._factor, dtype=np.float32)

        # Thunder: a jittered grid (every 45-15 s as intensity rises) keeps each minute's
        # count, hence its loudness, steady from seed to seed; slots placed 0.2-0.8 keep gaps
        # between 0.4 and 1.6 periods.
        self._flashes = JitteredGrid(schedule_rng, geometric(45.0, 15.0, intensity), 0.2, 0.8)
        self._flash_m = 1000.0 * geometric(3.0, 12.0, distance)
        # Loudest 3 s of a roll above the wind's mean level (both unit power per ear).
        self._thunder_gain = db_to_gain(7.0 + 6.0 * (intensity - 0.3) - 3.0 * (distance - 0.7))
        self._echo_wet = 0.3 + 0.4 * distance
        # Farnell (Pd forum): convolve distant thunder with sparse spiky noise (trees,
        # buildings) rather than a smooth reverb; a different response per ear keeps it wide.
        self._echoes = Convolver(decaying_noise_ir(echo_rng, low, 6.0, 400.0, sparse=0.97))
        # Kilometres of turbulent air scatter every arrival into a short dense coda (as a
        # seismogram's): a decaying noise of ~60 ms per ear, so claps roll rather than knock.
        self._scatter = Convolver(decaying_noise_ir(echo_rng, low, 0.4, 1500.0))
        # Nothing below hearing, nothing the lower rate cannot carry (the air has taken
        # nearly everything up there already).
        self._thunder_sos = np.concatenate([highpass(25.0, low, 2), lowpass(800.0, low, 4)])
        self._events = OverlapAdd()
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        low = self._low_rate_hz
        m = self._low_frames
        t0 = self.chunk_start_s
        t = t0 + np.arange(m) / low

        phases = 2.0 * math.pi * self._swell_hz[:, None] * t + self._swell_phase[:, None]
        swell = 10.0 ** ((0.9 * np.sin(phases[0]) + 0.6 * np.sin(phases[1])) / 20.0)
        bed = self._bed_filter(white_noise(self._bed_rng, (2, m)))
        bed = set_width(bed, self._width) * (self._bed_level * swell)
        for start_s in self._flashes.pop_until(t0 + m / low):
            self._events.add(max(0, round((start_s - t0) * low)), self._thunder())
        out = self._upsample((bed + self._events.pop(m)) * self._gain)

        control_t = t0 + np.arange(self.control_frames) / self._control_rate_hz
        wind = self._cloud(self._gusts(control_t), control_t)
        out += wind * np.float32(self._gain * self._cloud_gain)
        return out

    def _channel(
        self, rng: np.random.Generator, start: np.ndarray, length_m: float, climb_rad: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A tortuous channel from ``start``: segment ends and unit directions, ``(3, n)`` each.

        Heading and climb turn by about 16 degrees a segment (Few's tortuosity); the climb is
        pulled back towards ``climb_rad`` (down for a stroke to ground, level in a cloud).
        """
        count = max(2, round(length_m / self._SEGMENT_M))
        heading = rng.uniform(-math.pi, math.pi) + np.cumsum(rng.normal(0.0, self._TURN_RAD, count))
        wander = signal.lfilter([self._TURN_RAD], [1.0, -0.95], rng.standard_normal(count))
        climb = np.clip(wander + climb_rad, -1.45, 1.45)
        direction = np.stack(
            [np.cos(climb) * np.cos(heading), np.cos(climb) * np.sin(heading), np.sin(climb)]
        )
        return start[:, None] + self._SEGMENT_M * np.cumsum(direction, axis=1), direction

    def _thunder(self) -> np.ndarray:
        """One distant roll of thunder at the low rate: float64 ``(2, n)``."""
        rng = self._thunder_rng
        low = self._low_rate_hz
        c = self._SOUND_SPEED_MS

        # The channel: a random walk of segments whose direction turns a little each step,
        # with a few branches leaving it. Cloud-to-ground strokes head down from the cloud
        # base, cloud flashes wander level.
        to_ground = rng.random() < 0.4
        range_m = self._flash_m * rng.uniform(0.8, 1.25)
        bearing = rng.uniform(-math.pi, math.pi)
        start = np.array(
            [range_m * math.cos(bearing), range_m * math.sin(bearing), rng.uniform(3e3, 5e3)]
        )
        # Cloud flashes run far along the cloud base (spider lightning reaches tens of km).
        main_m = rng.uniform(4000.0, 8000.0) if to_ground else rng.uniform(6000.0, 14000.0)
        ends, direction = self._channel(rng, start, main_m, -0.9 if to_ground else 0.0)
        for _ in range(rng.integers(2, 6)):
            fork = ends[:, rng.integers(0, ends.shape[1])]
            branch = self._channel(rng, fork, rng.uniform(0.2, 0.5) * main_m, -0.6)
            ends = np.concatenate([ends, branch[0]], axis=1)
            direction = np.concatenate([direction, branch[1]], axis=1)
        middles = ends - 0.5 * self._SEGMENT_M * direction
        middles[2] = np.abs(middles[2])  # a stroke that reaches the ground stays above it

        # What reaches the listener (at the origin): each segment's N-wave at r / c, spread
        # over the time its length takes to cross the line of sight. A channel is crooked
        # at every scale, so each segment arrives as a few sub-pulses scattered over that
        # time rather than one smooth smear: end-on segments roll, square-on ones clap.
        r = np.sqrt(np.sum(middles**2, axis=0))
        ray = middles / r
        along = np.abs(np.sum(direction * ray, axis=0))
        arrival_s = (r - np.min(r)) / c + 0.5
        spread_s = self._SEGMENT_M * along / c
        amplitude = self._SEGMENT_M / r / self._SUB_PULSES  # 1 / r spreading
        # Low rays are refracted upward and away on their way (the ground shadow of distant
        # sound): the lowest few degrees fade, so a distant ground stroke does not crack.
        elevation = np.arcsin(np.clip(ray[2], -1.0, 1.0))
        amplitude *= np.clip(elevation / 0.15, 0.0, 1.0)
        # Each segment heard from its own direction: panned by its bearing.
        gains = pan_gains(ray[1] * self._width) * amplitude
        n = round((float(np.max(arrival_s + spread_s)) + 1.0) * low)
        offsets = rng.random((self._SUB_PULSES, len(r)))
        at = np.round((arrival_s + offsets * spread_s) * low).astype(np.int64).ravel()
        impulses = np.stack(
            [np.bincount(at, np.tile(gains[ear], self._SUB_PULSES), n) for ear in range(2)]
        )

        # The N-wave: a linear fall from +1 to -1, 6-12 ms (a spectrum peaking near 100 Hz,
        # Few's dominant frequency) and lengthening slowly with distance as the shock weakens.
        period_s = rng.uniform(0.006, 0.012) * (range_m / 5000.0) ** 0.25
        taps = max(3, round(period_s * low))
        pulse = np.linspace(1.0, -1.0, taps)
        # A flash is often several return strokes down the same channel, 40-100 ms apart and
        # each weaker (Uman, "The Lightning Discharge"): the pulse repeats.
        strokes = rng.integers(1, 5)
        gaps = np.round(np.cumsum(rng.uniform(0.04, 0.1, strokes - 1)) * low).astype(np.int64)
        comb = np.zeros(taps + (int(gaps[-1]) if strokes > 1 else 0))
        comb[:taps] = pulse
        for index, gap in enumerate(gaps):
            comb[gap : gap + taps] += pulse * 0.6 ** (index + 1)
        source = signal.oaconvolve(impulses, comb[None, :], axes=-1)

        # Air absorption over the mean path, applied as a spectrum.
        size = source.shape[1]
        fast = scipy.fft.next_fast_len(size, real=True)
        freqs_hz = np.fft.rfftfreq(fast, 1.0 / low)
        per_km = np.exp(
            np.interp(
                np.log(np.maximum(freqs_hz, 1.0)),
                np.log(self._ABSORPTION_HZ),
                np.log(self._ABSORPTION_DB_KM),
            )
        )
        loss_db = per_km * float(np.mean(r)) / 1000.0
        spectrum = scipy.fft.rfft(source, fast, axis=-1) * 10.0 ** (-loss_db / 20.0)
        dry = scipy.fft.irfft(spectrum, fast, axis=-1)[:, :size]
        dry = signal.sosfilt(self._thunder_sos, dry, axis=-1)
        scattered = self._scatter(dry)
        scattered[:, :size] += 0.5 * dry
        wet = self._echoes(scattered)
        mixed = wet * self._echo_wet
        mixed[:, : scattered.shape[1]] += scattered * (1.0 - self._echo_wet)

        # Normalise: the loudest 3 s of the roll sits at the chosen level above the wind,
        # whatever the geometry did, so no roll is a startle.
        window = max(1, round(3.0 * low))
        energy = np.concatenate([[0.0], np.cumsum(np.mean(mixed**2, axis=0))])
        peak_power = float(np.max(energy[window:] - energy[:-window])) / window
        level = self._thunder_gain * rng.uniform(0.7, 1.0)
        return mixed * (level / math.sqrt(peak_power + 1e-20))


class Rain(ProceduralLayer):
    """Steady rain: a broadband bed and a dense patter of Poisson drops.

    Rain is a particle system (Farnell, pd-list "Rainy days"): thousands of near-identical
    drops whose variety comes from what they hit. The bed is band-limited noise (SOUND_RECIPES
    3.1 plan: 500 Hz to 9 kHz, swelling slowly); the drops are Poisson events at 20-200 per
    second, each a grain from a bank drawn at start: mostly short noise clicks through a
    resonant band-pass at 1-5 kHz (tent or leaf), some small bubbles (a damped sine at
    1.5-5 kHz gliding up about 10 %, Zheng & James; SDT ``SDTBubble`` rise factor 0.1).
    """

    info = LayerInfo(
        name="rain",
        description="steady rain: a soft broadband bed with a dense patter of drops",
        params=(
            intensity_param(0.4, "how hard it rains: more, louder drops (20-200 per second)"),
            distance_param(0.4),
            width_param(0.9),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, 6-8 seeds).
    _GAIN_DB = -36.5
    _GRAINS = 48
    _DROP_SHARE = 0.6  # drop power relative to the bed's

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        bed_rng, drop_rng, grain_rng, swell_rng = self.rng.spawn(4)
        sr = self.sample_rate_hz
        top_hz = geometric(9000.0, 3000.0, distance)
        bed_sos = np.concatenate([highpass(500.0, sr, 2), lowpass(top_hz, sr, 2)])
        self._bed = NoiseBed(bed_rng, bed_sos, sr, self._width)
        self._swell = SmoothRandom(swell_rng, 20.0, start=0.5)
        self._control_rate_hz = sr / CONTROL_FACTOR

        rate_hz = geometric(20.0, 200.0, intensity)
        self._drops = PoissonClock(drop_rng, rate_hz, marks=3)
        self._grains = self._grain_bank(grain_rng, lowpass(top_hz, sr, 2))
        # Unit-energy grains at `rate_hz` with amplitude a add rate * a^2 / sr of power; the
        # log-uniform +-3 dB sizes average 1.08 in power.
        self._drop_amplitude = math.sqrt(self._DROP_SHARE * sr / rate_hz / 1.08)
        self._drops_out = OverlapAdd(dtype=np.float32)
        self._gain = db_to_gain(self._GAIN_DB)

    def _grain_bank(self, rng: np.random.Generator, air_sos: np.ndarray) -> list[np.ndarray]:
        """Drop sounds, each float32 mono with unit energy."""
        sr = self.sample_rate_hz
        grains = []
        for index in range(self._GRAINS):
            if index % 10 < 7:
                # A click: a 0.8-2.5 ms noise burst through a short resonant band-pass (the
                # recipe's 0.5-2 ms, a little softer for sleep).
                burst = rng.uniform(-1.0, 1.0, max(4, round(rng.uniform(0.0008, 0.0025) * sr)))
                burst *= np.hanning(len(burst))
                center_hz = geometric(1000.0, 5000.0, rng.random())
                body = np.zeros(round(0.012 * sr))
                body[: len(burst)] = burst
                grain = signal.sosfilt(resonator(center_hz, rng.uniform(2.0, 8.0), sr), body)
                grain *= 0.6
            else:
                # A bubble: a damped sine rising about 10 % (SDT rise factor 0.1).
                tau_s = rng.uniform(0.004, 0.012)
                n = round(5.0 * tau_s * sr)
                t = np.arange(n) / sr
                freq_hz = geometric(1500.0, 5000.0, rng.random()) * (1.0 + 0.1 * t / t[-1])
                phase = 2.0 * np.pi * np.cumsum(freq_hz) / sr
                grain = np.sin(phase) * np.exp(-t / tau_s) * 0.4
                grain[: round(0.0015 * sr)] *= raised_cosine(round(0.0015 * sr))
            fade = round(0.001 * sr)
            grain[-fade:] *= raised_cosine(fade)[::-1]
            grain = signal.sosfilt(air_sos, grain)
            grain /= math.sqrt(float(np.sum(grain**2)))
            # Unit energy, but no grain peakier than the typical click: the odd sharp one
            # would tick out of the patter.
            grain *= min(1.0, 0.3 / float(np.max(np.abs(grain))))
            grains.append(grain.astype(np.float32))
        return grains

    def _render_chunk(self) -> np.ndarray:
        sr = self.sample_rate_hz
        t0 = self.chunk_start_s
        ctl = self._control_rate_hz
        times, marks = self._drops.pop_marked_until(t0 + self.chunk_frames / sr)
        variant, size, place = marks.T
        # Every drop's numbers at once, then the grains laid down in one call.
        amplitude = self._drop_amplitude * self._gain * 10.0 ** ((size - 0.5) * 0.3)  # +-3 dB
        angle = (1.0 + (2.0 * place - 1.0) * self._width) * (math.pi / 4.0)
        gains = (amplitude * np.stack([np.cos(angle), np.sin(angle)])).T
        offsets = np.round((times - t0) * sr).astype(np.int64).tolist()
        grains = [self._grains[i] for i in (variant * self._GRAINS).astype(np.int64).tolist()]
        self._drops_out.add_panned_many(offsets, grains, gains)

        control_t = t0 + np.arange(self.control_frames) / ctl
        swell = (0.92 + 0.16 * self._swell.at(control_t)[0]) * self._gain
        out = self._bed(self.chunk_frames, swell)
        self._drops_out.pop_into(out)
        return out


class Wind(ProceduralLayer):
    """Wind in trees: gusts and lulls sweeping a cloud of Aeolian tones, and a thin whistle.

    Wind sounds where it meets obstacles (:class:`_AeolianCloud`): every twig, branch and
    needle sheds vortices at a pitch proportional to the wind speed and radiates with its
    sixth power. A tree is thousands of such sources; here 32 with diameters spread
    log-evenly from 1.2 to 15 mm (67-830 Hz at the default 5 m/s; a bare tree's recorded
    spectrum peaks near 200 Hz, Wigton Physics), so together they make the moving resonance
    of SOUND_RECIPES 3.2: a broad band that rises, brightens and swells in each gust, and
    falls back, darker, in the lulls. The wind itself (:class:`_Gusts`) turns from gust to
    lull every 3-13 s with eddies on top, and each obstacle feels a gust up to 2.5 s after
    the first, so gusts sweep through the trees. In the stronger gusts a thin wire or edge
    sings (a narrow Aeolian tone at 0.6-1.2 kHz; Farnell ch. 41: a howl sounds only within
    a window of Reynolds numbers), its pitch following the speed 0.1 and 1 s late.
    """

    info = LayerInfo(
        name="wind",
        description="wind in the trees: gusts and lulls, a moving roar and a thin whistle",
        params=(
            intensity_param(0.4, "wind speed: louder, brighter gusts and more whistling"),
            distance_param(0.5),
            width_param(0.8),
        ),
    )

    # Calibration: found by measurement so the defaults read -30 LUFS (60 s, several seeds).
    _GAIN_DB = -26.7
    _DIAMETERS_M = (0.0012, 0.015)  # needles and twigs to small branches
    _SPREAD_S = 2.5  # how much later the last obstacle feels a gust than the first
    _WHISTLE_DELAYS_S = (0.1, 1.0)  # Farnell ch. 41
    _WIRE_DIAMETERS_M = (0.0008, 0.0016)  # a wire, a thin edge: 0.6-1.2 kHz at 5 m/s

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed, params=params)
        intensity = self.params["intensity"]
        distance = self.params["distance"]
        self._width = self.params["width"]
        cloud_rng, gust_rng, whistle_rng = self.rng.spawn(3)
        sr = self.sample_rate_hz
        group = _SpectralNoise.HOP * _SpectralNoise.GROUP
        if self.chunk_frames % group:
            raise ValueError(f"wind renders whole groups of {group} frames")
        self._control_rate_hz = sr / CONTROL_FACTOR

        # Mean speed from a gentle (3.5 m/s) to a fresh breeze (9 m/s). The gusts keep their
        # relative depth: turbulence intensity near the ground hardly changes with speed.
        speed_ms = geometric(3.5, 9.0, intensity)
        self._gusts = _Gusts(
            gust_rng,
            self._control_rate_hz,
            gust_depth=0.17,
            eddy_depth=0.12,
            history_s=self._SPREAD_S + 0.1,
        )
        self._cloud = _AeolianCloud(
            cloud_rng,
            sample_rate_hz=sr,
            speed_ms=speed_ms,
            diameters_m=self._DIAMETERS_M,
            sources=32,
            spread_s=self._SPREAD_S,
            pan_spread=0.8 * self._width * (1.0 - 0.5 * distance),
            width=self._width * (1.0 - 0.5 * distance),
            dark_hz=geometric(4000.0, 800.0, distance),
            top_hz=12_000.0,
        )
        # The layer's mean level rises as U^2 over the intensity range (the gusts within it
        # keep the full U^6): a stronger wind reads as livelier, not 25 dB louder.
        self._cloud_gain = (speed_ms / 5.0) * geometric(1.0, 0.5, distance)

        # Whistles: a sine whose pitch follows the delayed speed, its amplitude opening only
        # in the stronger gusts and fluttering (a random AM that spreads the line into a
        # narrow band, Q ~ 25). A wire sings only within a window of Reynolds numbers
        # (Farnell ch. 41); the gusts of a stronger wind reach it more often.
        wire_m = whistle_rng.uniform(*self._WIRE_DIAMETERS_M, 2)
        self._whistle_hz = _AeolianCloud.STROUHAL * speed_ms / wire_m
        self._whistle_opens = 1.17 - 0.05 * intensity  # times the mean speed
        self._whistle_pans = pan_gains(np.array([-0.5, 0.5]) * self._width).astype(np.float32)
        self._whistle_lags = [round(d * self._control_rate_hz) for d in self._WHISTLE_DELAYS_S]
        self._whistle_am = SmoothRandom(whistle_rng, 0.08, 2)
        self._whistle_phase = whistle_rng.uniform(0.0, 2.0 * math.pi, 2)
        self._whistle_level = 1.0 * (0.5 + intensity) * geometric(1.0, 0.3, distance)
        self._whistle_up = Upsampler(CONTROL_FACTOR, 4, smooth=False)
        self._whistle_held = np.zeros(2)
        self._gain = db_to_gain(self._GAIN_DB)

    def _render_chunk(self) -> np.ndarray:
        t = self.chunk_start_s + np.arange(self.control_frames) / self._control_rate_hz
        speed = self._gusts(t)  # log(U / U_mean), history first
        out = self._cloud(speed, t)
        out *= np.float32(self._gain * self._cloud_gain)
        self._whistles(speed, out)
        return out

    def _whistles(self, speed: np.ndarray, out: np.ndarray) -> None:
        """Add the whistles (pitch from the speed ``delays`` late) into ``out``."""
        ctl = self._control_rate_hz
        history = self._gusts.history
        frames = len(speed) - history
        t = self.chunk_start_s + np.arange(frames) / ctl
        delayed = np.stack(
            [speed[history - lag : history - lag + frames] for lag in self._whistle_lags]
        )
        relative = np.exp(delayed)
        freq_hz = self._whistle_hz[:, None] * relative
        increments = 2.0 * math.pi * freq_hz / ctl
        phases = self._whistle_phase[:, None] + np.cumsum(increments, axis=1) - increments
        # Unwrapped: the interpolator between chunks must not see a 2 pi jump.
        self._whistle_phase = phases[:, -1] + increments[:, -1]
        opening = np.clip((relative - self._whistle_opens) / 0.1, 0.0, 1.0) ** 2
        am = self._whistle_am.at(t)
        gains = opening * (0.5 + am) * relative**3 * (self._whistle_level * self._gain)
        controls = np.concatenate([phases, gains])
        if np.any(gains) or np.any(self._whistle_held):
            audio = self._whistle_up(controls)
            # float32 sine of the phase less whole turns, taken per sample in float64.
            turns = np.floor(audio[0:2] / (2.0 * math.pi)) * (2.0 * math.pi)
            tones = np.sin((audio[0:2] - turns).astype(np.float32))
            tones *= audio[2:4].astype(np.float32)
            out += self._whistle_pans @ tones
        else:
            self._whistle_up.hold(controls)  # keep the interpolator's history current
        self._whistle_held = gains[:, -1].copy()


LAYERS: tuple[type[ProceduralLayer], ...] = (Rain, StormHush, Wind)

__all__ = ["LAYERS", "Rain", "StormHush", "Wind"]
