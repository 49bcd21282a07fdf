"""Files beside the output: the transcript (WebVTT), chapters (Podcasting 2.0 JSON), the cover,
and the loudness plot.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

from narrator.errors import RenderError
from narrator.script import Script
from soundscapes.export import write_text_atomic
from soundscapes.tags import ChapterMark


def sidecar_path(output: Path, suffix: str) -> Path:
    """``out/dream.mp3`` + ``.vtt`` → ``out/dream.mp3.vtt`` (one set per rendered file)."""
    return output.with_name(output.name + suffix)


def _vtt_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def transcript_vtt(script: Script, timings: Sequence) -> str:
    """WebVTT with one cue per sentence, timed where the voice says it.

    Cue ids are ``passage-sentence`` so a cue can be traced to the report's passages.
    """
    lines = ["WEBVTT", ""]
    for passage, timing in zip(script.passages, timings, strict=True):
        for j, (sentence, span) in enumerate(zip(passage.sentences, timing.sentences, strict=True)):
            lines += [
                f"{passage.index}-{j}",
                f"{_vtt_time(span.start_s)} --> {_vtt_time(span.end_s)}",
                # "-->" may not appear in cue text (WebVTT §4.1).
                sentence.replace("-->", "->"),
                "",
            ]
    return "\n".join(lines)


def chapters_json(chapters: Sequence[ChapterMark], *, title: str) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0)."""
    return json.dumps(
        {
            "version": "1.2.0",
            "title": title,
            "chapters": [
                {"startTime": round(c.start_s, 3), "endTime": round(c.end_s, 3), "title": c.title}
                for c in chapters
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def write_text_sidecars(
    output: Path, script: Script, timings: Sequence, chapters: Sequence[ChapterMark]
) -> dict[str, str]:
    """Write the transcript and chapters beside ``output``; return their paths."""
    vtt = sidecar_path(output, ".vtt")
    chap = sidecar_path(output, ".chapters.json")
    write_text_atomic(vtt, transcript_vtt(script, timings))
    write_text_atomic(chap, chapters_json(chapters, title=script.title))
    return {"transcript": str(vtt), "chapters": str(chap)}


def load_cover(story: Path, cover: str) -> tuple[bytes, str]:
    """The cover image named in the front matter, relative to the story file."""
    path = Path(cover)
    if not path.is_absolute():
        path = story.parent / path
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(
        path.suffix.lower()
    )
    if mime is None:
        raise RenderError(f"{story}: cover {cover!r} must be a .png or .jpg image")
    try:
        return path.read_bytes(), mime
    except OSError:
        raise RenderError(
            f"{story}: cover image {path} cannot be read; check the 'cover:' path"
        ) from None


def generated_cover(title: str, author: str = "", *, size_px: int = 1400) -> bytes:
    """A calm night-sky cover with the title: a PNG, the same for the same title.

    1400 px square: the smallest size Apple Podcasts accepts.
    """
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    seed = int.from_bytes(hashlib.sha256(title.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, size_px)[:, None]
    top, bottom = np.array([12, 16, 40]), np.array([52, 40, 88])
    sky = (top + (bottom - top) * y[..., None]).repeat(size_px, axis=1).astype(np.uint8)
    image = Image.fromarray(sky, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(220):
        x, yy = rng.uniform(0, size_px, 2)
        r = rng.uniform(0.8, 3.2)
        shade = int(rng.uniform(150, 255))
        draw.ellipse([x - r, yy - r, x + r, yy + r], fill=(shade, shade, 255))
    moon = size_px * 0.72, size_px * 0.25, size_px * 0.09
    draw.ellipse([moon[0] - moon[2], moon[1] - moon[2], moon[0] + moon[2], moon[1] + moon[2]],
                 fill=(240, 236, 210))  # fmt: skip
    font = ImageFont.load_default(size=size_px // 14)
    small = ImageFont.load_default(size=size_px // 28)
    draw.multiline_text(
        (size_px * 0.08, size_px * 0.62), _wrap(title, 18), font=font, fill=(236, 232, 255)
    )
    if author:
        draw.text((size_px * 0.08, size_px * 0.9), author, font=small, fill=(190, 186, 220))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines[:4])


def loudness_plot(
    path: Path,
    series: Sequence[tuple[float, float]],
    *,
    target_lufs: float,
    chapters: Sequence[ChapterMark],
    scenes: Sequence[tuple[float, str]],
    title: str,
) -> None:
    """A PNG of short-term loudness over time with chapter and scene markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4), dpi=100)
    if series:
        t, lufs = zip(*series, strict=True)
        ax.plot([x / 60 for x in t], lufs, color="#3b4a8a", linewidth=1.0, label="short-term")
    ax.axhline(target_lufs, color="#c0504d", linestyle="--", linewidth=1, label="target")
    for chapter in chapters:
        ax.axvline(chapter.start_s / 60, color="#555555", linewidth=0.8)
        ax.text(chapter.start_s / 60, ax.get_ylim()[1], f" {chapter.title}", fontsize=8,
                va="top", rotation=90)  # fmt: skip
    for start_s, name in scenes:
        ax.axvline(start_s / 60, color="#8fb38f", linewidth=0.8, linestyle=":")
        ax.text(start_s / 60, ax.get_ylim()[0], f" {name}", fontsize=7, va="bottom",
                rotation=90, color="#4f7f4f")  # fmt: skip
    ax.set_xlabel("minutes")
    ax.set_ylabel("LUFS (3 s)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    from soundscapes.export import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
