"""The command line: parses, calls the library, prints. The only layer that prints or exits."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from narrator.errors import NarratorError, SpeechError
from soundscapes.errors import SoundscapeError

app = typer.Typer(
    name="narrator",
    help="Narrated sleep stories: story text in, a calm voice over a living soundscape out.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


def _print_error(message: str) -> None:
    # Text, not markup: the message is the user's text and may hold brackets ("\\[").
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    _print_error(message)
    return typer.Exit(code=1)


#: The signal that stopped the command (SIGINT, SIGTERM), once one has arrived. An error that
#: follows it (a child process that saw the same Ctrl-C) is the interrupt's, not news.
_stopped_by: int | None = None


def _on_stop_signal(signum: int, frame: object) -> None:
    global _stopped_by
    _stopped_by = signum
    raise KeyboardInterrupt


def _catch_stop_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM unwind the command: every ``finally`` runs, so temporary
    files go and worker processes are stopped (a plain SIGTERM would skip all that)."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave them
            signal.signal(signum, _on_stop_signal)


def handles_errors(func):
    """Turn the packages' own errors into one red line and exit code 1 (no traceback); an
    interrupt into "interrupted" and exit code 130 (143 for SIGTERM)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            raise _interrupted(func.__name__) from None
        except (NarratorError, SoundscapeError) as exc:
            if _stopped_by is not None:
                raise _interrupted(func.__name__) from None
            raise _fail(str(exc)) from None
        except Exception:
            if _stopped_by is not None:
                raise _interrupted(func.__name__) from None
            raise

    return wrapper


