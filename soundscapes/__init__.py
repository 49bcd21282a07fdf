"""Procedural and recorded ambience: layers, scenes, timelines, mixing, mastering and export.

A library of its own: it never imports :mod:`narrator`. Audio is float32 shaped
``(channels, frames)`` with the sample rate passed explicitly.
"""

from __future__ import annotations

import os

# Before numpy loads: our matrix products are small and many, and a render already runs its
# processes on every core, so BLAS threads only spin against them (measured: a 60-minute
# render took a third longer with OpenBLAS's default threads). A value the user set stays.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from soundscapes.errors import SoundscapeError  # noqa: E402 (after the BLAS setting)
from soundscapes.source import SAMPLE_RATE_HZ, Source  # noqa: E402

__all__ = ["SAMPLE_RATE_HZ", "SoundscapeError", "Source"]
