"""Mastering: static gain to a loudness target, a true-peak limiter, the encoder.

Pass one (done by the caller while mixing) measures integrated loudness (BS.1770-4). Pass two,
here, streams the mix through gain → true-peak limiter → encoder and measures what was written.
A lossy file is decoded and measured again: MP3 and Opus while they are encoded, from a copy
of the encoded stream; Ogg Vorbis and M4B read back afterwards. A lossless one is measured on
the very samples handed to its encoder (WAV and FLAC store them unchanged, to within 16- or
24-bit rounding far below anything a meter reads). Loudness and peak are reported as the
listener gets them. At a bit rate the user chose, what the encoder does to the level is
measured on a preview first and made up in the gain (:mod:`soundscapes.output.encoderlevel`).
If encoding moved them out of tolerance all the same, pass two runs again with the error
corrected.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soundscapes.errors import SoundscapeError
from soundscapes.output.encoderlevel import PREVIEW_EVERY, encoder_shift_lu, shift_is_measured
from soundscapes.output.export import (
    Destination,
    FfmpegEncoder,
    open_encoder,
)
from soundscapes.output.formats import get_format
from soundscapes.output.limiter import PEAK_BOUND, TruePeakLimiter
from soundscapes.output.meter import Loudness, LoudnessMeter
from soundscapes.output.readback import measure_file
from soundscapes.output.tags import Tags, write_tags


@dataclass(frozen=True, kw_only=True)
class LoudnessTarget:
    """Integrated loudness and true-peak ceiling of a master."""

    name: str
    integrated_lufs: float
    true_peak_dbtp: float


#: Presets (ITU-R BS.1770-4, EBU R128 v4.0, AES TD1004.1.15-10): Apple Podcasts -16 LUFS / -1 dBTP;
#: a quieter bedtime master inside AES TD1004's -20..-16 range with extra peak margin; EBU R128 -23
#: / -1.
#: A true peak this far under the ceiling or more: the limiter did not hold the master back.
CEILING_HELD_DB = 1.0
#: Slopes of loudness over gain (LU per dB) believed between passes; 1 is what gain does to a
#: long file, the rest what gates, the limiter and the encoder make of a short one.
SLOPE_RANGE = (0.3, 3.0)

PRESETS: dict[str, LoudnessTarget] = {
    "podcast": LoudnessTarget(name="podcast", integrated_lufs=-16.0, true_peak_dbtp=-1.0),
    "sleep": LoudnessTarget(name="sleep", integrated_lufs=-20.0, true_peak_dbtp=-2.0),
    "broadcast": LoudnessTarget(name="broadcast", integrated_lufs=-23.0, true_peak_dbtp=-1.0),
}


#: True-peak ceiling of a target given as a number: the sleep preset's margin, which leaves
#: room for a lossy re-encode by a podcast host or player.
NUMBER_CEILING_DBTP = -2.0


def parse_target(value: str | float, *, ceiling_dbtp: float | None = None) -> LoudnessTarget:
    """A preset name (``sleep``) or a number of LUFS (``-18``, ceiling
    :data:`NUMBER_CEILING_DBTP` unless ``ceiling_dbtp`` says otherwise)."""
    if isinstance(value, str) and value.strip().lower() in PRESETS:
        return PRESETS[value.strip().lower()]
    try:
        lufs = float(value)
    except ValueError:
        raise SoundscapeError(
            f"loudness {value!r} is neither a preset ({', '.join(PRESETS)}) nor a number of "
            "LUFS such as -18"
        ) from None
    if not -36.0 <= lufs <= -9.0:
        raise SoundscapeError(f"loudness {lufs} LUFS is out of range; use -36 to -9 (e.g. -20)")
    ceiling = ceiling_dbtp if ceiling_dbtp is not None else NUMBER_CEILING_DBTP
    return LoudnessTarget(name=f"{lufs:g} LUFS", integrated_lufs=lufs, true_peak_dbtp=ceiling)


@dataclass(frozen=True, kw_only=True)
class MasterResult:
    """What the written file measures, and what it took."""

    loudness: Loudness
    gain_db: float
    passes: int
    master_s: float
    encode_s: float
    #: ``(time_s, short-term LUFS)`` of the written file, every half second.
    series: tuple[tuple[float, float], ...] = ()
    #: Said to the user: the target was out of reach (:func:`missed_target`).
    warnings: tuple[str, ...] = ()


def missed_target(
    loudness: Loudness, target: LoudnessTarget, tolerance_lu: float, passes: int = 1
) -> str | None:
    """Why the master is off ``target`` by more than ``tolerance_lu``, or ``None`` if it is not.

    A loud target under a low true-peak ceiling is out of reach for speech (its peaks stand
    10-20 dB over its loudness): the limiter would have to flatten it. The master is left as
    loud as the ceiling lets it be, and the user is told what to change.
    """
    off_lu = loudness.integrated_lufs - target.integrated_lufs
    # Only short of the target: louder cannot be the ceiling's doing, and silence has no level.
    if off_lu >= -tolerance_lu or not math.isfinite(off_lu):
        return None
    reached = (
        f"the master reached {loudness.integrated_lufs:.1f} LUFS, not the "
        f"{target.integrated_lufs:g} LUFS asked"
    )
    if loudness.true_peak_dbtp < target.true_peak_dbtp - CEILING_HELD_DB:
        # Peaks well under the ceiling: the limiter did not hold it back. A file of a few
        # seconds has a few 400 ms blocks, and the gating and the encoder move its reading.
        return f"{reached}: its loudness did not settle in {passes} passes (a very short file?)"
    return (
        f"{reached}: its true-peak ceiling of {target.true_peak_dbtp:g} dBTP leaves no more "
        f"room; choose a quieter --loudness (e.g. {target.integrated_lufs - 3:g})"
    )


def master_to_file(
    blocks: Callable[[], Iterable[np.ndarray]],
    dest: Destination,
    *,
    measured_lufs: float,
    target: LoudnessTarget,
    tolerance_lu: float = 0.3,
    max_passes: int = 3,
    sample_peak: float | None = None,
    preview: Callable[[int], Iterable[np.ndarray]] | None = None,
    record_series: bool = False,
    preview_every: int = 3,
    preview_max_s: float = 2700.0,
    read_all: Callable[[], None] | None = None,
) -> MasterResult:
    """Gain, limit and encode the mix that ``blocks()`` yields into ``dest``.

    Parameters
    ----------
    blocks : callable
        Returns a fresh iterator over the un-mastered mix as float32 ``(channels, n)`` blocks;
        called once per pass.
    measured_lufs : float
        Integrated loudness of that mix (pass one).
    sample_peak : float, optional
        Largest absolute sample of that mix, if pass one kept it: when even its true peak
        cannot reach the ceiling after the gain, the limiter preview is skipped.
    preview : callable, optional
        ``preview(every)`` gives every ``every``-th block of the mix (the first, and so on),
        for the limiter preview and the encoder's (:mod:`~soundscapes.output.encoderlevel`),
        cheaper than reading ``blocks()`` and skipping.
    record_series : bool
        Keep the written file's short-term loudness over time (:attr:`MasterResult.series`,
        for a plot; a pair per block, the only thing here that grows with the length).
    preview_every, preview_max_s : int, float
        The limiter preview runs on every ``preview_every``-th block of the first
        ``preview_max_s`` seconds (see :func:`limiter_loss_lu`).
    read_all : callable, optional
        Called once no pass will call ``blocks()`` again: where the written samples are
        measured as they are written (lossless formats), before the file is closed and
        tagged, so that scratch behind ``blocks()`` can go while the file is synced.

    Returns the loudness of what was written (see the module docstring for how it is read).
    """
    path, fmt, tags = dest.path, dest.fmt, dest.tags or Tags()
    read_all = _once(read_all)
    sample_rate_hz, channels = dest.sample_rate_hz, dest.channels
    # Lossy encoders overshoot peaks a little: start with margin under the ceiling.
    lossless = get_format(fmt).lossless
    ceiling_db = target.true_peak_dbtp - (0.3 if lossless else 1.0)
    gain_db = target.integrated_lufs - measured_lufs
    limiter_idle = sample_peak is not None and sample_peak * PEAK_BOUND * 10.0 ** (
        gain_db / 20.0
    ) < 10.0 ** (ceiling_db / 20.0)
    master_s = encode_s = 0.0
    if not limiter_idle:
        t0 = time.perf_counter()
        if preview is None:
            read, every, max_s = blocks, preview_every, preview_max_s
        else:  # already thinned: the same blocks, with none read in vain
            read, every, max_s = (lambda: preview(preview_every)), 1, preview_max_s / preview_every
        gain_db += limiter_loss_lu(
            read, gain_db, ceiling_db, sample_rate_hz, channels, every=every, max_s=max_s
        )
        master_s += time.perf_counter() - t0
    if shift_is_measured(dest):  # a bit rate of the user's: the encoder may move the level
        t0 = time.perf_counter()
        gain = np.float32(10.0 ** (gain_db / 20.0))
        if preview is None:
            source = stretch = _stretch(blocks, gain, PREVIEW_EVERY, math.inf)
        else:
            source = iter(preview(PREVIEW_EVERY))
            stretch = (block * gain for block in source)
        try:
            gain_db -= encoder_shift_lu(stretch, dest, ceiling_db)
        finally:  # at once: a mix's scratch readers hold files (and, for a long mix, a
            # read-ahead thread) until their generator is closed
            getattr(source, "close", lambda: None)()
        encode_s += time.perf_counter() - t0  # an encode and a decode, mostly
    loudness: Loudness | None = None
    # Where the written audio is measured: the samples handed to a lossless encoder, the
    # stream decoded while it is encoded, or (neither) the file read back afterwards.
    streamed = not lossless and FfmpegEncoder.can_decode_while_encoding(fmt, path)
    previous: tuple[float, float] | None = None  # (gain dB, LUFS) of the pass before
    for attempt in range(1, max_passes + 1):
        limiter = TruePeakLimiter(ceiling_db, sample_rate_hz, channels)
        meter: LoudnessMeter | None = None
        if lossless or streamed:
            rate = sample_rate_hz if lossless else FfmpegEncoder.decoded_rate_hz(fmt)
            meter = LoudnessMeter(rate, channels)
            meter.record_series = record_series
        written = meter if lossless else None
        gain = np.float32(10.0 ** (gain_db / 20.0))
        encoder = None
        loudness = None
        try:
            # Inside the try: an interrupt just after the encoder starts still stops it.
            encoder = open_encoder(
                dest, decoded=meter.add if streamed and meter is not None else None
            )
            for block in blocks():
                t0 = time.perf_counter()
                limited = limiter.process(block * gain)
                if written is not None:
                    written.add(limited)
                t1 = time.perf_counter()
                encoder.write(limited)
                master_s += t1 - t0
                encode_s += time.perf_counter() - t1
            tail = limiter.flush()
            if written is not None:
                written.add(tail)
            encoder.write(tail)
            if written is not None:  # measured as written (lossless): known before the close
                loudness = _result(written, path)
                if attempt == max_passes or _on_target(loudness, target, tolerance_lu):
                    read_all()
        except BaseException:
            if encoder is not None:  # an error or an interrupt upstream: it is the news
                encoder.abort()
            raise
        encoder.close()
        t0 = time.perf_counter()
        write_tags(path, fmt, tags)
        series: list[tuple[float, float]] = []
        if meter is not None:
            series = list(meter.series)
            loudness = loudness if loudness is not None else _result(meter, path)
        else:
            loudness = measure_file(path, series=series if record_series else None)
        encode_s += time.perf_counter() - t0
        if _on_target(loudness, target, tolerance_lu):
            break
        off_lu = target.integrated_lufs - loudness.integrated_lufs
        over_db = loudness.true_peak_dbtp - target.true_peak_dbtp
        if attempt < max_passes:
            step_db = off_lu / _slope(previous, (gain_db, loudness.integrated_lufs))
            previous = (gain_db, loudness.integrated_lufs)
            gain_db += step_db
            if over_db > 0:
                ceiling_db -= over_db + 0.2
    assert loudness is not None
    read_all()  # (a second call does nothing)
    missed = missed_target(loudness, target, tolerance_lu, attempt)
    return MasterResult(
        warnings=(missed,) if missed else (),
        loudness=loudness,
        gain_db=gain_db,
        passes=attempt,
        master_s=master_s,
        encode_s=encode_s,
        series=tuple(series),
    )


def _once(call: Callable[[], None] | None) -> Callable[[], None]:
    """``call`` for its first call, nothing after (or ever, for ``None``)."""
    pending = [call] if call is not None else []
    return lambda: pending.pop()() if pending else None


def _result(meter: LoudnessMeter, path: Path) -> Loudness:
    if meter.frames == 0:
        raise SoundscapeError(f"{path}: decoded to no audio")
    return meter.result()


def _on_target(loudness: Loudness, target: LoudnessTarget, tolerance_lu: float) -> bool:
    """Within ``tolerance_lu`` of the target's loudness, and no peak over its ceiling."""
    off_lu = target.integrated_lufs - loudness.integrated_lufs
    return abs(off_lu) <= tolerance_lu and loudness.true_peak_dbtp <= target.true_peak_dbtp


