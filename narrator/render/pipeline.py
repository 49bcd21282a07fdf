"""The one orchestrator: story file → narrated, scored, mastered audio file and its report."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from narrator.direction.plan import Plan, plan_story
from narrator.direction.planfile import load_plan
from narrator.errors import NarratorError, RenderError
from narrator.render.sidecars import (
    cover_path,
    generated_cover,
    load_cover,
    loudness_plot,
    sidecar_path,
    write_text_sidecars,
)
from narrator.speech import Narration, SpeechCache, default_spec, narrate
from narrator.text.frontmatter import StoryMeta
from narrator.text.pronunciation import load_lexicon
from narrator.text.script import Script, parse_story
from soundscapes.arc import SleepArc, slowed
from soundscapes.errors import SoundscapeError
from soundscapes.files import check_outputs, human_size, scratch_name, sweep_scratch
from soundscapes.output.export import (
    FloatWav,
    atomic_path,
    audio_info,
    check_writable,
    write_text_atomic,
)
from soundscapes.output.formats import format_for, get_format
from soundscapes.output.master import master_to_file, parse_target
from soundscapes.output.mix import (
    AmbienceStem,
    DuckingEnvelope,
    DuckingSettings,
    StemScratch,
    VoiceStem,
    analyse_stems,
    mixed_blocks,
    plan_mix,
)
from soundscapes.output.tags import ChapterMark, Tags
from soundscapes.scene import Scene, load_scenes
from soundscapes.source import SAMPLE_RATE_HZ
from soundscapes.timeline import SceneCue, Timeline

#: Calibrated loudness of every ambient layer, and so of every scene (soundscapes.layers).
LAYER_LUFS = -30.0
#: How far the open ambience (intro, long pauses, tail) sits under the voice, in LU. With the
#: ducking depth this puts the ambience ~18 LU under speech: Torcoli et al. (JAES 2019) ask for
#: at least 15 LU for ambience, and non-experts prefer about 4 LU more.
OPEN_GAP_LU = 9.0

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """Everything a render can be asked for.

    ``None`` means "not given": the story's front matter decides, then the defaults in
    :data:`DEFAULTS` (tuned for sleep). So a command-line option beats the front matter, which
    beats the defaults.
    """

    output: Path | None = None
    fmt: str | None = None
    engine: str | None = None
    voice: str | None = None
    pace_wpm: float | None = None
    loudness: str | None = None
    tail_s: float | None = None
    seed: int | None = None
    crossfade_s: float | None = None
    intro_s: float = 8.0
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    cache_dir: Path | None = None
    use_cache: bool = True
    lexicon: Path | None = None
    plot: bool = False
    scenes_file: Path | None = None
    engine_settings: tuple[tuple[str, str], ...] = ()
    plan: Path | None = None
    arc: bool = True
    slow_down: float = 0.2
    bitrate_kbps: int | None = None
    #: Where to keep the un-mastered float mix, if anywhere.
    keep_mix: Path | None = None
    #: Also keep the un-mastered voice and ambience stems beside the output.
    stems: bool = False
    title: str | None = None
    artist: str = "narrator"

    def resolved(self, meta: StoryMeta) -> RenderOptions:
        """Fill every unset option from the front matter, then the defaults."""
        from_meta = {
            "engine": meta.engine,
            "voice": meta.voice,
            "pace_wpm": meta.pace,
            "loudness": meta.loudness,
            "tail_s": meta.tail,
            "seed": meta.seed,
            "crossfade_s": meta.crossfade,
        }
        filled = {
            name: value
            if (value := getattr(self, name)) is not None
            else from_meta[name]
            if from_meta[name] is not None
            else DEFAULTS[name]
            for name in from_meta
        }
        if self.engine is not None and self.voice is None:
            filled["voice"] = None  # a voice in the front matter belongs to its engine
        return replace(self, **filled)


DEFAULTS: dict[str, object] = {
    "engine": "piper",
    "voice": None,
    "pace_wpm": 130.0,
    "loudness": "sleep",
    "tail_s": 180.0,
    "seed": 0,
    "crossfade_s": 8.0,
}


def default_output(story: Path, fmt: str = "mp3") -> Path:
    stem = "story" if str(story) == "-" else story.stem
    return Path("out") / f"{stem}{get_format(fmt).suffix}"


def render_story(
    story: Path | str,
    options: RenderOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> dict:
    """Render ``story`` and return the report (also written as ``OUT.report.json``).

    Raises
    ------
    NarratorError
        Bad input or a failed stage; nothing is left at the output path.
    """
    story = Path(story)
    started = time.perf_counter()
    given = options or RenderOptions()
    lexicon = load_lexicon(given.lexicon) if given.lexicon else None
    user_scenes = _load_user_scenes(given.scenes_file)
    script = parse_story(story, title=given.title, lexicon=lexicon, extra_scenes=user_scenes)
    opts = given.resolved(script.meta)
    _check_options(opts)
    if opts.output is not None and str(opts.output) == "-":
        raise RenderError(
            "-o -: a render writes a file and its sidecars, not a stream; give a file name"
        )
    try:
        fmt = format_for(opts.output or Path(f"x.{opts.fmt or 'mp3'}"), opts.fmt)
        output = opts.output or default_output(story, fmt)
        target = parse_target(opts.loudness)
    except SoundscapeError as exc:
        raise RenderError(str(exc)) from None
    if opts.keep_mix is not None and opts.keep_mix.suffix.lower() != ".wav":
        raise RenderError(f"--keep-mix {opts.keep_mix}: the mix is a WAV file; name it .wav")
    # Nothing this render writes may be something it reads, and a folder that cannot take
    # the file fails now, not after minutes of synthesis.
    check_outputs(
        render_outputs(output, plot=opts.plot, stems=opts.stems, keep_mix=opts.keep_mix),
        render_inputs(story, opts, script, user_scenes),
    )
    try:
        for path in (output, opts.keep_mix):
            if path is not None:
                check_writable(path)
    except SoundscapeError as exc:
        raise RenderError(str(exc)) from None
    cover, cover_mime = (
        load_cover(story, script.meta.cover)
        if script.meta.cover
        else (generated_cover(script.title, script.author), "image/png")
    )
    plan = (
        load_plan(opts.plan, script) if opts.plan else plan_story(script, extra_scenes=user_scenes)
    )
    spec = default_spec(
        opts.engine, opts.voice, pace_wpm=opts.pace_wpm, **dict(opts.engine_settings)
    )
    jobs, jobs_warnings = usable_jobs(opts.jobs)

    sweep_scratch(tempfile.gettempdir())  # a killed render's speech (--no-cache, system voice)
    with _speech_cache(opts) as cache:
        t0 = time.perf_counter()
        narration = narrate(
            script,
            spec=spec,
            cache=cache,
            pace_wpm=opts.pace_wpm,
            jobs=jobs,
            lead_in_s=opts.intro_s + script.opening_pause_s,
            slow_down=opts.slow_down,
            progress=(lambda d, t: progress("speech", d, t)) if progress else None,
        )
        speech_s = time.perf_counter() - t0
        duration_s = narration.end_s + opts.tail_s
        arc = SleepArc(start_s=narration.lead_in_s, end_s=narration.end_s) if opts.arc else None
        cues = scene_cues(plan, narration, arc)
        timeline = Timeline(
            cues,
            duration_s=duration_s,
            crossfade_s=opts.crossfade_s,
            fade_in_s=min(6.0, max(opts.intro_s, 0.5)),
            # With no tail the bed fades under the last words, ending with the file.
            fade_out_s=max(1.0, min(0.6 * opts.tail_s, 120.0)),
            seed=opts.seed,
        )
        spans = narration.speech_spans_s()
        ducking = DuckingEnvelope(spans, DuckingSettings())
        ambience_gain_db = (narration.voice_lufs - OPEN_GAP_LU) - LAYER_LUFS

        ambience = AmbienceStem(timeline.source(), ducking, gain_db=ambience_gain_db, arc=arc)

        chapters = chapter_marks(script, narration, duration_s)
        tags = Tags(
            title=script.title,
            artist=script.author or opts.artist,
            album=script.meta.series or "",
            genre=script.meta.genre or "Sleep story",
            year=script.meta.year,
            comment=script.meta.description or "Narrated with narrator",
            chapters=tuple(chapters),
            cover=cover,
            cover_mime=cover_mime,
        )
        total_frames = math.ceil(duration_s * SAMPLE_RATE_HZ)
        kept = _KeptStems(opts.keep_mix, _stem_paths(output) if opts.stems else None, total_frames)
        _check_space(output.parent, total_frames, fmt, kept_wavs=len(kept))
        with (
            atomic_path(output) as tmp_out,
            _scratch_file(output.parent, ".voice.f32") as voice_scratch,
            _scratch_file(output.parent, ".ambience.f32") as ambience_scratch,
            kept,
        ):
            scratch = StemScratch(voice=voice_scratch, ambience=ambience_scratch)
            try:
                analysis = analyse_stems(
                    VoiceStem(narration.source(), arc=arc),
                    ambience,
                    frames=total_frames,
                    speech_spans_s=spans,
                    scratch=scratch,
                    bandwidth_hz=get_format(fmt).bandwidth_hz,
                    progress=(lambda d, t: progress("mix", d, t)) if progress else None,
                )
                mixed = plan_mix(analysis)

                def blocks() -> Iterator[np.ndarray]:
                    done = 0
                    for voice, bed in mixed_blocks(scratch, total_frames, ride=mixed.ride):
                        kept.write(voice, bed)
                        done += voice.shape[1]
                        if progress:
                            progress("master", done, total_frames)
                        yield voice + bed
                    kept.finish()

                mastered = master_to_file(
                    blocks,
                    tmp_out,
                    fmt,
                    sample_rate_hz=SAMPLE_RATE_HZ,
                    measured_lufs=mixed.integrated_lufs,
                    target=target,
                    tags=tags,
                    bitrate_kbps=opts.bitrate_kbps,
                    sample_peak=mixed.sample_peak,
                    record_series=opts.plot,
                    shown_as=output,
                    preview=lambda: (
                        v + b for v, b in mixed_blocks(scratch, total_frames, ride=mixed.ride)
                    ),
                )
            except SoundscapeError as exc:
                raise RenderError(str(exc)) from None
            written_s = audio_info(tmp_out)[2]
            if progress:
                progress("sidecars", 0, 1)
            sidecars = write_text_sidecars(output, script, narration.passages, chapters)
            if opts.plot:
                plot = sidecar_path(output, ".png")
                loudness_plot(
                    plot,
                    mastered.series,
                    target_lufs=target.integrated_lufs,
                    chapters=chapters,
                    scenes=[(c.start_s, c.scene.name) for c in cues],
                    title=script.title,
                )
                sidecars["plot"] = str(plot)
            sidecars.update(kept.names())

    loud = mastered.loudness
    report = {
        "output": str(output),
        "format": fmt,
        "duration_s": round(written_s, 3),
        "sample_rate": SAMPLE_RATE_HZ,
        "channels": 2,
        "target_lufs": target.integrated_lufs,
        "true_peak_ceiling_dbtp": target.true_peak_dbtp,
        "integrated_lufs": round(loud.integrated_lufs, 2),
        "true_peak_dbtp": round(loud.true_peak_dbtp, 2),
        "loudness_range_lu": round(loud.loudness_range_lu, 2),
        "voice_over_ambience_lu": round(mixed.voice_over_ambience_lu, 2),
        "voice_over_ambience_min_lu": round(mixed.voice_over_ambience_min_lu, 2),
        "master_gain_db": round(mastered.gain_db, 2),
        "master_passes": mastered.passes,
        "title": script.title,
        "author": script.author,
        "engine": spec.engine,
        "voice": voice_name(spec.voice),
        "seed": opts.seed,
        "pace_wpm": round(narration.pace_wpm, 1),
        "words": narration.words,
        "warnings": [
            *script.warnings,
            *jobs_warnings,
            *_pace_warnings(narration, opts.pace_wpm),
        ],
        "cache": {"hits": narration.cache_hits, "misses": narration.cache_misses},
        "passages": [
            {
                "index": p.index,
                "chapter": p.chapter,
                "start_s": round(t.start_s, 3),
                "end_s": round(t.end_s, 3),
                "text": p.text,
                "scene": plan.scene_for(p.index).name,
                "layers": list(plan.scene_for(p.index).layer_names),
                "scene_source": plan.source_for(p.index),
            }
            for p, t in zip(script.passages, narration.passages, strict=True)
        ],
        "chapters": [
            {"title": c.title, "start_s": round(c.start_s, 3), "end_s": round(c.end_s, 3)}
            for c in chapters
        ],
        "scenes": [{"start_s": round(c.start_s, 3), "scene": c.scene.name} for c in cues],
        "timings_s": {
            "speech": round(speech_s, 3),
            # The ambience renders in a second process while this one renders the voice: its
            # CPU time overlaps the mix's wall time.
            "soundscape": round(analysis.ambience_busy_s, 3),
            "mix": round(analysis.seconds, 3),
            "master": round(mastered.master_s, 3),
            "encode": round(mastered.encode_s, 3),
        },
    }
    report["sidecars"] = sidecars
    report["timings_s"]["total"] = round(time.perf_counter() - started, 3)
    write_text_atomic(
        sidecar_path(output, ".report.json"),
        json.dumps(portable_report(report), indent=2, ensure_ascii=False),
    )
    return report


def voice_name(voice: str) -> str:
    """How a report names a voice: a voice file by its file name, never the folder it is in."""
    return Path(voice).name if "/" in voice or "\\" in voice else voice


def portable_report(report: dict) -> dict:
    """The report as written: the output and sidecars by file name (they sit beside it; a kept
    mix elsewhere by its name alone), so a folder of renders can be moved or uploaded without
    carrying this machine's paths."""
    return {
        **report,
        "output": Path(report["output"]).name,
        "sidecars": {key: Path(value).name for key, value in report["sidecars"].items()},
    }


