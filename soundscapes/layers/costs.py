"""How much CPU each built-in layer takes, roughly: what a bed's two processes are shared by.

CPU milliseconds per second of audio at the layer's defaults on one core, measured 2026-12-03
with ``tests/benchmarks/bench_soundscape.py`` (AMD EPYC, 2 cores); only their ratios matter.
breathing-mirrors and tide were scaled on 2026-12-05 by what their filters' move to
:class:`~soundscapes.dsp.StateSpaceFilter` saved on one host (773x -> 1309x, 702x -> 909x).
They are a fact of this implementation on a machine, not of the sound, so they live here beside
nothing but the split that reads them (:func:`soundscapes.timeline.layer_halves`), not in the
layers' descriptions. They decide which layers are summed together, so changing one can move
a bed's last bits (never what it sounds like): re-record the golden render's hash with it.
"""

from __future__ import annotations

CPU_MS_PER_S: dict[str, float] = {
    "breathing-mirrors": 0.95,
    "chimes": 1.4,
    "crickets": 0.5,
    "drone": 1.1,
    "fire": 1.3,
    "gulls": 1.0,
    "heartbeat": 0.3,
    "melody": 1.8,
    "night": 0.6,
    "rain": 1.0,
    "shimmer": 0.5,
    "storm-hush": 1.5,
    "tide": 1.2,
    "wind": 1.0,
}
#: A layer not listed (a plugin's, a test's): about a typical built-in one.
DEFAULT_CPU_MS_PER_S = 1.0
#: A recording (``file:PATH``): playing one is a copy and an occasional crossfade.
RECORDING_CPU_MS_PER_S = 0.3
#: What the process that renders the first group does besides its layers, a second of audio:
#: adding the second group, metering through the encoder's band and keeping the bed in scratch
#: (0.7 ms measured 2026-12-04 on the demo story's 9 min, same machine and scale as the
#: layers; 1.1 ms on 2026-12-05 for an hour's bed, whose scratch goes past the page cache:
#: that process's CPU time less its layers' on one core, 3.6-4.2 s an hour). For a story's
#: ambience stem, also ducking it and the sleep arc's darkening (1.4 ms more when measured,
#: 0.8 ms since the darkening runs as one filter section). The split counts
#: it against the first group, so that the two processes finish together. The stem's 2.1 stays:
#: warm demo renders with 1.5 took as long, within the host's noise (7.6-9.3 s either way),
#: and a change moves the bytes (see the module docstring).
BED_MEASURING_CPU_MS_PER_S = 1.1
STEM_MEASURING_CPU_MS_PER_S = 2.1


def cpu_ms_per_s(layer: str, *, recording: bool = False) -> float:
    """The estimate for the layer named ``layer`` (a recording's with ``recording``)."""
    if recording:
        return RECORDING_CPU_MS_PER_S
    return CPU_MS_PER_S.get(layer, DEFAULT_CPU_MS_PER_S)
