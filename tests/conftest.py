"""Shared test helpers: an independent loudness meter (ffmpeg's ebur128), small stories, a
source made of a function of time, and a layer that fails."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from soundscapes import layers
from soundscapes.layers.spec import LayerInfo, ProceduralLayer

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

SHORT_STORY = """The night is soft and still. Far away, a storm gathers its breath, and the air
hushes.

You walk down to the shore, where the tide draws in and washes out again. Each wave is slow.

The sand is cool beneath your feet. You breathe in, and you breathe out, and you rest.
"""


@pytest.fixture(autouse=True, scope="session")
def _model_graphs_kept_in_the_session(tmp_path_factory) -> Iterator[None]:
    """Neural engines keep their rewritten model graphs in the user's cache, and commands
    note there the folders they make scratch in: the tests' go to a folder of their own
    (worker processes and the CLI's children inherit it), so that no test sweeps another
    session's folders, nor the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NARRATOR_MODEL_CACHE", str(tmp_path_factory.mktemp("models")))
        notes = tmp_path_factory.mktemp("scratch-notes") / "scratch-folders"
        patch.setenv("NARRATOR_SCRATCH_NOTES", str(notes))
        yield


@dataclass(frozen=True)
class FfmpegLoudness:
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float
    duration_s: float


def ffmpeg_loudness(path: Path) -> FfmpegLoudness:
    """Measure ``path`` with ffmpeg's ``ebur128`` filter (true peak on), independent of ours."""
    proc = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    text = proc.stderr
    summary = text[text.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    lra = float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.inf]+) dBFS", summary).group(1))
    time_match = re.findall(r"time=(\d+):(\d+):([\d.]+)", text) or re.findall(
        r"t:\s*([\d.]+)", text
    )
    if time_match and isinstance(time_match[-1], tuple):
        h, m, s = time_match[-1]
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    else:
        duration = float(time_match[-1]) if time_match else float("nan")
    return FfmpegLoudness(integrated, peak, lra, duration)


def ffmpeg_decodes(path: Path) -> bool:
    proc = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return proc.returncode == 0 and not proc.stderr.strip()


@pytest.fixture
def system_temp() -> Iterator:
    """``system_temp(length=None)``: a new folder under /tmp to be TMPDIR, its path ``length``
    characters long (padded) or as short as /tmp gives; removed after the test. The fork
    server's socket is made in a folder there, and a socket's path may not pass 107 bytes:
    pytest's own folders are long enough to change what narrator does."""
    made: list[Path] = []

    def make(length: int | None = None) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="nt-", dir="/tmp"))
        if length is not None:
            folder = folder.rename(Path(str(folder) + "x" * (length - len(str(folder)))))
        made.append(folder)
        return folder

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def short_story(tmp_path: Path) -> Path:
    path = tmp_path / "shore.txt"
    path.write_text(SHORT_STORY, encoding="utf-8")
    return path


def vtt_spans(vtt: str) -> list[tuple[float, float]]:
    """Every cue's ``(start_s, end_s)`` in a WebVTT transcript."""
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})", vtt)
    return [
        (int(a) * 3600 + int(b) * 60 + float(c), int(d) * 3600 + int(e) * 60 + float(f))
        for a, b, c, d, e, f in stamps
    ]


def stem_clearance_lu(voice: Path, ambience: Path, spans: list[tuple[float, float]],
                      folder: Path) -> float:  # fmt: skip
    """Voice minus ambience loudness over the speech ``spans`` of two stem files, measured by
    ffmpeg's ebur128 on the spans cut out and joined (independent of narrator's meter)."""
    import numpy as np
    import soundfile as sf

    levels = []
    for name, path in (("voice", voice), ("ambience", ambience)):
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
        pieces = [audio[round(a * rate) : round(b * rate)] for a, b in spans]
        joined = folder / f"speech-{name}.wav"
        sf.write(joined, np.concatenate(pieces), rate, subtype="FLOAT")
        levels.append(ffmpeg_loudness(joined).integrated_lufs)
    return levels[0] - levels[1]


def least_window_clearance_lu(voice: Path, ambience: Path, spans: list[tuple[float, float]],
                              window_s: float = 3.0, hop_s: float = 0.5) -> float:  # fmt: skip
    """The least voice-over-ambience (LU) over any ``window_s`` in which the voice speaks at
    least half the time, each stem measured by libebur128 (pyebur128) on its speech samples."""
    import numpy as np
    import pyebur128
    import soundfile as sf

    v, rate = sf.read(voice, dtype="float64", always_2d=True)
    a, _ = sf.read(ambience, dtype="float64", always_2d=True)
    mask = np.zeros(len(v), dtype=bool)
    for start, end in spans:
        mask[round(start * rate) : round(end * rate)] = True

    def lufs(x: np.ndarray) -> float:
        state = pyebur128.R128State(x.shape[1], rate, pyebur128.MeasurementMode.MODE_I)
        state.add_frames(np.ascontiguousarray(x).reshape(-1), len(x))
        return float(pyebur128.get_loudness_global(state))

    least = np.inf
    size, hop = round(window_s * rate), round(hop_s * rate)
    for first in range(0, len(v) - size, hop):
        inside = mask[first : first + size]
        if inside.sum() < size / 2:
            continue
        rows = first + np.flatnonzero(inside)
        least = min(least, lufs(v[rows]) - lufs(a[rows]))
    return float(least)