def scene_cues(plan: Plan, narration: Narration, arc: SleepArc | None = None) -> list[SceneCue]:
    """Scene changes on the timeline, each midway through the pause before its passage.

    With the sleep arc, scenes from the story's middle on play slower (``arc.rate_scale``):
    a change there is slowed, and the scene playing at the middle crossfades to its slower self
    in the pause nearest the middle.
    """
    passages = narration.passages
    middle_s = (narration.lead_in_s + narration.end_s) / 2
    half = min(range(len(passages)), key=lambda i: abs(passages[i].start_s - middle_s))
    cues = [SceneCue(start_s=0.0, scene=plan.scene_for(0))]
    current = plan.scene_for(0)
    for i in range(1, len(passages)):
        scene = plan.scene_for(passages[i].index)
        changed = scene != current
        current = scene
        if arc is not None and i >= half > 0:
            scene = slowed(scene, arc.rate_scale)
        if changed or scene != cues[-1].scene:
            start_s = (passages[i - 1].end_s + passages[i].start_s) / 2
            cues.append(SceneCue(start_s=start_s, scene=scene))
    return cues


def chapter_marks(script: Script, narration: Narration, duration_s: float) -> list[ChapterMark]:
    """Chapters on the output's timeline: each from midway through the pause before its first
    passage to the next; the first starts at 0 and the last ends with the file."""
    firsts: dict[int, int] = {}
    for i, passage in enumerate(script.passages):
        firsts.setdefault(passage.chapter, i)
    titles = {c.index: c.title for c in script.chapters}
    starts: list[tuple[float, str]] = []
    for chapter, i in sorted(firsts.items(), key=lambda kv: kv[1]):
        before = narration.passages[i - 1].end_s if i else 0.0
        start = 0.0 if i == 0 else (before + narration.passages[i].start_s) / 2
        starts.append((start, titles[chapter]))
    ends = [s for s, _ in starts[1:]] + [duration_s]
    return [
        ChapterMark(title=title, start_s=start, end_s=end)
        for (start, title), end in zip(starts, ends, strict=True)
    ]


