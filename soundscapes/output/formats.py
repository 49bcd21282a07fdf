"""Output formats as records: one :class:`OutputFormat` says everything about a format — its
file suffix and MIME type, how it is encoded, where its loudness is measured, how its tags and
chapters are written, and how much disk it takes.

A new format is one record and one :func:`register` call; nothing else keys on format names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soundscapes.errors import ExportError


@dataclass(frozen=True, kw_only=True)
class OutputFormat:
    """One output format."""

    name: str
    """What ``--format`` and manifests call it (``mp3``)."""
    suffix: str
    """File suffix, with the dot."""
    mime: str
    """MIME type it is served as (a feed's enclosure type)."""
    lossless: bool
    """The samples handed to the encoder are what a player decodes: they are measured as
    written, and the true-peak ceiling needs no margin for the encoder."""
    soundfile: tuple[str, str] | None = None
    """``(container, subtype)`` when libsndfile writes it."""
    ffmpeg_codec: tuple[str, ...] = ()
    """ffmpeg's codec options when ffmpeg writes it."""
    ffmpeg_muxer: str = ""
    ffmpeg_muxer_options: tuple[tuple[str, str], ...] = ()
    decoded_rate_hz: int | None = None
    """The rate the stream decodes at, when it can be decoded while it is encoded (measured
    then, not read back afterwards)."""
    bandwidth_hz: float | None = None
    """The encoder's upper band edge: mastering meters the mix through it, so the encoded
    file's loudness is hit in one pass."""
    tags: str = "none"
    """How tags, cover and chapters go in: ``id3``, ``mp4``, ``vorbis``, ``flac`` or ``none``."""
    chapters_while_muxing: bool = False
    """Chapters must be handed to the muxer (MP4), not written into the finished file."""
    bytes_per_s: int = 40_000
    """A generous size of one second of stereo audio, for the disk-space check."""
    bitrate_flag: str = "-b:a"
    """Where ``--bitrate`` goes (MP3 turns VBR ``-q:a`` into constant-rate ``-b:a``)."""
    rate_options: tuple[str, ...] = ()
    """ffmpeg codec options that belong to the format's own rate setting and are dropped
    with it when ``--bitrate`` replaces it."""
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def by_ffmpeg(self) -> bool:
        return bool(self.ffmpeg_codec)

    @property
    def takes_bitrate(self) -> bool:
        """``--bitrate`` applies (ffmpeg's encoders; libsndfile's WAV, FLAC and Ogg Vorbis at
        its quality setting take none)."""
        return self.by_ffmpeg


_REGISTRY: dict[str, OutputFormat] = {}
#: The format written when neither a name nor a file's suffix says (every podcast app plays it).
DEFAULT_FORMAT = "mp3"


def register(fmt: OutputFormat) -> OutputFormat:
    """Make ``fmt`` available to ``--format``, manifests and the encoders."""
    _REGISTRY[fmt.name] = fmt
    return fmt


def formats() -> dict[str, OutputFormat]:
    """Every registered format by name, in registration order."""
    return dict(_REGISTRY)


def get_format(name: str) -> OutputFormat:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ExportError(
            f"unknown output format {name!r}; use one of {', '.join(_REGISTRY)}"
        ) from None


def format_named_by(path: Path) -> str | None:
    """The format ``path``'s suffix names (``.flac``: ``flac``), or ``None``."""
    suffix = path.suffix.lower()
    return next((f.name for f in _REGISTRY.values() if f.suffix == suffix), None)


def format_for(path: Path, explicit: str | None = None) -> str:
    """The output format: ``explicit`` if given, else from the file suffix.

    Raises
    ------
    ExportError
        An unknown format, or ``explicit`` contradicting a known suffix (MP3 data in a file
        named ``.flac`` would fool every player).
    """
    suffix = path.suffix.lstrip(".").lower()
    named = format_named_by(path)
    name = (explicit or named or suffix).lower()
    if name not in _REGISTRY:
        raise ExportError(
            f"{path}: unknown output format {name or '(no suffix)'!r}; "
            f"use one of {', '.join(_REGISTRY)} (e.g. -o story.mp3)"
        )
    if named is not None and named != name:
        raise ExportError(
            f"{path}: --format {name} does not match the .{suffix} name; "
            f"name it .{name} or drop --format"
        )
    return name


# LAME VBR -V3 (about 170 kb/s). Measured on a narrated mix: CBR 64-224 kb/s came out 0.2-0.45
# LU quieter than its input (made up before the encode: soundscapes.output.encoderlevel), VBR
# -V3/-V4 within 0.05 LU. It low-passes near 18.7 kHz (lame.c,
# optimum_bandwidth). ID3 tags and chapters by mutagen; LAME's gapless header by ffmpeg.
# LAME's algorithm quality 5 (``-q 5``) instead of its default 3: under VBR the two differ
# only in how hard the Huffman coder searches (Hydrogenaudio, "LAME -q switch"). The demo's
# mix encoded alone decoded to the same samples, every one, in a file 1.3 % bigger, in
# 3.25-3.39 s against 3.72-3.84 s (LAME is what a story's master waits on); in the render,
# the same but for 50 ms of the tail's last fade at -98 dBFS, off by -104 dBFS. Not for
# constant rate (``--bitrate``), where it changes the noise shaping: 54 % of samples moved.
MP3 = register(
    OutputFormat(
        name="mp3", suffix=".mp3", mime="audio/mpeg", lossless=False,
        ffmpeg_codec=("-c:a", "libmp3lame", "-q:a", "3"), ffmpeg_muxer="mp3",
        ffmpeg_muxer_options=(("id3v2_version", "0"), ("write_id3v1", "0")),
        decoded_rate_hz=44_100, bandwidth_hz=18_700.0, tags="id3", bytes_per_s=40_000,
        bitrate_flag="-q:a", rate_options=("-compression_level", "5"),
    )
)  # fmt: skip

WAV = register(
    OutputFormat(
        name="wav", suffix=".wav", mime="audio/wav", lossless=True,
        soundfile=("WAV", "PCM_16"), bytes_per_s=176_400,
    )
)  # fmt: skip

FLAC = register(
    OutputFormat(
        name="flac", suffix=".flac", mime="audio/flac", lossless=True,
        soundfile=("FLAC", "PCM_24"), tags="flac", bytes_per_s=200_000,
    )
)  # fmt: skip

OGG = register(
    OutputFormat(
        name="ogg", suffix=".ogg", mime="audio/ogg", lossless=False,
        soundfile=("OGG", "VORBIS"), tags="vorbis", bytes_per_s=40_000,
    )
)  # fmt: skip

# Opus in Ogg at 96 kb/s; ffmpeg resamples to Opus's 48 kHz.
OPUS = register(
    OutputFormat(
        name="opus", suffix=".opus", mime="audio/ogg", lossless=False,
        ffmpeg_codec=("-c:a", "libopus", "-b:a", "96k"), ffmpeg_muxer="ogg",
        decoded_rate_hz=48_000, tags="vorbis", bytes_per_s=15_000,
    )
)  # fmt: skip

# AAC in MP4 for audiobook players; the index goes to the front (faststart), so the stream
# cannot be decoded while it is written. Chapters only while muxing (mutagen cannot).
# ffmpeg's "fast" AAC coder, not its default "twoloop": on the demo's mix (2026-12-06) it
# encoded 2.5-3x faster (128 kb/s: 3.6 s against 9.0 s) and scored higher on wideband PESQ
# (ITU-T P.862.2, 16 kHz, 20 s windows: 4.60 against 4.54 at 128 kb/s, 4.55 against 4.46 at 96,
# 4.36 against 4.22 at 64) with less noise under the voice (500-2000 Hz: 39 against 27 dB SNR);
# ffmpeg made it the default once for the same reasons ("twoloop ... at higher bitrates
# sounds worse than the fast coder and needs quite a lot more CPU", commit fcb681ac, 2018).
M4B = register(
    OutputFormat(
        name="m4b", suffix=".m4b", mime="audio/mp4", lossless=False,
        ffmpeg_codec=("-c:a", "aac", "-aac_coder", "fast", "-b:a", "128k"), ffmpeg_muxer="mp4",
        ffmpeg_muxer_options=(("movflags", "+faststart"),), tags="mp4",
        chapters_while_muxing=True, bytes_per_s=20_000,
    )
)  # fmt: skip
