"""The commands on one story: ``narrator render``, ``passages`` and ``plan``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from narrator.cli import display
from narrator.cli.app import app, handles_errors
from narrator.cli.declared import with_options
from narrator.cli.display import Quiet, StoryFile, fail, out, warn
from narrator.options import CLI, keys_for

if TYPE_CHECKING:
    from narrator.direction.planupdate import PlanUpdate


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
@with_options(*keys_for(CLI))
def render(
    story: StoryFile,
    *,
    options: dict,
    quiet: Quiet = False,
) -> None:
    """Render STORY (.txt or .md; - for standard input) to a narrated, scored, mastered file."""
    from narrator.speech import warm_up_for_render

    # The fork server (the ambience's processes and the speech workers come from it) boots,
    # about a second of imports, while this process imports the pipeline and reads the story
    # (the narrator command has started it already: narrator.console).
    warm_up_for_render()
    from narrator.render.pipeline import render_story

    with display.progress_display(quiet) as progress:
        result = render_story(story, options, progress=progress)
    for warning in result.warnings:
        warn(warning)
    out.print(
        f"wrote {escape(str(result.output))}: {display.clock(result.duration_s)}, "
        f"{result.integrated_lufs:.1f} LUFS, true peak {result.true_peak_dbtp:.1f} dBTP, "
        f"voice {result.voice_over_ambience_lu:.1f} LU over ambience, "
        f"{result.pace_wpm:.0f} wpm, speech cache {result.cache_hits} hits / "
        f"{result.cache_misses} new, in {result.total_s:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handles_errors
@with_options("pace", "lexicon", "plan", "scene", "scenes")
def passages(
    story: StoryFile,
    *,
    options: dict,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")] = False,
) -> None:
    """Show how STORY splits into passages, and the scene under each, without synthesizing."""
    import json

    from narrator.render.overview import passages_overview

    overview = passages_overview(story, options)
    if as_json:
        out.print_json(json.dumps(overview), ensure_ascii=False)
        return
    for warning in overview["warnings"]:
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
    count, words, seconds = len(overview["rows"]), overview["words"], overview["estimated_s"]
    length = f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
    out.print(
        f"{display.count(count, 'passage')}, {display.count(words, 'word')}, about {length} "
        f"at {overview['pace_wpm']:g} wpm"
    )


@app.command(
    epilog=(
        "Examples:\n\n"
        "  narrator plan story.txt -o story.plan.toml\n\n"
        "  narrator render story.txt --plan story.plan.toml"
    )
)
@handles_errors
@with_options("pace", "lexicon", "scene", "scenes")
def plan(
    story: StoryFile,
    *,
    options: dict,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Plan file (default: STORY.plan.toml).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write over a plan file that differs (your edits go).")
    ] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Bring a plan made before the story changed up to date, keeping its edits.",
        ),
    ] = False,
) -> None:
    """Write the scene plan of STORY as an editable TOML file, for render --plan.

    The plan is made as a render would make it with the same options: at a slower --pace each
    passage lasts longer, so a briefer mention can hold a scene of its own. A plan file that is
    there already and differs (edited, or made before the story changed) is kept unless
    --force. After editing the story, --update carries the plan's scenes and gains over to
    it: passages unchanged or edited in place keep theirs, new passages are planned (comments
    added to the file are not kept)."""
    from narrator.direction.planfile import write_plan
    from narrator.direction.planupdate import is_stale, update_plan
    from narrator.render.files import render_inputs
    from narrator.render.pipeline import story_plan
    from narrator.render.story import load_story
    from soundscapes.files import check_outputs, check_writable
    from soundscapes.output.export import write_text_atomic

    if force and update:
        raise fail(
            "--force and --update disagree: --update keeps the plan's edits, --force drops "
            "them; give one"
        )
    script, settings, user_scenes = load_story(story, options)
    if output is None and str(story) == "-":
        raise fail("a story from standard input has no name to derive the plan's: give -o")
    target = output or story.with_name(story.stem + ".plan.toml")
    check_outputs([("plan", target)], render_inputs(story, settings, script, user_scenes))
    check_writable(target)
    fresh = story_plan(script, settings, user_scenes)
    there = _plan_there(target)
    if update and there is not None:
        done = update_plan(
            there, script, fresh, source=str(target), scenes=user_scenes, folder=target.parent
        )
        if not is_stale(there, script) and not done.cued:
            out.print(
                f"{escape(str(target))} is up to date with the story",
                highlight=False,
                soft_wrap=True,  # a long path is not broken over lines (a script reads this)
            )
            return
        write_text_atomic(target, write_plan(script, done.plan, target.parent))
        out.print(
            f"updated {escape(str(target))}: {_carried(done)}", highlight=False, soft_wrap=True
        )
        return
    text = write_plan(script, fresh, target.parent)
    if there is not None:
        if there == text:
            out.print(f"{escape(str(target))} is up to date", highlight=False, soft_wrap=True)
            return
        if not force and is_stale(there, script):
            raise fail(
                f"{target}: the plan there was made before the story changed; bring it up to "
                "date with --update (its edits stay), or write over it with --force (they go)"
            )
        if not force:
            raise fail(
                f"{target}: a plan is there already and differs from the one made now (edited); "
                f"render it with --plan {target}, write the new one elsewhere with -o, or over "
                "it with --force (its edits go)"
            )
    write_text_atomic(target, text)
    out.print(
        f"wrote {escape(str(target))}: {display.count(len(script.passages), 'passage')}",
        highlight=False,
        soft_wrap=True,
    )


def _plan_there(target: Path) -> str | None:
    """The text of the plan file at ``target``, or ``None`` if there is none (or it is no
    text: writing over it is then what --force is for)."""
    if not target.is_file():
        return None
    try:
        return target.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


def _carried(done: PlanUpdate) -> str:
    """What ``plan --update`` did, for the user: passages kept, planned anew, dropped."""

    def which(indices: tuple[int, ...]) -> str:
        shown = ", ".join(str(i) for i in indices[:6]) + (", …" if len(indices) > 6 else "")
        return f" ({'passage' if len(indices) == 1 else 'passages'} {shown})"

    said = [f"{display.count(len(done.kept) + len(done.edited), 'passage')} kept their scenes"]
    if done.edited:
        # The story's words, not the plan's entries (the user's edits there are all kept).
        said[0] += f", {len(done.edited)} of them reworded in the story{which(done.edited)}"
    if done.new:
        said.append(f"{len(done.new)} planned anew{which(done.new)}")
    if done.cued:
        takes = "takes the scene of its cue" if len(done.cued) == 1 else "take their cues' scenes"
        said.append(f"{len(done.cued)} {takes}{which(done.cued)}")
    if done.dropped:
        said.append(
            f"{len(done.dropped)} old {'entry' if len(done.dropped) == 1 else 'entries'} "
            f"dropped{which(done.dropped)}"
        )
    return "; ".join(said)
