"""Direction: which scene plays under each passage (:mod:`~narrator.direction.plan`), and the
editable plan files that fix it by hand (:mod:`~narrator.direction.planfile`). The words that
call up each layer belong to the layers (:mod:`soundscapes.layers`)."""

from __future__ import annotations

from narrator.direction.plan import DirectionSettings, Plan, plan_story

__all__ = ["DirectionSettings", "Plan", "plan_story"]
