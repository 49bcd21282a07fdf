"""Render every episode of a manifest, in parallel, skipping the ones that are up to date.

An episode is up to date when its output and sidecars exist and its *fingerprint* — a hash of
the story's bytes, the bytes of every file its options name (lexicon, plan, scenes, voice), of
its cover and of the show's artwork, the episode's render options, title, number and
publication date, the show's title and author, the narrator version, and the version of the
engine and voice that speak it (as the speech cache keys them) — equals the one stored
beside the output (``OUT.fingerprint.json``) by its last successful render. A failed render
leaves the previous output and fingerprint as they were (every write is atomic), so the next run
tries it again.

Episodes render in a process pool (``jobs`` workers, spawn context: a render runs onnxruntime,
and a fork of a process that has is not safe; each episode's render has its own fork server for
its speech workers and ambience). One failing episode does not stop the others; the result says
which failed and why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import narrator
from narrator.errors import NarratorError
from narrator.publish import PublishError
from narrator.publish.artwork import check_embedded_covers, embedded_cover
from narrator.publish.manifest import (
    Episode,
    Manifest,
    manifest_inputs,
    story_cover,
    story_front_matter,
)
from narrator.publish.renamed import earlier_name, remove_render
from narrator.publish.workers import become_batch_worker, episode_render, stop_workers
from narrator.render.sidecars import sidecar_path
from soundscapes.children import hangups_ignored, usable_cpus
from soundscapes.errors import SoundscapeError
from soundscapes.files import check_outputs, sweep_scratch
from soundscapes.output.export import write_text_atomic

if TYPE_CHECKING:
    from narrator.publish.cluster import ClusterProgress
    from narrator.render.pipeline import EpisodeMeta
    from narrator.text.frontmatter import StoryMeta

Status = Literal["rendered", "skipped", "failed"]


@dataclass(frozen=True, kw_only=True)
class EpisodeResult:
    """What happened to one episode."""

    episode: Episode
    status: Status
    #: The episode's title: the manifest's, else the story's (from its report, when it exists).
    title: str = ""
    #: Length of the episode's file (from its report), when it exists.
    duration_s: float | None = None
    #: Wall time of this episode's render (0 when skipped).
    elapsed_s: float = 0.0
    #: One line saying what went wrong (``failed`` only).
    error: str | None = None
    #: The episode's file under its earlier name, removed now that it is written under this
    #: one (another format or output name).
    replaced: Path | None = None
    #: What the render warned of (a bracket read as text, a symbol dropped, ...).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """Every episode's result, in manifest order."""

    results: tuple[EpisodeResult, ...]
    elapsed_s: float
    jobs: int

    def with_status(self, status: Status) -> list[EpisodeResult]:
        return [r for r in self.results if r.status == status]

    @property
    def rendered(self) -> list[EpisodeResult]:
        return self.with_status("rendered")

    @property
    def skipped(self) -> list[EpisodeResult]:
        return self.with_status("skipped")

    @property
    def failed(self) -> list[EpisodeResult]:
        return self.with_status("failed")

    @property
    def ok(self) -> bool:
        return not self.failed


#: Called after each episode is settled: ``(result, done, total)``.
BatchProgress = Callable[[EpisodeResult, int, int], None]


def fingerprint_path(output: Path) -> Path:
    """``public/ep1.mp3`` → ``public/ep1.mp3.fingerprint.json``."""
    return sidecar_path(output, ".fingerprint.json")


def report_path(output: Path) -> Path:
    return sidecar_path(output, ".report.json")


def episode_outputs(episode: Episode) -> list[tuple[str, Path]]:
    """Every file a batch writes for ``episode``: the audio, its sidecars and fingerprint."""
    out = episode.output
    return [
        (f"audio of {episode.name}", out),
        (f"report of {episode.name}", report_path(out)),
        (f"transcript of {episode.name}", sidecar_path(out, ".vtt")),
        (f"chapters of {episode.name}", sidecar_path(out, ".chapters.json")),
        (f"fingerprint of {episode.name}", fingerprint_path(out)),
        *([(f"listening page of {episode.name}", sidecar_path(out, ".html"))]
          if episode.options.get("page") else []),
    ]  # fmt: skip


