"""The clean voice: raw engine clips → trimmed, filtered, level-matched clips at 44100 Hz.

Per passage:

1. Trim each sentence clip's edge silence: 10 ms RMS windows, a threshold 45 dB below the
   clip's loudest window, and 45 ms of margin kept outside the first and last voiced window so a
   soft word end (a breathy "s", a fading vowel) is never cut; an 8 ms raised-cosine fade at
   each cut.
2. Resample once to 44100 Hz (``resample_poly``; 22050 → 44100 is 2/1).
3. A gentle voice chain: 2nd-order high-pass at 80 Hz (rumble, DC), then 2.5:1 compression with
   a 20 ms attack and 300 ms release — slow enough not to pump — state reset per passage.
4. Level-match: every passage to one BS.1770 integrated loudness (:data:`VOICE_LUFS`), so there
   are no jumps between passages (piper's per-sentence normalization does the opposite:
   mkiol/dsnote#207).

Everything here is deterministic and depends only on the clips, so the timings computed from
:func:`trimmed_frames` match the audio :func:`clean_passage` gives later, sample for sample.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pedalboard
from scipy import signal

from soundscapes.output.meter import SILENCE_LUFS, LoudnessMeter
from soundscapes.source import SAMPLE_RATE_HZ

#: Loudness of the voice stem as played (the mono voice on both channels), BS.1770 integrated.
#: EBU R128's -23 LUFS leaves the mix and master stages room above it.
VOICE_LUFS = -23.0
#: BS.1770-4 eq. 2 sums channel powers with weight 1 for L and R: two identical channels
#: measure 10·log10(2) ≈ 3.01 LU louder than one.
_STEREO_OFFSET_LU = 10.0 * math.log10(2.0)

TRIM_WINDOW_S = 0.010
TRIM_THRESHOLD_DB = -45.0
TRIM_MARGIN_S = 0.045
EDGE_FADE_S = 0.008

HIGHPASS_HZ = 80.0
COMPRESSOR_RATIO = 2.5
#: About 6 dB above the passage's average level once pre-levelled: only the louder syllables
#: are turned down, by a few dB.
COMPRESSOR_THRESHOLD_DB = -20.0
COMPRESSOR_ATTACK_MS = 20.0
COMPRESSOR_RELEASE_MS = 300.0

#: BS.1770 gates in 400 ms blocks; shorter passages are measured tiled to this length.
_MIN_MEASURE_S = 1.0


def trim_bounds(
    clip: np.ndarray,
    sample_rate_hz: int,
    *,
    window_s: float = TRIM_WINDOW_S,
    threshold_db: float = TRIM_THRESHOLD_DB,
    margin_s: float = TRIM_MARGIN_S,
) -> tuple[int, int]:
    """``(start, end)`` sample indices of the voiced part of ``clip``, margins included.

    Parameters
    ----------
    clip : ndarray, shape (frames,)
        Mono audio at ``sample_rate_hz``.
    threshold_db : float
        Windows quieter than this, relative to the loudest window, count as silence.

    A clip with no sound at all gives ``(0, 0)``.
    """
    x = np.asarray(clip, dtype=np.float64).reshape(-1)
    window = max(1, round(window_s * sample_rate_hz))
    count = -(-x.size // window)
    if count == 0:
        return 0, 0
    padded = np.zeros(count * window)
    padded[: x.size] = x
    rms = np.sqrt(np.mean(padded.reshape(count, window) ** 2, axis=1))
    peak = float(rms.max())
    if peak <= 0.0:
        return 0, 0
    voiced = np.flatnonzero(rms >= peak * 10.0 ** (threshold_db / 20.0))
    margin = round(margin_s * sample_rate_hz)
    start = max(0, int(voiced[0]) * window - margin)
    end = min(x.size, (int(voiced[-1]) + 1) * window + margin)
    return start, end


@lru_cache(maxsize=16)
def _ratio(rate_in_hz: int, rate_out_hz: int) -> tuple[int, int]:
    r = Fraction(rate_out_hz, rate_in_hz)
    return r.numerator, r.denominator


def resampled_frames(frames: int, rate_in_hz: int, rate_out_hz: int = SAMPLE_RATE_HZ) -> int:
    """How many frames ``resample`` returns for ``frames`` input frames."""
    up, down = _ratio(rate_in_hz, rate_out_hz)
    return -(-frames * up // down)


def resample(clip: np.ndarray, rate_in_hz: int, rate_out_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Mono ``clip`` from ``rate_in_hz`` to ``rate_out_hz`` (polyphase, Kaiser window)."""
    x = np.asarray(clip, dtype=np.float64)
    if rate_in_hz == rate_out_hz or x.size == 0:
        return x.copy()
    up, down = _ratio(rate_in_hz, rate_out_hz)
    return signal.resample_poly(x, up, down)


