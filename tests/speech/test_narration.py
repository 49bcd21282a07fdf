"""The Narration with the fake engine: timings against the audio, pace, levels, streaming,
the cache and parallel synthesis. Everything here is measured on the rendered voice stem."""

from __future__ import annotations

import heapq
import itertools
from pathlib import Path

import numpy as np
import pyebur128
import pytest

import narrator.speech.synthesize as synthesize_module
from narrator.errors import SpeechError
from narrator.speech.cache import SpeechCache
from narrator.speech.clean import VOICE_LUFS
from narrator.speech.fake import FakeEngine
from narrator.speech.narration import Narration, narrate
from narrator.speech.registry import default_spec
from narrator.speech.synthesize import ensure_cached
from narrator.text.script import Chapter, Passage, Script, parse_story

RATE = 44_100
PACE_WPM = 130.0
LEAD_IN_S = 1.5

# Four paragraphs in two chapters; the second paragraph is cut into two passages.
PARAGRAPHS: list[tuple[int, list[list[str]]]] = [
    (0, [[
        "The evening settles over the little harbor like a soft gray blanket.",
        "Boats rock gently at their moorings, and the water whispers against the stones.",
        "Somewhere a bell rings once, then falls quiet.",
        "Gulls settle on the roofs.",
    ]]),
    (0, [
        ["You walk along the path above the shore.",
         "The grass is cool and damp beneath your feet."],
        ["Each step is slower than the last, and your shoulders begin to loosen.",
         "A lantern glows in a window far away."],
    ]),
    (1, [[
        "Now the tide is turning.",
        "It draws the sand back into the sea with a long, patient sigh.",
        "You breathe in with it, and you breathe out with it.",
        "There is nowhere else you need to be tonight.",
    ]]),
    (1, [[
        "The stars come out one by one, small and steady.",
        "The wind has dropped to almost nothing.",
        "Your eyes grow heavy, and the sound of the water carries you gently toward sleep.",
        "Sleep comes softly, like the tide.",
    ]]),
]  # fmt: skip


def make_script(paragraphs=PARAGRAPHS) -> Script:
    passages = []
    for chapter, pieces in paragraphs:
        for i, sentences in enumerate(pieces):
            passages.append(
                Passage(
                    index=len(passages),
                    chapter=chapter,
                    sentences=tuple(sentences),
                    ends_paragraph=i == len(pieces) - 1,
                )
            )
    return Script(
        title="Harbor",
        chapters=(Chapter(index=0, title="Dusk"), Chapter(index=1, title="Tide")),
        passages=tuple(passages),
    )


def render_all(narration: Narration, tail_s: float = 1.0) -> np.ndarray:
    return narration.source().render(round((narration.end_s + tail_s) * RATE))


def stereo_lufs(stem: np.ndarray) -> float:
    state = pyebur128.R128State(2, RATE, pyebur128.MeasurementMode.MODE_I)
    interleaved = np.ascontiguousarray(stem.T.astype(np.float64)).reshape(-1)
    state.add_frames(interleaved, stem.shape[1])
    return pyebur128.get_loudness_global(state)


@pytest.fixture(scope="module", params=[22_050, 16_000], ids=["22k", "16k"])
def narrated(request, tmp_path_factory) -> tuple[Narration, np.ndarray, Path]:
    folder = tmp_path_factory.mktemp("cache")
    spec = default_spec("fake", sample_rate_hz=request.param)
    narration = narrate(
        make_script(), spec=spec, cache=SpeechCache(folder), pace_wpm=PACE_WPM, lead_in_s=LEAD_IN_S
    )
    return narration, render_all(narration), folder


def test_stem_is_float32_stereo_with_identical_channels(narrated):
    narration, stem, _ = narrated
    assert stem.dtype == np.float32 and stem.shape[0] == 2
    assert np.array_equal(stem[0], stem[1])
    assert narration.sample_rate_hz == RATE
    assert narration.source().render(0).shape == (2, 0)


