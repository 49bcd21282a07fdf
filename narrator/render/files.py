"""What a render reads and writes on disk: every input and output by role (so none lands on
another), the scratch stems while it mixes, what ``--stems`` and ``--keep-mix`` keep, the
speech cache it uses, and the disk space all of that needs."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from narrator.errors import RenderError
from narrator.options import RenderSettings
from narrator.page.markup import GENERATOR_MARK
from narrator.render.sidecars import cover_path, sidecar_path
from narrator.speech import SpeechCache
from narrator.text.script import Script
from soundscapes.files import (
    OutputClashError,
    file_head,
    human_duration,
    human_size,
    is_audio_file,
    scratch_name,
    short_of_space,
    space_shortfall,
)
from soundscapes.output.export import FloatWav, atomic_path
from soundscapes.output.formats import DEFAULT_FORMAT, get_format
from soundscapes.scene import Scene
from soundscapes.source import SAMPLE_RATE_HZ


def default_output(story: Path, fmt: str = DEFAULT_FORMAT) -> Path:
    """``out/<story stem>.<suffix>`` (``out/stdin.mp3`` for standard input: ``story`` was the
    render of a ``story.txt`` too, and was replaced without a word)."""
    stem = "stdin" if str(story) == "-" else story.stem
    return Path("out") / f"{stem}{get_format(fmt).suffix}"


def render_outputs(
    output: Path,
    *,
    plot: bool = False,
    page: bool = False,
    stems: bool = False,
    keep_mix: Path | None = None,
) -> list[tuple[str, Path]]:
    """Every file a render writes, as ``(role, path)``: the audio and each sidecar."""
    outputs = [
        ("output", output),
        ("report", sidecar_path(output, ".report.json")),
        ("transcript", sidecar_path(output, ".vtt")),
        ("chapters file", sidecar_path(output, ".chapters.json")),
    ]
    if plot:
        outputs.append(("loudness plot", sidecar_path(output, ".png")))
        outputs.append(("stage timeline", sidecar_path(output, ".stages.png")))
    if page:
        outputs.append(("listening page", sidecar_path(output, ".html")))
    if stems:
        outputs += [(f"{name} stem", path) for name, path in stem_paths(output).items()]
    if keep_mix is not None:
        outputs.append(("kept mix", keep_mix))
    return outputs


#: Roles whose files are audio (checked as such by ``check_outputs``).
AUDIO_ROLES = ("output", "kept mix", "voice stem", "ambience stem")


def written_by_narrator(path: Path) -> bool:
    """Whether the sidecar at ``path`` is one narrator wrote, by what its kind starts with: a
    file of the user's that is only named like one (``night.mp3.html``, ``night.mp3.vtt``) is
    neither replaced nor removed."""
    head = file_head(path)
    if head is None:
        return False
    if not head:
        return True  # empty: nothing of the user's to lose
    name = path.name
    if name.endswith(".report.json"):
        return head.lstrip().startswith(b"{") and b'"output"' in head[:200]
    if name.endswith(".chapters.json"):
        return b'"version"' in head and b'"chapters"' in head
    if name.endswith(".vtt"):
        return head.removeprefix(b"\xef\xbb\xbf").startswith(b"WEBVTT")
    if name.endswith(".png"):  # matplotlib's, with its Software text chunk
        return head.startswith(b"\x89PNG") and b"Matplotlib" in head
    if name.endswith(".html"):
        return GENERATOR_MARK.encode() in head
    return False


def check_sidecars(outputs: list[tuple[str, Path]]) -> None:
    """Refuse, before any work, to replace a file of the user's named like a sidecar.

    Raises
    ------
    OutputClashError
        Naming the file and how to keep it.
    """
    for role, path in outputs:
        if role in AUDIO_ROLES or not path.is_file() or written_by_narrator(path):
            continue
        raise OutputClashError(
            f"{path}: that file is there and narrator did not write it; the {role} would "
            "replace it: move it, or choose another output path (-o)"
        )


def remove_stale_sidecars(
    output: Path, outputs: list[tuple[str, Path]], inputs: list[tuple[str, Path]]
) -> list[Path]:
    """Remove what an earlier render of ``output`` wrote beside it and this one did not (a
    plot, a listening page, stems, from --plot, --page, --stems then): left, they would show
    a transcript, levels and sound of audio that is gone; only what narrator wrote. Returns
    what went."""
    kept = {Path(path).resolve() for _, path in (*outputs, *inputs) if str(path) != "-"}
    every = render_outputs(output, plot=True, page=True, stems=True)
    removed = []
    for role, path in every:
        if (
            path.resolve() not in kept
            and path.is_file()
            and not path.is_symlink()
            and (is_audio_file(path) if role in AUDIO_ROLES else written_by_narrator(path))
        ):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def render_inputs(
    story: Path, settings: RenderSettings, script: Script, user_scenes: dict[str, Scene]
) -> list[tuple[str, Path]]:
    """Every file a render reads, as ``(role, path)``."""
    from soundscapes.recording import is_recording_name, recording_path

    inputs: list[tuple[str, Path]] = []
    if str(story) != "-":
        inputs.append(("story", story))
    for role, path in (
        ("lexicon", settings.lexicon),
        ("plan", settings.plan),
        ("scene file", settings.scenes_file),
        ("cover", cover_path(story, script.meta.cover) if script.meta.cover else None),
    ):
        if path is not None:
            inputs.append((role, Path(path)))
    for scene in user_scenes.values():
        inputs += [
            ("recording", recording_path(layer.name))
            for layer in scene.layers
            if is_recording_name(layer.name)
        ]
    if settings.voice and Path(settings.voice).suffix == ".onnx":
        inputs.append(("voice", Path(settings.voice)))
    return inputs


@contextlib.contextmanager
def speech_cache(settings: RenderSettings) -> Iterator[SpeechCache]:
    """The speech cache the render uses: the user's, or a scratch one with ``--no-cache``."""
    if settings.use_cache:
        yield SpeechCache(settings.cache_dir) if settings.cache_dir else SpeechCache()
    else:
        with tempfile.TemporaryDirectory(prefix=scratch_name("speech-", hidden=False)) as tmp:
            yield SpeechCache(Path(tmp))


