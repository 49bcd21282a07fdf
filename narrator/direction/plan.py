"""The scene plan: which layers play under each passage, and how loud.

Sources, strongest first: cues in the text (``[scene: …]`` starts a scene, ``[add: …]`` and
``[remove: …]`` edit the one playing), the front matter's ``scene`` (the whole story's bed), and
otherwise inference from the words:

1. **Lexicon.** Sound-bearing words and phrases map to *layers* with a weight ("gulls" →
   ``gulls``; "night sky" → ``shimmer`` and ``drone``). Entries match their word forms
   (plural, -ing, -ed); a phrase is taken before its words ("wind chime" is chimes, not wind).
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

import difflib
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from narrator.errors import ScriptError
from narrator.speech.pacing import DEFAULT_PACE_WPM
from narrator.text.script import Passage, Script, words_of
from soundscapes.layers import layer_names
from soundscapes.scene import LayerSpec, Scene, available_scenes

#: Sound-bearing words and phrases, by the layer they call up, with a weight: 1.0 for a word
#: that names the sound or its source ("rain", "piano"), less for a word that only suggests
#: it ("puddle") or names a thing seen that the layer evokes ("constellation"). A word may call
#: up several layers ("sky": a sparkle and a low pad).
LAYER_WORDS: dict[str, dict[str, float]] = {
    "storm-hush": {
        "storm": 1.0, "stormy": 1.0, "thunder": 1.0, "thunderstorm": 1.0, "tempest": 1.0,
        "hush": 0.7, "lightning": 0.7, "rumble": 0.6, "thundercloud": 0.8, "rainstorm": 0.5,
    },
    "breathing-mirrors": {
        "mirror": 1.0, "looking glass": 1.0, "breath": 0.7, "breathe": 0.7, "lung": 0.7,
        "inhale": 0.6, "exhale": 0.6, "reflection": 0.3, "sigh": 0.4, "corridor": 0.3,
    },
    "gulls": {
        "gull": 1.0, "seagull": 1.0, "seabird": 0.8, "sea bird": 0.8, "tern": 0.6,
        "pelican": 0.5,
    },
    "tide": {
        "tide": 1.0, "low tide": 1.0, "wave": 1.0, "surf": 1.0, "shore": 1.0, "coast": 1.0,
        "sea": 1.0, "ocean": 1.0, "beach": 0.8, "shoreline": 0.8, "seaside": 0.8,
        "breaker": 0.8, "foam": 0.5, "seashell": 0.5, "harbor": 0.5, "harbour": 0.5,
        "lagoon": 0.5, "sand": 0.5, "lake": 0.3, "pool": 0.3, "strand": 0.3, "pebble": 0.3,
    },
    "rain": {
        "rain": 1.0, "rainy": 1.0, "drizzle": 1.0, "raindrop": 1.0, "downpour": 1.0,
        "rainfall": 1.0, "rainstorm": 1.0, "patter": 0.6, "umbrella": 0.5, "puddle": 0.4,
        "drip": 0.4, "gutter": 0.3,
    },
    "fire": {
        "fire": 1.0, "stove": 1.0, "wood stove": 1.0, "woodstove": 1.0, "hearth": 1.0,
        "ember": 1.0, "fireplace": 1.0, "campfire": 1.0, "bonfire": 1.0, "flame": 0.7,
        "firewood": 0.7, "kindling": 0.7, "coal": 0.6, "crackle": 0.6, "fiery": 0.5,
        "log": 0.3, "smoke": 0.3, "chimney": 0.3,
    },
    "crickets": {
        "cricket": 1.0, "night garden": 0.6, "chirp": 0.7, "cicada": 0.7, "grasshopper": 0.7,
        "katydid": 0.7, "garden": 0.4, "meadow": 0.3,
    },
    "night": {
        "owl": 1.0, "night garden": 1.0, "hoot": 0.8, "night air": 0.5, "nightingale": 0.5,
        "frog": 0.5, "firefly": 0.4, "garden": 0.3, "moth": 0.3,
    },
    "melody": {
        "piano": 1.0, "melody": 1.0, "chord": 1.0, "song": 0.7, "music": 1.0, "lullaby": 1.0,
        "harp": 1.0, "musical": 0.7, "recital": 0.7, "hymn": 0.7, "tune": 0.7, "violin": 0.6,
        "cello": 0.6, "guitar": 0.6, "flute": 0.6, "sing": 0.6, "sang": 0.6, "sung": 0.6,
        "hum": 0.3, "note": 0.3,
    },
    "shimmer": {
        "star": 1.0, "starry": 1.0, "starlight": 1.0, "night sky": 1.0, "shimmer": 0.8,
        "twinkle": 0.8, "constellation": 0.8, "stardust": 0.8, "milky way": 0.8,
        "galaxy": 0.7, "nebula": 0.7, "nebulae": 0.7, "moonlight": 0.7, "moon": 0.6,
        "sky": 0.6, "celestial": 0.6, "cosmos": 0.6, "meteor": 0.5, "comet": 0.5,
        "cosmic": 0.5, "sparkle": 0.5, "glitter": 0.5, "glimmer": 0.5, "firefly": 0.4,
    },
    "drone": {
        "amphitheater": 1.0, "amphitheatre": 1.0, "cathedral": 0.8, "cavern": 0.8,
        "silence": 0.6, "arena": 0.6, "auditorium": 0.6, "cave": 0.6, "canyon": 0.6,
        "night sky": 0.6, "stillness": 0.5, "hall": 0.5, "temple": 0.5, "void": 0.5,
        "hum": 0.5, "sky": 0.4, "vault": 0.4, "moon": 0.3, "cosmos": 0.3, "celestial": 0.3,
        "star": 0.2,
    },
    "heartbeat": {
        "heartbeat": 1.0, "heart beat": 1.0, "drum": 1.0, "pulse": 0.7, "throb": 0.5,
        "thrum": 0.5, "heart": 0.3,
    },
    "chimes": {
        "chime": 1.0, "wind chime": 1.0, "windchime": 1.0, "bell": 0.8, "music box": 0.6,
        "tinkle": 0.6,
    },
    "wind": {
        "wind": 1.0, "windy": 1.0, "breeze": 1.0, "breezy": 0.8, "gust": 1.0, "gale": 1.0,
        "rustle": 0.6, "howl": 0.5, "forest": 0.4, "tree": 0.3, "whistle": 0.3, "pine": 0.3,
    },
}  # fmt: skip

#: Words whose verb forms mean something else: "waved" is a hand, "fired" a job, "noted" a
#: thought, "winding" a path. They match only their plurals.
NOUN_ONLY = frozenset(
    {"wave", "fire", "note", "log", "wind", "star", "moon", "sky", "cave", "bell", "sea", "hall"}
)

#: Continuous layers: a scene holding one never falls silent between events. The others
#: (gulls, chimes, melody, heartbeat, shimmer, breathing mirrors) come and go.
BED_LAYERS = frozenset({"storm-hush", "tide", "rain", "wind", "fire", "crickets", "night", "drone"})

#: The bed a story gets when it names no sound at all: a soft pad that suggests no place.
SOFT_BED = Scene(
    name="soft-bed",
    layers=(LayerSpec(name="drone", gain_db=0.0),),
    description="a soft pad, for a story that names no sounds",
)


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


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The scene under each passage, by passage index.

    ``sources`` says where each scene came from (``cue``, ``front matter``, ``inferred`` or
    ``plan``); ``heard`` lists the lexicon terms found in each passage, for explanations
    ("ember (weak)": only in a simile or a compound). Both may be empty for a hand-made plan.
    """

    scenes: tuple[Scene, ...]
    sources: tuple[str, ...] = ()
    heard: tuple[tuple[str, ...], ...] = ()

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


