"""An episode's file under an earlier name: found by the record beside it, removed with its
sidecars once the episode is written under its new name (another format or output name)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from narrator.render.files import remove_stale_sidecars
from narrator.render.sidecars import sidecar_path

_RECORD = ".fingerprint.json"


def earlier_name(
    output: Path, story_ref: str, kin: frozenset[Path], *, folder: Path | None = None
) -> tuple[Path, dict[str, Any]] | None:
    """The file whose record names the episode of ``story_ref`` and that no other episode
    (``kin``, resolved) writes, with its record; ``None`` if there is none. Looked for beside
    ``output``, then in ``folder`` (the show's output folder: the file may have moved into a
    subfolder) and beside the other episodes' files: the folders this show writes, never a
    subfolder of another show's, whose stories may be named alike."""
    places = [output.parent, *([folder] if folder else []), *sorted({k.parent for k in kin})]
    found = [sorted(p.glob(f"*{_RECORD}")) for p in dict.fromkeys(places) if p.is_dir()]
    for sidecar in dict.fromkeys(s for group in found for s in group):
        old = sidecar.with_name(sidecar.name.removesuffix(_RECORD))
        if old == output or old.resolve() in kin:
            continue
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("episode") == story_ref:
            return old, record
    return None


def remove_render(old: Path) -> Path:
    """Remove ``old`` and everything a render, a batch or a playlist wrote beside it (its
    record); returns ``old``."""
    remove_stale_sidecars(old, [], [])  # nothing of it is kept: the audio goes too
    record = sidecar_path(old, _RECORD)
    if record.is_file() and not record.is_symlink():
        with contextlib.suppress(OSError):
            record.unlink()
    return old


__all__ = ["earlier_name", "remove_render"]
