"""K-weighting (BS.1770-4 annex 1: the pre-filter shelf and the RLB high-pass) as block
state-space matrix products (:mod:`soundscapes.dsp.statespace`), about three times faster than
``scipy.signal.sosfilt``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from soundscapes.dsp.statespace import StateSpaceFilter

# --- K-weighting ----------------------------------------------------------------------------


def k_weighting_sos(sample_rate_hz: float) -> np.ndarray:
    """BS.1770-4 K-weighting (annex 1) as two second-order sections ``(2, 6)``.

    The pre-filter (a high shelf, +4 dB above about 1.5 kHz, fig. 1) and the RLB high-pass
    (fig. 2) are printed in BS.1770-4 only for 48 kHz. Like libebur128 they are derived here
    from their analogue prototypes by the bilinear transform for any rate; at 48 kHz the
    coefficients equal the printed ones to 14 digits.
    """
    # Pre-filter: high shelf, f0 = 1681.97 Hz, gain G = +4.0 dB, Q = 0.7072.
    k = math.tan(math.pi * 1681.974450955533 / sample_rate_hz)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    # RLB weighting: second-order high-pass, f0 = 38.14 Hz, Q = 0.5003, unity passband gain.
    k = math.tan(math.pi * 38.13547087602444 / sample_rate_hz)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


class KWeighting(StateSpaceFilter):
    """Streaming BS.1770-4 K-weighting, optionally band-limited first.

    Parameters
    ----------
    sample_rate_hz : int
    channels : int
    bandwidth_hz : float, optional
        Low-pass through an 8th-order Butterworth at this frequency before K-weighting (the
        band a lossy encoder keeps); ignored at or above half the sample rate.

    :meth:`process` keeps the filter state between blocks, so any split of a signal into
    blocks gives the same output (to float32 rounding). K-weighting is linear: filter two
    stems with one instance each, add them, and :meth:`LoudnessMeter.add_kweighted` meters
    the sum exactly as :meth:`LoudnessMeter.add` would meter the summed stems.

    The filter runs as block state-space matrix products
    (:class:`~soundscapes.dsp.statespace.StateSpaceFilter`): about three times faster than
    ``scipy.signal.sosfilt`` (measured), at float32 accuracy (relative error about 1e-7
    against float64 ``sosfilt``).
    """

    def __init__(
        self, sample_rate_hz: int, channels: int = 2, bandwidth_hz: float | None = None
    ) -> None:
        sos = k_weighting_sos(sample_rate_hz)
        if bandwidth_hz is not None and bandwidth_hz < sample_rate_hz / 2:
            low_pass = signal.butter(8, bandwidth_hz, fs=sample_rate_hz, output="sos")
            sos = np.vstack([low_pass, sos])
        super().__init__(sos, channels)
