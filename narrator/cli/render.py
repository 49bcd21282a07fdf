"""The commands on one story: ``narrator render``, ``passages`` and ``plan``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from narrator.cli import display
from narrator.cli.app import app, handles_errors
from narrator.cli.display import fail, out, warn


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
    from narrator.render.pipeline import RenderOptions, render_story

    kwargs = {} if jobs is None else {"jobs": jobs}
    pairs = []
    for item in setting or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise fail(f"--setting {item!r} must be KEY=VALUE, e.g. --setting length_scale=1.5")
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
    with display.progress_display(quiet) as progress:
        report = render_story(story, options, progress=progress)
    for warning in report.get("warnings", []):
        warn(warning)
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

    from narrator.render.overview import passages_overview

    overview = passages_overview(story, pace_wpm=pace, lexicon=lexicon, plan_file=plan)
    if as_json:
        out.print_json(json.dumps(overview), ensure_ascii=False)
        return
    for warning in overview["script"]["warnings"]:
        warn(warning)
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
    from narrator.direction.plan import plan_story
    from narrator.direction.planfile import write_plan
    from narrator.text.script import parse_story
    from soundscapes.files import check_outputs
    from soundscapes.output.export import check_writable, write_text_atomic

    script = parse_story(story)
    if output is None and str(story) == "-":
        raise fail("a story from standard input has no name to derive the plan's: give -o")
    target = output or story.with_name(story.stem + ".plan.toml")
    check_outputs([("plan", target)], [("story", story)])
    check_writable(target)
    write_text_atomic(target, write_plan(script, plan_story(script)))
    out.print(f"wrote {escape(str(target))}: {len(script.passages)} passages", highlight=False)
