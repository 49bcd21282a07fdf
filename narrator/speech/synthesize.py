"""Make sure every passage is in the speech cache, synthesizing the missing ones in parallel.

With ``jobs > 1`` the misses go to a process pool forked from the fork server, a process that
has imported onnxruntime and piper but never run them (a forked onnxruntime session or espeak is
not safe to reuse; a fork of their imports is). Each worker loads the engine once, in its
initializer, with one inference thread (two one-thread processes beat one two-thread process on
piper, as measured in tests/benchmarks/BENCHMARKS.md), and synthesizes chunks of a few
sentences; this process joins them into passages and stores each in the cache as soon as it is
whole, so an interrupted render keeps every passage already finished. An engine that runs child
processes of its own (the system voice) is driven from threads instead.

A worker's start-up (a fork and the model: a fraction of a second for piper) need not wait for
the speech stage: :func:`start_workers` starts them while the caller still works on the text, and
the stage takes them over.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Self

import numpy as np

from narrator.errors import NarratorError, SpeechError, VoiceError
from narrator.speech import WORKER_MODULES, preload_workers
from narrator.speech.base import EngineSpec, SpeechEngine
from narrator.speech.cache import SpeechCache, passage_key
from narrator.speech.registry import check_spec, create_engine, engine, engine_version
from narrator.text.script import Passage
from soundscapes.background import child_context, warm_up
from soundscapes.children import become_child

Progress = Callable[[int, int], None]
#: ``stored(key, clips, sample_rate_hz)``: a passage just synthesized and put in the cache.
Stored = Callable[[str, list[np.ndarray], int], None]

preload_workers()  # before the fork server starts, wherever this module is used


@dataclass(frozen=True)
class _Job:
    index: int
    key: str
    sentences: tuple[str, ...]


def passage_keys(passages: Sequence[Passage], spec: EngineSpec) -> list[str]:
    """The cache key of every passage, in order."""
    version = engine_version(spec)
    return [passage_key(spec, version, p.say) for p in passages]


class SpeechWorkers:
    """``count`` processes that each load ``spec``'s engine once (one inference thread each),
    started now: their start-up runs while the caller does other work. The speech stage sends
    them chunks and shuts them down when it is done; use as a context manager, or call
    :meth:`close`, so they never outlive the caller.
    """

    def __init__(self, spec: EngineSpec, count: int) -> None:
        self.spec = spec
        self.count = count
        self._closed = False
        # The fork server, with SIGHUP ignored, if no command or render started it: then
        # with the workers' imports alone, not the ambience's too.
        warm_up(only=WORKER_MODULES)
        self._pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=child_context(),
            initializer=_worker_init,
            initargs=(spec, os.getpid()),
        )
        # The pool starts a process for each task no idle one can take: a no-op apiece starts
        # them all now, instead of when the first chunks arrive.
        for _ in range(count):
            self._pool.submit(_worker_ready)

    def submit(self, sentences: tuple[str, ...]) -> Future:
        """A chunk's ``(sample rate, clips)``, made by whichever worker is free first."""
        return self._pool.submit(_worker_run, sentences)

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers, waiting for the chunk each is on; only the first call counts.
        With ``wait=False`` (for idle workers, their work done) the caller goes on while they
        exit, joined by the pool's own thread: 0.03 s of the speech stage on piper (2-core
        Xeon, 2026-12-06)."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_workers(
    passages: Sequence[Passage], spec: EngineSpec, cache: SpeechCache, *, jobs: int
) -> SpeechWorkers | None:
    """The workers :func:`ensure_cached` will want for ``passages``, started now; ``None`` when
    it will want none: every passage is in ``cache`` (by its file: the stage reads and checks
    each entry later), one job, one chunk of text to speak, or an engine that runs processes
    of its own.

    Raises
    ------
    VoiceError, SpeechError
        The engine or its voice cannot be used (said now, before any other work).
    """
    keys = passage_keys(passages, spec)
    unique = {
        key: _Job(i, key, tuple(passages[i].say))
        for i, key in enumerate(keys)
        if not cache.path(key).exists()
    }
    size = _pool_size(spec, list(unique.values()), jobs)
    if not size:
        return None
    check_spec(spec)
    return SpeechWorkers(spec, size)


