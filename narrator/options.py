"""Every option a render takes, declared once: name, kind, unit, range, default, help, and the
places it may be set.

The command line (``narrator render``), a story's front matter and a publishing manifest (its
top level and each ``[[episodes]]`` table) all read options from :data:`OPTIONS`: the same key
means the same thing with the same range everywhere, and the README's option table is written
from it (``tests/test_options.py`` checks that it is). Values are checked where they are
written, with that place in the message (``--pace``, ``story.md:4``, ``podcast.toml: episode
2``), then resolved once into :class:`RenderSettings`, in this order of precedence:

1. the command line;
2. the manifest's episode, then the manifest's top level (for ``narrator batch``);
3. the story's front matter;
4. the defaults below (tuned for sleep).

A voice belongs to its engine: an engine set at a higher place than a voice drops that voice.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from narrator.errors import NarratorError, brief
from soundscapes.output.formats import DEFAULT_FORMAT, formats

CLI, FRONT, MANIFEST = "command line", "front matter", "manifest"
EVERYWHERE = frozenset({CLI, FRONT, MANIFEST})


class OptionError(NarratorError, ValueError):
    """An option with a bad name or value; the message says where and how to fix it."""


@dataclass(frozen=True, kw_only=True)
class Option:
    """One render option."""

    key: str
    """Its name in front matter and manifests (``pace``); the flag is ``--`` + it (``--pace``)."""
    field: str
    """The attribute of :class:`RenderSettings` it sets (``pace_wpm``)."""
    kind: str
    """``float``, ``int``, ``bool``, ``text``, ``path``, ``voice`` (text, but a ``.onnx`` voice
    file is a path), ``choice``, ``format`` (a registered output format), ``loudness`` or
    ``settings`` (engine settings, ``KEY=VALUE``)."""
    default: Any
    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    places: frozenset[str] = EVERYWHERE
    short: str | None = None
    """A one-letter flag (``-o``)."""
    metavar: str | None = None
    default_text: str | None = None
    """How the README and ``--help`` show the default, when the value does not say it."""

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    def describe_range(self) -> str:
        if self.kind == "format":  # whatever is registered now (soundscapes.output.formats)
            return ", ".join(formats())
        if self.choices:
            return ", ".join(self.choices)
        if self.low is None:
            return ""
        unit = f" {self.unit}" if self.unit else ""
        if self.high is None or self.high >= 2**31:
            return f"{self.low:g}{unit} or more"
        return f"{self.low:g} to {self.high:g}{unit}"


def _o(key: str, field_name: str, kind: str, default: Any, text: str, **extra: Any) -> Option:
    return Option(key=key, field=field_name, kind=kind, default=default, help=text, **extra)


#: Every render option, in the order ``--help`` and the README show them.
OPTIONS: tuple[Option, ...] = (
    _o("output", "output", "path", None, "output file; its suffix picks the format",
       places=frozenset({CLI}), short="-o", default_text="out/STORY.mp3 (stdin.mp3 for -)"),
    _o("format", "fmt", "format", None, "output format",
       default_text=f"from -o, else {DEFAULT_FORMAT}"),
    _o("engine", "engine", "text", "piper",
       "speech engine: piper (natural, neural), kokoro (Kokoro-82M, neural, slower), "
       "system (espeak-ng), fake (test tones)"),
    _o("voice", "voice", "voice", None,
       "a Piper .onnx voice file, a Kokoro voice or blend (af_heart:0.7,af_bella:0.3), "
       "or a system voice id (narrator voices)",
       default_text="the engine's"),
    _o("pace", "pace_wpm", "float", 130.0,
       "words per minute over the whole narration, pauses included; the voice's own rate "
       "follows it and the pauses make up the rest", unit="wpm", low=60, high=220),
    _o("setting", "engine_settings", "settings", (),
       "an engine setting KEY=VALUE, repeatable, checked against its range: piper "
       "length_scale, noise_scale, noise_w_scale, speaker, speaker_id; kokoro speed, lang, "
       "model, voices; system rate_wpm, pitch",
       metavar="KEY=VALUE", default_text="—"),
    _o("slow_down", "slow_down", "float", 0.2,
       "pauses grow from the first passage to the last, same overall pace", low=0, high=0.5),
    _o("loudness", "loudness", "loudness", "sleep",
       "sleep (-20 LUFS, -2 dBTP), podcast (-16, -1), broadcast (-23, -1), or LUFS"),
    _o("bitrate", "bitrate_kbps", "int", None,
       "kb/s for MP3, Opus and M4B (Ogg Vorbis keeps its quality); makes MP3 constant-rate",
       unit="kb/s", low=32, high=320,
       default_text="VBR"),
    _o("tail", "tail_s", "float", 180.0,
       "seconds of ambience after the last word (slow fade-out); 0 ends with the last word",
       unit="s", low=0, high=4 * 3600),
    _o("intro", "intro_s", "float", 8.0, "seconds of ambience before the first word",
       unit="s", low=0, high=600),
    _o("crossfade", "crossfade_s", "float", 8.0, "seconds each change of scene takes",
       unit="s", low=0, high=60),
    _o("seed", "seed", "int", 0, "the soundscape's seed: same story and seed, same sound",
       low=0, high=2**63 - 1),
    _o("arc", "arc", "bool", True,
       "the sleep arc: the voice 2 dB softer by the end, the ambience darker and slower"),
    _o("scene", "scene", "text", None,
       "one scene under the whole story (cues in the text still win)",
       default_text="from the words"),
    _o("scenes", "scenes_file", "path", None,
       "your own scenes (TOML), usable in cues, front matter and --scene"),
    _o("plan", "plan", "path", None, "an edited scene plan (narrator plan) to render",
       places=frozenset({CLI, MANIFEST})),
    _o("lexicon", "lexicon", "path", None, 'a pronunciation file (TOML: Nyx = "nicks")'),
    _o("plot", "plot", "bool", False,
       "also write OUT.png (loudness over time, chapter and scene markers) and "
       "OUT.stages.png (when each render stage ran)"),
    _o("page", "page", "bool", False,
       "also write OUT.html: a listening page (player, chapters, transcript, scenes, loudness, "
       "the report's figures) that works offline"),
    _o("stems", "stems", "bool", False,
       "also keep the un-mastered voice and ambience stems, OUT.voice.wav and "
       "OUT.ambience.wav (float WAV)", places=frozenset({CLI, MANIFEST})),
    _o("keep_mix", "keep_mix", "path", None,
       "also keep the un-mastered mix here (float WAV), to master it yourself",
       places=frozenset({CLI})),
    _o("jobs", "jobs", "int", None, "speech worker processes (one inference thread each), "
       "at most one per core", low=1, high=4096, places=frozenset({CLI}),
       default_text="all cores"),
    _o("cache_dir", "cache_dir", "path", None,
       "where synthesized speech is kept (batch --scheduler: a folder every worker mounts)",
       places=frozenset({CLI, MANIFEST}), default_text="user cache"),
    _o("cache", "use_cache", "bool", True, "read and write the speech cache",
       places=frozenset({CLI})),
)  # fmt: skip

BY_KEY: dict[str, Option] = {o.key: o for o in OPTIONS}
BY_FIELD: dict[str, Option] = {o.field: o for o in OPTIONS}


def keys_for(place: str) -> tuple[str, ...]:
    """The option keys that may be set at ``place`` (:data:`CLI`, :data:`FRONT`,
    :data:`MANIFEST`)."""
    return tuple(o.key for o in OPTIONS if place in o.places)


# --- checking one value -----------------------------------------------------------------------


def check_value(option: Option, raw: Any, where: str, *, base: Path | None = None) -> Any:
    """``raw`` as ``option``'s kind, in range; paths relative to ``base``.

    ``raw`` may be text (the command line) or a TOML/YAML value (a manifest, front matter).

    Raises
    ------
    OptionError
        ``{where}: {key} must be …, got …``.
    """
    key = option.key
    # On the command line the flag names the option; elsewhere the place and the key do.
    subject = where if where == option.flag else f"{where}: {key}"

    def bad(expected: str) -> OptionError:
        shown = int(raw) if isinstance(raw, float) and raw.is_integer() else raw
        return OptionError(f"{subject} must be {expected}, got {brief(shown)}")

    kind = option.kind
    if kind in ("float", "int"):
        number = _number(raw, integer=kind == "int")
        extent = option.describe_range()
        if number is None:
            what = "a whole number" if kind == "int" else "a number"
            raise bad(f"{what} from {extent}" if " to " in extent else what)
        high = math.inf if option.high is None else option.high
        if option.low is not None and not option.low <= number <= high:
            if number > high and " to " not in extent:  # a bound too big for the help's text
                raise bad(f"from {option.low:g} to {option.high:,}")
            raise bad(f"from {extent}" if " to " in extent else extent)
        return number
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise bad("true or false")
    if kind in ("choice", "format"):
        choices = tuple(formats()) if kind == "format" else option.choices
        text = str(raw).strip().lower() if isinstance(raw, str) else None
        if text not in choices:
            close = difflib.get_close_matches(str(raw), choices, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise bad(f"one of {option.describe_range()}{hint}")
        return text
    if kind == "loudness":
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise bad('a preset name or LUFS (e.g. "sleep" or -18)')
        from soundscapes.errors import SoundscapeError
        from soundscapes.output.master import parse_target

        try:
            parse_target(str(raw))
        except SoundscapeError as exc:
            raise OptionError(f"{subject}: {exc}") from None
        return str(raw).strip()
    if kind == "settings":
        return _settings(raw, where)
    if kind == "path" and isinstance(raw, Path):
        path = raw.expanduser()
        return path if base is None or path.is_absolute() else base / path
    if isinstance(raw, bool) or not isinstance(raw, str | int | float) or not str(raw).strip():
        raise bad("text (in quotes)")
    if kind == "path":
        path = Path(str(raw)).expanduser()
        return path if base is None or path.is_absolute() else base / path
    text = str(raw).strip()
    if kind == "voice" and text.endswith(".onnx") and base is not None:
        # A piper voice file is read relative to the story or manifest that names it, as
        # its lexicon and cover are; a voice name (``af_heart``, ``gmw/en-us``) is kept.
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else base / path)
    return text


def _number(raw: Any, *, integer: bool) -> float | int | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw) if not isinstance(raw, int | float) else raw
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    if integer:
        if not float(value).is_integer():
            return None
        return int(value)
    return float(value)


def _settings(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """Engine settings from ``KEY=VALUE`` text (repeatable on the command line) or a table."""
    if isinstance(raw, Mapping):
        items = [(str(k).strip(), str(v).strip()) for k, v in raw.items()]
    else:
        texts = [raw] if isinstance(raw, str) else list(raw)
        items = []
        for item in texts:
            if isinstance(item, tuple | list) and len(item) == 2:  # already a pair
                items.append((str(item[0]).strip(), str(item[1]).strip()))
                continue
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise OptionError(
                    f"{where}: setting {brief(item)} must be KEY=VALUE, e.g. length_scale=1.5"
                )
            items.append((key.strip(), value.strip()))
    return tuple(items)


def closest(word: str, names: Sequence[str]) -> list[str]:
    """The names closest to a mistyped ``word``: every one of them when several are equally
    close, in ``names``' order ("pase" is as close to pace as to page)."""
    word = word[:40]
    matches = difflib.get_close_matches(word, names, n=5)
    if not matches:
        return []
    ratios = {n: difflib.SequenceMatcher(None, word, n).ratio() for n in matches}
    best = max(ratios.values())
    return [n for n in names if ratios.get(n) == best]