def published_files(manifest: Manifest) -> list[tuple[str, Path]]:
    """What the batch made for every episode: the files a feed or playlist reads and points
    at (never to be overwritten by them)."""
    return [pair for ep in manifest.episodes for pair in episode_outputs(ep)]


def episode_inputs(manifest: Manifest, episode: Episode) -> dict[str, Any]:
    """Everything an episode's output depends on, as JSON-able values (hashes for files)."""
    options: dict[str, Any] = {}
    files: dict[str, str | None] = {}
    for key, value in sorted(episode.options.items()):
        if key == "cache_dir":  # where speech is kept changes nothing in the episode
            continue
        if isinstance(value, Path):
            # A file by its place in the show's folder (or its name) and its content: the
            # record is uploaded with the episode and must not carry this machine's folders,
            # and an edited lexicon or plan renders again.
            inside = value.resolve().is_relative_to(manifest.folder.resolve())
            options[key] = os.path.relpath(value, manifest.folder) if inside else value.name
            files[key] = _sha256_of(value)
        elif key == "setting":
            options[key] = [list(pair) for pair in value]
        else:
            options[key] = value
    voice = episode.options.get("voice")
    if voice and voice.endswith(".onnx"):  # a piper voice file (gmw/en-us is a name)
        # By its name: the record must not carry this machine's folders. Its content is in
        # "speech" (the model's and config's hashes, computed once per process).
        options["voice"] = Path(voice).name
    meta = story_front_matter(episode.story)  # read once: the voice and the cover
    return {
        "narrator": narrator.__version__,
        "speech": _speech_identity(episode, meta),
        "story_sha256": _sha256_of(episode.story),
        "files_sha256": files,
        "cover_sha256": _sha256_of(story_cover(episode.story, meta)),
        "options": options,
        "title": episode.title,
        "artist": manifest.podcast.author,
        # The episode's tags: album, track, date and (when the story has none) cover.
        "album": manifest.podcast.title,
        "number": episode.number,
        "published": episode.published.isoformat() if episode.published else None,
        "show_cover_sha256": _sha256_of(embedded_cover(manifest, episode)),
        # The comment tag; only when the manifest gives one (records made before it stand).
        **({"description": episode.description} if episode.description else {}),
    }


def _speech_identity(episode: Episode, meta: StoryMeta | None) -> str | None:
    """The engine and voice that would speak the episode, as the speech cache keys them (a
    new piper or a re-trained voice renders it again); ``None`` when they cannot be resolved."""
    from narrator.options import FRONT, MANIFEST
    from narrator.render.pipeline import speech_identity

    if meta is None:  # the story cannot be read: the render says why
        return None
    try:
        return speech_identity([(MANIFEST, episode.options), (FRONT, meta.options)])
    except (NarratorError, SoundscapeError, OSError, ImportError):
        return None  # a voice file unreadable, an engine's package broken: the render says


