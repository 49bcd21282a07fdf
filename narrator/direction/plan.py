"""The scene plan: which layers play under each passage, and how loud.

Sources, strongest first: cues in the text (``[scene: …]`` starts a scene, ``[add: …]`` and
``[remove: …]`` edit the one playing), the front matter's ``scene`` (the whole story's bed), and
otherwise inference from the words:

1. **Words.** Sound-bearing words and phrases map to *layers* with a weight ("gulls" →
   ``gulls``; "night sky" → ``shimmer`` and ``drone``); each layer carries its own
   (:attr:`soundscapes.layers.LayerInfo.words`, compiled in :mod:`narrator.direction.words`).
   Entries match their word forms (plural, -ing, -ed); a phrase is taken before its words
   ("wind chime" is chimes, not wind).
2. **Evidence.** Each passage scores every layer; repeats count less and less (log2), and a
   passage borrows a little from its neighbours, so a short linking passage keeps the place.
3. **Segmentation.** The story is cut into scenes by dynamic programming: a cut must pay a
   penalty (in seconds of listening that fits the words badly), so a scene holds until the
   story has clearly moved; every scene lasts at least a minimum (estimated speech seconds),
   and only a cue may force a shorter one. This is optimal change-point detection (Jackson et
   al., "An algorithm for optimal partitioning of data on an interval", 2005) on the passages'
   layer profiles; it cannot flap, since every cut is paid for.
4. **Scene.** A scene's layers are its strongest few, with gains from their relative evidence;
   a soft bed (a continuous layer) is always among them, so the soundscape never drops to
   silence; it is named after the built-in scene it matches, else descriptively.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from narrator.direction.words import SceneWords, bed_layers, scene_words
from narrator.errors import ScriptError
from narrator.speech.pacing import DEFAULT_PACE_WPM
from narrator.text.script import Passage, Script
from soundscapes.errors import name_hint
from soundscapes.layers import layer_names
from soundscapes.scene import SOFT_BED, LayerSpec, Scene, available_scenes, choosable


@dataclass(frozen=True, kw_only=True)
class DirectionSettings:
    """How inference turns evidence into scenes. The defaults are tuned on the demo story and
    the test stories (tests/stories)."""

    min_scene_s: float = 30.0
    """Shortest inferred scene, in estimated seconds of speech (words at the pace, plus cue
    pauses): several times the crossfade, so a scene is heard, not just passed through."""
    switch_penalty_s: float = 5.0
    """What a change of scene must save, in seconds of listening weighted by how badly the
    scene fits the words: the hysteresis that stops a stray word from flipping the bed."""
    carry_before: float = 0.5
    """Share of the previous passage's evidence a passage borrows: a place, once named,
    lingers."""
    carry_after: float = 0.25
    """Share of the next passage's evidence a passage borrows: a passage that only leads up to
    a place already leans towards it."""
    full_evidence: float = 2.0
    """Evidence at which a passage counts fully in the segmentation; passages with less (a
    single weak word) count in proportion, and passages with none not at all."""
    keep_ratio: float = 0.5
    """A layer joins a scene when the square root of its evidence is at least this share of
    the strongest's (so a quarter of its evidence at the default)."""
    min_evidence: float = 0.9
    """Least evidence for a layer to join a scene it does not lead: about one plain mention."""
    max_layers: int = 3
    """Most layers inferred for one scene (a bed may be added to them)."""
    pace_wpm: float | None = None
    """Pace for the seconds estimate (``--pace``); ``None``: the front matter's, else 130."""
    scene: str | None = None
    """One scene for the whole story (``--scene``); ``None``: the front matter's, if any."""
    scene_from: str = "command line"
    """Where :attr:`scene` was set (``command line``, ``manifest`` or ``front matter``), for
    the message that names an unknown one."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The scene under each passage, by passage index.

    ``sources`` says where each scene came from (``cue``, ``front matter``, ``inferred`` or
    ``plan``); ``heard`` lists the scene words found in each passage, for explanations
    ("ember (weak)": only in a simile or a compound). Both may be empty for a hand-made plan.
    ``warnings``: layer cues that changed nothing (a layer removed that was not playing).
    """

    scenes: tuple[Scene, ...]
    sources: tuple[str, ...] = ()
    heard: tuple[tuple[str, ...], ...] = ()
    warnings: tuple[str, ...] = ()

    def scene_for(self, passage_index: int) -> Scene:
        return self.scenes[passage_index]

    def source_for(self, passage_index: int) -> str:
        return self.sources[passage_index] if self.sources else ""

    def runs(self) -> tuple[tuple[int, int, Scene], ...]:
        """Maximal runs of one scene as ``(first, end, scene)``, ``end`` exclusive."""
        out: list[tuple[int, int, Scene]] = []
        for i, scene in enumerate(self.scenes):
            if out and out[-1][2] == scene:
                out[-1] = (out[-1][0], i + 1, scene)
            else:
                out.append((i, i + 1, scene))
        return tuple(out)


