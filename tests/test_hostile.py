"""The hostile-input battery: what an attacker or a careless user tries, and what must hold.

Every case runs a real command line (the fake engine; in this process, so it is fast) and
asserts the README's promises for bad input, the same way each time:

- exit code 1 and exactly one ``error:`` line naming what is wrong (no traceback);
- every input unchanged (sha256 of every file that was there before);
- no file created (the expected outputs of a case that succeeds, and nothing else);
- no scratch left (no ``.narrator-<host>-<pid>-…`` file anywhere, temp folder included);
- no child process left (beyond multiprocessing's own fork server and resource tracker).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from narrator.cli import app
from tests.conftest import make_artwork

runner = CliRunner()
STORY = "The sea is calm. The tide draws in and washes out.\n"
FAKE = ["--engine", "fake", "--tail", "0", "-q"]
_SCRATCH = re.compile(r"^\.?narrator-[0-9a-f]{8}-\d+-")


# --- what every case checks -------------------------------------------------------------------


def _files(root: Path) -> dict[Path, str]:
    """sha256 of every regular file under ``root`` (symlinks and FIFOs are not followed)."""
    found = {}
    for path in root.rglob("*"):
        if path.is_symlink() or not stat.S_ISREG(path.lstat().st_mode):
            continue
        found[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _singletons() -> set[int]:
    """multiprocessing's fork server and resource tracker: started once, kept for the
    session by design (they exit with this process)."""
    from multiprocessing import forkserver, resource_tracker

    pids = {
        getattr(forkserver._forkserver, "_forkserver_pid", None),
        getattr(resource_tracker._resource_tracker, "_pid", None),
    }
    return {p for p in pids if p}


def _leftover_children(before: set[int]) -> set[int]:
    """Processes this command started that still run after 5 s: this process's new
    descendants, and anything the fork server (exempt itself) still has running for it."""
    deadline = time.monotonic() + 5.0
    while True:
        singletons = _singletons()
        mine = _descendants(os.getpid()) - before - singletons
        forked = {p for s in singletons for p in _descendants(s)}
        left = {p for p in mine | forked if _is_running(p)}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _scratch(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if _SCRATCH.match(p.name)]


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    created: set[Path] = field(default_factory=set)


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch):
    """``hostile(args, expect=..., creates=...)`` runs a command line in ``tmp_path`` and
    checks the battery's promises; returns the :class:`Run`. ``creates(path)`` says which
    files the command may write (a successful run's outputs); every other file is an input."""
    temp = tmp_path / "system-temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.chdir(tmp_path)

    def run(
        args: list[str],
        *,
        expect: str | None = None,
        code: int = 1,
        creates: Callable[[Path], bool] = lambda p: False,
    ) -> Run:
        before_files = _files(tmp_path)
        before_children = _descendants(os.getpid())
        result = runner.invoke(app, args)
        stderr = result.stderr
        assert "Traceback" not in result.output + stderr, result.output + stderr
        assert result.exit_code == code, f"exit {result.exit_code}: {result.output}{stderr}"
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        if code == 1:
            assert len(stderr.strip().splitlines()) == 1 and len(errors) == 1, stderr
            assert len(errors[0]) < 400, f"an error line of {len(errors[0])} characters"
            assert expect is not None and re.search(expect, errors[0]), errors[0]
        after_files = _files(tmp_path)
        changed = [p for p, h in before_files.items() if after_files.get(p) != h and not creates(p)]
        assert not changed, f"inputs changed or removed: {changed}"
        created = set(after_files) - set(before_files)
        unexpected = {p for p in created if not creates(p) and temp not in p.parents}
        assert not unexpected, f"files created: {sorted(map(str, unexpected))}"
        assert not _scratch(tmp_path), f"scratch left: {_scratch(tmp_path)}"
        left = _leftover_children(before_children)
        assert not left, f"child processes left: {left}"
        return Run(result.exit_code, result.stdout, stderr, created)

    return run


def _story(folder: Path, name: str = "story.txt", text: str = STORY) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- data loss: outputs never land on inputs --------------------------------------------------


@pytest.mark.parametrize(
    ("story_name", "output", "flags", "role"),
    [
        ("night.mp3.vtt", "night.mp3", [], "transcript"),
        ("x.wav.report.json", "x.wav", [], "report"),
        ("y.mp3.chapters.json", "y.mp3", [], "chapters file"),
        ("same.mp3", "same.mp3", [], "output"),
        ("s.mp3.voice.wav", "s.mp3", ["--stems"], "voice stem"),
        ("p.mp3.png", "p.mp3", ["--plot"], "loudness plot"),
        ("t.mp3.stages.png", "t.mp3", ["--plot"], "stage timeline"),
        ("k.wav", "k.mp3", ["--keep-mix", "{story}"], "kept mix"),
    ],
)
def test_a_render_never_overwrites_its_story_with_what_it_writes(
    hostile, tmp_path, story_name, output, flags, role
):
    """Every file a render writes (sidecars, stems, plots, a kept mix) is refused where the
    story is; ``{story}`` in the flags stands for the story's path."""
    story = _story(tmp_path, story_name)
    flags = [flag.format(story=story) for flag in flags]
    hostile(
        ["render", str(story), "-o", str(tmp_path / output), *flags, *FAKE],
        expect=rf"the {role} would overwrite the story",
    )


def test_a_hard_link_or_symlink_to_the_story_is_the_story(hostile, tmp_path):
    story = _story(tmp_path)
    os.link(story, tmp_path / "linked.mp3.vtt")
    hostile(
        ["render", str(tmp_path / "linked.mp3.vtt"), "-o", str(tmp_path / "linked.mp3"), *FAKE],
        expect="would overwrite the story",
    )
    (tmp_path / "alias.mp3").symlink_to(story)
    hostile(
        ["render", str(story), "-o", str(tmp_path / "alias.mp3"), *FAKE],
        expect="the output would overwrite the story",
    )


def test_the_plan_lexicon_and_scene_file_are_never_overwritten(hostile, tmp_path):
    story = _story(tmp_path)
    lexicon = tmp_path / "w.mp3.vtt"
    lexicon.write_text('Nyx = "nicks"\n', encoding="utf-8")
    hostile(
        ["render", str(story), "-o", str(tmp_path / "w.mp3"), "--lexicon", str(lexicon), *FAKE],
        expect="the transcript would overwrite the lexicon",
    )
    scenes = tmp_path / "bed.mp3"
    scenes.write_text("[scenes.a]\nlayers = { tide = 0 }\n", encoding="utf-8")
    hostile(
        ["soundscape", "--scenes", str(scenes), "--scene", "a", "-d", "2s", "-o", str(scenes)],
        expect="the output would overwrite the scene file",
    )
    hostile(
        ["plan", str(story), "-o", str(story)],
        expect="the plan would overwrite the story",
    )


def test_publishing_never_overwrites_the_manifest_or_a_story(hostile, tmp_path):
    manifest = _show(tmp_path)
    hostile(
        ["feed", str(manifest), "-o", str(manifest)],
        expect="the feed would overwrite the manifest",
    )
    hostile(
        ["playlist", str(manifest), "-o", str(tmp_path / "stories" / "b.txt")],
        expect="the playlist would overwrite the story of episode 2",
    )


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_an_output_that_is_not_a_regular_file_is_refused(hostile, tmp_path, kind):
    story = _story(tmp_path)
    target = tmp_path / "special.mp3"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/null")  # never /dev/null itself: a bug must not replace it
    else:
        target.mkdir()
    expect = {"fifo": "named pipe", "device": "character device", "folder": "that is a folder"}
    hostile(["render", str(story), "-o", str(target), *FAKE], expect=expect[kind])
    assert os.path.exists("/dev/null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_existing_file_that_is_not_audio_is_not_replaced_by_audio(hostile, tmp_path):
    """``-o notes.txt --format mp3`` (or ``--keep-mix`` onto a text file named .wav) would
    write over the user's file; an earlier render's audio there is replaced as before."""
    story = _story(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    expect = r"notes\.txt: that file is there and is not audio"
    hostile(["render", str(story), "-o", str(notes), "--format", "mp3", *FAKE], expect=expect)
    hostile(["soundscape", "tide", "-d", "2s", "-o", str(notes), "--format", "wav"], expect=expect)
    utf16 = tmp_path / "notes16.txt"  # Notepad's "Unicode": FF FE looked like an MP3 frame
    utf16.write_text("my notes\n", encoding="utf-16")
    hostile(
        ["render", str(story), "-o", str(utf16), "--format", "mp3", *FAKE],
        expect=r"notes16\.txt: that file is there and is not audio",
    )
    fake_wav = tmp_path / "notes.wav"
    fake_wav.write_text("not a mix\n", encoding="utf-8")
    hostile(
        ["render", str(story), "-o", str(tmp_path / "a.mp3"), "--keep-mix", str(fake_wav), *FAKE],
        expect=r"notes\.wav: that file is there and is not audio; the kept mix would "
        r"overwrite it: choose another --keep-mix path",
    )
    again = tmp_path / "again.mp3"
    for _ in range(2):
        hostile(["render", str(story), "-o", str(again), *FAKE], code=0, creates=lambda p: True)
    assert again.read_bytes()[:3] == b"ID3"


def test_standard_output_is_not_a_file_named_dash(hostile, tmp_path):
    story = _story(tmp_path)
    hostile(["render", str(story), "-o", "-", *FAKE], expect="not a stream")


# --- inputs: regular files of sane size, checked by content -----------------------------------


def _secret_link(folder: Path, name: str) -> None:
    """``name`` → a secret file: the cover must be refused, never embedded."""
    (folder / "secret").write_text("root:$6$hash\n", encoding="utf-8")
    (folder / name).symlink_to(folder / "secret")


def _cover_story(folder: Path, cover: str) -> Path:
    return _story(folder, "c.txt", f"---\ncover: {cover}\n---\n{STORY}")


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda d: _secret_link(d, "x.png"), "not a PNG or JPEG image"),
        (lambda d: (d / "x.png").write_bytes(np.random.default_rng(0).bytes(2_000_000)),
         "not a PNG or JPEG image"),
        (lambda d: (d / "x.png").write_bytes(b"\0" * (21 * 2**20)), "more than the"),
        (lambda d: os.mkfifo(d / "x.png"), "named pipe"),
        (lambda d: (d / "x.png").symlink_to("/dev/zero"), "character device"),
        (lambda d: (d / "x.png").mkdir(), "folder"),
    ],
    ids=["symlink-to-a-secret", "random-bytes", "too-big", "fifo", "dev-zero", "folder"],
)  # fmt: skip
def test_a_cover_is_read_only_when_it_is_a_real_image(hostile, tmp_path, make, expect):
    make(tmp_path)
    story = _cover_story(tmp_path, "x.png")
    started = time.monotonic()
    hostile(["render", str(story), "-o", str(tmp_path / "c.mp3"), *FAKE], expect=expect)
    assert time.monotonic() - started < 30


def test_a_cover_bomb_of_many_pixels_is_refused(hostile, tmp_path):
    from PIL import Image

    Image.new("1", (20_000, 20_000)).save(tmp_path / "big.png", optimize=True)
    assert (tmp_path / "big.png").stat().st_size < 2_000_000  # small file, huge canvas
    story = _cover_story(tmp_path, "big.png")
    hostile(
        ["render", str(story), "-o", str(tmp_path / "c.mp3"), *FAKE],
        expect="more pixels than a cover may have",
    )


def test_a_huge_cover_is_embedded_small(hostile, tmp_path):
    from mutagen.id3 import ID3
    from PIL import Image

    y, x = np.mgrid[0:3000, 0:3000]
    picture = np.stack([x * 255 // 3000, y * 255 // 3000, (x + y) * 127 // 3000], axis=-1)
    Image.fromarray(picture.astype(np.uint8)).save(tmp_path / "big.png")
    story = _cover_story(tmp_path, "big.png")
    out = tmp_path / "c.mp3"
    hostile(
        ["render", str(story), "-o", str(out), *FAKE],
        code=0,
        creates=lambda p: p.name.startswith("c.mp3"),
    )
    art = ID3(out).getall("APIC")[0]
    assert art.mime == "image/jpeg"
    import io

    assert max(Image.open(io.BytesIO(art.data)).size) == 1400


@pytest.mark.parametrize("what", ["story", "lexicon", "plan", "scenes"])
def test_a_fifo_or_device_given_as_an_input_is_refused_at_once(hostile, tmp_path, what):
    story = _story(tmp_path)
    fifo = tmp_path / f"{what}.fifo"
    os.mkfifo(fifo)
    args = {
        "story": [str(fifo)],
        "lexicon": [str(story), "--lexicon", str(fifo)],
        "plan": [str(story), "--plan", str(fifo)],
        "scenes": [str(story), "--scenes", str(fifo)],
    }[what]
    started = time.monotonic()
    hostile(["render", *args, "-o", str(tmp_path / "o.mp3"), *FAKE], expect="named pipe")
    assert time.monotonic() - started < 30


def test_a_recording_that_is_a_device_is_refused(hostile, tmp_path):
    (tmp_path / "brook.wav").symlink_to("/dev/zero")
    hostile(
        ["soundscape", f"file:{tmp_path / 'brook.wav'}", "-d", "2s", "-o", str(tmp_path / "b.ogg")],
        expect="character device",
    )


# --- bad values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "setting", "expect"),
    [
        ("piper", "length_scale=-1", r"length_scale=-1\.0 .* out of range; use a number from 0\.3"),
        ("piper", "length_scale=nan", "length_scale=nan"),
        ("piper", "noise_scale=inf", "noise_scale=inf"),
        ("system", "rate_wpm=5000", "rate_wpm=5000"),
        ("fake", "seconds_per_word=0", "seconds_per_word=0"),
    ],
)
def test_every_engine_setting_has_a_range(hostile, tmp_path, engine, setting, expect):
    story = _story(tmp_path)
    hostile(
        ["render", str(story), "-o", str(tmp_path / "o.mp3"), "--engine", engine,
         "--setting", setting, "--tail", "0", "-q", "--cache-dir", str(tmp_path / "cache")],
        expect=expect,
    )  # fmt: skip


def test_too_many_jobs_are_cut_to_the_cores_with_a_warning(hostile, tmp_path):
    story = _story(tmp_path, text="\n\n".join(["A calm wave rolls in."] * 12))
    run = hostile(
        ["render", str(story), "-o", str(tmp_path / "o.mp3"), "--jobs", "1000",
         "--cache-dir", str(tmp_path / "cache"), *FAKE],
        code=0,
        creates=lambda p: p.name.startswith("o.mp3") or "cache" in p.parts,
    )  # fmt: skip
    from soundscapes.children import usable_cpus

    cores = usable_cpus()
    assert f"--jobs 1000 is more than this machine's {cores} cores; using {cores}" in run.stderr


@pytest.mark.parametrize(
    ("corrupt", "why"),
    [
        (lambda audio, rate: (np.full_like(audio, np.nan), rate), "NaN"),
        (lambda audio, rate: (audio * np.float32(1e30), rate), "1e30 samples"),
        (lambda audio, rate: (np.full_like(audio, np.inf), rate), "inf"),
        (lambda audio, rate: (audio, 7), "a sample rate of 7"),
    ],
    ids=["nan", "huge", "inf", "rate-7"],
)
def test_a_cache_entry_that_decodes_but_is_not_speech_is_synthesized_again(
    hostile, tmp_path, corrupt, why
):
    story = _story(tmp_path)
    cache = tmp_path / "cache"
    out = tmp_path / "o.wav"
    args = ["render", str(story), "-o", str(out), "--cache-dir", str(cache), *FAKE]
    made = hostile(args, code=0, creates=lambda p: True)
    first = out.read_bytes()
    (entry,) = [p for p in cache.glob("*/*.npz")]
    with np.load(entry) as data:
        audio, rate = corrupt(data["audio"], int(data["sample_rate_hz"]))
        np.savez(entry, audio=audio, lengths=data["lengths"], sample_rate_hz=np.int64(rate))
    again = hostile(args, code=0, creates=lambda p: True)
    assert "0 hits / 1 new" in again.stdout, f"an entry with {why} was used: {again.stdout}"
    assert out.read_bytes() == first, f"an entry with {why} changed the render"
    assert made.exit_code == 0


def test_cache_clear_refuses_a_folder_that_is_not_a_speech_cache(hostile, tmp_path):
    data = tmp_path / "research" / "ab"
    data.mkdir(parents=True)
    (data / "results.npz").write_bytes(b"not ours")
    hostile(
        ["cache", "--clear", "--cache-dir", str(tmp_path / "research")],
        expect="not a narrator speech cache",
    )


@pytest.mark.parametrize(
    ("make", "argv", "says", "code"),
    [
        ("file", ["--clear"], "is a file, not a cache folder; check --cache-dir", 1),
        ("file", [], "is a file, not a cache folder; check --cache-dir", 1),
        ("empty", ["--clear"], "not a narrator speech cache (no CACHEDIR.TAG); nothing was", 1),
        ("empty", [], ": 0 passages, 0.0 MiB (not a narrator speech cache)", 0),
        ("none", ["--clear"], ": no speech cache there yet; nothing to clear", 0),
        ("none", [], ": no speech cache there yet; nothing to show", 0),
    ],
)
def test_the_cache_command_says_what_a_cache_dir_that_is_not_a_cache_is(
    tmp_path, make, argv, says, code
):
    from typer.testing import CliRunner

    from narrator.cli import app

    folder = tmp_path / "c"
    if make == "file":
        folder.write_text("A story, not a cache.\n", encoding="utf-8")
    elif make == "empty":
        folder.mkdir()
    result = CliRunner().invoke(app, ["cache", *argv, "--cache-dir", str(folder)])
    assert result.exit_code == code and says in result.output, result.output
    assert "cleared" not in result.output and "Traceback" not in result.output
    if make == "file":
        assert folder.read_text(encoding="utf-8") == "A story, not a cache.\n"


# --- publishing is confined -------------------------------------------------------------------


def _show(folder: Path, *, episodes: str | None = None, top: str = "") -> Path:
    (folder / "stories").mkdir(exist_ok=True)
    for name in ("a", "b"):
        _story(folder / "stories", f"{name}.txt")
    episodes = episodes or (
        '[[episodes]]\nstory = "stories/a.txt"\nnumber = 1\n\n'
        '[[episodes]]\nstory = "stories/b.txt"\nnumber = 2\n'
    )
    make_artwork(folder / "cover.jpg")
    manifest = folder / "podcast.toml"
    manifest.write_text(
        f'{top}engine = "fake"\ntail = 0\n\n[podcast]\ntitle = "Slow Tides"\n'
        f'base_url = "https://example.org/slow/"\ndescription = "Stories."\n'
        f'image = "cover.jpg"\ncategories = ["Fiction"]\n\n{episodes}',
        encoding="utf-8",
    )
    return manifest


@pytest.mark.parametrize(
    ("top", "episodes", "expect"),
    [
        ("", '[[episodes]]\nstory = "../../../etc/passwd"\n', "must be inside the manifest's"),
        ("", '[[episodes]]\nstory = "/etc/passwd"\n', "must be inside the manifest's"),
        ('output_dir = "/"\n', None, "output_dir '/' must be a folder inside"),
        ('output_dir = ".."\n', None, "output_dir '..' must be a folder inside"),
        ('output_dir = "."\n', None, "output_dir '.' must be a folder inside"),
        ("", '[[episodes]]\nstory = "stories/a.txt"\nnumber = 1\n\n[[episodes]]\n'
             'story = "stories/b.txt"\nnumber = 1\n', "both number 1"),
    ],
    ids=["dotdot-story", "absolute-story", "root-output", "parent-output", "same-output",
         "duplicate-number"],
)  # fmt: skip
def test_publishing_is_confined_to_the_manifest_folder(hostile, tmp_path, top, episodes, expect):
    manifest = _show(tmp_path, episodes=episodes, top=top)
    for command in ("batch", "feed", "playlist"):
        hostile([command, str(manifest), *(["-q"] if command == "batch" else [])], expect=expect)


def test_a_story_linked_from_outside_the_folder_is_refused(hostile, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    _story(outside, "secret.txt")
    show = tmp_path / "show"
    show.mkdir()
    manifest = _show(show, episodes='[[episodes]]\nstory = "stories/link.txt"\n')
    (show / "stories" / "link.txt").symlink_to(outside / "secret.txt")
    hostile(["batch", str(manifest), "-q"], expect="must be inside the manifest's folder")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.org/f"])
def test_every_feed_url_is_a_web_address(hostile, tmp_path, url):
    manifest = _show(tmp_path)
    run = hostile(["batch", str(manifest), "-q"], code=0, creates=lambda p: "public" in p.parts)
    assert run.exit_code == 0
    hostile(["feed", str(manifest), "--feed-url", url], expect="is not a web address")


def test_nothing_published_names_a_local_path(hostile, tmp_path):
    manifest = _show(tmp_path)
    lexicon = tmp_path / "words.toml"
    lexicon.write_text('Nyx = "nicks"\n', encoding="utf-8")
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(f'lexicon = "{lexicon}"\n{text}', encoding="utf-8")
    everything = lambda p: True  # noqa: E731
    hostile(["batch", str(manifest), "-q"], code=0, creates=everything)
    hostile(["feed", str(manifest)], code=0, creates=everything)
    hostile(["playlist", str(manifest)], code=0, creates=everything)
    public = tmp_path / "public"
    local = [str(tmp_path), str(tmp_path.resolve()), os.path.expanduser("~")]
    for path in public.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".xml", ".m3u8", ".vtt"):
            text = path.read_text(encoding="utf-8")
            leaks = [p for p in local if p in text]
            assert not leaks, f"{path.name} names a local path: {leaks}"


# --- the text stage's own hostile cases, through the command line -----------------------------


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\ntitle: [*c, *c, *c, *c, *c, *c, *c, *c]\n---\n"
         "The sea is calm.\n", r"story\.txt:\d+: YAML (aliases|anchors)"),
        ("+++\ntitle = \"Night\"\nseed = = 3\n+++\nThe sea is calm.\n", r"story\.txt:3: "),
        ("The sea is calm. [pause 3s\n", r"story\.txt:1: cue .* is not closed"),
    ],
    ids=["yaml-bomb", "toml-line", "unclosed-pause"],
)  # fmt: skip
def test_story_text_that_attacks_the_parser_is_one_short_line(hostile, tmp_path, text, expect):
    story = _story(tmp_path, text=text)
    started = time.monotonic()
    hostile(["render", str(story), "-o", str(tmp_path / "o.mp3"), *FAKE], expect=expect)
    assert time.monotonic() - started < 10


def test_a_word_longer_than_a_sentence_is_spoken_and_transcribed_whole(hostile, tmp_path):
    word = "w" + "o" * 498 + "w"
    story = _story(tmp_path, text=f"The sea says {word} tonight.\n")
    out = tmp_path / "o.mp3"
    hostile(
        ["render", str(story), "-o", str(out), *FAKE],
        code=0,
        creates=lambda p: p.name.startswith("o.mp3"),
    )
    cues = (tmp_path / "o.mp3.vtt").read_text(encoding="utf-8").split("\n\n")[1:]
    holding = [cue for cue in cues if "w" + "o" * 10 in cue]
    assert len(holding) == 1 and word in holding[0], "the long word was split across cues"


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 16 MB filesystem of its own (tmpfs), so that it can really fill up."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("night.mp3", r"night\.mp3: ffmpeg could not encode \(the disk is full"),  # in ffmpeg
        ("night.flac", r"night\.flac: cannot write \(the disk is full"),  # in a thread here
    ],
)
def test_a_disk_that_fills_while_encoding_says_so(
    hostile, tmp_path, tiny_disk, monkeypatch, name, expect
):
    """Another program fills the disk while the file is encoded: the error says the disk is
    full (not "unknown error"), names the output (not a hidden temporary file), and leaves
    nothing on the disk."""
    import contextlib

    import narrator.cli.display as display

    story = _story(tmp_path)
    filler = tiny_disk / "filler"

    @contextlib.contextmanager
    def fill_when_encoding(quiet: bool):
        def progress(stage: str, done: int, total: int) -> None:
            if stage == "master" and not filler.exists():
                with open(filler, "wb") as f, contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()

        yield progress

    monkeypatch.setattr(display, "progress_display", fill_when_encoding)
    out = tiny_disk / name
    hostile(
        ["render", str(story), "-o", str(out), "--engine", "fake", "--tail", "0",
         "--cache-dir", str(tmp_path / "cache")],
        expect=expect,
        creates=lambda p: "cache" in p.parts or p == filler,
    )  # fmt: skip
    assert filler.exists() and sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


# --- failures in the ambience's processes -----------------------------------------------------


def test_a_layer_that_fails_in_the_second_process_is_one_line(
    hostile, tmp_path, failing_layer, monkeypatch
):
    """A bed split over two processes (made so, even on one CPU) whose layer in the second
    process breaks: one line from the process that failed, and neither process nor the
    scratch is left behind."""
    from soundscapes import ambience, background
    from soundscapes.background import BackgroundAnalysis

    splits: list[bool] = []

    class Watched(BackgroundAnalysis):
        def __init__(self, *args, split: bool = False, **kwargs) -> None:
            splits.append(split)
            super().__init__(*args, split=split, **kwargs)

    monkeypatch.setattr(background, "usable_cpus", lambda: 2)
    monkeypatch.setattr(ambience, "BackgroundAnalysis", Watched)
    out = tmp_path / "bed.flac"
    hostile(
        ["soundscape", "tide", "gulls", failing_layer, "-d", "60s", "-o", str(out), "-q"],
        expect=r"^error: rendering the ambience failed: ValueError: decoder gave up at 2 s$",
    )
    assert splits == [True]