def fingerprint(inputs: dict[str, Any]) -> str:
    text = json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_fingerprint(output: Path) -> dict[str, Any] | None:
    """The stored fingerprint record of ``output``, or ``None`` if absent or unreadable."""
    try:
        record = json.loads(fingerprint_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def written_whole(output: Path, record: dict[str, Any]) -> bool:
    """Whether ``output`` is the size its fingerprint ``record`` says it was written at (a
    file damaged or replaced since is made again); a record from before sizes were kept
    vouches for the fingerprint alone."""
    return output.is_file() and record.get("size_bytes", output.stat().st_size) == (
        output.stat().st_size
    )


def is_up_to_date(manifest: Manifest, episode: Episode) -> bool:
    """True when the episode's output and sidecars exist and were made from today's inputs."""
    out = episode.output
    needed = [out, report_path(out), sidecar_path(out, ".vtt"), sidecar_path(out, ".chapters.json")]
    needed += [sidecar_path(out, ".html")] if episode.options.get("page") else []
    if not all(p.is_file() for p in needed):
        return False
    record = read_fingerprint(out)
    inputs = episode_inputs(manifest, episode)
    return (
        record is not None
        and inputs["story_sha256"] is not None
        and inputs["speech"] is not None
        and record.get("fingerprint") == fingerprint(inputs)
        and written_whole(out, record)
    )


def run_batch(
    manifest: Manifest,
    *,
    jobs: int = 1,
    force: bool = False,
    progress: BatchProgress | None = None,
    cache_dir: Path | None = None,
    speech_jobs: int | None = None,
    scheduler: str | None = None,
    shared_dir: Path | None = None,
    on_cluster: ClusterProgress | None = None,
) -> BatchResult:
    """Render the manifest's episodes that are not up to date (all of them with ``force``).

    ``jobs`` episodes render at once, each in its own worker process; with ``jobs=1`` they
    render one after another in this process. Each render synthesizes speech with
    ``speech_jobs`` processes (default: its share of the cores, ``cores // jobs``).
    ``cache_dir`` overrides the manifest's speech cache folder.
    With ``scheduler`` (``tcp://HOST:PORT`` or ``local:N``) each episode is one task on a Dask
    cluster (:mod:`narrator.publish.cluster`); ``shared_dir`` is a folder its workers share
    with this machine, and ``on_cluster`` hears which worker holds which episode.
    Failures are collected, never raised: see :attr:`BatchResult.failed`.
    """
    if jobs < 1:
        raise PublishError(f"--jobs {jobs} must be at least 1")
    if speech_jobs is not None and speech_jobs < 1:
        raise PublishError(f"speech_jobs {speech_jobs} must be at least 1")
    # No episode's files may land on a story, a lexicon or the manifest.
    check_outputs(published_files(manifest), manifest_inputs(manifest))
    check_embedded_covers(manifest)
    started = time.perf_counter()
    total = len(manifest.episodes)
    settled: dict[int, EpisodeResult] = {}

    def settle(result: EpisodeResult) -> None:
        settled[result.episode.number_in_manifest] = result
        if progress is not None:
            progress(result, len(settled), total)

    stale: list[Episode] = []
    for episode in manifest.episodes:
        if force or not is_up_to_date(manifest, episode):
            stale.append(episode)
            continue
        report = _read_report(episode)
        settle(
            EpisodeResult(
                episode=episode,
                status="skipped",
                title=episode.title or str(report.get("title") or ""),
                duration_s=report.get("duration_s"),
            )
        )
    at_once = max(1, min(jobs, len(stale)))
    # Episodes rendering side by side share the cores: each one's speech gets its share.
    per_render = speech_jobs or max(1, usable_cpus() // at_once)
    todo = [
        _task(manifest, episode, speech_jobs=per_render, cache_dir=cache_dir) for episode in stale
    ]
    if scheduler is not None and todo:
        _run_on_cluster(manifest, todo, scheduler, settle, shared_dir, cache_dir, on_cluster)
    elif at_once == 1:
        for task in todo:
            settle(_result(task, _render(task)))
    else:
        # Where a stopped render may leave scratch: its episode's folder and the system's.
        folders = {t.episode.output.parent for t in todo} | {Path(tempfile.gettempdir())}
        with _pool(at_once, sweep=sorted(folders)) as pool:
            futures: dict[Future[_Outcome], _Task] = {pool.submit(_render, t): t for t in todo}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome = _Outcome(
                        error="a render worker process died (out of memory, or a crash); "
                        "run the batch again with --jobs 1"
                    )
                settle(_result(task, outcome))
    results = tuple(settled[ep.number_in_manifest] for ep in manifest.episodes)
    return BatchResult(results=results, elapsed_s=time.perf_counter() - started, jobs=jobs)


def _run_on_cluster(
    manifest: Manifest,
    todo: list[_Task],
    scheduler: str,
    settle: Callable[[EpisodeResult], None],
    shared_dir: Path | None,
    cache_dir: Path | None,
    on_cluster: ClusterProgress | None,
) -> None:
    from narrator.publish.cluster import Job, connected, payload_for, run_jobs

    def done_with(task: _Task) -> Callable[[dict[str, Any]], None]:
        def done(answer: dict[str, Any]) -> None:
            replaced = None
            if "error" not in answer:
                replaced = _store_fingerprint(task.episode, task.inputs, task.kin, task.folder)
            outcome = _Outcome(
                replaced=replaced,
                title=task.episode.title or str(answer.get("title") or ""),
                duration_s=answer.get("duration_s"),
                elapsed_s=float(answer.get("elapsed_s") or 0.0),
                error=answer.get("error"),
                warnings=tuple(answer.get("warnings") or ()),
            )
            settle(_result(task, outcome))

        return done

    # Payloads first: a file outside the show's folder is an error before anything is sent.
    jobs = [
        Job(
            name=task.episode.name,
            payload=payload_for(manifest, task, shared_dir=shared_dir, cache_dir=cache_dir),
            folder=task.episode.output.parent,
            done=done_with(task),
        )
        for task in todo
    ]
    for job in jobs:
        job.folder.mkdir(parents=True, exist_ok=True)
    with connected(scheduler) as client:
        run_jobs(client, jobs, on_cluster=on_cluster)


@dataclass(frozen=True, kw_only=True)
class _Task:
    """What a worker needs to render one episode (picklable)."""

    episode: Episode
    manifest_path: Path
    artist: str
    #: The show's word on the episode, for its tags.
    meta: EpisodeMeta
    inputs: dict[str, Any]
    speech_jobs: int
    cache_dir: Path | None
    #: The other episodes' files (``None``: another tells the same story; see _store_fingerprint).
    kin: frozenset[Path] | None = None
    #: The show's output folder, where an earlier name of the file is looked for.
    folder: Path | None = None


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    title: str = ""
    duration_s: float | None = None
    elapsed_s: float = 0.0
    error: str | None = None
    replaced: Path | None = None
    warnings: tuple[str, ...] = ()


def _task(
    manifest: Manifest, episode: Episode, *, speech_jobs: int, cache_dir: Path | None
) -> _Task:
    from narrator.render.pipeline import EpisodeMeta

    return _Task(
        episode=episode,
        manifest_path=manifest.path,
        artist=manifest.podcast.author or "narrator",
        meta=EpisodeMeta(
            album=manifest.podcast.title,
            artist=manifest.podcast.author,
            track=episode.number,
            date=episode.published,
            cover=embedded_cover(manifest, episode),
            description=episode.description,
        ),
        inputs=episode_inputs(manifest, episode),
        speech_jobs=speech_jobs,
        cache_dir=cache_dir or manifest.cache_dir,
        kin=None
        if [e.story_ref for e in manifest.episodes].count(episode.story_ref) > 1
        else frozenset(e.output.resolve() for e in manifest.episodes if e is not episode),
        folder=manifest.output_dir,
    )


def _result(task: _Task, outcome: _Outcome) -> EpisodeResult:
    if outcome.error is not None:
        return EpisodeResult(
            episode=task.episode,
            status="failed",
            title=task.episode.title or "",
            elapsed_s=outcome.elapsed_s,
            error=f"{task.manifest_path}: {task.episode.name}: "
            + _without_story_path(outcome.error, task.episode.story),
        )
    return EpisodeResult(
        episode=task.episode,
        status="rendered",
        title=outcome.title,
        duration_s=outcome.duration_s,
        elapsed_s=outcome.elapsed_s,
        replaced=outcome.replaced,
        warnings=tuple(
            f"{task.episode.name}: {_without_story_path(w, task.episode.story)}"
            for w in outcome.warnings
        ),
    )


def _without_story_path(message: str, story: Path) -> str:
    """``/abs/stories/a.md:12: bad cue`` → ``line 12: bad cue``: the episode's name already
    says which story, so the message stays one readable line."""
    match = re.match(rf"{re.escape(str(story))}(?::(\d+))?: (.*)", message, flags=re.DOTALL)
    if match is None:
        return message
    line, rest = match.groups()
    return f"line {line}: {rest}" if line else rest


def _render(task: _Task) -> _Outcome:
    """Render one episode and store its fingerprint; runs in a worker process."""
    from narrator.options import CLI, MANIFEST
    from narrator.render.pipeline import render_story

    started = time.perf_counter()
    ep = task.episode
    # What the batch decides, as a command line would: where the file goes, and the machine's
    # share of cores and cache; then the manifest's options (the format among them, which the
    # output's name already says), over the story's front matter.
    machine = {"output": ep.output, "jobs": task.speech_jobs, "cache_dir": task.cache_dir}
    try:
        with episode_render():  # in a worker told to stop, ends the process once unwound
            result = render_story(
                ep.story,
                layers=[(CLI, {k: v for k, v in machine.items() if v is not None}),
                        (MANIFEST, ep.options)],
                title=ep.title,
                artist=task.artist,
                episode=task.meta,
            )  # fmt: skip
            replaced = _store_fingerprint(ep, task.inputs, task.kin, task.folder)
    except (NarratorError, SoundscapeError) as exc:
        return _Outcome(elapsed_s=time.perf_counter() - started, error=str(exc))
    except Exception as exc:  # a bug in one episode must not stop the batch: report it by name
        return _Outcome(
            elapsed_s=time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}"
        )
    return _Outcome(
        title=ep.title or str(result.report.get("title") or ""),
        duration_s=result.duration_s,
        elapsed_s=time.perf_counter() - started,
        replaced=replaced,
        warnings=tuple(result.warnings),
    )


def _store_fingerprint(
    episode: Episode,
    inputs: dict[str, Any],
    kin: frozenset[Path] | None = None,
    folder: Path | None = None,
) -> Path | None:
    """Record what ``episode``'s file was made from. With ``kin`` (the other episodes' files;
    ``None`` when another episode tells the same story): if it was written under another name
    before, that file and its sidecars go (a stale copy published with the folder), its first
    render's date stays (its feed pubDate), and its path is returned."""
    output = episode.output
    now = datetime.now(UTC).isoformat(timespec="seconds")
    earlier = None
    if kin is not None and not fingerprint_path(output).is_file():
        earlier = earlier_name(output, episode.story_ref, kin, folder=folder)
    previous = read_fingerprint(output) or (earlier[1] if earlier else {})
    record = {
        "fingerprint": fingerprint(inputs),
        "inputs": inputs,
        "episode": episode.story_ref,  # found again when its file is renamed
        # Kept across re-renders: the feed's pubDate when the manifest gives no date.
        "first_rendered": previous.get("first_rendered", now),
        "rendered": now,
        "size_bytes": output.stat().st_size,  # a file damaged since then is not up to date
    }
    write_text_atomic(fingerprint_path(output), json.dumps(record, indent=2, ensure_ascii=False))
    return remove_render(earlier[0]) if earlier else None


def _read_report(episode: Episode) -> dict[str, Any]:
    try:
        report = json.loads(report_path(episode.output).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def _sha256_of(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@contextlib.contextmanager
def _pool(workers: int, *, sweep: list[Path]) -> Iterator[ProcessPoolExecutor]:
    """The batch's render workers; if the batch stops (Ctrl-C), they stop too, and the
    scratch they leave in the ``sweep`` folders goes with them."""
    with hangups_ignored():  # the resource tracker its queues start
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=become_batch_worker,
            initargs=(os.getpid(),),
        )
    try:
        yield pool
    except BaseException:
        # Ctrl-C (or a failure here): stop the renders under way as well as those not
        # started; finished episodes are already on disk.
        stop_workers(pool)
        # A worker stopped between making a scratch file and guarding it left it: it goes.
        for folder in sweep:
            sweep_scratch(folder)
        raise
    else:
        pool.shutdown(wait=True)