def did_you_mean(names: Sequence[str]) -> str:
    """``did you mean 'pace' or 'page'?``"""
    return "did you mean " + " or ".join(repr(n) for n in names) + "?"


def check_table(
    raw: Mapping[str, Any],
    place: str,
    where: str,
    *,
    base: Path | None = None,
    ignore: Iterable[str] = (),
) -> dict[str, Any]:
    """The options in a front-matter or manifest table, checked; other keys are the caller's
    (``ignore``) or an error with the closest valid names."""
    allowed = keys_for(place)
    ignored = set(ignore)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ignored:
            continue
        if key not in allowed:
            known = [*allowed, *ignored]
            close = closest(str(key), known)
            hint = did_you_mean(close) if close else f"known keys: {', '.join(known)}"
            if key in BY_KEY:
                hint = f"{key} cannot be set in {place}"
            raise OptionError(f"{where}: unknown key {brief(key)}; {hint}")
        if value is None:
            continue
        out[key] = check_value(BY_KEY[key], value, where, base=base)
    return out


# --- resolving --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RenderSettings:
    """Every option's value for one render, resolved (see the module docstring)."""

    output: Path | None = None
    fmt: str | None = None
    engine: str = "piper"
    voice: str | None = None
    pace_wpm: float = 130.0
    engine_settings: tuple[tuple[str, str], ...] = ()
    slow_down: float = 0.2
    loudness: str = "sleep"
    bitrate_kbps: int | None = None
    tail_s: float = 180.0
    intro_s: float = 8.0
    crossfade_s: float = 8.0
    seed: int = 0
    arc: bool = True
    scene: str | None = None
    scenes_file: Path | None = None
    plan: Path | None = None
    lexicon: Path | None = None
    plot: bool = False
    page: bool = False
    stems: bool = False
    keep_mix: Path | None = None
    jobs: int | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    #: Where each option's value came from (a place, or "default"), for the report.
    sources: dict[str, str] = field(default_factory=dict, compare=False)


