"""Where things fall on the output's timeline: scene changes and chapters, from the narration's
passage times."""

from __future__ import annotations

from narrator.direction.plan import Plan
from narrator.speech import Narration
from narrator.text.script import Script
from soundscapes.arc import SleepArc, slowed
from soundscapes.output.tags import ChapterMark
from soundscapes.timeline import SceneCue


def scene_cues(plan: Plan, narration: Narration, arc: SleepArc | None = None) -> list[SceneCue]:
    """Scene changes on the timeline, each midway through the pause before its passage.

    With the sleep arc, scenes from the story's middle on play slower (``arc.rate_scale``):
    a change there is slowed, and the scene playing at the middle crossfades to its slower self
    in the pause nearest the middle.
    """
    passages = narration.passages
    middle_s = (narration.lead_in_s + narration.end_s) / 2
    half = min(range(len(passages)), key=lambda i: abs(passages[i].start_s - middle_s))
    cues = [SceneCue(start_s=0.0, scene=plan.scene_for(0))]
    current = plan.scene_for(0)
    for i in range(1, len(passages)):
        scene = plan.scene_for(passages[i].index)
        changed = scene != current
        current = scene
        if arc is not None and i >= half > 0:
            scene = slowed(scene, arc.rate_scale)
        if changed or scene != cues[-1].scene:
            start_s = (passages[i - 1].end_s + passages[i].start_s) / 2
            cues.append(SceneCue(start_s=start_s, scene=scene))
    return cues


def scene_changes(cues: list[SceneCue]) -> list[tuple[float, str]]:
    """``(start_s, name)`` where the scene changes: a scene's slower self (the sleep arc's,
    from the middle on) is no new scene to mark ("coast" then "coast" in the report)."""
    return [
        (c.start_s, c.scene.name)
        for i, c in enumerate(cues)
        if i == 0 or c.scene.name != cues[i - 1].scene.name
    ]


def chapter_marks(script: Script, narration: Narration, duration_s: float) -> list[ChapterMark]:
    """Chapters on the output's timeline: each from midway through the pause before its first
    passage to the next; the first starts at 0 and the last ends with the file."""
    firsts: dict[int, int] = {}
    for i, passage in enumerate(script.passages):
        firsts.setdefault(passage.chapter, i)
    titles = {c.index: c.title for c in script.chapters}
    starts: list[tuple[float, str]] = []
    for chapter, i in sorted(firsts.items(), key=lambda kv: kv[1]):
        before = narration.passages[i - 1].end_s if i else 0.0
        start = 0.0 if i == 0 else (before + narration.passages[i].start_s) / 2
        starts.append((start, titles[chapter]))
    ends = [s for s, _ in starts[1:]] + [duration_s]
    return [
        ChapterMark(title=title, start_s=start, end_s=end)
        for (start, title), end in zip(starts, ends, strict=True)
    ]
