"""The kokoro engine: Kokoro-82M through kokoro-onnx, the voice abogen, audiblez and epub2tts use.

Facts used here were measured on the project's machines (kokoro-onnx 0.6.1, the int8 v1.0 model,
onnxruntime 1.32 on 2 cores, Xeon without AVX2 and EPYC with it; tests/benchmarks/BENCHMARKS.md):

- Voices: a name from the voices file (:mod:`narrator.speech.kokoro_files` finds it), or a
  blend ``af_heart:0.7,af_bella:0.3``: the weighted sum of the voices' style packs, weights
  scaled to sum to 1 (kokoro-onnx's own blending example adds packs the same way). A blend
  of jm_kumo 0.7 and jf_alpha 0.3 spoke at a median 138 Hz, between kumo's 96 and alpha's 261.
- Text goes in one sentence at a time with ``lang="en-us"`` (``en-gb`` for a British voice)
  through espeak-ng phonemes. The model's own pauses only fall where kokoro-onnx cuts text
  longer than 510 phonemes, so narrator's pacing adds the pauses, as for piper.
- Pace: speech alone is linear in ``speed`` (within 3 % from 0.5 to 1.0, a little under it at
  1.2): 177 wpm per unit with kokoro-onnx's own trimming, 186–203 wpm per unit once the clean
  voice has trimmed the clips (measured on the narration tests' sentences: 149 wpm at 0.8,
  183 at 0.9). ``speed`` 0.85 at the 130 wpm default puts speech alone at about 160–170 wpm,
  like piper's default, and the pauses make up the rest. kokoro-onnx refuses speeds outside
  0.5–2.0, so below about 77 wpm of ``--pace`` the pauses alone slow it further.
- Output is bit-identical run to run and across thread counts, so the cache and resuming
  compare bytes. Peaks reach 1.25 (float): the clean voice level-matches before any
  conversion, never clipping raw.
- One intra-op and one inter-op thread per process, as for piper (two threads gained nothing
  on a busy 2-core host): ``--jobs`` runs one such worker per core. Each peaks at 0.7–1.2 GB.
  The CPU time is about 0.75–0.8 s per second of speech, about 8 times piper's.
- onnxruntime's CUDA provider is used when the installed onnxruntime offers it (the
  ``onnxruntime-gpu`` build); the CPU provider otherwise.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from narrator.errors import SpeechError, VoiceError, brief
from narrator.speech.base import EngineSpec, dist_version, import_library, module_engine
from narrator.speech.filehash import file_sha256
from narrator.speech.kokoro_files import (
    ENGLISH_VOICES_HINT,
    HOW_TO_GET,
    find_model,
    find_voices,
    is_english,
    language,
    languages_summary,
    voice_names,
    voice_pack,
)
from narrator.speech.onnx_session import one_thread_session

#: The most intelligible of the packaged (Japanese) voices read in English: Whisper tiny.en
#: word error 0.014 on a 216-word passage at speed 0.8, against 0.012–0.049 for the others
#: on 81 words (jf_alpha worst); 0.057 on the demo story's first 210 words at 0.85.
DEFAULT_VOICE = "jm_kumo"
SAMPLE_RATE_HZ = 24_000
#: Speed at the tuned pace (module docstring).
DEFAULT_SETTINGS: dict[str, float | int | str] = {"speed": 0.85}
#: ``lang``: espeak-ng's English for the phonemes (default en-gb for a British voice, else
#: en-us); ``model``, ``voices``: files to use before any other (kokoro_files' search order).
OPTIONAL_SETTINGS: dict[str, type] = {"lang": str, "model": str, "voices": str}
SETTING_RANGES: dict[str, tuple[float, float, str]] = {
    "speed": (0.5, 2.0, "(1 is the voice's own speed, higher is faster)"),
}
LANGS = ("en-us", "en-gb")
_TUNED_PACE_WPM = 130.0
#: What kokoro-onnx accepts (it raises outside it).
_SPEED_RANGE = SETTING_RANGES["speed"][:2]
INSTALL_HINT = f"install it with: {HOW_TO_GET}"
_LIBRARIES = ("kokoro_onnx", "onnxruntime", "phonemizer", "espeakng_loader")
_CUDA = "CUDAExecutionProvider"


def available() -> bool:
    """Whether kokoro-onnx and its phonemizer are installed (found, not imported); the model
    and voices are looked for when a spec is checked, which says where it looked."""
    return all(find_spec(name) is not None for name in _LIBRARIES)


def settings_for_pace(pace_wpm: float) -> dict[str, float]:
    """``speed`` for ``pace_wpm``: Kokoro's rate is proportional to it (module docstring)."""
    speed = float(DEFAULT_SETTINGS["speed"]) * pace_wpm / _TUNED_PACE_WPM
    low, high = _SPEED_RANGE
    return {"speed": round(min(max(speed, low), high), 2)}


