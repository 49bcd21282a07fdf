"""The render: one story → one finished audio file, its sidecars and its report.

- :mod:`~narrator.render.pipeline`: the one orchestrator (:func:`render_story`);
- :mod:`~narrator.render.sidecars`: transcript, chapters, cover and plot beside the output;
- :mod:`~narrator.render.overview`: the split and plan without synthesis (``narrator passages``).
"""

from __future__ import annotations

from narrator.render.pipeline import render_story
from narrator.render.report import RenderResult

__all__ = ["RenderResult", "render_story"]
