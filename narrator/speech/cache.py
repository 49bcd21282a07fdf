"""The speech cache: a passage's raw engine clips, stored by the hash of what made them.

Key = sha256 of the JSON of (cache format, engine, voice, sorted settings, engine version,
the passage's sentences). One ``.npz`` per passage holds the sentence clips exactly as the engine
returned them (float32, concatenated, with their lengths) and the sample rate. Cleaning happens
after the cache, so a change to the voice chain or pacing re-synthesizes nothing.

Writes are atomic: a temporary file in the cache folder, then ``os.replace``. Two renders
sharing the folder at once are safe (the last writer wins with identical content), a killed
render leaves at most a stray temporary file named for it (never a corrupt entry), which the
next render sweeps; an entry that cannot be read, or is not plausible speech, is treated as a
miss and overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from narrator.errors import CacheError, SpeechError
from narrator.speech.base import EngineSpec
from soundscapes.files import scratch_name, sweep_scratch

#: The Cache Directory Tagging Specification's file and signature (bford.info/cachedir).
CACHEDIR_TAG = "CACHEDIR.TAG"
_TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
_TAG_TEXT = (
    f"{_TAG_SIGNATURE}\n# This file is a cache tag created by narrator (its speech cache).\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
#: Bump when the stored layout changes, so old entries stop matching.
CACHE_FORMAT = 1
_SUFFIX = ".npz"
#: The largest entry read, on disk or unpacked: a passage of the longest (a few thousand
#: characters) is minutes of speech, a few tens of megabytes.
MAX_ENTRY_BYTES = 256 * 1024 * 1024
#: What an entry holds besides its audio, at most (its arrays' headers, lengths and key):
#: :meth:`SpeechCache.put` refuses audio that would make the entry larger than :meth:`get` reads.
_HEADERS_BYTES = 64 * 1024
_TEMP_PREFIX = ".tmp-"


def default_cache_folder() -> Path:
    """``<user cache dir>/narrator/speech`` (e.g. ``~/.cache/narrator/speech`` on Linux)."""
    return Path(platformdirs.user_cache_dir("narrator")) / "speech"


def passage_key(spec: EngineSpec, engine_version: str, sentences: Sequence[str]) -> str:
    """The cache key of one passage: a 64-character hex sha256."""
    payload = {
        "format": CACHE_FORMAT,
        "engine": spec.engine,
        "voice": spec.voice,
        "settings": sorted([name, value] for name, value in spec.settings),
        "version": engine_version,
        "sentences": list(sentences),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: What an entry must be to be used: sample rates engines speak at, and at most ten minutes
#: per sentence (a sentence is at most a few hundred characters).
_RATE_RANGE_HZ = (8_000, 192_000)
_MAX_CLIP_S = 600.0
#: Engines write full-scale float audio; a sample far past it is corruption, not speech.
_MAX_ABS_SAMPLE = 8.0


def plausible(audio: np.ndarray, lengths: np.ndarray, rate: int) -> bool:
    """Whether stored clips can be speech: one clip per sentence, each non-empty and of a
    plausible length at a plausible rate, every sample finite and not absurdly large. An
    entry that fails (a flipped byte that still decodes, a tampered file) is re-synthesized
    rather than trusted: NaN would silence the mix, a huge clip would stretch the render."""
    return implausible(audio, lengths, rate) is None


def implausible(audio: np.ndarray, lengths: np.ndarray, rate: int) -> str | None:
    """What keeps clips from being speech (:func:`plausible`), in words; ``None`` if nothing."""
    if audio.ndim != 1 or lengths.ndim != 1 or int(lengths.sum()) != audio.size:
        return "clips that do not add up to the audio"
    if lengths.size == 0 or not bool(np.all(lengths > 0)):
        return "an empty clip"
    if not _RATE_RANGE_HZ[0] <= rate <= _RATE_RANGE_HZ[1]:
        return f"a sample rate of {rate} Hz (from {_RATE_RANGE_HZ[0]} to {_RATE_RANGE_HZ[1]})"
    if int(lengths.max()) > _MAX_CLIP_S * rate:
        return f"a sentence {int(lengths.max()) / rate:.0f} s long (at most {_MAX_CLIP_S:.0f} s)"
    if not bool(np.all(np.isfinite(audio))):
        return "samples that are not numbers"
    if float(np.abs(audio).max(initial=0.0)) > _MAX_ABS_SAMPLE:
        return f"samples far past full scale ({float(np.abs(audio).max()):.3g})"
    return None


@dataclass(frozen=True)
class CachedPassage:
    """A passage's clips as the engine made them: mono float32, one per sentence."""

    clips: list[np.ndarray]
    sample_rate_hz: int


