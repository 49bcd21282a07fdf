"""One measured signature per layer: what a listener would recognise it by.

Each test measures the rendered audio (spectra, envelopes, event statistics) against the
recipe the layer follows (SOUND_RECIPES.md), so it fails if the layer stopped sounding like
itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

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


def passes_and_turns_away(
    check: Callable[[np.ndarray], None],
    layer: str,
    impostor: str,
    seconds: int,
    *,
    seed: int,
    match: str,
) -> None:
    """``check`` passes ``layer`` and fails ``impostor`` (its nearest neighbour, rendered as
    long with the same seed) with a message matching ``match``: a signature that tells."""
    check(render(layer, seconds, seed=seed))
    with pytest.raises(AssertionError, match=match):
        check(render(impostor, seconds, seed=seed))


def test_every_layer_has_a_signature() -> None:
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals()}
    missing = [name for name in layer_names() if name not in tested]
    assert not missing, f"no signature test for {missing}"


# --- storm-hush ---------------------------------------------------------------------------------


def assert_storm_hush(x: np.ndarray) -> None:
    """Distant thunder rolling out of a low gusting wind: all below a few hundred Hz, rolls
    that rise far above the bed without brightening it, at irregular times."""
    share = band_fraction(x, 0.0, 300.0)
    assert share > 0.85, f"only {share:.0%} of the power is below 300 Hz: not a distant storm"
    high = band_fraction(x, 2000.0, 8000.0)
    assert high < 0.003, f"{high:.2%} of the power above 2 kHz: a crash or foam, not a hush"
    mono = x.mean(axis=0)
    frame_s = 0.5
    low = frame_levels_db(bandpassed(mono, 30.0, 120.0), frame_s)
    mid = frame_levels_db(bandpassed(mono, 300.0, 3000.0), frame_s)
    # A roll: the rumble band rises far above its running median (40 s) for seconds on end.
    low_rise = low - np.array([np.median(low[max(0, i - 40) : i + 40]) for i in range(len(low))])
    mid_rise = mid - np.array([np.median(mid[max(0, i - 40) : i + 40]) for i in range(len(mid))])
    rolls = [(a, b) for a, b in segments(low_rise > 4.0) if (b - a) * frame_s >= 2.0]
    assert rolls, "no roll of thunder (the 30-120 Hz band never rises 4 dB for 2 s)"
    peak = float(np.max(low_rise))
    assert peak > 10.0, f"the loudest roll rises only {peak:.1f} dB out of the bed"
    # Distant thunder has lost its crack on the way: the mid band hardly moves during a roll,
    # where a breaking wave's crash opens the whole spectrum.
    in_rolls = np.concatenate([mid_rise[a:b] for a, b in rolls])
    assert np.mean(in_rolls) < 5.0, (
        f"the sound brightens {np.mean(in_rolls):.1f} dB with each roll, like a breaking wave"
    )
    # Thunder keeps no time: no strong repeat in the envelope between 4 and 30 s (waves on a
    # shore score about 0.5, the storm's gusts up to about 0.4).
    envelope = 10.0 ** (frame_levels_db(mono, 0.25) / 20.0)
    envelope -= envelope.mean()
    correlation = np.correlate(envelope, envelope, "full")[len(envelope) - 1 :]
    lags_s = np.arange(len(correlation)) * 0.25
    repeat = float(np.max(correlation[(lags_s >= 4.0) & (lags_s <= 30.0)]) / correlation[0])
    assert repeat < 0.45, f"the swells repeat like waves (autocorrelation {repeat:.2f})"


def test_storm_hush() -> None:
    """Low wind and distant rolls of thunder below 300 Hz, at no regular period. Its nearest
    impostor, tide, fails: waves (slow low swells too, but with a bright crash and a steady
    period) fail it."""
    passes_and_turns_away(assert_storm_hush, "storm-hush", "tide", 120, seed=2, match="300 Hz")


# --- tide -------------------------------------------------------------------------------------


def test_tide() -> None:
    """Waves on a shore: crashes swelling at 0.05-0.2 Hz over surf that never falls silent, a
    roar that lies mostly between 200 Hz and 4 kHz (as recorded surf does) and surges as
    breaking water does, and single bubbles ringing out of the foam's hiss.

    What tells it from its neighbours: the storm hush and the wind are mostly below 200 Hz
    (82 % and 62 %; the tide about 7 %) and swell smoothly (their 0.7-4 Hz surging about 0.1
    and 0.27 of their slow swell; the tide about 0.5); rain and fire crackle far harder (local
    kurtosis 3 and 33); a smoothly swelling noise bed (the tide before issue 14: 39 % below
    200 Hz, surging 0.09, kurtosis 0) fails four of these.
    """
    x = render("tide", 120, seed=1)
    mono = x.mean(axis=0)
    levels = frame_levels_db(mono, 0.25)
    assert 0.05 <= modulation_peak_hz(levels, 0.25, 0.02) <= 0.2
    assert np.percentile(levels, 90) - np.percentile(levels, 10) > 5.0  # swells you can hear
    assert np.min(levels) > np.median(levels) - 15.0  # the surf keeps the sea alive
    # Surf, not a rumble: most of the power between 200 Hz and 4 kHz, little below.
    assert band_fraction(x, 200.0, 4000.0) > 0.75
    assert band_fraction(x, 0.0, 200.0) < 0.15
    # The crash opens the spectrum: the foam band swings more than the low body does.
    foam = frame_levels_db(bandpassed(mono, 2500.0, 7000.0), 0.25)
    body = frame_levels_db(bandpassed(mono, 60.0, 350.0), 0.25)
    assert np.ptp(foam[8:]) > np.ptp(body[8:]) + 3.0
    # Breaking water surges: the crash band's level moves at 0.7-4 Hz by at least 0.3 of its
    # swell with the waves (amplitude ratio of the two parts of its level's spectrum), but
    # swells by the wave, not by the drop (rain and fire score near 3).
    crash = frame_levels_db(bandpassed(mono, 1000.0, 4000.0), 0.05)
    power = np.abs(np.fft.rfft((crash - crash.mean()) * np.hanning(len(crash)))) ** 2
    rate_hz = np.fft.rfftfreq(len(crash), 0.05)
    surging = np.sqrt(
        power[(rate_hz > 0.7) & (rate_hz < 4.0)].sum()
        / power[(rate_hz > 0.02) & (rate_hz < 0.3)].sum()
    )
    assert 0.3 < surging < 1.5, surging
    # Single bubbles ring out of the hiss: the foam band is impulsive (Gaussian hiss scores 0).
    assert local_excess_kurtosis(bandpassed(mono, 2500.0, 8000.0)) > 0.05


def test_tide_rate_follows_the_parameter() -> None:
    x = render("tide", 120, seed=1, rate=4.0)
    levels = frame_levels_db(x.mean(axis=0), 0.25)
    assert abs(modulation_peak_hz(levels, 0.25, 0.02) - 4.0 / 60.0) < 0.02


# --- breathing-mirrors ------------------------------------------------------------------------


def test_breathing_mirrors() -> None:
    """Breaths near 0.1 Hz, each a whispered vowel, with images in glass that move.

    What tells it from the tide (the other slow swell of noise): formant peaks instead of a
    smooth wash, nothing below 200 Hz, real pauses between breaths, and discrete early
    reflections. Checked against the tide's audio, which fails every one of these.
    """
    x = render("breathing-mirrors", 120, seed=3)
    mono = x.mean(axis=0)
    frame_s = 0.25
    assert 9.25 <= envelope_period_s(mono, frame_s, 3.0, 20.0) <= 10.75
    # Air through a vocal tract: formants near 600, 1300 and 2500 Hz stand out of the
    # breath's spectrum (the tide: none); no sound source below 200 Hz (the tide: 40 %).
    freqs, psd = signal.welch(mono, fs=SR, nperseg=4096)
    smooth_db = np.convolve(10.0 * np.log10(psd + 1e-30), np.ones(9) / 9, "same")
    band = (freqs > 300.0) & (freqs < 4500.0)
    peaks, _ = signal.find_peaks(smooth_db[band], prominence=6.0)
    for formant_hz in (600.0, 1300.0, 2500.0):
        assert np.min(np.abs(freqs[band][peaks] / formant_hz - 1.0)) < 0.1, formant_hz
    assert band_fraction(x, 0.0, 200.0) < 0.01
    # Breaths, not swells: the pause between them falls 30 dB below the peak of a breath.
    levels = frame_levels_db(mono, frame_s)
    assert np.mean(levels < np.max(levels) - 30.0) > 0.1
    # The mirrors: discrete early reflections (11-47 ms) in each ear; a diffuse sound's
    # autocorrelation there stays under 0.03.
    for ear in x:
        lag = np.arange(round(0.008 * SR), round(0.05 * SR))
        spectrum = np.fft.rfft(ear, 2 * len(ear))
        autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: lag[-1] + 1]
        assert np.max(np.abs(autocorrelation[lag])) / autocorrelation[0] > 0.1
    # The images travel left to right while the breath is drawn in, and the inhale is the
    # brighter breath: frames where the balance rises are brighter than where it falls.
    loud = levels > np.median(levels)
    balance = frame_levels_db(x[1], frame_s) - frame_levels_db(x[0], frame_s)
    assert np.ptp(balance[loud]) > 2.0
    rising = np.gradient(balance) > 0.0
    tilt = frame_levels_db(bandpassed(mono, 2000.0, 3500.0), frame_s) - frame_levels_db(
        bandpassed(mono, 300.0, 600.0), frame_s
    )
    assert np.mean(tilt[loud & rising]) > np.mean(tilt[loud & ~rising]) + 2.0


def test_breathing_rate_follows_the_parameter() -> None:
    x = render("breathing-mirrors", 90, seed=3, rate=8.0)
    assert 7.0 <= envelope_period_s(x.mean(axis=0), 0.25, 3.0, 20.0) <= 8.0


# --- gulls ------------------------------------------------------------------------------------


def test_gulls() -> None:
    """Harmonic calls near 2 kHz: "kee-ow" notes that climb and fall, and a "ha-ha-ha" staccato,
    in bouts with quiet between them.

    What tells gulls from the other animal and tonal layers (night's owl and insects, the
    crickets, chimes, shimmer): a harmonic stack on a 1.3-2.4 kHz fundamental, notes at 2.5-7
    a second, long notes whose pitch peaks early and falls. Each of those layers' audio
    fails at least one of these.
    """
    x = render("gulls", 60, seed=4)
    mono = x.mean(axis=0)
    assert band_fraction(x, 1000.0, 8000.0) > 0.9
    assert band_fraction(x, 0.0, 500.0) < 0.01
    # A harmonic stack: in each loud frame the fundamental is the strongest line at 1.2-2.6
    # kHz, and its 2nd and 3rd harmonics stand well above the spectrum halfway between.
    freqs, _, stft = signal.stft(mono, fs=SR, nperseg=2048, noverlap=1024)
    power = np.abs(stft) ** 2
    frame_db = 10.0 * np.log10(power.sum(axis=0) + 1e-30)
    loud = np.flatnonzero(frame_db > np.percentile(frame_db, 60))
    band = (freqs >= 1200.0) & (freqs <= 2600.0)
    f0_hz = freqs[band][np.argmax(power[band][:, loud], axis=0)]
    assert 1300.0 <= np.median(f0_hz) <= 2400.0

    def near(multiple: float) -> np.ndarray:
        index = np.clip(np.round(multiple * f0_hz / (SR / 2048)).astype(int), 1, len(freqs) - 2)
        return np.max([power[index + d, loud] for d in (-1, 0, 1)], axis=0)

    assert np.median(10.0 * np.log10(near(2.0) / near(1.5))) > 8.0
    assert np.median(10.0 * np.log10(near(3.0) / near(2.5))) > 8.0
    # Notes in quick succession: the call band's envelope beats at 2.5-7 notes a second.
    frame_s = 0.01
    envelope = 10.0 ** (frame_levels_db(bandpassed(mono, 1000.0, 8000.0), frame_s) / 20.0)
    spectrum = np.abs(np.fft.rfft((envelope - envelope.mean()) * np.hanning(len(envelope))))
    rate_hz = np.fft.rfftfreq(len(envelope), frame_s)
    window = (rate_hz > 1.0) & (rate_hz < 12.0)
    assert 2.5 <= rate_hz[window][np.argmax(spectrum[window])] <= 7.0
    # "Kee-ow": in the long notes the pitch peaks early and falls by 15 % or more.
    levels = frame_levels_db(bandpassed(mono, 1000.0, 8000.0), frame_s)
    notes = [(a, b) for a, b in segments(levels > np.max(levels) - 20.0) if b - a >= 25]
    freqs, times, stft = signal.stft(mono, fs=SR, nperseg=1024, noverlap=1024 - 441)
    band = (freqs >= 1000.0) & (freqs <= 2600.0)
    peak_at, fall = [], []
    for a, b in notes:
        columns = (times >= a * frame_s + 0.02) & (times <= b * frame_s - 0.02)
        track = freqs[band][np.argmax(np.abs(stft[band][:, columns]), axis=0)]
        sixth = max(1, len(track) // 6)
        peak_at.append(np.argmax(track) / len(track))
        fall.append(np.median(track[-sixth:]) / np.max(track))
    assert len(notes) >= 6
    assert np.median(peak_at) < 0.4 and np.median(fall) < 0.85, (peak_at, fall)
    # Calls in bouts with real gaps, not a colony's continuous chatter: the call band lies
    # 40 dB below its loudest for at least 40 % of the time, in at least five silences of
    # 1.5 s or more a minute (the chattering colony this replaced: none), none longer than
    # 10 s (the beach is never quiet for long).
    quiet = frame_levels_db(bandpassed(mono, 1000.0, 8000.0), 0.1)
    quiet = quiet < np.max(quiet) - 40.0
    silences_s = [(b - a) * 0.1 for a, b in segments(quiet)]
    assert np.mean(quiet) > 0.4
    assert sum(s >= 1.5 for s in silences_s) >= 5, silences_s
    assert max(silences_s) < 10.0, silences_s


def test_gulls_farther_is_darker() -> None:
    near = render("gulls", 40, seed=4, rate=6.0, distance=0.0)
    far = render("gulls", 40, seed=4, rate=6.0, distance=1.0)
    # Air absorption takes the harmonics above ~5 kHz (ISO 9613-1); 1/r takes the level.
    assert band_fraction(far, 5000.0, 22050.0) < 0.6 * band_fraction(near, 5000.0, 22050.0)
    assert np.mean(far**2) < 0.25 * np.mean(near**2)


# --- rain -------------------------------------------------------------------------------------


def local_excess_kurtosis(band: np.ndarray, window_s: float = 0.1) -> float:
    """Excess kurtosis of ``band`` with each ``window_s`` scaled to unit RMS: drops and ticks
    score well above 0, noise scores 0 however much its level swells (a swell alone makes a
    whole render's kurtosis positive)."""
    n = round(window_s * SR)
    count = len(band) // n
    blocks = band[: count * n].reshape(count, n)
    blocks = blocks / (np.sqrt(np.mean(blocks**2, axis=1, keepdims=True)) + 1e-20)
    return float(np.mean(blocks**4) - 3.0)


def assert_rain(x: np.ndarray) -> None:
    """Rain: broadband (every octave from 500 Hz to 8 kHz carries real energy), a dense patter
    of drops, and a steady fall."""
    octaves = [band_fraction(x, low, 2 * low) for low in (500.0, 1000.0, 2000.0, 4000.0)]
    assert min(octaves) > 0.05 and max(octaves) < 0.6, (
        "not broadband: the octaves from 500 Hz to 8 kHz hold "
        + ", ".join(f"{share:.1%}" for share in octaves)
    )
    mono = x.mean(axis=0)
    # Drops: peaks of the 2-6 kHz band's 1 ms envelope standing out of the patter.
    band = bandpassed(mono, 2000.0, 6000.0)
    rate = drops_per_second(band)
    assert rate > 20.0, f"{rate:.0f} drops a second, not dozens"
    # (About 0.8 at 200 drops a second, where drops begin to merge; 3-7 at the default and
    # below; noise, wind included, scores 0.)
    spikes = local_excess_kurtosis(band)
    assert spikes > 0.4, f"no drops: the 2-6 kHz band is as smooth as noise (kurtosis {spikes:.2f})"
    # Rain falls steadily: gusts would swing a second's level by several dB.
    levels = frame_levels_db(mono, 1.0)
    swing = float(np.percentile(levels, 90) - np.percentile(levels, 10))
    assert swing < 2.5, f"the level swings {swing:.1f} dB from second to second, like gusts"


def test_rain() -> None:
    """Broadband (every octave from 500 Hz to 8 kHz carries real energy) with dense
    transients. Its nearest impostor, wind, fails: wind (as broad a noise, and wind passes a
    plain drop count) fails rain's signature."""
    passes_and_turns_away(assert_rain, "rain", "wind", 60, seed=5, match="not broadband")


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


def assert_wind(x: np.ndarray) -> None:
    """Wind in trees: a dark roar that swells in gusts and falls back in lulls, brightening
    as it swells (its resonance moves up with the speed), smooth, with no drops in it."""
    share = band_fraction(x, 0.0, 1500.0)
    assert share > 0.8, f"only {share:.0%} of the power below 1.5 kHz: too bright for wind"
    mono = x.mean(axis=0)
    frame_s = 0.5
    levels = frame_levels_db(mono, frame_s)
    swing = float(np.percentile(levels, 90) - np.percentile(levels, 10))
    assert swing > 3.5, f"no gusts and lulls: the level swings only {swing:.1f} dB"
    gust_hz = modulation_peak_hz(levels, frame_s, 0.01)
    assert 0.02 <= gust_hz <= 0.2, f"the level swings at {gust_hz:.2f} Hz, not in gusts"
    # The moving resonance: the spectral centroid (50 Hz - 4 kHz) rises with the level.
    freqs, _, stft = signal.stft(mono, fs=SR, nperseg=4096, noverlap=2048)
    band = (freqs > 50.0) & (freqs < 4000.0)
    hops = round(frame_s * SR / 2048)
    columns = stft.shape[1] // hops * hops
    power = (np.abs(stft[band, :columns]) ** 2).reshape(band.sum(), -1, hops).mean(axis=2)
    centroid_hz = (freqs[band, None] * power).sum(axis=0) / power.sum(axis=0)
    follow = float(np.corrcoef(10.0 * np.log10(power.sum(axis=0)), np.log(centroid_hz))[0, 1])
    assert follow > 0.35, f"the sound does not brighten as it swells (correlation {follow:.2f})"
    spikes = local_excess_kurtosis(bandpassed(mono, 2000.0, 6000.0))
    assert spikes < 0.5, f"spiky like drops or ticks, not wind (kurtosis {spikes:.2f})"


def test_wind() -> None:
    """Gusts: the level swells and falls, and the sound brightens as it swells. Its nearest
    impostor, rain, fails: rain (broadband noise too, but bright, steady and full of drops)
    fails wind's signature."""
    passes_and_turns_away(assert_wind, "wind", "rain", 120, seed=6, match="too bright for wind")


def whistle_seconds(mono: np.ndarray, low_hz: float, high_hz: float) -> float:
    """Seconds in which a narrow line stands 10 dB over its +-100 Hz neighbourhood and holds
    (the same line, drifting at most two bins a frame) for half a second or more. Noise makes
    such a line for a frame now and then, never for half a second."""
    freqs, times, stft = signal.stft(mono, fs=SR, nperseg=4096, noverlap=2048)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    power = np.abs(stft[band]) ** 2
    prominence_db = 10.0 * np.log10(power / signal.medfilt(power, [19, 1]) + 1e-20)
    peak = np.argmax(prominence_db, axis=0)
    strong = prominence_db[peak, np.arange(len(peak))] > 10.0
    held = np.zeros(len(peak), dtype=bool)
    held[1:] = strong[1:] & strong[:-1] & (np.abs(np.diff(peak)) <= 2)
    hop_s = float(times[1] - times[0])
    runs = [b - a + 1 for a, b in segments(held) if (b - a + 1) * hop_s >= 0.5]
    return sum(runs) * hop_s


def test_strong_wind_whistles() -> None:
    """In the gusts of a strong wind thin wires sing: narrow lines (0.5-2.5 kHz) that hold for
    seconds, now and then (not all the time), and more often than in a gentle wind."""
    strong = whistle_seconds(render("wind", 120, seed=6, intensity=1.0).mean(axis=0), 500, 2500)
    assert 2.0 < strong < 40.0, f"a strong wind whistles for {strong:.1f} s of 120"
    gentle = whistle_seconds(render("wind", 120, seed=6, intensity=0.0).mean(axis=0), 500, 2500)
    assert gentle < strong, f"a gentle wind whistles as much ({gentle:.1f} s) as a strong one"


# --- fire -------------------------------------------------------------------------------------


def crackles_per_second(mono: np.ndarray) -> float:
    """Ticks: 5 ms frames of the 2-6 kHz band that jump 12 dB over its running median (0.5 s)."""
    levels = frame_levels_db(bandpassed(mono, 2000.0, 6000.0), 0.005)
    ticks = segments(levels > signal.medfilt(levels, 101) + 12.0)
    return len(ticks) / (len(mono) / SR)


def assert_fire(x: np.ndarray) -> None:
    """A wood fire: a dozen or more sharp ticks a second standing far above the quiet between
    them, over a soft low roar that flickers at a few hertz."""
    roar = band_fraction(x, 40.0, 300.0)
    assert roar > 0.15, f"no low roar of flames: only {roar:.1%} of the power is at 40-300 Hz"
    mono = x.mean(axis=0)
    rate = crackles_per_second(mono)
    assert 5.0 <= rate <= 60.0, f"{rate:.1f} crackling ticks a second"
    levels = frame_levels_db(bandpassed(mono, 2000.0, 6000.0), 0.005)
    stand_db = float(np.percentile(levels, 99.5) - np.median(levels))
    assert stand_db > 18.0, f"the ticks stand only {stand_db:.1f} dB above the quiet between"
    # Flicker: the roar's level moves at 1-6 Hz far more than at 12-18 Hz (a steady noise
    # band moves alike at both).
    frame_s = 0.025
    roar_env = 10.0 ** (frame_levels_db(bandpassed(mono, 50.0, 300.0), frame_s) / 20.0)
    roar_env = roar_env / roar_env.mean() - 1.0
    freqs = np.fft.rfftfreq(len(roar_env), frame_s)
    power = np.abs(np.fft.rfft(roar_env * np.hanning(len(roar_env)))) ** 2
    flicker_db = 10.0 * np.log10(
        power[(freqs > 1.0) & (freqs < 6.0)].mean() / power[(freqs > 12.0) & (freqs < 18.0)].mean()
    )
    assert flicker_db > 3.0, f"the roar does not flicker ({flicker_db:.1f} dB at 1-6 Hz)"


def test_fire() -> None:
    """Crackle over a soft flickering roar. Its nearest impostor, rain, fails: rain (a
    patter of drops too) has no roar and no ticks standing out of a quiet."""
    passes_and_turns_away(assert_fire, "fire", "rain", 60, seed=7, match="no low roar")


def test_fire_intensity_means_more_crackle() -> None:
    calm = crackles_per_second(render("fire", 30, seed=7, intensity=0.0).mean(axis=0))
    lively = crackles_per_second(render("fire", 30, seed=7, intensity=1.0).mean(axis=0))
    assert lively > 1.5 * calm, (calm, lively)


# --- crickets ---------------------------------------------------------------------------------


def band_envelope(mono: np.ndarray, low_hz: float, high_hz: float, frame_s: float) -> np.ndarray:
    """RMS per frame of one band of ``mono``."""
    return 10.0 ** (frame_levels_db(bandpassed(mono, low_hz, high_hz), frame_s) / 20.0)


def envelope_components(
    envelope: np.ndarray, frame_s: float, low_hz: float, high_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and complex spectrum of ``envelope`` (mean removed) between two rates."""
    spectrum = np.fft.rfft(envelope - envelope.mean())
    freqs = np.fft.rfftfreq(len(envelope), frame_s)
    keep = (freqs >= low_hz) & (freqs <= high_hz)
    return freqs[keep], spectrum[keep]


def envelope_peak_hz(envelope: np.ndarray, frame_s: float, low_hz: float, high_hz: float) -> float:
    """The envelope's strongest modulation rate between ``low_hz`` and ``high_hz``."""
    freqs, spectrum = envelope_components(envelope, frame_s, low_hz, high_hz)
    return float(freqs[np.argmax(np.abs(spectrum))])


def modulation_index(envelope: np.ndarray, frame_s: float, low_hz: float, high_hz: float) -> float:
    """RMS of the envelope's components between ``low_hz`` and ``high_hz``, over its mean."""
    _, spectrum = envelope_components(envelope, frame_s, low_hz, high_hz)
    # Parseval for a one-sided spectrum: each kept bin stands for two of the full transform.
    rms = np.sqrt(2.0 * np.sum(np.abs(spectrum) ** 2)) / len(envelope)
    return float(rms / envelope.mean())


#: Envelope frames fine enough to resolve an insect's syllables (wing strokes, 20-35 a second).
INSECT_FRAME_S = 0.002


def assert_insect_song(
    mono: np.ndarray,
    band_hz: tuple[float, float],
    carrier_hz: tuple[float, float],
    syllables_per_s: tuple[float, float],
) -> tuple[np.ndarray, float]:
    """An insect chorus: its carrier (the strongest frequency above 1 kHz) in ``carrier_hz``
    and its syllables (read from the ``band_hz`` envelope) at ``syllables_per_s``; returns
    that envelope (:data:`INSECT_FRAME_S` frames) and how strongly the syllables gather into
    chirps (modulation index at 0.5-3 Hz: field crickets 0.25 and up, a trill near 0.05)."""
    freqs, psd = signal.welch(mono, fs=SR, nperseg=16384)
    high = freqs > 1000.0
    peak_hz = float(freqs[high][np.argmax(psd[high])])
    low, top = carrier_hz
    assert low <= peak_hz <= top, f"the song peaks at {peak_hz:.0f} Hz, not {low:g}-{top:g} Hz"
    envelope = band_envelope(mono, *band_hz, INSECT_FRAME_S)
    rate = envelope_peak_hz(envelope, INSECT_FRAME_S, 15.0, 150.0)
    low, top = syllables_per_s
    assert low <= rate <= top, f"syllables at {rate:.1f}/s, not {low:g}-{top:g}/s"
    return envelope, modulation_index(envelope, INSECT_FRAME_S, 0.5, 3.0)


def assert_crickets(x: np.ndarray) -> None:
    """Field crickets: a 4-5 kHz carrier in syllables at 25-35/s, gathered into chirps."""
    mono = x.mean(axis=0)
    share = band_fraction(x, 3800.0, 5500.0)
    assert share > 0.9, f"only {share:.0%} of the power is on a field cricket's 4-5 kHz carrier"
    envelope, chirpiness = assert_insect_song(
        mono, (3800.0, 5500.0), (4200.0, 5000.0), (25.0, 36.0)
    )
    # Chirps: the syllables come in groups with gaps between.
    assert chirpiness > 0.2, f"the carrier is not gathered into chirps (index {chirpiness:.2f})"
    chirp_hz = envelope_peak_hz(envelope, INSECT_FRAME_S, 0.5, 3.0)
    assert 1.0 <= chirp_hz <= 1.9, f"chirps at {chirp_hz:.2f}/s, not about every 0.7 s"


def test_crickets() -> None:
    """Syllables (one wing stroke each) on a 4-5 kHz carrier, in chirps about every 0.7 s.
    Its nearest impostor, night, fails: the night's far chorus (higher, trilling) fails the
    crickets' signature."""
    passes_and_turns_away(assert_crickets, "crickets", "night", 60, seed=8, match="carrier")


def test_crickets_rate_follows_the_parameter() -> None:
    """Warmer nights (a higher ``rate``) bring faster chirps and faster syllables."""
    frame_s = 0.002
    measured = {}
    for rate in (0.8, 2.5):
        mono = render("crickets", 40, seed=2, intensity=0.0, rate=rate).mean(axis=0)
        envelope = band_envelope(mono, 3800.0, 5500.0, frame_s)
        measured[rate] = (
            envelope_peak_hz(envelope, frame_s, 0.4, 4.0),
            envelope_peak_hz(envelope, frame_s, 15.0, 150.0),
        )
        # Each cricket's period is 0.85-1.2 of the typical one, and wanders.
        assert 0.7 * rate <= measured[rate][0] <= 1.3 * rate, measured
    assert measured[2.5][1] > 1.4 * measured[0.8][1], measured


# --- night ------------------------------------------------------------------------------------


def assert_night(x: np.ndarray) -> None:
    """A far chorus trilling at 6.4-7.4 kHz (no chirps), and now and then an owl near 400 Hz."""
    mono = x.mean(axis=0)
    share = band_fraction(x, 6000.0, 8000.0) / band_fraction(x, 1000.0, SR / 2)
    assert share > 0.9, f"only {share:.0%} of the insects is in the ground crickets' 6-8 kHz"
    _, chirpiness = assert_insect_song(mono, (6000.0, 8000.0), (6200.0, 7600.0), (20.0, 35.0))
    # A trill goes on: nothing gathers the syllables into chirps.
    assert chirpiness < 0.15, f"the insects chirp (index {chirpiness:.2f}) instead of trilling"
    steadiness_db = float(np.std(frame_levels_db(bandpassed(mono, 6000.0, 8000.0), 1.0)[3:]))
    assert steadiness_db < 3.0, f"the chorus comes and goes ({steadiness_db:.1f} dB per second)"
    owl_band = bandpassed(mono, 300.0, 600.0)
    frame_s = 0.05
    levels = frame_levels_db(owl_band, frame_s)
    hoots = [(a, b) for a, b in segments(levels > np.median(levels) + 8.0) if b - a >= 2]
    assert len(hoots) >= 2, f"{len(hoots)} owl hoots"
    phrases = 1 + sum(1 for a, b in itertools.pairwise(hoots) if (b[0] - a[1]) * frame_s > 8.0)
    assert 1 <= phrases <= 6, f"{phrases} owl calls in {len(mono) / SR:.0f} s"  # every 25-60 s
    freqs, times, stft = signal.stft(mono, fs=SR, nperseg=4096)
    band = (freqs >= 250.0) & (freqs <= 700.0)
    longest = max(hoots, key=lambda h: h[1] - h[0])
    middle = (longest[0] + longest[1]) / 2 * frame_s
    column = np.argmin(np.abs(times - middle))
    hoot_hz = freqs[band][np.argmax(np.abs(stft[band, column]))]
    assert 330.0 <= hoot_hz <= 520.0, f"the owl hoots at {hoot_hz:.0f} Hz"


def test_night() -> None:
    """A steady far chorus of trilling ground crickets; now and then an owl near 360-480 Hz.
    Its nearest impostor, crickets, fails: the near, chirping field crickets fail the
    night's signature."""
    passes_and_turns_away(assert_night, "night", "crickets", 120, seed=9, match="ground crickets")


# --- drone ------------------------------------------------------------------------------------


@pytest.mark.parametrize("root_hz", [55.0, 65.0])
def test_drone(root_hz: float) -> None:
    """A steady pad on a consonant chord: root, fifth, octave, twelfth, double octave, < 2 kHz."""
    x = render("drone", 30, seed=10, root_hz=root_hz)
    assert band_fraction(x, 0.0, 2000.0) > 0.99
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
    # A pad, not notes: every second stays within 3 dB of the median level (the filter and
    # the voices drift over tens of seconds; nothing is struck).
    levels = frame_levels_db(x.mean(axis=0), 1.0)[1:]
    assert np.max(np.abs(levels - np.median(levels))) < 3.0


# --- chimes -----------------------------------------------------------------------------------


#: The chime tubes' fundamentals, A4 B4 D5 E5 F#5 (a pentatonic set).
CHIME_TUBES_HZ = 440.0 * 2.0 ** ((np.array([69.0, 71.0, 74.0, 76.0, 78.0]) - 69.0) / 12.0)


def level_spread_db(x: np.ndarray, window_s: float = 3.0) -> float:
    """How far the level comes and goes: p90 - p10 of the mean-square level (dB) of 3 s
    windows every second, after the first 10 s."""
    mono = x.mean(axis=0)[10 * SR :]
    window, hop = round(window_s * SR), SR
    power = [np.mean(mono[a : a + window] ** 2) for a in range(0, len(mono) - window, hop)]
    levels = 10.0 * np.log10(np.array(power) + 1e-20)
    return float(np.percentile(levels, 90) - np.percentile(levels, 10))


def chimes_problems(x: np.ndarray) -> list[str]:
    """What keeps audio from being the chimes: tuned metal tubes (free-free bars) that ring
    long and low, struck now and then as the wind gusts."""
    problems = []
    low = band_fraction(x, 0.0, 1000.0)
    if low < 0.08:
        problems.append(f"only {low:.1%} of the energy under 1 kHz: no long tubes ringing low")
    # The tubes' second and third free-free modes (Fletcher & Rossing eq. 2.64).
    modes = (CHIME_TUBES_HZ[:, None] * np.array([2.756, 5.404])).ravel()
    freqs, psd = signal.welch(x.mean(axis=0), fs=SR, nperseg=2**15)
    band = (freqs > 1100.0) & (freqs < 4100.0)
    peaks, _ = signal.find_peaks(psd[band], prominence=np.max(psd[band]) * 0.05)
    found = freqs[band][peaks]
    off = [f"{f:.0f}" for f in found if np.min(np.abs(f / modes - 1.0)) > 0.01]
    if len(found) < 5 or off:
        problems.append(
            f"peaks at {np.round(found).astype(int).tolist()} Hz: not the tubes' free-free "
            f"modes 2.756 and 5.404 times A4-F#5 (off: {off})"
        )
    spread = level_spread_db(x)
    if spread < 6.0:
        problems.append(
            f"the level stays within {spread:.1f} dB over 3 s windows: nothing is struck and "
            "left to ring out as the wind comes and goes"
        )
    return problems


def test_chimes() -> None:
    """Struck tubes: inharmonic free-free modes on the pentatonic tubes, long low ringing,
    strikes that come and go with the gusts."""
    x = render("chimes", 120, seed=11)
    assert chimes_problems(x) == []
    # Bright strikes: right after a strike the band above 4 kHz (modes 5-7, T60 under 0.6 s)
    # stands far higher than a second later.
    mono = x.mean(axis=0)
    frame_s = 0.02
    bright = frame_levels_db(bandpassed(mono, 4000.0, 12000.0), frame_s)
    strikes = [a for a, _ in segments(np.diff(frame_levels_db(mono, frame_s)) > 6.0)]
    assert len(strikes) >= 10
    drops = [bright[a + 2] - bright[a + 50] for a in strikes if a + 50 < len(bright)]
    assert np.median(drops) > 20.0
    # Intensity: a windier setting rings more strikes.
    calm = render("chimes", 120, seed=11, intensity=0.0).mean(axis=0)
    windy = render("chimes", 120, seed=11, intensity=1.0).mean(axis=0)
    counts = [len(segments(np.diff(frame_levels_db(y, frame_s)) > 6.0)) for y in (calm, windy)]
    assert counts[1] > 1.5 * counts[0]


def test_chimes_are_not_the_shimmer() -> None:
    """The chimes' measurement turns away the shimmer, their nearest neighbour."""
    problems = chimes_problems(render("shimmer", 120, seed=11))
    assert any("under 1 kHz" in p for p in problems)
    assert any("free-free" in p for p in problems)
    assert any("comes and goes" in p or "come and go" in p for p in problems)


# --- melody -----------------------------------------------------------------------------------


def test_melody() -> None:
    """A piano in D major pentatonic: only the scale's notes, each struck bright and mellowing
    as its upper partials die first; `rate` brings more melody notes."""
    x = render("melody", 60, seed=12)
    mono = x.mean(axis=0)
    # Every prominent peak over the line's fundamentals (D4-E5) is a note of the scale, in
    # equal temperament, or an overtone of one of the left hand's low chord tones (the fifth
    # partial of E2 is a G#4): tuned strings, not inharmonic bars.
    freqs, psd = signal.welch(mono, fs=SR, nperseg=2**15)
    band = (freqs >= 270.0) & (freqs <= 700.0)
    peaks, _ = signal.find_peaks(psd[band], prominence=np.max(psd[band]) * 0.1)
    left_hand = 440.0 * 2.0 ** ((np.array([33, 35, 38, 40, 42, 45, 47, 50, 54]) - 69.0) / 12.0)
    overtones = (left_hand[:, None] * np.arange(1, 11)).ravel()
    notes = []
    for peak_hz in freqs[band][peaks]:
        semitone = 12.0 * np.log2(peak_hz / 440.0) + 69.0
        if round(semitone) % 12 in {2, 4, 6, 9, 11} and abs(semitone - round(semitone)) < 0.1:
            notes.append(round(semitone))
        else:
            assert np.min(np.abs(peak_hz / overtones - 1.0)) < 0.01, peak_hz
    assert len(set(notes)) >= 5
    # Struck strings whose losses grow with frequency (b1 + b3 f^2): right after each onset
    # the band above 2 kHz stands high against the 200-1000 Hz body; a second later it has
    # fallen well back.
    frame_s = 0.02
    body = frame_levels_db(bandpassed(mono, 200.0, 1000.0), frame_s)
    bright = frame_levels_db(bandpassed(mono, 2000.0, 6000.0), frame_s)
    whole = frame_levels_db(bandpassed(mono, 1000.0, 6000.0), frame_s)
    onsets = [a + 1 for a, _ in segments(np.diff(whole) > 6.0) if a + 51 < len(body)]
    mellowing = [(bright[a + 1] - body[a + 1]) - (bright[a + 50] - body[a + 50]) for a in onsets]
    assert len(onsets) >= 10
    assert np.median(mellowing) > 8.0
    # The rate: at 30 melody notes a minute there are clearly more onsets than at 4 (the left
    # hand keeps its own pace under both).
    counts = []
    for rate in (4.0, 30.0):
        y = render("melody", 60, seed=12, rate=rate).mean(axis=0)
        levels = frame_levels_db(bandpassed(y, 1000.0, 6000.0), frame_s)
        counts.append(len(segments(np.diff(levels) > 6.0)))
    assert counts[1] > 1.3 * counts[0]


# --- shimmer ----------------------------------------------------------------------------------


def shimmer_problems(x: np.ndarray) -> list[str]:
    """What keeps audio from being the shimmer: small bars struck softly on a high pentatonic
    set (D6-E7), so often and so evenly that the sky sparkles without swelling."""
    problems = []
    high = band_fraction(x, 1000.0, 20000.0)
    if high < 0.98:
        problems.append(
            f"only {high:.1%} of the energy above 1 kHz: something rings low (as the chimes' "
            "tubes do), not a high sparkle"
        )
    freqs, psd = signal.welch(x.mean(axis=0), fs=SR, nperseg=2**15)
    band = (freqs > 1000.0) & (freqs < 2800.0)  # the fundamentals, D6-E7
    peaks, _ = signal.find_peaks(psd[band], prominence=np.max(psd[band]) * 0.02)
    semitones = 12.0 * np.log2(freqs[band][peaks] / 440.0) + 69.0
    classes = set((np.round(semitones) % 12).astype(int).tolist())
    if len(peaks) < 4 or not classes <= {2, 4, 6, 9, 11}:
        problems.append(f"pitch classes {sorted(classes)}: not the D major pentatonic bars")
    spread = level_spread_db(x)
    if spread > 4.0:
        problems.append(
            f"the level comes and goes by {spread:.1f} dB over 3 s windows: gusts or swells, "
            "not an even sparkle"
        )
    return problems


def test_shimmer() -> None:
    """High, on the pentatonic bars, even; struck (a sharp rise, a slow fade), 1-4 a second."""
    x = render("shimmer", 60, seed=13)
    assert shimmer_problems(x) == []
    mono = x.mean(axis=0)
    frame_s = 0.02
    levels = frame_levels_db(bandpassed(mono, 1000.0, 8000.0), frame_s)
    strikes = len(segments(np.diff(levels) > 3.0))
    assert 40 <= strikes <= 160  # a minute at the default 1.7 a second
    # Struck, not swelled: the level rises within a frame and sinks slowly, so rises are
    # rarer than falls and the steepest far steeper (a swell rises and falls alike).
    steps = np.diff(levels[50:])
    assert np.mean(steps > 0) < 0.4
    assert np.percentile(steps, 99) > 2.5 * -np.percentile(steps, 1)
    dense = render("shimmer", 60, seed=13, intensity=1.0).mean(axis=0)
    more = len(segments(np.diff(frame_levels_db(bandpassed(dense, 1000.0, 8000.0), 0.02)) > 3.0))
    assert more > 1.5 * strikes


def test_shimmer_is_not_the_chimes() -> None:
    """The shimmer's measurement turns away the chimes, its nearest neighbour."""
    problems = shimmer_problems(render("chimes", 60, seed=13))
    assert any("above 1 kHz" in p for p in problems)
    assert any("comes and goes" in p for p in problems)


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
