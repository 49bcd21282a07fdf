"""Gain curves shared by fades, crossfades and ducking."""

from __future__ import annotations

import numpy as np

#: Level of the last moment of a fade-out before its final linear taper to silence.
FADE_FLOOR_DB = -50.0


def raised_cosine(u: np.ndarray) -> np.ndarray:
    """Smooth 0→1 ramp over ``u`` in [0, 1] (clipped outside): no corner, so no click."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))


def fade_out_gain(u: np.ndarray) -> np.ndarray:
    """Fade-out amplitude over ``u`` in [0, 1]: dB-linear to -50 dB, then a taper to zero.

    dB-linear sounds even to the ear over long fades.
    """
    u = np.clip(u, 0.0, 1.0)
    return 10.0 ** (FADE_FLOOR_DB * u / 20.0) * np.minimum(1.0, (1.0 - u) * 10.0)