def estimate_seconds(passage: Passage, pace_wpm: float) -> float:
    """Estimated seconds of a passage: its words at ``pace_wpm`` plus its cue pause."""
    return passage.word_count / pace_wpm * 60.0 + passage.pause_after_s


# --------------------------------------------------------------------------- planning


def plan_story(
    script: Script,
    *,
    settings: DirectionSettings | None = None,
    words: SceneWords | None = None,
    extra_scenes: Mapping[str, Scene] | None = None,
) -> Plan:
    """A scene for every passage of ``script``; ``extra_scenes`` (user scenes from a TOML
    file) can be named by cues and the front matter like the built-in ones.

    Sources, strongest first: cues in the text, the front matter's ``scene``, and otherwise
    inference from the words (see the module docstring).

    Raises
    ------
    ScriptError
        The front matter names a scene that does not exist.
    """
    settings = settings or DirectionSettings()
    words = words or scene_words()
    scenes = {**available_scenes(), **(extra_scenes or {})}
    n = len(script.passages)
    heard = tuple(_heard(words.terms(p.text)) for p in script.passages)
    fixed = _front_matter_scene(script, scenes, settings)
    # A scene cue is a hard boundary: inference runs separately on the stretches between them.
    starts = sorted({0} | {p.index for p in script.passages if p.scene})
    ranges = list(zip(starts, [*starts[1:], n], strict=True))

    if fixed is not None:
        filled: list[tuple[int, int, Scene, str]] = []
        for a, b in ranges:
            cue = script.passages[a].scene
            named = choosable(scenes)[cue] if cue else fixed
            given = settings.scene_from if settings.scene else "front matter"
            filled.append((a, b, named, "cue" if cue else given))
    else:
        filled = _infer(script, ranges, scenes, settings, words)

    chosen: list[Scene] = []
    sources: list[str] = []
    warnings: list[str] = []
    for a, b, scene, source in filled:
        current, edited = scene, False
        for passage in script.passages[a:b]:
            if passage.add_layers or passage.remove_layers:
                warnings += _idle_layer_cues(current, passage, script.source)
                changed = _edit(current, passage.add_layers, passage.remove_layers)
                current, edited = changed, edited or changed is not current
            chosen.append(current)
            sources.append("cue" if edited else source)
    return Plan(scenes=tuple(chosen), sources=tuple(sources), heard=heard, warnings=tuple(warnings))


def _idle_layer_cues(scene: Scene, passage: Passage, source: str) -> list[str]:
    """What a passage's layer cues would change nothing in ``scene`` by: a layer removed that
    is not playing, or added that is."""
    playing = scene.layer_names
    where = f"{source}:{passage.line}: the [{{}}: {{}}] cue before passage {passage.index}"
    shown = f"{scene.name} ({', '.join(playing)})"
    return [
        *(
            f"{where.format('remove', name)} changes nothing: {name} is not playing in {shown}"
            for name in passage.remove_layers
            if name not in playing
        ),
        *(
            f"{where.format('add', name)} changes nothing: {name} is playing in {shown} already"
            for name in passage.add_layers
            if name in playing
        ),
    ]


