"""One measured signature per layer: what a listener would recognise it by.

Each test measures the rendered audio (spectra, envelopes, event statistics) against the
recipe the layer follows (SOUND_RECIPES.md), so it fails if the layer stopped sounding like
itself.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import signal

from soundscapes.layers import create_layer, layer_names

SR = 44_100


def render(name: str, seconds: float, seed: int = 0, **params: float) -> np.ndarray:
    """``seconds`` of a layer as float64 ``(2, n)``."""
    return create_layer(name, seed=seed, **params).render(round(seconds * SR)).astype(np.float64)


def band_fraction(x: np.ndarray, low_hz: float, high_hz: float) -> float:
    """Share of the power (both channels) between ``low_hz`` and ``high_hz``."""
    freqs, psd = signal.welch(x, fs=SR, nperseg=8192, axis=-1)
    power = psd.sum(axis=0)
    band = (freqs >= low_hz) & (freqs < high_hz)
    return float(power[band].sum() / power.sum())


def frame_levels_db(mono: np.ndarray, frame_s: float) -> np.ndarray:
    """Mean-square level per frame, in dB."""
    frame = round(frame_s * SR)
    count = len(mono) // frame
    power = np.mean(mono[: count * frame].reshape(count, frame) ** 2, axis=1)
    return 10.0 * np.log10(power + 1e-20)


def bandpassed(x: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    sos = signal.butter(4, [low_hz, high_hz], "bandpass", fs=SR, output="sos")
    return signal.sosfiltfilt(sos, x, axis=-1)


def modulation_peak_hz(levels_db: np.ndarray, frame_s: float, low_hz: float) -> float:
    """Frequency of the strongest component of an envelope above ``low_hz``."""
    levels = levels_db - np.mean(levels_db)
    spectrum = np.abs(np.fft.rfft(levels * np.hanning(len(levels))))
    freqs = np.fft.rfftfreq(len(levels), frame_s)
    spectrum[freqs < low_hz] = 0.0
    return float(freqs[np.argmax(spectrum)])


def envelope_period_s(mono: np.ndarray, frame_s: float, min_s: float, max_s: float) -> float:
    """Lag of the strongest autocorrelation of the RMS envelope between ``min_s`` and ``max_s``.

    A cycle of two unequal halves (an inhale and a longer exhale) repeats at its full period,
    where a spectrum would also show a strong second harmonic.
    """
    envelope = 10.0 ** (frame_levels_db(mono, frame_s) / 20.0)
    envelope -= envelope.mean()
    correlation = np.correlate(envelope, envelope, "full")[len(envelope) - 1 :]
    lags_s = np.arange(len(correlation)) * frame_s
    window = (lags_s >= min_s) & (lags_s <= max_s)
    return float(lags_s[window][np.argmax(correlation[window])])


def segments(active: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) frame index pairs of the runs of True in ``active``."""
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def test_every_layer_has_a_signature() -> None:
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals()}
    missing = [name for name in layer_names() if name not in tested]
    assert not missing, f"no signature test for {missing}"


# --- storm-hush ---------------------------------------------------------------------------------


def test_storm_hush() -> None:
    """Energy below a few hundred Hz; rumbles swell out of the bed but never crack."""
    x = render("storm-hush", 120, seed=2, intensity=1.0)
    assert band_fraction(x, 0.0, 300.0) > 0.97
    mono = x.mean(axis=0)
    low = frame_levels_db(bandpassed(mono, 30.0, 200.0), 1.0)
    high = frame_levels_db(bandpassed(mono, 1000.0, 8000.0), 1.0)
    # A rumble: the low band rises well above its own running median (20 s) for a few seconds.
    baseline = np.array([np.median(low[max(0, i - 10) : i + 10]) for i in range(len(low))])
    assert np.max(low - baseline) > 2.5
    # Never a crack: nothing up high moves (the air hiss stays within 1.5 dB of its median).
    assert np.max(high) - np.median(high) < 1.5


# --- tide -------------------------------------------------------------------------------------


def test_tide() -> None:
    """Waves: an envelope swelling at 0.05-0.2 Hz over a bed that never falls silent."""
    x = render("tide", 120, seed=1)
    levels = frame_levels_db(x.mean(axis=0), 0.25)
    assert 0.05 <= modulation_peak_hz(levels, 0.25, 0.02) <= 0.2
    assert np.percentile(levels, 90) - np.percentile(levels, 10) > 5.0  # swells you can hear
    assert np.min(levels) > np.median(levels) - 15.0  # the bed keeps the sea alive
    # The crash opens the spectrum: the foam band swings more than the low body does.
    foam = frame_levels_db(bandpassed(x.mean(axis=0), 2500.0, 7000.0), 0.25)
    body = frame_levels_db(bandpassed(x.mean(axis=0), 60.0, 350.0), 0.25)
    assert np.ptp(foam[8:]) > np.ptp(body[8:]) + 3.0


