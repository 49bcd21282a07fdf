"""Pronunciation: words or phrases respelled the way they should be said, before synthesis.

Whole words only. An entry written in lower case matches any capitalisation ("nyx" matches "Nyx"
and "NYX"); an entry with capitals matches only that spelling ("May" the name, not "may").
A lexicon file is TOML: ``Nyx = "nicks"`` lines, optionally under a ``[pronounce]`` table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from narrator.errors import ScriptError


class Lexicon:
    """Respell words and phrases in text; empty lexicons change nothing."""

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        self.entries = {k.strip(): v.strip() for k, v in (entries or {}).items() if k.strip()}
        keys = sorted(self.entries, key=len, reverse=True)
        exact = [k for k in keys if k != k.lower()]
        folded = [k for k in keys if k == k.lower()]
        self._exact = self._pattern(exact, 0)
        self._folded = self._pattern(folded, re.IGNORECASE)
        self._lower = {k.lower(): v for k, v in self.entries.items() if k == k.lower()}

    @staticmethod
    def _pattern(keys: list[str], flags: int) -> re.Pattern[str] | None:
        if not keys:
            return None
        alternatives = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys)
        return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])", flags)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def apply(self, text: str) -> str:
        if self._exact is not None:
            text = self._exact.sub(lambda m: self.entries[m.group(0)], text)
        if self._folded is not None:
            text = self._folded.sub(
                lambda m: self._lower[re.sub(r"\s+", " ", m.group(0)).lower()], text
            )
        return text

    def merged(self, other: Mapping[str, str]) -> Lexicon:
        """A lexicon with ``other``'s entries added (they win on a clash)."""
        return Lexicon({**self.entries, **other})


def load_lexicon(path: Path) -> Lexicon:
    """Read a TOML lexicon file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such lexicon file; check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScriptError(
            f'{path}: not a valid TOML lexicon ({exc}); write lines like Nyx = "nicks"'
        ) from None
    entries = data.get("pronounce", data)
    bad = [k for k, v in entries.items() if not isinstance(v, str)]
    if bad:
        raise ScriptError(f'{path}: entry {bad[0]!r} must be text, e.g. {bad[0]} = "..."')
    return Lexicon(entries)