def _infer(
    script: Script,
    ranges: list[tuple[int, int]],
    scenes: dict[str, Scene],
    settings: DirectionSettings,
    words: SceneWords,
) -> list[tuple[int, int, Scene, str]]:
    """Inferred segments ``(first, end, scene, source)`` over the stretches between scene cues;
    a stretch that opens with a cue plays the cue's scene until inference first moves on."""
    n = len(script.passages)
    pace = settings.pace_wpm or script.meta.options.get("pace") or DEFAULT_PACE_WPM
    layers = layer_names()
    found = [words.scores(p.text) for p in script.passages]
    denied = [words.denied(p.text) for p in script.passages]
    raw = np.array([[f.get(k, 0.0) for k in layers] for f in found]).reshape(n, len(layers))
    seconds = np.array([estimate_seconds(p, pace) for p in script.passages])
    carried = np.zeros_like(raw)
    segments: list[tuple[int, int, Scene | None, str]] = []
    for a, b in ranges:
        carried[a:b] = raw[a:b] + _borrowed(raw[a:b], settings)
        cuts = _segment(carried[a:b], raw[a:b].sum(axis=1), seconds[a:b], settings)
        cue = script.passages[a].scene
        for k, (s, e) in enumerate(zip(cuts, [*cuts[1:], b - a], strict=True)):
            if k == 0 and cue:
                segments.append((a + s, a + e, choosable(scenes)[cue], "cue"))
            else:
                segments.append((a + s, a + e, None, "inferred"))
    return _compose_segments(segments, carried, layers, scenes, settings, denied)


def _heard(terms: list[tuple[str, float]]) -> tuple[str, ...]:
    """Terms found, each once; "(weak)" marks one heard only in a simile or a compound."""
    strongest: dict[str, float] = {}
    for term, strength in terms:
        strongest[term] = max(strength, strongest.get(term, 0.0))
    return tuple(t if s >= 1.0 else f"{t} (weak)" for t, s in strongest.items())


def _front_matter_scene(
    script: Script, scenes: dict[str, Scene], settings: DirectionSettings
) -> Scene | None:
    name = settings.scene or script.meta.options.get("scene")
    if not name:
        return None
    known = choosable(scenes)
    if name in known:
        return known[name]
    where, what = script.source, "--scene"
    if not settings.scene or settings.scene_from == "front matter":
        where, what = f"{script.source}:{script.meta.lines.get('scene', 1)}", "front matter scene"
    elif settings.scene_from != "command line":
        what = f"the {settings.scene_from}'s scene"
    raise ScriptError(f"{where}: {what} {name!r} is unknown; {name_hint(name, known)}")


def _segment(
    evidence: np.ndarray, own: np.ndarray, seconds: np.ndarray, settings: DirectionSettings
) -> list[int]:
    """Start indices of the best cut of one stretch of passages into scenes.

    ``evidence`` is ``(passages, layers)``, neighbours' share included; ``own`` each passage's
    evidence from its own words; ``seconds`` the passages' estimated lengths.

    Minimises, over cuts into segments of at least ``min_scene_s`` (the whole stretch may be
    shorter), the sum of each segment's spread plus ``switch_penalty_s`` per segment. A
    passage's spread is its confidence-weighted seconds times the squared distance of its layer
    profile from its segment's mean profile, in the Hellinger metric. Confidence comes from the
    passage's own words only: a passage that says little cannot pay for a scene of its own with
    what it borrowed.
    """
    n = len(evidence)
    if n <= 1 or not evidence.any():
        return [0]
    total = evidence.sum(axis=1)
    # Square roots of the shares: distances between them are Hellinger distances, in which a
    # layer that joins (gulls over the tide) counts by its share, not by its share squared.
    profiles = np.sqrt(evidence / np.where(total > 0, total, 1.0)[:, None])
    weights = seconds * np.minimum(1.0, own / settings.full_evidence)

    # Prefix sums make any segment's spread O(1): sum w|p|^2 - |sum w p|^2 / sum w.
    w_sum = np.concatenate([[0.0], np.cumsum(weights)])
    p_sum = np.vstack([np.zeros(evidence.shape[1]), np.cumsum(weights[:, None] * profiles, 0)])
    sq_sum = np.concatenate([[0.0], np.cumsum(weights * (profiles**2).sum(axis=1))])
    t_sum = np.concatenate([[0.0], np.cumsum(seconds)])

    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=int)
    for b in range(1, n + 1):
        a = np.arange(b)
        allowed = t_sum[b] - t_sum[a] >= settings.min_scene_s - 1e-9
        if b == n:
            allowed[0] = True  # the whole stretch is always one valid scene
        allowed &= np.isfinite(best[a])
        if not allowed.any():
            continue
        w = w_sum[b] - w_sum[a]
        p = p_sum[b] - p_sum[a]
        spread = sq_sum[b] - sq_sum[a] - (p**2).sum(axis=1) / np.where(w > 0, w, 1.0)
        cost = np.where(allowed, best[a] + np.maximum(spread, 0.0), np.inf)
        k = int(np.argmin(cost))
        best[b] = cost[k] + settings.switch_penalty_s
        back[b] = k
    cuts: list[int] = []
    b = n
    while b > 0:
        b = int(back[b])
        cuts.append(b)
    return cuts[::-1]


