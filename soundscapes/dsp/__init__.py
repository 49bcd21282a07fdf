"""Shared DSP primitives for the procedural layers.

Everything here is stateful where it has to be, so a layer built from these parts renders the
same samples whatever block sizes it is asked for:

- :class:`ChunkedSource` renders fixed-size internal chunks and serves any request size from
  them, so a layer only implements :meth:`ChunkedSource._render_chunk`.
- :class:`Filter` carries ``zi`` between chunks (:class:`StateSpaceFilter` too, for long calls
  through a fixed filter: matrix products, several times faster); :class:`Upsampler` carries
  its interpolation state; :class:`SmoothRandom`, :class:`JitteredGrid` and
  :class:`PoissonClock` draw their random numbers lazily in time order; :class:`OverlapAdd`
  keeps the tails of events that straddle chunk boundaries; :class:`NoiseBed` is the common
  "filtered stereo noise with a gain" bed.
- :func:`white_noise` draws its stream in fixed 64-frame blocks and :class:`SineBank` computes
  oscillators from absolute frame numbers, so even the internal chunk size does not change a
  layer's samples.

Speed (a goal of 300x real time per layer on one core) shapes the choices: low-frequency parts
run at a decimated rate and are raised by :class:`Upsampler`; envelopes live on a control grid
(one value per :data:`CONTROL_FACTOR` frames); sums of sines are matrix products, not a ``sin``
per sample; events are rendered whole, once, when their start falls in a chunk. No function
here loops over samples in Python. Audio-rate work stays in float32 where that is exact enough
(audio-rate IIR filters included, see :class:`Filter`): it halves memory traffic, and numpy's
float64 ``sin`` and ``cos`` cost ten times their float32 versions. Mixed float32/float64
arithmetic on whole chunks is avoided: it runs several times slower than either alone.

Audio is float64 or float32 ``(channels, frames)`` inside a chunk and float32 when it leaves
the source.
"""

from __future__ import annotations

from soundscapes.dsp.chunked import (
    CHANNELS,
    CHUNK_FRAMES,
    CONTROL_FACTOR,
    FADE_IN_S,
    ChunkedSource,
    raised_cosine,
)
from soundscapes.dsp.control import SmoothRandom
from soundscapes.dsp.events import JitteredGrid, NoiseBed, OverlapAdd, PoissonClock
from soundscapes.dsp.filters import (
    Filter,
    bandpass,
    highpass,
    low_rate_factor,
    lowpass,
    one_pole_lowpass,
    parallel,
    resonator,
    unit_noise_gain,
)
from soundscapes.dsp.multirate import Upsampler
from soundscapes.dsp.noise import stereo_noise, white_noise
from soundscapes.dsp.oscillators import SineBank
from soundscapes.dsp.space import (
    Convolver,
    db_to_gain,
    decaying_noise_ir,
    geometric,
    pan_gains,
    set_width,
)
from soundscapes.dsp.statespace import StateSpaceFilter, long_call_filter

__all__ = [
    "CHANNELS",
    "CHUNK_FRAMES",
    "CONTROL_FACTOR",
    "FADE_IN_S",
    "ChunkedSource",
    "Convolver",
    "Filter",
    "JitteredGrid",
    "NoiseBed",
    "OverlapAdd",
    "PoissonClock",
    "SineBank",
    "SmoothRandom",
    "StateSpaceFilter",
    "Upsampler",
    "bandpass",
    "db_to_gain",
    "decaying_noise_ir",
    "geometric",
    "highpass",
    "long_call_filter",
    "low_rate_factor",
    "lowpass",
    "one_pole_lowpass",
    "pan_gains",
    "parallel",
    "raised_cosine",
    "resonator",
    "set_width",
    "stereo_noise",
    "unit_noise_gain",
    "white_noise",
]
