"""The publishing commands: ``narrator batch``, ``feed``, ``site`` and ``playlist``.

Registered on the one app when :mod:`narrator.cli` imports this module. Like the rest of
the CLI, these parse, call the library and print; the library never prints or exits.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from narrator.cli import display
from narrator.cli.app import app, handles_errors
from narrator.cli.declared import with_options
from narrator.cli.display import Quiet, err, out, warn

#: The argument every publishing command takes.
ManifestFile = Annotated[Path, typer.Argument(help="The manifest (TOML) listing the episodes.")]
#: Where the feed will be served (``feed`` and ``site``).
FeedUrl = Annotated[
    str | None,
    typer.Option(help="Where the feed is served (default: base_url + the feed's file name)."),
]


@app.command(
    epilog=(
        "Examples:\n\n"
        "  narrator batch podcast.toml                # render what changed, on every core\n\n"
        "  narrator batch podcast.toml --jobs 1       # one episode at a time\n\n"
        "  narrator batch podcast.toml --force        # render everything again\n\n"
        "  narrator batch podcast.toml --scheduler tcp://10.0.0.5:8786   # on a Dask cluster"
    )
)
@handles_errors
@with_options("cache_dir")
def batch(
    manifest: ManifestFile,
    *,
    options: dict,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Episodes rendered at once (default: all cores)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Render every episode, even those up to date.")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Render on a Dask cluster: its scheduler (tcp://HOST:8786), or local:N for N "
            "worker processes here. Needs pip install 'narrator\\[cluster]'."
        ),
    ] = None,
    shared_dir: Annotated[
        Path | None,
        typer.Option(help="With --scheduler: a folder every worker mounts, where they write."),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Render every episode of MANIFEST that changed since its last render, in parallel."""
    from narrator.options import BY_KEY, check_value
    from narrator.publish.batch import EpisodeResult, run_batch
    from narrator.publish.manifest import load_manifest
    from soundscapes.children import usable_cpus

    if jobs is not None:  # the range render's --jobs has: a job is a process
        jobs = check_value(BY_KEY["jobs"], jobs, "--jobs")
    spec = load_manifest(manifest)
    workers = jobs if jobs is not None else usable_cpus()
    with display.progress_bars(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        quiet=quiet,
    ) as bar:
        task = bar.add_task("episodes", total=len(spec.episodes))
        finished: list[str] = []  # episodes' file names, as they finish

        def progress(result: EpisodeResult, done: int, total: int) -> None:
            if result.status == "rendered":
                finished.append(result.episode.output.name)
            name = escape(result.episode.story_ref)
            bar.update(task, completed=done, total=total, description=name)

        def on_cluster(running: dict[str, str], queued: int) -> None:
            held = ", ".join(f"{escape(e)} on {escape(w)}" for e, w in sorted(running.items()))
            bar.update(task, description=f"running: {held or '—'}; queued: {queued}")

        if shared_dir is not None and scheduler is None:
            raise display.fail("--shared-dir goes with --scheduler (a folder the workers mount)")
        try:
            result = run_batch(
                spec,
                jobs=workers,
                force=force,
                progress=progress,
                cache_dir=options.get("cache_dir"),
                scheduler=scheduler,
                shared_dir=shared_dir,
                on_cluster=on_cluster,
            )
        except KeyboardInterrupt:
            # Which episodes are whole, so an interrupted night's batch is not taken for lost.
            if finished:
                with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
                    err.print(
                        f"finished before the interrupt, and kept: {escape(', '.join(finished))}",
                        highlight=False,
                        soft_wrap=True,
                    )
            raise

    # Titles and paths are the user's text: escaped, so "[draft]" is not read as rich markup.
    table = Table(
        "#", "episode", "story", "status", "length", "render s", title=escape(spec.podcast.title)
    )
    style = {"rendered": "green", "skipped": "dim", "failed": "bold red"}
    for r in result.results:
        ep = r.episode
        status = "up to date" if r.status == "skipped" else r.status
        table.add_row(
            str(ep.number_in_manifest),
            escape(r.title),
            escape(ep.story_ref),
            f"[{style[r.status]}]{status}[/]",
            display.minutes(r.duration_s),
            f"{r.elapsed_s:.1f}" if r.status != "skipped" else "",
        )
    out.print(table)
    for r in result.results:
        for warning in r.warnings:
            warn(warning)
        if r.replaced is not None:
            out.print(
                f"{escape(r.episode.name)}: written as {escape(r.episode.output.name)} now; "
                f"its earlier file {escape(r.replaced.name)} and its sidecars are removed",
                highlight=False,
                soft_wrap=True,
            )
    for r in result.failed:
        err.print(Text.assemble(("error:", "bold red"), " ", r.error or ""), soft_wrap=True)
    rendered, skipped, failed = len(result.rendered), len(result.skipped), len(result.failed)
    if not rendered and not failed:
        every = "the episode is" if skipped == 1 else f"all {skipped} episodes are"
        out.print(
            f"nothing to render: {every} up to date (--force renders "
            f"{'it' if skipped == 1 else 'them'} again)",
            highlight=False,
        )
    else:
        minutes = result.elapsed_s / 60
        jobs = result.jobs
        where = f"on {scheduler}" if scheduler else f"with {display.count(jobs, 'job')}"
        rate = f", {rendered / minutes:.1f} episodes/min" if rendered and minutes > 0 else ""
        out.print(
            f"{rendered} rendered, {skipped} up to date, {failed} failed in "
            f"{result.elapsed_s:.1f} s {where}{rate}",
            highlight=False,
        )
    if rendered:
        _say_what_to_publish(spec, manifest)
    if failed:
        raise typer.Exit(code=1)