class SpeechCache:
    """A folder of synthesized passages, addressed by :func:`passage_key`."""

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_folder()

    def __repr__(self) -> str:
        return f"SpeechCache({str(self.folder)!r})"

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives (sharded by its first two characters)."""
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"a cache key is a lowercase hex digest, got {key!r}")
        return self.folder / key[:2] / f"{key}{_SUFFIX}"

    def get(self, key: str, *, clips: int | None = None) -> CachedPassage | None:
        """The entry for ``key``, or ``None`` when it is missing, cannot be read, or is not
        plausible speech (:func:`plausible`; ``clips``: the number of sentences it must hold).
        ``None`` makes the caller synthesize the passage again, which replaces the entry."""
        path = self.path(key)
        try:
            # Without blocking: a FIFO put where an entry goes hung the render at its open.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                    return None
                with zipfile.ZipFile(handle) as archive:  # what it would unpack to
                    if sum(i.file_size for i in archive.infolist()) > MAX_ENTRY_BYTES:
                        return None
                handle.seek(0)
                with np.load(handle, allow_pickle=False) as data:
                    # Its own key, where it records one: an entry copied or moved to another
                    # key's place is another passage's speech (entries made before: trusted).
                    if "key" in data.files and str(data["key"]) != key:
                        return None
                    audio = np.asarray(data["audio"], dtype=np.float32)
                    lengths = np.asarray(data["lengths"], dtype=np.int64)
                    rate = int(data["sample_rate_hz"])
            # MemoryError: a damaged header that claims an array of hundreds of gigabytes.
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, MemoryError):
                return None
        if not plausible(audio, lengths, rate) or (clips is not None and lengths.size != clips):
            return None
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        clips = [audio[a:b] for a, b in itertools.pairwise(bounds)]
        return CachedPassage(clips=clips, sample_rate_hz=rate)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def _mark(self) -> None:
        """Tag the folder as a cache (the Cache Directory Tagging Specification: backup tools
        skip it), and as ours: :meth:`clear` empties only a folder that carries the tag."""
        tag = self.folder / CACHEDIR_TAG
        if not tag.exists():
            with contextlib.suppress(OSError):
                tag.write_text(_TAG_TEXT, encoding="ascii")

    def is_ours(self) -> bool:
        """Whether the folder is a speech cache this program made (it carries the tag)."""
        try:
            return (
                (self.folder / CACHEDIR_TAG).read_text(encoding="ascii").startswith(_TAG_SIGNATURE)
            )
        except (OSError, UnicodeDecodeError):
            return False

    def check_writable(self) -> None:
        """Make sure entries can be written here, before any synthesis goes into them.

        Raises
        ------
        CacheError
            The folder cannot be created or written, saying how to get round it.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=scratch_name("probe-"), dir=self.folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise self._error(exc) from None
        self._mark()
        sweep_scratch(self.folder)

    def put(self, key: str, clips: Sequence[np.ndarray], sample_rate_hz: int) -> None:
        """Store ``clips`` (mono, one per sentence) for ``key``, atomically.

        Raises
        ------
        CacheError
            The entry cannot be written (folder, permissions, a full disk).
        SpeechError
            The clips are not what :meth:`get` takes back (:func:`implausible`, or too large):
            refused here, where the engine made them, not when the render reads them back.
        """
        if not clips:
            raise ValueError("a cached passage needs at least one clip")
        arrays = [np.asarray(c, dtype=np.float32).reshape(-1) for c in clips]
        audio = np.concatenate(arrays)
        lengths = np.array([a.size for a in arrays], dtype=np.int64)
        why = implausible(audio, lengths, sample_rate_hz)
        if why is None and audio.nbytes + _HEADERS_BYTES > MAX_ENTRY_BYTES:
            why = f"{audio.nbytes / 2**20:.0f} MiB of audio in one passage"
        if why is not None:
            raise SpeechError(f"the engine's audio cannot be used: {why}")
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._mark()
            # Written at the top of the folder, named for this process, and renamed into its
            # shard: a render killed mid-write leaves scratch that the next one sweeps.
            fd, temp = tempfile.mkstemp(
                prefix=scratch_name("cache-"), suffix=_SUFFIX, dir=self.folder
            )
        except OSError as exc:
            raise self._error(exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    audio=audio,
                    lengths=lengths,
                    sample_rate_hz=np.int64(sample_rate_hz),
                    key=np.array(key),
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise self._error(exc) from None
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def _error(self, exc: OSError) -> CacheError:
        # The file or folder at fault when the system names it (an entry that is a folder, a
        # shard made read-only), else the cache's folder.
        # (os.replace names the entry second: the first is the scratch file it came from.)
        named = exc.filename2 or exc.filename
        where = named if isinstance(named, str) else self.folder
        return CacheError(
            f"{where}: cannot write the speech cache ({exc.strerror or exc}); "
            "choose another --cache-dir, or render with --no-cache"
        )

    def check_folder(self) -> None:
        """Refuse a cache "folder" that is something else (a story passed as --cache-dir).

        Raises
        ------
        CacheError
            Saying what is there instead.
        """
        if self.folder.exists() and not self.folder.is_dir():
            raise CacheError(f"{self.folder}: is a file, not a cache folder; check --cache-dir")

    def exists(self) -> bool:
        """Whether the folder is there (a fresh user's is not, until a first render)."""
        return self.folder.is_dir()

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        # Whatever is not a folder: a FIFO or a link put where an entry goes is cleared too.
        return [p for p in self.folder.glob(f"*/*{_SUFFIX}") if not p.is_dir()]

    def size_bytes(self) -> int:
        """Bytes on disk taken by entries (and any stray temporary files)."""
        total = 0
        for p in self._files():
            try:
                total += p.stat().st_size
            except FileNotFoundError:  # removed by a concurrent clear()
                continue
        return total

    def __len__(self) -> int:
        return sum(1 for p in self._files() if not p.name.startswith(_TEMP_PREFIX))

    def clear(self) -> int:
        """Delete every entry and stray temporary file; returns how many files were removed.

        The shard folders stay: a render writing at the same moment keeps a folder to write in.

        Raises
        ------
        CacheError
            The folder is a file, or is not tagged as a narrator speech cache (``--cache-dir``
            pointed at some other folder): nothing there is deleted.
        """
        self.check_folder()
        default = self.folder.resolve() == default_cache_folder().resolve()
        if not default and self.folder.is_dir() and not self.is_ours():
            raise CacheError(
                f"{self.folder}: not a narrator speech cache (no {CACHEDIR_TAG}); nothing was "
                "deleted. Check --cache-dir"
            )
        removed = 0
        # A folder where an entry goes stops every write there: it goes too.
        for p in self.folder.glob(f"*/*{_SUFFIX}") if self.folder.is_dir() else ():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
                removed += 1
        for p in self._files():
            try:
                p.unlink()
                removed += 1
            except FileNotFoundError:
                continue
        return removed