def _pace_warnings(narration: Narration, pace_wpm: float) -> list[str]:
    """A warning when the pauses could not bring the narration within 5 % of ``pace_wpm``."""
    if narration.words == 0 or abs(narration.pace_wpm - pace_wpm) <= 0.05 * pace_wpm:
        return []
    voice_wpm = narration.words / narration.speech_s * 60.0 if narration.speech_s else 0.0
    way = "slower" if narration.pace_wpm < pace_wpm else "faster"
    return [
        f"the narration runs at {narration.pace_wpm:.0f} wpm, {way} than --pace {pace_wpm:g}: "
        f"the voice alone speaks at {voice_wpm:.0f} wpm and the pauses cannot make up the "
        "rest; set its rate with --setting (piper length_scale, system rate_wpm)"
    ]


def usable_jobs(jobs: int) -> tuple[int, list[str]]:
    """``jobs`` worker processes, at most one per core (each loads a voice model; more than
    the cores only costs memory), and a warning when that is fewer than asked."""
    cores = os.cpu_count() or 1
    if jobs <= cores:
        return jobs, []
    return cores, [f"--jobs {jobs} is more than this machine's {cores} cores; using {cores}"]


def _load_user_scenes(path: Path | None) -> dict[str, Scene]:
    if path is None:
        return {}
    try:
        return load_scenes(path)
    except SoundscapeError as exc:
        raise RenderError(str(exc)) from None