def _check_defaults() -> None:
    declared = {o.field: o.default for o in OPTIONS}
    settings_fields = {f.name for f in fields(RenderSettings)} - {"sources"}
    assert settings_fields == set(declared), settings_fields ^ set(declared)
    for f in fields(RenderSettings):
        if f.name in declared:
            assert f.default == declared[f.name], f.name


_check_defaults()


#: Options that say where files go or how this machine works, not how the render sounds:
#: left out of the report's settings (which must not carry this machine's paths either).
NOT_HEARD = frozenset({"output", "plot", "page", "stems", "keep_mix", "jobs", "cache_dir", "cache"})


def heard_settings(settings: RenderSettings) -> dict[str, dict[str, Any]]:
    """The options that shape the sound, each as ``{"value", "from"}`` (a place or
    ``default``), for the report: files by their name alone."""
    out: dict[str, dict[str, Any]] = {}
    for option in OPTIONS:
        if option.key in NOT_HEARD:
            continue
        value = getattr(settings, option.field)
        if isinstance(value, Path):
            value = value.name
        elif option.kind == "voice" and str(value).endswith(".onnx"):  # a voice file, too
            value = Path(str(value)).name
        elif isinstance(value, tuple):
            value = dict(value)
        out[option.key] = {"value": value, "from": settings.sources.get(option.key, "default")}
    return out


def resolve(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> RenderSettings:
    """Resolve checked option values, highest precedence first: ``[(place, {key: value}),
    …]`` (e.g. the command line, the episode, the manifest, the front matter)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    engine_place: int | None = None
    for rank, (place, table) in enumerate(layers):
        for key, value in table.items():
            option = BY_KEY[key]
            if option.field in values or value is None:
                continue
            if key == "voice" and engine_place is not None and engine_place < rank:
                continue  # a voice belongs to its engine: this one is another engine's
            values[option.field] = value
            sources[key] = place
            if key == "engine":
                engine_place = rank
    return RenderSettings(**values, sources=sources)
