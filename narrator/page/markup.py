"""The HTML building blocks of every page: escaping, the document around a body (the style
and script inlined, so one file is the whole page), and how times, dates and figures read.
"""

from __future__ import annotations

import html
import math
from datetime import date
from functools import cache
from importlib import resources
from urllib.parse import quote

import narrator
from narrator.page import PageError

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
#: The minus sign figures are written with (U+2212), not a hyphen.
MINUS = "\u2212"
#: How every page says narrator wrote it (its ``generator`` meta, before the version), so
#: that a page of an episode gone from a show can be told from a file of the user's.
GENERATOR_MARK = '<meta name="generator" content="narrator '


def esc(value: object) -> str:
    """``value`` as HTML text or a quoted attribute value: ``& < > " '`` escaped."""
    return html.escape(str(value), quote=True)


def href(relative: str) -> str:
    """A relative POSIX path as an escaped URL: characters a URL cannot hold (spaces, ``#``,
    ``?``, non-ASCII) percent-encoded, so ``my story.mp3`` is ``my%20story.mp3``."""
    return esc(quote(relative, safe="/"))


def clock(seconds: float, *, hours: bool = False) -> str:
    """``391.5`` → ``6:31``; ``3725`` → ``1:02:05`` (whole seconds, rounded down, as a player's
    clock shows them); with ``hours``, ``0:06:31`` (the width a long file's clock keeps)."""
    whole = max(0, math.floor(seconds + 1e-6))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h or hours else f"{m}:{s:02d}"


def iso_duration(seconds: float) -> str:
    """A ``<time datetime>`` duration: ``391.5`` → ``PT6M31S`` (the whole seconds
    :func:`clock` shows, so the element never says 59:59 of an hour)."""
    h, rest = divmod(max(0, math.floor(seconds + 1e-6)), 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{s}S"


def long_date(day: date) -> str:
    """``2025-01-06`` → ``6 January 2025`` (the same on every machine, whatever its locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def figure(value: float, digits: int = 1) -> str:
    """A figure as a page prints it: ``-20`` → ``−20.0`` (a true minus sign)."""
    text = f"{value:.{digits}f}"
    return MINUS + text[1:] if text.startswith("-") else text


@cache
def _asset(name: str) -> str:
    text = resources.files("narrator.page").joinpath(name).read_text(encoding="utf-8")
    # Inlined as raw text: a closing tag inside would end the element early.
    if "</" in text:  # a packaging fault, checked even under python -O
        raise PageError(f"narrator/page/{name} holds '</', which would end its element early")
    return text.strip()


def document(*, title: str, body: str, lang: str = "en", description: str = "") -> str:
    """A whole page: ``body`` (already escaped HTML) in a document with its style and script
    inlined, dark unless the reader's system prefers light, and an empty icon (a plain web
    server would otherwise answer the browser's ``/favicon.ico`` with a 404)."""
    about = f'<meta name="description" content="{esc(description)}">\n' if description else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="dark light">\n'
        f'{GENERATOR_MARK}{esc(narrator.__version__)}">\n'
        f"{about}"
        f"<title>{esc(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>\n{_asset('page.css')}\n</style>\n"
        "</head>\n"
        "<body>\n"
        f"{body}\n"
        f"<script>\n{_asset('page.js')}\n</script>\n"
        "</body>\n"
        "</html>\n"
    )
