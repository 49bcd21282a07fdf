"""A scene plan carried over to its story's new text: ``narrator plan STORY --update``.

Editing the story after editing its plan makes the plan stale (its fingerprint no longer
matches), and writing it anew would drop every scene and gain the producer chose. Instead the
old plan's passages are lined up with the story's (:class:`difflib.SequenceMatcher` over the
passage hashes, as the staleness message does): a passage whose text is unchanged keeps its
entry; a passage edited in place (a typo fixed, a sentence added) keeps it too; a passage that
is new gets the scene the planner gives it now; an entry whose passage is gone is dropped. A
passage moved whole elsewhere in the story keeps its entry too.

In a run of changed passages the old and new ones pair by position when there are as many of
each (edited in place); otherwise a new passage takes the entry of an old one that began with
nearly the same words, in order, and any other is planned anew.

A passage whose entry does not play its scene cue (a cue written after the plan: the
fingerprint is the words alone) takes the cue's scene: the cue is the user's newer word.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from narrator.direction.plan import Plan
from narrator.direction.planfile import first_words, plan_entries, plays_cue, story_fingerprint
from narrator.text.script import Script
from soundscapes.scene import Scene

#: How alike a new passage's first words must be to an old entry's to take it over
#: (:meth:`difflib.SequenceMatcher.ratio`), where passages were split or merged.
SAME_START = 0.6
#: What a carried entry's note in the file says.
KEPT = "kept from the plan"
KEPT_EDITED = "kept from the plan; the passage's words changed"


@dataclass(frozen=True)
class PlanUpdate:
    """A plan brought up to date, and what happened to each passage (new indices)."""

    plan: Plan
    kept: tuple[int, ...]
    """Passages whose text and entry are as they were."""
    edited: tuple[int, ...]
    """Passages whose text changed; they keep their entry."""
    new: tuple[int, ...]
    """Passages planned anew."""
    dropped: tuple[int, ...]
    """Indices in the old plan whose passages are no longer in the story."""
    cued: tuple[int, ...] = ()
    """Passages whose entry did not play their scene cue (one written since): they take the
    cue's scene, as the planner gives it now."""


def is_stale(text: str, script: Script) -> bool:
    """Whether the plan in ``text`` was written for other passages than ``script``'s (``False``
    when it cannot be read as a plan at all: that is said when it is used)."""
    try:
        header = tomllib.loads(text).get("plan")
    except tomllib.TOMLDecodeError:
        return False
    if not isinstance(header, dict) or not isinstance(header.get("fingerprint"), list):
        return False
    return header["fingerprint"] != list(story_fingerprint(script))


def update_plan(
    text: str,
    script: Script,
    fresh: Plan,
    *,
    source: str = "<plan>",
    scenes: Mapping[str, Scene] | None = None,
    folder: Path | None = None,
) -> PlanUpdate:
    """The plan in ``text`` carried over to ``script``'s passages; ``fresh`` is the plan made
    now, which gives the passages nothing carries over to.

    Raises
    ------
    PlanError
        The old plan cannot be read (with ``file:line``), as :func:`read_plan` says it.
    """
    fingerprint, old_scenes, old_words = plan_entries(
        text, source=source, scenes=scenes, folder=folder
    )
    now = story_fingerprint(script)
    carried: dict[int, int] = {}  # new index -> old index
    edited: list[int] = []
    matcher = difflib.SequenceMatcher(None, fingerprint, now, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            carried.update(zip(range(j1, j2), range(i1, i2), strict=True))
        elif tag == "replace":
            pairs = _pairs(range(i1, i2), range(j1, j2), old_words, script)
            carried.update(pairs)
            edited += list(pairs)
    # A passage moved whole (cut and pasted elsewhere) is the same text: it keeps its entry.
    loose = [i for i in range(len(fingerprint)) if i not in carried.values()]
    for j in range(len(now)):
        if j not in carried:
            same = next((i for i in loose if fingerprint[i] == now[j]), None)
            if same is not None:
                carried[j] = same
                loose.remove(same)
    carried = {j: i for j, i in carried.items() if i in old_scenes}
    # A scene cue is the user's word, and newer than an entry that does not play it.
    cued = [j for j, i in carried.items() if not plays_cue(script.passages[j], old_scenes[i])]
    cued_old = {carried[j] for j in cued}
    carried = {j: i for j, i in carried.items() if j not in cued}
    edited = [j for j in edited if j in carried]
    scenes_now, sources, heard = [], [], []
    for j in range(len(script.passages)):
        if j in carried:
            scenes_now.append(old_scenes[carried[j]])
            sources.append(KEPT_EDITED if j in edited else KEPT)
            heard.append(())
        else:
            scenes_now.append(fresh.scene_for(j))
            sources.append(fresh.source_for(j))
            heard.append(fresh.heard[j] if j < len(fresh.heard) else ())
    plan = Plan(scenes=tuple(scenes_now), sources=tuple(sources), heard=tuple(heard))
    used = set(carried.values())
    return PlanUpdate(
        plan=plan,
        kept=tuple(j for j in sorted(carried) if j not in edited),
        edited=tuple(sorted(edited)),
        new=tuple(j for j in range(len(script.passages)) if j not in carried and j not in cued),
        dropped=tuple(i for i in sorted(old_scenes) if i not in used and i not in cued_old),
        cued=tuple(sorted(cued)),
    )


def _pairs(old: range, new: range, old_words: Mapping[int, str], script: Script) -> dict[int, int]:
    """New index -> old index within a run of changed passages (see the module docstring)."""
    if len(old) == len(new):
        return dict(zip(new, old, strict=True))
    pairs: dict[int, int] = {}
    rest = list(old)
    for j in new:
        start = _start(first_words(script.passages[j].text))
        for k, i in enumerate(rest):
            ratio = difflib.SequenceMatcher(None, _start(old_words.get(i, "")), start).ratio()
            if ratio >= SAME_START:
                pairs[j] = i
                del rest[: k + 1]  # in order: nothing before it is taken later
                break
    return pairs


def _start(words: str) -> str:
    return words.removesuffix("…").casefold()


__all__ = ["PlanUpdate", "is_stale", "update_plan"]