def test_tide_rate_follows_the_parameter() -> None:
    x = render("tide", 120, seed=1, rate=4.0)
    levels = frame_levels_db(x.mean(axis=0), 0.25)
    assert abs(modulation_peak_hz(levels, 0.25, 0.02) - 4.0 / 60.0) < 0.02


# --- breathing-mirrors ------------------------------------------------------------------------


def test_breathing_mirrors() -> None:
    """Breaths near 0.1 Hz; each breath travels across the field and comes back."""
    x = render("breathing-mirrors", 120, seed=3)
    frame_s = 0.25
    levels = frame_levels_db(x.mean(axis=0), frame_s)
    assert 9.25 <= envelope_period_s(x.mean(axis=0), frame_s, 3.0, 20.0) <= 10.75
    left = frame_levels_db(x[0], frame_s)
    right = frame_levels_db(x[1], frame_s)
    loud = levels > np.median(levels)
    balance_db = (right - left)[loud]
    assert balance_db.max() > 6.0 and balance_db.min() < -6.0  # reaches both sides
    # The mirror: the balance swings at the breathing rate, too.
    balance = np.where(loud, right - left, 0.0)
    assert abs(modulation_peak_hz(balance, frame_s, 0.03) - 0.1) < 0.012
    # Inhale (the brighter breath) moves left to right: the balance rises while it sounds.
    bright = frame_levels_db(bandpassed(x.mean(axis=0), 2000.0, 3500.0), frame_s)
    dark = frame_levels_db(bandpassed(x.mean(axis=0), 300.0, 600.0), frame_s)
    inhaling = loud & (bright - dark > np.median((bright - dark)[loud]))
    slope = np.gradient(right - left)
    assert np.mean(slope[inhaling]) > 0.0 > np.mean(slope[loud & ~inhaling])


def test_breathing_rate_follows_the_parameter() -> None:
    x = render("breathing-mirrors", 90, seed=3, rate=8.0)
    assert 7.0 <= envelope_period_s(x.mean(axis=0), 0.25, 3.0, 20.0) <= 8.0


# --- gulls ------------------------------------------------------------------------------------


def test_gulls() -> None:
    """Bursts of 2-6 falling calls, energy mostly in 0.7-3 kHz."""
    x = render("gulls", 120, seed=4)
    assert band_fraction(x, 700.0, 3000.0) > 0.6
    mono = x.mean(axis=0)
    frame_s = 0.02
    calls_band = bandpassed(mono, 600.0, 3000.0)
    levels = frame_levels_db(calls_band, frame_s)
    active = levels > np.median(levels) + 8.0
    runs: list[tuple[int, int]] = []
    for start, end in segments(active):  # bridge dips shorter than 0.1 s inside a call
        if runs and (start - runs[-1][1]) * frame_s < 0.1:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    calls = [(a, b) for a, b in runs if (b - a) * frame_s >= 0.15]
    bursts: list[list[tuple[int, int]]] = []
    for call in calls:
        if bursts and (call[0] - bursts[-1][-1][1]) * frame_s < 1.5:
            bursts[-1].append(call)
        else:
            bursts.append([call])
    # Defaults: two bursts a minute on a jittered grid.
    assert 3 <= len(bursts) <= 5, bursts
    for burst in bursts:
        assert 2 <= len(burst) <= 6
    gaps_s = [(b[0] - a[1]) * frame_s for burst in bursts for a, b in itertools.pairwise(burst)]
    assert all(gap <= 0.8 for gap in gaps_s), gaps_s
    quiet_s = [(b[0][0] - a[-1][1]) * frame_s for a, b in itertools.pairwise(bursts)]
    assert min(quiet_s) > 8.0
    # "Kee-ow": the pitch falls through each call (by 30-50 % in the recipe). Track the
    # strongest partial at 300-1300 Hz, where only the fundamental lives.
    freqs, times, stft = signal.stft(mono, fs=SR, nperseg=2048, noverlap=1792)
    band = (freqs >= 300.0) & (freqs <= 1300.0)
    falls = []
    for start, end in calls:
        columns = (times >= start * frame_s + 0.03) & (times <= end * frame_s - 0.03)
        track = freqs[band][np.argmax(np.abs(stft[band][:, columns]), axis=0)]
        quarter = len(track) // 4
        if quarter >= 1:
            falls.append(np.median(track[-quarter:]) / np.median(track[:quarter]))
    assert len(falls) >= 6
    assert np.median(falls) < 0.8, falls


