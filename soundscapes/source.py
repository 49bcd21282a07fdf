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
