"""Files beside the output: the transcript (WebVTT), chapters (Podcasting 2.0 JSON), the cover,
and the loudness plot.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

from narrator.errors import RenderError, brief
from narrator.render.cues import sentence_cues
from narrator.text.script import Script
from soundscapes.output.export import atomic_path
from soundscapes.output.tags import ChapterMark


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
    """WebVTT of the story's sentences, timed where the voice says them, in cues a player can
    show: at most :data:`CUE_MAX_LINES` lines of at most :data:`CUE_LINE_CHARS` characters.

    A sentence that fits is one cue, id ``passage-sentence`` (traced to the report's passages);
    a longer one is several cues, ids ``passage-sentence-part`` (parts from 0), each timed by
    where its words fall in the sentence: the sentence's span is shared in proportion to
    characters, so its cues follow on from one another and cover the span exactly. Lines and
    cues break at phrase boundaries (:func:`sentence_cues`). A word is never split: one longer
    than a line is a cue of its own.
    """
    lines = ["WEBVTT", ""]
    for passage, timing in zip(script.passages, timings, strict=True):
        for j, (sentence, span) in enumerate(zip(passage.sentences, timing.sentences, strict=True)):
            cues = sentence_cues(sentence)
            if not cues:
                continue
            start_ms, end_ms = _ms(span.start_s), max(_ms(span.start_s), _ms(span.end_s))
            total = len(" ".join(" ".join(cue) for cue in cues))
            offset = 0
            for part, cue in enumerate(cues):
                begin = start_ms + round((end_ms - start_ms) * offset / total)
                offset += len(" ".join(cue)) + 1
                finish = (
                    end_ms
                    if part == len(cues) - 1
                    else (start_ms + round((end_ms - start_ms) * offset / total))
                )
                cue_id = f"{passage.index}-{j}" if len(cues) == 1 else f"{passage.index}-{j}-{part}"
                lines += [
                    cue_id,
                    f"{_ms_time(begin)} --> {_ms_time(finish)}",
                    *(_vtt_escape(line) for line in cue),
                    "",
                ]
    return "\n".join(lines)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _ms_time(ms: int) -> str:
    return _vtt_time(ms / 1000)


def _vtt_escape(line: str) -> str:
    """A cue line as WebVTT reads it: ``&`` and ``<`` escaped (else a player takes them for an
    entity or a tag, WebVTT §4.2.2), ``>`` too, so "-->" never appears."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    output: Path,
    script: Script,
    timings: Sequence,
    chapters: Sequence[ChapterMark],
    *,
    staged: contextlib.ExitStack | None = None,
) -> dict[str, str]:
    """Write the transcript and chapters beside ``output``; return their paths. With
    ``staged``, each is put in place when that stack closes (after the audio, and not at
    all if the audio could not be)."""
    vtt = sidecar_path(output, ".vtt")
    chap = sidecar_path(output, ".chapters.json")
    _staged_write(vtt, transcript_vtt(script, timings).encode("utf-8"), staged)
    _staged_write(chap, chapters_json(chapters, title=script.title).encode("utf-8"), staged)
    return {"transcript": str(vtt), "chapters": str(chap)}


def _staged_write(path: Path, data: bytes, staged: contextlib.ExitStack | None) -> None:
    """``data`` to ``path`` atomically: now, or when ``staged`` closes without an error."""
    if staged is None:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    else:
        staged.enter_context(atomic_path(path)).write_bytes(data)


#: The largest cover file read, bytes: a 3000 px PNG is a few MB; more is not a cover.
COVER_MAX_BYTES = 20 * 2**20
#: The most pixels a cover may decode to (a 6000 × 6000 image): a small file can claim a huge
#: canvas (a "decompression bomb").
COVER_MAX_PIXELS = 36_000_000
#: Embedded art's longest side, pixels: players show it at a few hundred; 1400 px is the
#: smallest show art Apple Podcasts accepts, so the same picture serves both.
EMBEDDED_ART_PX = 1400


def cover_path(story: Path, cover: str) -> Path:
    """The cover named in front matter: absolute, or relative to the story's folder."""
    path = Path(cover).expanduser()
    return path if path.is_absolute() else story.parent / path


def load_cover(
    story: Path, cover: str, *, line: int | None = None, warnings: list[str] | None = None
) -> tuple[bytes, str]:
    """The cover image named in the front matter, checked by its content and re-encoded for
    embedding: ``(JPEG bytes, "image/jpeg")``, at most :data:`EMBEDDED_ART_PX` on a side. A
    picture that is not square is embedded as it is, with a warning added to ``warnings``:
    players and podcast apps show covers square, so its sides are cut or barred.

    Only a regular file of at most :data:`COVER_MAX_BYTES` that decodes as a PNG or JPEG image
    of at most :data:`COVER_MAX_PIXELS` is accepted; what is embedded is the decoded picture
    encoded afresh, never the file's bytes (a symlink to a secret named ``.png`` is refused,
    not copied into the audio).

    Raises
    ------
    RenderError
        Saying which file and what to do.
    """
    from PIL import Image, UnidentifiedImageError

    from soundscapes.files import InputError, read_input

    path = cover_path(story, cover)
    at = f"{story}:{line}" if line else f"{story}"  # ``line``: the front matter's
    where = f"{at}: cover {brief(cover)}"
    try:
        data = read_input(path, what="cover image", max_bytes=COVER_MAX_BYTES)
    except InputError as exc:  # it names the file
        raise RenderError(f"{at}: cover: {exc}") from None
    too_big = RenderError(
        f"{where} is an image of more pixels than a cover may have "
        f"({COVER_MAX_PIXELS // 1_000_000} million); use one of at most 3000×3000"
    )
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
            if image.width * image.height > COVER_MAX_PIXELS:
                raise too_big
            image.load()
            picture = flattened(image)
    except Image.DecompressionBombError:  # Pillow's own, larger bound
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise RenderError(
            f"{where} is not a PNG or JPEG image; give a .png or .jpg picture"
        ) from None
    if picture.width != picture.height and warnings is not None:
        warnings.append(
            f"{where} is {picture.width}×{picture.height} px, not square: players show a "
            "cover square, cutting or barring its sides; crop it to a square"
        )
    picture.thumbnail((EMBEDDED_ART_PX, EMBEDDED_ART_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=88, optimize=True, progressive=False)
    return out.getvalue(), "image/jpeg"


def flattened(image):
    """An RGB copy of ``image``: transparency laid on the generated cover's night blue (what a
    player shows around art), palettes and greyscale expanded."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, (12, 16, 40, 255))
        return Image.alpha_composite(ground, rgba).convert("RGB")
    return image.convert("RGB")


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
    staged: contextlib.ExitStack | None = None,
) -> None:
    """A PNG of short-term loudness over time with chapter and scene markers (``staged``:
    as :func:`write_text_sidecars`)."""
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
    save_png(fig, path, staged=staged)


def save_png(fig, path: Path, *, staged: contextlib.ExitStack | None = None) -> None:
    """Write a matplotlib figure to ``path`` as a PNG, atomically, and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    _staged_write(path, buffer.getvalue(), staged)