# --------------------------------------------------------------------------- lexicon


def word_forms(word: str, *, noun_only: bool = False) -> set[str]:
    """The forms of a lexicon word that match it: plural or third person, -ing and -ed.

    English spelling rules rather than a stemmer, so "breathe" gives "breathing" and "drum"
    gives "drumming", while "hall" never matches "hallway" or "seal" matches "sea".
    """
    forms = {word}
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    else:
        forms.add(word + "s")
    if noun_only:
        return forms
    if word.endswith("e") and not word.endswith("ee"):
        forms |= {word[:-1] + "ing", word + "d"}
    else:
        forms |= {word + "ing", word + "ed"}
    # Short consonant-vowel-consonant words double their last letter: drumming, humming.
    if (
        len(word) >= 3
        and word[-1] not in "aeiouwxy"
        and word[-2] in "aeiou"
        and word[-3] not in "aeiou"
    ):
        forms |= {word + word[-1] + "ing", word + word[-1] + "ed"}
    return forms


class SoundLexicon:
    """The compiled lexicon: finds terms in text and scores layers.

    ``layer_words`` maps a layer to its terms and weights, as :data:`LAYER_WORDS` does.
    """

    def __init__(
        self,
        layer_words: Mapping[str, Mapping[str, float]] = LAYER_WORDS,
        *,
        noun_only: Iterable[str] = NOUN_ONLY,
    ) -> None:
        nouns = set(noun_only)
        self.weights: dict[str, dict[str, float]] = {}
        for layer, terms in layer_words.items():
            for term, weight in terms.items():
                self.weights.setdefault(term.lower(), {})[layer] = weight
        # Terms as written first, so a term is never taken for another's form ("sang").
        self._forms: dict[tuple[str, ...], str] = {tuple(t.split()): t for t in self.weights}
        for term in self.weights:
            words = term.split()
            for form in word_forms(words[-1], noun_only=words[-1] in nouns):
                self._forms.setdefault((*words[:-1], form), term)
        self._longest = max((len(k) for k in self._forms), default=1)

    def terms(self, text: str) -> list[tuple[str, float]]:
        """Lexicon terms found in ``text``, in order, each with its strength.

        A word in a simile counts :data:`SIMILE_STRENGTH` ("glowing like an ember" lights no
        fire): a comparison names a sound the listener is not in. So does a word inside a
        hyphenated compound, which describes something else ("mirror-smooth water").
        """
        found: list[tuple[str, float]] = []
        # Phrases and similes end with their clause: "like the sea, the rain fell" is rain.
        for clause in _CLAUSE_BREAK.split(text):
            tokens = _tokens(clause)
            words = [w for w, _ in tokens]
            i = 0
            while i < len(tokens):
                for size in range(min(self._longest, len(tokens) - i), 0, -1):
                    window = tokens[i : i + size]
                    term = self._forms.get(tuple(w for w, _ in window))
                    if term is not None:
                        strength = min(f for _, f in window)
                        if _in_simile(words, i):
                            strength *= SIMILE_STRENGTH
                        found.append((term, strength))
                        i += size
                        break
                else:
                    i += 1
        return found

    def scores(self, text: str) -> dict[str, float]:
        """Evidence for each layer in ``text`` (layers with none are left out).

        Each term adds ``weight * log2(1 + mentions)``: the second "mirror" adds less than the
        first, so one word repeated does not outweigh several different ones.
        """
        mentions: Counter[str] = Counter()
        for term, strength in self.terms(text):
            mentions[term] += strength
        out: dict[str, float] = {}
        for term, count in mentions.items():
            for layer, weight in self.weights[term].items():
                out[layer] = out.get(layer, 0.0) + weight * math.log2(1.0 + count)
        return out