#: Scratch bytes per frame while mixing: the mono voice and stereo ambience, float32.
_SCRATCH_BYTES_PER_FRAME = 4 + 8


def check_space(folder: Path, frames: int, fmt: str, *, kept_wavs: int) -> None:
    """Fail before mixing, with what is needed, when the output's disk cannot hold the
    scratch stems, the output and anything kept (the speech is cached: nothing is lost)."""
    seconds = frames / SAMPLE_RATE_HZ
    needed = frames * (_SCRATCH_BYTES_PER_FRAME + 8 * kept_wavs)
    needed += seconds * get_format(fmt).bytes_per_s
    free = short_of_space(folder, needed)
    if free is not None:
        raise RenderError(
            f"{folder}: a render of {human_duration(seconds)} needs about "
            f"{human_size(needed)} free there while it mixes {space_shortfall(needed, free)}; "
            "free some space or choose an -o folder on another disk"
        )


def stem_paths(output: Path) -> dict[str, Path]:
    return {name: sidecar_path(output, f".{name}.wav") for name in ("voice", "ambience")}


class KeptStems:
    """Writers for what ``--keep-mix`` and ``--stems`` keep: the un-mastered mix and its two
    stems as float WAVs, written during the first mastering pass and put in place (each
    atomically) only when the render succeeds."""

    def __init__(self, mix: Path | None, stems: dict[str, Path] | None, frames: int) -> None:
        self._wanted = {**({"mix": mix} if mix else {}), **(stems or {})}
        self._frames = frames
        self._stack = contextlib.ExitStack()
        self._files: dict[str, FloatWav] = {}
        self._done = False

    def __len__(self) -> int:
        """How many float WAVs are kept."""
        return len(self._wanted)

    def __enter__(self) -> KeptStems:
        try:
            for name, path in self._wanted.items():
                tmp = self._stack.enter_context(atomic_path(path))
                wav = FloatWav(tmp, SAMPLE_RATE_HZ, 2, self._frames)
                self._files[name] = self._stack.enter_context(wav)
        except BaseException:
            self._stack.close()
            raise
        return self

    def write(self, voice: np.ndarray, bed: np.ndarray) -> None:
        if self._done or not self._files:
            return
        for name, block in (("mix", None), ("voice", voice), ("ambience", bed)):
            if name in self._files:
                self._files[name].write(voice + bed if block is None else block)

    def finish(self) -> None:
        """The first pass is complete: later passes (a re-master) write nothing more."""
        self._done = True

    def names(self) -> dict[str, str]:
        return {f"{name}_wav": str(path) for name, path in self._wanted.items()}

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)
