"""Test signals shared by the encoder tests."""

from __future__ import annotations

import numpy as np
from scipy import signal

SR = 44_100


def speechlike(seconds: float) -> np.ndarray:
    """A voice-like stand-in, float32 ``(2, frames)`` at 44.1 kHz: a gliding harmonic tone in
    0.6 s bursts over band-passed (300-3000 Hz) noise, about -23 dBFS RMS, the right channel
    50 frames late."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    bursts = (np.sin(2 * np.pi * t / 0.9) > -0.3).astype(np.float64)
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 0.3 * t)) / SR
    tone = sum(np.sin(k * phase) / k for k in range(1, 12)) * bursts
    b, a = signal.butter(2, [300, 3000], btype="band", fs=SR)
    noise = signal.lfilter(b, a, np.random.default_rng(3).standard_normal(n)) * 0.3
    mono = (0.1 * (tone + noise)).astype(np.float32)
    return np.stack([mono, np.roll(mono, 50)])
