"""Pronunciation: words or phrases respelled the way they should be said, before synthesis.

Whole words only. An entry written in lower case matches any capitalisation ("nyx" matches "Nyx"
and "NYX"); an entry with capitals matches only that spelling ("May" the name, not "may").
The lexicon is applied to text whose numbers are already words, so an entry with digits
("R2-D2") matches its spelled-out form too, and digits in a respelling are read as words.
A lexicon file is TOML: ``Nyx = "nicks"`` lines, optionally under a ``[pronounce]`` table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from narrator.errors import ScriptError, brief
from narrator.text.spoken import spell_out
from soundscapes.files import InputError, read_input
from soundscapes.tomlfile import toml_error

#: Longest word or phrase a lexicon respells, characters (a key is matched character by
#: character through a trie, whose depth this bounds).
MAX_ENTRY_CHARS = 100


def check_entries(entries: Mapping[object, object], where: str) -> None:
    """Refuse a lexicon entry that is not text, or whose key is longer than a phrase.

    Raises
    ------
    ScriptError
        Naming ``where`` and the entry, briefly.
    """
    for key, value in entries.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ScriptError(f'{where}: entry {brief(key)} must be text, e.g. Nyx = "nicks"')
        if len(key) > MAX_ENTRY_CHARS:
            raise ScriptError(
                f"{where}: entry {brief(key)} is longer than {MAX_ENTRY_CHARS} characters; "
                "entries are words or short phrases"
            )
        if not key.strip():
            raise ScriptError(f'{where}: an entry has no word to respell; e.g. Nyx = "nicks"')
        if not any(ch.isalnum() for ch in value):
            # Respelled as nothing, the word would go unsaid while the transcript shows it.
            raise ScriptError(
                f"{where}: {brief(key)} is respelled as {brief(value)}, which says nothing; "
                'write how it is said, e.g. Nyx = "nicks", or remove the entry'
            )


class Lexicon:
    """Respell words and phrases in text; empty lexicons change nothing."""

    def __init__(self, entries: Mapping[str, str] | None = None) -> None:
        # Keys with their inner spaces folded: the patterns match any run of spaces between the
        # words of a phrase, and the match is looked up again by its folded spelling.
        check_entries(entries or {}, "lexicon")
        self.entries = {" ".join(k.split()): v.strip() for k, v in (entries or {}).items()}
        said = {k: spell_out(v) for k, v in self.entries.items()}
        for key, value in list(said.items()):
            spelled = " ".join(spell_out(key).split())
            if len(spelled) <= MAX_ENTRY_CHARS:
                said.setdefault(spelled, value)
        self._said = said
        keys = sorted(said, key=len, reverse=True)
        exact = [k for k in keys if k != k.lower()]
        folded = [k for k in keys if k == k.lower()]
        self._exact = self._pattern(exact, 0, names=True)
        self._folded = self._pattern(folded, re.IGNORECASE)
        self._lower = {k.lower(): v for k, v in said.items() if k == k.lower()}

    @staticmethod
    def _pattern(keys: list[str], flags: int, *, names: bool = False) -> re.Pattern[str] | None:
        """Whole words only ("don" is not in "don't"), but with their possessive ("Nyx's");
        a name (a key with capitals) also at the head of a compound ("Nyx-like")."""
        if not keys:
            return None
        alternatives = _trie_regex(keys)
        after = r"(?!\w|['’](?!s\b))" + ("" if names else r"(?!-)")
        return re.compile(rf"(?<![\w'’-])(?:{alternatives}){after}", flags)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def apply(self, text: str) -> str:
        if self._exact is not None:
            text = self._exact.sub(lambda m: self._said[" ".join(m.group(0).split())], text)
        if self._folded is not None:
            text = self._folded.sub(
                lambda m: self._lower[re.sub(r"\s+", " ", m.group(0)).lower()], text
            )
        return text

    def merged(self, other: Mapping[str, str]) -> Lexicon:
        """A lexicon with ``other``'s entries added (they win on a clash)."""
        return Lexicon({**self.entries, **other})


def _trie_regex(keys: list[str]) -> str:
    """One regex for many keys, shaped as their trie: at each position of the text it walks
    one branch, instead of trying every key in turn (thousands of entries over a long story
    took minutes). Longer keys win, as they would sorted longest first; a space in a key
    matches any run of spaces."""
    trie: dict[str, dict] = {}
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [
            (r"\s+" if ch == " " else re.escape(ch)) + build(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a key ends here: the longer ones are tried first (greedy ``?``)
            return f"(?:{body})?"
        return body

    return build(trie)


def load_lexicon(path: Path) -> Lexicon:
    """Read a TOML lexicon file."""
    text = ""
    try:
        text = read_input(path, what="lexicon").decode("utf-8-sig")
        data = tomllib.loads(text)
    except InputError as exc:
        raise ScriptError(str(exc)) from None
    except UnicodeDecodeError:
        raise ScriptError(f"{path}: not UTF-8 text; save the lexicon as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError(
            toml_error(exc, str(path), text, fix='write lines like Nyx = "nicks"')
        ) from None
    except RecursionError:
        raise ScriptError(f'{path}: nests too deeply; write lines like Nyx = "nicks"') from None
    entries = data.get("pronounce", data)
    if not isinstance(entries, dict):
        raise ScriptError(f'{path}: [pronounce] must be a table of lines like Nyx = "nicks"')
    check_entries(entries, str(path))
    return Lexicon(entries)
