"""A show's (or an episode's) artwork, checked as the directories accept it and copied beside
the episodes.

Apple Podcasts: "minimum size of 1400 x 1400 pixels and a maximum size of 3000 x 3000 pixels, in
JPEG or PNG format, 72 dpi, with appropriate file extensions (.jpg, .png), and in the RGB
colorspace" (A Podcaster's Guide to RSS, ``<itunes:image>``); "Should not contain an Alpha
channel" (support article 896). Apple sets no file size; 512 KB is the hosts' convention that
NPR One and Spotify meet (PRX, Captivate, Podigee), so larger art is recompressed as JPEG.

What can be fixed without the author's eye is fixed, with a warning (alpha, a colour mode other
than RGB, bytes over 512 KB, pixels over 3000); what cannot (not square, under 1400 px, not an
image) is an error that says what to do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from narrator.errors import NarratorError, brief
from narrator.publish import PublishError
from narrator.render.sidecars import flattened
from soundscapes.files import InputError, read_input
from soundscapes.output.export import write_bytes_if_changed

if TYPE_CHECKING:
    from narrator.publish.manifest import Episode, Manifest

MIN_PX = 1400
MAX_PX = 3000
MAX_BYTES = 512 * 1024
#: Bytes read at most (a 3000 px PNG of photographic art is about 25 MB).
MAX_INPUT_BYTES = 50 * 1024 * 1024
#: JPEG qualities tried, best first, until the file fits :data:`MAX_BYTES`.
_QUALITIES = (92, 88, 84, 80, 75, 70, 65, 60, 50, 40)


@dataclass(frozen=True, kw_only=True)
class Artwork:
    """Artwork ready to serve: ``path`` under the output folder."""

    source: Path
    path: Path
    size_px: int
    size_bytes: int
    mime: str
    warnings: tuple[str, ...] = ()


def show_artwork_stem(ref: str) -> str:
    """The show's artwork is published under its own name: new art under a new name is a new
    URL, as Apple asks ("Change the artwork file name and URL at the same time")."""
    return PurePosixPath(ref).stem


def episode_artwork_stem(episode: Episode) -> str:
    """An episode's artwork is published beside its file: ``night.mp3`` → ``night-cover``."""
    return episode.output.name.rsplit(".", 1)[0] + "-cover"


def published_artwork(manifest: Manifest) -> list[tuple[str, Path]]:
    """Where the feed and the site put the show's and episodes' artwork, as ``(role, path)``:
    both names each may take (fitted art is JPEG, or PNG when a PNG fits as it is), so that no
    other output lands on it."""
    refs = [("show's published artwork", manifest.podcast.image, None)]
    refs += [(f"published artwork of {ep.name}", ep.image, ep) for ep in manifest.episodes]
    return [
        (role, manifest.output_dir / f"{stem}{suffix}")
        for role, ref, ep in refs
        if ref and not urlsplit(ref).scheme
        for stem in [show_artwork_stem(ref) if ep is None else episode_artwork_stem(ep)]
        for suffix in (".jpg", ".png")
    ]


def prepare_artwork(source: Path, folder: Path, stem: str, *, where: str) -> Artwork:
    """Check the image at ``source`` and write what the directories accept to
    ``folder/stem.jpg`` (or ``.png``), rewritten only when its bytes change.

    Raises
    ------
    PublishError
        Not an image, not JPEG or PNG, not square, or under 1400 px, with ``where`` (the
        manifest key) in the message.
    """
    from PIL import Image

    try:
        data = read_input(source, what="image", max_bytes=MAX_INPUT_BYTES)
    except InputError as exc:
        raise PublishError(f"{where}: {exc}") from None
    image = _decoded(data, source, where)
    warnings: list[str] = []
    if image.format not in ("JPEG", "PNG"):
        raise PublishError(
            f"{where}: {source} is {image.format or 'an unknown format'}; Apple Podcasts and "
            "Spotify take JPEG or PNG artwork: save it as .jpg or .png"
        )
    width, height = image.size
    if width != height:
        raise PublishError(
            f"{where}: {source} is {width}x{height} px; podcast artwork must be square "
            f"({MIN_PX}x{MIN_PX} to {MAX_PX}x{MAX_PX} px): crop it to a square"
        )
    if width < MIN_PX:
        raise PublishError(
            f"{where}: {source} is {width}x{height} px; directories need at least "
            f"{MIN_PX}x{MIN_PX} px (Apple Podcasts: 1400 to 3000): use a larger image"
        )
    fmt = image.format
    changed = False
    if width > MAX_PX:
        image = image.resize((MAX_PX, MAX_PX), Image.Resampling.LANCZOS)
        warnings.append(f"{where}: {source} is {width} px; scaled to {MAX_PX} px, the largest "
                        "Apple Podcasts takes")  # fmt: skip
        changed = True
    if image.mode != "RGB":
        warnings.append(f"{where}: {source} is {_mode_name(image.mode)}; converted to RGB "
                        "(the directories want RGB without an alpha channel)")  # fmt: skip
        image = flattened(image)
        changed = True
    if changed:
        data, fmt = _encoded(image, fmt)
    if len(data) > MAX_BYTES:
        before = len(data)
        data, fmt = _fitted(image)
        warnings.append(
            f"{where}: {source} is {before // 1024} KB; recompressed as JPEG to "
            f"{len(data) // 1024} KB (hosts and Spotify ask for at most 512 KB)"
        )
    suffix, mime = (".jpg", "image/jpeg") if fmt == "JPEG" else (".png", "image/png")
    path = folder / f"{stem}{suffix}"
    write_bytes_if_changed(path, data)
    return Artwork(
        source=source,
        path=path,
        size_px=image.size[0],
        size_bytes=len(data),
        mime=mime,
        warnings=tuple(warnings),
    )


