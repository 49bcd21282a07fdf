"""The soundscape commands: ``narrator layers`` and ``narrator soundscape``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from narrator.cli import display
from narrator.cli.app import app, handles_errors
from narrator.cli.display import fail, out


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
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Output file (default: out/ambience.FORMAT)."),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="mp3, m4b, opus, ogg, flac or wav.")
    ] = None,
    loudness: Annotated[str, typer.Option(help="Target: a preset or LUFS.")] = "sleep",
    seed: Annotated[int, typer.Option(help="Same seed, same sound (0 or more).")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress display.")] = False,
) -> None:
    """Render ambience alone (a scene or layers) for a given time: a bed for bedtime playlists."""
    from soundscapes.background import warm_up

    # The fork server (the bed's processes come from it) boots, most of a second of imports,
    # while this process imports the mastering and checks what was asked for.
    warm_up()
    from narrator.options import BY_KEY, check_value
    from soundscapes.ambience import (
        bed_timeline,
        parse_duration,
        render_ambience,
        scene_from_layers,
    )
    from soundscapes.files import check_outputs
    from soundscapes.layers import layer_info
    from soundscapes.output.formats import DEFAULT_FORMAT, format_for, get_format
    from soundscapes.output.master import parse_target
    from soundscapes.recording import is_recording_name, recording_path
    from soundscapes.scene import BUILTIN_SCENES, choosable, get_scene, load_scenes

    seed = check_value(BY_KEY["seed"], seed, "--seed")  # the range render's --seed has
    if output is None:  # --format names the suffix, as render's default output does
        named = format_for(Path("--format"), fmt or DEFAULT_FORMAT)
        output = Path("out") / f"ambience{get_format(named).suffix}"
    if str(output) == "-":
        raise fail("-o -: a bed is written to a file, not a stream; give a file name")
    if bool(layers) == bool(scene):
        raise fail("give either layers (e.g. tide gulls) or --scene NAME, not both or neither")
    if layers:
        for name in layers:
            layer_info(name)  # unknown names fail here with the closest valid ones
    # The soft bed a plan names may be chosen here too; a scene of the user's own wins.
    table = choosable({**BUILTIN_SCENES, **(load_scenes(scenes) if scenes else {})})
    chosen = get_scene(scene, table) if scene else scene_from_layers(layers or [])
    inputs = [("scene file", scenes)] if scenes else []
    inputs += [
        ("recording", recording_path(layer.name))
        for layer in chosen.layers
        if is_recording_name(layer.name)
    ]
    check_outputs([("output", output)], inputs, audio=("output",))
    with display.progress_display(quiet) as progress:
        result = render_ambience(
            bed_timeline(chosen, parse_duration(duration), seed=seed),
            output,
            format_for(output, fmt),
            target=parse_target(loudness),
            progress=lambda d, t: progress("ambience", d, t),
        )
    for warning in result.warnings:
        display.warn(warning)
    out.print(
        f"wrote {escape(str(result.output))}: {display.clock(result.duration_s)}, "
        f"{result.integrated_lufs:.1f} LUFS, "
        f"true peak {result.true_peak_dbtp:.1f} dBTP, in {result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