def parse_voice(voice: str) -> list[tuple[str, float]]:
    """``[(name, weight)]`` of ``jm_kumo`` or a blend ``af_heart:0.7,af_bella:0.3``, weights
    scaled to sum to 1 (a name without a weight weighs 1; a name given twice adds up).

    Raises
    ------
    VoiceError
        An empty name, or a weight that is not a number of 0 or more, or weights summing to 0.
    """
    weights: dict[str, float] = {}
    for item in (voice or DEFAULT_VOICE).split(","):
        name, colon, weight_text = (part.strip() for part in item.partition(":"))
        if not name:
            raise VoiceError(
                f"Kokoro voice {brief(voice)} has an empty name; write a voice or a blend like "
                "af_heart:0.7,af_bella:0.3"
            )
        try:
            weight = float(weight_text) if colon else 1.0
        except ValueError:
            weight = math.nan
        if not (math.isfinite(weight) and weight >= 0):
            raise VoiceError(
                f"Kokoro voice {brief(voice)}: the weight of {brief(name)} must be a number of 0 "
                "or more, as in af_heart:0.7,af_bella:0.3"
            )
        weights[name] = weights.get(name, 0.0) + weight
    total = sum(weights.values())
    if total <= 0:
        raise VoiceError(f"Kokoro voice {brief(voice)}: the weights add up to 0")
    # By name: the same blend written in another order is the same voice, one cache key.
    return sorted((name, weight / total) for name, weight in weights.items() if weight > 0)


def resolve_voice(voice: str) -> str:
    """The canonical form of a voice or blend: ``jm_kumo``, ``jm_kumo:0.7,jf_alpha:0.3``.
    Names are checked against the voices file with the settings (:func:`check_names`)."""
    parts = parse_voice(voice)
    if len(parts) == 1:
        return parts[0][0]
    return ",".join(f"{name}:{round(weight, 4):g}" for name, weight in parts)


def check_names(voice: str, voices_path: Path, *, packaged: bool) -> None:
    """Every voice ``voice`` names is in the voices file.

    Raises
    ------
    VoiceError
        An unknown name, with the close ones, or an English voice asked of the packaged
        (Japanese) voices, saying where the English ones come from.
    """
    known = voice_names(voices_path)
    for name, _ in parse_voice(voice):
        if name in known:
            continue
        if packaged and is_english(name):
            raise VoiceError(
                f"Kokoro voice {name} is not among the packaged voices (Japanese only: "
                f"{', '.join(known)}); {ENGLISH_VOICES_HINT}"
            )
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        hint = f"close matches: {', '.join(close)}; " if close else ""
        raise VoiceError(
            f"unknown Kokoro voice {brief(name)} in {voices_path.name}; {hint}"
            "see them all with: narrator voices --engine kokoro"
        )


def lang_for(spec: EngineSpec) -> str:
    """espeak-ng's language for the phonemes: the setting, else British English for a blend
    led by a British voice (``b…``), else American English."""
    lang = spec.setting("lang")
    if lang:
        return str(lang)
    name, _ = max(parse_voice(spec.voice), key=lambda part: part[1])
    return "en-gb" if language(name) == "British English" else "en-us"


def canonical_settings(
    voice: str, settings: dict[str, float | int | str]
) -> dict[str, float | int | str]:
    """Files made absolute (a worker or a re-render finds the same ones), ``lang`` checked,
    and every voice named checked against the voices file these settings find.

    Raises
    ------
    SpeechError
        A file that does not exist, no model or voices found, or an unknown ``lang``.
    VoiceError
        A voice the voices file does not have.
    """
    out = dict(settings)
    for key in ("model", "voices"):
        if key in out:
            out[key] = str(Path(str(out[key])).expanduser().absolute())
    lang = out.get("lang")
    if lang is not None and str(lang) not in LANGS:
        close = difflib.get_close_matches(str(lang).lower(), LANGS, n=1, cutoff=0.4)
        hint = f"did you mean {close[0]}? " if close else ""
        raise SpeechError(
            f"setting lang={brief(lang)} of the kokoro engine: {hint}use one of: {', '.join(LANGS)}"
        )
    find_model(_text(out.get("model")), build=False)  # no model is said before voices
    voices = find_voices(_text(out.get("voices")))
    check_names(voice, voices.path, packaged=voices.packaged)
    return out


def check(spec: EngineSpec) -> None:
    """Find the model (rebuilding the packaged one now, in this process, before any worker
    starts) and the voices, and check the voice's names against them.

    Raises
    ------
    SpeechError
        No model or voices, or a damaged packaged model.
    VoiceError
        A voice the voices file does not have.
    """
    canonical_settings(spec.voice, dict(spec.settings))
    find_model(_text(spec.setting("model")))


def version(spec: EngineSpec) -> str:
    """kokoro-onnx's, phonemizer's and espeak-ng's versions, the model's and voices' sha256,
    and the GPU when it runs there (its floating point may differ from the CPU's)."""
    model = find_model(_text(spec.setting("model")))
    voices = find_voices(_text(spec.setting("voices")))
    parts = [
        f"kokoro-onnx=={dist_version('kokoro-onnx')}",
        f"phonemizer=={dist_version('phonemizer')}",
        f"espeakng-loader=={dist_version('espeakng-loader')}",
        f"model={file_sha256(model.path)[:16]}",
        f"voices={file_sha256(voices.path)[:16]}",
    ]
    if providers()[0] == _CUDA:
        parts.append("cuda")
    return ";".join(parts)


