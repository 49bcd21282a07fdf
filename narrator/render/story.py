"""A story read with its options: its front matter resolved under the command line's (and a
manifest's), the lexicon and scene file they name loaded, its text parsed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from narrator.errors import NarratorError
from narrator.options import BY_KEY, CLI, FRONT, OptionError, RenderSettings, check_value, resolve
from narrator.text.frontmatter import StoryMeta, split_front_matter
from narrator.text.pronunciation import load_lexicon
from narrator.text.script import (
    Script,
    parse_text,
    read_story,
    story_markup,
    title_from_path,
)
from soundscapes.errors import SoundscapeError
from soundscapes.scene import Scene, load_scenes

Layers = Sequence[tuple[str, Mapping[str, Any]]]


def checked_options(options: Mapping[str, Any], where: str = "render_story") -> dict[str, Any]:
    """Options given by key (``{"engine": "fake", "tail": 3}``), checked against their
    declaration (:data:`narrator.options.OPTIONS`).

    Raises
    ------
    OptionError
        An unknown key or a bad value.
    """
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in BY_KEY:
            raise OptionError(f"{where}: unknown option {key!r}")
        if value is not None:
            out[key] = check_value(BY_KEY[key], value, f"{where}: {key}")
    return out


def load_story(
    story: Path,
    options: Mapping[str, Any] | None = None,
    *,
    layers: Layers = (),
    title: str | None = None,
) -> tuple[Script, RenderSettings, dict[str, Scene]]:
    """Read ``story``, resolve its options (``options`` over ``layers`` over its front
    matter), and parse it with the lexicon and scenes they name: the script, the settings,
    and the user's scenes."""
    text, text_warnings = read_story(story)
    text, markdown = story_markup(story, text)
    source = "<stdin>" if str(story) == "-" else str(story)
    meta, _, _ = split_front_matter(text, source=source)
    settings = resolve([(CLI, checked_options(options or {})), *layers, (FRONT, meta.options)])
    with _from_front_matter(settings, meta, source, "lexicon"):
        lexicon = load_lexicon(settings.lexicon) if settings.lexicon else None
    with _from_front_matter(settings, meta, source, "scenes"):
        user_scenes = _load_user_scenes(settings.scenes_file)
    script = parse_text(
        text,
        source=source,
        title=title,
        default_title=title_from_path(story),
        lexicon=lexicon,
        markdown=markdown,
        warnings=text_warnings,
        extra_scenes=user_scenes,
    )
    return script, settings, user_scenes


@contextlib.contextmanager
def _from_front_matter(
    settings: RenderSettings, meta: StoryMeta, source: str, key: str
) -> Iterator[None]:
    """A file the story's front matter named under ``key`` (a lexicon, a scene file) that
    cannot be read is said at that line of the story: the path alone did not say where it
    was given."""
    try:
        yield
    except (NarratorError, SoundscapeError) as exc:
        if settings.sources.get(key) != FRONT or key not in meta.lines:
            raise
        raise type(exc)(f"{source}:{meta.lines[key]}: {exc}") from None


def _load_user_scenes(path: Path | None) -> dict[str, Scene]:
    if path is None:
        return {}
    return load_scenes(path)


__all__ = ["Layers", "checked_options", "load_story"]