def _borrowed(ev: np.ndarray, settings: DirectionSettings) -> np.ndarray:
    """Evidence each passage borrows from its neighbours, shape ``(passages, layers)``.

    Borrowed as the neighbour's profile scaled to ``full_evidence`` (a word-rich neighbour
    counts no more than a plain one), and the less a passage says itself the more it borrows:
    a linking passage takes its colour from around it, a passage that names its own place
    keeps it.
    """
    full = settings.full_evidence
    total = ev.sum(axis=1, keepdims=True)
    shaped = full * ev / np.where(total > 0, total, 1.0)
    out = np.zeros_like(ev)
    out[1:] += settings.carry_before * shaped[:-1]
    out[:-1] += settings.carry_after * shaped[1:]
    return out * (full / (full + total))


def _compose_segments(
    segments: list[tuple[int, int, Scene | None, str]],
    evidence: np.ndarray,
    layers: list[str],
    scenes: dict[str, Scene],
    settings: DirectionSettings,
    denied: list[frozenset[str]],
) -> list[tuple[int, int, Scene, str]]:
    """Fill in each inferred segment's scene from its evidence (without a layer its passages
    deny), and merge equal neighbours."""
    out: list[tuple[int, int, Scene, str]] = []
    last_bed: str | None = None
    for a, b, given, source in segments:
        scene = given
        if scene is None:
            summed = evidence[a:b].sum(axis=0)
            if summed.any():
                scene = compose_scene(
                    {k: float(v) for k, v in zip(layers, summed, strict=True) if v > 0},
                    scenes=scenes,
                    last_bed=last_bed,
                    settings=settings,
                    denied=frozenset().union(*denied[a:b]),
                )
            else:
                # No sound word in the whole stretch (a cut is never made to isolate silence):
                # a soft pad, since no place is named.
                scene = SOFT_BED
        beds = [layer for layer in scene.layers if layer.name in bed_layers()]
        if beds:
            last_bed = max(beds, key=lambda layer: layer.gain_db).name
        out.append((a, b, scene, source))
    merged: list[tuple[int, int, Scene, str]] = []
    for seg in out:
        if merged and merged[-1][2] == seg[2] and merged[-1][3] == seg[3]:
            merged[-1] = (merged[-1][0], seg[1], seg[2], seg[3])
        else:
            merged.append(seg)
    return merged


