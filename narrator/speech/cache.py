"""The speech cache: a passage's raw engine clips, stored by the hash of what made them.

Key = sha256 of the JSON of (cache format, engine, voice, sorted settings, engine version,
the passage's sentences). One ``.npz`` per passage holds the sentence clips exactly as the engine
returned them (float32, concatenated, with their lengths) and the sample rate. Cleaning happens
after the cache, so a change to the voice chain or pacing re-synthesizes nothing.

Writes are atomic: a temporary file in the cache folder, then ``os.replace``. Two renders
sharing the folder at once are safe (the last writer wins with identical content), a killed
render leaves at most a stray temporary file (never a corrupt entry), and an entry that cannot
be read anyway is treated as a miss and overwritten.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from narrator.errors import CacheError
from narrator.speech.base import EngineSpec

#: Bump when the stored layout changes, so old entries stop matching.
CACHE_FORMAT = 1
_SUFFIX = ".npz"
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

    def get(self, key: str) -> CachedPassage | None:
        """The entry for ``key``, or ``None`` when it is missing or cannot be read."""
        path = self.path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                audio = np.asarray(data["audio"], dtype=np.float32)
                lengths = np.asarray(data["lengths"], dtype=np.int64)
                rate = int(data["sample_rate_hz"])
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if (
            audio.ndim != 1
            or lengths.ndim != 1
            or lengths.size == 0
            or np.any(lengths < 0)
            or int(lengths.sum()) != audio.size
            or rate <= 0
        ):
            return None
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        clips = [audio[a:b] for a, b in itertools.pairwise(bounds)]
        return CachedPassage(clips=clips, sample_rate_hz=rate)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def check_writable(self) -> None:
        """Make sure entries can be written here, before any synthesis goes into them.

        Raises
        ------
        CacheError
            The folder cannot be created or written, saying how to get round it.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".probe", dir=self.folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise self._error(exc) from None

    def put(self, key: str, clips: Sequence[np.ndarray], sample_rate_hz: int) -> None:
        """Store ``clips`` (mono, one per sentence) for ``key``, atomically.

        Raises
        ------
        CacheError
            The entry cannot be written (folder, permissions, a full disk).
        """
        if not clips:
            raise ValueError("a cached passage needs at least one clip")
        arrays = [np.asarray(c, dtype=np.float32).reshape(-1) for c in clips]
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_SUFFIX, dir=path.parent)
        except OSError as exc:
            raise self._error(exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    audio=np.concatenate(arrays),
                    lengths=np.array([a.size for a in arrays], dtype=np.int64),
                    sample_rate_hz=np.int64(sample_rate_hz),
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
        return CacheError(
            f"{self.folder}: cannot write the speech cache ({exc.strerror or exc}); "
            "choose another --cache-dir, or render with --no-cache"
        )

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.glob(f"*/*{_SUFFIX}") if p.is_file()]

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
        """
        removed = 0
        for p in self._files():
            try:
                p.unlink()
                removed += 1
            except FileNotFoundError:
                continue
        return removed
