"""What a lossy encoder does to the loudness of what it encodes, measured before the encode.

LAME at a constant rate hands its input back quieter, by the same amount across the spectrum
(the demo story's mix, encoded and decoded whole, 2026-12-06: -0.39 LU at 64 kb/s, -0.45 at
128, -0.26 at 192; Opus at 48 kb/s -0.15 to -0.25), where the formats' own defaults stay
within 0.02 LU (LAME's VBR +0.002, Opus at 96 kb/s -0.002, AAC's fast coder at 128 kb/s
-0.014; at 64 kb/s -0.06). So a master at a bit rate of the user's choosing first encodes a
preview, decodes it and measures the shift, and its one encoding pass lands on target:
without it the demo at 192 kb/s came out 0.27 LU quiet, and at 64 and 128 kb/s it missed the
tolerance and was encoded twice (a warm render at 128 kb/s 14.4-15.0 s against 9.9-10.0 s
with the preview; three rounds alternated).

The preview is every eighth block of the mix, at most 24 of them (36 s, from the first 4.6
minutes of a longer one): on the demo it measured the whole file's shift within 0.03 LU for
MP3 at 64-192 kb/s and AAC at 64 kb/s, within 0.07 for Opus at 48 kb/s (48 blocks: no closer;
every sixteenth: MP3 within 0.05, AAC 0.07), and it costs the render 0.3-0.8 s.

The shift is measured on the limited preview at the gain the limiter preview chose; the gain
then rises by the shift, where the limiter takes a little more than it was measured to (a
speech master at the sleep target lost under 0.05 LU to the limiter in all): the written
file's own measurement, and a second pass if it is still out of tolerance, cover that.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

from soundscapes.files import scratch_file
from soundscapes.output.export import Destination, FfmpegEncoder, open_encoder
from soundscapes.output.formats import get_format
from soundscapes.output.limiter import TruePeakLimiter
from soundscapes.output.meter import LoudnessMeter
from soundscapes.output.readback import measure_file

#: The preview reads every ``PREVIEW_EVERY``-th block of the mix, ``PREVIEW_BLOCKS`` at most.
PREVIEW_EVERY = 8
PREVIEW_BLOCKS = 24


def shift_is_measured(dest: Destination) -> bool:
    """Whether ``dest``'s encoder is previewed: a bit rate the user chose, for a format that
    takes one (the defaults were measured to keep the level; see the module docstring)."""
    return dest.bitrate_kbps is not None and get_format(dest.fmt).takes_bitrate


def encoder_shift_lu(stretch: Iterable[np.ndarray], dest: Destination, ceiling_db: float) -> float:
    """Loudness of ``stretch`` as ``dest``'s encoder hands it back, less its loudness going in
    (LU; negative: the encoder makes it quieter). 0.0 where the preview has no loudness.

    ``stretch`` is blocks of the mix with the master's gain applied (its first
    :data:`PREVIEW_BLOCKS` are read; the caller closes it); they are limited as the pass
    limits them, encoded with ``dest``'s codec and bit rate into a scratch file beside
    ``dest.path`` and decoded: while encoding where the format allows, else read back.
    """
    sample_rate_hz, channels = dest.sample_rate_hz, dest.channels
    before = LoudnessMeter(sample_rate_hz, channels, true_peak=False)
    limiter = TruePeakLimiter(ceiling_db, sample_rate_hz, channels)
    suffix = get_format(dest.fmt).suffix
    with scratch_file(dest.path.parent, "preview-", suffix) as path:
        streamed = FfmpegEncoder.can_decode_while_encoding(dest.fmt, path)
        after: LoudnessMeter | None = None
        if streamed:
            after = LoudnessMeter(
                FfmpegEncoder.decoded_rate_hz(dest.fmt), channels, true_peak=False
            )
        preview = Destination(
            path=path,
            fmt=dest.fmt,
            sample_rate_hz=sample_rate_hz,
            channels=channels,
            bitrate_kbps=dest.bitrate_kbps,
            shown_as=dest.named,
        )
        encoder = open_encoder(preview, decoded=after.add if after is not None else None)
        try:
            for block in itertools.islice(stretch, PREVIEW_BLOCKS):
                limited = limiter.process(block)
                before.add(limited)
                encoder.write(limited)
            tail = limiter.flush()
            before.add(tail)
            encoder.write(tail)
            encoder.close()
        except BaseException:
            encoder.abort()
            raise
        if not before.frames:
            return 0.0
        if after is None:  # read back (M4B writes its index last)
            after_lufs = measure_file(path, true_peak=False).integrated_lufs
        else:
            after_lufs = after.integrated_lufs
    shift = after_lufs - before.integrated_lufs
    return shift if math.isfinite(shift) else 0.0