def providers() -> list[str]:
    """onnxruntime's CUDA provider first when this onnxruntime has it, else the CPU alone."""
    import onnxruntime

    if _CUDA in onnxruntime.get_available_providers():
        return [_CUDA, "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def warnings(spec: EngineSpec) -> list[str]:
    """One line when the voice (or part of a blend) was made for another language."""
    foreign = [name for name, _ in parse_voice(spec.voice) if not is_english(name)]
    if not foreign:
        return []
    named = ", ".join(f"{name} ({language(name) or 'unknown language'})" for name in foreign)
    try:
        packaged = find_voices(_text(spec.setting("voices"))).packaged
    except SpeechError:
        packaged = False
    hint = f"; {ENGLISH_VOICES_HINT}" if packaged else ""
    voice, was = ("voice", "was") if len(foreign) == 1 else ("voices", "were")
    return [
        f"Kokoro {voice} {named} {was} made for another language: it reads this English story "
        f"with that accent{hint}"
    ]


def describe() -> list[str]:
    """Where the model and voices come from (without rebuilding anything), and the voices'
    languages, for ``narrator voices``."""
    lines = []
    try:
        model = find_model(build=False)
        built = "" if model.path.is_file() else "; rebuilt from its parts on first use"
        lines.append(f"model: {model.path} ({model.source}{built})")
        voices = find_voices()
        names = voice_names(voices.path)
        lines.append(f"voices: {voices.path} ({voices.source}; {languages_summary(names)})")
        if voices.packaged:
            lines.append(f"the packaged voices read English with an accent; {ENGLISH_VOICES_HINT}")
    except SpeechError as exc:
        lines.append(str(exc))
    lines.append("runs on: " + ", ".join(providers()))
    return lines


def voices() -> list[str]:
    """The voices in the voices file found without settings; none when there is none."""
    try:
        return list(voice_names(find_voices().path))
    except SpeechError:
        return []


class KokoroEngine:
    """One loaded Kokoro model and voice (style); synthesizes sentence by sentence."""

    def __init__(self, spec: EngineSpec) -> None:
        kokoro_onnx = import_library("kokoro_onnx", engine="kokoro", install_hint=INSTALL_HINT)
        self.spec = spec
        model = find_model(_text(spec.setting("model")))
        voices = find_voices(_text(spec.setting("voices")))
        check_names(spec.voice, voices.path, packaged=voices.packaged)
        try:
            session = one_thread_session(model.path, providers())
        except Exception as exc:  # onnxruntime raises its own, untyped errors
            raise SpeechError(f"Kokoro model {model.path} cannot be loaded: {exc}") from None
        try:  # reads the voices and starts espeak-ng for the phonemes
            self._kokoro = kokoro_onnx.Kokoro.from_session(session, str(voices.path))
        except Exception as exc:  # kokoro-onnx and phonemizer raise their own errors
            raise SpeechError(
                f"Kokoro cannot start with the voices {voices.path} (or espeak-ng): {exc}"
            ) from None
        self._style = blend(voices.path, spec.voice)
        self.speed = float(spec.setting("speed", DEFAULT_SETTINGS["speed"]))
        self.lang = lang_for(spec)
        self.sample_rate_hz = SAMPLE_RATE_HZ

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """One mono float32 clip per sentence, at :attr:`sample_rate_hz`."""
        return [self._sentence(text) for text in sentences]

    def close(self) -> None:
        self._kokoro = None  # type: ignore[assignment]

    def _sentence(self, text: str) -> np.ndarray:
        try:
            audio, rate = self._kokoro.create(
                text, voice=self._style, speed=self.speed, lang=self.lang
            )
        except Exception as exc:  # kokoro-onnx raises ValueError, onnxruntime its own
            raise SpeechError(f"kokoro failed on {brief(text)}: {exc}") from exc
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if rate != SAMPLE_RATE_HZ or audio.size == 0 or not np.all(np.isfinite(audio)):
            raise SpeechError(f"kokoro produced no usable audio for {brief(text)}")
        return audio


def blend(voices_path: Path, voice: str) -> np.ndarray:
    """The style pack of a voice or blend: the weighted sum of the voices' packs."""
    parts = parse_voice(voice)
    packs = [voice_pack(voices_path, name) for name, _ in parts]
    style = np.zeros_like(packs[0])
    for (name, weight), pack in zip(parts, packs, strict=True):
        if pack.shape != style.shape:
            raise VoiceError(
                f"Kokoro voice {name} has {pack.shape[0]} styles, {parts[0][0]} has "
                f"{style.shape[0]}: they cannot be blended"
            )
        style += np.float32(weight) * pack
    return style


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


create = KokoroEngine

Kokoro = module_engine(
    __name__,
    name="kokoro",
    doc="Kokoro-82M (kokoro-onnx): the packaged int8 model, or the user's model and voices.",
)