def _interrupted(command: str) -> typer.Exit:
    import signal

    # Outputs are written atomically: an interrupted command leaves none half-written.
    note = (
        "finished passages are cached and a re-run resumes"
        if command in ("render", "batch")
        else "nothing was written"
    )
    err.print(f"interrupted; {note}", highlight=False)
    return typer.Exit(code=143 if _stopped_by == signal.SIGTERM else 130)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  narrator render seeds/dream.txt                  # → out/dream.mp3\n\n"
        "  narrator render story.txt -o story.flac --tail 600\n\n"
        "  narrator render story.txt --engine system --voice gmw/en-us --pace 120\n\n"
        "  narrator render story.txt --loudness podcast     # -16 LUFS, -1 dBTP"
    )
)
@handles_errors
def render(
    story: Annotated[Path, typer.Argument(help="The story: .txt or .md, or - for stdin.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Output file (default: out/STORY.mp3).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="mp3, m4b, opus, ogg, flac or wav (default: from -o)."),
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="Speech engine: piper, system or fake (default: piper).")
    ] = None,
    voice: Annotated[
        str | None, typer.Option(help="Voice: a Piper .onnx path, or a system voice id.")
    ] = None,
    pace: Annotated[
        float | None, typer.Option(help="Words per minute, pauses included (default: 130).")
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            help="An engine setting, KEY=VALUE, repeatable: piper length_scale, noise_scale, "
            "noise_w_scale, speaker (name or number), speaker_id; system rate_wpm, pitch."
        ),
    ] = None,
    loudness: Annotated[
        str | None,
        typer.Option(help="sleep (-20 LUFS, default), podcast (-16), broadcast (-23) or LUFS."),
    ] = None,
    tail: Annotated[
        float | None, typer.Option(help="Seconds of ambience after the last word (default: 180).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the soundscape: same seed, same sound (default: 0).")
    ] = None,
    lexicon: Annotated[
        Path | None, typer.Option(help='Pronunciation lexicon (TOML: Nyx = "nicks").')
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(help="Speech worker processes (default: all cores).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Speech cache folder (default: the user cache).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the speech cache.")
    ] = False,
    plot: Annotated[
        bool, typer.Option("--plot", help="Also write OUT.png: loudness over time.")
    ] = False,
    slow_down: Annotated[
        float,
        typer.Option(
            help="Slowing over the story, 0-0.5: pauses grow from start to end, same overall pace."
        ),
    ] = 0.2,
    bitrate: Annotated[
        int | None,
        typer.Option(help="kb/s for lossy formats; makes MP3 constant-rate (default: VBR -V3)."),
    ] = None,
    plan: Annotated[
        Path | None, typer.Option(help="An edited scene plan (from narrator plan) to render.")
    ] = None,
    scenes: Annotated[
        Path | None, typer.Option(help="Your own scenes (TOML), usable in cues and front matter.")
    ] = None,
    arc: Annotated[
        bool,
        typer.Option(
            "--arc/--no-arc", help="The sleep arc: voice softer, ambience darker and slower."
        ),
    ] = True,
    keep_mix: Annotated[
        Path | None,
        typer.Option(help="Also keep the un-mastered mix here (float WAV), to master yourself."),
    ] = None,
    stems: Annotated[
        bool,
        typer.Option(
            "--stems",
            help="Also keep the un-mastered voice and ambience stems: OUT.voice.wav and "
            "OUT.ambience.wav (float WAV), to check or remix.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress display.")] = False,
) -> None:
    """Render STORY (.txt or .md; - for standard input) to a narrated, scored, mastered file."""
    from narrator.render import RenderOptions, render_story

    kwargs = {} if jobs is None else {"jobs": jobs}
    pairs = []
    for item in setting or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _fail(f"--setting {item!r} must be KEY=VALUE, e.g. --setting length_scale=1.5")
        pairs.append((key.strip(), value.strip()))
    options = RenderOptions(
        engine_settings=tuple(pairs),
        output=output,
        fmt=fmt,
        engine=engine,
        voice=voice,
        pace_wpm=pace,
        loudness=loudness,
        tail_s=tail,
        seed=seed,
        cache_dir=cache_dir,
        use_cache=not no_cache,
        lexicon=lexicon,
        plot=plot,
        plan=plan,
        scenes_file=scenes,
        arc=arc,
        bitrate_kbps=bitrate,
        slow_down=slow_down,
        keep_mix=keep_mix,
        stems=stems,
        **kwargs,
    )
    with progress_display(quiet) as progress:
        report = render_story(story, options, progress=progress)
    for warning in report.get("warnings", []):
        err.print(Text.assemble(("warning:", "yellow"), " ", warning), soft_wrap=True)
    minutes, seconds = divmod(report["duration_s"], 60)
    out.print(
        f"wrote {escape(report['output'])}: {int(minutes)}:{seconds:04.1f}, "
        f"{report['integrated_lufs']:.1f} LUFS, true peak {report['true_peak_dbtp']:.1f} dBTP, "
        f"voice {report['voice_over_ambience_lu']:.1f} LU over ambience, "
        f"{report['pace_wpm']:.0f} wpm, speech cache {report['cache']['hits']} hits / "
        f"{report['cache']['misses']} new, in {report['timings_s']['total']:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handles_errors
def passages(
    story: Annotated[Path, typer.Argument(help="The story: .txt or .md, or - for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
    pace: Annotated[float | None, typer.Option(help="Words per minute for estimates.")] = None,
    lexicon: Annotated[Path | None, typer.Option(help="Pronunciation lexicon file.")] = None,
    plan: Annotated[Path | None, typer.Option(help="Show this edited scene plan.")] = None,
) -> None:
    """Show how STORY splits into passages, and the scene under each, without synthesizing."""
    import json

    from narrator.overview import passages_overview

    overview = passages_overview(story, pace_wpm=pace, lexicon=lexicon, plan_file=plan)
    if as_json:
        out.print_json(json.dumps(overview), ensure_ascii=False)
        return
    for warning in overview["script"]["warnings"]:
        err.print(Text.assemble(("warning:", "yellow"), " ", warning), soft_wrap=True)
    table = Table(
        "#",
        "chapter",
        "first words",
        "words",
        "est. s",
        "pause s",
        "scene",
        "layers (dB)",
        "from",
        title=overview["script"]["title"],
    )
    for row in overview["rows"]:
        table.add_row(
            str(row["index"]),
            row["chapter_title"],
            row["first_words"],
            str(row["words"]),
            f"{row['estimated_s']:.1f}",
            f"{row['pause_after_s']:g}" if row["pause_after_s"] else "",
            row["scene"],
            row["layers_db"],
            row["scene_source"],
        )
    out.print(table)
    out.print(
        f"{len(overview['rows'])} passages, {overview['words']} words, about "
        f"{overview['estimated_s'] / 60:.1f} min at {overview['pace_wpm']:g} wpm"
    )


@app.command(
    epilog=(
        "Examples:\n\n"
        "  narrator plan story.txt -o story.plan.toml\n\n"
        "  narrator render story.txt --plan story.plan.toml"
    )
)
@handles_errors
def plan(
    story: Annotated[Path, typer.Argument(help="The story: .txt or .md, or - for stdin.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Plan file (default: STORY.plan.toml).")
    ] = None,
) -> None:
    """Write the scene plan of STORY as an editable TOML file, for render --plan."""
    from narrator.direction import plan_story
    from narrator.planfile import write_plan
    from narrator.script import parse_story
    from soundscapes.export import check_writable, write_text_atomic
    from soundscapes.files import check_outputs

    script = parse_story(story)
    if output is None and str(story) == "-":
        raise _fail("a story from standard input has no name to derive the plan's: give -o")
    target = output or story.with_name(story.stem + ".plan.toml")
    check_outputs([("plan", target)], [("story", story)])
    check_writable(target)
    write_text_atomic(target, write_plan(script, plan_story(script)))
    out.print(f"wrote {escape(str(target))}: {len(script.passages)} passages", highlight=False)


@app.command()
@handles_errors
def layers() -> None:
    """List every ambient layer with a description and its parameters."""
    from soundscapes.layers import layer_info, layer_names

    table = Table("layer", "description", "parameters (default, range)")
    for name in layer_names():
        info = layer_info(name)
        params = ", ".join(
            f"{p.name}={p.default:g} ({p.minimum:g}–{p.maximum:g}{p.unit and ' ' + p.unit})"
            for p in info.params
        )
        table.add_row(name, info.description, params)
    out.print(table)


@app.command(
    epilog=(
        "Examples:\n\n"
        "  narrator soundscape tide -d 8h -o tide.mp3\n\n"
        "  narrator soundscape --scene night-garden -d 45m -o garden.ogg\n\n"
        "  narrator soundscape rain fire -d 1h30m -o hearth.flac --loudness -26"
    )
)
@handles_errors
def soundscape(
    layers: Annotated[
        list[str] | None, typer.Argument(help="Layers to play together (see: narrator layers).")
    ] = None,
    scene: Annotated[
        str | None, typer.Option(help="A scene (built-in, or from --scenes) instead of layers.")
    ] = None,
    scenes: Annotated[
        Path | None, typer.Option(help="Your own scenes (TOML); layers may be file:PATH.")
    ] = None,
    duration: Annotated[
        str, typer.Option("-d", "--duration", help="Length: 8h, 45m, 1h30m, 90s or 1:30:00.")
    ] = "10m",
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file.")] = Path(
        "out/ambience.mp3"
    ),
    fmt: Annotated[
        str | None, typer.Option("--format", help="mp3, m4b, opus, ogg, flac or wav.")
    ] = None,
    loudness: Annotated[str, typer.Option(help="Target: a preset or LUFS.")] = "sleep",
    seed: Annotated[int, typer.Option(help="Same seed, same sound.")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress display.")] = False,
) -> None:
    """Render ambience alone (a scene or layers) for a given time: a bed for bedtime playlists."""
    from soundscapes.ambience import parse_duration, render_ambience, scene_from_layers
    from soundscapes.export import format_for
    from soundscapes.files import check_outputs
    from soundscapes.layers import layer_info
    from soundscapes.master import parse_target
    from soundscapes.recording import is_recording_name, recording_path
    from soundscapes.scene import BUILTIN_SCENES, get_scene, load_scenes

    if bool(layers) == bool(scene):
        raise _fail("give either layers (e.g. tide gulls) or --scene NAME, not both or neither")
    if layers:
        for name in layers:
            layer_info(name)  # unknown names fail here with the closest valid ones
    table = {**BUILTIN_SCENES, **load_scenes(scenes)} if scenes else None
    chosen = get_scene(scene, table) if scene else scene_from_layers(layers or [])
    inputs = [("scene file", scenes)] if scenes else []
    inputs += [
        ("recording", recording_path(layer.name))
        for layer in chosen.layers
        if is_recording_name(layer.name)
    ]
    check_outputs([("output", output)], inputs)
    with progress_display(quiet) as progress:
        result = render_ambience(
            chosen,
            output,
            format_for(output, fmt),
            duration_s=parse_duration(duration),
            target=parse_target(loudness),
            seed=seed,
            progress=lambda d, t: progress("ambience", d, t),
        )
    out.print(
        f"wrote {escape(str(result.output))}: {_clock(result.duration_s)}, "
        f"{result.integrated_lufs:.1f} LUFS, "
        f"true peak {result.true_peak_dbtp:.1f} dBTP, in {result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handles_errors
def cache(
    clear: Annotated[bool, typer.Option("--clear", help="Delete every cached clip.")] = False,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache folder (default: user cache).")
    ] = None,
) -> None:
    """Show the speech cache's folder and size, or clear it."""
    from narrator.speech import SpeechCache

    speech_cache = SpeechCache(cache_dir) if cache_dir else SpeechCache()
    if clear:
        removed = speech_cache.clear()
        out.print(
            f"cleared {removed} cached passages from {speech_cache.folder}",
            highlight=False,
            soft_wrap=True,  # a long folder must not break the line (scripts read it)
        )
        return
    size = speech_cache.size_bytes()
    out.print(
        f"{speech_cache.folder}: {len(speech_cache)} passages, {size / 2**20:.1f} MiB",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handles_errors
def voices(
    engine: Annotated[str | None, typer.Option(help="Only this engine.")] = None,
    voice: Annotated[
        str | None,
        typer.Option(help="List this voice's speakers (e.g. a multi-speaker Piper .onnx)."),
    ] = None,
) -> None:
    """List speech engines, whether each is installed, and their voices."""
    from narrator.speech import engine_available, engine_names, list_speakers, list_voices

    if voice is not None:
        name = engine or "piper"
        speakers = list_speakers(name, voice)
        out.print(f"[bold]{name}[/] voice {voice}: {len(speakers)} speaker(s)", highlight=False)
        for speaker_id, speaker in speakers:
            out.print(f"  {speaker_id:>4}  {speaker}", highlight=False)
        if len(speakers) > 1:
            out.print("  choose one with --setting speaker=NAME (or speaker_id=N)", highlight=False)
        return
    names = [engine] if engine else engine_names()
    for name in names:
        try:
            available = engine_available(name)
        except SpeechError as exc:
            if engine:  # asked for by name: the reason is the answer
                raise
            reason = Text.assemble((name, "bold"), ": not usable (", str(exc), ")")
            out.print(reason, soft_wrap=True)
            continue
        out.print(f"[bold]{name}[/]: {'installed' if available else 'not installed'}")
        if available:
            for voice_id in list_voices(name):
                out.print(f"  {voice_id}", highlight=False)


def _clock(seconds: float) -> str:
    h, rest = divmod(round(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@contextlib.contextmanager
def progress_display(quiet: bool):
    """A progress display on standard error (only on a terminal); yields ``progress(stage,
    done, total)``."""
    show = not quiet and err.is_terminal
    with Progress(
        TextColumn("{task.description:>8}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress


import narrator.cli_publish  # noqa: E402, F401  (registers batch, feed and playlist)


def main(argv: list[str] | None = None) -> None:
    """The ``narrator`` command. A mistyped command line (a word where a number belongs, an
    unknown option) is one ``error:`` line and exit code 1, like every other bad input."""
    _catch_stop_signals()
    try:
        code = app(args=argv, prog_name="narrator", standalone_mode=False)
    except BrokenPipeError:  # e.g. `narrator voices | head`
        sys.stderr.close()
        return
    except typer.Abort:  # an interrupt outside a command's own body (click turns it into this)
        err.print("interrupted; nothing was written", highlight=False)
        sys.exit(143 if _stopped_by == 15 else 130)
    except typer.TyperException as exc:  # typer's usage errors (its click's ClickException)
        show = getattr(exc, "show", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and show is not None:
            show()  # `narrator` alone: the help
            sys.exit(0)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        context = getattr(exc, "ctx", None)
        where = f"; see: {context.command_path} --help" if context is not None else ""
        _print_error(" ".join(message.split()).rstrip(".") + where)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
