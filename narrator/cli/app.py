"""The ``narrator`` command: the typer app, and how it ends — one error line and exit code 1 for
bad input, "interrupted" and 130 for Ctrl-C.

Commands live in their own modules (:mod:`narrator.cli.render`, :mod:`~narrator.cli.sound`,
:mod:`~narrator.cli.speech`, :mod:`~narrator.cli.publish`), each registering on :data:`app`;
:mod:`narrator.cli` imports them all. The CLI is the only layer that prints or exits.
"""

from __future__ import annotations

import contextlib
import functools
import sys

import typer

from narrator.cli.display import err, fail, print_error
from narrator.errors import NarratorError
from soundscapes.errors import SoundscapeError
from soundscapes.files import sweep_noted_scratch

app = typer.Typer(
    name="narrator",
    help="Narrated sleep stories: story text in, a calm voice over a living soundscape out.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: follows it (a child process that saw the same Ctrl-C) is the interrupt's, not news.
_stopped_by: int | None = None


def _on_stop_signal(signum: int, frame: object) -> None:
    import signal

    global _stopped_by
    _stopped_by = signum
    # One Ctrl-C stops the command; an impatient second one while it stops its workers and
    # removes its scratch must not cut that short (a batch was left joining workers that
    # never heard their stop). SIGTERM, someone else's word, still raises each time.
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _catch_stop_signals() -> dict[int, object]:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal or SSH session closed) unwind the
    command: every ``finally`` runs, so temporary files go and worker processes are stopped
    (the default action would skip all that). Returns the handlers they replaced."""
    import signal

    replaced: dict[int, object] = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave them
            replaced[signum] = signal.signal(signum, _on_stop_signal)
    return replaced


def handles_errors(func):
    """Turn the packages' own errors into one red line and exit code 1 (no traceback); an
    interrupt into "interrupted" and exit code 130 (143 for SIGTERM, 129 for SIGHUP)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # What a command killed outright (kill -9) left in any folder it wrote scratch to:
        # stems and beds of gigabytes, which only a command writing there again swept.
        sweep_noted_scratch()
        # With --no-cache nothing a re-run could resume from was kept.
        cached = kwargs.get("cache") is not False
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            raise _interrupted(func.__name__, cached=cached) from None
        except (NarratorError, SoundscapeError) as exc:
            if _stopped_by is not None:
                raise _interrupted(func.__name__, cached=cached) from None
            raise fail(str(exc)) from None
        except Exception:
            if _stopped_by is not None:
                raise _interrupted(func.__name__, cached=cached) from None
            raise

    return wrapper


def _interrupted(command: str, *, cached: bool = True) -> typer.Exit:
    import signal

    # Outputs are written atomically: an interrupted command leaves none half-written.
    note = (
        "finished passages are cached and a re-run resumes"
        if command in ("render", "batch") and cached
        else "nothing was written"
    )
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
        err.print(f"interrupted; {note}", highlight=False)
    # 128 + the signal, as a shell reports it: 130 for Ctrl-C, 143 SIGTERM, 129 SIGHUP.
    return typer.Exit(code=128 + (_stopped_by or signal.SIGINT))


def main(argv: list[str] | None = None) -> None:
    """The ``narrator`` command. A mistyped command line (a word where a number belongs, an
    unknown option) is one ``error:`` line and exit code 1, like every other bad input."""
    global _stopped_by
    _stopped_by = None  # an earlier call's interrupt (in-process callers) is not this one's
    replaced = _catch_stop_signals()
    try:
        _run(argv)
    finally:
        # Called in-process, the caller's handlers come back; after an interrupt SIGINT stays
        # ignored, so an impatient second Ctrl-C cannot cut the interpreter's exit short.
        if _stopped_by is None:
            import signal

            for signum, handler in replaced.items():
                with contextlib.suppress(ValueError, OSError, TypeError):
                    signal.signal(signum, handler)


def _no_such_option(name: str, possibilities: list[str]) -> str:
    """Click's "No such option", with only the options close to what was typed: it offered
    "--jobs" for "--bogus" (its cutoff takes a shared "--" and a letter or two for close)."""
    import difflib

    close = difflib.get_close_matches(name, possibilities, n=3, cutoff=0.75)
    return f"No such option: {name}" + (f" (did you mean {', '.join(close)}?)" if close else "")


def _run(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, prog_name="narrator", standalone_mode=False)
    except BrokenPipeError:  # e.g. `narrator voices | head`
        sys.stderr.close()
        return
    except typer.Abort:  # an interrupt outside a command's own body (click turns it into this)
        err.print("interrupted; nothing was written", highlight=False)
        sys.exit(128 + (_stopped_by or 2))  # 130 for Ctrl-C, 143 SIGTERM, 129 SIGHUP
    except typer.TyperException as exc:  # typer's usage errors (its click's ClickException)
        show = getattr(exc, "show", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and show is not None:
            show()  # `narrator` alone: the help
            sys.exit(0)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if getattr(exc, "possibilities", None) is not None and getattr(exc, "option_name", None):
            message = _no_such_option(exc.option_name, exc.possibilities)
        context = getattr(exc, "ctx", None)
        where = f"; see: {context.command_path} --help" if context is not None else ""
        print_error(" ".join(message.split()).rstrip(".") + where)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
