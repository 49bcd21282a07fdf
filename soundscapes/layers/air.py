"""Moving air, shared by the wind and the storm's hush: noise with a moving spectrum, gust cycles,
and a cloud of Aeolian tones (twigs, branches and wires singing in the wind)."""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from soundscapes import dsp


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
        noise = dsp.white_noise(self._rng, (hops * 4 * self.bins,))
        spectra = noise.view(np.complex64).reshape(groups, self.GROUP, 2, self.bins)
        ears = np.empty_like(spectra)
        np.multiply(spectra[:, :, 1], self._width, out=ears[:, :, 1])
        np.add(spectra[:, :, 0], ears[:, :, 1], out=ears[:, :, 0])
        np.subtract(spectra[:, :, 0], ears[:, :, 1], out=ears[:, :, 1])
        ears *= (amplitudes * self._scale)[:, None]
        # scipy's pocketfft: the same samples as numpy's, in 60 % of the time.
        frames = scipy.fft.irfft(ears.reshape(hops, 2, self.bins), n=self.FRAME, axis=-1)
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
        self._eddy = dsp.SmoothRandom(eddy_rng, 1.3)
        self._small = dsp.SmoothRandom(small_rng, 0.45)
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
    Strutt 1879) and radiates as a dipole whose power grows as
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
        self._control_rate_hz = sr / dsp.CONTROL_FACTOR
        self.per_group = _SpectralNoise.HOP * _SpectralNoise.GROUP // dsp.CONTROL_FACTOR
        # Log-evenly spread (one at random in each of ``sources`` equal steps): every seed
        # gets the same kind of tree, so the same spectrum and loudness.
        fractions = (np.arange(sources) + source_rng.random(sources)) / sources
        diameters = diameters_m[0] * (diameters_m[1] / diameters_m[0]) ** fractions
        pitch_hz = self.STROUHAL * speed_ms / diameters
        self.max_lag = max(1, round(spread_s * self._control_rate_hz))
        self._lags = source_rng.integers(0, self.max_lag + 1, sources)
        pans = source_rng.permutation(np.linspace(-1.0, 1.0, sources)) * pan_spread
        power = diameters / np.sum(diameters)  # bigger is louder (Curle)
        self._source_power = (dsp.pan_gains(pans) ** 2 * power)[:, :, None]  # (ears, sources, 1)
        self._eddies = dsp.SmoothRandom(eddy_rng, 0.7, sources)

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