def test_gulls_farther_is_darker() -> None:
    near = render("gulls", 40, seed=4, rate=6.0, distance=0.0)
    far = render("gulls", 40, seed=4, rate=6.0, distance=1.0)
    assert band_fraction(far, 3500.0, 22050.0) < 0.7 * band_fraction(near, 3500.0, 22050.0)


# --- rain -------------------------------------------------------------------------------------


def test_rain() -> None:
    """Broadband (every octave from 500 Hz to 8 kHz carries real energy) with dense transients."""
    x = render("rain", 60, seed=5)
    octaves = [band_fraction(x, low, 2 * low) for low in (500.0, 1000.0, 2000.0, 4000.0)]
    assert min(octaves) > 0.05 and max(octaves) < 0.6, octaves
    # Drops: peaks of the 2-6 kHz band's 1 ms envelope standing out of the patter.
    band = bandpassed(x.mean(axis=0), 2000.0, 6000.0)
    assert drops_per_second(band) > 20.0  # dozens of drops a second at the default intensity
    excess_kurtosis = np.mean(band**4) / np.mean(band**2) ** 2 - 3.0
    assert excess_kurtosis > 0.5  # spikier than Gaussian noise: patter, not hiss


def drops_per_second(band: np.ndarray) -> float:
    envelope = 10.0 ** (frame_levels_db(band, 0.001) / 20.0)
    peaks, _ = signal.find_peaks(envelope, prominence=np.median(envelope))
    return len(peaks) / (len(band) / SR)


def test_rain_intensity_means_more_drops() -> None:
    light = bandpassed(render("rain", 20, seed=5, intensity=0.0).mean(axis=0), 2000.0, 6000.0)
    heavy = bandpassed(render("rain", 20, seed=5, intensity=1.0).mean(axis=0), 2000.0, 6000.0)
    # 20 vs 200 drops a second; overlapping drops merge, so the count rises less than 10x.
    assert drops_per_second(heavy) > 1.5 * drops_per_second(light)


# --- wind -------------------------------------------------------------------------------------


def test_wind() -> None:
    """Gusts: the level swells and falls, and the sound brightens as it swells."""
    x = render("wind", 120, seed=6)
    mono = x.mean(axis=0)
    frame_s = 0.5
    levels = frame_levels_db(mono, frame_s)
    assert np.percentile(levels, 90) - np.percentile(levels, 10) > 2.0
    assert 0.02 <= modulation_peak_hz(levels, frame_s, 0.01) <= 0.2  # gusts, not flutter
    bright = frame_levels_db(bandpassed(mono, 800.0, 3000.0), frame_s)
    tilt = bright - frame_levels_db(bandpassed(mono, 50.0, 400.0), frame_s)
    assert np.corrcoef(levels, tilt)[0, 1] > 0.5


def test_strong_wind_whistles() -> None:
    """Above a critical speed narrow whistles (300-1100 Hz) rise out of the rush."""
    x = render("wind", 60, seed=6, intensity=1.0)
    freqs, _, stft = signal.stft(x.mean(axis=0), fs=SR, nperseg=8192)
    band = (freqs >= 300.0) & (freqs <= 1100.0)
    power = np.abs(stft[band]) ** 2
    # A whistle is a line: its bin towers over the median of its +-100 Hz neighbourhood.
    prominence = power / signal.medfilt(power, [21, 1])
    assert np.max(10.0 * np.log10(prominence + 1e-20)) > 15.0


# --- fire -------------------------------------------------------------------------------------


def test_fire() -> None:
    """A low lapping bed carrying most of the energy, with 0.5-3 crackles a second."""
    x = render("fire", 60, seed=7)
    assert band_fraction(x, 40.0, 800.0) > 0.6
    high = bandpassed(x.mean(axis=0), 2000.0, 6000.0)  # above the lapping's reach
    frame_s = 0.005
    levels = 10.0 ** (frame_levels_db(high, frame_s) / 10.0)
    surround = signal.medfilt(levels, 101)  # half a second
    runs = segments(levels > 6.0 * surround)
    # Pops closer than 80 ms are one crackle (a crackle is sometimes a quick cluster).
    crackles = 1 + sum(1 for a, b in itertools.pairwise(runs) if (b[0] - a[1]) * frame_s > 0.08)
    assert 0.5 <= crackles / 60.0 <= 3.0, crackles


# --- crickets ---------------------------------------------------------------------------------


