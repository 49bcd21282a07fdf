"""The Narration: the story's speech laid out on a timeline, and the voice stem that plays it.

:func:`narrate` makes sure every passage is cached, then plans the timeline from clip lengths
alone: it notes each passage's trimmed sentence lengths (of a passage it synthesized, as it
reaches the cache; of one cached before, by loading it) and drops the audio. The
voice stem (:meth:`Narration.source`) later loads, cleans and plays one passage at a time from
the cache. Memory therefore stays at about one passage whatever the story's length.

Why re-clean from the cache instead of keeping processed clips in a temporary folder: cleaning
is deterministic and cheap (well under 1 % of real time) and the timings come from the same
trim and resampling arithmetic, so the audio lands exactly where the timings say, with no
second copy of the speech on disk and nothing to clean up after a killed render. The
narration keeps a reference to its cache, which must stay in place until the stem has played.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from narrator.errors import SpeechError
from narrator.speech.base import EngineSpec
from narrator.speech.cache import SpeechCache
from narrator.speech.clean import VOICE_LUFS, clean_passage, trimmed_frames
from narrator.speech.pacing import (
    DEFAULT_PACE_WPM,
    Pauses,
    check_pace,
    check_slow_down,
    gaps_after,
    plan_pauses,
    slowed_pauses,
)
from narrator.speech.synthesize import SpeechWorkers, ensure_cached, passage_keys
from narrator.text.script import Script
from soundscapes.source import CHANNELS, SAMPLE_RATE_HZ


@dataclass
class SentenceTiming:
    """Where one sentence is heard, in seconds on the timeline."""

    start_s: float
    end_s: float


@dataclass
class PassageTiming:
    """Where one passage is heard: from its first word to the end of its last."""

    index: int
    chapter: int
    start_s: float
    end_s: float
    sentences: list[SentenceTiming]


@dataclass(frozen=True)
class _PassagePlan:
    key: str
    starts: tuple[int, ...]  # frame of each sentence's first sample on the timeline
    frames: tuple[int, ...]  # each sentence's clean length in frames

    @property
    def start_frame(self) -> int:
        return self.starts[0]

    @property
    def end_frame(self) -> int:
        return self.starts[-1] + self.frames[-1]


@dataclass
class Narration:
    """Speech on a timeline at 44100 Hz; all times in seconds, lead-in included.

    ``passages`` carry absolute times (the first word starts at ``lead_in_s``); ``end_s`` is the
    end of the last word; ``speech_s`` the voiced time without pauses; ``pauses`` the pause
    lengths that pacing chose.
    """

    sample_rate_hz: int
    lead_in_s: float
    end_s: float
    passages: list[PassageTiming]
    cache_hits: int
    cache_misses: int
    speech_s: float
    words: int
    pauses: Pauses | None = None
    #: Integrated loudness every passage of the voice stem is matched to.
    voice_lufs: float = VOICE_LUFS
    _plan: list[_PassagePlan] = field(default_factory=list, repr=False, compare=False)
    _cache: SpeechCache | None = field(default=None, repr=False, compare=False)

    @property
    def pace_wpm(self) -> float:
        """Measured pace: words per minute from the first word to the end of the last."""
        spoken_s = self.end_s - self.lead_in_s
        return self.words / spoken_s * 60.0 if spoken_s > 0 else 0.0

    def speech_spans_s(self) -> list[tuple[float, float]]:
        """Every sentence's ``(start_s, end_s)`` in order: where the voice is."""
        return [(s.start_s, s.end_s) for p in self.passages for s in p.sentences]

    def source(self) -> NarrationSource:
        """The voice stem from t = 0: float32 ``(2, frames)`` blocks at 44100 Hz, the mono voice
        on both channels, silence before the lead-in, in pauses, and after the end (forever)."""
        if self._cache is None:
            raise SpeechError("this narration has no speech cache to play from")
        return NarrationSource(self._plan, self._cache)