def _check_options(opts: RenderOptions) -> None:
    if not 60.0 <= opts.pace_wpm <= 220.0:
        raise RenderError(f"--pace {opts.pace_wpm:g} wpm is out of range; use 60 to 220")
    if not 0.0 <= opts.tail_s <= 4 * 3600:
        raise RenderError(f"--tail {opts.tail_s:g} s is out of range; use 0 to 14400 seconds")
    if opts.bitrate_kbps is not None and not 32 <= opts.bitrate_kbps <= 320:
        raise RenderError(f"--bitrate {opts.bitrate_kbps} kb/s is out of range; use 32 to 320")
    if opts.jobs < 1:
        raise RenderError(f"--jobs {opts.jobs} must be at least 1")


@contextlib.contextmanager
def _speech_cache(opts: RenderOptions) -> Iterator[SpeechCache]:
    if opts.use_cache:
        yield SpeechCache(opts.cache_dir) if opts.cache_dir else SpeechCache()
    else:
        with tempfile.TemporaryDirectory(prefix=scratch_name("speech-", hidden=False)) as tmp:
            yield SpeechCache(Path(tmp))


#: Scratch bytes per frame while mixing: the mono voice and stereo ambience, float32.
_SCRATCH_BYTES_PER_FRAME = 4 + 8


