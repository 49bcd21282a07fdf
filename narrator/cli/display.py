"""What the command line shows: the two consoles, error and warning lines, progress bars.

The only module (with the command modules that use it) that prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

out = Console()
err = Console(stderr=True)

#: ``progress(stage, done, total)``: what the library reports as it works.
Progress_ = Callable[[str, int, int], None]


def print_error(message: str) -> None:
    # Text, not markup: the message is the user's text and may hold brackets ("\\[").
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as the one error line; the command exits with code 1."""
    print_error(message)
    return typer.Exit(code=1)


def warn(message: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)


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


@contextlib.contextmanager
def progress_display(quiet: bool) -> Iterator[Progress_]:
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
