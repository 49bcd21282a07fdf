"""Scenes placed in time: crossfades between them, a fade in and a long fade out.

Every layer used anywhere in the timeline runs from start to end as one stateful source; the
timeline only moves its gain. So the output depends on neither block size nor scene order, and
an eight-hour bed costs no more memory than a minute.

The layers are summed in two fixed groups of about equal cost (:func:`layer_halves`), and the
groups' sums added last: a bed may render one group in another process, on the second core, and
still give the same bytes as a render in one process (see :class:`AmbienceSource`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from soundscapes.curves import fade_out_gain, raised_cosine
from soundscapes.errors import SoundscapeError
from soundscapes.layers import create_layer, layer_class
from soundscapes.layers.costs import BED_MEASURING_CPU_MS_PER_S, cpu_ms_per_s
from soundscapes.recording import is_recording_name
from soundscapes.scene import Scene
from soundscapes.source import CHANNELS, SAMPLE_RATE_HZ, Source, SumSource


@dataclass(frozen=True, kw_only=True)
class SceneCue:
    """``scene`` starts playing at ``start_s`` (crossfaded around that time)."""

    start_s: float
    scene: Scene


def layer_seed(seed: int, key: tuple) -> int:
    """A seed per layer source, stable across runs and Python versions (no ``hash()``)."""
    digest = hashlib.sha256(repr((seed, key)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


class Timeline:
    """Scenes over time.

    Parameters
    ----------
    cues : sequence of SceneCue, or mapping of start (s) to Scene
        In any order; the first one is moved to t = 0.
    duration_s : float
        Length of the ambience; it is silent after this.
    crossfade_s : float
        Length of each scene change (equal-power for layers that come and go).
    fade_in_s, fade_out_s : float
        Fade at the start and at the end (the fade-out ends at ``duration_s``).
    seed : int
        Seeds every layer source.
    """

    def __init__(
        self,
        cues: Sequence[SceneCue] | Mapping[float, Scene],
        *,
        duration_s: float,
        crossfade_s: float = 8.0,
        fade_in_s: float = 6.0,
        fade_out_s: float = 60.0,
        sample_rate_hz: int = SAMPLE_RATE_HZ,
        seed: int = 0,
    ) -> None:
        if isinstance(cues, Mapping):
            cues = [SceneCue(start_s=start_s, scene=scene) for start_s, scene in cues.items()]
        if not cues:
            raise SoundscapeError("a timeline needs at least one scene")
        if duration_s <= 0:
            raise SoundscapeError(f"duration must be positive, got {duration_s} s")
        ordered = sorted(cues, key=lambda c: c.start_s)
        self.cues = [SceneCue(start_s=0.0, scene=ordered[0].scene), *ordered[1:]]
        self.duration_s = float(duration_s)
        self.crossfade_s = max(0.0, crossfade_s)
        self.fade_in_s = min(max(0.0, fade_in_s), duration_s)
        self.fade_out_s = min(max(0.0, fade_out_s), duration_s)
        self.sample_rate_hz = sample_rate_hz
        self.seed = seed

    def layer_keys(self) -> list[tuple]:
        seen: dict[tuple, None] = {}
        for cue in self.cues:
            for layer in cue.scene.layers:
                seen.setdefault(layer.key, None)
        return list(seen)

    def scene_at(self, time_s: float) -> Scene:
        starts = [c.start_s for c in self.cues]
        return self.cues[max(0, int(np.searchsorted(starts, time_s, side="right")) - 1)].scene

    def source(self, *, measuring_ms_per_s: float = BED_MEASURING_CPU_MS_PER_S) -> AmbienceSource:
        """The running ambience; ``measuring_ms_per_s``: what the process that renders its
        first layer group does besides, a second of audio (:func:`layer_halves`)."""
        return AmbienceSource(self, measuring_ms_per_s=measuring_ms_per_s)


#: Up to this many layers the groups are the best of all 2**n ways to share them; beyond,
#: dearest first to the process with less to do so far (a timeline of that many layers is rare).
_EXACT_SPLIT_LAYERS = 12


def layer_halves(
    costs: dict[tuple, float], *, first_extra_ms: float = 0.0
) -> tuple[list[tuple], list[tuple]]:
    """Layer keys in two groups for two processes, from ``costs`` (key → CPU ms, in the
    timeline's order); each group keeps that order. The first group's process also does
    ``first_extra_ms`` of other work (it sums, meters and keeps the bed), counted against it.

    The groups are the way to share the layers that finishes soonest (the dearer process's
    total least), of all of them; of ways that finish together, the one whose first group
    costs least (its process, with the extra work, then has time to spare), then the first
    in the timeline's order. Greedy instead beyond :data:`_EXACT_SPLIT_LAYERS` layers. A
    fixed function of the estimates, never of timing or of the machine, because the groups
    decide how samples are summed. With extra work the first group may be empty: its process
    only sums and meters while the other renders. The second group is empty, and every layer
    first, when two processes would not finish sooner than one (a lone layer with no extra
    work, or layers that cost nothing: never heard).
    """
    keys = list(costs)
    total_ms = sum(costs.values())
    if len(keys) <= _EXACT_SPLIT_LAYERS:
        first = _best_first_group(keys, costs, first_extra_ms)
    else:
        first = _greedy_first_group(keys, costs, first_extra_ms)
    first_ms = sum(costs[key] for key in first)
    if max(first_ms + first_extra_ms, total_ms - first_ms) >= total_ms + first_extra_ms:
        first = set(keys)
    return [k for k in keys if k in first], [k for k in keys if k not in first]


def _best_first_group(keys: list[tuple], costs: dict[tuple, float], extra_ms: float) -> set:
    total_ms = sum(costs.values())
    best: tuple | None = None
    for mask in range(1 << len(keys)):
        chosen = [i for i in range(len(keys)) if mask >> i & 1]
        first_ms = sum(costs[keys[i]] for i in chosen)
        finish_ms = max(first_ms + extra_ms, total_ms - first_ms)
        # Rounded, so that ways equal but for float summation order count as ties.
        candidate = (round(finish_ms, 9), round(first_ms, 9), chosen)
        if best is None or candidate < best:
            best = candidate
    assert best is not None
    return {keys[i] for i in best[2]}


def _greedy_first_group(keys: list[tuple], costs: dict[tuple, float], extra_ms: float) -> set:
    """Dearest first, each to the process with less to do so far; the first group then the
    cheaper of the two."""
    groups: tuple[list[tuple], list[tuple]] = ([], [])
    totals = [extra_ms, 0.0]
    for key in sorted(keys, key=lambda k: -costs[k]):  # stable: ties keep timeline order
        idler = 0 if totals[0] <= totals[1] else 1
        groups[idler].append(key)
        totals[idler] += costs[key]
    first, second = groups
    if totals[0] - extra_ms > totals[1]:
        first = second
    return set(first)


class AmbienceSource(SumSource):
    """The running ambience of a :class:`Timeline`; float32 ``(2, frames)`` blocks.

    The sum of two layer groups (:func:`layer_halves`), :attr:`first` plus :attr:`second`,
    always in that grouping, so a render that plays :attr:`second` in another process
    (:class:`~soundscapes.background.BackgroundAnalysis` with ``split``) gives the same bytes as
    one that plays both here.
    """

    first: LayerGroup
    second: LayerGroup

    def __init__(
        self, timeline: Timeline, *, measuring_ms_per_s: float = BED_MEASURING_CPU_MS_PER_S
    ) -> None:
        extra_ms = measuring_ms_per_s * timeline.duration_s
        first, second = layer_halves(LayerGroup(timeline).costs_ms(), first_extra_ms=extra_ms)
        super().__init__(LayerGroup(timeline, first), LayerGroup(timeline, second))
        self.timeline = timeline

    def layer_gains(self, t_s: np.ndarray) -> dict[tuple, np.ndarray]:
        """See :meth:`LayerGroup.layer_gains`."""
        return self.first.layer_gains(t_s)

    def fade_gain(self, t_s: np.ndarray) -> np.ndarray:
        """See :meth:`LayerGroup.fade_gain`."""
        return self.first.fade_gain(t_s)

    @property
    def _active(self) -> dict[tuple, list[tuple[int, int]]]:
        return self.first._active


class LayerGroup:
    """Some of a :class:`Timeline`'s layers, ``keys`` (all by default), summed in the
    timeline's order with their gains and fades; float32 ``(2, frames)`` blocks.

    Gains, fades and where each layer is heard are known for every layer of the timeline;
    only ``keys`` are played.
    """

    channels = CHANNELS

    def __init__(self, timeline: Timeline, keys: Sequence[tuple] | None = None) -> None:
        self.timeline = timeline
        self.sample_rate_hz = timeline.sample_rate_hz
        self._frame = 0
        every = timeline.layer_keys()
        chosen = set(every if keys is None else keys)
        #: The layers this group plays, in the timeline's order (the order they are summed in).
        self.keys = [key for key in every if key in chosen]
        # Classes, not names: this source may render in another process, where a layer this
        # one registered (a plugin, a test's) is not known by name. Recordings go by name.
        self._classes = {key: layer_class(key[0]) for key in every if not is_recording_name(key[0])}
        # Keyed by (layer key, run): started lazily, dropped when done.
        self._sources: dict[tuple, Source] = {}
        cues = timeline.cues
        self._starts_s = np.array([c.start_s for c in cues])
        # Power of each layer in each scene (scene-normalized), rows = cues.
        self._power = {
            key: np.array([c.scene.layer_amplitudes().get(key, 0.0) ** 2 for c in cues])
            for key in every
        }
        # Half-width of each crossfade, kept within half of the shorter neighbouring scene.
        half = []
        for j in range(1, len(cues)):
            before = cues[j].start_s - cues[j - 1].start_s
            after = cues[j + 1].start_s if j + 1 < len(cues) else timeline.duration_s
            after -= cues[j].start_s
            half.append(max(0.0, min(timeline.crossfade_s / 2, before / 2, after / 2)))
        self._half_s = np.array(half)
        self._active = {key: self._active_frames(key) for key in every}
        self._every = every

    def _active_frames(self, key: tuple) -> list[tuple[int, int]]:
        """Frame ranges ``[start, end)`` where ``key`` is heard (crossfades included): one per
        run of consecutive scenes that use it.

        A layer runs only there, a fresh source for each run: it starts (its own time zero)
        at ``start``, whatever the block sizes, so output stays block-invariant while a layer
        heard for five minutes of an eight-hour bed costs five minutes of rendering, and a
        scene that comes back an hour later does not keep its layers running in between.
        """
        heard = self._power[key] > 0
        sr = self.sample_rate_hz
        ranges = []
        j = 0
        while j < len(heard):
            if not heard[j]:
                j += 1
                continue
            first = j
            while j + 1 < len(heard) and heard[j + 1]:
                j += 1
            last = j
            start_s = self._starts_s[first] - (self._half_s[first - 1] if first > 0 else 0.0)
            if last + 1 < len(self._starts_s):
                end_s = self._starts_s[last + 1] + self._half_s[last]
            else:
                end_s = self.timeline.duration_s
            ranges.append((max(0, math.floor(start_s * sr)), math.ceil(end_s * sr)))
            j += 1
        return ranges

    def _source(self, key: tuple, run: int) -> Source:
        if (key, run) not in self._sources:
            # The first run keeps the layer's own seed; a return gets a fresh one.
            seed_key = key if run == 0 else (key, run)
            self._sources[key, run] = create_layer(
                self._classes.get(key, key[0]),
                sample_rate_hz=self.sample_rate_hz,
                seed=layer_seed(self.timeline.seed, seed_key),
                **dict(key[1]),
            )
        return self._sources[key, run]

    def costs_ms(self) -> dict[tuple, float]:
        """Estimated CPU milliseconds of each of the timeline's layers over the whole timeline
        (:func:`soundscapes.layers.costs.cpu_ms_per_s` times the seconds it is heard), in the
        timeline's order."""
        costs = {}
        for key in self._every:
            per_s = cpu_ms_per_s(key[0], recording=key not in self._classes)
            heard_frames = sum(end - start for start, end in self._active[key])
            costs[key] = per_s * heard_frames / self.sample_rate_hz
        return costs

    def layer_gains(self, t_s: np.ndarray) -> dict[tuple, np.ndarray]:
        """Linear amplitude of every layer source of the timeline at times ``t_s`` (fades
        excluded), played here or not.

        Crossfades interpolate *power* between scenes: a layer that comes or goes follows
        an equal-power curve, and a layer in both scenes glides with no +3 dB bump.
        """
        gains = self._gains(t_s, self._every)
        return {key: np.full(t_s.shape, g) if np.isscalar(g) else g for key, g in gains.items()}

    def _gains(self, t_s: np.ndarray, keys: list[tuple]) -> dict[tuple, float | np.ndarray]:
        """:meth:`layer_gains` of ``keys``, a plain number where a gain holds still over ``t_s``.

        Most blocks lie inside one scene, where every gain is a constant: computing those as
        numbers instead of per-frame curves keeps the timeline's own cost near zero.
        """
        first_seg, last_seg = np.clip(
            np.searchsorted(self._starts_s, [t_s[0], t_s[-1]], side="right") - 1, 0, None
        )
        # Only the crossfades that overlap these times matter (usually none).
        windows = [
            (j, b - half, b + half)
            for j, (b, half) in enumerate(zip(self._starts_s[1:], self._half_s, strict=True), 1)
            if half > 0 and b + half > t_s[0] and b - half < t_s[-1]
        ]
        seg = None
        if first_seg != last_seg:
            seg = np.clip(np.searchsorted(self._starts_s, t_s, side="right") - 1, 0, None)
        shapes = []
        for j, lo, hi in windows:
            inside = (t_s > lo) & (t_s < hi)
            shapes.append((j, inside, raised_cosine((t_s[inside] - lo) / (hi - lo))))
        gains: dict[tuple, float | np.ndarray] = {}
        for key in keys:
            power = self._power[key]
            level = power[first_seg]
            if seg is None and all(power[j - 1] == power[j] == level for j, _, _ in windows):
                gains[key] = math.sqrt(level)
                continue
            p = np.full(t_s.shape, power[first_seg]) if seg is None else power[seg]
            for j, inside, x in shapes:
                p[inside] = (1 - x) * power[j - 1] + x * power[j]
            gains[key] = np.sqrt(p)
        return gains

    def fade_gain(self, t_s: np.ndarray) -> np.ndarray:
        """The fade-in and fade-out amplitude at times ``t_s`` (zero from the end on)."""
        tl = self.timeline
        g = np.ones_like(t_s)
        if tl.fade_in_s > 0 and t_s[0] < tl.fade_in_s:
            g *= raised_cosine(t_s / tl.fade_in_s)
        if tl.fade_out_s > 0 and t_s[-1] > tl.duration_s - tl.fade_out_s:
            g *= fade_out_gain((t_s - (tl.duration_s - tl.fade_out_s)) / tl.fade_out_s)
        g[t_s >= tl.duration_s] = 0.0
        return g

    def _fades_between(self, t0_s: float, t1_s: float) -> bool:
        """Whether the fade-in, the fade-out or the silence after the end touch [t0_s, t1_s]."""
        tl = self.timeline
        fading_in = tl.fade_in_s > 0 and t0_s < tl.fade_in_s
        return fading_in or t1_s > tl.duration_s - tl.fade_out_s or t1_s >= tl.duration_s

    def _block_gains(
        self, first: int, frames: int, keys: list[tuple]
    ) -> dict[tuple, float | np.ndarray]:
        """Amplitude of each of ``keys`` over frames ``[first, first + frames)``, fades included.

        A plain number where it holds still over the block (no fade, no crossfade: nearly
        every block), else float64 per frame.
        """
        sr = self.sample_rate_hz
        ends_s = np.array([first, first + frames - 1]) / sr
        if not self._fades_between(ends_s[0], ends_s[1]):
            steady = self._gains(ends_s, keys)
            if all(np.isscalar(g) for g in steady.values()):
                return steady
        t_s = (first + np.arange(frames)) / sr
        gains = self._gains(t_s, keys)
        fade = self.fade_gain(t_s)
        return {key: gains[key] * fade for key in keys}

    def render(self, frames: int) -> np.ndarray:
        first = self._frame
        self._frame += frames
        out = np.zeros((CHANNELS, frames), dtype=np.float32)
        spans = {}
        for key in self.keys:
            for run, (start, end) in enumerate(self._active[key]):
                lo, hi = max(first, start), min(first + frames, end)
                if lo < hi:
                    spans[key, run] = (lo - first, hi - first)
                elif first >= end:
                    self._sources.pop((key, run), None)  # finished: free its state
        if not spans:
            return out
        gains = self._block_gains(first, frames, list(dict.fromkeys(k for k, _ in spans)))
        for (key, run), (lo, hi) in spans.items():
            block = self._source(key, run).render(hi - lo)
            g = gains[key]
            # A source may hand out a view of its own buffer: scale a copy, never in place.
            if np.isscalar(g):
                out[:, lo:hi] += block * np.float32(g)
            else:
                out[:, lo:hi] += block * g[lo:hi].astype(np.float32)
        return out
