"""Encoders, tags and atomic writes.

Every encoder takes float32 ``(channels, frames)`` blocks, so a render streams to disk.
Nothing half-written ever sits at an output path: files are written beside it under a
temporary name and renamed into place when complete.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from soundscapes.errors import ExportError
from soundscapes.files import (
    DISK_FULL,
    make_folder,
    note_scratch_folder,
    scratch_name,
    short_of_space,
    write_failure,
    writing,
)
from soundscapes.output.formats import get_format
from soundscapes.output.tags import Tags, ffmetadata, reserve_flac_tag_room
from soundscapes.output.writeback import EarlyWriteback

#: Free bytes under which a failed write is put down to a full disk.
_FULL_DISK_BYTES = 1 << 20


@dataclass(frozen=True, kw_only=True)
class Destination:
    """What an encoder writes: the file, its format and stream, and what is muxed in."""

    path: Path
    fmt: str
    sample_rate_hz: int
    channels: int = 2
    #: Written into the finished file; chapters are muxed in where the format needs it (MP4).
    tags: Tags | None = None
    #: Lossy formats only: constant-rate MP3 when given, the format's VBR default otherwise.
    bitrate_kbps: int | None = None
    #: How errors name the file when ``path`` is a temporary one (the output's own name).
    shown_as: Path | None = None

    @property
    def named(self) -> Path:
        return self.shown_as or self.path


class Encoder(Protocol):
    def write(self, block: np.ndarray) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


#: Free bytes below which a failed libsndfile write is put down to a full disk: libsndfile
#: loses the errno (a FLAC whose first frames cannot be written says "problem with
#: initialization of the flac decoder").
_NEARLY_FULL_BYTES = 1 << 20


def _reason_writing_in(folder: Path) -> Callable[[BaseException], str]:
    """:func:`~soundscapes.files.write_failure`, but a libsndfile error on a nearly full disk
    is the full disk."""

    def reason(exc: BaseException) -> str:
        lost_errno = isinstance(exc, sf.LibsndfileError)
        if lost_errno and short_of_space(folder, _NEARLY_FULL_BYTES) is not None:
            return DISK_FULL
        return write_failure(exc)

    return reason


def _writing(
    where: object, reason: Callable[[BaseException], str] = write_failure
) -> contextlib.AbstractContextManager[None]:
    """Report a failed write of a sound file (libsndfile's errors too) as an
    :class:`ExportError` naming ``where``."""
    return writing(where, reason, (OSError, sf.LibsndfileError))


def _as_pcm24(block: np.ndarray) -> np.ndarray:
    """``(channels, n)`` float32 as libsndfile hands it to libFLAC for 24-bit FLAC: frames by
    channels, ``rint(x * 2**23)`` clipped to 24 bits, in the top bytes of int32 (libsndfile
    shifts them down again). The same samples, so the same file, as writing the floats, but
    done here in whole-array steps: libsndfile's per-sample conversion ran in the encoder's
    thread, the one that holds a bed's master up (an hour of the four story layers: that
    thread 4.5-4.9 CPU s instead of 5.5-5.8, the master 5.7-6.1 s instead of 6.7-6.9 s,
    three interleaved rounds)."""
    scaled = block.T * np.float32(1 << 23)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -(1 << 23), (1 << 23) - 1, out=scaled)
    out = np.empty(scaled.shape, np.int32)
    np.copyto(out, scaled, casting="unsafe")
    out <<= 8
    return out


class SoundFileEncoder:
    """Formats libsndfile writes (WAV, FLAC, Ogg Vorbis: :attr:`OutputFormat.soundfile`).

    libsndfile encodes in a thread of its own: its calls release the GIL, so a FLAC or Vorbis
    encode takes the other core while the caller limits and meters the next block (an MP3 or
    Opus encode is in an ffmpeg process for the same reason). The blocks are written in the
    order given, so the file's bytes are those of encoding in line.
    """

    #: Blocks waiting for the encoder at most: a few seconds of audio, whatever the length.
    QUEUE_BLOCKS = 4
    #: libsndfile's 0..1 scale over libFLAC's levels 0..8: 0.5 is level 4 (mid-side stereo
    #: chosen by estimate instead of tried every frame). Against libsndfile's default, level
    #: 5, it encoded an hour of the four story layers in 82 % of the CPU time (9.1–9.3 s
    #: against 11.1–11.3 s) for 0.05 % more bytes, and the demo story (fake voice) in 92 %
    #: for 0.3 % more; level 3 would be faster still but left the story 9.6 % bigger
    #: (tests/benchmarks/BENCHMARKS.md).
    FLAC_COMPRESSION = 0.5

    def __init__(self, dest: Destination):
        container, subtype = get_format(dest.fmt).soundfile or ("", "")
        self._final = dest.named
        self._reason = _reason_writing_in(dest.path.parent)
        self._file = sf.SoundFile(
            dest.path,
            "w",
            samplerate=dest.sample_rate_hz,
            channels=dest.channels,
            format=container,
            subtype=subtype,
            compression_level=self.FLAC_COMPRESSION if container == "FLAC" else None,
        )
        self._pcm24 = (container, subtype) == ("FLAC", "PCM_24")
        if container == "FLAC":  # room for the tags, so that writing them moves no audio
            reserve_flac_tag_room(self._file, dest.tags or Tags())
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(self.QUEUE_BLOCKS)
        self._failed: BaseException | None = None
        self._writeback = EarlyWriteback(dest.path)  # the sync at the close then waits little
        self._thread = threading.Thread(target=self._encode, name="narrator-encoder", daemon=True)
        self._thread.start()

    def _encode(self) -> None:
        """The encoder thread: write what arrives until told to stop; after a failure, keep
        taking blocks (so the caller never waits on a full queue) and drop them."""
        while (frames := self._queue.get()) is not None:
            if self._failed is None:
                try:
                    self._file.write(frames)
                except BaseException as exc:  # raised in the caller's thread, at its next call
                    self._failed = exc
                self._writeback.grown()
        self._writeback.close()

    def _raise_failure(self) -> None:
        if self._failed is not None:
            with _writing(self._final, self._reason):
                raise self._failed

    def write(self, block: np.ndarray) -> None:
        self._raise_failure()
        if self._pcm24:
            self._queue.put(_as_pcm24(block))
            return
        # A copy, frames by channels: the caller may reuse its block at once.
        self._queue.put(np.array(block.T, order="C"))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise_failure()
        with _writing(self._final, self._reason):
            self._file.close()

    def abort(self) -> None:
        self._queue.put(None)
        self._thread.join()
        with contextlib.suppress(OSError, sf.LibsndfileError, RuntimeError):
            self._file.close()


class FfmpegEncoder:
    """Formats ffmpeg writes (MP3 with LAME, Opus in Ogg, AAC in MP4: :attr:`OutputFormat.
    ffmpeg_codec`) through the ffmpeg binary that imageio-ffmpeg ships.

    Raw float32 PCM streams into ffmpeg's standard input block by block, so encoding runs in
    its own process beside the render (lameenc holds the GIL; a second core is free). ffmpeg
    writes LAME's gapless header, so players trim the encoder delay and the file is exactly as
    long as the mix; it resamples to Opus's 48 kHz itself.

    With ``decoded`` (formats with a :attr:`~OutputFormat.decoded_rate_hz`), ffmpeg's tee
    muxer also sends the encoded stream down a pipe to a second ffmpeg that decodes it again,
    and a thread hands the decoded blocks to
    ``decoded``: the file is measured as a listener's player decodes it while it is being
    encoded, rather than read back afterwards.
    """

    #: Bytes of the pipe into ffmpeg (Linux's default is 64 KiB, less than one block): a
    #: bigger one lets the encoder work on while this process limits the next block.
    _PIPE_BYTES = 1 << 20

    def __init__(self, dest: Destination, *, decoded: Callable[[np.ndarray], None] | None = None):
        path, fmt, tags = dest.path, dest.fmt, dest.tags
        sample_rate_hz, channels = dest.sample_rate_hz, dest.channels
        self._path = path
        #: How errors name the file: the output's own name, not the temporary one written.
        self._final = dest.named
        self._meta: Path | None = None
        record = get_format(fmt)
        chapters: list[str] = []
        if record.chapters_while_muxing and tags is not None and tags.chapters:
            # MP4 chapters can only be written while muxing: hand ffmpeg a metadata file.
            fd, name = tempfile.mkstemp(
                prefix=scratch_name("chapters-"), suffix=".txt", dir=path.parent
            )
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(ffmetadata(tags))
            self._meta = Path(name)
            chapters = ["-f", "ffmetadata", "-i", name, "-map", "0:a", "-map_chapters", "1"]
        muxer, options = record.ffmpeg_muxer, dict(record.ffmpeg_muxer_options)
        tee = decoded is not None and self.can_decode_while_encoding(fmt, path)
        if tee:
            spec = ":".join([f"f={muxer}", *(f"{k}={v}" for k, v in options.items())])
            output = ["-map", "0:a", "-f", "tee", f"[{spec}]{path}|[f={muxer}]pipe:1"]
        else:
            flags = [arg for k, v in options.items() for arg in (f"-{k}", v)]
            output = ["-f", muxer, *flags, str(path)]
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "f32le", "-ar", str(sample_rate_hz), "-ac", str(channels), "-i", "pipe:0",
            *chapters, *self.codec_args(fmt, dest.bitrate_kbps), *output,
        ]  # fmt: skip
        # A session of its own: a Ctrl-C at the terminal reaches this process, which stops
        # the encoder itself (abort), rather than ffmpeg dying first and its exit reading as
        # an encoding error. If this process is killed, ffmpeg reads the end of its input
        # and exits.
        self._decoder: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._read_error: BaseException | None = None
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if tee else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _widen_pipe(self._proc.stdin)
            if tee:
                rate = self.decoded_rate_hz(fmt)
                self._decoder = subprocess.Popen(
                    [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
                     "-f", muxer, "-i", "pipe:0", "-f", "f32le", "-ar", str(rate),
                     "-ac", str(channels), "pipe:1"],
                    stdin=self._proc.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    start_new_session=True,
                )  # fmt: skip
                assert self._proc.stdout is not None
                self._proc.stdout.close()  # the decoder holds it now
                self._reader = threading.Thread(
                    target=self._read_decoded, args=(decoded, channels), daemon=True
                )
                self._reader.start()
        except BaseException:
            # An interrupt while starting: the encoder, in a session of its own, would
            # otherwise outlive us and write the file after it was cleaned away.
            self.abort()
            raise

    @classmethod
    def can_decode_while_encoding(cls, fmt: str, path: Path) -> bool:
        """Whether :class:`FfmpegEncoder` can measure ``fmt`` while writing ``path`` (the tee
        muxer's syntax reserves a few characters in the file name)."""
        record = get_format(fmt)
        return (
            record.by_ffmpeg
            and record.decoded_rate_hz is not None
            and not any(c in str(path) for c in "|[]\\'")
        )

    @staticmethod
    def decoded_rate_hz(fmt: str) -> int:
        rate = get_format(fmt).decoded_rate_hz
        assert rate is not None
        return rate

    @staticmethod
    def codec_args(fmt: str, bitrate_kbps: int | None) -> list[str]:
        """Codec options; a bit rate replaces the format's rate option and the options that
        go with it (and so makes MP3's VBR quality constant-rate)."""
        record = get_format(fmt)
        args = list(record.ffmpeg_codec)
        if bitrate_kbps is None:
            return args + list(record.rate_options)
        i = args.index(record.bitrate_flag)
        args[i : i + 2] = ["-b:a", f"{bitrate_kbps}k"]
        return args

    def _read_decoded(self, decoded: Callable[[np.ndarray], None], channels: int) -> None:
        assert self._decoder is not None and self._decoder.stdout is not None
        frame_bytes = 4 * channels
        try:
            while chunk := self._decoder.stdout.read((1 << 16) * frame_bytes):
                usable = len(chunk) - len(chunk) % frame_bytes
                decoded(np.frombuffer(chunk[:usable], dtype="<f4").reshape(-1, channels).T)
        except BaseException as exc:  # handed to close(), which raises it in the caller
            self._read_error = exc
            self._decoder.stdout.close()

    def write(self, block: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(block.T, dtype="<f4").tobytes())
        except BrokenPipeError:
            self.close()

    def close(self) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        stderr = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        code = self._proc.wait()
        decode_error = ""
        if self._decoder is not None:
            assert self._reader is not None
            self._reader.join()
            err = (
                self._decoder.stderr.read().decode(errors="replace") if self._decoder.stderr else ""
            )
            if self._decoder.wait() != 0:
                decode_error = (err.strip().splitlines() or ["unknown error"])[-1]
        if self._meta is not None:
            self._meta.unlink(missing_ok=True)
        if code != 0:
            raise ExportError(f"{self._final}: ffmpeg could not encode ({self._why(stderr)})")
        if self._read_error is not None:
            raise self._read_error
        if decode_error:
            raise ExportError(f"{self._final}: the encoded stream does not decode ({decode_error})")

    def _why(self, stderr: str) -> str:
        """What went wrong, in words: ffmpeg's last line, or a full disk (which it may not
        say at this log level)."""
        try:
            full = shutil.disk_usage(self._path.parent).free < _FULL_DISK_BYTES
        except OSError:
            full = False
        if full or "No space left" in stderr:
            return DISK_FULL
        lines = stderr.strip().splitlines()
        return lines[-1] if lines else "unknown error"

    def abort(self) -> None:
        """Stop encoding at once (an error or an interrupt upstream): kill the encoder and its
        decoder and wait for them; raises nothing, the caller's exception is the story."""
        for proc in (self._proc, self._decoder):
            if proc is None:
                continue
            with contextlib.suppress(OSError):
                proc.kill()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                with contextlib.suppress(OSError):
                    if pipe is not None:
                        pipe.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._meta is not None:
            self._meta.unlink(missing_ok=True)


def _widen_pipe(pipe: object) -> None:
    """Make a pipe's buffer :attr:`FfmpegEncoder._PIPE_BYTES` where the system allows it."""
    fileno = getattr(pipe, "fileno", None)
    if fileno is None or sys.platform != "linux":
        return
    import fcntl

    set_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # 1031 is its value on Linux
    with contextlib.suppress(OSError):
        fcntl.fcntl(fileno(), set_size, FfmpegEncoder._PIPE_BYTES)


class FloatWav:
    """A float32 WAV of ``frames`` frames written block by block, for mixes and stems kept
    for later work. Plain WAV holds at most 4 GiB (about 3 hours of stereo float): a longer
    one is written as RF64, which libsndfile, ffmpeg and audio editors read as WAV."""

    def __init__(self, path: Path, sample_rate_hz: int, channels: int, frames: int) -> None:
        self._path = path
        large = frames * channels * 4 > 0xFFFFFFFF - (1 << 20)
        with _writing(path, str):
            self._file = sf.SoundFile(
                path,
                "w",
                samplerate=sample_rate_hz,
                channels=channels,
                format="RF64" if large else "WAV",
                subtype="FLOAT",
            )

    def write(self, block: np.ndarray) -> None:
        with _writing(self._path.parent, str):
            self._file.write(np.ascontiguousarray(block.T))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FloatWav:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped in the imageio-ffmpeg wheel (no system package needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def open_encoder(
    dest: Destination, *, decoded: Callable[[np.ndarray], None] | None = None
) -> Encoder:
    """An encoder writing ``dest`` (``decoded`` receives the file decoded again while it is
    encoded, where :meth:`FfmpegEncoder.can_decode_while_encoding` allows)."""
    try:
        if get_format(dest.fmt).by_ffmpeg:
            return FfmpegEncoder(dest, decoded=decoded)
        return SoundFileEncoder(dest)
    except (OSError, sf.LibsndfileError) as exc:
        raise ExportError(
            f"{dest.named}: cannot write ({exc}); check the folder exists and is writable"
        ) from None


def decode_blocks(
    path: Path, block_frames: int = 65536, *, in_ffmpeg: bool = False
) -> Iterator[np.ndarray]:
    """Decode an audio file as float32 ``(channels, frames)`` blocks.

    libsndfile reads WAV, FLAC, Ogg (Vorbis, Opus) and MP3; anything else goes through ffmpeg
    (at 44.1 kHz stereo). ``in_ffmpeg`` decodes in an ffmpeg process at the file's own rate,
    so that decoding runs on another core while this one uses the blocks.
    """
    try:
        f = sf.SoundFile(path)
    except sf.LibsndfileError:
        yield from _ffmpeg_decode_blocks(path, block_frames)
        return
    if in_ffmpeg:
        rate, channels = f.samplerate, f.channels
        f.close()
        yield from _ffmpeg_decode_blocks(path, block_frames, rate, channels)
        return
    with f:
        while True:
            data = f.read(block_frames, dtype="float32", always_2d=True)
            if len(data) == 0:
                return
            yield np.ascontiguousarray(data.T)


def audio_info(path: Path) -> tuple[int, int, float]:
    """``(sample_rate_hz, channels, duration_s)`` of an audio file, by decoding if needed."""
    try:
        info = sf.info(str(path))
    except sf.LibsndfileError:
        # ffmpeg decodes to 44.1 kHz stereo (see _ffmpeg_decode_blocks).
        frames = sum(b.shape[1] for b in _ffmpeg_decode_blocks(path, 1 << 16))
        return 44_100, 2, frames / 44_100
    return info.samplerate, info.channels, info.frames / info.samplerate


def _ffmpeg_decode_blocks(
    path: Path, block_frames: int, sample_rate_hz: int = 44_100, channels: int = 2
) -> Iterator[np.ndarray]:
    """Decode through ffmpeg to float32 blocks (44.1 kHz stereo unless told otherwise)."""
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-i",
        str(path),
        "-f",
        "f32le",
        "-ar",
        str(sample_rate_hz),
        "-ac",
        str(channels),
        "pipe:1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        frame_bytes = 4 * channels
        # A pipe read returns every byte asked for until the end, so frames never split.
        while chunk := proc.stdout.read(block_frames * frame_bytes):
            usable = len(chunk) - len(chunk) % frame_bytes
            yield np.frombuffer(chunk[:usable], dtype="<f4").reshape(-1, channels).T.copy()
    finally:
        proc.stdout.close()
        if proc.wait() != 0:
            raise ExportError(f"{path}: cannot be decoded by ffmpeg")


@contextlib.contextmanager
def atomic_path(final: Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place if the block succeeds.

    On any error the temporary file is removed and ``final`` is left as it was.

    Raises
    ------
    ExportError
        The folder cannot be created or written, or ``final`` cannot be replaced.
    """
    final = Path(final)
    if final.is_dir():
        raise ExportError(f"{final}: that is a folder; give a file name")
    make_folder(final.parent)
    note_scratch_folder(final.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=scratch_name(f"{final.name[:60]}."),
            suffix=suffix or final.suffix or ".tmp",
            dir=final.parent,
        )
    except OSError as exc:
        raise ExportError(
            f"{final.parent}: cannot write there ({exc.strerror}); choose a writable folder"
        ) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise ExportError(
                f"{final}: cannot put the file there ({exc.strerror}); check that file's and "
                "its folder's permissions, or choose another output path (-o)"
            ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically, unless the file there holds it already (its
    time and identity then stay as they were: what an uploader or a cache goes by); whether
    it was written.

    Raises
    ------
    ExportError
        The file cannot be written (naming it, and a full disk as such).
    """
    try:
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass  # unreadable: written again
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return True