def _say_what_to_publish(spec, manifest: Path) -> None:
    """After new renders: the feed, site and playlist already written in the output folder
    still list the episodes as they were until their commands run again; say which."""
    from narrator.publish.manifest import DEFAULT_FEED_NAME, DEFAULT_PLAYLIST_NAME, SITE_INDEX

    there = {name for name in (DEFAULT_FEED_NAME, SITE_INDEX, DEFAULT_PLAYLIST_NAME)
             if (spec.output_dir / name).is_file()}  # fmt: skip
    # The site writes the feed too.
    commands = ["site"] if SITE_INDEX in there else ["feed"] if DEFAULT_FEED_NAME in there else []
    commands += ["playlist"] if DEFAULT_PLAYLIST_NAME in there else []
    made = [f"narrator {command} {manifest}" for command in commands]
    if made:
        out.print(
            f"to publish the new renders, run again: {'; '.join(escape(m) for m in made)}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
@handles_errors
def feed(
    manifest: ManifestFile,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Feed file (default: OUTPUT_DIR/feed.xml)."),
    ] = None,
    feed_url: FeedUrl = None,
) -> None:
    """Write the podcast feed (RSS 2.0, iTunes and Podcasting 2.0) of MANIFEST's episodes."""
    from narrator.publish.feed import write_feed
    from narrator.publish.manifest import DEFAULT_FEED_NAME, load_manifest

    spec = load_manifest(manifest)
    result = write_feed(spec, output or spec.output_dir / DEFAULT_FEED_NAME, feed_url=feed_url)
    for warning in result.warnings:
        warn(warning)
    out.print(
        escape(
            f"{'wrote' if result.changed else 'up to date:'} {result.path}: "
            f"{display.count(result.items, 'episode')}; subscribe at {result.feed_url} "
            f"(podcast:guid {result.podcast_guid})"
        ),
        highlight=False,
        soft_wrap=True,
    )


@app.command(
    epilog=(
        "Examples:\n\n"
        "  narrator site podcast.toml        # public/index.html, public/episodes/*.html, "
        "public/feed.xml"
    )
)
@handles_errors
def site(
    manifest: ManifestFile,
    feed_url: FeedUrl = None,
) -> None:
    """Write the show's website into OUTPUT_DIR with its feed: index.html (cover, description,
    the feed to subscribe to, the episodes newest first) and a page per episode (player,
    chapters, transcript, download). Only pages whose episode or show changed are written."""
    from narrator.publish.manifest import DEFAULT_FEED_NAME, load_manifest
    from narrator.publish.site import write_site

    spec = load_manifest(manifest)
    result = write_site(spec, spec.output_dir / DEFAULT_FEED_NAME, feed_url=feed_url)
    for warning in result.feed.warnings:
        warn(warning)
    pages = len(result.pages) + 1
    changed = len(result.written)
    counted = display.count(pages, "page")
    feed = "" if result.feed.changed else " (up to date)"
    verb = "wrote" if changed or result.feed.changed or result.removed else "up to date:"
    out.print(
        escape(
            f"{verb} the website {result.index} ({counted}: {changed} changed, "
            f"{pages - changed} up to date{_removed(result.removed)}) and the feed "
            f"{result.feed.path}{feed}; subscribe at {result.feed.feed_url}"
        ),
        highlight=False,
        soft_wrap=True,
    )


def _removed(pages: tuple[Path, ...]) -> str:
    """What the site's line adds for the pages of episodes no longer in the manifest."""
    if not pages:
        return ""
    return f", {len(pages)} removed: {', '.join(page.name for page in pages)}"


@app.command()
@handles_errors
def playlist(
    manifest: ManifestFile,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Playlist file (default: OUTPUT_DIR/bedtime.m3u8)."),
    ] = None,
    closer_minutes: Annotated[
        float | None,
        typer.Option(help="End with this many minutes of ambience alone."),
    ] = None,
    closer_scene: Annotated[
        str | None,
        typer.Option(help="Scene of the closer (default: the last episode's final scene)."),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Write an extended M3U bedtime playlist of MANIFEST's episodes, optionally with a closer."""
    from narrator.publish.manifest import DEFAULT_PLAYLIST_NAME, load_manifest
    from narrator.publish.playlist import write_playlist

    spec = load_manifest(manifest)
    with display.progress_display(quiet) as progress:
        result = write_playlist(
            spec,
            output or spec.output_dir / DEFAULT_PLAYLIST_NAME,
            closer_minutes=closer_minutes,
            closer_scene=closer_scene,
            progress=progress,
        )
    for warning in result.warnings:
        warn(warning)
    closer = ""
    if result.closer is not None:
        state = "rendered" if result.closer_rendered else "up to date"
        closer = f"; closer {result.closer.name} ({state})"
    out.print(
        escape(
            f"{'wrote' if result.changed else 'up to date:'} {result.path}: "
            f"{display.count(len(result.entries), 'entry', 'entries')}, "
            f"{display.minutes(result.duration_s)}"
        )
        + escape(closer),
        highlight=False,
        soft_wrap=True,
    )
    for gone in result.retired:
        out.print(
            escape(f"removed {gone.name}: no playlist ends with it now"),
            highlight=False,
            soft_wrap=True,
        )