class TimeSource:
    """A stereo source whose samples are ``signal(t_s)`` at absolute times: any block sizes
    give the same samples, as the sources it stands in for promise."""

    sample_rate_hz = 44_100
    channels = 2

    def __init__(self, signal) -> None:
        self._signal = signal
        self._frames = 0

    def render(self, frames: int) -> np.ndarray:
        t_s = (self._frames + np.arange(frames)) / self.sample_rate_hz
        self._frames += frames
        return np.tile(self._signal(t_s), (2, 1)).astype(np.float32)


class FailingLayer(ProceduralLayer):
    """A layer that breaks two seconds in, as a bad plugin would. Estimated dearer than any
    other (:func:`failing_layer`), so in a bed it is a layer group of its own, the one a split
    render plays in a process of its own (:func:`soundscapes.timeline.layer_halves`)."""

    info = LayerInfo(
        name="test-failing",
        description="silence that breaks two seconds in",
        params=(),
    )

    def _render_chunk(self) -> np.ndarray:
        if self.chunk_start_s >= 2.0:
            raise ValueError("decoder gave up at 2 s")
        return np.zeros((self.channels, self.chunk_frames), dtype=np.float32)


@pytest.fixture
def failing_layer(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """:class:`FailingLayer` registered for the length of a test, estimated at 50 ms a second
    (dearer than any other layer); its name."""
    from soundscapes.layers import costs

    monkeypatch.setitem(costs.CPU_MS_PER_S, FailingLayer.info.name, 50.0)
    layers.register_layer(FailingLayer)
    try:
        yield FailingLayer.info.name
    finally:
        layers._LAYERS.pop(FailingLayer.info.name, None)


def make_artwork(
    path: Path, size_px: int = 1400, *, mode: str = "RGB", speckle: float = 0.0
) -> Path:
    """Square artwork: a gradient with a circle and, with ``speckle``, that share of its
    pixels set at random (like stars: it makes files big, as detailed art is), saved in the
    format the suffix names."""
    from PIL import Image, ImageDraw

    ramp = np.linspace(0, 255, size_px)
    pixels = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 96.0), axis=-1)
    if speckle:
        rng = np.random.default_rng(size_px)
        stars = rng.random((size_px, size_px)) < speckle
        pixels[stars] = rng.integers(0, 256, (int(stars.sum()), 3))
    image = Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8)), "RGB")
    ImageDraw.Draw(image).ellipse(
        (size_px // 4, size_px // 4, 3 * size_px // 4, 3 * size_px // 4), fill=(240, 220, 160)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert(mode).save(path)
    return path


def toml_value(value: object) -> str:
    """``value`` written as TOML (strings, numbers, booleans, dates, lists, inline tables)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def episodes_toml(*episodes: dict[str, object]) -> str:
    """A manifest's ``[[episodes]]`` tables, one per mapping; ``published`` may be written as
    an ISO date or date-time string and is given to TOML as a date."""
    tables = []
    for episode in episodes:
        lines = ["[[episodes]]"]
        for key, value in episode.items():
            if key == "published" and isinstance(value, str):
                value = (
                    dt.datetime.fromisoformat(value)
                    if "T" in value
                    else dt.date.fromisoformat(value)
                )
            lines.append(f"{key} = {toml_value(value)}")
        tables.append("\n".join(lines))
    return "\n" + "\n\n".join(tables) + "\n"


#: The top of a test show's manifest: fake speech, a short tail, its files in the show's folder.
QUICK_SHOW = {"output_dir": "public", "cache_dir": "cache", "engine": "fake", "tail": 2}


def show_toml(podcast: dict[str, object], *episodes: dict[str, object], **top: object) -> str:
    """A whole manifest: :data:`QUICK_SHOW` with ``top`` over it, the ``[podcast]`` table and
    the episodes (as :func:`episodes_toml` writes them)."""
    lines = [f"{key} = {toml_value(value)}" for key, value in {**QUICK_SHOW, **top}.items()]
    lines += ["", "[podcast]", *(f"{key} = {toml_value(value)}" for key, value in podcast.items())]
    return "\n".join(lines) + "\n" + episodes_toml(*episodes)


def write_show(folder: Path, manifest: str, stories: dict[str, str], cover: str = "cover.jpg"):
    """A podcast's folder: its stories, its artwork (``cover``, made by
    :func:`make_artwork`) and ``podcast.toml``; returns the manifest's path."""
    for name, text in stories.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    make_artwork(folder / cover)
    path = folder / "podcast.toml"
    path.write_text(manifest, encoding="utf-8")
    return path


def kill_render_once_cached(args: list[str], cache: Path, entries: int, timeout_s: float) -> int:
    """Run ``narrator ARGS`` in a process group of its own and SIGKILL all of it (workers
    included) as soon as the speech cache holds ``entries``; the number it holds then."""
    import os
    import signal
    import sys
    import time

    from narrator.speech import SpeechCache

    proc = subprocess.Popen([sys.executable, "-m", "narrator", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while len(SpeechCache(cache)) < entries and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return len(SpeechCache(cache))


def swapped(args: list[str], replacements: dict[Path, Path]) -> list[str]:
    """``args`` with each argument that names a key of ``replacements`` replaced by its value."""
    named = {str(old): str(new) for old, new in replacements.items()}
    return [named.get(a, a) for a in args]