def _check_space(folder: Path, frames: int, fmt: str, *, kept_wavs: int) -> None:
    """Fail before mixing, with what is needed, when the output's disk cannot hold the
    scratch stems, the output and anything kept (the speech is cached: nothing is lost)."""
    seconds = frames / SAMPLE_RATE_HZ
    needed = frames * (_SCRATCH_BYTES_PER_FRAME + 8 * kept_wavs)
    needed += seconds * get_format(fmt).bytes_per_s
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed * 1.05:
        raise RenderError(
            f"{folder}: a render of {_duration(seconds)} needs about "
            f"{human_size(needed)} free there while it mixes ({human_size(free)} free); "
            "free some space or choose an -o folder on another disk"
        )


def render_outputs(
    output: Path, *, plot: bool = False, stems: bool = False, keep_mix: Path | None = None
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
    if stems:
        outputs += [(f"{name} stem", path) for name, path in _stem_paths(output).items()]
    if keep_mix is not None:
        outputs.append(("kept mix", keep_mix))
    return outputs


def render_inputs(
    story: Path, opts: RenderOptions, script: Script, user_scenes: dict[str, Scene]
) -> list[tuple[str, Path]]:
    """Every file a render reads, as ``(role, path)``."""
    from soundscapes.recording import is_recording_name, recording_path

    inputs: list[tuple[str, Path]] = []
    if str(story) != "-":
        inputs.append(("story", story))
    for role, path in (
        ("lexicon", opts.lexicon),
        ("plan", opts.plan),
        ("scene file", opts.scenes_file),
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
    if opts.voice and Path(opts.voice).suffix == ".onnx":
        inputs.append(("voice", Path(opts.voice)))
    return inputs


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"


def _stem_paths(output: Path) -> dict[str, Path]:
    return {name: sidecar_path(output, f".{name}.wav") for name in ("voice", "ambience")}


class _KeptStems:
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

    def __enter__(self) -> _KeptStems:
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


@contextlib.contextmanager
def _scratch_file(folder: Path, suffix: str) -> Iterator[Path]:
    """A temporary file in ``folder`` (same disk as the output), always removed; named for
    its owner, so a render killed before it could remove it has it swept by the next."""
    fd, name = tempfile.mkstemp(prefix=scratch_name("stem-"), suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


__all__ = ["NarratorError", "RenderOptions", "render_story"]
