"""The transcript a page shows: the cues of the WebVTT a render writes beside its file.

narrator's cue ids say where a cue comes from (``passage-sentence``, or
``passage-sentence-part`` for a long sentence split over several cues, see
:func:`narrator.render.sidecars.transcript_vtt`); the page groups cues into the passages'
paragraphs by them. A WebVTT from elsewhere reads too: its cues are one paragraph.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from narrator.page import PageError
from soundscapes.files import InputError, read_input

#: The largest transcript read: a million-character story is about 1.3 MB of WebVTT.
VTT_MAX_BYTES = 16 * 2**20
_STAMP = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_NARRATOR_ID = re.compile(r"^(\d+)-\d+(?:-\d+)?$")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, kw_only=True)
class Cue:
    id: str
    start_s: float
    end_s: float
    #: The cue's words on one line, as plain text (WebVTT's escapes and tags undone).
    text: str

    @property
    def passage(self) -> int | None:
        """The passage the cue belongs to (narrator's cue ids), or ``None``."""
        match = _NARRATOR_ID.match(self.id)
        return int(match.group(1)) if match else None


def _seconds(stamp: str) -> float | None:
    match = _STAMP.match(stamp.strip())
    if match is None:
        return None
    h, m, s, ms = match.groups()
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file's ``text``, in order; blocks that are not cues (``NOTE``,
    ``STYLE``, ``REGION``, or malformed) are left out."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    if not blocks or not blocks[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise PageError("not a WebVTT transcript (it does not start with WEBVTT)")
    cues: list[Cue] = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        cue_id = ""
        if "-->" not in lines[0]:
            cue_id, lines = lines[0].strip(), lines[1:]
        if not lines or "-->" not in lines[0]:
            continue
        first, _, rest = lines[0].partition("-->")
        start, end = _seconds(first), _seconds((rest.split() or [""])[0])
        words = " ".join(line.strip() for line in lines[1:] if line.strip())
        if start is None or end is None or not words:
            continue
        cues.append(
            Cue(id=cue_id, start_s=start, end_s=end, text=html.unescape(_TAG.sub("", words)))
        )
    return cues


def read_vtt(path: Path) -> list[Cue]:
    """The cues of the WebVTT file at ``path``; none when there is no such file (a render made
    before transcripts, or one whose transcript was removed).

    Raises
    ------
    PageError
        The file is there but cannot be read as a transcript.
    """
    if not path.exists():
        return []
    try:
        data = read_input(path, what="transcript", max_bytes=VTT_MAX_BYTES)
        return parse_vtt(data.decode("utf-8-sig"))
    except InputError as exc:
        raise PageError(str(exc)) from None
    except UnicodeDecodeError:
        raise PageError(f"{path}: the transcript is not UTF-8 text") from None
    except PageError as exc:
        raise PageError(f"{path}: {exc}") from None


def paragraphs(cues: list[Cue]) -> list[list[Cue]]:
    """The cues grouped by passage, in order (consecutive cues of one passage together)."""
    groups: list[list[Cue]] = []
    last: object = object()
    for cue in cues:
        passage = cue.passage
        if not groups or passage != last:
            groups.append([])
        groups[-1].append(cue)
        last = passage
    return groups