def compose_scene(
    evidence: Mapping[str, float],
    *,
    scenes: Mapping[str, Scene] | None = None,
    last_bed: str | None = None,
    settings: DirectionSettings | None = None,
    denied: frozenset[str] = frozenset(),
) -> Scene:
    """The scene for some evidence (layer → score): its strongest layers and a soft bed.

    The strongest layer plays at 0 dB, the others by their share of its evidence (-3 to
    -12 dB). Without a bed among them, the last bed (or the drone) joins at -6 dB. The result
    is a built-in scene when its layers are one's (or a subset, led by the same layer), a
    built-in with extras ("music+shimmer") when they hold one, else named by its layers.
    A ``denied`` layer ("no rain") joins neither as a built-in's quiet extra nor as the bed.
    """
    settings = settings or DirectionSettings()
    table = dict(available_scenes() if scenes is None else scenes)
    ranked = sorted(((v, k) for k, v in evidence.items() if v > 0), key=lambda t: (-t[0], t[1]))
    if not ranked:
        return SOFT_BED
    top = ranked[0][0]
    gains: dict[str, float] = {}
    for value, name in ranked[: settings.max_layers]:
        # Compared as square roots: a sound named once (gulls over a much-described sea) still
        # joins, while a layer needs at least one plain mention to join at all.
        share = math.sqrt(value / top)
        if not gains or (share >= settings.keep_ratio and value >= settings.min_evidence):
            db = 20.0 * math.log10(share)
            gains[name] = 0.0 if not gains else min(-3.0, max(-12.0, round(db * 2) / 2))
    beds = bed_layers()
    if not beds & set(gains):
        gains[last_bed if last_bed in beds - denied else "drone"] = -6.0
    allowed = {k: s for k, s in table.items() if not (set(s.layer_names) - set(gains)) & denied}
    return _name_scene(gains, allowed)


def _name_scene(gains: dict[str, float], table: Mapping[str, Scene]) -> Scene:
    names = set(gains)
    lead = next(iter(gains))
    # The same layers led by the same one: the built-in, with its hand-set gains.
    exact = [s for s in table.values() if set(s.layer_names) == names and s.layers[0].name == lead]
    if exact:
        return min(exact, key=lambda s: s.name)
    covering = [
        s for s in table.values() if names < set(s.layer_names) and s.layers[0].name == lead
    ]
    if covering:
        return min(covering, key=lambda s: (len(s.layers), s.name))
    inside = [s for s in table.values() if set(s.layer_names) < names]
    if inside:
        # The largest built-in inside, preferring one led by the same layer; then by name.
        base = min(inside, key=lambda s: (-len(s.layers), s.layers[0].name != lead, s.name))
        extras = [n for n in gains if n not in base.layer_names]
        return Scene(
            name="+".join([base.name, *extras]),
            layers=base.layers + tuple(LayerSpec(name=n, gain_db=gains[n]) for n in extras),
            description=f"{base.description}, with {', '.join(extras)}",
        )
    return Scene(
        name="+".join(gains),
        layers=tuple(LayerSpec(name=n, gain_db=g) for n, g in gains.items()),
        description="inferred: " + ", ".join(gains),
    )


def _edit(scene: Scene, add: tuple[str, ...], remove: tuple[str, ...]) -> Scene:
    """``scene`` with cue layers added and removed; a bed stays, so it never falls silent.
    Named for what changed (``coast+rain``); ``scene`` itself when the cues change nothing (a
    layer added that plays already, or removed that does not: warned of by the plan)."""
    playing = set(scene.layer_names)
    add = tuple(dict.fromkeys(n for n in add if n not in playing))
    remove = tuple(dict.fromkeys(n for n in remove if n in playing))
    if not add and not remove:
        return scene
    layers = [layer for layer in scene.layers if layer.name not in remove]
    # An added layer joins a little under the scene's main layer.
    layers += [LayerSpec(name=n, gain_db=-3.0) for n in add]
    if not bed_layers() & {layer.name for layer in layers}:
        layers.append(LayerSpec(name="drone", gain_db=-6.0 if layers else 0.0))
    name = scene.name
    if add:
        name += "+" + "+".join(add)
    if remove:
        name += "-" + "-".join(remove)
    return Scene(name=name, layers=tuple(layers), description=scene.description)


def describe_layers(scene: Scene) -> str:
    """The layers with their gains, for a table: ``"tide 0, gulls -5"`` (dB)."""
    return ", ".join(f"{layer.name} {layer.gain_db:g}" for layer in scene.layers)


__all__ = [
    "SOFT_BED",
    "DirectionSettings",
    "Plan",
    "compose_scene",
    "describe_layers",
    "estimate_seconds",
    "plan_story",
]