def _slope(previous: tuple[float, float] | None, now: tuple[float, float]) -> float:
    """LU of the written file per dB of gain, from two passes (a secant): 1 until there are
    two, or when they are too close to tell or disagree wildly. A file of a few seconds
    moved 2.1 LU for 1 dB (the gates and the encoder), so plain steps of the miss overshot
    and its three passes swung around the target without reaching it."""
    if previous is None or abs(now[0] - previous[0]) < 0.05:
        return 1.0
    slope = (now[1] - previous[1]) / (now[0] - previous[0])
    return slope if SLOPE_RANGE[0] <= slope <= SLOPE_RANGE[1] else 1.0


#: A loss of loudness to the limiter too small to correct: a hundredth of the 0.1 LU the
#: master is measured to.
NEGLIGIBLE_LOSS_LU = 0.001


def limiter_loss_lu(
    blocks: Callable[[], Iterable[np.ndarray]],
    gain_db: float,
    ceiling_db: float,
    sample_rate_hz: int,
    channels: int,
    *,
    every: int = 3,
    max_s: float = 2700.0,
) -> float:
    """How much louder the gain must be to make up what the limiter will take, in LU.

    Speech peaks stand well above its loudness, so at a quiet target the limiter already
    shaves some of them; measured instead of guessed, the master lands on target in one
    encoding pass. The preview runs on every ``every``-th block of the first ``max_s``
    seconds: a third of the blocks measures the loss within about 0.1 LU, and a story's or a
    bed's loudness and peaks are steady by the end of that stretch. A bed previews every block
    of its first five minutes instead (:func:`soundscapes.ambience.render_ambience`), by when
    every layer has shown its events.

    The limiter runs alone first: where what it takes from the stretch is too little to change
    its loudness by :data:`NEGLIGIBLE_LOSS_LU` (nothing at all, mostly), the loss is nil,
    found without the two meters, three quarters of the cost. Most beds are such in their
    first five minutes at the sleep target (9 of the 14 layers alone take nothing, the four
    story layers together next to nothing); the meters then took 0.3-0.4 s of CPU time on one
    core while the other waited. Speech meets the ceiling within seconds, so a story's
    preview is the metered one, as before.
    """
    gain = np.float32(10.0 ** (gain_db / 20.0))
    if _limiter_takes_little(_stretch(blocks, gain, every, max_s * sample_rate_hz), ceiling_db,
                             sample_rate_hz, channels):  # fmt: skip
        return 0.0
    before = LoudnessMeter(sample_rate_hz, channels, true_peak=False)
    after = LoudnessMeter(sample_rate_hz, channels, true_peak=False)
    limiter = TruePeakLimiter(ceiling_db, sample_rate_hz, channels)
    for x in _stretch(blocks, gain, every, max_s * sample_rate_hz):
        before.add(x)
        after.add(limiter.process(x))
    after.add(limiter.flush())
    loss = before.integrated_lufs - after.integrated_lufs
    return max(0.0, loss) if before.frames else 0.0