def _pool_size(spec: EngineSpec, todo: list[_Job], jobs: int) -> int:
    """Worker processes speaking ``todo`` wants, or 0 when it is spoken in this process
    instead: one job, one chunk of text, or an engine that runs processes of its own (driven
    from threads here). :func:`start_workers` and the speech stage both ask this."""
    if jobs < 2 or not engine(spec.engine).use_process_pool:
        return 0
    chunks = sum(len(_chunks(job)) for job in todo)
    return min(jobs, chunks) if chunks >= 2 else 0


def ensure_cached(
    passages: Sequence[Passage],
    spec: EngineSpec,
    cache: SpeechCache,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    workers: SpeechWorkers | None = None,
    core_free: Callable[[], None] | None = None,
    stored: Stored | None = None,
) -> tuple[int, int]:
    """Synthesize every passage not yet in ``cache``; returns ``(hits, misses)``.

    ``progress(done, total)`` is called with ``total = len(passages)``: once after the cache is
    checked (``done`` = hits) and after each synthesized passage. Passages with identical text
    are synthesized once. ``workers`` (of the same engine and voice), started earlier by
    :func:`start_workers`, are used where a pool is wanted instead of starting one; either
    way the pool is stopped before this returns (idle workers may still be exiting).

    ``core_free()`` is called once, as soon as a core is free of speech: at once, unless a pool
    of workers keeps them all busy; then when the first worker runs out of text. (The render
    starts the ambience's fork server there: started at once, its imports would take a core
    from the speech for about a second.)

    ``stored(key, clips, sample_rate_hz)`` is called in this process with each passage's clips
    as soon as they are in the cache: a caller can work on them while the rest synthesize,
    instead of reading them back afterwards. What it raises stops the stage.

    Raises
    ------
    SpeechError
        The engine failed; the message names the passage index (and the story line).
    """
    if jobs < 1:
        raise SpeechError(f"jobs must be 1 or more, got {jobs}")
    once = _Once(core_free)
    try:
        counts = _ensure_cached(passages, spec, cache, jobs, progress, workers, once, stored)
    finally:
        if workers is not None:
            workers.close()  # used, unused or failed: they end with the stage
    once()  # nothing was synthesized, or the last worker is done
    return counts


class _Once:
    """Calls ``action`` the first time it is called, and never again."""

    def __init__(self, action: Callable[[], None] | None) -> None:
        self._action = action

    def __call__(self) -> None:
        action, self._action = self._action, None
        if action is not None:
            action()


def _ensure_cached(
    passages: Sequence[Passage],
    spec: EngineSpec,
    cache: SpeechCache,
    jobs: int,
    progress: Progress | None,
    workers: SpeechWorkers | None,
    core_free: _Once,
    stored: Stored | None,
) -> tuple[int, int]:
    keys = passage_keys(passages, spec)
    missing = [
        i for i, key in enumerate(keys) if cache.get(key, clips=len(passages[i].say)) is None
    ]
    hits, misses = len(passages) - len(missing), len(missing)
    total = len(passages)
    unique: dict[str, _Job] = {}
    for i in missing:
        unique.setdefault(keys[i], _Job(i, keys[i], tuple(passages[i].say)))
    done = hits
    if progress is not None:
        progress(done, total)
    if workers is not None and workers.spec != spec:
        workers.close()  # another engine's: stopped now, not kept idle through the stage
        workers = None
    if not unique:
        return hits, misses

    check_spec(spec)  # a bad voice fails here with its own message, not in a worker
    cache.check_writable()  # and a cache that cannot take the clips, before any synthesis
    twins = Counter(keys[i] for i in missing)  # passages each synthesis stands for
    todo = _longest_first(unique.values())

    def finished(job: _Job, clips: list[np.ndarray], rate: int) -> None:
        nonlocal done
        try:
            cache.put(job.key, clips, rate)
        except SpeechError as exc:  # audio the cache would not give back
            raise SpeechError(f"{_where(job, passages)}: {exc}") from exc
        if stored is not None:
            stored(job.key, clips, rate)
        done += twins[job.key]
        if progress is not None:
            progress(done, total)

    size = _pool_size(spec, todo, jobs)
    if size:
        with workers or SpeechWorkers(spec, size) as pool:
            chunks = _schedule(todo, pool.count)
            _run_pool(chunks, todo, spec, cache, finished, pool, passages, core_free)
            pool.close(wait=False)  # every chunk is back: the workers are idle
    else:
        core_free()
        # An engine with processes of its own speaks several passages at once from threads.
        own_processes = not engine(spec.engine).use_process_pool
        threads = min(jobs, len(todo)) if own_processes else 1
        _run_here(todo, spec, cache, finished, passages, threads=threads)
    return hits, misses