def test_crickets() -> None:
    """Chirps near 4-5 kHz, about every 0.7 s, each a burst of ~50-60 Hz pulses."""
    x = render("crickets", 60, seed=8)
    assert band_fraction(x, 3500.0, 5500.0) > 0.6
    freqs, psd = signal.welch(x.mean(axis=0), fs=SR, nperseg=16384)
    assert 4000.0 <= freqs[np.argmax(psd)] <= 5000.0
    band = bandpassed(x.mean(axis=0), 3500.0, 5500.0)
    levels = 10.0 ** (frame_levels_db(band, 0.002) / 20.0)
    spectrum = np.abs(np.fft.rfft((levels - levels.mean()) * np.hanning(len(levels))))
    mod_hz = np.fft.rfftfreq(len(levels), 0.002)
    chirps = (mod_hz > 0.5) & (mod_hz < 3.0)
    assert 1.0 <= mod_hz[chirps][np.argmax(spectrum[chirps])] <= 1.8  # 0.55-1 s periods
    pulses = (mod_hz > 20.0) & (mod_hz < 150.0)
    assert 45.0 <= mod_hz[pulses][np.argmax(spectrum[pulses])] <= 65.0


# --- night ------------------------------------------------------------------------------------


def test_night() -> None:
    """Steady high insects; now and then a soft owl hoot near 360-480 Hz."""
    x = render("night", 120, seed=9)
    mono = x.mean(axis=0)
    insects = frame_levels_db(bandpassed(mono, 4500.0, 8000.0), 1.0)
    assert np.ptp(insects[3:]) < 6.0  # a steady bed
    owl_band = bandpassed(mono, 300.0, 600.0)
    frame_s = 0.05
    levels = frame_levels_db(owl_band, frame_s)
    hoots = [(a, b) for a, b in segments(levels > np.median(levels) + 8.0) if b - a >= 2]
    assert len(hoots) >= 2
    phrases = 1 + sum(1 for a, b in itertools.pairwise(hoots) if (b[0] - a[1]) * frame_s > 8.0)
    assert 1 <= phrases <= 6  # now and then: every 10-60 s
    freqs, times, stft = signal.stft(mono, fs=SR, nperseg=4096)
    band = (freqs >= 250.0) & (freqs <= 700.0)
    longest = max(hoots, key=lambda h: h[1] - h[0])
    middle = (longest[0] + longest[1]) / 2 * frame_s
    column = np.argmin(np.abs(times - middle))
    assert 330.0 <= freqs[band][np.argmax(np.abs(stft[band, column]))] <= 520.0


# --- drone ------------------------------------------------------------------------------------


@pytest.mark.parametrize("root_hz", [55.0, 65.0])
def test_drone(root_hz: float) -> None:
    """A consonant chord on the root: root, fifth, octave, twelfth, double octave, all < 1 kHz."""
    x = render("drone", 30, seed=10, root_hz=root_hz)
    assert band_fraction(x, 0.0, 1000.0) > 0.99
    freqs, psd = signal.welch(x.mean(axis=0), fs=SR, nperseg=2**16)
    psd_db = 10.0 * np.log10(psd + 1e-30)
    floor = np.median(psd_db[(freqs > 40.0) & (freqs < 300.0)])
    chord_db = []
    for ratio in (1.0, 1.5, 2.0, 3.0, 4.0):
        near = np.abs(freqs - ratio * root_hz) < 1.5
        chord_db.append(psd_db[near].max())
        assert chord_db[-1] > floor + 20.0, ratio
    # Nothing dissonant: the tritone above the root and the minor ninth stay 40 dB under the
    # weakest chord tone (what is there is window leakage from the chord).
    for ratio in (2.0**0.5, 2.0 * 2.0 ** (1.0 / 12.0)):
        off = np.abs(freqs - root_hz * ratio) < 1.0
        assert psd_db[off].max() < min(chord_db) - 40.0, ratio


# --- chimes -----------------------------------------------------------------------------------