def _stretch(
    blocks: Callable[[], Iterable[np.ndarray]], gain: np.float32, every: int, max_frames: float
) -> Iterator[np.ndarray]:
    """Every ``every``-th block (the first, and so on) of the first ``max_frames``, times
    ``gain``: what the limiter preview reads."""
    elapsed = 0
    for i, block in enumerate(blocks()):
        if elapsed >= max_frames:
            return
        elapsed += block.shape[1]
        if not i % every:
            yield block * gain


def _limiter_takes_little(
    stretch: Iterable[np.ndarray], ceiling_db: float, sample_rate_hz: int, channels: int
) -> bool:
    """Whether the limiter takes so little of ``stretch``'s energy that its loudness cannot
    move by :data:`NEGLIGIBLE_LOSS_LU`.

    The loss in LU follows the share of energy taken, ``-10 log10(1 - share)``, within a
    factor of 0.9-1.5 for the layers the limiter touches at the sleep target (tide, melody,
    heartbeat, storm-hush, rain and fire: fire the most, K-weighting weighing its crackles'
    highs a little more than the bed under them); the bound leaves room for ten. It
    stops reading once it has taken a hundred times that share of what it has read, as
    speech does within seconds."""
    limit = 1.0 - 10.0 ** (-NEGLIGIBLE_LOSS_LU / 10.0 / 10.0)
    limiter = TruePeakLimiter(ceiling_db, sample_rate_hz, channels)
    energy = 0.0
    for x in stretch:
        energy += float(np.vdot(x, x))
        limiter.process(x)
        if limiter.removed_energy > 100.0 * limit * energy:
            return False
    limiter.flush()
    return limiter.removed_energy <= limit * energy