#: How much a word inside a simile counts, and how far back (in words) "like" or "as if"
#: reaches. Four words cover "like puddles left after rain" but not the next clause.
SIMILE_STRENGTH = 0.3
COMPOUND_STRENGTH = 0.3
SIMILE_REACH = 4
_CLAUSE_BREAK = re.compile(r"[.!?;:,()\[\]\"“”—–]+|\s-\s")
_SIMILE_MARKS = {("like",), ("as", "if"), ("as", "though"), ("resembling",)}


def _in_simile(words: list[str], i: int) -> bool:
    before = words[max(0, i - SIMILE_REACH) : i]
    return any(
        tuple(before[k : k + len(mark)]) == mark
        for mark in _SIMILE_MARKS
        for k in range(len(before) - len(mark) + 1)
    )


def _tokens(text: str) -> list[tuple[str, float]]:
    """Lower-case words without possessive endings, with their strength: compounds are split
    into their words at :data:`COMPOUND_STRENGTH`."""
    out: list[tuple[str, float]] = []
    for word in words_of(text):
        word = re.sub(r"'s?$", "", word.lower().replace("’", "'"))
        parts = [p for p in word.split("-") if p]
        strength = 1.0 if len(parts) == 1 else COMPOUND_STRENGTH
        out.extend((part, strength) for part in parts)
    return out


@functools.cache
def default_lexicon() -> SoundLexicon:
    """The lexicon of :data:`LAYER_WORDS`, compiled once."""
    return SoundLexicon()


def estimate_seconds(passage: Passage, pace_wpm: float) -> float:
    """Estimated seconds of a passage: its words at ``pace_wpm`` plus its cue pause."""
    return passage.word_count / pace_wpm * 60.0 + passage.pause_after_s


