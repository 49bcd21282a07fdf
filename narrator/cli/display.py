"""What the command line shows: the two consoles, error and warning lines, progress bars.

The only module (with the command modules that use it) that prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

out = Console()
err = Console(stderr=True)

#: ``-q``: the option of every command that shows progress.
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="No progress display.")]
#: The argument of every command that reads one story.
StoryFile = Annotated[Path, typer.Argument(help="The story: .txt or .md, or - for stdin.")]

#: ``progress(stage, done, total)``: what the library reports as it works.
Progress_ = Callable[[str, int, int], None]


def print_error(message: str) -> None:
    """One ``error:`` line per line of ``message`` (a check that finds several problems says
    each on its own line)."""
    for line in message.splitlines() or [""]:
        # Text, not markup: the message is the user's text and may hold brackets ("\\[").
        err.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as the one error line; the command exits with code 1."""
    print_error(message)
    return typer.Exit(code=1)


def warn(message: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "episode")`` → ``1 episode``; ``count(3, "entry", "entries")`` → ``3 entries``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def clock(seconds: float) -> str:
    """``3725`` → ``1:02:05``; under an hour ``2:05``."""
    h, rest = divmod(round(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def minutes(seconds: float | None) -> str:
    """``125`` → ``2:05``; nothing for no value."""
    if seconds is None:
        return ""
    whole, rest = divmod(round(seconds), 60)
    return f"{whole}:{rest:02d}"


def progress_bars(*columns: ProgressColumn, quiet: bool) -> Progress:
    """Bars with ``columns`` on standard error, shown only on a terminal and gone when done."""
    return Progress(*columns, console=err, disable=quiet or not err.is_terminal, transient=True)


@contextlib.contextmanager
def progress_display(quiet: bool) -> Iterator[Progress_]:
    """A progress display on standard error (only on a terminal); yields ``progress(stage,
    done, total)``."""
    with progress_bars(
        TextColumn("{task.description:>8}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        quiet=quiet,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress
