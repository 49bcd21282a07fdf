"""Every option declared once: each place it may be set reads it the same way.

For every declared option and every place it may be set (the command line, a story's front
matter, a manifest's episode and its top level), a non-default value goes in through that
place's own reader — typer for the command line, the front-matter parser, the manifest loader —
and must come out of :func:`narrator.options.resolve` as the same setting. The README's option
table is the declaration's too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from narrator.options import (
    BY_KEY,
    CLI,
    FRONT,
    MANIFEST,
    OPTIONS,
    RenderSettings,
    check_value,
    resolve,
)

ROOT = Path(__file__).resolve().parent.parent

#: A value for each option that is not its default, as each place writes it:
#: (command-line words, YAML text, TOML text, the resolved value).
SAMPLES: dict[str, tuple[list[str], str, str, Any]] = {
    "output": (["-o", "x.flac"], "", "", Path("x.flac")),
    "format": (["--format", "flac"], "flac", '"flac"', "flac"),
    "engine": (["--engine", "fake"], "fake", '"fake"', "fake"),
    "voice": (["--voice", "low"], "low", '"low"', "low"),
    "pace": (["--pace", "111"], "111", "111", 111.0),
    "setting": (["--setting", "seconds_per_word=0.3"], "{seconds_per_word: 0.3}",
                "{ seconds_per_word = 0.3 }", (("seconds_per_word", "0.3"),)),
    "slow_down": (["--slow-down", "0.3"], "0.3", "0.3", 0.3),
    "loudness": (["--loudness", "podcast"], "podcast", '"podcast"', "podcast"),
    "bitrate": (["--bitrate", "96"], "96", "96", 96),
    "tail": (["--tail", "12.5"], "12.5", "12.5", 12.5),
    "intro": (["--intro", "3"], "3", "3", 3.0),
    "crossfade": (["--crossfade", "4"], "4", "4", 4.0),
    "seed": (["--seed", "42"], "42", "42", 42),
    "arc": (["--no-arc"], "false", "false", False),
    "scene": (["--scene", "coast"], "coast", '"coast"', "coast"),
    "scenes": (["--scenes", "{dir}/scenes.toml"], "scenes.toml", '"scenes.toml"',
               "{dir}/scenes.toml"),
    "plan": (["--plan", "{dir}/x.plan.toml"], "", '"x.plan.toml"', "{dir}/x.plan.toml"),
    "lexicon": (["--lexicon", "{dir}/words.toml"], "words.toml", '"words.toml"',
                "{dir}/words.toml"),
    "plot": (["--plot"], "true", "true", True),
    "page": (["--page"], "true", "true", True),
    "stems": (["--stems"], "", "true", True),
    "keep_mix": (["--keep-mix", "{dir}/mix.wav"], "", "", "{dir}/mix.wav"),
    "jobs": (["--jobs", "1"], "", "", 1),
    "cache_dir": (["--cache-dir", "{dir}/cache"], "", '"cache"', "{dir}/cache"),
    "cache": (["--no-cache"], "", "", False),
}  # fmt: skip


def _expected(key: str, folder: Path) -> Any:
    value = SAMPLES[key][3]
    if isinstance(value, str) and "{dir}" in value:
        return Path(value.format(dir=folder)).resolve()
    return value


def _setting(settings: RenderSettings, key: str) -> Any:
    value = getattr(settings, BY_KEY[key].field)
    return value.resolve() if isinstance(value, Path) and key != "output" else value


def test_every_option_has_a_sample_and_a_different_default() -> None:
    assert set(SAMPLES) == {o.key for o in OPTIONS}
    for option in OPTIONS:
        assert SAMPLES[option.key][3] != option.default, option.key


def _from_command_line(key: str, folder: Path, monkeypatch) -> RenderSettings:
    """What ``narrator render`` hands the renderer for the sample, read by typer itself."""
    import narrator.render.pipeline as pipeline
    from narrator.cli import app

    seen: dict[str, Any] = {}

    def capture(story, options=None, **_):
        seen.update(options or {})
        raise SystemExit(0)

    monkeypatch.setattr(pipeline, "render_story", capture)
    words = [w.format(dir=folder) for w in SAMPLES[key][0]]
    result = CliRunner().invoke(app, ["render", str(folder / "s.txt"), *words])
    assert result.exit_code == 0, result.output + result.stderr
    return resolve([(CLI, seen)])


def _from_front_matter(key: str, folder: Path) -> RenderSettings:
    from narrator.text.frontmatter import split_front_matter

    story = folder / "s.txt"
    story.write_text(f"---\n{key}: {SAMPLES[key][1]}\n---\nThe sea.\n", encoding="utf-8")
    meta, _, _ = split_front_matter(story.read_text(encoding="utf-8"), source=str(story))
    return resolve([(FRONT, meta.options)])


def _from_manifest(key: str, folder: Path, *, top: bool) -> RenderSettings:
    from narrator.publish.manifest import load_manifest

    line = f"{key} = {SAMPLES[key][2]}\n"
    manifest = folder / "podcast.toml"
    manifest.write_text(
        (line if top else "")
        + '[podcast]\ntitle = "T"\nbase_url = "https://example.org/"\n\n'
        + '[[episodes]]\nstory = "s.txt"\n'
        + ("" if top else line),
        encoding="utf-8",
    )
    (episode,) = load_manifest(manifest).episodes
    return resolve([(MANIFEST, episode.options)])


@pytest.mark.parametrize("key", [o.key for o in OPTIONS])
def test_each_option_means_the_same_wherever_it_is_set(key, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.txt").write_text("The sea.\n", encoding="utf-8")
    option = BY_KEY[key]
    expected = _expected(key, tmp_path)
    readings: dict[str, Any] = {}
    if CLI in option.places:
        readings["command line"] = _setting(_from_command_line(key, tmp_path, monkeypatch), key)
    if FRONT in option.places:
        readings["front matter"] = _setting(_from_front_matter(key, tmp_path), key)
    if MANIFEST in option.places:
        for top in (False, True):
            where = "manifest top level" if top else "manifest episode"
            readings[where] = _setting(_from_manifest(key, tmp_path, top=top), key)
    assert readings, f"{key} can be set nowhere"
    for place, value in readings.items():
        assert value == expected, f"{key} set in the {place} resolves to {value!r}"


@pytest.mark.parametrize("key", [o.key for o in OPTIONS if FRONT not in o.places])
def test_an_option_that_makes_no_sense_in_front_matter_is_refused_by_name(key, tmp_path):
    from narrator.errors import ScriptError
    from narrator.text.frontmatter import split_front_matter

    with pytest.raises(ScriptError, match=rf"s\.txt:2: unknown front-matter key '{key}'; "):
        split_front_matter(f"---\n{key}: 1\n---\nThe sea.\n", source=str(tmp_path / "s.txt"))


def test_precedence_is_command_line_then_manifest_then_front_matter_then_defaults() -> None:
    layers = [
        (CLI, {"pace": 100.0}),
        (MANIFEST, {"pace": 110.0, "seed": 5}),
        (MANIFEST, {"seed": 6, "tail": 9.0}),
        (FRONT, {"pace": 120.0, "seed": 7, "tail": 10.0, "intro": 2.0}),
    ]
    settings = resolve(layers)
    assert (settings.pace_wpm, settings.seed, settings.tail_s, settings.intro_s) == (
        100.0,
        5,
        9.0,
        2.0,
    )
    assert settings.crossfade_s == BY_KEY["crossfade"].default
    assert settings.sources == {"pace": CLI, "seed": MANIFEST, "tail": MANIFEST, "intro": FRONT}


def test_a_voice_belongs_to_its_engine() -> None:
    """An engine set above a voice drops that voice: front matter's piper voice file means
    nothing to ``--engine fake``."""
    settings = resolve([(CLI, {"engine": "fake"}), (FRONT, {"engine": "piper", "voice": "x.onnx"})])
    assert (settings.engine, settings.voice) == ("fake", None)
    settings = resolve([(CLI, {"voice": "low"}), (FRONT, {"engine": "fake"})])
    assert (settings.engine, settings.voice) == ("fake", "low")


def test_a_piper_voice_file_is_relative_to_where_it_is_written_and_a_voice_name_is_not(
    tmp_path,
) -> None:
    voice = BY_KEY["voice"]
    story_folder = tmp_path / "stories"
    assert check_value(voice, "voices/alba.onnx", "s.md", base=story_folder) == str(
        story_folder / "voices" / "alba.onnx"
    )
    assert check_value(voice, "/v/alba.onnx", "s.md", base=story_folder) == "/v/alba.onnx"
    # Names stay names, a slash and all; the command line's are the current folder's.
    for name in ("gmw/en-us", "af_heart:0.7,af_bella:0.3", "joe"):
        assert check_value(voice, f" {name} ", "s.md", base=story_folder) == name
    assert check_value(voice, "voices/alba.onnx", "--voice") == "voices/alba.onnx"


def test_the_report_names_every_file_it_was_given_by_its_name_alone(tmp_path) -> None:
    """A moved or published report carries no paths of this machine: the voice file as the
    lexicon and scene file (it was relative to the folder the render ran in)."""
    from narrator.options import heard_settings

    folder = tmp_path / "stories"
    values = {
        "voice": check_value(BY_KEY["voice"], "voices/alba.onnx", "s.md", base=folder),
        "scenes": check_value(BY_KEY["scenes"], "../sc/my.toml", "s.md", base=folder),
    }
    heard = heard_settings(resolve([(FRONT, values)]))
    assert heard["voice"] == {"value": "alba.onnx", "from": FRONT}
    assert heard["scenes"] == {"value": "my.toml", "from": FRONT}
    assert heard_settings(resolve([(CLI, {"voice": "gmw/en-us"})]))["voice"]["value"] == "gmw/en-us"


def test_the_readme_option_table_is_the_declaration() -> None:
    from narrator.cli.declared import readme_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- options:start -->\n(.*?)<!-- options:end -->", readme, re.S)
    assert match, "the README has no generated option table (<!-- options:start -->)"
    assert match.group(1).strip() == readme_table().strip(), (
        "the README's option table differs from narrator/options.py; paste readme_table()"
    )


def test_an_output_on_the_command_line_wins_over_the_front_matters_format(tmp_path) -> None:
    """``-o x.flac`` over front matter's ``format: wav`` writes FLAC; ``--format wav``
    beside ``-o x.flac`` is still a contradiction on one line."""
    import soundfile as sf

    from narrator.cli import app

    story = tmp_path / "s.txt"
    story.write_text("---\nformat: wav\n---\nThe night is soft.\n", encoding="utf-8")
    out = tmp_path / "s.flac"
    args = ["render", str(story), "--engine", "fake", "--tail", "1", "-q"]
    result = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sf.info(str(out)).format == "FLAC"
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "t.flac"), "--format", "wav"])
    assert result.exit_code == 1 and "--format wav does not match the .flac name" in result.output
    # An output with no format suffix keeps the front matter's format.
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "night")])
    assert result.exit_code == 0, result.output
    assert sf.info(str(tmp_path / "night")).format == "WAV"
