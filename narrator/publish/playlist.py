"""Bedtime playlists: extended M3U (UTF-8 ``.m3u8``) of a manifest's rendered episodes.

Each entry is ``#EXTINF:<seconds>,<title>`` and the episode's path relative to the playlist, in
manifest order. The playlist may end with an ambience-only *closer*: a scene from the
soundscape library, rendered to its own file, for listeners who fall asleep after the last
story. It streams block by block (measured in a first pass, then mastered from a fresh, equal
render: sources are deterministic by seed), so an eight-hour closer costs no more memory than
a minute.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import narrator
from narrator.direction.planfile import known_scenes
from narrator.publish import PublishError
from narrator.publish.artwork import published_artwork
from narrator.publish.batch import (
    fingerprint,
    published_files,
    read_fingerprint,
    written_whole,
)
from narrator.publish.manifest import (
    CLOSER_PREFIX,
    OUR_MARKS,
    Manifest,
    manifest_inputs,
    others,
    show_files,
)
from narrator.publish.renamed import remove_render
from narrator.publish.rendered import load_rendered
from narrator.render.sidecars import sidecar_path
from narrator.speech.filehash import file_sha256
from soundscapes.ambience import bed_timeline, render_ambience
from soundscapes.errors import SoundscapeError
from soundscapes.files import check_outputs
from soundscapes.output.export import audio_info, write_bytes_if_changed, write_text_atomic
from soundscapes.output.formats import DEFAULT_FORMAT, get_format
from soundscapes.output.master import LoudnessTarget, parse_target
from soundscapes.output.tags import Tags
from soundscapes.recording import is_recording_name, recording_path
from soundscapes.scene import BUILTIN_SCENES, Scene, choosable, get_scene, load_scenes

#: Scene of the closer when none is named and the last episode's report has none.
FALLBACK_CLOSER_SCENE = "coast"
#: Shortest closer, in minutes: a second, as the shortest bed (a shorter one is all fade).
MIN_CLOSER_MINUTES = 1 / 60
#: Longest closer, in minutes: a night.
MAX_CLOSER_MINUTES = 12 * 60
_BLOCK_FRAMES = 1 << 16

#: ``(stage, done, total)``, stage ``"closer"``: frames of the closer rendered so far.
PlaylistProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, kw_only=True)
class PlaylistEntry:
    """One line pair of the playlist."""

    path: Path
    title: str
    duration_s: float


@dataclass(frozen=True, kw_only=True)
class PlaylistResult:
    path: Path
    entries: tuple[PlaylistEntry, ...]
    #: The closer's file, and whether this run rendered it (``False``: it was up to date).
    closer: Path | None = None
    closer_rendered: bool = False
    warnings: tuple[str, ...] = ()
    #: Whether the playlist file changed (left alone, time and all, when it would not).
    changed: bool = True
    #: Closers this playlist ended with before and no playlist plays now: removed.
    retired: tuple[Path, ...] = ()

    @property
    def duration_s(self) -> float:
        return sum(e.duration_s for e in self.entries)


def m3u8_text(entries: list[PlaylistEntry], *, relative_to: Path) -> str:
    """Extended M3U text: ``#EXTM3U``, then ``#EXTINF:<seconds>,<title>`` and a relative path
    (forward slashes) for each entry."""
    lines = ["#EXTM3U"]
    for entry in entries:
        # A line break in a title would start a new, bogus entry.
        title = " ".join(entry.title.split())
        lines.append(f"#EXTINF:{round(entry.duration_s)},{title}")
        lines.append(Path(os.path.relpath(entry.path, relative_to)).as_posix())
    return "\n".join(lines) + "\n"


def write_playlist(
    manifest: Manifest,
    output: Path,
    *,
    closer_minutes: float | None = None,
    closer_scene: str | None = None,
    progress: PlaylistProgress | None = None,
) -> PlaylistResult:
    """Write the manifest's rendered episodes as an extended M3U playlist at ``output``.

    With ``closer_minutes``, end with that much ambience of ``closer_scene`` (default: the
    scene under the end of the last episode), rendered into the manifest's output folder.

    Raises
    ------
    PublishError
        An episode has not been rendered, or a bad closer length or scene.
    """
    inputs = [*manifest_inputs(manifest), *published_files(manifest)]
    inputs += [*others(show_files(manifest), "playlist"), *published_artwork(manifest)]
    check_outputs([("playlist", output)], inputs, marks=OUR_MARKS)
    rendered = [load_rendered(manifest, ep) for ep in manifest.episodes]
    entries = [
        PlaylistEntry(path=r.episode.output, title=r.title, duration_s=r.duration_s)
        for r in rendered
    ]
    warnings = [
        f"{manifest.path}: {r.episode.name} changed since its last render{r.what_changed}; the "
        f"playlist has the old version until you run narrator batch {manifest.path}"
        for r in rendered
        if r.stale
    ]
    closer: Path | None = None
    closer_rendered = False
    if closer_scene is not None and closer_minutes is None:
        raise PublishError("--closer-scene needs --closer-minutes (how long the closer plays)")
    if closer_minutes is not None:
        if not MIN_CLOSER_MINUTES <= closer_minutes <= MAX_CLOSER_MINUTES:
            raise PublishError(
                f"--closer-minutes {closer_minutes:g} is out of range; use from "
                f"{MIN_CLOSER_MINUTES:.2f} (a second) to {MAX_CLOSER_MINUTES}"
            )
        own = _show_scenes(manifest)
        last = rendered[-1].report
        scene = _scene(closer_scene, own) if closer_scene else closing_scene(last, own)
        fmt = manifest.defaults.get("format", DEFAULT_FORMAT)
        closer = (
            manifest.output_dir
            / f"{CLOSER_PREFIX}{scene.name}-{closer_minutes:g}min{get_format(fmt).suffix}"
        )
        episodes = {path.resolve(): role for role, path in published_files(manifest)}
        if closer.resolve() in episodes:
            raise PublishError(
                f"{closer}: the closer would write over the {episodes[closer.resolve()]}; give "
                "that episode another output name in the manifest"
            )
        # The closer it makes may be there from before: that one is its to write.
        mine = [(role, path) for role, path in inputs if path != closer]
        check_outputs([("playlist", output), ("closer", closer)], mine, audio=("closer",))
        loudness = manifest.defaults.get("loudness", "sleep")
        try:
            target = closer_target(parse_target(loudness))
        except SoundscapeError as exc:
            raise PublishError(f"{manifest.path}: {exc}") from None
        spec = Closer(
            scene=scene,
            duration_s=closer_minutes * 60.0,
            fmt=fmt,
            seed=manifest.defaults.get("seed", 0),
            target=target,
            tags=Tags(
                title=f"{scene.description[:1].upper()}{scene.description[1:]} (ambience)",
                artist=manifest.podcast.author or "narrator",
                album=manifest.podcast.title,
                genre="Sleep sounds",
                comment="Ambience-only closer rendered by narrator",
            ),
        )
        closer_rendered = ensure_closer(closer, spec, progress)
        if not output.resolve().is_relative_to(manifest.output_dir.resolve()):
            _played_outside(closer)
        entries.append(
            PlaylistEntry(
                path=closer,
                title=spec.tags.title,
                duration_s=audio_info(closer)[2],
            )
        )
    text = m3u8_text(entries, relative_to=output.parent)
    before = _closers_in(output, manifest.output_dir)
    changed = write_bytes_if_changed(output, text.encode("utf-8"))
    retired = _retire(before - {closer.resolve() if closer else None}, output, manifest.output_dir)
    return PlaylistResult(
        retired=retired,
        changed=changed,
        path=output,
        entries=tuple(entries),
        closer=closer,
        closer_rendered=closer_rendered,
        warnings=tuple(warnings),
    )


def _closers_in(playlist: Path, folder: Path) -> set[Path]:
    """The closers (narrator's, in ``folder``) the playlist file at ``playlist`` plays."""
    try:
        lines = playlist.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    found = set()
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        try:  # a line of the user's playlist may name no file this system can hold
            path = (playlist.parent / line.strip()).resolve()
            if not path.name.startswith(CLOSER_PREFIX) or path.parent != folder.resolve():
                continue
            if sidecar_path(path, ".fingerprint.json").is_file():
                found.add(path)
        except (OSError, ValueError):
            continue
    return found


def _played_outside(closer: Path) -> None:
    """Mark in the closer's record that a playlist outside the output folder plays it: no
    playlist run can see that one, so none may take the closer away from under it."""
    record = _record(closer)
    if not record.get("played_outside"):
        record["played_outside"] = True
        write_text_atomic(
            sidecar_path(closer, ".fingerprint.json"),
            json.dumps(record, indent=2, ensure_ascii=False),
        )


def _retire(closers: set[Path], playlist: Path, folder: Path) -> tuple[Path, ...]:
    """Remove ``closers`` (with their fingerprints) that no playlist beside ``playlist`` or
    anywhere in ``folder`` plays any more: a closer of another length or scene is a new
    file, and the old one (an hour of audio, in the published folder) was left behind. One a
    playlist outside the folder played stays: that playlist may play it still."""
    if not closers:
        return ()
    playing: set[Path] = set()
    others = {*playlist.parent.resolve().glob("*.m3u*"), *folder.resolve().rglob("*.m3u*")}
    for other in others:  # beside this one, and anywhere in the output folder
        playing |= _closers_in(other, folder)
    unplayed = [c for c in sorted(closers - playing) if not _record(c).get("played_outside")]
    return tuple(remove_render(path) for path in unplayed)


def _record(path: Path) -> dict:
    return read_fingerprint(path) or {}


def closer_target(episode_target: LoudnessTarget) -> LoudnessTarget:
    """The closer sits as far under the episodes' loudness as their open ambience does (an
    episode's tail), so it does not swell when the last story ends."""
    from narrator.render.pipeline import OPEN_GAP_LU

    return LoudnessTarget(
        name=f"{episode_target.name} ambience",
        integrated_lufs=episode_target.integrated_lufs - OPEN_GAP_LU,
        true_peak_dbtp=episode_target.true_peak_dbtp,
    )


@dataclass(frozen=True, kw_only=True)
class Closer:
    """What a closer is made from: ambience of ``scene`` alone, ``duration_s`` long."""

    scene: Scene
    duration_s: float
    fmt: str
    seed: int
    target: LoudnessTarget
    tags: Tags

    def inputs(self) -> dict[str, object]:
        """Everything that shapes the file, for its fingerprint."""
        return {
            "narrator": narrator.__version__,
            "scene": self.scene.name,
            "layers": [
                [_layer_identity(x.name), x.gain_db, list(x.params)] for x in self.scene.layers
            ],
            "duration_s": self.duration_s,
            "fmt": self.fmt,
            "seed": self.seed,
            "target_lufs": self.target.integrated_lufs,
            "true_peak_dbtp": self.target.true_peak_dbtp,
            "title": self.tags.title,
            "artist": self.tags.artist,
            "album": self.tags.album,
        }


def _layer_identity(name: str) -> str:
    """A layer's name, or a recording's file name and the hash of its bytes: a new take of the
    recording is a new closer, and no path of this machine goes into the published folder."""
    if not is_recording_name(name):
        return name
    path = recording_path(name)
    try:
        digest = file_sha256(path)
    except OSError:  # the render says what is wrong with it
        digest = "unreadable"
    return f"file:{path.name}:{digest}"


def ensure_closer(path: Path, closer: Closer, progress: PlaylistProgress | None = None) -> bool:
    """Render ``closer`` to ``path`` unless the file there was made from the same inputs and
    is the size it was written at (a damaged one is rendered again).

    Returns whether it rendered.
    """
    inputs = closer.inputs()
    stamp = fingerprint(inputs)
    record = read_fingerprint(path) or {}
    if record.get("fingerprint") == stamp and written_whole(path, record):
        return False
    render_closer(path, closer, progress)
    kept = {"played_outside": True} if record.get("played_outside") else {}
    record = {"fingerprint": stamp, "inputs": inputs, "size_bytes": path.stat().st_size, **kept}
    write_text_atomic(
        sidecar_path(path, ".fingerprint.json"), json.dumps(record, indent=2, ensure_ascii=False)
    )
    return True


def render_closer(path: Path, closer: Closer, progress: PlaylistProgress | None = None) -> None:
    """The closer at ``path``, mastered to its target: a gentle fade in and a long fade out,
    memory flat (:func:`render_ambience`)."""
    duration_s = closer.duration_s
    try:
        bed = bed_timeline(closer.scene, duration_s, seed=closer.seed,
                           fade_in_s=min(10.0, duration_s / 4),
                           fade_out_s=min(180.0, duration_s / 4))  # fmt: skip
        render_ambience(
            bed,
            path,
            closer.fmt,
            target=closer.target,
            tags=closer.tags,
            progress=(lambda d, t: progress("closer", d, t)) if progress else None,
        )
    except SoundscapeError as exc:
        raise PublishError(f"{path}: the closer could not be written ({exc})") from None


def _show_scenes(manifest: Manifest) -> dict[str, Scene]:
    """The show's own scenes (``scenes = "…"`` among the manifest's defaults), which its
    episodes may play and so its closer too."""
    path = manifest.defaults.get("scenes")
    if not path:
        return {}
    try:
        return load_scenes(path)
    except SoundscapeError as exc:
        raise PublishError(f"{manifest.path}: {exc}") from None


def closing_scene(report: dict, own: dict[str, Scene] | None = None) -> Scene:
    """The library scene (or the soft bed, or one of the show's ``own``) nearest to what plays
    under a render's last passage: that scene if there is one of its name, else the one
    sharing most of its layers, its leading layer counting double (a story's own mix,
    ``coast+breathing-mirrors``, is not a library scene)."""
    library = {**known_scenes(), **(own or {})}
    last = (report.get("passages") or [{}])[-1]
    name = str(last.get("scene") or "")
    for candidate in (name, name.split("+")[0]):
        if candidate in library:
            return library[candidate]
    layers = [str(x) for x in last.get("layers") or []]

    def score(scene: Scene) -> int:
        shared = len(set(layers) & set(scene.layer_names))
        return shared + (1 if layers and scene.layer_names[0] == layers[0] else 0)

    best = max(library.values(), key=score, default=None)
    if best is None or score(best) == 0:
        return library.get(FALLBACK_CLOSER_SCENE) or _scene(FALLBACK_CLOSER_SCENE)
    return best


def _scene(name: str, own: dict[str, Scene] | None = None) -> Scene:
    try:
        scene = get_scene(name, choosable({**BUILTIN_SCENES, **(own or {})}))
    except SoundscapeError as exc:
        raise PublishError(f"--closer-scene: {exc}") from None
    if scene.name not in {**known_scenes(), **(own or {})}:
        raise PublishError(f"--closer-scene {name!r}: a layer of that scene is not installed")
    return scene