def _decoded(data: bytes, source: Path, where: str):
    """The image in ``data``, loaded, or :class:`PublishError`; bounded in pixels before any
    are decoded (a small file can claim a huge picture)."""
    from PIL import Image, UnidentifiedImageError

    unreadable = PublishError(f"{where}: {source} is not a readable image; use a JPEG or PNG")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        raise unreadable from None
    if max(image.size) > 4 * MAX_PX:
        raise PublishError(
            f"{where}: {source} is {image.size[0]}x{image.size[1]} px; podcast artwork is "
            f"{MIN_PX} to {MAX_PX} px square: scale it down"
        )
    try:
        image.load()
    except (Image.DecompressionBombError, OSError, SyntaxError):
        raise unreadable from None
    return image


def _mode_name(mode: str) -> str:
    names = {
        "RGBA": "RGB with an alpha channel",
        "LA": "greyscale with an alpha channel",
        "L": "greyscale",
        "P": "a palette image",
        "CMYK": "CMYK",
        "1": "black and white",
    }
    return names.get(mode, f"in {mode} mode")


def _encoded(image, fmt: str) -> tuple[bytes, str]:
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, "PNG", optimize=True, dpi=(72, 72))
    else:
        image.save(out, "JPEG", quality=_QUALITIES[0], optimize=True, dpi=(72, 72))
    return out.getvalue(), fmt


def _fitted(image) -> tuple[bytes, str]:
    """The best JPEG under :data:`MAX_BYTES`: the highest quality that fits, and at the
    smallest allowed size if none does at full size."""
    from PIL import Image

    for candidate in (image, image.resize((MIN_PX, MIN_PX), Image.Resampling.LANCZOS)):
        for quality in _QUALITIES:
            out = io.BytesIO()
            candidate.save(out, "JPEG", quality=quality, optimize=True, dpi=(72, 72))
            if out.tell() <= MAX_BYTES:
                return out.getvalue(), "JPEG"
    return out.getvalue(), "JPEG"  # noise-like art: the smallest we can make


def artwork_source(ref: str, manifest_folder: Path, output_dir: Path, *, where: str) -> Path:
    """The file an ``image = "…"`` names: relative to the manifest, or (as earlier manifests
    wrote it) already under the output folder."""
    for folder in (manifest_folder, output_dir):
        candidate = folder / ref
        if candidate.is_file():
            return candidate
    raise PublishError(
        f"{where}: image {brief(ref)} is not a file (looked in {manifest_folder} and "
        f"{output_dir}); put the artwork beside the manifest and name it there"
    )


def embedded_cover(manifest: Manifest, episode: Episode | None = None) -> Path | None:
    """The artwork an episode's audio embeds when its story has no cover of its own: the
    episode's ``image`` when that is a file, else the show's; ``None`` for web addresses.
    A missing file is the feed's error to report; the episode then gets the show's, else a
    drawn cover."""
    for image in (episode.image if episode else None, manifest.podcast.image):
        if not image or urlsplit(image).scheme:  # a web address (the manifest allows http(s))
            continue
        try:
            return artwork_source(image, manifest.folder, manifest.output_dir, where="")
        except PublishError:
            continue  # missing: the feed says so; the show's artwork, else a drawn cover
    return None


def check_embedded_covers(manifest: Manifest) -> None:
    """Each file :func:`embedded_cover` gives, checked once as the renders will read it: a bad
    one is one error before anything renders, not a failure of every episode."""
    from narrator.render.sidecars import load_cover

    whose = {embedded_cover(manifest): "[podcast] image"}
    for episode in manifest.episodes:
        whose.setdefault(embedded_cover(manifest, episode), f"the image of {episode.name}")
    for cover, name in whose.items():
        if cover is None:
            continue
        try:
            # As the manifest names it, or absolute: found under an absolute output_dir.
            inside = cover.is_relative_to(manifest.folder)
            load_cover(manifest.path, str(cover.relative_to(manifest.folder) if inside else cover))
        except NarratorError as exc:  # "podcast.toml: cover 'art.png' is not a …"
            raise PublishError(str(exc).replace(": cover ", f": {name} ", 1)) from None
