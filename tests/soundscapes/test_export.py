"""The encoders: libsndfile's formats encode in a thread of their own, with the bytes of
encoding in line and their failures raised in the caller's thread."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import welch

from soundscapes.errors import ExportError
from soundscapes.output.export import (
    Destination,
    FfmpegEncoder,
    SoundFileEncoder,
    decode_blocks,
    ffmpeg_exe,
)
from soundscapes.output.formats import get_format
from soundscapes.output.tags import Tags, reserve_flac_tag_room, write_tags
from tests.soundscapes.signals import speechlike


def _signal(seconds: float = 20.0) -> np.ndarray:
    rng = np.random.default_rng(4)
    return (0.1 * rng.standard_normal((2, round(seconds * 44100)))).astype(np.float32)


def _reserve_tag_room(f: sf.SoundFile, fmt: str) -> None:
    """What the encoder does before the audio: room in a FLAC's header for its tags."""
    if fmt == "flac":
        reserve_flac_tag_room(f, Tags())


@pytest.mark.parametrize("fmt", ["flac", "wav", "ogg"])
def test_the_encoder_thread_writes_the_bytes_of_encoding_in_line(tmp_path, fmt):
    audio = _signal()
    container, subtype = get_format(fmt).soundfile
    in_line = tmp_path / f"in-line.{fmt}"
    level = SoundFileEncoder.FLAC_COMPRESSION if fmt == "flac" else None
    with sf.SoundFile(in_line, "w", samplerate=44100, channels=2, format=container,
                      subtype=subtype, compression_level=level) as f:  # fmt: skip
        _reserve_tag_room(f, fmt)
        for i in range(0, audio.shape[1], 65536):
            f.write(np.ascontiguousarray(audio[:, i : i + 65536].T))
    threaded = tmp_path / f"threaded.{fmt}"
    encoder = SoundFileEncoder(Destination(path=threaded, fmt=fmt, sample_rate_hz=44100))
    for i in range(0, audio.shape[1], 65536):
        block = audio[:, i : i + 65536].copy()
        encoder.write(block)
        block[:] = 1.0  # the caller may reuse its block at once: the encoder kept a copy
    encoder.close()
    if fmt == "ogg":  # Vorbis draws a random stream serial: compare the decoded samples
        assert np.array_equal(sf.read(threaded)[0], sf.read(in_line)[0])
    else:
        assert threaded.read_bytes() == in_line.read_bytes()


def test_flac_samples_are_rounded_and_clipped_as_libsndfile_would(tmp_path):
    """The encoder hands libsndfile 24-bit integers it rounded itself (faster than letting
    libsndfile convert each float): halfway values, full scale, overs and the smallest
    steps must come out as libsndfile makes them of floats, so the file's bytes do too."""
    rng = np.random.default_rng(6)
    steps = rng.integers(-(2**23), 2**23 - 1, (2, 30_000))
    halfway = ((steps + 0.5) / 2**23).astype(np.float32)  # ties: rounded to even
    edges = np.array([1.0, -1.0, 0.9999999, -0.9999999, 1.5, -2.0, 0.5 / 2**23, -1.5 / 2**23])
    audio = np.concatenate(
        [_signal(2.0), halfway, np.tile(edges.astype(np.float32), (2, 1))], axis=1
    )
    ours = tmp_path / "ours.flac"
    encoder = SoundFileEncoder(Destination(path=ours, fmt="flac", sample_rate_hz=44100))
    encoder.write(audio)
    encoder.close()
    theirs = tmp_path / "theirs.flac"
    level = SoundFileEncoder.FLAC_COMPRESSION
    with sf.SoundFile(theirs, "w", samplerate=44100, channels=2, format="FLAC",
                      subtype="PCM_24", compression_level=level) as f:  # fmt: skip
        _reserve_tag_room(f, "flac")
        f.write(np.ascontiguousarray(audio.T))
    assert np.array_equal(sf.read(ours, dtype="int32")[0], sf.read(theirs, dtype="int32")[0])
    assert ours.read_bytes() == theirs.read_bytes()


def test_flac_is_lossless_and_its_faster_level_costs_under_a_percent_of_size(tmp_path):
    """FLAC is written at libFLAC's level 4, not libsndfile's default 5: faster to encode
    (see FLAC_COMPRESSION), the same samples, and hardly bigger."""
    rng = np.random.default_rng(5)
    t = np.arange(20 * 44100) / 44100
    voice = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) / 2
    bed = 0.02 * rng.standard_normal((2, t.size))
    audio = (voice + bed).astype(np.float32)  # a centred tone over stereo noise
    ours = tmp_path / "ours.flac"
    encoder = SoundFileEncoder(Destination(path=ours, fmt="flac", sample_rate_hz=44100))
    for i in range(0, audio.shape[1], 65536):
        encoder.write(audio[:, i : i + 65536])
    encoder.close()
    default = tmp_path / "default.flac"
    sf.write(default, audio.T, 44100, format="FLAC", subtype="PCM_24")
    decoded, rate = sf.read(ours, dtype="int32")
    assert rate == 44100
    assert np.array_equal(decoded, sf.read(default, dtype="int32")[0])
    assert ours.stat().st_size <= 1.01 * default.stat().st_size


