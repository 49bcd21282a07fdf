"""The one interface everything that makes sound follows.

A :class:`Source` is a running, stateful generator: filter state, oscillator phase, event
schedules and its random generator live inside it, so ``render(a)`` then ``render(b)`` gives the
same samples as ``render(a + b)``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

#: The project's internal rate; voices are resampled to it once.
SAMPLE_RATE_HZ = 44_100
CHANNELS = 2


@runtime_checkable
class Source(Protocol):
    """A stateful block renderer.

    Attributes
    ----------
    sample_rate_hz : int
    channels : int
    """

    sample_rate_hz: int
    channels: int

    def render(self, frames: int) -> np.ndarray:
        """Return the next ``frames`` samples as float32 ``(channels, frames)``."""
        ...


class SumSource:
    """Two sources played together: ``first.render(n) + second.render(n)``.

    The one place their samples are added, so a sum gives the same bytes whether ``second``
    renders here or in another process (float addition is not associative: ``(a + b) + c``
    and ``a + (b + c)`` differ in the last bit, so the grouping has to be fixed).
    """

    def __init__(self, first: Source, second: Source) -> None:
        self.first = first
        self.second = second
        self.sample_rate_hz = first.sample_rate_hz
        self.channels = first.channels

    def render(self, frames: int) -> np.ndarray:
        return self.first.render(frames) + self.second.render(frames)

    def with_second(self, second: Source) -> SumSource:
        """This sum with ``second`` playing in place of :attr:`second`: the same bytes when it
        plays the same samples (rendered in another process, say). Before any rendering."""
        return SumSource(self.first, second)
