"""The one orchestrator: story file → narrated, scored, mastered audio file and its report.

::

    story ─ text ─► Script ─ direction ─► Plan ┐
                      └──── speech ─► Narration ┼─► soundscape ─► mix ─► master ─► file
                                                └─────────── sidecars, report ◄───┘
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from narrator.direction.plan import DirectionSettings, Plan, plan_story
from narrator.direction.planfile import load_plan, overridden
from narrator.errors import RenderError, SpeechError
from narrator.options import (
    CLI,
    FRONT,
    MANIFEST,
    RenderSettings,
    heard_settings,
    resolve,
)
from narrator.page.episode import listening_page
from narrator.render.files import (
    AUDIO_ROLES,
    KeptStems,
    check_sidecars,
    check_space,
    default_output,
    remove_stale_sidecars,
    render_inputs,
    render_outputs,
    speech_cache,
    stem_paths,
)
from narrator.render.report import (
    RenderResult,
    loudness_over_time,
    pace_warnings,
    portable,
    portable_layers,
    voice_name,
    write_report,
)
from narrator.render.sidecars import (
    generated_cover,
    load_cover,
    loudness_plot,
    sidecar_path,
    write_text_sidecars,
)
from narrator.render.stages import StageClock, stages_plot
from narrator.render.story import Layers, load_story
from narrator.render.timing import chapter_marks, scene_changes, scene_cues
from narrator.speech import default_spec, narrate, start_workers
from narrator.speech.base import EngineSpec
from narrator.speech.registry import engine_version, engine_warnings
from narrator.text.script import Script
from soundscapes.arc import SleepArc
from soundscapes.background import warm_up
from soundscapes.children import usable_cpus
from soundscapes.files import check_outputs, check_writable, scratch_file, sweep_scratch
from soundscapes.layers.costs import STEM_MEASURING_CPU_MS_PER_S
from soundscapes.output.export import (
    Destination,
    atomic_path,
    audio_info,
    write_text_atomic,
)
from soundscapes.output.formats import (
    DEFAULT_FORMAT,
    format_for,
    format_named_by,
    formats,
    get_format,
)
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
from soundscapes.output.tags import Tags
from soundscapes.scene import Scene
from soundscapes.source import SAMPLE_RATE_HZ
from soundscapes.timeline import Timeline

#: Calibrated loudness of every ambient layer, and so of every scene (soundscapes.layers).
LAYER_LUFS = -30.0
#: How far the open ambience (intro, long pauses, tail) sits under the voice, in LU. With the
#: ducking depth this puts the ambience ~18 LU under speech: Torcoli et al. (JAES 2019) ask for
#: at least 15 LU for ambience, and non-experts prefer about 4 LU more.
OPEN_GAP_LU = 9.0

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True, kw_only=True)
class EpisodeMeta:
    """What a publisher says about the episode a render makes (a podcast manifest's show and
    episode), for its tags. Picklable: a batch hands it to a worker process."""

    #: The show's title: the album (over the story's ``series:``).
    album: str = ""
    #: The show's author: the album artist, and the artist when the story names no author.
    artist: str = ""
    #: The episode number: the track.
    track: int | None = None
    #: When the episode is published: the recording date.
    date: date | None = None
    #: The show's artwork, when the story has no ``cover:`` of its own.
    cover: Path | None = None
    #: The episode's description: the comment (over the story's ``description:``).
    description: str | None = None


def speech_spec(settings: RenderSettings) -> EngineSpec:
    """The engine, voice and engine settings a render with ``settings`` speaks with.

    Raises
    ------
    SpeechError, VoiceError
        An unknown engine, voice or setting.
    """
    return default_spec(
        settings.engine,
        settings.voice,
        pace_wpm=settings.pace_wpm,
        **dict(settings.engine_settings),
    )


def _story_speech_spec(settings: RenderSettings, script: Script) -> EngineSpec:
    """:func:`speech_spec`, whose error names the story's line when the front matter set
    what it is about (the engine, the voice or a setting)."""
    try:
        return speech_spec(settings)
    except SpeechError as exc:
        text = str(exc)
        # Most specific first: a setting's error names its engine too.
        key = next(k for k in ("setting", "voice", "engine", "") if k in text)
        if key and settings.sources.get(key) == FRONT:
            raise type(exc)(f"{script.source}:{script.meta.lines.get(key, 1)}: {text}") from None
        raise


def speech_identity(layers: Layers) -> str:
    """What would speak a story with these option ``layers`` (its front matter's the last):
    the engine's name and its version string (the engine's and the voice files' versions or
    hashes, as in every speech cache key). Cheap: a voice file's hash is computed once per
    process.

    Raises
    ------
    NarratorError
        Bad options or voice (the render would fail).
    """
    spec = speech_spec(resolve(layers))
    return f"{spec.engine}:{engine_version(spec)}"


def story_plan(script: Script, settings: RenderSettings, user_scenes: dict[str, Scene]) -> Plan:
    """The scene under each passage: the plan file's, else inferred at the settings' pace
    (which sets how long each passage is estimated to last) and scene."""
    if settings.plan:
        plan = load_plan(settings.plan, script, user_scenes)
        given = settings.sources.get("scene")
        scene = settings.scene if given != FRONT else None  # the front matter's is a cue's
        what = "--scene" if given == CLI else f"the {given}'s scene"
        said = overridden(script, plan, settings.plan, scene=scene, scene_named=what)
        return replace(plan, warnings=(*plan.warnings, *said))
    return plan_story(
        script,
        settings=DirectionSettings(
            pace_wpm=settings.pace_wpm,
            scene=settings.scene,
            scene_from=settings.sources.get("scene", "command line"),
        ),
        extra_scenes=user_scenes,
    )


def render_story(
    story: Path | str,
    options: Mapping[str, Any] | None = None,
    *,
    layers: Layers = (),
    title: str | None = None,
    artist: str = "narrator",
    episode: EpisodeMeta | None = None,
    progress: ProgressCallback | None = None,
) -> RenderResult:
    """Render ``story`` (a file, or ``-`` for standard input) and write its report.

    ``options`` are render options by key, as on the command line (``{"engine": "fake",
    "output": "out/a.mp3"}``); ``layers`` are further checked option tables of lower
    precedence (``[("manifest", {...})]``). The story's front matter comes after both, the
    defaults last (:func:`narrator.options.resolve`).

    ``episode`` is a publisher's word on the episode, for the file's tags: the show's title
    is the album (over the story's ``series:``), its author the artist when the story names
    none (``artist`` when neither does), the episode's number the track, its publication the
    date, and the show's artwork the cover when the story has no ``cover:``.

    Raises
    ------
    NarratorError, SoundscapeError
        Bad input or a failed stage (each raised where the fault is; the CLI catches both);
        nothing is left at the output path.
    """
    story = Path(story)
    started = time.perf_counter()
    clock = StageClock()
    # The fork server whole (the ambience's processes and the speech workers), booting while
    # the story is read; a no-op where the command started it.
    warm_up()
    script, settings, user_scenes = load_story(story, options, layers=layers, title=title)
    if settings.output is not None and str(settings.output) == "-":
        raise RenderError(
            "-o -: a render writes a file and its sidecars, not a stream; give a file name"
        )
    if settings.output is not None and os.path.isdir(settings.output):  # before its suffix
        inside = settings.output / default_output(story, settings.fmt or DEFAULT_FORMAT).name
        raise RenderError(
            f"{settings.output}: that is a folder; give a file name inside it, e.g. -o {inside}"
        )
    # The format was checked as a registered name when resolved; only its agreement with the
    # output's suffix is left to check.
    if settings.output:
        # A format set below the output (front matter's, under -o) yields to its suffix:
        # the command line wins over the front matter.
        rank = {CLI: 0, MANIFEST: 1, FRONT: 2}
        fmt_rank = rank.get(settings.sources.get("format", FRONT), 2)
        lower = fmt_rank > rank.get(settings.sources.get("output", CLI), 0)
        named = format_named_by(settings.output) is not None
        fmt = format_for(settings.output, None if lower and named else settings.fmt)
    else:
        fmt = settings.fmt or DEFAULT_FORMAT
    target = parse_target(settings.loudness)
    output = settings.output or default_output(story, fmt)
    if settings.keep_mix is not None and settings.keep_mix.suffix.lower() != ".wav":
        raise RenderError(f"--keep-mix {settings.keep_mix}: the mix is a WAV file; name it .wav")
    # Nothing this render writes may be something it reads, and a folder that cannot take
    # the file fails now, not after minutes of synthesis.
    outputs = render_outputs(
        output,
        plot=settings.plot,
        page=settings.page,
        stems=settings.stems,
        keep_mix=settings.keep_mix,
    )
    inputs = [
        *render_inputs(story, settings, script, user_scenes),
        *([("show artwork", episode.cover)] if episode and episode.cover else []),
    ]
    check_outputs(outputs, inputs, audio=AUDIO_ROLES)
    check_sidecars(outputs)
    for path in (output, settings.keep_mix):
        if path is not None:
            check_writable(path)
    episode = episode or EpisodeMeta()
    spec = _story_speech_spec(settings, script)
    jobs, jobs_warnings = usable_jobs(settings.jobs)
    sweep_scratch(tempfile.gettempdir())  # a killed render's speech (--no-cache, system voice)
    with (
        speech_cache(settings) as cache,
        # Speech workers for what is not cached start up now (a process, imports, the model)
        # while this one does the rest of the text work; the speech stage stops them.
        start_workers(script.passages, spec, cache, jobs=jobs) or nullcontext() as workers,
    ):
        cover_warnings: list[str] = []
        if script.meta.cover:
            cover, cover_mime = load_cover(
                story,
                script.meta.cover,
                line=script.meta.lines.get("cover"),
                warnings=cover_warnings,
            )
        elif episode.cover is not None:
            # Absolute, so that it is not read relative to the story's folder.
            cover, cover_mime = load_cover(story, str(episode.cover.absolute()))
        else:
            cover, cover_mime = generated_cover(script.title, script.author), "image/png"
        plan = story_plan(script, settings, user_scenes)
        clock.add("text", clock.origin, time.monotonic())
        t0 = time.perf_counter()
        with clock.stage("speech"):
            narration = narrate(
                script,
                spec=spec,
                cache=cache,
                pace_wpm=settings.pace_wpm,
                jobs=jobs,
                lead_in_s=settings.intro_s + script.opening_pause_s,
                slow_down=settings.slow_down,
                progress=(lambda d, t: progress("speech", d, t)) if progress else None,
                workers=workers,
                # The ambience's processes come from a fork server: its start-up (imports,
                # about a second) runs on a core the speech leaves free, ready for the mix.
                core_free=warm_up,
            )
        speech_s = time.perf_counter() - t0
        duration_s = narration.end_s + settings.tail_s
        arc = SleepArc(start_s=narration.lead_in_s, end_s=narration.end_s) if settings.arc else None
        cues = scene_cues(plan, narration, arc)
        timeline = Timeline(
            cues,
            duration_s=duration_s,
            crossfade_s=settings.crossfade_s,
            fade_in_s=min(6.0, max(settings.intro_s, 0.5)),
            # With no tail the bed fades under the last words, ending with the file.
            fade_out_s=max(1.0, min(0.6 * settings.tail_s, 120.0)),
            seed=settings.seed,
        )
        spans = narration.speech_spans_s()
        ducking = DuckingEnvelope(spans, DuckingSettings())
        ambience_gain_db = (narration.voice_lufs - OPEN_GAP_LU) - LAYER_LUFS

        # Its layers are shared by two processes; the one that also ducks, darkens and meters
        # the stem takes fewer of them.
        ambience_layers = timeline.source(measuring_ms_per_s=STEM_MEASURING_CPU_MS_PER_S)
        ambience = AmbienceStem(ambience_layers, ducking, gain_db=ambience_gain_db, arc=arc)

        chapters = chapter_marks(script, narration, duration_s)
        tags = Tags(
            title=script.title,
            artist=script.author or episode.artist or artist,
            album=episode.album or script.meta.series or "",
            album_artist=episode.artist,
            genre=script.meta.genre or "Sleep story",
            year=script.meta.year,
            date=episode.date,
            track=episode.track,
            comment=episode.description or script.meta.description or "Narrated with narrator",
            chapters=tuple(chapters),
            cover=cover,
            cover_mime=cover_mime,
        )
        total_frames = math.ceil(duration_s * SAMPLE_RATE_HZ)
        kept = KeptStems(
            settings.keep_mix, stem_paths(output) if settings.stems else None, total_frames
        )
        check_space(output.parent, total_frames, fmt, kept_wavs=len(kept))
        with (
            # The transcript, chapters, plot (this stack) and the kept stems and mix are put
            # in place after the audio (they close after it), and not at all when the audio
            # cannot be: the earlier render's set stays whole. Killed before, the render
            # leaves scratch only.
            ExitStack() as staged,
            kept,
            atomic_path(output) as tmp_out,
            scratch_file(output.parent, "stem-", ".voice.f32") as voice_scratch,
            scratch_file(output.parent, "stem-", ".ambience.f32") as ambience_scratch,
        ):
            scratch = StemScratch(voice=voice_scratch, ambience=ambience_scratch)
            with clock.stage("mix"):
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
            clock.add("soundscape", *analysis.ambience_span)

            def blocks() -> Iterator[np.ndarray]:
                done = 0
                for voice, bed in mixed_blocks(scratch, total_frames, ride=mixed.ride):
                    kept.write(voice, bed)
                    done += voice.shape[1]
                    if progress:
                        progress("master", done, total_frames)
                    yield voice + bed
                kept.finish()

            dest = Destination(
                path=tmp_out,
                fmt=fmt,
                sample_rate_hz=SAMPLE_RATE_HZ,
                tags=tags,
                bitrate_kbps=settings.bitrate_kbps,
                shown_as=output,
            )
            with clock.stage("master"):
                mastered = master_to_file(
                    blocks,
                    dest,
                    measured_lufs=mixed.integrated_lufs,
                    target=target,
                    sample_peak=mixed.sample_peak,
                    # A reading each half second: kept always, for the report's loudness over time.
                    record_series=True,
                    preview=lambda every: (
                        v + b
                        for v, b in mixed_blocks(
                            scratch, total_frames, ride=mixed.ride, every=every
                        )
                    ),
                )
                written_s = audio_info(tmp_out)[2]
            if progress:
                progress("sidecars", 0, 1)
            with clock.stage("sidecars"):
                sidecars = write_text_sidecars(
                    output, script, narration.passages, chapters, staged=staged
                )
            if settings.plot:
                plot = sidecar_path(output, ".png")
                with clock.stage("plot"):
                    loudness_plot(
                        plot,
                        mastered.series,
                        target_lufs=target.integrated_lufs,
                        chapters=chapters,
                        scenes=scene_changes(cues),
                        title=script.title,
                        staged=staged,
                    )
                sidecars["plot"] = str(plot)
        sidecars.update(kept.names())
    if settings.plot:
        # Last, so that it shows every stage but its own and the report's.
        stages = sidecar_path(output, ".stages.png")
        stages_plot(stages, clock.stages, title=script.title)
        sidecars["stages_plot"] = str(stages)

    loud = mastered.loudness
    report = {
        "output": output.name,
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
        "author": script.author or episode.artist,
        "engine": spec.engine,
        "voice": voice_name(spec.voice),
        "seed": settings.seed,
        "settings": heard_settings(settings),
        "pace_wpm": round(narration.pace_wpm, 1),
        "words": narration.words,
        "warnings": [
            *script.warnings,
            *plan.warnings,
            *jobs_warnings,
            *cover_warnings,
            *engine_warnings(spec),
            *pace_warnings(
                narration,
                settings.pace_wpm,
                cue_pauses_s=sum(p.pause_after_s for p in script.passages) + script.opening_pause_s,
            ),
            *mastered.warnings,
            *_bitrate_warnings(settings.bitrate_kbps, fmt),
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
                "layers": portable_layers(plan.scene_for(p.index).layer_names),
                "scene_source": plan.source_for(p.index),
            }
            for p, t in zip(script.passages, narration.passages, strict=True)
        ],
        "chapters": [
            {"title": c.title, "start_s": round(c.start_s, 3), "end_s": round(c.end_s, 3)}
            for c in chapters
        ],
        "scenes": [{"start_s": round(t, 3), "scene": name} for t, name in scene_changes(cues)],
        "loudness_over_time": loudness_over_time(mastered.series, written_s),
        "timings_s": {
            "speech": round(speech_s, 3),
            # The ambience renders in a second process while this one renders the voice: its
            # CPU time overlaps the mix's wall time.
            "soundscape": round(analysis.ambience_busy_s, 3),
            "mix": round(analysis.seconds, 3),
            "master": round(mastered.master_s, 3),
            "encode": round(mastered.encode_s, 3),
        },
        "stages": clock.report(),
    }
    if settings.page:
        page = sidecar_path(output, ".html")
        # Made from the report before its sidecars and total time are known: it shows neither.
        write_text_atomic(page, listening_page(output, report))
        sidecars["page"] = str(page)
    sidecar_paths = {key: Path(value) for key, value in sidecars.items()}
    report["sidecars"] = portable(sidecar_paths)
    report["timings_s"]["total"] = round(time.perf_counter() - started, 3)
    write_report(sidecar_path(output, ".report.json"), report)
    remove_stale_sidecars(output, outputs, inputs)
    return RenderResult.from_report(
        report, output=output, sidecars=sidecar_paths, settings=settings
    )


def usable_jobs(jobs: int | None) -> tuple[int, list[str]]:
    """``jobs`` worker processes (default: every core), at most one per core (each loads a
    voice model; more than the cores only costs memory), and a warning when that is fewer
    than asked."""
    cores = usable_cpus()
    if jobs is None or jobs <= cores:
        return jobs or cores, []
    return cores, [f"--jobs {jobs} is more than this machine's {cores} cores; using {cores}"]


def _bitrate_warnings(bitrate_kbps: int | None, fmt: str) -> list[str]:
    """A bit rate asked of a format whose encoder takes none (libsndfile's: WAV, FLAC, Ogg
    Vorbis at its quality setting) is said, not silently dropped."""
    if bitrate_kbps is None or get_format(fmt).takes_bitrate:
        return []
    takes = ", ".join(name for name, f in formats().items() if f.takes_bitrate)
    return [f"--bitrate {bitrate_kbps} applies to {takes}; the {fmt} file is written without it"]


__all__ = ["EpisodeMeta", "RenderResult", "render_story"]
