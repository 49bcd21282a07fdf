"""The system engine: the platform's voices through pyttsx3 (espeak-ng on Linux).

Every trap measured with pyttsx3 2.99 on espeak-ng is handled here or in
:mod:`narrator.speech.system_worker`:

1. ``runAndWait()`` returns before the WAV exists (nateshmbhat/pyttsx3#219, "Espeak returns
   early") → the worker waits for ``finished-utterance``.
2. Loops in one process lose or empty files and re-creating the engine can segfault → one fresh
   process per batch; every WAV is checked (exists, > 44 bytes, decodes, not silent) and the bad
   ones are synthesized again in a new process, a bounded number of times.
3. An unknown voice silently falls back to the default → voices are checked against the
   driver's own list here, and an unknown one raises :class:`~narrator.errors.VoiceError`.
4. ``getProperty()`` read-back is unreliable → never read back; only ``setProperty``.

A hung process is killed after a timeout; the driver's "Audio saved to …" lines never reach the
user's terminal. Output is mono 16-bit 22050 Hz on espeak-ng; rate 200 ≈ 215 wpm, 120 ≈ 128 wpm.
"""

from __future__ import annotations

import ctypes.util
import difflib
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import soundfile as sf

from narrator.errors import SpeechError, VoiceError
from narrator.speech.base import EngineSpec, module_engine
from soundscapes.errors import brief
from soundscapes.files import scratch_name

DEFAULT_VOICE = "gmw/en-us"
#: espeak's nominal rate in words per minute. Measured at 140, speech alone (edges trimmed)
#: runs at about 153 wpm on the demo story and 175 wpm on short plain sentences, like piper at
#: its sleep default, so the 130 wpm pacing adds pauses of the same size for both engines.
DEFAULT_SETTINGS: dict[str, float | int | str] = {"rate_wpm": 140}
#: The pace the default rate is tuned for, and the rates espeak speaks clearly at.
_TUNED_PACE_WPM = 130.0
_RATE_RANGE_WPM = (80, 300)


#: espeak pitch, 0–99 (its default is 50).
OPTIONAL_SETTINGS: dict[str, type] = {"pitch": int}
#: espeak-ng's own limits: rate 80–450 words per minute (``espeak-ng --help``, ``-s``), pitch
#: 0–99 (``-p``).
SETTING_RANGES: dict[str, tuple[float, float, str]] = {
    "rate_wpm": (80, 450, "words per minute"),
    "pitch": (0, 99, ""),
}
INSTALL_HINT = "install pyttsx3, and on Linux the espeak-ng package (sudo apt install espeak-ng)"

#: Synthesis already runs in a child process per batch, so ``--jobs`` runs that many batches
#: at once from threads of the calling process: a pool of Python workers around them would
#: only add start-up time.
USE_PROCESS_POOL = False

WORKER = Path(__file__).with_name("system_worker.py")
#: Attempts per sentence before giving up (trap 2: 2 of 170 calls wrote an empty WAV).
MAX_ATTEMPTS = 3
#: A batch process gets this long, plus :data:`TIMEOUT_PER_SENTENCE_S` per sentence. espeak
#: runs at about 250× real time, so only a hung process comes near it.
TIMEOUT_BASE_S = 20.0
TIMEOUT_PER_SENTENCE_S = 2.0
INFO_TIMEOUT_S = 30.0
_WAV_HEADER_BYTES = 44
#: A clip whose peak is below this is taken for a failed (silent) synthesis.
SILENT_PEAK = 1e-4


@dataclass(frozen=True)
class DriverInfo:
    """What the pyttsx3 driver on this machine offers."""

    driver: str
    driver_version: str
    pyttsx3_version: str
    voice_ids: tuple[str, ...]
    #: id → (name, languages), used to accept ``en-us`` or ``English (America)`` for an id.
    aliases: tuple[tuple[str, str], ...]
    variants: tuple[str, ...]


def available() -> bool:
    if find_spec("pyttsx3") is None:
        return False
    if sys.platform.startswith("linux"):
        return any(ctypes.util.find_library(name) for name in ("espeak-ng", "espeak"))
    return True