def test_voice_is_inside_every_sentence_span_and_silence_outside(narrated):
    narration, stem, _ = narrated
    mono = stem[0]
    inside = np.zeros(mono.size, dtype=bool)
    for start_s, end_s in narration.speech_spans_s():
        a, b = round(start_s * RATE), round(end_s * RATE)
        inside[a:b] = True
        span = mono[a:b]
        loud = np.flatnonzero(np.abs(span) > 1e-3)
        # The voice starts and ends within the trim margin (45 ms) of the span's edges ...
        assert loud[0] / RATE < 0.06 and (span.size - loud[-1]) / RATE < 0.06
        # ... and is there all the way through: every 50 ms window in between has energy.
        core = span[round(0.06 * RATE) : span.size - round(0.06 * RATE)]
        windows = core[: core.size // 2205 * 2205].reshape(-1, 2205)
        assert np.all(np.sqrt(np.mean(windows**2, axis=1)) > 0.005)
    assert np.all(mono[~inside] == 0.0)
    assert not np.any(mono[: round(LEAD_IN_S * RATE)])
    assert narration.passages[0].start_s == pytest.approx(LEAD_IN_S)


def test_timings_are_ordered_and_consistent(narrated):
    narration, _, _ = narrated
    spans = narration.speech_spans_s()
    assert len(spans) == sum(len(p.sentences) for p in make_script().passages)
    assert all(a < b for a, b in spans)
    assert all(b1 < a2 for (_, b1), (a2, _) in itertools.pairwise(spans))
    assert narration.end_s == spans[-1][1]
    assert narration.speech_s == pytest.approx(sum(b - a for a, b in spans), abs=1e-6)
    for timing, passage in zip(narration.passages, make_script().passages, strict=True):
        assert (timing.index, timing.chapter) == (passage.index, passage.chapter)
        assert timing.start_s == timing.sentences[0].start_s
        assert timing.end_s == timing.sentences[-1].end_s


def test_measured_pace_is_within_ten_percent_of_the_request(narrated):
    narration, stem, _ = narrated
    words = make_script().word_count
    assert narration.words == words
    assert narration.pace_wpm == pytest.approx(PACE_WPM, rel=0.10)
    # Measured on the audio itself: first to last audible sample.
    audible = np.flatnonzero(np.abs(stem[0]) > 1e-4)
    spoken_s = (audible[-1] - audible[0]) / RATE
    assert words / spoken_s * 60 == pytest.approx(PACE_WPM, rel=0.10)


def test_pauses_grow_from_sentence_to_paragraph_to_chapter(narrated):
    narration, _, _ = narrated
    p = narration.passages
    within = p[0].sentences[1].start_s - p[0].sentences[0].end_s
    split_paragraph = p[2].start_s - p[1].end_s  # passage 1 does not end its paragraph
    paragraph = p[1].start_s - p[0].end_s
    chapter = p[3].start_s - p[2].end_s
    assert within == pytest.approx(narration.pauses.sentence_s, abs=1 / RATE)
    assert split_paragraph == pytest.approx(narration.pauses.sentence_s, abs=1 / RATE)
    assert paragraph == pytest.approx(narration.pauses.paragraph_s, abs=1 / RATE)
    assert chapter == pytest.approx(narration.pauses.chapter_s, abs=1 / RATE)
    assert 0.35 <= within < paragraph < chapter


def test_passages_are_level_matched(narrated):
    narration, stem, _ = narrated
    levels = [
        stereo_lufs(stem[:, round(p.start_s * RATE) : round(p.end_s * RATE)])
        for p in narration.passages
    ]
    assert max(levels) - min(levels) < 1.0
    assert all(abs(level - VOICE_LUFS) < 1.0 for level in levels)


def test_fake_engine_levels_differ_before_cleaning(narrated):
    """Guard for the test above: the raw passages really are at different levels."""
    _, _, folder = narrated
    cache = SpeechCache(folder)
    peaks = []
    for path in sorted(folder.glob("*/*.npz")):
        entry = cache.get(path.stem)
        peaks.append(max(float(np.max(np.abs(c))) for c in entry.clips))
    assert 20 * np.log10(max(peaks) / min(peaks)) > 2.0


def test_rendering_in_any_blocks_gives_the_same_samples(narrated):
    narration, stem, _ = narrated
    rng = np.random.default_rng(11)
    source = narration.source()
    parts, total = [], 0
    while total < stem.shape[1]:
        n = int(min(rng.choice([1, 7, 512, 4096, 30_000, 200_000]), stem.shape[1] - total))
        parts.append(source.render(n))
        total += n
    assert np.array_equal(np.concatenate(parts, axis=1), stem)
    # Silence after the end, forever.
    assert not np.any(source.render(5 * RATE))


def test_the_source_holds_at_most_two_passages(narrated):
    narration, _, _ = narrated
    source = narration.source()
    most = 0
    for _ in range(round((narration.end_s + 1) * RATE) // 8192 + 1):
        source.render(8192)
        most = max(most, len(source._loaded))
    assert most <= 2
    whole = narration.source()
    whole.render(round((narration.end_s + 1) * RATE))
    assert whole._loaded == {}


def test_second_narrate_is_all_hits_and_synthesizes_nothing(narrated, monkeypatch):
    narration, stem, folder = narrated
    assert (narration.cache_hits, narration.cache_misses) == (0, len(make_script().passages))

    def no_engine(spec):
        raise AssertionError("an engine was created although everything is cached")

    monkeypatch.setattr(synthesize_module, "create_engine", no_engine)
    spec = default_spec("fake", sample_rate_hz=narration_rate(folder))
    again = narrate(make_script(), spec=spec, cache=SpeechCache(folder), lead_in_s=LEAD_IN_S)
    assert (again.cache_hits, again.cache_misses) == (len(make_script().passages), 0)
    assert again.speech_spans_s() == narration.speech_spans_s()
    assert np.array_equal(render_all(again), stem)


def narration_rate(folder: Path) -> int:
    cache = SpeechCache(folder)
    return next(cache.get(p.stem).sample_rate_hz for p in folder.glob("*/*.npz"))


def test_two_jobs_give_the_same_audio_as_one(tmp_path: Path):
    spec = default_spec("fake")
    one = narrate(make_script(), spec=spec, cache=SpeechCache(tmp_path / "a"), jobs=1)
    two = narrate(make_script(), spec=spec, cache=SpeechCache(tmp_path / "b"), jobs=2)
    assert two.cache_misses == len(make_script().passages)
    assert two.speech_spans_s() == one.speech_spans_s()
    assert np.array_equal(render_all(two), render_all(one))


def test_long_passages_are_shared_between_workers_and_joined_in_order(tmp_path: Path):
    """Workers take chunks of sentences; the passages come back whole, in sentence order."""
    long = tuple(f"Wave number {n} rolls in slowly and rests upon the sand." for n in range(40))
    passages = [
        Passage(index=0, chapter=0, sentences=long),
        Passage(index=1, chapter=0, sentences=("The sea is calm.",)),
    ]
    chunks = synthesize_module._chunks(synthesize_module._Job(0, "k", long))
    assert len(chunks) > 4 and all(sum(map(len, c.sentences)) <= 400 for c in chunks)
    assert [s for c in chunks for s in c.sentences] == list(long)
    spec = default_spec("fake")
    one, two = SpeechCache(tmp_path / "one"), SpeechCache(tmp_path / "two")
    assert ensure_cached(passages, spec, one, jobs=1) == (0, 2)
    seen: list[int] = []
    assert ensure_cached(passages, spec, two, jobs=2, progress=lambda d, t: seen.append(d)) == (
        0,
        2,
    )
    assert seen == [0, 1, 2]
    for key in synthesize_module.passage_keys(passages, spec):
        a, b = one.get(key), two.get(key)
        assert a.sample_rate_hz == b.sample_rate_hz and len(a.clips) == len(b.clips)
        assert all(np.array_equal(x, y) for x, y in zip(a.clips, b.clips, strict=True))


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_synthesized_passage_is_handed_over_as_cached(tmp_path: Path, jobs: int):
    """``stored`` sees each passage synthesized, once, with the clips the cache holds for it
    (narrate measures them there rather than reading them back); cached ones it never sees."""
    passages = list(make_script().passages)
    spec, cache = default_spec("fake"), SpeechCache(tmp_path)
    ensure_cached(passages[:1], spec, cache)
    seen: dict[str, tuple[list[np.ndarray], int]] = {}

    def stored(key: str, clips: list[np.ndarray], rate: int) -> None:
        assert key not in seen and cache.get(key) is not None  # in the cache by then
        seen[key] = (clips, rate)

    assert ensure_cached(passages, spec, cache, jobs=jobs, stored=stored)[1] == len(passages) - 1
    keys = synthesize_module.passage_keys(passages, spec)
    assert set(seen) == set(keys[1:])
    for key, (clips, rate) in seen.items():
        entry = cache.get(key)
        assert rate == entry.sample_rate_hz and len(clips) == len(entry.clips)
        assert all(np.array_equal(a, b) for a, b in zip(clips, entry.clips, strict=True))


@pytest.mark.parametrize("jobs", [1, 2])
def test_speech_the_cache_would_refuse_fails_the_stage_naming_the_passage(
    tmp_path: Path, jobs: int
):
    """An engine's clip the cache would not give back (here a sentence of 650 s) stops the
    stage at once, naming the passage and what is wrong, not later in the render with a
    message about a cache that lost it."""
    long = " ".join(["softly"] * 130) + "."
    script = make_script([(0, [["The sea is calm."], [long]])])
    spec = default_spec("fake", sample_rate_hz=8000, seconds_per_word=5.0)
    with pytest.raises(SpeechError, match=r"passage 1\b.*650 s long"):
        narrate(script, spec=spec, cache=SpeechCache(tmp_path), jobs=jobs)
    keys = synthesize_module.passage_keys(script.passages, spec)
    assert SpeechCache(tmp_path).get(keys[1]) is None


def _demo_script() -> Script:
    return parse_story(Path(__file__).parents[2] / "seeds" / "dream.txt")


def _demo_todo(script: Script) -> list:
    """The demo story's passages as the stage orders them (no two alike: none merged)."""
    jobs = [synthesize_module._Job(p.index, str(p.index), tuple(p.say)) for p in script.passages]
    return synthesize_module._longest_first(jobs)


def test_the_stage_hands_out_the_scheduled_chunks(tmp_path: Path, monkeypatch):
    """The workers are sent :func:`_schedule`'s chunks, in its order."""
    sent: list[tuple[str, ...]] = []
    real = synthesize_module.SpeechWorkers.submit

    def recording(self, sentences):
        sent.append(sentences)
        return real(self, sentences)

    monkeypatch.setattr(synthesize_module.SpeechWorkers, "submit", recording)
    script = _demo_script()
    ensure_cached(script.passages, default_spec("fake"), SpeechCache(tmp_path), jobs=2)
    assert sent == [c.sentences for c in synthesize_module._schedule(_demo_todo(script), 2)]


def _simulated_finish(chunks: list, workers: int) -> list[int]:
    """When each worker finishes, taking chunks in order whenever it is free and spending one
    unit of time per character (piper's time is about proportional to the text)."""
    free = [(0, worker) for worker in range(workers)]
    finish = [0] * workers
    for chunk in chunks:
        start, worker = heapq.heappop(free)
        finish[worker] = start + sum(map(len, chunk.sentences))
        heapq.heappush(free, (finish[worker], worker))
    return finish


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_the_workers_finish_the_demo_story_together(workers: int):
    """The chunks are scheduled so that no worker idles long at the end while another
    finishes: the stage lasts within 2 % of the work shared out evenly (taking the chunks
    passage by passage to the end, 2.7-8.6 % over)."""
    todo = _demo_todo(_demo_script())
    chunks = synthesize_module._schedule(todo, workers)
    total = sum(len(s) for job in todo for s in job.sentences)
    assert max(_simulated_finish(chunks, workers)) <= 1.02 * total / workers
    # Every sentence once, each where its passage has it; passage by passage up to the tail
    # of one-sentence pieces, longest first, at least a chunk's worth per worker.
    placed = {(c.job.key, c.first + i): s for c in chunks for i, s in enumerate(c.sentences)}
    assert len(placed) == sum(len(c.sentences) for c in chunks)
    assert placed == {(j.key, i): s for j in todo for i, s in enumerate(j.sentences)}
    grouped = [c.job for c in chunks if len(c.sentences) > 1]
    assert grouped == sorted(grouped, key=todo.index)
    tail: list[int] = []
    while sum(tail) < workers * synthesize_module.CHUNK_CHARS:
        piece = chunks[-1 - len(tail)].sentences
        assert len(piece) == 1
        tail.insert(0, len(piece[0]))
    assert tail == sorted(tail, reverse=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_engine_failure_names_the_passage(tmp_path: Path, jobs: int):
    spec = default_spec("fake", fail_on="lantern")  # in passage 2
    with pytest.raises(SpeechError, match=r"passage 2\b.*lantern"):
        narrate(make_script(), spec=spec, cache=SpeechCache(tmp_path), jobs=jobs)


def test_progress_counts_passages_and_repeated_text_is_synthesized_once(
    tmp_path: Path, monkeypatch
):
    calls: list[tuple[str, ...]] = []
    real = FakeEngine.synthesize

    def counting(self, sentences):
        calls.append(tuple(sentences))
        return real(self, sentences)

    monkeypatch.setattr(FakeEngine, "synthesize", counting)
    refrain = ("Breathe in, and breathe out.",)
    passages = [
        Passage(index=0, chapter=0, sentences=refrain),
        Passage(index=1, chapter=0, sentences=("The sea is calm.",)),
        Passage(index=2, chapter=0, sentences=refrain),
    ]
    cache = SpeechCache(tmp_path)
    spec = default_spec("fake")
    seen: list[tuple[int, int]] = []
    assert ensure_cached(passages[:1], spec, cache) == (0, 1)
    assert ensure_cached(passages, spec, cache, progress=lambda d, t: seen.append((d, t))) == (2, 1)
    assert calls == [refrain, ("The sea is calm.",)]
    assert seen == [(2, 3), (3, 3)]


def test_words_count_is_the_scripts(narrated):
    narration, _, _ = narrated
    # Counted here by spaces (the story has no dashes or stray marks), not by words_of, the
    # counter the narration itself uses.
    by_spaces = sum(len(s.split()) for p in make_script().passages for s in p.sentences)
    assert narration.words == by_spaces == 152


@pytest.mark.parametrize("pace", [5.0, 1000.0])
def test_an_unusable_pace_is_refused_before_any_synthesis(tmp_path: Path, pace: float):
    with pytest.raises(SpeechError, match="wpm"):
        narrate(
            make_script(), spec=default_spec("fake"), cache=SpeechCache(tmp_path), pace_wpm=pace
        )
    assert not any(tmp_path.iterdir())


def _peak_bytes(passages: int, folder: Path) -> tuple[int, int, float]:
    """Traced peak memory of narrate() and of playing the stem, for a story of ``passages``."""
    import tracemalloc

    sentences = [
        "The tide draws in across the sand, slow and patient, and draws away again.",
        "A gull calls once, far out over the water.",
    ]
    script = make_script([(0, [sentences])] * passages)
    spec = default_spec("fake")
    cache = SpeechCache(folder)
    ensure_cached(script.passages[:1], spec, cache)  # all share one text: cheap to make
    tracemalloc.start()
    try:
        narration = narrate(script, spec=spec, cache=cache)
        narrate_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        source = narration.source()
        for _ in range(round(narration.end_s) + 1):
            source.render(RATE)  # one-second blocks
        play_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return narrate_peak, play_peak, narration.end_s


def test_memory_does_not_grow_with_the_story(tmp_path: Path):
    """Six times the story, the same peak: nothing holds the whole story's audio."""
    short_narrate, short_play, short_s = _peak_bytes(6, tmp_path)
    long_narrate, long_play, long_s = _peak_bytes(36, tmp_path)
    assert long_s > 5.5 * short_s
    assert long_narrate < 1.3 * short_narrate + 1e6
    assert long_play < 1.3 * short_play + 1e6
    whole_story_bytes = round(long_s * RATE) * 2 * 4  # the long stem as one float32 array
    assert long_play < whole_story_bytes / 2


def test_workers_started_ahead_are_the_ones_that_speak(tmp_path: Path, monkeypatch):
    """The render starts the workers before its text work is done: they are already running,
    the speech stage uses them instead of starting others, and stops them when it is done."""
    spec = default_spec("fake")
    script, cache = make_script(), SpeechCache(tmp_path / "ahead")
    workers = synthesize_module.start_workers(script.passages, spec, cache, jobs=2)
    assert workers is not None and workers.count == 2
    assert len(workers._pool._processes) == 2  # started now, not when the chunks come
    started = []
    monkeypatch.setattr(synthesize_module.SpeechWorkers, "__init__", lambda *a: started.append(a))
    narration = narrate(script, spec=spec, cache=cache, jobs=2, workers=workers)
    assert started == [] and narration.cache_misses == len(script.passages)
    assert workers._pool._shutdown_thread  # stopped by the stage
    alone = narrate(script, spec=spec, cache=SpeechCache(tmp_path / "alone"), jobs=1)
    assert np.array_equal(render_all(narration), render_all(alone))
    # None when there is nothing for a pool to do: all cached, one job, one chunk of text.
    assert synthesize_module.start_workers(script.passages, spec, cache, jobs=2) is None
    fresh = SpeechCache(tmp_path / "fresh")
    assert synthesize_module.start_workers(script.passages, spec, fresh, jobs=1) is None
    one = script.passages[:1]
    assert synthesize_module.start_workers(one, spec, fresh, jobs=2) is None


def test_workers_of_another_voice_are_stopped_not_used(tmp_path: Path):
    script, cache = make_script(), SpeechCache(tmp_path)
    other = synthesize_module.start_workers(
        script.passages, default_spec("fake", fail_on="lantern"), cache, jobs=2
    )
    assert other is not None
    narration = narrate(script, spec=default_spec("fake"), cache=cache, jobs=2, workers=other)
    assert narration.cache_misses == len(script.passages)  # no passage failed on "lantern"
    assert other._pool._shutdown_thread


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_core_is_said_free_once_when_the_speech_leaves_one(tmp_path: Path, jobs: int):
    """With one job the second core is free from the start; with a pool, once fewer chunks
    are left than workers: before the last passage is done, after some are."""
    script = make_script()
    done: list[int] = []
    said_at: list[int] = []

    def speak() -> None:
        narrate(script, spec=default_spec("fake"), cache=SpeechCache(tmp_path), jobs=jobs,
                progress=lambda d, t: done.append(d),
                core_free=lambda: said_at.append(done[-1]))  # fmt: skip

    speak()
    total = len(script.passages)
    assert len(said_at) == 1
    if jobs == 1:
        assert said_at == [0]
    else:
        assert 0 < said_at[0] < total
    # Everything cached: free at once.
    said_at.clear()
    speak()
    assert said_at == [total]


def test_workers_are_forked_from_the_server_that_imported_the_engines(tmp_path: Path):
    """A worker starts as a fork of the fork server, which imported onnxruntime and piper
    once for all of them: not as a fresh interpreter that imports them again."""
    import os

    from narrator.speech import WORKER_MODULES
    from soundscapes import background

    assert set(WORKER_MODULES) <= set(background._PRELOAD)
    with synthesize_module.SpeechWorkers(default_spec("fake"), 1) as workers:
        parent = workers._pool.submit(os.getppid).result()
        imported = workers._pool.submit(_imported, "onnxruntime").result()
    assert parent != os.getpid()  # the fork server's child, not this process's
    assert imported  # before the worker ever needed it (the fake engine never does)


def _imported(module: str) -> bool:
    import sys

    return module in sys.modules


def _server_child_has(setup: str, tmp_path: Path) -> dict[str, bool]:
    """In a fresh process (no fork server yet): run ``setup``, then ask a child of the fork
    server which of the ambience's and the engines' modules it started with."""
    import json
    import subprocess
    import sys

    code = f"""
import json, sys
from concurrent.futures import ProcessPoolExecutor
from soundscapes.background import child_context
if __name__ == "__main__":
{setup}
    with ProcessPoolExecutor(1, mp_context=child_context()) as pool:
        ask = "{{m: m in __import__('sys').modules for m in ('scipy.signal', 'onnxruntime')}}"
        print(json.dumps(pool.submit(eval, ask).result()))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_speech_workers_alone_do_not_wait_for_the_ambiences_imports(tmp_path: Path):
    """Started by speech workers, the fork server imports the engines only (scipy.signal, the
    ambience's, took 0.6-1.4 s of the speech stage called alone); started by a render, it
    imports both, ahead of the ambience's processes."""
    alone = """
    from narrator.speech import default_spec
    from narrator.speech.synthesize import SpeechWorkers
    with SpeechWorkers(default_spec("fake"), 1):
        pass
"""
    assert _server_child_has(alone, tmp_path) == {"scipy.signal": False, "onnxruntime": True}
    passage = "This passage is calm and slow, and long enough to share. " * 12
    (tmp_path / "story.txt").write_text("# Night\n\n" + "\n\n".join([passage] * 4) + "\n")
    render = """
    from narrator.render.pipeline import render_story
    from narrator.speech import synthesize
    started = []
    real = synthesize.SpeechWorkers.__init__
    synthesize.SpeechWorkers.__init__ = lambda *a: started.append(1) or real(*a)
    options = {"engine": "fake", "jobs": 2, "output": "o.flac", "cache_dir": "cache"}
    render_story("story.txt", options)
    assert started, "the render started no speech workers"
"""
    assert _server_child_has(render, tmp_path) == {"scipy.signal": True, "onnxruntime": True}
