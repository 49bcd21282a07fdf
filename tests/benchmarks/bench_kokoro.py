"""Benchmark the kokoro engine against piper on the same text, in one run, and record it.

The text is the demo story's opening, about 200 words (tests/asr.py ``demo_opening``).

- Real-time factor: each engine, at its sleep-pace defaults, loaded in a fresh child process
  with one inference thread (as a ``--jobs`` worker runs it) speaks every sentence; wall and
  CPU time per second of speech, the model load apart, and the process's peak resident
  memory. Every round runs both engines, interleaved; each keeps its best round (noise on a
  shared host only ever adds time).
- narrator's speech stage at ``--jobs`` = cores, cold cache, per engine: the wall time a
  render spends on speech.
- Whisper tiny.en's word error on each engine's narration of the text (the voice stem).

Usage: .venv/bin/python tests/benchmarks/bench_kokoro.py [--rounds N] [--no-write]
Needs narrator[kokoro] and, for the word error, narrator[asr].
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.asr: the text and the ears

from bench_render import machine, publish  # noqa: E402

ENGINES = ("piper", "kokoro")


def child(engine: str) -> None:
    """One engine in this fresh process: load, speak every sentence, print the figures."""
    from narrator.speech.registry import create_engine, default_spec
    from tests.asr import demo_opening

    sentences = [s for p in demo_opening().passages for s in p.say]
    spec = default_spec(engine)
    rss_before_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    loaded = create_engine(spec)
    load_s = time.perf_counter() - started
    wall0, cpu0 = time.perf_counter(), time.process_time()
    audio_s = sum(clip.size for clip in loaded.synthesize(sentences)) / loaded.sample_rate_hz
    figures = {
        "load_s": load_s,
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "audio_s": audio_s,
        "rss_before_mib": rss_before_mib,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "settings": dict(spec.settings),
    }
    print(json.dumps(figures))


def run_child(engine: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def speech_stage(engine: str, jobs: int, reference: str) -> tuple[float, float, float | None]:
    """narrator's speech stage on a cold cache, and Whisper's word error on the narration
    (``None`` without narrator[asr]): ``(wall_s, speech_s, word_error)``."""
    from narrator.speech import SpeechCache, default_spec, narrate
    from tests import asr

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        narration = narrate(
            asr.demo_opening(), spec=default_spec(engine), cache=SpeechCache(Path(tmp)), jobs=jobs
        )
        wall_s = time.perf_counter() - started
        if not asr.available():
            return wall_s, narration.speech_s, None
        stem = narration.source().render(round((narration.end_s + 1.0) * 44_100))
        heard = asr.transcribe(stem, 44_100)
        return wall_s, narration.speech_s, asr.word_error_rate(reference, heard)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    from narrator.speech.registry import default_spec
    from tests import asr

    script = asr.demo_opening()
    reference = " ".join(s for p in script.passages for s in p.sentences)
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    best: dict[str, dict] = {}
    for _ in range(max(args.rounds, 1)):
        for engine in ENGINES:
            got = run_child(engine)
            if engine not in best or got["wall_s"] < best[engine]["wall_s"]:
                best[engine] = got
    stage: dict[str, tuple[float, float]] = {}
    heard: dict[str, float | None] = {}
    for engine in ENGINES:
        wall_s, speech_s, heard[engine] = speech_stage(engine, cores, reference)
        stage[engine] = (wall_s, speech_s)
    load_after = os.getloadavg()[0]

    piper, kokoro = best["piper"], best["kokoro"]
    lines = [
        f"Measured {date.today()} on: {machine()}; load average {load_before:.2f} before, "
        f"{load_after:.2f} after.",
        "",
        f"Text: the opening of `seeds/dream.txt`, {len(asr.words(reference))} words, "
        f"{sum(len(p.sentences) for p in script.passages)} sentences; each engine at its "
        "sleep-pace defaults (piper joe, length_scale "
        f"{piper['settings']['length_scale']}; kokoro {default_spec('kokoro').voice}, speed "
        f"{kokoro['settings']['speed']}, the packaged int8 model). Best of "
        f"{max(args.rounds, 1)} interleaved rounds.",
        "",
        "| engine, one process, 1 thread | load s | speech audio s | wall s | RTF (wall) | "
        "CPU s per s of speech | peak memory MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for engine in ENGINES:
        f = best[engine]
        lines.append(
            f"| {engine} | {f['load_s']:.1f} | {f['audio_s']:.1f} | {f['wall_s']:.1f} | "
            f"{f['wall_s'] / f['audio_s']:.3f} | {f['cpu_s'] / f['audio_s']:.3f} | "
            f"{f['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        f"| narrator speech stage, `--jobs {cores}`, cold cache | wall s | speech s (trimmed) | "
        "RTF | Whisper tiny.en word error |",
        "|---|---|---|---|---|",
    ]
    for engine in ENGINES:
        wall_s, speech_s = stage[engine]
        error = "not measured" if heard[engine] is None else f"{heard[engine]:.3f}"
        lines.append(
            f"| {engine} | {wall_s:.1f} | {speech_s:.1f} | {wall_s / speech_s:.3f} | {error} |"
        )
    rtf = {e: best[e]["wall_s"] / best[e]["audio_s"] for e in ENGINES}
    lines += [
        "",
        f"Kokoro against piper, one thread each: {rtf['kokoro'] / rtf['piper']:.1f}× the time "
        f"per second of speech; {kokoro['peak_rss_mib'] - piper['peak_rss_mib']:.0f} MiB more "
        f"peak memory per process; speech stage at `--jobs {cores}` "
        f"{(stage['kokoro'][0] / stage['kokoro'][1]) / (stage['piper'][0] / stage['piper'][1]):.1f}"
        "× piper's time per second of speech.",
    ]
    publish("bench_kokoro", lines, write=not args.no_write)


if __name__ == "__main__":
    main()