def test_chimes() -> None:
    """A few strikes a minute; the ringing partials sit on the tuned (pentatonic) tubes."""
    x = render("chimes", 120, seed=11)
    mono = x.mean(axis=0)
    ring = bandpassed(mono, 900.0, 2000.0)  # the third, loudest mode of every tube
    frame_s = 0.02
    levels = frame_levels_db(ring, frame_s)
    rises = np.diff(levels) > 6.0  # a strike: the band leaps within 20 ms
    strikes = len(segments(rises))
    assert 2 <= strikes / 2.0 <= 20  # per minute
    freqs, psd = signal.welch(mono, fs=SR, nperseg=2**15)
    band = (freqs > 900.0) & (freqs < 2000.0)
    peaks, _ = signal.find_peaks(psd[band], prominence=np.max(psd[band]) * 0.05)
    # Lukkari & Valimaki's mode ratios on fundamentals A3 B3 D4 E4 F#4.
    fundamentals = 440.0 * 2.0 ** ((np.array([57.0, 59.0, 62.0, 64.0, 66.0]) - 69.0) / 12.0)
    ratios = np.array([[590.2, 1115.4], [657.6, 1239.2], [782.4, 1465.2], [875.5, 1633.0]])
    ratios = (
        np.vstack([ratios, [967.5, 1794.2]])
        / np.array([219.8, 245.8, 293.9, 331.6, 366.1])[:, None]
    )
    modes = (fundamentals[:, None] * ratios).ravel()
    assert len(peaks) >= 3
    for peak_hz in freqs[band][peaks]:
        assert np.min(np.abs(peak_hz / modes - 1.0)) < 0.01, peak_hz


# --- melody -----------------------------------------------------------------------------------


def test_melody() -> None:
    """Notes of D major pentatonic only, about `rate` a minute, with soft attacks."""
    x = render("melody", 60, seed=12)
    mono = x.mean(axis=0)
    freqs, _, stft = signal.stft(mono, fs=SR, nperseg=8192)
    band = (freqs >= 270.0) & (freqs <= 700.0)  # the fundamentals, D4-E5
    magnitude = np.abs(stft[band])
    strong = magnitude.max(axis=0) > 0.1 * magnitude.max()
    pitches = freqs[band][np.argmax(magnitude[:, strong], axis=0)]
    semitones = 12.0 * np.log2(pitches / 440.0) + 69.0
    pitch_class = np.round(semitones) % 12
    assert set(pitch_class.astype(int)) <= {2, 4, 6, 9, 11}  # D E F# A B
    assert np.max(np.abs(semitones - np.round(semitones))) < 0.3
    # Onsets: the 250-800 Hz band jumps by 6 dB; about 12 a minute at the default rate.
    levels = frame_levels_db(bandpassed(mono, 250.0, 800.0), 0.02)
    onsets = len(segments(np.diff(levels) > 1.5))
    assert 8 <= onsets <= 16
    # Soft attacks: a struck note with a hard edge sprays energy above 6 kHz at its onset; a
    # 10 ms felt attack leaves nothing there (the highest partial is under 4.5 kHz).
    full = frame_levels_db(mono, 0.005)
    air = frame_levels_db(bandpassed(mono, 6000.0, 16000.0), 0.005)
    sounding = full > np.max(full) - 40.0
    assert np.max(air[sounding] - full[sounding]) < -45.0


# --- shimmer ----------------------------------------------------------------------------------


def test_shimmer() -> None:
    """High (above 2 kHz), tonal on a pentatonic set, and slow: no sudden changes."""
    x = render("shimmer", 60, seed=13)
    assert band_fraction(x, 2000.0, 6000.0) > 0.95
    freqs, psd = signal.welch(x.mean(axis=0), fs=SR, nperseg=2**15)
    peaks, _ = signal.find_peaks(psd, prominence=np.max(psd) * 0.02)
    semitones = 12.0 * np.log2(freqs[peaks] / 440.0) + 69.0
    assert len(peaks) >= 4
    assert set((np.round(semitones) % 12).astype(int)) <= {2, 4, 6, 9, 11}
    levels = frame_levels_db(x.mean(axis=0), 0.05)[100:]
    assert np.median(np.abs(np.diff(levels))) < 0.6  # dB per 50 ms: a slow sparkle


# --- heartbeat --------------------------------------------------------------------------------


@pytest.mark.parametrize("bpm", [55.0, 66.0])
def test_heartbeat(bpm: float) -> None:
    """Lub-dub pairs at the set pace, all below 200 Hz."""
    x = render("heartbeat", 60, seed=14, bpm=bpm)
    mono = x.mean(axis=0)
    assert band_fraction(x, 0.0, 200.0) > 0.97
    period_s = envelope_period_s(mono, 0.01, 0.6, 1.6)
    assert abs(period_s - 60.0 / bpm) < 0.05 * 60.0 / bpm
    # Two pulses per beat: onsets alternate a short gap (lub to dub) and a long one.
    levels = frame_levels_db(mono, 0.01)
    pulses = segments(levels > np.max(levels) - 12.0)
    starts_s = np.array([a for a, _ in pulses]) * 0.01
    gaps = np.diff(starts_s)
    short = gaps[gaps < 0.5 * 60.0 / bpm]
    assert len(short) >= 0.7 * 60.0 * bpm / 60.0 * 0.8  # most beats show their dub
    assert 0.2 <= np.median(short) <= 0.5
