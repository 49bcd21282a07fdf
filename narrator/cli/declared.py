"""Command-line options made from their one declaration (:data:`narrator.options.OPTIONS`):
the flag, type, help, range and default shown come from there, so ``--help``, front matter,
manifests and the README agree.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from narrator.options import BY_KEY, Option, check_value

_TYPES: dict[str, Any] = {
    "float": float | None,
    "int": int | None,
    "bool": bool | None,
    "path": Path | None,
    "settings": list[str] | None,
}


def help_text(option: Option) -> str:
    """The option's help with its range and default, as ``--help`` and the README show it."""
    parts = [option.help]
    extent = option.describe_range()
    if extent:
        parts.append(f"({extent})")
    default = option.default_text or (
        None if option.default in (None, ()) else _shown(option.default, option)
    )
    if default is not None:
        parts.append(f"(default: {default})")
    return " ".join(parts)


def _shown(value: Any, option: Option) -> str:
    if option.kind == "bool":
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def parameter(key: str) -> inspect.Parameter:
    """The typer parameter for the declared option ``key``; ``None`` means not given."""
    option = BY_KEY[key]
    names: list[str]
    if option.kind == "bool":
        names = [f"{option.flag}/--no-{option.flag[2:]}"]
    else:
        names = [*([option.short] if option.short else []), option.flag]
    declared = typer.Option(
        *names,
        help=help_text(option),
        metavar=option.metavar or ("PATH" if option.kind == "path" else None),
        show_default=False,
    )
    kind = _TYPES.get(option.kind, str | None)
    return inspect.Parameter(
        key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind, declared]
    )


def with_options(*keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the declared options ``keys`` to a command: they arrive, checked, as one dict
    ``options`` (only those given on the command line)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func, eval_str=True)
        own = [p for name, p in signature.parameters.items() if name != "options"]
        positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {key: kwargs.pop(key) for key in keys}
            options = {
                key: check_value(BY_KEY[key], value, BY_KEY[key].flag)
                for key, value in given.items()
                if value is not None and value != []
            }
            return func(*args, options=options, **kwargs)

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*positional, *(parameter(k) for k in keys), *keyword]
        )
        return wrapper

    return decorate


def readme_table() -> str:
    """The README's table of render options, written from the declaration."""
    from narrator.options import CLI, FRONT, MANIFEST, OPTIONS

    short = {CLI: "command line", FRONT: "front matter", MANIFEST: "manifest"}
    rows = [
        "| option | default | range | may be set in | what it does |",
        "|---|---|---|---|---|",
    ]
    for option in OPTIONS:
        if option.kind == "bool":
            flag = f"`{option.flag}/--no-{option.flag[2:]}`"
        else:
            flag = f"`{option.short + ', ' if option.short else ''}{option.flag}`"
        default = option.default_text or (
            "—" if option.default in (None, ()) else _shown(option.default, option)
        )
        places = ", ".join(short[p] for p in (CLI, FRONT, MANIFEST) if p in option.places)
        rows.append(
            f"| {flag} | {default} | {option.describe_range() or '—'} | {places} | {option.help} |"
        )
    return "\n".join(rows)