def _where(job: _Job, passages: Sequence[Passage]) -> str:
    passage = passages[job.index]
    line = f" (line {passage.line})" if passage.line else ""
    return f"passage {passage.index}{line}"


def _run_here(
    todo: list[_Job],
    spec: EngineSpec,
    cache: SpeechCache,
    finished: Callable[[_Job, list[np.ndarray], int], None],
    passages: Sequence[Passage],
    *,
    threads: int = 1,
) -> None:
    """Synthesize in this process; with ``threads``, that many passages at once (for an
    engine that does its work in child processes of its own, so threads run in parallel)."""
    engine = create_engine(spec)

    def one(job: _Job) -> tuple[_Job, list[np.ndarray], int]:
        try:
            return job, _synthesize(engine, job.sentences), engine.sample_rate_hz
        except VoiceError:
            raise
        except NarratorError as exc:
            raise SpeechError(f"{_where(job, passages)}: {exc}") from exc

    try:
        if threads == 1:
            for job in todo:
                finished(*one(job))
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="narrator-speech") as pool:
            futures = [pool.submit(one, job) for job in todo]
            try:
                for future in as_completed(futures):
                    finished(*future.result())
            finally:
                for future in futures:
                    future.cancel()
    finally:
        engine.close()


def _run_pool(
    chunks: list[_Chunk],
    todo: list[_Job],
    spec: EngineSpec,
    cache: SpeechCache,
    finished: Callable[[_Job, list[np.ndarray], int], None],
    pool: SpeechWorkers,
    passages: Sequence[Passage],
    core_free: Callable[[], None],
) -> None:
    """Synthesize ``todo`` (as ``chunks``, in its order) in ``pool``'s processes; call
    ``core_free()`` once fewer chunks are left than workers (one of them is idle).

    Chunks, not whole passages, are what the workers take: a story of a few long paragraphs
    would otherwise leave one worker idle while another speaks the last long passage. The
    chunks are queued passage by passage, longest passage first, so passages complete one
    after another and reach the cache, where a killed render resumes from (but the last
    sentences, a chunk's worth per worker, shared out longest first: :func:`_schedule`); this
    process joins each passage's clips and stores it once its last chunk is back.
    """
    clips: dict[str, list[np.ndarray | None]] = {
        job.key: [None] * len(job.sentences) for job in todo
    }
    futures = {pool.submit(chunk.sentences): chunk for chunk in chunks}
    pending = set(futures)
    while pending:
        completed, pending = wait(pending, return_when=FIRST_COMPLETED)
        if len(pending) < pool.count:
            core_free()
        for future in completed:
            chunk = futures[future]
            job = chunk.job
            try:
                rate, audio = future.result()
            except VoiceError:
                raise  # the voice, not the passage: it fails whatever is said
            except NarratorError as exc:
                raise SpeechError(f"{_where(job, passages)}: {exc}") from exc
            except BrokenProcessPool:
                raise SpeechError(
                    f"{_where(job, passages)}: a speech worker process died (the "
                    f"{spec.engine} engine crashed, or memory ran out); "
                    "try again with --jobs 1"
                ) from None
            except Exception as exc:
                raise SpeechError(
                    f"{_where(job, passages)}: the {spec.engine} engine failed: {exc}"
                ) from exc
            slots = clips[job.key]
            slots[chunk.first : chunk.first + len(audio)] = audio
            if all(clip is not None for clip in slots):
                del clips[job.key]
                finished(job, [c for c in slots if c is not None], rate)


@dataclass(frozen=True)
class _Chunk:
    job: _Job
    first: int  # index of its first sentence in the passage
    sentences: tuple[str, ...]


#: Characters of text per chunk a worker takes at a time (about 25 s of speech, 2 s of work
#: for piper on one thread): small enough to balance the workers at the end, big enough that
#: sending the clips back costs nothing next to making them.
CHUNK_CHARS = 400


def _longest_first(jobs: Iterable[_Job]) -> list[_Job]:
    """``jobs``, the longest text first (ties in their order): the last passages to finish are
    short ones, so no worker idles long while another works through a long passage at the
    end (LPT scheduling)."""
    return sorted(jobs, key=lambda job: -sum(len(s) for s in job.sentences))