def trimmed_frames(clips: Sequence[np.ndarray], sample_rate_hz: int) -> list[int]:
    """Frames at 44100 Hz of each clip once trimmed: the lengths :func:`clean_passage` returns."""
    out = []
    for clip in clips:
        start, end = trim_bounds(clip, sample_rate_hz)
        out.append(resampled_frames(end - start, sample_rate_hz))
    return out


def stem_loudness_lufs(mono: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ) -> float:
    """BS.1770 integrated loudness of ``mono`` played on both channels of a stereo stem.

    Clips shorter than a second are measured tiled to a second (the 400 ms gating blocks need
    material). Returns ``-inf`` for silence.
    """
    x = np.asarray(mono, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return -math.inf
    min_frames = round(_MIN_MEASURE_S * sample_rate_hz)
    if x.size < min_frames:
        x = np.tile(x, -(-min_frames // x.size))
    meter = LoudnessMeter(sample_rate_hz, 1, true_peak=False)
    meter.add(x[np.newaxis])
    mono_lufs = meter.integrated_lufs
    if mono_lufs <= SILENCE_LUFS:
        return -math.inf
    return mono_lufs + _STEREO_OFFSET_LU


@lru_cache(maxsize=4)
def _highpass_sos(sample_rate_hz: int) -> np.ndarray:
    return signal.butter(2, HIGHPASS_HZ, btype="highpass", fs=sample_rate_hz, output="sos")


def _gain_to(x: np.ndarray, target_lufs: float) -> np.ndarray:
    measured = stem_loudness_lufs(x)
    if not math.isfinite(measured):
        return x
    return x * 10.0 ** ((target_lufs - measured) / 20.0)


def clean_passage(
    clips: Sequence[np.ndarray], sample_rate_hz: int, *, target_lufs: float = VOICE_LUFS
) -> list[np.ndarray]:
    """One passage's raw clips → its clean clips (module docstring).

    Parameters
    ----------
    clips : sequence of ndarray, each shape (frames,)
        Raw mono engine output, one per sentence, at ``sample_rate_hz``.
    target_lufs : float
        Loudness of the passage's voiced audio on a stereo stem.

    Returns
    -------
    list of ndarray, each float32 shape (frames,)
        At 44100 Hz, lengths as :func:`trimmed_frames` gives them.
    """
    pieces: list[np.ndarray] = []
    for clip in clips:
        start, end = trim_bounds(clip, sample_rate_hz)
        piece = np.asarray(clip[start:end], dtype=np.float64).copy()
        _fade_edges(piece, round(EDGE_FADE_S * sample_rate_hz))
        pieces.append(resample(piece, sample_rate_hz))
    lengths = [p.size for p in pieces]
    x = np.concatenate(pieces) if pieces else np.zeros(0)
    if x.size:
        x = signal.sosfilt(_highpass_sos(SAMPLE_RATE_HZ), x)
        # Level first so the compressor's threshold means the same for every engine and voice.
        x = _gain_to(x, target_lufs)
        compressor = pedalboard.Compressor(
            threshold_db=COMPRESSOR_THRESHOLD_DB,
            ratio=COMPRESSOR_RATIO,
            attack_ms=COMPRESSOR_ATTACK_MS,
            release_ms=COMPRESSOR_RELEASE_MS,
        )
        x = compressor.process(x[np.newaxis, :].astype(np.float32), SAMPLE_RATE_HZ, reset=True)[0]
        x = _gain_to(x.astype(np.float64), target_lufs)
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    return [x[a:b].astype(np.float32) for a, b in itertools.pairwise(bounds)]


def _fade_edges(piece: np.ndarray, fade: int) -> None:
    fade = min(fade, piece.size // 2)
    if fade <= 0:
        return
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
    piece[:fade] *= ramp
    piece[piece.size - fade :] *= ramp[::-1]
