"""A written file decoded again and measured: what a master reports where it could not measure
the audio while encoding it (Ogg Vorbis, M4B, a name the tee muxer cannot take), and what the
encoder-level preview reads back (:mod:`soundscapes.output.encoderlevel`)."""

from __future__ import annotations

from pathlib import Path

from soundscapes.errors import SoundscapeError
from soundscapes.output.export import audio_info, decode_blocks
from soundscapes.output.meter import Loudness, LoudnessMeter


def measure_file(path: Path, *, series: list | None = None, true_peak: bool = True) -> Loudness:
    """Decode ``path`` and measure integrated loudness, loudness range and (with
    ``true_peak``) true peak, at the rate and channels it decodes to.

    With ``series`` (a list), short-term loudness every half second is appended to it.
    """
    sample_rate_hz, channels, _ = audio_info(path)
    meter = LoudnessMeter(sample_rate_hz, channels, true_peak=true_peak)
    meter.record_series = series is not None
    # Lossy files decode in ffmpeg, on another core, while this one measures.
    lossy = path.suffix.lower() in (".mp3", ".ogg", ".opus")
    for block in decode_blocks(path, block_frames=sample_rate_hz // 2, in_ffmpeg=lossy):
        meter.add(block)
    if meter.frames == 0:
        raise SoundscapeError(f"{path}: decoded to no audio")
    if series is not None:
        series.extend(meter.series)
    return meter.result()
