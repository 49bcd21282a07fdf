"""The speech commands: ``narrator voices`` and ``narrator cache``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from narrator.cli.app import app, handles_errors
from narrator.cli.display import count, out
from narrator.errors import SpeechError


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
    speech_cache.check_folder()
    if not speech_cache.exists():
        out.print(
            f"{speech_cache.folder}: no speech cache there yet; nothing to "
            f"{'clear' if clear else 'show'}",
            highlight=False,
            soft_wrap=True,  # a long folder must not break the line (scripts read it)
        )
        return
    if clear:
        removed = speech_cache.clear()
        out.print(
            f"cleared {count(removed, 'cached passage')} from {speech_cache.folder}",
            highlight=False,
            soft_wrap=True,
        )
        return
    size = speech_cache.size_bytes()
    ours = "" if speech_cache.is_ours() or cache_dir is None else " (not a narrator speech cache)"
    clips = count(len(speech_cache), "passage")
    out.print(
        f"{speech_cache.folder}: {clips}, {size / 2**20:.1f} MiB{ours}",
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
    from narrator.speech.registry import describe_engine

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
            for line in describe_engine(name):
                out.print(Text(f"  {line}"), soft_wrap=True)
            for voice_id in list_voices(name):
                out.print(f"  {voice_id}", highlight=False)