class NarrationSource:
    """Plays a :class:`Narration` in blocks, loading and cleaning one passage at a time.

    Output depends only on the absolute frame, so any block sizes give the same samples.
    """

    sample_rate_hz = SAMPLE_RATE_HZ
    channels = CHANNELS

    def __init__(self, plan: list[_PassagePlan], cache: SpeechCache) -> None:
        self._plan = plan
        self._cache = cache
        self._position = 0
        self._cursor = 0  # first passage that has not finished before the playhead
        self._loaded: dict[int, list[np.ndarray]] = {}

    @property
    def position_frames(self) -> int:
        return self._position

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` samples as float32 ``(2, frames)``."""
        if frames < 0:
            raise ValueError(f"frames must be 0 or more, got {frames}")
        mono = np.zeros(frames, dtype=np.float32)
        start, end = self._position, self._position + frames
        while self._cursor < len(self._plan) and self._plan[self._cursor].end_frame <= start:
            self._loaded.pop(self._cursor, None)
            self._cursor += 1
        j = self._cursor
        while j < len(self._plan) and self._plan[j].start_frame < end:
            passage = self._plan[j]
            clips = self._clips(j)
            for at, clip in zip(passage.starts, clips, strict=True):
                lo, hi = max(at, start), min(at + clip.size, end)
                if lo < hi:
                    mono[lo - start : hi - start] = clip[lo - at : hi - at]
            if passage.end_frame <= end:  # played to its end: even a huge block holds one
                self._loaded.pop(j, None)
            j += 1
        self._position = end
        return np.stack([mono, mono])

    def _clips(self, j: int) -> list[np.ndarray]:
        if j not in self._loaded:
            passage = self._plan[j]
            entry = self._cache.get(passage.key, clips=len(passage.frames))
            if entry is None:
                raise SpeechError(
                    f"the speech for passage {j} left the cache ({self._cache.folder}) during "
                    "the render; render again"
                )
            clips = clean_passage(entry.clips, entry.sample_rate_hz)
            if tuple(c.size for c in clips) != passage.frames:
                raise SpeechError(f"passage {j} cleaned to other lengths than planned")
            self._loaded[j] = clips
        return self._loaded[j]


def narrate(
    script: Script,
    *,
    spec: EngineSpec,
    cache: SpeechCache,
    pace_wpm: float = DEFAULT_PACE_WPM,
    jobs: int = 1,
    lead_in_s: float = 0.0,
    slow_down: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
    workers: SpeechWorkers | None = None,
    core_free: Callable[[], None] | None = None,
) -> Narration:
    """Synthesize (or find in the cache) every passage and lay the speech out on a timeline.

    Parameters
    ----------
    pace_wpm : float
        Words per minute from the first word to the end of the last, pauses included.
    jobs : int
        Parallel synthesis processes for passages not yet cached.
    lead_in_s : float
        Silence before the first word, in seconds.
    slow_down : float
        Slowing over the story, 0 to 0.5: designed pauses grow from the first passage to the
        last while the whole keeps its pace (:func:`~narrator.speech.pacing.slowed_pauses`).
    progress : callable, optional
        ``progress(done, total)`` in passages, during synthesis.
    workers : SpeechWorkers, optional
        Worker processes started ahead (:func:`~narrator.speech.synthesize.start_workers`),
        used for the passages not yet cached, and stopped once they are.
    core_free : callable, optional
        Called once a core is free of speech (see :func:`ensure_cached`).

    Raises
    ------
    SpeechError
        The engine failed (naming the passage), or the pace or lead-in is out of range.
    """
    pace = check_pace(pace_wpm)
    check_slow_down(slow_down)
    if not 0.0 <= lead_in_s < 24 * 3600:
        raise SpeechError(f"lead-in must be 0 s or more, got {lead_in_s:g} s")
    passages = list(script.passages)
    # The trimmed lengths of what is synthesized, taken while the rest is: read back from the
    # cache after the stage instead, 0.04-0.07 s of the demo story's (2-core Xeon, 2026-12-06).
    fresh: dict[str, list[int]] = {}
    hits, misses = ensure_cached(
        passages,
        spec,
        cache,
        jobs=jobs,
        progress=progress,
        workers=workers,
        core_free=core_free,
        stored=lambda key, clips, rate: fresh.setdefault(key, trimmed_frames(clips, rate)),
    )
    keys = passage_keys(passages, spec)

    lengths: list[list[int]] = []
    for passage, key in zip(passages, keys, strict=True):
        if key in fresh:
            lengths.append(fresh[key])
            continue
        entry = cache.get(key, clips=len(passage.say))
        if entry is None:
            raise SpeechError(
                f"passage {passage.index}: its speech is missing from the cache "
                f"({cache.folder}) right after synthesis; check the folder is writable"
            )
        lengths.append(trimmed_frames(entry.clips, entry.sample_rate_hz))

    rate = SAMPLE_RATE_HZ
    speech_frames = sum(sum(f) for f in lengths)
    gaps = gaps_after(passages)
    # Cue pauses ([pause 3s]) are fixed silences inside the narration: they count towards the
    # pace, so the designed pauses take what is left of the budget.
    cue_pauses_s = [p.pause_after_s for p in passages[:-1]] + [0.0] if passages else []
    pauses = plan_pauses(
        words=script.word_count,
        speech_s=speech_frames / rate + sum(cue_pauses_s),
        gaps=[g for kinds in gaps for g in kinds],
        pace_wpm=pace,
    )

    pause_s = slowed_pauses(pauses, gaps, slow_down)
    position = round(lead_in_s * rate)
    plan: list[_PassagePlan] = []
    timings: list[PassageTiming] = []
    for passage_no, (passage, key, frames, kinds, cue_s) in enumerate(
        zip(passages, keys, lengths, gaps, cue_pauses_s, strict=True)
    ):
        starts: list[int] = []
        sentences: list[SentenceTiming] = []
        for n, gap, after_s in zip(frames, kinds, pause_s[passage_no], strict=True):
            starts.append(position)
            sentences.append(SentenceTiming(start_s=position / rate, end_s=(position + n) / rate))
            position += n
            if gap is not None:
                position += round(after_s * rate)
        position += round(cue_s * rate)
        plan.append(_PassagePlan(key=key, starts=tuple(starts), frames=tuple(frames)))
        timings.append(
            PassageTiming(
                index=passage.index,
                chapter=passage.chapter,
                start_s=sentences[0].start_s,
                end_s=sentences[-1].end_s,
                sentences=sentences,
            )
        )

    end_frame = plan[-1].end_frame if plan else round(lead_in_s * rate)
    return Narration(
        sample_rate_hz=rate,
        lead_in_s=round(lead_in_s * rate) / rate,
        end_s=end_frame / rate,
        passages=timings,
        cache_hits=hits,
        cache_misses=misses,
        speech_s=speech_frames / rate,
        words=script.word_count,
        pauses=pauses,
        _plan=plan,
        _cache=cache,
    )
