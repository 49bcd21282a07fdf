"""narrator: story text in, a narrated, scored and mastered sleep story out."""

from __future__ import annotations

import os

# Before numpy loads: our matrix products are small and many, and a render already runs its
# processes on every core, so BLAS threads only spin against them (measured: a 60-minute
# render took a third longer with OpenBLAS's default threads). A value the user set stays.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from narrator.errors import NarratorError  # noqa: E402 (after the BLAS setting)

__all__ = ["NarratorError"]
__version__ = "0.1.0"