# --------------------------------------------------------------------------- planning


def plan_story(
    script: Script,
    *,
    settings: DirectionSettings | None = None,
    lexicon: SoundLexicon | None = None,
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
    lexicon = lexicon or default_lexicon()
    scenes = {**available_scenes(), **(extra_scenes or {})}
    n = len(script.passages)
    heard = tuple(_heard(lexicon.terms(p.text)) for p in script.passages)
    fixed = _front_matter_scene(script, scenes, settings)
    # A scene cue is a hard boundary: inference runs separately on the stretches between them.
    starts = sorted({0} | {p.index for p in script.passages if p.scene})
    ranges = list(zip(starts, [*starts[1:], n], strict=True))

    if fixed is not None:
        filled: list[tuple[int, int, Scene, str]] = []
        for a, b in ranges:
            cue = script.passages[a].scene
            filled.append((a, b, scenes[cue] if cue else fixed, "cue" if cue else "front matter"))
    else:
        filled = _infer(script, ranges, scenes, settings, lexicon)

    chosen: list[Scene] = []
    sources: list[str] = []
    for a, b, scene, source in filled:
        current, edited = scene, False
        for passage in script.passages[a:b]:
            if passage.add_layers or passage.remove_layers:
                current, edited = _edit(current, passage.add_layers, passage.remove_layers), True
            chosen.append(current)
            sources.append("cue" if edited else source)
    return Plan(scenes=tuple(chosen), sources=tuple(sources), heard=heard)


def _infer(
    script: Script,
    ranges: list[tuple[int, int]],
    scenes: dict[str, Scene],
    settings: DirectionSettings,
    lexicon: SoundLexicon,
) -> list[tuple[int, int, Scene, str]]:
    """Inferred segments ``(first, end, scene, source)`` over the stretches between scene cues;
    a stretch that opens with a cue plays the cue's scene until inference first moves on."""
    n = len(script.passages)
    pace = settings.pace_wpm or script.meta.options.get("pace") or DEFAULT_PACE_WPM
    layers = layer_names()
    found = [lexicon.scores(p.text) for p in script.passages]
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
                segments.append((a + s, a + e, scenes[cue], "cue"))
            else:
                segments.append((a + s, a + e, None, "inferred"))
    return _compose_segments(segments, carried, layers, scenes, settings)


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
    if name in scenes:
        return scenes[name]
    close = difflib.get_close_matches(name, list(scenes), n=3) or sorted(scenes)[:5]
    raise ScriptError(
        f"{script.source}: {'--scene' if settings.scene else 'front matter scene'} {name!r} "
        f"is unknown; did you mean {', '.join(close)}?"
    )


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
) -> list[tuple[int, int, Scene, str]]:
    """Fill in each inferred segment's scene from its evidence, and merge equal neighbours."""
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
                )
            else:
                # No sound word in the whole stretch (a cut is never made to isolate silence):
                # a soft pad, since no place is named.
                scene = SOFT_BED
        beds = [layer for layer in scene.layers if layer.name in BED_LAYERS]
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
) -> Scene:
    """The scene for some evidence (layer → score): its strongest layers and a soft bed.

    The strongest layer plays at 0 dB, the others by their share of its evidence (-3 to
    -12 dB). Without a bed among them, the last bed (or the drone) joins at -6 dB. The result
    is a built-in scene when its layers are one's (or a subset, led by the same layer), a
    built-in with extras ("music+shimmer") when they hold one, else named by its layers.
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
    if not BED_LAYERS & set(gains):
        gains[last_bed if last_bed in BED_LAYERS else "drone"] = -6.0
    return _name_scene(gains, table)


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
    """``scene`` with cue layers added and removed; a bed stays, so it never falls silent."""
    layers = [layer for layer in scene.layers if layer.name not in remove]
    have = {layer.name for layer in layers}
    # An added layer joins a little under the scene's main layer.
    layers += [LayerSpec(name=n, gain_db=-3.0) for n in add if n not in have]
    if not BED_LAYERS & {layer.name for layer in layers}:
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
    "BED_LAYERS",
    "LAYER_WORDS",
    "SOFT_BED",
    "DirectionSettings",
    "Plan",
    "SoundLexicon",
    "compose_scene",
    "describe_layers",
    "estimate_seconds",
    "plan_story",
    "word_forms",
]