def _schedule(todo: list[_Job], workers: int) -> list[_Chunk]:
    """The chunks of ``todo`` in the order the workers take them: passage by passage, in
    ``todo``'s order, except the last whole chunks holding at least ``workers`` times
    :data:`CHUNK_CHARS` characters, which go a sentence at a time, longest first. A worker
    that runs out of work while the others are each on a chunk of up to :data:`CHUNK_CHARS`
    takes these small pieces meanwhile, and the last pieces to finish are short: the workers
    end within one short sentence of each other. On the demo story passage by passage to the
    end, they ended 0.4 s apart (a 209-character chunk against a 31-character one; the speech
    stage 3 % longer than its work shared evenly), now 0.02-0.06 s (2-core Xeon, 2026-12-06).
    The passages of that tail reach the cache together at the end: with many workers on a
    short story, that is much of it."""
    chunks = [chunk for job in todo for chunk in _chunks(job)]
    split, tail_chars = len(chunks), 0
    while split > 0 and tail_chars < workers * CHUNK_CHARS:
        split -= 1
        tail_chars += _chars(chunks[split])
    sentences = [
        _Chunk(chunk.job, chunk.first + i, (sentence,))
        for chunk in chunks[split:]
        for i, sentence in enumerate(chunk.sentences)
    ]
    # Stable: sentences of one length keep todo's order (longest passage first).
    return chunks[:split] + sorted(sentences, key=lambda piece: -_chars(piece))


def _chars(chunk: _Chunk) -> int:
    return sum(map(len, chunk.sentences))


def _chunks(job: _Job) -> list[_Chunk]:
    out: list[_Chunk] = []
    first, size = 0, 0
    for i, sentence in enumerate(job.sentences):
        if i > first and size + len(sentence) > CHUNK_CHARS:
            out.append(_Chunk(job, first, job.sentences[first:i]))
            first, size = i, 0
        size += len(sentence)
    out.append(_Chunk(job, first, job.sentences[first:]))
    return out


def _synthesize(engine: SpeechEngine, sentences: Sequence[str]) -> list[np.ndarray]:
    """The engine's clips for ``sentences``, checked: one finite mono float32 clip each."""
    try:
        clips = engine.synthesize(sentences)
    except SpeechError:
        raise
    except Exception as exc:  # an engine's own error: say which engine and keep the cause
        raise SpeechError(f"the {engine.spec.engine} engine failed: {exc}") from exc
    if len(clips) != len(sentences):
        raise SpeechError(
            f"the {engine.spec.engine} engine returned {len(clips)} clips "
            f"for {len(sentences)} sentences"
        )
    checked = []
    for clip in clips:
        audio = np.asarray(clip, dtype=np.float32)
        if audio.ndim != 1 or audio.size == 0 or not np.all(np.isfinite(audio)):
            raise SpeechError(f"the {engine.spec.engine} engine returned an empty or broken clip")
        checked.append(audio)
    return checked


# State of a pool worker process: its engine, loaded once by the initializer, or why the
# engine would not load.
_worker: SpeechEngine | None = None
_worker_error: NarratorError | None = None


def _worker_init(spec: EngineSpec, owner_pid: int) -> None:
    """Load the engine once per worker. A failure is kept and raised by the first job, so
    the user reads its cause as one line (an initializer that raises only breaks the pool,
    after printing a traceback). The worker dies with ``owner_pid`` and leaves Ctrl-C to it."""
    global _worker, _worker_error
    become_child(owner_pid)
    try:
        _worker = create_engine(spec)
    except NarratorError as exc:
        _worker_error = exc
    except Exception as exc:  # an engine's own error while loading
        _worker_error = SpeechError(f"the {spec.engine} engine failed to load: {exc}")


def _worker_ready() -> None:
    """Nothing: a task whose only work is the worker's start-up (:class:`SpeechWorkers`)."""


def _worker_run(sentences: tuple[str, ...]) -> tuple[int, list[np.ndarray]]:
    """One chunk: its sample rate and clips."""
    if _worker_error is not None:
        raise _worker_error
    if _worker is None:  # pragma: no cover - the initializer always runs first
        raise SpeechError("speech worker was not initialized")
    return _worker.sample_rate_hz, _synthesize(_worker, sentences)