def test_a_failure_in_the_encoder_thread_is_raised_here_naming_the_output(tmp_path, monkeypatch):
    out = tmp_path / "bed.flac"
    encoder = SoundFileEncoder(Destination(path=out, fmt="flac", sample_rate_hz=44100))

    def broken(frames):
        raise sf.LibsndfileError(2, prefix="")  # what libsndfile raises on a failed write

    monkeypatch.setattr(encoder._file, "write", broken)
    encoder.write(_signal(1.0))
    with pytest.raises(ExportError, match=r"bed\.flac: cannot write"):
        for _ in range(SoundFileEncoder.QUEUE_BLOCKS + 3):  # never stuck on a full queue
            encoder.write(_signal(1.0))
        encoder.close()
    encoder.abort()
    assert not encoder._thread.is_alive()


def _audio_offset(flac: bytes) -> int:
    """Where a FLAC file's frames begin: after "fLaC" and its metadata blocks."""
    at = 4
    while True:
        last, length = flac[at] & 0x80, int.from_bytes(flac[at + 1 : at + 4], "big")
        at += 4 + length
        if last:
            return at


@pytest.mark.parametrize("comment", ["", "Recorded for the night shift."])
def test_tags_fit_the_room_the_flac_encoder_left_and_move_no_audio(tmp_path, comment):
    """The encoder reserves room in the header (a placeholder comment); writing the tags
    there keeps every audio byte where it was (mutagen otherwise rewrote the whole file: 0.2 s
    for an hour's bed) and leaves no placeholder behind."""
    from mutagen.flac import FLAC

    from soundscapes.output.tags import ChapterMark

    chapters = tuple(
        ChapterMark(title=f"Part {i}", start_s=i * 5.0, end_s=i * 5.0 + 5) for i in range(9)
    )
    cover = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400
    tags = Tags(title="Tide and gulls", album="Beds", comment=comment, chapters=chapters,
                cover=cover, year=2026, track=3)  # fmt: skip
    path = tmp_path / "bed.flac"
    encoder = SoundFileEncoder(Destination(path=path, fmt="flac", sample_rate_hz=44100, tags=tags))
    encoder.write(_signal(5.0))
    encoder.close()
    before = path.read_bytes()
    write_tags(path, "flac", tags)
    after = path.read_bytes()
    # The audio frames are byte for byte where the encoder put them: nothing was moved.
    assert _audio_offset(after) == _audio_offset(before)
    assert after[_audio_offset(after) :] == before[_audio_offset(before) :]
    assert len(after) == len(before)
    written = FLAC(path)
    assert written.tags["title"] == ["Tide and gulls"]
    assert written.tags["chapter009name"] == ["Part 8"]
    assert written.pictures[0].data == cover
    assert written.tags.get("comment", []) == ([comment] if comment else [])


def _lame(tmp_path, audio: np.ndarray, name: str, *codec: str) -> np.ndarray:
    """``audio`` through ffmpeg's LAME with ``codec`` options alone, decoded again."""
    path = tmp_path / name
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "f32le", "-ar", "44100", "-ac", "2",
           "-i", "pipe:0", "-c:a", "libmp3lame", *codec, str(path)]  # fmt: skip
    subprocess.run(cmd, input=np.ascontiguousarray(audio.T).tobytes(), check=True)
    return np.concatenate(list(decode_blocks(path)), axis=1)


@pytest.mark.parametrize(
    ("bitrate_kbps", "plain"), [(None, ("-q:a", "3")), (128, ("-b:a", "128k"))]
)
def test_mp3_sounds_as_lame_at_its_default_quality(tmp_path, bitrate_kbps, plain):
    """The faster algorithm quality the MP3 encoder asks of LAME changes how the bits are
    packed, not a decoded sample: under VBR. A constant rate (``--bitrate``) keeps LAME's
    default, where that setting changes the noise shaping."""
    rng = np.random.default_rng(7)
    t = np.arange(round(8.0 * 44100)) / 44100
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    audio = (tone + 0.03 * rng.standard_normal((2, len(t)))).astype(np.float32)
    ours = tmp_path / "ours.mp3"
    encoder = FfmpegEncoder(
        Destination(path=ours, fmt="mp3", sample_rate_hz=44100, bitrate_kbps=bitrate_kbps)
    )
    encoder.write(audio)
    encoder.close()
    decoded = np.concatenate(list(decode_blocks(ours)), axis=1)
    reference = _lame(tmp_path, audio, "plain.mp3", *plain)
    assert decoded.shape == reference.shape
    assert np.array_equal(decoded, reference)


def _voice_band_snr_db(reference: np.ndarray, decoded: np.ndarray) -> float:
    """Signal to coding noise of the left channel between 150 and 2000 Hz, where a voice's
    fundamental and first formants carry it."""
    n = min(reference.shape[1], decoded.shape[1])
    f, signal_psd = welch(reference[0, :n], 44100, nperseg=4096)
    _, noise_psd = welch(decoded[0, :n] - reference[0, :n], 44100, nperseg=4096)
    band = (f >= 150) & (f < 2000)
    return float(10 * np.log10(signal_psd[band].sum() / noise_psd[band].sum()))


def test_m4b_keeps_the_voice_band_clean(tmp_path):
    """M4B's AAC is ffmpeg's "fast" coder: a gliding voice-like tone in bursts over band-passed
    noise comes back with coding noise 32 dB under it in the voice's band at 128 kb/s (the
    default "twoloop" coder: 25.5 dB, for 2.5-3x the encode time)."""
    audio = speechlike(20.0)
    path = tmp_path / "book.m4b"
    encoder = FfmpegEncoder(Destination(path=path, fmt="m4b", sample_rate_hz=44100))
    encoder.write(audio)
    encoder.close()
    decoded = np.concatenate(list(decode_blocks(path)), axis=1)
    assert decoded.shape == audio.shape  # the encoder's priming is trimmed
    assert _voice_band_snr_db(audio, decoded) > 29.0