@lru_cache(maxsize=1)
def driver_info() -> DriverInfo:
    """The driver's voices and versions, asked once per process of a child process.

    Raises
    ------
    SpeechError
        The engine is not installed or its driver fails to start.
    """
    if not available():
        raise SpeechError(f"the system speech engine is not installed; {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [sys.executable, str(WORKER), "info"],
            capture_output=True,
            timeout=INFO_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SpeechError("the system speech engine did not start within 30 s") from None
    if done.returncode != 0:
        raise SpeechError(f"the system speech engine failed to start: {_tail(done.stderr)}")
    info = json.loads(done.stdout)
    # Short ids first, then names, then languages: the first voice claiming an alias keeps it.
    aliases: list[tuple[str, str]] = [(v["id"].rsplit("/", 1)[-1], v["id"]) for v in info["voices"]]
    aliases += [(v["name"], v["id"]) for v in info["voices"] if v["name"]]
    aliases += [(lang, v["id"]) for v in info["voices"] for lang in v["languages"] if lang]
    return DriverInfo(
        driver=info["driver"],
        driver_version=info["driver_version"],
        pyttsx3_version=info["pyttsx3"],
        voice_ids=tuple(v["id"] for v in info["voices"]),
        aliases=tuple(aliases),
        variants=tuple(info["variants"]),
    )


def resolve_voice(voice: str) -> str:
    """The driver's id for ``voice``: an id (``gmw/en-us``), its short form (``en-us``), its
    name or language, optionally with an espeak variant (``en-us+f3``).

    Raises
    ------
    VoiceError
        Unknown voice or variant, listing close matches (never a silent fallback: trap 3).
    """
    info = driver_info()
    base, plus, variant = (voice or DEFAULT_VOICE).partition("+")
    resolved = base if base in info.voice_ids else None
    if resolved is None:
        by_alias: dict[str, str] = {}
        for alias, ident in info.aliases:
            by_alias.setdefault(alias.lower(), ident)
        resolved = by_alias.get(base.lower())
    if resolved is None:
        raise VoiceError(
            f"unknown system voice {base!r}; {_close_voices(base, info)}"
            "see them all with: narrator voices --engine system"
        )
    if plus:
        if info.variants and variant not in info.variants:
            close = difflib.get_close_matches(variant, info.variants, n=5, cutoff=0.5)
            hint = f"close matches: {', '.join(close)}" if close else "e.g. +f3 or +m3"
            raise VoiceError(f"unknown espeak variant {variant!r} in {voice!r}; {hint}")
        return f"{resolved}+{variant}"
    return resolved


def _close_voices(query: str, info: DriverInfo) -> str:
    """Voices whose id or name contains ``query``, then spelling neighbours: a hint or ``""``."""
    names = list(dict.fromkeys([*info.voice_ids, *(alias for alias, _ in info.aliases)]))
    needle = query.lower()
    containing = [n for n in names if needle and needle in n.lower()]
    by_lower = {n.lower(): n for n in names}
    similar = difflib.get_close_matches(needle, list(by_lower), n=5, cutoff=0.6)
    close = list(dict.fromkeys([*containing, *(by_lower[n] for n in similar)]))[:6]
    return f"close matches: {', '.join(close)}; " if close else ""


class SystemEngine:
    """Synthesizes each batch of sentences in a fresh child process (see the module docstring)."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.voice = resolve_voice(spec.voice)
        self.rate_wpm = int(spec.setting("rate_wpm", DEFAULT_SETTINGS["rate_wpm"]))
        pitch = spec.setting("pitch")
        self.pitch = None if pitch is None else int(pitch)
        #: espeak-ng always writes 22050 Hz; other drivers set it from their first file.
        self.sample_rate_hz = 22_050
        self._rate_known = False

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """One mono float32 clip per sentence.

        Raises
        ------
        SpeechError
            A sentence still has no real audio after :data:`MAX_ATTEMPTS` fresh processes.
        """
        clips: list[np.ndarray | None] = [None] * len(sentences)
        problems: dict[int, str] = {}
        with tempfile.TemporaryDirectory(prefix=scratch_name("system-", hidden=False)) as folder:
            pending = list(range(len(sentences)))
            for attempt in range(MAX_ATTEMPTS):
                paths = {i: Path(folder) / f"s{i:04d}-{attempt}.wav" for i in pending}
                batch_error, item_errors = self._run_batch(
                    [(sentences[i], str(paths[i])) for i in pending]
                )
                still: list[int] = []
                for i in pending:
                    # A driver error (such as a voice it refused) fails the file even when
                    # audio was written: that audio would be in the wrong voice (trap 3).
                    item_error = item_errors.get(str(paths[i]), "")
                    clip, problem = (None, "") if item_error else self._read(paths[i])
                    if clip is None:
                        problems[i] = "; ".join(x for x in (batch_error, item_error, problem) if x)
                        still.append(i)
                    else:
                        clips[i] = clip
                pending = still
                if not pending:
                    break
        if pending:
            first = pending[0]
            raise SpeechError(
                f"the system voice produced no audio for {brief(sentences[first])} "
                f"after {MAX_ATTEMPTS} attempts ({problems[first]})"
            )
        return [clip for clip in clips if clip is not None]

    def close(self) -> None:
        pass

    def _read(self, path: Path) -> tuple[np.ndarray | None, str]:
        if not self._rate_known:
            try:
                self.sample_rate_hz = int(sf.info(str(path)).samplerate)
                self._rate_known = True
            except (sf.LibsndfileError, RuntimeError, ValueError, OSError):
                pass  # _read_clip says what is wrong with the file
        return _read_clip(path, self.sample_rate_hz)

    def _run_batch(self, items: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
        """Run one child process over ``items``.

        Returns what went wrong with the process (or ``""``) and the driver's errors by file.
        """
        job = {
            "voice": self.voice,
            "rate_wpm": self.rate_wpm,
            "pitch": self.pitch,
            "utterance_timeout_s": TIMEOUT_BASE_S,
            "items": items,
        }
        timeout_s = TIMEOUT_BASE_S + TIMEOUT_PER_SENTENCE_S * len(items)
        try:
            done = subprocess.run(
                [sys.executable, str(WORKER), "synth"],
                input=json.dumps(job).encode("utf-8"),
                capture_output=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:  # subprocess.run has killed the child
            return f"the speech process hung and was stopped after {timeout_s:g} s", {}
        if done.returncode != 0:
            return (
                f"the speech process exited with code {done.returncode}: {_tail(done.stderr)}",
                {},
            )
        try:
            errors = dict(json.loads(done.stdout).get("errors", {}))
        except (ValueError, TypeError, AttributeError):
            return "the speech process gave no result", {}
        return "", {str(path): str(message) for path, message in errors.items()}


def _read_clip(path: Path, sample_rate_hz: int) -> tuple[np.ndarray | None, str]:
    """The clip in ``path`` if it is real audio, else ``(None, why not)``."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None, "no file was written"
    if size <= _WAV_HEADER_BYTES:
        return None, f"an empty {size}-byte WAV was written"
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        return None, f"the WAV does not decode ({exc})"
    if rate != sample_rate_hz:
        return None, f"the WAV is at {rate} Hz, expected {sample_rate_hz} Hz"
    clip = audio.mean(axis=1).astype(np.float32)
    if clip.size == 0 or float(np.max(np.abs(clip))) < SILENT_PEAK:
        return None, "the WAV is silent"
    return clip, ""


def _tail(stderr: bytes, limit: int = 200) -> str:
    text = stderr.decode("utf-8", "replace").strip().splitlines()
    return text[-1][:limit] if text else "no message"


def voices() -> list[str]:
    return list(driver_info().voice_ids)


def version(spec: EngineSpec) -> str:
    info = driver_info()
    return f"pyttsx3=={info.pyttsx3_version};{info.driver}=={info.driver_version}"


def settings_for_pace(pace_wpm: float) -> dict[str, int]:
    """``rate_wpm`` for ``pace_wpm``: espeak's rate is words per minute, so it moves in
    proportion to the pace from the tuned default (140 at 130 wpm)."""
    rate = float(DEFAULT_SETTINGS["rate_wpm"]) * pace_wpm / _TUNED_PACE_WPM
    low, high = _RATE_RANGE_WPM
    return {"rate_wpm": round(min(max(rate, low), high))}


create = SystemEngine

System = module_engine(
    __name__,
    name="system",
    doc="The system voice: pyttsx3 over espeak-ng (Linux), SAPI5 or NSSpeech.",
)
