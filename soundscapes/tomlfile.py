"""TOML inputs (scene files here; plans, lexicons and manifests in narrator): one wording for a
file that is not TOML, and the line of a key or a table for every other mistake, since
:mod:`tomllib` keeps no positions.
"""

from __future__ import annotations

import re
import tomllib

from soundscapes.errors import clip

#: Where tomllib says the mistake is, at the end of its message.
_WHERE_RE = re.compile(r"\s*\((?:at line (?P<line>\d+), column \d+|at end of document)\)$")
#: What a syntax error asks for when the caller has no better example.
CHECK_SYNTAX = "check the quotes, brackets and = signs"


def toml_error(
    exc: tomllib.TOMLDecodeError,
    source: str,
    text: str,
    *,
    first_line: int = 1,
    subject: str = "",
    fix: str = CHECK_SYNTAX,
) -> str:
    """One line for a file that is not valid TOML: ``source:line: not valid TOML (why); fix``.

    ``first_line``: the file line ``text`` starts on (front matter starts after its fence);
    ``subject`` goes before "not valid TOML" (``front matter is ``).
    """
    where = _WHERE_RE.search(str(exc))
    line = int(where["line"]) if where and where["line"] else text.rstrip("\n").count("\n") + 1
    reason = clip(_WHERE_RE.sub("", str(exc)))  # it may quote the user's text
    return f"{source}:{line + first_line - 1}: {subject}not valid TOML ({reason}); {fix}"


class TomlLines:
    """Finds the lines of keys and tables in a TOML text, for ``file:line`` in messages."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.split("\n")

    def at(self, index: int) -> str:
        """``source:line`` of the 0-based line ``index``."""
        return f"{self.source}:{index + 1}"

    def find(self, key: str, start: int = 0, end: int | None = None) -> str:
        """``source:line`` of the first ``key =`` (or ``[key]`` header) in lines ``start:end``;
        ``source:start`` (or ``source``) when there is none."""
        k = re.escape(key)
        pattern = re.compile(rf'(^|[\s{{,])("{k}"|\'{k}\'|{k})\s*=|^\s*\[+\s*([\w.-]+\.)?{k}\s*\]')
        for n in range(start, len(self.lines) if end is None else end):
            line = self.lines[n]
            if not line.lstrip().startswith("#") and pattern.search(line):
                return self.at(n)
        return self.at(start) if start else self.source

    def table(self, *path: str) -> tuple[int, int | None]:
        """The 0-based lines ``[start, end)`` of the table ``[a.b]`` (``path`` ``a``, ``b``);
        where it has no header of its own (an inline or dotted table), from the first line
        naming its last key to the end."""
        names = [rf"(?:{re.escape(p)}|\"{re.escape(p)}\"|'{re.escape(p)}')" for p in path]
        header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(names) + r"\s*\]")
        for n, line in enumerate(self.lines):
            if header.match(line):
                for m in range(n + 1, len(self.lines)):
                    if re.match(r"\s*\[", self.lines[m]):
                        return n, m
                return n, None
        named = re.compile(rf"(^|[\s{{,.\[]){names[-1]}\s*[=.\]]")
        for n, line in enumerate(self.lines):
            if not line.lstrip().startswith("#") and named.search(line):
                return n, None
        return 0, None


__all__ = ["CHECK_SYNTAX", "TomlLines", "toml_error"]
