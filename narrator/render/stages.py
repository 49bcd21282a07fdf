"""The render's stage timeline: when each stage started and ended, on the wall clock.

``timings_s`` in the report says how long each stage worked; this says when, so it shows
which stage held a render up and which ran beside another (the ambience renders in a second
process while the voice is mixed; ffmpeg encodes in a third while the master limits). Times are
``time.monotonic()``, which on Linux is ``CLOCK_MONOTONIC``, one clock for every process of the
machine, so a child process's stamps land on the same line as the parent's.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from narrator.render.sidecars import save_png


@dataclass(frozen=True)
class Stage:
    name: str
    #: Seconds since the render started.
    start_s: float
    end_s: float


@dataclass
class StageClock:
    """Collects :class:`Stage` spans relative to ``origin`` (a ``time.monotonic()`` reading)."""

    origin: float = field(default_factory=time.monotonic)
    stages: list[Stage] = field(default_factory=list)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (recorded even when it raises: nothing reads it then,
        but a half-open span would be a lie)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.add(name, started, time.monotonic())

    def add(self, name: str, started: float, ended: float) -> None:
        """A stage timed elsewhere (another process), from two ``time.monotonic()`` readings."""
        self.stages.append(Stage(name, started - self.origin, ended - self.origin))

    def report(self) -> list[dict[str, object]]:
        """The stages in order of their start, as the report's ``stages`` list."""
        return [
            {"stage": s.name, "start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3)}
            for s in sorted(self.stages, key=lambda s: (s.start_s, s.end_s))
        ]


def stages_plot(path: Path, stages: Sequence[Stage], *, title: str) -> None:
    """A PNG Gantt chart of ``stages``: one row per stage, wall-clock seconds across."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(stages, key=lambda s: (s.start_s, s.end_s))
    fig, ax = plt.subplots(figsize=(10, 0.5 + 0.45 * max(len(ordered), 1)), dpi=100)
    for row, stage in enumerate(ordered):
        width_s = max(stage.end_s - stage.start_s, 0.0)
        ax.barh(row, width_s, left=stage.start_s, height=0.6, color="#3b4a8a")
        ax.text(stage.end_s, row, f" {width_s:.1f} s", va="center", fontsize=8)
    ax.set_yticks(range(len(ordered)), [s.name for s in ordered])
    ax.invert_yaxis()  # first stage on top, as it is read
    ax.set_xlabel("seconds since the render started (wall clock)")
    ax.set_title(f"{title}: stages")
    ax.margins(x=0.12)
    save_png(fig, path)
