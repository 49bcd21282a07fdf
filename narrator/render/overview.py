"""The ``passages`` view: a story's split and scene plan, without synthesizing anything."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from narrator.direction.plan import describe_layers


def passages_overview(story: Path, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Script (as ``script``, round-trippable) and a row per passage with estimates, for
    ``options`` as a render would take them (``pace``, ``lexicon``, ``plan``, ``scene``…).

    Estimated seconds are words at the pace; the pace includes pauses, so the estimates add
    up to the narration's length.
    """
    from narrator.render.pipeline import story_plan
    from narrator.render.story import load_story

    script, settings, user_scenes = load_story(Path(story), options)
    pace = settings.pace_wpm
    plan = story_plan(script, settings, user_scenes)
    titles = {c.index: c.title for c in script.chapters}
    rows = []
    for p in script.passages:
        scene = plan.scene_for(p.index)
        rows.append(
            {
                "index": p.index,
                "chapter": p.chapter,
                "chapter_title": titles[p.chapter],
                "line": p.line,
                "first_words": " ".join(p.text.split()[:6])
                + ("…" if len(p.text.split()) > 6 else ""),
                "words": p.word_count,
                "estimated_s": round(p.word_count / pace * 60.0, 2),
                "pause_after_s": p.pause_after_s,
                "scene": scene.name,
                "layers": list(scene.layer_names),
                "layers_db": describe_layers(scene),
                "scene_source": plan.source_for(p.index),
            }
        )
    return {
        "script": script.to_dict(),
        # What a render of it would warn of before any sound: the story's and the plan's.
        "warnings": [*script.warnings, *plan.warnings],
        "rows": rows,
        "words": script.word_count,
        "pace_wpm": pace,
        "estimated_s": round(
            script.word_count / pace * 60.0
            + script.opening_pause_s
            + sum(p.pause_after_s for p in script.passages),
            2,
        ),
    }
